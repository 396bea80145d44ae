/** Routing, parameter parsing and response helpers shared by the route modules. */
import { SluiceError, StorageError, ThrottledError } from '../errors.ts';
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
  try {
    return JSON.parse(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8'));
  } catch (error) {
    throw new SluiceError('INVALID_REQUEST', 'the body is not valid JSON', { cause: error });
  }
}

export function invalid(message: string, field: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, { details: { field } });
}

export function intParam(value: string | undefined, field: string): number {
  if (value === undefined || !/^\d{1,9}$/.test(value)) throw invalid(`${field} must be a non-negative integer`, field);
  return Number(value);
}

export function optionalInt(value: string | null, field: string, min: number): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d{1,16}$/.test(value) || Number(value) < min) throw invalid(`${field} must be an integer ≥ ${min}`, field);
  return Number(value);
}

export function offsetParam(value: string | null, field = 'offset'): bigint {
  if (value === null || !/^\d{1,19}$/.test(value)) throw invalid(`${field} must be a non-negative decimal integer`, field);
  return BigInt(value);
}
