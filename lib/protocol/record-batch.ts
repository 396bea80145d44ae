/**
 * Kafka RecordBatch v2 (magic 2) with node:zlib compression: everything in record-batch-core.ts (the
 * format, runtime-neutral) plus encodeRecordBatch / decodeRecordBatch bound to compression.ts. The
 * server and the Node tools import this module; the client SDK imports the core and a Compressor.
 */
import { compress, decompress } from './compression.ts';
import { decodeRecordBatchWith, encodeRecordBatchWith } from './record-batch-core.ts';
import type { BatchHeader, BatchOptions, DecodedRecord, DecodeOptions, ProducerRecord } from './record-batch-core.ts';

export * from './record-batch-core.ts';

/**
 * Encodes records as one batch: offset deltas 0..n-1, baseTimestamp = first record's timestamp,
 * compressed synchronously with options.codec (default 'none'). Throws RangeError for no records.
 */
export function encodeRecordBatch(records: readonly ProducerRecord[], options?: BatchOptions): Uint8Array<ArrayBuffer> {
  return encodeRecordBatchWith(compress, records, options);
}

/**
 * Decodes the batch at position: decompresses the records section, offsets = baseOffset + offsetDelta,
 * timestamps = baseTimestamp + timestampDelta (maxTimestamp for logAppend batches). Keys, values and
 * header values are views into buf (or into the decompressed section), not copies; they are plain
 * Uint8Arrays even when buf is a Buffer. Does not check the CRC unless options.verify is set, but
 * always checks the structure (lengths, counts, no trailing bytes) and throws CorruptBatchError.
 */
export function decodeRecordBatch(
  buf: Uint8Array,
  position = 0,
  options?: DecodeOptions,
): { header: BatchHeader; records: DecodedRecord[] } {
  return decodeRecordBatchWith(decompress, buf, position, options);
}
