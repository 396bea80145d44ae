/**
 * The client's one error type. `code` is the server's error code (lib/errors.ts: UNAUTHORIZED,
 * TOPIC_NOT_FOUND, THROTTLED, ...) or one of the client's own (CLIENT_CODES). `retriable` comes from the
 * server's error table, never from guessing at messages: only retriable errors are retried.
 */
import { ERROR_TABLE } from '../errors.ts';

export const CLIENT_CODES = {
  /** The request never got an answer: connection refused or reset, DNS, CORS. Outcome unknown. */
  NETWORK_ERROR: true,
  /** No answer within requestTimeoutMs. Outcome unknown. */
  REQUEST_TIMEOUT: true,
  /** An answer that is not the API's (a proxy's HTML error page, a truncated body). */
  BAD_RESPONSE: true,
  /** Bytes read from the store or the API failed their checks (CRC, framing, offsets). */
  CORRUPT_DATA: false,
  /** A bad argument to a client call; nothing was sent. */
  INVALID_ARGUMENT: false,
  /** The producer or consumer was disconnected. */
  DISCONNECTED: false,
} as const;

export type ServerErrorCode = keyof typeof ERROR_TABLE;
export type ClientErrorCode = keyof typeof CLIENT_CODES;
export type ErrorCode = ServerErrorCode | ClientErrorCode | `HTTP_${number}`;

export class SluiceClientError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /** HTTP status when the server (or something in between) answered. */
  readonly status?: number;
  /** Extra fields of the server's error body (startOffset, endOffset, field, limit, ...). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Seconds from a Retry-After header, when the answer had one. */
  readonly retryAfterSeconds?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; details?: Record<string, unknown>; retriable?: boolean; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'SluiceClientError';
    this.code = code;
    this.status = options.status;
    this.details = options.details ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retriable = options.retriable ?? retriableCode(code, options.status);
  }
}

/** Whether the error table (or, for unknown codes, the HTTP status) says a retry may succeed. */
export function retriableCode(code: string, status?: number): boolean {
  if (Object.hasOwn(ERROR_TABLE, code)) return ERROR_TABLE[code as ServerErrorCode].retriable;
  if (Object.hasOwn(CLIENT_CODES, code)) return CLIENT_CODES[code as ClientErrorCode];
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

export function isRetriable(error: unknown): boolean {
  return error instanceof SluiceClientError && error.retriable;
}

/** The error a call rejects with after an AbortSignal fired (seek, pause, disconnect). */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

export function invalidArgument(message: string): SluiceClientError {
  return new SluiceClientError('INVALID_ARGUMENT', message);
}
