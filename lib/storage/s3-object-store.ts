/**
 * ObjectStore over Amazon S3 (or anything speaking its protocol). Thin: one SDK call per port call,
 * errors translated to ../errors.ts.
 *
 * Ranges. get() sends `Range: bytes=start-end` and is defensive about the answer: a server may ignore
 * the header (200 with the whole object) or answer a wider range than asked (s3rver does for
 * `bytes=0-0`), so the requested bytes are cut out of whatever came back using Content-Range. A range
 * that starts past the end of the object is answered 416 InvalidRange by S3; the port says ranges past
 * the end are clipped, so that returns an empty Uint8Array. A missing key is still ObjectNotFoundError
 * (S3 checks the key before the range).
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ObjectNotFoundError, StorageError, ThrottledError, UnavailableError } from '../errors.ts';
import { classifyAwsError, describeAwsError } from './aws-errors.ts';
import type { ByteRange, ObjectInfo, ObjectStore } from './ports.ts';

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;
/** SigV4 presigned URLs cannot outlive a week. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended verbatim to every key (include the trailing `/` if you want one), stripped from list(). */
  readonly prefix?: string;
}

/**
 * An S3 client configured for Sluice. Against AWS the SDK defaults stay (a CRC32 checksum on every
 * PUT, checked by S3). With an `endpoint` (an emulator or another S3-compatible store) path-style
 * addressing is used, since virtual-host names like `bucket.127.0.0.1` do not resolve, and checksums
 * are sent only where an operation requires them, because emulators such as s3rver store the
 * aws-chunked checksum framing verbatim. Every default can be overridden.
 */
export function createS3Client(config: S3ClientConfig = {}): S3Client {
  const emulated = config.endpoint !== undefined;
  return new S3Client({
    ...(emulated ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    ...config,
  });
}

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3ObjectStoreOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? '';
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    try {
      await this.#client.send(
        new PutObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key, Body: body, ContentLength: body.byteLength }),
      );
    } catch (error) {
      throw translate(error, `put ${key}`, key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (range) checkRange(range);
    try {
      const response = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key, Range: range ? rangeHeader(range) : undefined }),
      );
      const bytes = response.Body ? asPlainBytes(await response.Body.transformToByteArray()) : new Uint8Array(0);
      return range ? cutRange(bytes, range, response.ContentRange) : bytes;
    } catch (error) {
      if (range && classifyAwsError(error) === 'invalidRange') return new Uint8Array(0);
      throw translate(error, `get ${key}`, key);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      let failures;
      try {
        const response = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#prefix + key })), Quiet: true },
          }),
        );
        failures = response.Errors ?? [];
      } catch (error) {
        throw translate(error, `delete ${batch.length} keys`);
      }
      // DeleteObjects answers 200 and reports failures per key.
      const failure = failures.find((entry) => entry.Code !== 'NoSuchKey');
      if (failure) {
        // Per-key failures carry only a code; give them the status S3 uses for that code, so that they
        // classify like the same error on a single-key request.
        const code = failure.Code ?? 'InternalError';
        const status = code === 'InternalError' ? 500 : code === 'SlowDown' || code === 'ServiceUnavailable' ? 503 : 400;
        const cause = Object.assign(new Error(failure.Message ?? code), { name: code, $metadata: { httpStatusCode: status } });
        throw translate(cause, `delete ${failure.Key ?? ''} (${failures.length} of ${batch.length} keys failed)`);
      }
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let continuationToken: string | undefined;
    do {
      let response;
      try {
        response = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix + prefix, ContinuationToken: continuationToken }),
        );
      } catch (error) {
        throw translate(error, `list ${prefix}`);
      }
      for (const object of response.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(this.#prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified?.getTime() ?? 0,
        };
      }
      continuationToken = response.IsTruncated ? response.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  /**
   * A URL for exactly one ranged GET. The Range header is one of the signed headers (SigV4 signs every
   * header given to it that is not `x-amz-*`, which would be hoisted into the query; `signableHeaders`
   * makes that explicit), so the holder must send exactly `Range: bytes=start-end` and cannot widen it
   * to read the rest of the object.
   */
  async presignGet(key: string, range: ByteRange, expiresInSeconds: number): Promise<string> {
    checkRange(range);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new RangeError(`expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS}`);
    }
    const command = new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key, Range: rangeHeader(range) });
    try {
      return await getSignedUrl(this.#client, command, { expiresIn: expiresInSeconds, signableHeaders: new Set(['range']) });
    } catch (error) {
      throw translate(error, `presign ${key}`, key);
    }
  }
}

function rangeHeader(range: ByteRange): string {
  return `bytes=${range.start}-${range.end}`;
}

function checkRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
    throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
  }
}

/** The SDK may hand back a Buffer; callers compare and slice plain Uint8Arrays. */
function asPlainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The requested bytes out of a response that may hold more (see the module comment). */
function cutRange(bytes: Uint8Array, range: ByteRange, contentRange: string | undefined): Uint8Array {
  // `bytes 0-99/1234`; no header means the server ignored Range and sent the object from byte 0.
  const match = contentRange ? /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange) : null;
  const firstByteReturned = match ? Number(match[1]) : 0;
  const from = range.start - firstByteReturned;
  if (from < 0 || from > bytes.length) {
    throw new UnavailableError(`s3 answered Content-Range ${contentRange ?? '(none)'} for ${rangeHeader(range)}`);
  }
  const length = range.end - range.start + 1;
  return from === 0 && bytes.length <= length ? bytes : bytes.subarray(from, from + length);
}

function translate(error: unknown, what: string, key?: string): StorageError {
  if (error instanceof StorageError) return error;
  const message = `s3 ${what}: ${describeAwsError(error)}`;
  switch (classifyAwsError(error, { serviceUnavailableMeansThrottled: true })) {
    case 'notFound':
      if (key !== undefined) return new ObjectNotFoundError(key, error);
      return new StorageError(message, { retriable: false, cause: error });
    case 'throttled':
      return new ThrottledError(message, error);
    case 'unavailable':
      return new UnavailableError(message, error);
    case 'conditionFailed':
    case 'invalidRange':
    case 'rejected':
      return new StorageError(message, { retriable: false, cause: error });
  }
}
