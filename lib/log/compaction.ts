/**
 * Compaction: a partition's small ingest ranges, inline entries (batches kept in the entry item) and
 * small segments become large segment objects with real base offsets stamped in and a sparse index
 * each (Kafka's log segments and .index files). Inline entries are merged exactly like ingest ranges,
 * which also moves their bytes out of the metadata table.
 *
 * Per group of contiguous entries:
 *   1. read the ranges, stamp offsets, build the index; PUT the segment and its index (new keys)
 *   2. swap: replace the group's first entry with the segment entry, on condition that it is unchanged
 *   3. delete the group's other entries (each on condition that it is unchanged)
 * Readers at any point see the same records: before 2 the old entries; after 2 the segment entry,
 * which covers any not-yet-deleted old entries (readers step over entries inside an earlier one, and
 * a reader that lands on a leftover reads the old object, which is kept until no entry references it
 * and a grace period has passed). A crash after 1 leaves unreferenced objects (swept later); a crash
 * after 2 leaves leftovers that the next pass deletes. Segments never span an aborted range, so the
 * offsets inside a segment are contiguous.
 */
import { ConditionFailedError } from '../errors.ts';
import { iterateBatches, nextBaseOffset, writeBaseOffset } from '../protocol/record-batch.ts';
import type { MetadataStore, ObjectStore } from '../storage/ports.ts';
import { entrySk, entryToItem, partitionPk, segmentObjectKeys, type LogEntry } from './layout.ts';
import type { PartitionLog } from './partition-log.ts';
import { SegmentIndexBuilder, encodeSegmentIndex } from './segment-index.ts';
import type { Topic } from './topics.ts';

export interface CompactionOptions {
  /** Target segment size; a segment of at least half this is sealed and never rewritten. */
  readonly segmentBytes: number;
  readonly indexIntervalBytes: number;
  /** Entries younger than this are left alone (a retry of their produce may still be running). */
  readonly minEntryAgeMs: number;
  /** A tail smaller than segmentBytes is compacted once its newest entry is this old… */
  readonly tailQuietMs: number;
  /** …or once it holds this many entries, which bounds the metadata of a busy partition. */
  readonly maxTailEntries: number;
}

/** Named points where tests inject crashes: the step just completed. */
export type CompactionStep = 'segment-written' | 'entry-swapped' | 'entries-deleted';

export interface CompactionDeps {
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  readonly log: PartitionLog;
  readonly now: () => number;
  readonly afterStep?: (step: CompactionStep) => void | Promise<void>;
}

export interface CompactionResult {
  segmentsWritten: number;
  segmentBytes: number;
  entriesCompacted: number;
  leftoversDeleted: number;
  /**
   * Nothing here for a later pass either, unless more is produced: no leftovers, no group merged or
   * tried, and no entry left only because it was young or its tail not yet quiet.
   */
  settled: boolean;
  /** See MaintainedMark.sealedThrough: where the next pass's walk may start. */
  sealedThrough: bigint;
  /** Segment and index objects whose entry this pass replaced or deleted: garbage once unreferenced (maintenance marks them). */
  superseded: string[];
}

export class Compactor {
  readonly #deps: CompactionDeps;
  readonly #options: CompactionOptions;

