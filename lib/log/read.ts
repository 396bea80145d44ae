/**
 * Reading a partition: which entries hold an offset, their bytes, and the batches in them with their
 * real offsets. Readers see only offsets below the high watermark (invariant 2). Reading offset X
 * costs one head read, one or two entry queries, and per entry either nothing more (batches inline in
 * the entry), one ranged GET of an ingest range or, for a compacted segment, one index GET (cached:
 * index objects never change) and one ranged GET of at most maxBytes plus one index interval
 * (invariant 6).
 */
import { SluiceError } from '../errors.ts';
import { readBatchHeader, BATCH_HEADER_SIZE, CorruptBatchError, iterateBatches, lastOffsetOf, nextBaseOffset, type BatchHeader } from '../protocol/record-batch.ts';
import type { ObjectStore } from '../storage/ports.ts';
import type { LogEntry, PartitionHead } from './layout.ts';
import type { PartitionLog } from './partition-log.ts';
import type { RangeCache } from './range-cache.ts';
import { decodeStoredBatch, entryCorruption } from './stored-batches.ts';
import { decodeSegmentIndex, entryForOffset, entryForTimestamp, entrySpan, type SegmentIndex } from './segment-index.ts';

/** One stored batch with its real offsets. `bytes` still carries the base offset it was stored with. */
export interface StoredBatch {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly header: BatchHeader;
  readonly bytes: Uint8Array;
}

export interface ReadPlan {
  readonly head: PartitionHead;
  /** Non-aborted entries to read, in offset order, all below the high watermark. */
  readonly entries: readonly LogEntry[];
  /** Where the next read continues when every planned entry is consumed. */
  readonly endOffset: bigint;
}

