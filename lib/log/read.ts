/**
 * Reading a partition: which entries hold an offset, their bytes, and the batches in them with their
 * real offsets. Readers see only offsets below the high watermark (invariant 2), and reading offset X
 * costs one head read, one or two entry queries and one ranged GET per entry read (invariant 6 holds
 * per entry; compaction bounds the entry count).
 */
import { SluiceError } from '../errors.ts';
import { iterateBatches, type BatchHeader } from '../protocol/record-batch.ts';
import type { LogEntry, PartitionHead } from './layout.ts';
import type { PartitionLog } from './partition-log.ts';
import type { RangeCache } from './range-cache.ts';

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

/**
 * Entries covering [offset, …) up to about maxBytes of stored data (at least one entry), stopping at
 * the high watermark. Aborted entries are stepped over.
 */
export async function planRead(log: PartitionLog, pk: string, head: PartitionHead, offset: bigint, maxBytes: number): Promise<ReadPlan> {
  const entries: LogEntry[] = [];
  let next = offset;
  let bytes = 0;
  // A consumer usually continues exactly where an entry starts, so one forward query is enough;
  // a read from the middle of an entry needs the reverse lookup first.
  let page = await log.entriesFrom(pk, offset);
  if (page[0]?.start !== offset) {
    const covering = await log.entryAt(pk, offset);
    if (covering) page = [covering, ...page];
  }
  while (next < head.highWatermark) {
    for (const entry of page) {
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

/**
 * The batches of the planned entries that hold offsets at or after `offset`, whole, within maxBytes
 * (the first batch is returned even when larger, so a reader always makes progress).
 */
export async function readBatches(cache: RangeCache, plan: ReadPlan, offset: bigint, maxBytes: number): Promise<{ batches: StoredBatch[]; nextOffset: bigint }> {
  const ranges = await Promise.all(
    plan.entries.map((entry) => cache.get(entry.objectKey, { start: entry.position, end: entry.position + entry.length - 1 })),
  );
  const batches: StoredBatch[] = [];
  let bytes = 0;
  let nextOffset = offset;
  for (let i = 0; i < plan.entries.length; i++) {
    const entry = plan.entries[i];
    let base = entry.start;
    for (const { position, header } of iterateBatches(ranges[i])) {
      const count = BigInt(header.lastOffsetDelta) + 1n;
      const lastOffset = base + count - 1n;
      if (lastOffset >= offset) {
        if (batches.length > 0 && bytes + header.totalSize > maxBytes) return { batches, nextOffset };
        batches.push({ baseOffset: base, lastOffset, header, bytes: ranges[i].subarray(position, position + header.totalSize) });
        bytes += header.totalSize;
        nextOffset = lastOffset + 1n;
      }
      base += count;
    }
    if (base !== entry.end) {
      throw new SluiceError('INTERNAL', `log entry ${entry.start}-${entry.end} holds ${base - entry.start} offsets`);
    }
  }
  // Every planned entry was consumed whole: continue after them (and after any aborted ranges).
  return { batches, nextOffset: plan.endOffset > nextOffset ? plan.endOffset : nextOffset };
}
