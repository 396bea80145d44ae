/**
 * One ObjectStore over two: ingest objects (`t/<topicId>/ingest/...`, one per produce request, read
 * until compaction moves their batches into segments) go to one store, everything else (segments,
 * their indexes) to the other. Built for an S3 Express One Zone directory bucket holding the ingest
 * objects, where a PUT costs $0.00113 per 1,000 instead of S3 Standard's $0.005, beside the standard
 * bucket holding segments. The log protocol above knows nothing of it: the key alone decides, in this
 * one place.
 *
 * What each call does:
 * - put, get: by key. A get of an ingest key missing from the ingest store is retried on the other
 *   store, so ingest objects written before the option was switched on stay readable (a miss costs one
 *   more GET; misses are rare: an object is read after it was collected only by a reader racing GC).
 * - delete: other keys in the other store; ingest keys in both stores (an ingest object from before
 *   the switch lives in the standard bucket, and a listing does not say which store a key came from).
 * - list: both stores, one after the other. The order is NOT key order: a directory bucket lists in no
 *   particular order (S3 Express One Zone, "Differences for directory buckets"), so nothing may depend
 *   on it; maintenance's garbage collection and the deleted-topic purge do not. A directory bucket also
 *   takes only prefixes ending in `/`: a prefix that does not is listed from its last `/` and filtered.
 * - presignGet: other keys by the other store; ingest keys answer undefined, and the locations route
 *   serves those ranges by value (like inline entries). The SDK signs a directory-bucket URL with the
 *   bucket's CreateSession credentials, which expire 5 minutes after the session was made (and the SDK
 *   reuses a session for most of that), so a URL would stop working before the expiry it states.
 */
import { ObjectNotFoundError } from '../errors.ts';
import type { ByteRange, ObjectInfo, ObjectStore } from './ports.ts';

/**
 * Whether a key names an ingest object (lib/log/layout.ts ingestObjectKey: `t/<topicId>/ingest/<spread>/<id>`,
 * and `t/<topicId>/ingest/<id>` from before the spread). Segments are `t/<topicId>/segments/...`.
 */
export function isIngestObjectKey(key: string): boolean {
  return /^t\/[^/]+\/ingest\//.test(key);
}

export interface RoutedObjectStoreOptions {
  /** Segments, indexes and anything else that is not an ingest object. */
  readonly standard: ObjectStore;
  /** Ingest objects (an S3 Express One Zone directory bucket). */
  readonly ingest: ObjectStore;
}

export class RoutedObjectStore implements ObjectStore {
  readonly #standard: ObjectStore;
  readonly #ingest: ObjectStore;
  /** Present when the standard store presigns (S3); ingest keys answer undefined (see the module comment). */
  readonly presignGet?: (key: string, range: ByteRange, expiresInSeconds: number) => Promise<string | undefined>;

  constructor(options: RoutedObjectStoreOptions) {
    this.#standard = options.standard;
    this.#ingest = options.ingest;
    const presign = options.standard.presignGet?.bind(options.standard);
    if (presign) this.presignGet = async (key, range, expiresInSeconds) => (isIngestObjectKey(key) ? undefined : presign(key, range, expiresInSeconds));
  }

  put(key: string, body: Uint8Array): Promise<void> {
    return (isIngestObjectKey(key) ? this.#ingest : this.#standard).put(key, body);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (!isIngestObjectKey(key)) return this.#standard.get(key, range);
    try {
      return await this.#ingest.get(key, range);
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      // Written before ingest objects moved (or the other store holds it for another reason).
      return this.#standard.get(key, range);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const ingest = keys.filter(isIngestObjectKey);
    // Every key goes to the standard store: ingest keys too, since one from before the switch lives there.
    await Promise.all([keys.length > 0 ? this.#standard.delete(keys) : undefined, ingest.length > 0 ? this.#ingest.delete(ingest) : undefined]);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* this.#standard.list(prefix);
    if (!mayHoldIngestKeys(prefix)) return;
    // Directory buckets list only prefixes that end in the delimiter.
    const listed = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    for await (const info of this.#ingest.list(listed)) {
      if (info.key.startsWith(prefix) && isIngestObjectKey(info.key)) yield info;
    }
  }
}

/** Whether some ingest key starts with `prefix` (or the prefix starts inside one). */
function mayHoldIngestKeys(prefix: string): boolean {
  if (isIngestObjectKey(prefix)) return true;
  // A prefix shorter than `t/<id>/ingest/`: could any ingest key extend it?
  const parts = prefix.split('/');
  const shape = ['t', undefined, 'ingest'];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (i >= shape.length) return true;
    const expected = shape[i];
    if (expected === undefined) {
      if (!last && part === '') return false;
      continue;
    }
    if (last ? !expected.startsWith(part) : part !== expected) return false;
  }
  return true;
}
