/** Routing, parameter parsing and response helpers shared by the route modules. */
import { SluiceError, StorageError, ThrottledError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { describeValue } from '../validation.ts';
import type { Principal } from '../auth/api-keys.ts';
import { MEDIA_JSON, MEDIA_SLUICE_BATCHES, type HttpRequest, type HttpResponse } from './types.ts';

export interface Context {
  readonly request: HttpRequest;
  readonly params: Record<string, string>;
  readonly principal: Principal;
}

export interface Route {
  readonly method: string;
  /** The template, `:name` for a parameter (deployment code maps routes to functions by it). */
  readonly path: string;
  readonly pattern: RegExp;
  handle(ctx: Context): Promise<HttpResponse>;
}

/** `path` with `:name` segments, matched whole. */
export function route(method: string, path: string, handle: Route['handle']): Route {
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`);
  return { method, path, pattern, handle };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': MEDIA_JSON, ...headers }, body: JSON.stringify(body) };
}

export const noContent = (): HttpResponse => ({ status: 204, headers: {} });

export function errorResponse(error: unknown, logUnexpected: (error: unknown) => void = () => {}): HttpResponse {
  let sluiceError: SluiceError;
  if (error instanceof SluiceError) sluiceError = error;
  else if (error instanceof ThrottledError) sluiceError = new SluiceError('THROTTLED', 'storage is throttling requests; retry with backoff', { cause: error });
  else if (error instanceof StorageError) sluiceError = new SluiceError('UNAVAILABLE', 'storage is unavailable; retry (with the same Idempotency-Key for produce)', { cause: error });
  else {
    logUnexpected(error);
    sluiceError = new SluiceError('INTERNAL', 'internal error', { cause: error });
  }
  const headers: Record<string, string> = {};
  if (sluiceError.code === 'THROTTLED' || sluiceError.code === 'UNAVAILABLE') headers['retry-after'] = '1';
  return json(sluiceError.status, { error: { code: sluiceError.code, message: sluiceError.message, ...sluiceError.details } }, headers);
}

export function mediaTypeOf(request: HttpRequest): string {
  const type = (request.headers['content-type'] ?? MEDIA_JSON).split(';')[0].trim().toLowerCase();
  if (type !== MEDIA_JSON && type !== MEDIA_SLUICE_BATCHES) {
    throw new SluiceError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${MEDIA_JSON} or ${MEDIA_SLUICE_BATCHES}`);
  }
  return type;
}

export function jsonBody(request: HttpRequest): unknown {
  const type = (request.headers['content-type'] ?? MEDIA_JSON).split(';')[0].trim().toLowerCase();
  if (type !== MEDIA_JSON) throw new SluiceError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${MEDIA_JSON}`);
  if (request.body.length === 0) return {};
  checkJsonDepth(request.body, LIMITS.maxJsonDepth);
  try {
    return JSON.parse(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8'));
  } catch (error) {
    throw new SluiceError('INVALID_REQUEST', `the body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * INVALID_REQUEST when JSON text nests objects and arrays deeper than maxDepth. One pass over the
 * bytes before parsing, so no later step (zod, JSON.stringify of a record value) recurses past it.
 */
export function checkJsonDepth(text: Uint8Array, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) {
        throw new SluiceError('INVALID_REQUEST', `the body: JSON nests deeper than ${maxDepth} levels`, { details: { limit: maxDepth } });
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
}

export function invalid(message: string, field: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, { details: { field } });
}

export function intParam(value: string | undefined, field: string): number {
  if (value === undefined || !/^\d{1,9}$/.test(value)) throw invalid(`${field}: expected a non-negative integer, got ${describeValue(value)}`, field);
  return Number(value);
}

/** An optional decimal query parameter in [min, max]; absent or empty gives undefined. */
export function optionalInt(value: string | null, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d{1,16}$/.test(value) || Number(value) < min || Number(value) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw invalid(`${field}: expected ${range}, got ${describeValue(value)}`, field);
  }
  return Number(value);
}

export function offsetParam(value: string | null, field = 'offset'): bigint {
  if (value === null || !/^\d{1,19}$/.test(value) || BigInt(value) > MAX_INT64) {
    throw invalid(`${field}: expected a non-negative decimal integer below 2^63, got ${describeValue(value ?? undefined)}`, field);
  }
  return BigInt(value);
}

const MAX_INT64 = 0x7fffffffffffffffn;
