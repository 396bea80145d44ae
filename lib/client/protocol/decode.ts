/**
 * Turning fetched bytes back into records, for both read paths:
 *
 * - a location range (straight from the object store): batches as stored, base offset 0; the first
 *   starts at the location's baseOffset and each next one at previous + lastOffsetDelta + 1. The real
 *   offset is stamped into the copy we downloaded (base offset is outside the CRC, so checks still
 *   hold), and the batches must add up to exactly the location's offset range.
 * - the fetch route with Accept: application/vnd.kafka.record-batches: real base offsets already.
 *
 * Either can start before the offset asked for: whole batches below it are skipped without being
 * decompressed, records below it in the first batch are dropped. Control batches (transaction
 * markers) carry no user records and are skipped, as Kafka consumers do.
 */
import type { Compressor } from '../../protocol/codecs.ts';
import {
  BATCH_HEADER_SIZE,
  CorruptBatchError,
  decodeRecordsSection,
  lastOffsetOf,
  plainBytes,
  readBatchHeader,
  verifyBatch,
  writeBaseOffset,
  type BatchHeader,
  type DecodedRecord,
} from '../../protocol/record-batch-core.ts';
import { SluiceClientError } from '../errors.ts';
import { LIMITS } from '../../defaults.ts';

export interface DecodedBatch {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly header: BatchHeader;
  /** Records at or after the requested offset, in offset order. */
  readonly records: DecodedRecord[];
}

export interface DecodeOptions {
  readonly compressor: Compressor;
  /** Drop records below this offset. */
  readonly fromOffset: bigint;
  /** Check each batch's CRC-32C (Kafka's check.crcs). */
  readonly verify: boolean;
  /** Location ranges: the first batch's real base offset; the batches are stamped in place. */
  readonly stampFrom?: bigint;
  /** Location ranges: the last offset the batches must reach exactly. */
  readonly expectLastOffset?: bigint;
}

function corrupt(message: string, cause?: unknown): SluiceClientError {
  return new SluiceClientError('CORRUPT_DATA', message, { cause });
}

export async function decodeFetched(bytes: Uint8Array, options: DecodeOptions): Promise<DecodedBatch[]> {
  const data = plainBytes(bytes);
  const out: DecodedBatch[] = [];
  let position = 0;
  let next = options.stampFrom;
  try {
    while (position < data.length) {
      let header = options.verify ? verifyBatch(data, position) : readBatchHeader(data, position);
      const end = position + header.totalSize;
      if (end > data.length) throw new CorruptBatchError(`truncated record batch at position ${position}`);
      if (next !== undefined) {
        writeBaseOffset(data, position, next);
        header = { ...header, baseOffset: next };
      }
      const baseOffset = header.baseOffset;
      const lastOffset = lastOffsetOf(baseOffset, header);
      if (next !== undefined) next = lastOffset + 1n;
      if (lastOffset >= options.fromOffset && !header.isControl && header.recordCount > 0) {
        let records: DecodedRecord[];
        if (header.codec === 'none') {
          records = decodeRecordsSection(data, position + BATCH_HEADER_SIZE, end, header);
        } else {
          // Bounded: no batch the server accepts inflates past the limit, so a bigger one is corrupt or hostile.
          const compressed = data.subarray(position + BATCH_HEADER_SIZE, end);
          const section = plainBytes(await options.compressor.decompress(header.codec, compressed, { maxOutputLength: LIMITS.maxDecompressedBytes }));
          records = decodeRecordsSection(section, 0, section.length, header);
        }
        if (baseOffset < options.fromOffset) {
          let skip = 0;
          while (skip < records.length && records[skip].offset < options.fromOffset) skip++;
          records = records.slice(skip);
        }
        if (records.length > 0) out.push({ baseOffset, lastOffset, header, records });
      }
      position = end;
    }
  } catch (error) {
    if (error instanceof CorruptBatchError) throw corrupt(`corrupt record batch: ${error.message}`, error);
    throw error;
  }
  if (options.expectLastOffset !== undefined && next !== undefined && next !== options.expectLastOffset + 1n) {
    throw corrupt(`the range holds offsets ${options.stampFrom}..${next - 1n}, the location says ..${options.expectLastOffset}`);
  }
  return out;
}
