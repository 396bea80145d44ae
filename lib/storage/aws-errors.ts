/**
 * How an AWS SDK v3 failure is classified, shared by the S3 and DynamoDB adapters so that error names
 * are looked at in exactly one place. The adapters turn the class into one of the errors in
 * ../errors.ts, keeping the SDK error as `cause`.
 */

export type AwsFailure =
  /** DynamoDB ConditionalCheckFailedException: nothing was written. */
  | 'conditionFailed'
  /** S3 NoSuchKey / 404 on an object. */
  | 'notFound'
  /** S3 416: the range starts past the end of the object. */
  | 'invalidRange'
  /** Rate limited: the request was refused and not applied. */
  | 'throttled'
  /** Server fault, timeout or network failure: the request may or may not have been applied. */
  | 'unavailable'
  /** The request itself is wrong (validation, permissions, missing table/bucket): retrying will not help. */
  | 'rejected';

/** Error names AWS services use for rate limiting (as @smithy/service-error-classification lists them). */
const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
]);

/** Error names of timeouts and broken connections, from the SDK's HTTP handler or from Node. */
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export interface ClassifyOptions {
  /**
   * S3 answers 503 (SlowDown, or ServiceUnavailable "reduce your request rate") only when throttling;
   * elsewhere a 503 is an outage with an unknown outcome.
   */
  readonly serviceUnavailableMeansThrottled?: boolean;
}

export function classifyAwsError(error: unknown, options: ClassifyOptions = {}): AwsFailure {
  if (typeof error !== 'object' || error === null) return 'unavailable';
  const name = stringField(error, 'name') ?? '';
  const code = stringField(error, 'code') ?? stringField(error, 'Code') ?? '';
  const status = httpStatus(error);

  if (name === 'ConditionalCheckFailedException') return 'conditionFailed';
  if (name === 'NoSuchKey' || name === 'NotFound') return 'notFound';
  if (name === 'InvalidRange' || status === 416) return 'invalidRange';
  if (THROTTLING_NAMES.has(name) || THROTTLING_NAMES.has(code) || status === 429) return 'throttled';
  if (status === 503 && options.serviceUnavailableMeansThrottled) return 'throttled';
  if (stringField(error, '$fault') === 'server' || (status !== undefined && status >= 500)) return 'unavailable';
  if (TRANSIENT_NAMES.has(name) || TRANSIENT_CODES.has(code) || code.startsWith('UND_ERR_')) return 'unavailable';
  if (stringField(error, '$fault') === 'client' || (status !== undefined && status >= 400)) return 'rejected';
  // No service answer at all (a connection dropped mid-body, a response that would not parse): we cannot
  // know whether the request was applied.
  return 'unavailable';
}

function stringField(value: object, field: string): string | undefined {
  const found = (value as Record<string, unknown>)[field];
  return typeof found === 'string' ? found : undefined;
}

function httpStatus(error: object): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  if (typeof metadata?.httpStatusCode === 'number') return metadata.httpStatusCode;
  const response = (error as { $response?: { statusCode?: unknown } }).$response;
  return typeof response?.statusCode === 'number' ? response.statusCode : undefined;
}

/** A short description for error messages: "NoSuchKey (404)". */
export function describeAwsError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const name = stringField(error, 'name') ?? 'Error';
  const status = httpStatus(error);
  const message = stringField(error, 'message');
  return `${name}${status !== undefined ? ` (${status})` : ''}${message ? `: ${message}` : ''}`;
}
