/**
 * The sparse index of a segment object, stored as its own immutable object next to the segment
 * (Kafka's .index and .timeindex in one). One entry at the first batch and then at the first batch
 * that starts at least `intervalBytes` after the previous entry, so reading from any offset wastes
 * less than one interval.
 *
 *   index       = magic version intervalBytes baseOffset segmentBytes count *entry
 *   magic       = "SLIX"                    4 bytes
 *   version     = int8  (1)
 *   intervalBytes = int32 big-endian
 *   baseOffset  = int64 big-endian          offset of the segment's first record
 *   segmentBytes = int32 big-endian         size of the segment object
 *   count       = int32 big-endian          number of entries
 *   entry       = relativeOffset position maxTimestamp
 *   relativeOffset = int32 big-endian       first offset of the batch at `position`, minus baseOffset
 *   position    = int32 big-endian          byte position of a batch start in the segment
 *   maxTimestamp = int64 big-endian         max record timestamp from the segment start through the
 *                                           last batch before the next entry (non-decreasing)
 */
import { SluiceError } from '../errors.ts';

const MAGIC = 0x534c4958; // "SLIX"
const VERSION = 1;
const HEADER_BYTES = 4 + 1 + 4 + 8 + 4 + 4;
const ENTRY_BYTES = 4 + 4 + 8;

export interface IndexEntry {
  readonly relativeOffset: number;
  readonly position: number;
  readonly maxTimestamp: number;
}

export interface SegmentIndex {
  readonly intervalBytes: number;
  readonly baseOffset: bigint;
  readonly segmentBytes: number;
  readonly entries: readonly IndexEntry[];
}

/** Builds the index while batches are appended to a segment, in order. */
export class SegmentIndexBuilder {
  readonly #intervalBytes: number;
  readonly #baseOffset: bigint;
  readonly #entries: IndexEntry[] = [];
  #maxTimestamp = Number.MIN_SAFE_INTEGER;

  constructor(baseOffset: bigint, intervalBytes: number) {
    this.#baseOffset = baseOffset;
    this.#intervalBytes = intervalBytes;
  }

  /** Call for each batch in segment order. */
  addBatch(baseOffset: bigint, position: number, maxTimestamp: number): void {
    const last = this.#entries[this.#entries.length - 1];
    this.#maxTimestamp = Math.max(this.#maxTimestamp, maxTimestamp);
    if (!last || position - last.position >= this.#intervalBytes) {
      this.#entries.push({ relativeOffset: Number(baseOffset - this.#baseOffset), position, maxTimestamp: this.#maxTimestamp });
    } else {
      this.#entries[this.#entries.length - 1] = { ...last, maxTimestamp: this.#maxTimestamp };
    }
  }

  build(segmentBytes: number): SegmentIndex {
    return { intervalBytes: this.#intervalBytes, baseOffset: this.#baseOffset, segmentBytes, entries: this.#entries };
  }
}

export function encodeSegmentIndex(index: SegmentIndex): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + index.entries.length * ENTRY_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setInt8(4, VERSION);
  view.setInt32(5, index.intervalBytes);
  view.setBigInt64(9, index.baseOffset);
  view.setInt32(17, index.segmentBytes);
  view.setInt32(21, index.entries.length);
  let position = HEADER_BYTES;
  for (const entry of index.entries) {
    view.setInt32(position, entry.relativeOffset);
    view.setInt32(position + 4, entry.position);
    view.setBigInt64(position + 8, BigInt(entry.maxTimestamp));
    position += ENTRY_BYTES;
  }
  return out;
}

export function decodeSegmentIndex(bytes: Uint8Array): SegmentIndex {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_BYTES || view.getUint32(0) !== MAGIC || view.getInt8(4) !== VERSION) {
    throw new SluiceError('INTERNAL', 'not a Sluice segment index (bad magic or version)');
  }
  const count = view.getInt32(21);
  if (bytes.length !== HEADER_BYTES + count * ENTRY_BYTES) throw new SluiceError('INTERNAL', 'truncated segment index');
  const entries: IndexEntry[] = [];
  for (let i = 0, position = HEADER_BYTES; i < count; i++, position += ENTRY_BYTES) {
    entries.push({
      relativeOffset: view.getInt32(position),
      position: view.getInt32(position + 4),
      maxTimestamp: Number(view.getBigInt64(position + 8)),
    });
  }
  return { intervalBytes: view.getInt32(5), baseOffset: view.getBigInt64(9), segmentBytes: view.getInt32(17), entries };
}

/** Index of the last entry at or before `offset` (entries are in offset order). */
export function entryForOffset(index: SegmentIndex, offset: bigint): number {
  const relative = Number(offset - index.baseOffset);
  let low = 0;
  let high = index.entries.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (index.entries[mid].relativeOffset <= relative) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Index of the first entry whose span holds a record at or after `timestamp`, or -1. */
export function entryForTimestamp(index: SegmentIndex, timestamp: number): number {
  let low = 0;
  let high = index.entries.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (index.entries[mid].maxTimestamp >= timestamp) high = mid;
    else low = mid + 1;
  }
  return low < index.entries.length ? low : -1;
}

/** The bytes [start, end) that entry i spans in the segment. */
export function entrySpan(index: SegmentIndex, i: number): { start: number; end: number } {
  return { start: index.entries[i].position, end: i + 1 < index.entries.length ? index.entries[i + 1].position : index.segmentBytes };
}
