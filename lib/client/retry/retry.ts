/**
 * Retries with exponential backoff and jitter, on retriable errors only (SluiceClientError.retriable,
 * which comes from the server's error table). The delay before retry n (0-based) is drawn uniformly
 * from [b/2, b] with b = min(maxRetryMs, initialRetryMs * multiplier^n) ("equal jitter": it spreads
 * retrying clients apart and still grows), and never less than a Retry-After the server sent (capped
 * at maxRetryMs).
 */
import { isAbort, isRetriable, SluiceClientError } from '../errors.ts';
import { sleep } from '../util/async.ts';

export interface RetryOptions {
  /** Retries after the first attempt. @default 8 */
  readonly retries?: number;
  /** Backoff before the first retry, before jitter. @default 100 */
  readonly initialRetryMs?: number;
  /** Largest backoff. @default 5000 */
  readonly maxRetryMs?: number;
  /** Growth per retry. @default 2 */
  readonly multiplier?: number;
}

export interface RetryPolicy {
  readonly retries: number;
  readonly initialRetryMs: number;
  readonly maxRetryMs: number;
  readonly multiplier: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 8, initialRetryMs: 100, maxRetryMs: 5000, multiplier: 2 };

export function retryPolicy(options: RetryOptions | undefined, base: RetryPolicy = DEFAULT_RETRY): RetryPolicy {
  const policy = { ...base, ...Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) } as RetryPolicy;
  if (!Number.isInteger(policy.retries) || policy.retries < 0) throw new RangeError(`retry.retries must be an integer ≥ 0, got ${policy.retries}`);
  for (const name of ['initialRetryMs', 'maxRetryMs', 'multiplier'] as const) {
    if (!(policy[name] >= 0) || !Number.isFinite(policy[name])) throw new RangeError(`retry.${name} must be a number ≥ 0, got ${policy[name]}`);
  }
  return policy;
}

/** Delay before retry number `retry` (0 = the first retry). */
export function backoffMs(policy: RetryPolicy, retry: number, error?: unknown, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxRetryMs, policy.initialRetryMs * policy.multiplier ** retry);
  const delay = ceiling / 2 + random() * (ceiling / 2);
  const retryAfter = error instanceof SluiceClientError && error.retryAfterSeconds !== undefined ? Math.min(error.retryAfterSeconds * 1000, policy.maxRetryMs) : 0;
  return Math.max(delay, retryAfter);
}

export interface RetryHooks {
  readonly signal?: AbortSignal;
  /** Called before each retry's wait. */
  readonly onRetry?: (error: unknown, retry: number, delayMs: number) => void;
  /** Keep retrying retriable errors past policy.retries (the delay stays at maxRetryMs). */
  readonly forever?: boolean;
  readonly random?: () => number;
}

/** Runs attempt until it succeeds, fails with a non-retriable error, or the retries run out. */
export async function withRetry<T>(policy: RetryPolicy, attempt: (attemptNumber: number) => Promise<T>, hooks: RetryHooks = {}): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (isAbort(error) || hooks.signal?.aborted || !isRetriable(error)) throw error;
      if (n >= policy.retries && !hooks.forever) throw error;
      const delay = backoffMs(policy, Math.min(n, 30), error, hooks.random);
      hooks.onRetry?.(error, n, delay);
      await sleep(delay, hooks.signal);
    }
  }
}
