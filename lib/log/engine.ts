/**
 * The log engine: topics, produce, fetch, locations and offsets by time, over the two storage ports.
 * This is the only implementation of the storage protocol; every backend runs this same code.
 */
import { mapConcurrent } from '../concurrency.ts';
import { SluiceError } from '../errors.ts';
import { DEFAULTS, LIMITS } from '../defaults.ts';
import type { ByteRange, MetadataStore, ObjectStore } from '../storage/ports.ts';
import { partitionPk, type LogEntry, type PartitionHead } from './layout.ts';
import { PartitionLog } from './partition-log.ts';
import { Producer, stampAppendTime, type AppendResult, type IdempotencyOptions, type PartitionAppend, type ProduceStep } from './produce.ts';
import { RangeCache } from './range-cache.ts';
import type { CompactionStep } from './compaction.ts';
import { Maintenance, type MaintenanceOptions, type MaintenanceReport, type MaintenanceRunOptions } from './maintenance.ts';
import { SegmentIndexCache, locateInEntry, offsetForTimestampIn, outOfRange, planRead, readBatches, type ReadPlan, type ReadSources, type StoredBatch } from './read.ts';
import { entrySpan } from './segment-index.ts';
import { TimeIndex } from './time-index.ts';
import { Topics, type Topic, type TopicConfig } from './topics.ts';

export interface EngineOptions {
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  readonly now?: () => number;
  readonly reservationTimeoutMs?: number;
  readonly abortReservationAfterMs?: number;
  /** The first re-read of the head in a long poll; later re-reads back off (see longPollMaxIntervalMs). */
  readonly longPollIntervalMs?: number;
  /**
   * The longest interval between re-reads of the head in a long poll. The interval starts at
   * longPollIntervalMs and doubles up to this, so a wait reads the head a bounded number of times
   * (20 s with the defaults: 10 reads). Appends in this process wake a waiting fetch at once.
   */
  readonly longPollMaxIntervalMs?: number;
  /** Timers of the long-poll wait (tests inject fake ones to count head reads without sleeping). @default globalThis */
  readonly timers?: WaitTimers;
  readonly objectCacheBytes?: number;
  readonly topicCacheMs?: number;
  readonly idempotencyTtlMs?: number;
  /** Config of new topics where the create request leaves it out. @default DEFAULTS */
  readonly topicDefaults?: Partial<TopicConfig>;
  readonly objectCommitWindowMs?: number;
  /**
   * A partition's batches of one produce request up to this many bytes are stored in the log entry
   * instead of an ingest object (0: never). At most LIMITS.maxInlineBytes. @default DEFAULTS.inlineMaxBytes
   */
  readonly inlineMaxBytes?: number;
  /** Compaction, retention and garbage collection; see DEFAULTS for each. */
  readonly maintenance?: Partial<MaintenanceOptions>;
  /** Concurrent produce requests of a topic share one ingest object (lib/log/ingest-writer.ts). @default true */
  readonly coalesceIngestObjects?: boolean;
  /** Test hook: awaited before each ingest object put with the number of requests sharing it; throwing fails that put. */
  readonly beforeIngestPut?: (requests: number) => void | Promise<void>;
  /** Test hook: runs after each produce step; throwing simulates a crash at that point. */
  readonly afterProduceStep?: (step: ProduceStep) => void | Promise<void>;
  /** Test hook: runs after each compaction step. */
  readonly afterCompactionStep?: (step: CompactionStep) => void | Promise<void>;
}

export interface WaitTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const GLOBAL_TIMERS: WaitTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Where a waiting reader stands in one partition. */
export interface WaitPosition {
  readonly partition: number;
  readonly offset: bigint;
}

/** A partition where a fetch at the waiter's offset answers without waiting. */
export interface ReadyPartition {
  readonly partition: number;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
}

export interface PartitionState {
  readonly partition: number;
  readonly startOffset: bigint;
  readonly endOffset: bigint;
}

export interface FetchOptions {
  readonly offset: bigint;
  readonly maxBytes?: number;
  readonly maxWaitMs?: number;
  readonly signal?: AbortSignal;
}

