/**
 * Where deliveries go, behind one small port, so the dispatcher is tested with fakes and with real
 * HTTP servers on loopback.
 *
 *   UrlTarget     one HTTP POST of the delivery body with `Sluice-Batch-Id` and
 *                 `Sluice-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, and a timeout. The
 *                 host is resolved by a lookup that refuses non-public addresses when the policy says
 *                 so, at connect time: a DNS answer that changes after the consumer was created
 *                 (rebinding) cannot reach the metadata service or a private network either.
 *   LambdaTarget  one synchronous invocation (RequestResponse) with the body as the payload.
 *
 * The answer (../shared/api-v1.md): any 2xx is success; a 2xx body `{"batchItemFailures":
 * [{"offset": "150"}]}` means the records from the lowest listed offset on are retried; anything
 * else — another status, a timeout, a Lambda function error — is a failure.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isNonPublicAddress, isUrlTarget, type Target, type UrlPolicy } from './config.ts';

export interface DeliveryRequest {
  /** The delivery body: exactly the bytes sent and signed. */
  readonly body: string;
  readonly batchId: string;
  readonly secret: string;
  readonly timeoutMs: number;
}

export type DeliveryOutcome =
  | { readonly kind: 'success' }
  /** The target processed the records before `firstFailed`; the rest is retried. */
  | { readonly kind: 'partial'; readonly firstFailed: bigint }
  | { readonly kind: 'failure'; readonly error: string };

export interface DeliveryTarget {
  deliver(request: DeliveryRequest): Promise<DeliveryOutcome>;
}

/** Builds the target of a consumer's configuration. */
export type TargetFactory = (target: Target) => DeliveryTarget;

export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const MAX_ANSWER_BYTES = 1024 * 1024;

/** Reads the target's answer body: the lowest offset of `batchItemFailures`, if it lists any. */
export function outcomeOfAnswer(text: string): DeliveryOutcome {
  if (text.trim() === '') return { kind: 'success' };
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return { kind: 'success' }; // a 2xx with a body that is not JSON: the target did not report failures
  }
  const failures = (answer as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return { kind: 'success' };
  let lowest: bigint | undefined;
  for (const failure of failures) {
    const raw = (failure as { offset?: unknown; itemIdentifier?: unknown } | null)?.offset ?? (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const text = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw;
    if (typeof text !== 'string' || !/^\d{1,19}$/.test(text)) return { kind: 'failure', error: `the answer's batchItemFailures holds ${JSON.stringify(failure)}, not {"offset": "<offset>"}` };
    const offset = BigInt(text);
    if (lowest === undefined || offset < lowest) lowest = offset;
  }
  return { kind: 'partial', firstFailed: lowest! };
}

/** A lookup that answers only with addresses the policy allows. */
export function guardedLookup(policy: UrlPolicy): LookupFunction | undefined {
  if (policy.allowPrivateNetworks) return undefined;
  return ((hostname: string, options: object, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      const blocked = addresses.find((a) => isNonPublicAddress(a.address));
      if (blocked || addresses.length === 0) {
        const refusal: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${blocked?.address ?? 'nothing'}, which this deployment does not allow`);
        refusal.code = 'ENOTPUBLIC';
        return callback(refusal, []);
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  }) as LookupFunction;
}

export class UrlTarget implements DeliveryTarget {
  readonly #url: URL;
  readonly #lookup: LookupFunction | undefined;
  readonly #policy: UrlPolicy;

  constructor(url: string, policy: UrlPolicy) {
    this.#url = new URL(url);
    this.#policy = policy;
    this.#lookup = guardedLookup(policy);
  }

  deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    if (this.#policy.requireHttps && this.#url.protocol !== 'https:') return Promise.resolve({ kind: 'failure', error: 'the target URL is not https' });
    const body = Buffer.from(request.body);
    const options: RequestOptions = {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'sluice-batch-id': request.batchId,
        'sluice-signature': signatureOf(request.secret, request.body),
        'user-agent': 'sluice-push/1',
      },
      timeout: request.timeoutMs,
      ...(this.#lookup ? { lookup: this.#lookup } : {}),
    };
    const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<DeliveryOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: DeliveryOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(outcome);
      };
      // The socket timeout covers idle sockets; this covers a target that trickles its answer.
      const deadline = setTimeout(() => {
        req.destroy();
        finish({ kind: 'failure', error: `the target did not answer within ${request.timeoutMs} ms` });
      }, request.timeoutMs);
      const req = send(this.#url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        res.on('error', (error) => finish({ kind: 'failure', error: `the answer broke off: ${error.message}` }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return finish({ kind: 'failure', error: `the target answered HTTP ${status}` });
          finish(outcomeOfAnswer(Buffer.concat(chunks).toString('utf8')));
        });
      });
      req.on('timeout', () => {
        req.destroy();
        finish({ kind: 'failure', error: `the target did not answer within ${request.timeoutMs} ms` });
      });
      req.on('error', (error) => finish({ kind: 'failure', error: `the request failed: ${error.message}` }));
      req.end(body);
    });
  }
}

/** The Lambda Invoke call, so tests can supply it (the dispatcher gives the AWS SDK's). */
export type InvokeFunction = (
  input: { FunctionName: string; InvocationType: 'RequestResponse'; Payload: Uint8Array },
  signal: AbortSignal,
) => Promise<{ StatusCode?: number; FunctionError?: string; Payload?: Uint8Array }>;

export class LambdaTarget implements DeliveryTarget {
  readonly #functionArn: string;
  readonly #invoke: InvokeFunction;

  constructor(functionArn: string, invoke: InvokeFunction) {
    this.#functionArn = functionArn;
    this.#invoke = invoke;
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    const signal = AbortSignal.timeout(request.timeoutMs);
    try {
      const result = await this.#invoke({ FunctionName: this.#functionArn, InvocationType: 'RequestResponse', Payload: Buffer.from(request.body) }, signal);
      const payload = result.Payload ? Buffer.from(result.Payload).toString('utf8') : '';
      if (result.FunctionError) {
        const message = (() => {
          try {
            return String((JSON.parse(payload) as { errorMessage?: unknown }).errorMessage ?? payload);
          } catch {
            return payload;
          }
        })();
        return { kind: 'failure', error: `the function failed (${result.FunctionError}): ${message.slice(0, 500)}` };
      }
      if (result.StatusCode !== undefined && (result.StatusCode < 200 || result.StatusCode >= 300)) return { kind: 'failure', error: `the invocation answered ${result.StatusCode}` };
      return outcomeOfAnswer(payload);
    } catch (error) {
      if (signal.aborted) return { kind: 'failure', error: `the function did not answer within ${request.timeoutMs} ms` };
      return { kind: 'failure', error: `the invocation failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
}

/** URL targets under a policy; Lambda targets only where an invoke function is given (AWS). */
export function targetFactory(options: { urlPolicy: UrlPolicy; invoke?: InvokeFunction }): TargetFactory {
  return (target) => {
    if (isUrlTarget(target)) return new UrlTarget(target.url, options.urlPolicy);
    if (!options.invoke) return { deliver: async () => ({ kind: 'failure', error: 'Lambda function targets are delivered only in AWS' }) };
    return new LambdaTarget(target.functionArn, options.invoke);
  };
}