  constructor(deps: CompactionDeps, options: CompactionOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /**
   * Compacts one partition. `from` (a previous pass's sealedThrough) starts the walk after history
   * that compaction never rewrites; without it the walk starts at the log start.
   */
  async compactPartition(topic: Topic, partition: number, from = 0n): Promise<CompactionResult> {
    const pk = partitionPk(topic.id, partition);
    const head = await this.#deps.log.readHead(pk);
    const start = from > head.logStartOffset ? from : head.logStartOffset;
    const { live, leftovers } = await this.#liveEntries(pk, start, head.highWatermark);
    const { groups, deferred } = this.#plan(live);
    const result: CompactionResult = {
      segmentsWritten: 0,
      segmentBytes: 0,
      entriesCompacted: 0,
      leftoversDeleted: 0,
      settled: leftovers.length === 0 && groups.length === 0 && !deferred,
      sealedThrough: leftovers.length === 0 ? this.#sealedPrefixEnd(start, live) : start,
      superseded: [],
    };
    for (const leftover of leftovers) {
      if (await this.#deleteIfUnchanged(pk, leftover)) {
        result.leftoversDeleted++;
        result.superseded.push(...segmentObjectsOf([leftover]));
      }
    }
    for (const group of groups) {
      const bytes = await this.#compact(topic, partition, pk, group);
      if (bytes === undefined) continue;
      result.segmentsWritten++;
      result.segmentBytes += bytes;
      result.entriesCompacted += group.length;
      result.superseded.push(...segmentObjectsOf(group));
    }
    return result;
  }

  /** Entries below the high watermark, split into the live chain and leftovers inside an earlier entry. */
  async #liveEntries(pk: string, from: bigint, below: bigint): Promise<{ live: LogEntry[]; leftovers: LogEntry[] }> {
    const live: LogEntry[] = [];
    const leftovers: LogEntry[] = [];
    let coveredEnd = -1n;
    let next = from;
    for (let first = true; ; first = false) {
      // From the log start, the first entry may hold it (a start moved into an entry by deleteRecords).
      const page = first ? await this.#deps.log.entriesHolding(pk, next, below) : await this.#deps.log.entriesFrom(pk, next);
      for (const entry of page) {
        if (entry.start >= below) return { live, leftovers };
        if (entry.start < coveredEnd) leftovers.push(entry);
        else {
          live.push(entry);
          coveredEnd = entry.end;
        }
        next = entry.start + 1n;
      }
      if (page.length === 0) return { live, leftovers };
    }
  }

  /**
   * The end of the run of entries compaction will never rewrite that `live` (the chain from `start`)
   * begins with: aborted ranges, sealed segments, and a segment alone between two of those (a small
   * segment closed in by an aborted range: segments never span one, and a lone segment is not merged
   * again), so that one dead writer's range does not hold the sealed end back for good.
   */
  #sealedPrefixEnd(start: bigint, live: readonly LogEntry[]): bigint {
    let end = live[0] !== undefined && live[0].start < start ? live[0].start : start;
    for (const [i, entry] of live.entries()) {
      if (entry.start !== end) break;
      const next = live[i + 1];
      const closedIn = entry.indexKey !== undefined && next?.start === entry.end && (next.aborted || this.#sealed(next));
      if (!(entry.aborted || this.#sealed(entry) || closedIn)) break;
      end = entry.end;
    }
    return end;
  }

  /** A segment of at least half the target: never rewritten. */
  #sealed(entry: LogEntry): boolean {
    return entry.indexKey !== undefined && entry.length >= this.#options.segmentBytes / 2;
  }

  /**
   * Groups of contiguous entries worth merging, each about segmentBytes; `deferred` when some entries
   * were left for a later pass (too young, or a tail not yet quiet or long enough).
   */
  #plan(entries: readonly LogEntry[]): { groups: LogEntry[][]; deferred: boolean } {
    const { segmentBytes, minEntryAgeMs, tailQuietMs, maxTailEntries } = this.#options;
    const now = this.#deps.now();
    const sealed = (e: LogEntry) => this.#sealed(e);
    const groups: LogEntry[][] = [];
    let deferred = false;
    let run: LogEntry[] = [];
    const closeRun = (atTail: boolean) => {
      let group: LogEntry[] = [];
      let bytes = 0;
      for (const entry of run) {
        group.push(entry);
        bytes += entry.length;
        if (bytes >= segmentBytes) {
          if (worthMerging(group)) groups.push(group);
          group = [];
          bytes = 0;
        }
      }
      const newest = group[group.length - 1];
      const settled = !atTail || now - newest?.reservedAt >= tailQuietMs || group.length >= maxTailEntries;
      if (group.length > 0 && worthMerging(group)) {
        if (settled) groups.push(group);
        else deferred = true;
      }
      run = [];
    };
    for (const entry of entries) {
      const young = now - entry.reservedAt < minEntryAgeMs;
      if (young) {
        closeRun(true);
        return { groups, deferred: true };
      }
      if (entry.aborted || sealed(entry) || (run.length > 0 && run[run.length - 1].end !== entry.start)) closeRun(false);
      if (!entry.aborted && !sealed(entry)) run.push(entry);
    }
    closeRun(true);
    return { groups, deferred };
  }

