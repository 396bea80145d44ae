/**
 * A push consumer's configuration: the request schema of POST /v1/consumers (../shared/api-v1.md,
 * "Push consumers"), its defaults (DEFAULTS.push) and the rules for targets.
 */
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { z } from 'zod';
import { SluiceError } from '../errors.ts';
import { DEFAULTS, LIMITS } from '../defaults.ts';
import { TOPIC_NAME } from '../log/topics.ts';

export const CONSUMER_NAME = new RegExp(`^[a-zA-Z0-9._-]{1,${LIMITS.maxConsumerNameLength}}$`);

const D = DEFAULTS.push;

const timeoutMs = z.number().int().min(100).max(LIMITS.maxDeliveryTimeoutMs).default(D.timeoutMs);

const targetSchema = z.union([
  z.object({ url: z.string().url().max(2048), timeoutMs }).strict(),
  z.object({ functionArn: z.string().regex(/^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+(:[a-zA-Z0-9-_$]+)?$/, 'a Lambda function ARN'), timeoutMs }).strict(),
]);

export const createConsumerSchema = z
  .object({
    name: z.string().regex(CONSUMER_NAME, `1-${LIMITS.maxConsumerNameLength} characters of [a-zA-Z0-9._-]`),
    topics: z.array(z.string().regex(TOPIC_NAME, 'a topic name')).min(1).max(LIMITS.maxSubscribedTopics),
    target: targetSchema,
    batch: z
      .object({
        maxRecords: z.number().int().min(1).max(LIMITS.maxDeliveryRecords).default(D.maxRecords),
        /** Bytes of the delivery body (JSON); a record larger than this still goes, alone. */
        maxBytes: z.number().int().min(1).max(LIMITS.maxDeliveryBytes).default(D.maxBytes),
        /** Wait up to this long after the oldest undelivered record for the batch to fill (a batching window). */
        maxWaitMs: z.number().int().min(0).max(LIMITS.maxDeliveryWaitMs).default(D.maxWaitMs),
      })
      .strict()
      .default({ maxRecords: D.maxRecords, maxBytes: D.maxBytes, maxWaitMs: D.maxWaitMs }),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(LIMITS.maxDeliveryAttempts).default(D.maxAttempts),
        bisectOnError: z.boolean().default(D.bisectOnError),
        maxRecordAgeMs: z.number().int().min(-1).default(D.maxRecordAgeMs),
        minBackoffMs: z.number().int().min(0).max(3_600_000).default(D.minBackoffMs),
        maxBackoffMs: z.number().int().min(0).max(3_600_000).default(D.maxBackoffMs),
      })
      .strict()
      .default({ maxAttempts: D.maxAttempts, bisectOnError: D.bisectOnError, maxRecordAgeMs: D.maxRecordAgeMs, minBackoffMs: D.minBackoffMs, maxBackoffMs: D.maxBackoffMs }),
    deadLetterTopic: z.string().regex(TOPIC_NAME, 'a topic name').nullable().default(null),
    startAt: z.union([z.enum(['earliest', 'latest']), z.object({ timestamp: z.number().int().min(0) }).strict()]).default(D.startAt),
    /** Partitions delivered in parallel (one batch in flight per partition). */
    maxConcurrency: z.number().int().min(1).max(LIMITS.maxConsumerConcurrency).default(D.maxConcurrency),
  })
  .strict()
  .refine((c) => c.retry.minBackoffMs <= c.retry.maxBackoffMs, { message: 'retry.minBackoffMs must not exceed retry.maxBackoffMs', path: ['retry'] })
  .refine((c) => c.deadLetterTopic === null || !c.topics.includes(c.deadLetterTopic), {
    message: 'deadLetterTopic must not be one of the consumed topics',
    path: ['deadLetterTopic'],
  });

export type CreateConsumerRequest = z.input<typeof createConsumerSchema>;
export type ConsumerSpec = z.output<typeof createConsumerSchema>;
export type Target = ConsumerSpec['target'];
export type StartAt = ConsumerSpec['startAt'];

export interface ConsumerConfig extends ConsumerSpec {
  readonly createdAt: number;
}

export function parseCreateConsumer(body: unknown): ConsumerSpec {
  const parsed = createConsumerSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SluiceError('INVALID_REQUEST', `invalid consumer: ${z.prettifyError(parsed.error)}`, { details: { field: issue?.path.join('.') ?? '' } });
  }
  return parsed.data;
}

export function isUrlTarget(target: Target): target is Extract<Target, { url: string }> {
  return 'url' in target;
}

/**
 * Where URL targets may point. In AWS the dispatcher runs inside the account, so a URL could reach
 * what the internet cannot (the instance metadata service, a VPC's private hosts): only https to
 * public addresses, unless the deployment allows private ones. Locally anything goes (the targets of
 * `npm start` are usually on the same machine).
 */
export interface UrlPolicy {
  readonly requireHttps: boolean;
  readonly allowPrivateNetworks: boolean;
}

export const LOCAL_URL_POLICY: UrlPolicy = { requireHttps: false, allowPrivateNetworks: true };
export const AWS_URL_POLICY: UrlPolicy = { requireHttps: true, allowPrivateNetworks: false };

/** Checks a target URL's scheme and, unless private networks are allowed, every address its host resolves to. */
export async function checkTargetUrl(url: string, policy: UrlPolicy, resolve: (host: string) => Promise<string[]> = resolveAll): Promise<void> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && (policy.requireHttps || parsed.protocol !== 'http:')) {
    throw new SluiceError('INVALID_REQUEST', `target.url must be an ${policy.requireHttps ? 'https' : 'http or https'} URL`, { details: { field: 'target.url' } });
  }
  if (parsed.username || parsed.password) throw new SluiceError('INVALID_REQUEST', 'target.url must not carry credentials', { details: { field: 'target.url' } });
  if (policy.allowPrivateNetworks) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch (error) {
    throw new SluiceError('INVALID_REQUEST', `target.url: host ${host} does not resolve`, { details: { field: 'target.url' }, cause: error });
  }
  const blocked = addresses.find(isNonPublicAddress);
  if (blocked !== undefined || addresses.length === 0) {
    throw new SluiceError('INVALID_REQUEST', `target.url resolves to ${blocked ?? 'nothing'}, a loopback, link-local or private address, which this deployment does not allow`, {
      details: { field: 'target.url' },
    });
  }
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/** Loopback, link-local (169.254.169.254 is the instance metadata service), private, shared, multicast and unspecified addresses. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isNonPublicAddress(mapped[1]);
  if (isIP(address) === 4) {
    const [a, b] = address.split('.').map(Number);
    return (
      a === 0 || a === 10 || a === 127 || a >= 224 ||
      (a === 100 && b >= 64 && b < 128) || // carrier-grade NAT
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0) ||
      (a === 198 && (b === 18 || b === 19))
    );
  }
  if (isIP(address) === 6) {
    const lower = address.toLowerCase();
    if (lower === '::' || lower === '::1') return true;
    const first = Number.parseInt(lower.split(':')[0] || '0', 16);
    return (first & 0xfe00) === 0xfc00 /* unique local */ || (first & 0xffc0) === 0xfe80 /* link-local */ || (first & 0xff00) === 0xff00 /* multicast */;
  }
  return true;
}