export interface FetchResult {
  readonly batches: StoredBatch[];
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
}

/** Where a direct reader gets a run of batches: a presigned ranged GET of an object… */
export interface ObjectLocation {
  readonly url: string;
  readonly range: ByteRange;
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

/** …or, for batches inline in a log entry (no object to presign), the batches themselves. */
export interface InlineLocation {
  /** The batches as stored (base offsets 0), exactly what a ranged GET of an ingest range returns. */
  readonly batches: Uint8Array;
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

export type Location = ObjectLocation | InlineLocation;

export interface LocationsResult {
  readonly locations: Location[];
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

/** Partitions whose entries one throughput call reads at a time. */
const THROUGHPUT_PARTITION_CONCURRENCY = 8;
/** Entries in the first page of a search by time (later pages are the log's default). */
const SEEK_FIRST_PAGE = 8;

export class Engine {
  readonly topics: Topics;
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  readonly #log: PartitionLog;
  readonly #timeIndex: TimeIndex;
  readonly #cache: RangeCache;
  readonly #sources: ReadSources;
  readonly #producer: Producer;
  readonly #maintenance: Maintenance;
  readonly #now: () => number;
  readonly #longPollIntervalMs: number;
  readonly #longPollMaxIntervalMs: number;
  readonly #timers: WaitTimers;
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #appendListeners = new Set<(pk: string) => void>();
  /**
   * Per partition, the furthest readable end this process has found past the stored watermark. A
   * readable head only moves forward (written entries stay; compaction and retention touch entries
   * below the stored watermark only, which is below this), so a later read walks the entries from
   * here instead of from the stored watermark again: with the watermark stored every 64th
   * reservation, that walk re-read up to ~64 entries on every fetch, locations call and wait. Safe
   * with other processes writing too: anything they add lies past this point and is walked as before.
   */
  readonly #readableEnds = new Map<string, bigint>();

  constructor(options: EngineOptions) {
    this.objects = options.objects;
    this.metadata = options.metadata;
    this.#now = options.now ?? Date.now;
    this.#longPollIntervalMs = options.longPollIntervalMs ?? DEFAULTS.longPollIntervalMs;
    this.#longPollMaxIntervalMs = Math.max(options.longPollMaxIntervalMs ?? DEFAULTS.longPollMaxIntervalMs, this.#longPollIntervalMs);
    this.#timers = options.timers ?? GLOBAL_TIMERS;
    this.topics = new Topics(options.metadata, { now: this.#now, cacheMs: options.topicCacheMs, defaults: options.topicDefaults });
    this.#log = new PartitionLog(options.metadata, {
      now: this.#now,
      reservationTimeoutMs: options.reservationTimeoutMs ?? DEFAULTS.reservationTimeoutMs,
      abortReservationAfterMs: options.abortReservationAfterMs ?? DEFAULTS.abortReservationAfterMs,
      watermarkAdvanceEveryReservations: DEFAULTS.watermarkAdvanceEveryReservations,
    });
    this.#timeIndex = new TimeIndex(options.metadata, this.#log);
    this.#cache = new RangeCache(options.objects, options.objectCacheBytes ?? DEFAULTS.objectCacheBytes);
    this.#sources = { cache: this.#cache, indexes: new SegmentIndexCache(options.objects) };
    const inlineMaxBytes = options.inlineMaxBytes ?? DEFAULTS.inlineMaxBytes;
    if (!Number.isInteger(inlineMaxBytes) || inlineMaxBytes < 0 || inlineMaxBytes > LIMITS.maxInlineBytes) {
      throw new RangeError(`inlineMaxBytes must be an integer from 0 to ${LIMITS.maxInlineBytes}, got ${inlineMaxBytes}`);
    }
    this.#producer = new Producer({
      objects: options.objects,
      metadata: options.metadata,
      log: this.#log,
      now: this.#now,
      idempotencyTtlMs: options.idempotencyTtlMs,
      objectCommitWindowMs: options.objectCommitWindowMs,
      inlineMaxBytes,
      coalesceIngestObjects: options.coalesceIngestObjects,
      beforeIngestPut: options.beforeIngestPut,
      afterStep: options.afterProduceStep,
      onAppend: (pk) => this.#wake(pk),
    });
    const abortAfter = options.abortReservationAfterMs ?? DEFAULTS.abortReservationAfterMs;
    this.#maintenance = new Maintenance(
      { objects: options.objects, metadata: options.metadata, log: this.#log, topics: this.topics, now: this.#now, afterCompactionStep: options.afterCompactionStep },
      {
        segmentBytes: DEFAULTS.segmentBytes,
        indexIntervalBytes: DEFAULTS.indexIntervalBytes,
        minEntryAgeMs: abortAfter,
        tailQuietMs: DEFAULTS.compactionTailQuietMs,
        maxTailEntries: DEFAULTS.compactionMaxTailEntries,
        gcGraceMs: DEFAULTS.gcGraceMs,
        minObjectAgeMs: DEFAULTS.gcMinObjectAgeMs,
        fullPassIntervalMs: DEFAULTS.maintenanceFullPassIntervalMs,
        ...options.maintenance,
      },
    );
  }

