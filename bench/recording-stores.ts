/**
 * Wrappers around the two storage ports that record every call in the order it started and ended:
 * which store, which operation, what it touched (the partition head, a log entry, ...) and whether a
 * condition refused it. Unlike request-counter.ts (which counts the SDK's HTTP requests, for billing),
 * these work on every backend, memory included, and keep the order of calls, from which the latency
 * model (latency-model.ts) finds the sequential round trips of a request.
 *
 * Counts come from the calls the engine makes, not from timing: on the AWS adapters one port call is
 * one SDK request for everything the produce path does (single-item writes and reads, one PUT).
 */
import { ConditionFailedError } from '../lib/errors.ts';
import { ENTRY_SK_PREFIX, HEAD_SK, INTENT_SK, PARTITION_PK_PREFIX, TOPICS_PK, WATERMARK_SK } from '../lib/log/layout.ts';
import type { ByteRange, Condition, Item, MetadataStore, ObjectInfo, ObjectStore, QueryOptions, UpdateChanges, UpdateOptions } from '../lib/storage/ports.ts';

export type StoreKind = 'object' | 'metadata';

export interface RecordedCall {
  readonly store: StoreKind;
  /** Port method: put, get, update, query, ... */
  readonly operation: string;
  /** partition head, log entry, log entries, idempotency intent, topic, ingest object, ... */
  readonly target: string;
  /** Positions in one sequence shared by both stores: a call that starts after another ended depends on it. */
  readonly startedAt: number;
  endedAt: number;
  /** Refused by its condition (ConditionFailedError); billed like any other write. */
  conditionFailed: boolean;
  /** Any other error. */
  failed: boolean;
}

export const WRITE_OPERATIONS: ReadonlySet<string> = new Set(['put', 'update', 'delete']);

/** One recorder for a pair of stores; reset() between the phases you want to count apart. */
export class CallRecorder {
  calls: RecordedCall[] = [];
  #sequence = 0;

  reset(): void {
    this.calls = [];
  }

  async record<T>(store: StoreKind, operation: string, target: string, call: () => Promise<T>): Promise<T> {
    const entry: RecordedCall = { store, operation, target, startedAt: this.#sequence++, endedAt: -1, conditionFailed: false, failed: false };
    this.calls.push(entry);
    try {
      return await call();
    } catch (error) {
      if (error instanceof ConditionFailedError) entry.conditionFailed = true;
      else entry.failed = true;
      throw error;
    } finally {
      entry.endedAt = this.#sequence++;
    }
  }

  /** Calls on `target` (optionally only writes). */
  count(target: string, options: { writes?: boolean } = {}): { calls: number; conditionFailed: number } {
    const matching = this.calls.filter((call) => call.target === target && (!options.writes || WRITE_OPERATIONS.has(call.operation)));
    return { calls: matching.length, conditionFailed: matching.filter((call) => call.conditionFailed).length };
  }
}

/** The kind of metadata item a key names (lib/log/layout.ts); a query names only its partition key. */
export function itemTarget(pk: string, sk: string | undefined): string {
  if (pk === TOPICS_PK) return 'topic';
  if (pk.startsWith(PARTITION_PK_PREFIX)) {
    if (sk === undefined) return 'log entries';
    if (sk === HEAD_SK) return 'partition head';
    if (sk === WATERMARK_SK) return 'partition watermark';
    if (sk.startsWith(ENTRY_SK_PREFIX)) return 'log entry';
  }
  if (pk.startsWith('idem#') && (sk === undefined || sk === INTENT_SK)) return 'idempotency intent';
  return 'other';
}

/** `t/<topicId>/<kind>/...` → `<kind> object`, e.g. `ingest object`. */
export function objectTarget(key: string): string {
  const kind = /^t\/[^/]+\/([^/]+)\//.exec(key)?.[1];
  return kind ? `${kind} object` : 'object';
}

export class RecordingMetadataStore implements MetadataStore {
  readonly #inner: MetadataStore;
  readonly #recorder: CallRecorder;
  readonly deleteExpired?: (nowSeconds: number) => Promise<number>;

  constructor(inner: MetadataStore, recorder: CallRecorder) {
    this.#inner = inner;
    this.#recorder = recorder;
    if (inner.deleteExpired) this.deleteExpired = (nowSeconds) => this.#recorder.record('metadata', 'deleteExpired', 'other', () => inner.deleteExpired!(nowSeconds));
  }

  get(pk: string, sk: string): Promise<Item | undefined> {
    return this.#recorder.record('metadata', 'get', itemTarget(pk, sk), () => this.#inner.get(pk, sk));
  }
  put(item: Item, condition?: Condition): Promise<void> {
    return this.#recorder.record('metadata', 'put', itemTarget(item.pk, item.sk), () => this.#inner.put(item, condition));
  }
  update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    return this.#recorder.record('metadata', 'update', itemTarget(pk, sk), () => this.#inner.update(pk, sk, changes, condition, options));
  }
  delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.#recorder.record('metadata', 'delete', itemTarget(pk, sk), () => this.#inner.delete(pk, sk, condition));
  }
  query(pk: string, options?: QueryOptions): Promise<Item[]> {
    // PartitionLog.readHead reads the head and its watermark item with one query starting at the head.
    const target = options?.gte === HEAD_SK && pk.startsWith(PARTITION_PK_PREFIX) ? 'partition head' : itemTarget(pk, undefined);
    return this.#recorder.record('metadata', 'query', target, () => this.#inner.query(pk, options));
  }
}

export class RecordingObjectStore implements ObjectStore {
  readonly #inner: ObjectStore;
  readonly #recorder: CallRecorder;
  readonly presignGet?: (key: string, range: ByteRange, expiresInSeconds: number) => Promise<string | undefined>;

  constructor(inner: ObjectStore, recorder: CallRecorder) {
    this.#inner = inner;
    this.#recorder = recorder;
    // Presigning is local computation, not a round trip: not recorded.
    if (inner.presignGet) this.presignGet = inner.presignGet.bind(inner);
  }

  put(key: string, body: Uint8Array): Promise<void> {
    return this.#recorder.record('object', 'put', objectTarget(key), () => this.#inner.put(key, body));
  }
  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.#recorder.record('object', 'get', objectTarget(key), () => this.#inner.get(key, range));
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.#recorder.record('object', 'delete', 'objects', () => this.#inner.delete(keys));
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const infos: ObjectInfo[] = await this.#recorder.record('object', 'list', objectTarget(prefix), async () => {
      const all: ObjectInfo[] = [];
      for await (const info of this.#inner.list(prefix)) all.push(info);
      return all;
    });
    yield* infos;
  }
}

/** Both stores wrapped around one recorder. */
export function recordingStores(objects: ObjectStore, metadata: MetadataStore): { recorder: CallRecorder; objects: RecordingObjectStore; metadata: RecordingMetadataStore } {
  const recorder = new CallRecorder();
  return { recorder, objects: new RecordingObjectStore(objects, recorder), metadata: new RecordingMetadataStore(metadata, recorder) };
}