export function outOfRange(offset: bigint, head: PartitionHead): SluiceError {
  return new SluiceError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside the log [${head.logStartOffset}, ${head.highWatermark}]`, {
    details: { startOffset: head.logStartOffset.toString(), endOffset: head.highWatermark.toString() },
  });
}

/** Parsed segment indexes, by key. Index objects are immutable, so entries never go stale. */
export class SegmentIndexCache {
  readonly #objects: ObjectStore;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Promise<SegmentIndex>>();

  constructor(objects: ObjectStore, maxEntries = 2048) {
    this.#objects = objects;
    this.#maxEntries = maxEntries;
  }

  get(key: string): Promise<SegmentIndex> {
    let index = this.#entries.get(key);
    if (index) {
      this.#entries.delete(key);
    } else {
      index = this.#objects.get(key).then(decodeSegmentIndex);
      index.catch(() => this.#entries.delete(key));
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, index);
    return index;
  }
}

/**
 * Entries covering [offset, …) up to about maxBytes of stored data (at least one entry), stopping at
 * the high watermark. Aborted entries are stepped over.
 */
export async function planRead(log: PartitionLog, pk: string, head: PartitionHead, offset: bigint, maxBytes: number, walked: readonly LogEntry[] = []): Promise<ReadPlan> {
  const entries: LogEntry[] = [];
  let next = offset;
  let bytes = 0;
  // A consumer usually continues exactly where an entry starts, so one forward query is enough, and
  // none when the head's walk (`walked`, the entries after the stored watermark that this request
  // read already) begins there: a consumer following the tail; a read from the middle of an entry
  // needs the reverse lookup first.
  const at = walked.findIndex((entry) => entry.start === offset);
  let page = at >= 0 ? walked.slice(at) : await log.entriesFrom(pk, offset);
  if (page[0]?.start !== offset) {
    const covering = await log.entryAt(pk, offset);
    if (covering) page = [covering, ...page];
  }
  while (next < head.highWatermark) {
    for (const entry of page) {
      // Entries inside an earlier one are leftovers of an interrupted compaction: the earlier covers them.
      if (entry.end <= next) continue;
      if (entry.start > next || entry.start >= head.highWatermark) return { head, entries, endOffset: next };
      if (!entry.aborted) {
        if (entries.length > 0 && bytes + entry.length > maxBytes) return { head, entries, endOffset: next };
        entries.push(entry);
        bytes += entry.length;
      }
      next = entry.end;
      if (next >= head.highWatermark || bytes >= maxBytes) return { head, entries, endOffset: next };
    }
    if (page.length === 0) break;
    page = await log.entriesFrom(pk, next);
    if (page.length === 0) break;
  }
  return { head, entries, endOffset: next };
}

export interface ReadSources {
  readonly cache: RangeCache;
  readonly indexes: SegmentIndexCache;
}

/**
 * The batches of the planned entries that hold offsets at or after `offset`, whole, within maxBytes
 * (the first batch is returned even when larger, so a reader always makes progress).
 */
export async function readBatches(sources: ReadSources, plan: ReadPlan, offset: bigint, maxBytes: number): Promise<{ batches: StoredBatch[]; nextOffset: bigint }> {
  const batches: StoredBatch[] = [];
  let bytes = 0;
  // All entries are read at once and consumed in order; a failure of a later read must not go
  // unhandled when an earlier one has already failed the fetch.
  const reads = plan.entries.map((entry) =>
    (entry.indexKey ? readSegment(sources, entry, offset, maxBytes) : readIngestRange(sources.cache, entry)).catch((error: unknown) => {
      throw entryCorruption(error, entry);
    }),
  );
  for (const read of reads) read.catch(() => {});
  for (const read of reads) {
    const entryBatches = await read;
    for (const batch of entryBatches.batches) {
      if (batch.lastOffset < offset) continue;
      if (batches.length > 0 && bytes + batch.bytes.length > maxBytes) return { batches, nextOffset: batches[batches.length - 1].lastOffset + 1n };
      batches.push(batch);
      bytes += batch.bytes.length;
    }
    if (!entryBatches.complete && batches.length > 0) return { batches, nextOffset: batches[batches.length - 1].lastOffset + 1n };
  }
  const last = batches.length > 0 ? batches[batches.length - 1].lastOffset + 1n : offset;
  // Every planned entry was consumed whole: continue after them (and after any aborted ranges).
  return { batches, nextOffset: plan.endOffset > last ? plan.endOffset : last };
}

/**
 * An ingest range, or batches inline in the entry (no GET): batches stored with base offset 0,
 * numbered from the entry's start.
 */
async function readIngestRange(cache: RangeCache, entry: LogEntry): Promise<{ batches: StoredBatch[]; complete: boolean }> {
  const bytes = entry.inlineBatches ?? (await cache.get(entry.objectKey, { start: entry.position, end: entry.position + entry.length - 1 }));
  const batches: StoredBatch[] = [];
  let base = entry.start;
  for (const { position, header } of iterateBatches(bytes)) {
    batches.push({ baseOffset: base, lastOffset: lastOffsetOf(base, header), header, bytes: bytes.subarray(position, position + header.totalSize) });
    base = nextBaseOffset(base, header);
  }
  if (base !== entry.end) throw new CorruptBatchError(`log entry ${entry.start}-${entry.end} holds ${base - entry.start} offsets`);
  return { batches, complete: true };
}

/**
 * A segment, through its index: from the index entry at or before `offset`, at most one index
 * interval plus maxBytes. Batches carry their real base offsets.
 */
async function readSegment(sources: ReadSources, entry: LogEntry, offset: bigint, maxBytes: number): Promise<{ batches: StoredBatch[]; complete: boolean }> {
  const index = await sources.indexes.get(entry.indexKey!);
  const from = offset > entry.start ? entryForOffset(index, offset) : 0;
  const start = entrySpan(index, from).start;
  const end = Math.min(index.segmentBytes, start + index.intervalBytes + maxBytes);
  const read = (first: number, last: number) => sources.cache.get(entry.objectKey, { start: entry.position + first, end: entry.position + last - 1 });
  const batches = wholeBatches(await read(start, end));
  let consumed = start + batches.reduce((n, b) => n + b.bytes.length, 0);
  // Rare: the batch holding `offset` was cut off by the read (it is larger than the read, or starts
  // near its end). Read it whole: its header first, then exactly its bytes.
  while (consumed < index.segmentBytes && !batches.some((b) => b.lastOffset >= offset)) {
    const size = readBatchHeader(await read(consumed, Math.min(consumed + BATCH_HEADER_SIZE, index.segmentBytes))).totalSize;
    batches.push(...wholeBatches(await read(consumed, consumed + size)));
    consumed += size;
  }
  return { batches, complete: consumed >= index.segmentBytes };
}

/** The complete batches at the front of `bytes` (a ranged read may end inside a batch). */
function wholeBatches(bytes: Uint8Array): StoredBatch[] {
  const batches: StoredBatch[] = [];
  let position = 0;
  while (position + BATCH_HEADER_SIZE <= bytes.length) {
    const header = readBatchHeader(bytes, position);
    if (position + header.totalSize > bytes.length) break;
    batches.push({ baseOffset: header.baseOffset, lastOffset: lastOffsetOf(header.baseOffset, header), header, bytes: bytes.subarray(position, position + header.totalSize) });
    position += header.totalSize;
  }
  return batches;
}

/**
 * The first offset in `entry` with a timestamp at or after `timestamp` (and at or after `minOffset`).
 * A segment is searched through its index: one span read.
 */
export async function offsetForTimestampIn(sources: ReadSources, entry: LogEntry, timestamp: number, minOffset: bigint): Promise<bigint | undefined> {
  try {
    return await offsetForTimestampInEntry(sources, entry, timestamp, minOffset);
  } catch (error) {
    throw entryCorruption(error, entry);
  }
}

async function offsetForTimestampInEntry(sources: ReadSources, entry: LogEntry, timestamp: number, minOffset: bigint): Promise<bigint | undefined> {
  if (!entry.indexKey) return firstAtOrAfter((await readIngestRange(sources.cache, entry)).batches, timestamp, minOffset);
  const index = await sources.indexes.get(entry.indexKey);
  const byTime = entryForTimestamp(index, timestamp);
  if (byTime < 0) return undefined;
  const spans = async (from: number, to: number) => {
    const start = entrySpan(index, from).start;
    const end = entrySpan(index, to - 1).end;
    return wholeBatches(await sources.cache.get(entry.objectKey, { start: entry.position + start, end: entry.position + end - 1 }));
  };
  // A log start inside the segment (deleteRecords) can lie past the span the time points to. A span
  // after the one holding it is wholly at or past it, and holds a record new enough (the index's
  // maximum grows within it): one GET. Otherwise the search starts in the span holding the log start,
  // and when nothing from there is new enough, goes on through the rest of the segment in one GET.
  const holding = minOffset > index.baseOffset ? entryForOffset(index, minOffset) : 0;
  if (byTime > holding) return firstAtOrAfter(await spans(byTime, byTime + 1), timestamp, minOffset);
  const found = firstAtOrAfter(await spans(holding, holding + 1), timestamp, minOffset);
  if (found !== undefined || holding + 1 >= index.entries.length) return found;
  return firstAtOrAfter(await spans(holding + 1, index.entries.length), timestamp, minOffset);
}

/** The offset of the first record at or after `minOffset` stamped at or after `timestamp`. */
function firstAtOrAfter(batches: readonly StoredBatch[], timestamp: number, minOffset: bigint): bigint | undefined {
  for (const batch of batches) {
    if (batch.header.maxTimestamp < timestamp || batch.lastOffset < minOffset) continue;
    for (const record of decodeStoredBatch(batch).records) {
      const offset = batch.baseOffset + (record.offset - batch.header.baseOffset);
      if (record.timestamp >= timestamp && offset >= minOffset) return offset;
    }
  }
  return undefined;
}

/**
 * The byte range of `entry` a direct reader should GET for offsets from `offset`, ending on a batch
 * boundary: a whole ingest range, or for a segment the index spans from the one holding `offset`
 * until about maxBytes. Offsets are contiguous within it from `baseOffset`.
 */
export async function locateInEntry(sources: ReadSources, entry: LogEntry, offset: bigint, maxBytes: number): Promise<{ start: number; end: number; baseOffset: bigint; lastOffset: bigint }> {
  if (!entry.indexKey) return { start: entry.position, end: entry.position + entry.length - 1, baseOffset: entry.start, lastOffset: entry.end - 1n };
  const index = await sources.indexes.get(entry.indexKey);
  const first = offset > entry.start ? entryForOffset(index, offset) : 0;
  const start = index.entries[first].position;
  let last = first;
  while (last + 1 < index.entries.length && index.entries[last + 1].position - start < maxBytes) last++;
  const end = entrySpan(index, last).end;
  const lastOffset = last + 1 < index.entries.length ? index.baseOffset + BigInt(index.entries[last + 1].relativeOffset) - 1n : entry.end - 1n;
  return { start: entry.position + start, end: entry.position + end - 1, baseOffset: index.baseOffset + BigInt(index.entries[first].relativeOffset), lastOffset };
}