  /**
   * One maintenance pass over every topic: close stale gaps, apply retention, compact, collect
   * unreferenced objects, purge deleted topics. Safe to run at any time, also concurrently. Quiet
   * partitions are skipped unless `full` (maintenance.ts).
   */
  maintain(options?: MaintenanceRunOptions): Promise<MaintenanceReport> {
    return this.#maintenance.run(options);
  }

  async describeTopic(name: string): Promise<{ topic: Topic; partitions: PartitionState[] }> {
    const topic = await this.topics.get(name);
    const partitions = await Promise.all(
      Array.from({ length: topic.partitions }, async (_, partition) => {
        const head = await this.#currentHead(topic, partition);
        return { partition, startOffset: head.logStartOffset, endOffset: head.highWatermark };
      }),
    );
    return { topic, partitions };
  }

  /** One partition's start and end offsets (one head read). */
  async partitionState(topicName: string, partition: number): Promise<PartitionState> {
    const topic = await this.topics.get(topicName);
    checkPartition(topic, partition);
    const bounds = await this.partitionBounds(topic, partition);
    return { partition, startOffset: bounds.logStartOffset, endOffset: bounds.highWatermark };
  }

  /** Range reads served from the object store and from the in-memory cache, for benchmarks. */
  cacheStats(): { readonly hits: number; readonly misses: number } {
    return { hits: this.#cache.hits, misses: this.#cache.misses };
  }

  /** A partition's log start offset and high watermark, as readers see them (consumer lag, offset resets). */
  async partitionBounds(topic: Topic, partition: number): Promise<{ logStartOffset: bigint; highWatermark: bigint }> {
    const head = await this.#currentHead(topic, partition);
    return { logStartOffset: head.logStartOffset, highWatermark: head.highWatermark };
  }

  /**
   * Makes a partition's records before `before` unreadable (Kafka's DeleteRecords): its log start
   * moves there, or to the high watermark for `'end'`, with one conditional write of the head, and
   * reads below it answer OFFSET_OUT_OF_RANGE from then on. The log entries wholly below go at the
   * next maintenance pass; one holding the new start stays until the start passes its end (a read
   * from the start gets that entry's batches, and clients skip the records before the offset asked
   * for, as they do for any read that starts inside a batch). Never moves the start back: a `before`
   * at or below it changes nothing. Past the high watermark → OFFSET_OUT_OF_RANGE. Answers the
   * partition's offsets after the change.
   */
  async deleteRecords(topicName: string, partition: number, before: bigint | 'end'): Promise<PartitionState> {
    const topic = await this.topics.get(topicName);
    checkPartition(topic, partition);
    const head = await this.#currentHead(topic, partition);
    const to = before === 'end' ? head.highWatermark : before;
    if (to > head.highWatermark || to < 0n) throw outOfRange(to, head);
    if (to > head.logStartOffset) await this.#log.moveLogStart(partitionPk(topic.id, partition), to, 'deleteRecords');
    const after = await this.partitionBounds(topic, partition);
    return { partition, startOffset: after.logStartOffset, endOffset: after.highWatermark };
  }

  /**
   * Appends to a topic, by name or as the caller already resolved it (the produce route does, to parse
   * JSON records against it: one lookup, one topic version). A LogAppendTime topic's batches are
   * stamped in place (stampAppendTime).
   */
  async produce(topicOrName: string | Topic, appends: readonly PartitionAppend[], idempotency?: IdempotencyOptions): Promise<AppendResult[]> {
    const topic = typeof topicOrName === 'string' ? await this.topics.get(topicOrName) : topicOrName;
    const seen = new Set<number>();
    for (const append of appends) {
      checkPartition(topic, append.partition);
      if (seen.has(append.partition)) throw new SluiceError('INVALID_REQUEST', `partition ${append.partition} appears twice in one request`);
      seen.add(append.partition);
    }
    if (topic.config.timestampType === 'LogAppendTime') {
      const now = this.#now();
      const placeOver = idempotency?.placeOver;
      const stamped = placeOver ? { ...idempotency, placeOver: (partitions: number) => stampAppendTime(placeOver(partitions), now) } : idempotency;
      return this.#producer.append(topic, stampAppendTime(appends, now), stamped);
    }
    return this.#producer.append(topic, appends, idempotency);
  }

  /** Whole batches from `offset`, up to maxBytes, waiting up to maxWaitMs at the end of the log. */
  async fetch(topicName: string, partition: number, options: FetchOptions): Promise<FetchResult> {
    const read = await this.#prepareRead(topicName, partition, options);
    const { head } = read;
    if (!read.plan) return { batches: [], nextOffset: options.offset, highWatermark: head.highWatermark, logStartOffset: head.logStartOffset };
    const { batches, nextOffset } = await readBatches(this.#sources, read.plan, options.offset, read.maxBytes);
    return { batches, nextOffset, highWatermark: head.highWatermark, logStartOffset: head.logStartOffset };
  }

  /**
   * Presigned ranged reads of the entries from `offset`, for clients that read the object store
   * directly; entries whose batches are inline come with their batches instead of a URL.
   */
  async locations(topicName: string, partition: number, options: FetchOptions & { expiresInSeconds?: number }): Promise<LocationsResult> {
    const presign = this.objects.presignGet?.bind(this.objects);
    if (!presign) throw new SluiceError('INVALID_REQUEST', 'this deployment cannot serve direct reads; use the records route');
    const { head, plan, maxBytes } = await this.#prepareRead(topicName, partition, options);
    if (!plan) return { locations: [], nextOffset: options.offset, highWatermark: head.highWatermark };
    const expires = options.expiresInSeconds ?? DEFAULTS.presignExpiresSeconds;
    const locations: Location[] = [];
    let bytes = 0;
    for (const entry of plan.entries) {
      if (entry.inlineBatches) {
        locations.push({ batches: entry.inlineBatches, baseOffset: entry.start, lastOffset: entry.end - 1n });
        bytes += entry.inlineBatches.length;
        if (bytes >= maxBytes) return { locations, nextOffset: entry.end, highWatermark: head.highWatermark };
        continue;
      }
      const { start, end, baseOffset, lastOffset } = await locateInEntry(this.#sources, entry, options.offset, maxBytes - bytes);
      const range = { start, end };
      const url = await presign(entry.objectKey, range, expires);
      if (url === undefined) {
        // A range the store cannot presign (an ingest object in an S3 Express directory bucket, whose
        // URLs die with its 5-minute session): its batches by value, like an inline entry. Only whole
        // ingest ranges are unsignable, so these are the entry's batches as stored (base offsets 0).
        locations.push({ batches: await this.#sources.cache.get(entry.objectKey, range), baseOffset, lastOffset });
      } else {
        locations.push({ url, range, baseOffset, lastOffset });
      }
      bytes += end - start + 1;
      // A segment read only in part ends the answer there; the client continues after it.
      if (lastOffset < entry.end - 1n || bytes >= maxBytes) return { locations, nextOffset: lastOffset + 1n, highWatermark: head.highWatermark };
    }
    return { locations, nextOffset: plan.endOffset, highWatermark: head.highWatermark };
  }

  /**
   * Records and bytes per time bucket, from the log's own entries (no metrics store): each entry
   * counts in the bucket of its newest timestamp, a compacted segment span by span of its index.
   * The walk reads at most `maxEntries` entries per call (`truncated` says it stopped early).
   */
  async throughput(
    topicName: string,
    options: { partition?: number; bucketMs: number; from: number; to: number; maxEntries: number },
  ): Promise<{ buckets: { startMs: number; records: number; bytes: number }[]; truncated: boolean }> {
    const topic = await this.topics.get(topicName);
    if (options.partition !== undefined) checkPartition(topic, options.partition);
    const partitions = options.partition === undefined ? Array.from({ length: topic.partitions }, (_, p) => p) : [options.partition];
    const first = Math.floor(options.from / options.bucketMs) * options.bucketMs;
    const count = Math.max(1, Math.ceil((options.to - first) / options.bucketMs));
    const buckets = Array.from({ length: count }, (_, i) => ({ startMs: first + i * options.bucketMs, records: 0, bytes: 0 }));
    let walked = 0;
    let truncated = false;
    // Partitions are walked side by side (a topic's chart would otherwise wait for one walk after
    // another), sharing the bound; when it is reached, which entries were counted depends on the interleaving.
    await mapConcurrent(partitions, THROUGHPUT_PARTITION_CONCURRENCY, async (partition) => {
      const pk = partitionPk(topic.id, partition);
      const head = await this.#currentHead(topic, partition);
      // Entries before the time index's start for the window hold no record the window counts.
      for await (const entry of this.#log.liveEntriesFrom(pk, await this.#timeIndex.startFor(pk, first, head.logStartOffset), head.highWatermark)) {
        if (truncated || ++walked > options.maxEntries) {
          truncated = true;
          break;
        }
        if (entry.aborted || entry.maxTimestamp < first) continue;
        const count = (timestamp: number, start: bigint, end: bigint, bytes: number) => {
          if (timestamp < first || timestamp >= options.to) return;
          const bucket = buckets[Math.floor((timestamp - first) / options.bucketMs)];
          const retained = start > head.logStartOffset ? start : head.logStartOffset;
          if (!bucket || end <= retained) return;
          bucket.records += Number(end - retained);
          bucket.bytes += bytes;
        };
        if (!entry.indexKey) {
          count(entry.maxTimestamp, entry.start, entry.end, entry.length);
          continue;
        }
        // A compacted segment spreads over its index's spans (one every indexIntervalBytes), each
        // counted at its own newest timestamp, so old data does not pile up where the segment ends.
        const index = await this.#sources.indexes.get(entry.indexKey);
        index.entries.forEach((span, i) => {
          const next = index.entries[i + 1];
          const { start, end } = entrySpan(index, i);
          count(span.maxTimestamp, index.baseOffset + BigInt(span.relativeOffset), next ? index.baseOffset + BigInt(next.relativeOffset) : entry.end, end - start);
        });
      }
    });
    return { buckets, truncated };
  }

  /** The first offset whose timestamp is at or after `timestamp`, or the high watermark. */
  async offsetForTimestamp(topicName: string, partition: number, timestamp: number): Promise<bigint> {
    const topic = await this.topics.get(topicName);
    checkPartition(topic, partition);
    const pk = partitionPk(topic.id, partition);
    const head = await this.#currentHead(topic, partition);
    // Every record before the time index's start is older than `timestamp`, and the search usually
    // ends in the first entries after it: a small first page.
    for await (const entry of this.#log.liveEntriesFrom(pk, await this.#timeIndex.startFor(pk, timestamp, head.logStartOffset), head.highWatermark, { first: SEEK_FIRST_PAGE })) {
      if (entry.aborted || entry.maxTimestamp < timestamp || entry.end <= head.logStartOffset) continue;
      const found = await offsetForTimestampIn(this.#sources, entry, timestamp, head.logStartOffset);
      if (found !== undefined) return found;
    }
    return head.highWatermark;
  }

  /**
   * What fetch and locations both do first: the topic and partition checked, maxBytes clamped, the
   * head (after the long poll, if any), and the entries to read from `offset` — none at the end of the log.
   */
  async #prepareRead(topicName: string, partition: number, options: FetchOptions): Promise<{ head: PartitionHead; plan?: ReadPlan; maxBytes: number }> {
    const topic = await this.topics.get(topicName);
    checkPartition(topic, partition);
    const maxBytes = clampMaxBytes(options.maxBytes);
    const { head, walked } = await this.#headFor(topic, partition, options);
    if (options.offset >= head.highWatermark) return { head, maxBytes };
    return { head, maxBytes, plan: await planRead(this.#log, partitionPk(topic.id, partition), head, options.offset, maxBytes, walked) };
  }

  /** The head (after the long poll, if any) and the entries its walk read past the stored watermark. */
  async #headFor(topic: Topic, partition: number, options: FetchOptions): Promise<{ head: PartitionHead; walked: LogEntry[] }> {
    let walked: LogEntry[] = [];
    let head = await this.#currentHead(topic, partition, walked);
    if (options.offset < head.logStartOffset || options.offset > head.highWatermark) throw outOfRange(options.offset, head);
    await this.#waitUntil([partitionPk(topic.id, partition)], options, async () => {
      walked = [];
      head = await this.#currentHead(topic, partition, walked);
      return options.offset < head.highWatermark;
    }, options.offset < head.highWatermark);
    return { head, walked };
  }

  /**
   * Waits up to maxWaitMs until one of the partitions has records at or after the reader's offset,
   * and answers the partitions where a fetch at the reader's offset would not wait: records are there
   * (offset below the high watermark) or the offset is outside the log (the fetch answers
   * OFFSET_OUT_OF_RANGE). Empty at the deadline. One head read per partition per round; rounds follow
   * the long poll's schedule (appends in this process end the wait at once).
   */
  async waitForRecords(topicName: string, positions: readonly WaitPosition[], options: { maxWaitMs?: number; signal?: AbortSignal } = {}): Promise<ReadyPartition[]> {
    const topic = await this.topics.get(topicName);
    const seen = new Set<number>();
    for (const { partition } of positions) {
      checkPartition(topic, partition);
      if (seen.has(partition)) throw new SluiceError('INVALID_REQUEST', `partition ${partition} appears twice in one request`, { details: { partition } });
      seen.add(partition);
    }
    let ready: ReadyPartition[] = [];
    const check = async () => {
      const heads = await Promise.all(positions.map(({ partition }) => this.#currentHead(topic, partition)));
      ready = positions.flatMap(({ partition, offset }, i) =>
        offset === heads[i].highWatermark && offset >= heads[i].logStartOffset ? [] : [{ partition, highWatermark: heads[i].highWatermark, logStartOffset: heads[i].logStartOffset }],
      );
      return ready.length > 0;
    };
    const pks = positions.map(({ partition }) => partitionPk(topic.id, partition));
    await this.#waitUntil(pks, options, check, await check());
    return ready;
  }

  /**
   * Re-runs `check` (which reads heads) until it is true, the wait's deadline passes or the signal
   * aborts: at once when an append in this process touches one of `pks`, otherwise on a backoff
   * schedule (longPollIntervalMs doubling up to longPollMaxIntervalMs), so a wait for appends by other
   * processes reads the head a bounded number of times.
   */
  async #waitUntil(pks: readonly string[], options: { maxWaitMs?: number; signal?: AbortSignal }, check: () => Promise<boolean>, done: boolean): Promise<void> {
    const maxWaitMs = Math.min(Math.max(options.maxWaitMs ?? 0, 0), LIMITS.maxWaitMs);
    const deadline = this.#now() + maxWaitMs;
    let intervalMs = this.#longPollIntervalMs;
    while (!done && this.#now() < deadline && !options.signal?.aborted) {
      await this.#waitForAppend(pks, Math.min(intervalMs, deadline - this.#now()), options.signal);
      intervalMs = Math.min(intervalMs * 2, this.#longPollMaxIntervalMs);
      done = await check();
    }
  }

  /**
   * PartitionLog.readableHead's answer (the stored watermark moved, in memory, over the contiguous
   * entries written after it), starting the walk at #readableEnds' point when that is further;
   * `walked` receives the entries the walk read.
   */
  async #currentHead(topic: Topic, partition: number, walked?: LogEntry[]): Promise<PartitionHead> {
    const pk = partitionPk(topic.id, partition);
    const head = await this.#log.readHead(pk);
    const known = this.#readableEnds.get(pk);
    const from = known !== undefined && known > head.highWatermark && known <= head.nextOffset ? known : head.highWatermark;
    const end = from < head.nextOffset ? await this.#log.contiguousEnd(pk, from, head.nextOffset, walked) : from;
    if (end > head.highWatermark) {
      if (end !== known) {
        // One entry per partition read; a process that reads very many partitions starts over rather than grow without bound.
        if (known === undefined && this.#readableEnds.size >= MAX_READABLE_ENDS) this.#readableEnds.clear();
        this.#readableEnds.set(pk, end);
      }
      return { ...head, highWatermark: end };
    }
    if (known !== undefined) this.#readableEnds.delete(pk); // the stored watermark has caught up
    return head;
  }

  /** Moves the partition's high watermark and closes gaps left by dead writers once they are stale. */
  async repairPartition(topicName: string, partition: number): Promise<{ gapsClosed: number }> {
    const topic = await this.topics.get(topicName);
    checkPartition(topic, partition);
    const pk = partitionPk(topic.id, partition);
    const { gapsClosed } = await this.#log.repair(pk);
    if (gapsClosed > 0) this.#wake(pk);
    return { gapsClosed };
  }

  /** Resolves on the first append in this process to one of `pks`, after timeoutMs, or on abort. */
  #waitForAppend(pks: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#timers.clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        for (const pk of pks) {
          const waiters = this.#waiters.get(pk);
          waiters?.delete(done);
          if (waiters?.size === 0) this.#waiters.delete(pk);
        }
        resolve();
      };
      const timer = this.#timers.setTimeout(done, Math.max(timeoutMs, 1));
      signal?.addEventListener('abort', done, { once: true });
      for (const pk of pks) {
        let waiters = this.#waiters.get(pk);
        if (!waiters) this.#waiters.set(pk, (waiters = new Set()));
        waiters.add(done);
      }
    });
  }

  /** Long polls waiting in this process (waiters per partition summed), for tests that check nothing leaks. */
  get waitingFetches(): number {
    let n = 0;
    for (const waiters of this.#waiters.values()) n += waiters.size;
    return n;
  }

  /**
   * Calls `listener` with the partition key (layout.ts partitionPk) whenever a partition's high
   * watermark may have moved in this process: the local form of the "new log entries" trigger (in
   * AWS, DynamoDB Streams on log-entry items). Returns a function that unsubscribes.
   */
  onAppend(listener: (pk: string) => void): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  #wake(pk: string): void {
    for (const wake of [...(this.#waiters.get(pk) ?? [])]) wake();
    for (const listener of this.#appendListeners) {
      try {
        listener(pk);
      } catch {
        // A listener's failure is its own; the append has succeeded.
      }
    }
  }
}

const MAX_READABLE_ENDS = 100_000;

function checkPartition(topic: Topic, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new SluiceError('INVALID_REQUEST', `partition ${partition} does not exist in topic ${topic.name} (0-${topic.partitions - 1})`, {
      details: { partition },
    });
  }
}

function clampMaxBytes(maxBytes: number | undefined): number {
  return Math.min(Math.max(maxBytes ?? DEFAULTS.fetchMaxBytes, 1), LIMITS.maxFetchBytes);
}
