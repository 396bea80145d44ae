/**
 * A push consumer's configuration: the request schema of POST /v1/consumers (../shared/api-v1.md,
 * "Push consumers"), its defaults (DEFAULTS.push) and the rules for targets.
 */
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { z } from 'zod';
import { CreateConsumerRequest } from '../api/schemas.ts';
import { SluiceError } from '../errors.ts';

/** The request schema is the contract's (lib/api/schemas.ts); defaults are DEFAULTS.push. */
export const createConsumerSchema = CreateConsumerRequest;

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
