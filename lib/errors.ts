/**
 * One error table for the whole service. The HTTP layer maps `code` to a status, and every retry loop
 * (server side and client side) reads `retriable` from here rather than guessing from messages.
 */
export const ERROR_TABLE = {
  UNAUTHORIZED: { status: 401, retriable: false },
  FORBIDDEN: { status: 403, retriable: false },
  INVALID_REQUEST: { status: 400, retriable: false },
  NOT_FOUND: { status: 404, retriable: false },
  TOPIC_NOT_FOUND: { status: 404, retriable: false },
  GROUP_NOT_FOUND: { status: 404, retriable: false },
  /** No push consumer with that name. */
  CONSUMER_NOT_FOUND: { status: 404, retriable: false },
  UNKNOWN_MEMBER: { status: 404, retriable: false },
  METHOD_NOT_ALLOWED: { status: 405, retriable: false },
  TOPIC_EXISTS: { status: 409, retriable: false },
  /** A push consumer with that name exists already. */
  CONSUMER_EXISTS: { status: 409, retriable: false },
  ILLEGAL_GENERATION: { status: 409, retriable: false },
  /** Offsets can be reset only while the consumer group has no members (Kafka's NON_EMPTY_GROUP). */
  GROUP_NOT_EMPTY: { status: 409, retriable: false },
  /** The same Idempotency-Key was sent with a different request body. */
  IDEMPOTENCY_KEY_REUSED: { status: 422, retriable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retriable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false },
  OFFSET_OUT_OF_RANGE: { status: 416, retriable: false },
  THROTTLED: { status: 429, retriable: true },
  INTERNAL: { status: 500, retriable: true },
  /** A dependency failed or timed out; the outcome may be unknown, so retry with the same idempotency key. */
  UNAVAILABLE: { status: 503, retriable: true },
} as const satisfies Record<string, { status: number; retriable: boolean }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  /** Extra fields returned to the client next to code and message (for example startOffset). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.details = options.details ?? {};
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }

  get retriable(): boolean {
    return ERROR_TABLE[this.code].retriable;
  }
}

export function isRetriable(error: unknown): boolean {
  if (error instanceof SluiceError) return error.retriable;
  if (error instanceof StorageError) return error.retriable;
  return false;
}

/**
 * Errors raised by storage adapters. Adapters translate their SDK's errors into these so that the log
 * protocol never looks at an AWS error name.
 */
export class StorageError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'StorageError';
    this.retriable = options.retriable;
  }
}

/** A conditional write's condition did not hold. Nothing was written. */
export class ConditionFailedError extends StorageError {
  constructor(message = 'condition failed', cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'ConditionFailedError';
  }
}

/** The object or range does not exist. */
export class ObjectNotFoundError extends StorageError {
  constructor(key: string, cause?: unknown) {
    super(`object not found: ${key}`, { retriable: false, cause });
    this.name = 'ObjectNotFoundError';
  }
}

/** The backend refused the request for rate reasons; nothing was applied. */
export class ThrottledError extends StorageError {
  constructor(message = 'throttled', cause?: unknown) {
    super(message, { retriable: true, cause });
    this.name = 'ThrottledError';
  }
}

/**
 * The backend failed or timed out. The request may or may not have been applied (ambiguous), so
 * callers must be able to retry it safely.
 */
export class UnavailableError extends StorageError {
  constructor(message = 'storage unavailable', cause?: unknown) {
    super(message, { retriable: true, cause });
    this.name = 'UnavailableError';
  }
}