  /** Builds, writes and swaps in one segment. Returns its size, or undefined when another pass won. */
  async #compact(topic: Topic, partition: number, pk: string, group: LogEntry[]): Promise<number | undefined> {
    const { objects, metadata } = this.#deps;
    // Inline entries bring their batches along; ingest ranges and segments are read from their objects.
    const ranges = await Promise.all(group.map((e) => e.inlineBatches ?? objects.get(e.objectKey, { start: e.position, end: e.position + e.length - 1 })));
    const total = ranges.reduce((n, r) => n + r.length, 0);
    const segment = new Uint8Array(total);
    const index = new SegmentIndexBuilder(group[0].start, this.#options.indexIntervalBytes);
    let position = 0;
    group.forEach((entry, i) => {
      let base = entry.start;
      for (const { position: at, header } of iterateBatches(ranges[i], { verify: true })) {
        segment.set(ranges[i].subarray(at, at + header.totalSize), position);
        writeBaseOffset(segment, position, base);
        index.addBatch(base, position, header.maxTimestamp);
        base = nextBaseOffset(base, header);
        position += header.totalSize;
      }
      if (base !== entry.end) throw new Error(`entry ${entry.start}-${entry.end} holds ${base - entry.start} offsets`);
    });

    const first = group[0];
    const last = group[group.length - 1];
    const keys = segmentObjectKeys(topic.id, partition, first.start, this.#deps.now());
    await objects.put(keys.segment, segment);
    await objects.put(keys.index, encodeSegmentIndex(index.build(total)));
    await this.#deps.afterStep?.('segment-written');

    const merged: LogEntry = {
      start: first.start,
      end: last.end,
      aborted: false,
      objectKey: keys.segment,
      position: 0,
      length: total,
      indexKey: keys.index,
      maxTimestamp: Math.max(...group.map((e) => e.maxTimestamp)),
      reservedAt: Math.max(...group.map((e) => e.reservedAt)),
      previousReservedAt: first.previousReservedAt,
    };
    try {
      await metadata.put(entryToItem(pk, merged), unchanged(first));
    } catch (error) {
      if (error instanceof ConditionFailedError) return undefined; // a concurrent pass swapped first; our objects are orphans
      throw error;
    }
    await this.#deps.afterStep?.('entry-swapped');
    for (const entry of group.slice(1)) await this.#deleteIfUnchanged(pk, entry);
    await this.#deps.afterStep?.('entries-deleted');
    return total;
  }

  async #deleteIfUnchanged(pk: string, entry: LogEntry): Promise<boolean> {
    try {
      await this.#deps.metadata.delete(pk, entrySk(entry.start), unchanged(entry));
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }
}

/** The segment and index objects of the segment entries among `entries` (ingest objects are found by listing). */
export function segmentObjectsOf(entries: readonly LogEntry[]): string[] {
  return entries.flatMap((entry) => (entry.indexKey ? [entry.objectKey, entry.indexKey] : []));
}

function worthMerging(group: readonly LogEntry[]): boolean {
  return group.length >= 2 || (group.length === 1 && group[0].indexKey === undefined);
}

function unchanged(entry: LogEntry) {
  return {
    where: [
      { attr: 'objectKey', op: '=', value: entry.objectKey },
      { attr: 'end', op: '=', value: entry.end },
    ],
  } as const;
}
