/**
 * Decoding stored batches on the server's read paths (JSON fetch, offsets by time). Decompression is
 * bounded by LIMITS.maxDecompressedBytes, which no batch accepted by ingest validation exceeds; a
 * stored batch that does not decode (stored before validation existed, or damaged) is answered with
 * CORRUPT_DATA naming its offsets, never INTERNAL, so clients do not retry it for ever and can skip it.
 */
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { CorruptBatchError, decodeRecordBatch, writeBaseOffset, type DecodedRecord } from '../protocol/record-batch.ts';
import { UnsupportedCodecError } from '../protocol/errors.ts';
import type { LogEntry } from './layout.ts';
import type { StoredBatch } from './read.ts';

/** The records of a stored batch (offsets as stored), decompressed within the limit. */
export function decodeStoredBatch(batch: StoredBatch): { records: DecodedRecord[]; decodedBytes: number } {
  try {
    if (batch.header.recordCount > LIMITS.maxRecordsPerRequest) {
      throw new CorruptBatchError(`it claims ${batch.header.recordCount} records, more than ${LIMITS.maxRecordsPerRequest}`);
    }
    const { records } = decodeRecordBatch(batch.bytes, 0, { maxDecompressedBytes: LIMITS.maxDecompressedBytes });
    let decodedBytes = 0;
    for (const record of records) {
      decodedBytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
      for (const header of record.headers) decodedBytes += header.key.length + (header.value?.length ?? 0);
    }
    return { records, decodedBytes };
  } catch (error) {
    throw storedCorruption(error, batch.baseOffset, batch.lastOffset + 1n);
  }
}

/**
 * Stored batches as Kafka's wire form has them: back to back, each with its real base offset stamped
 * in (ingest objects hold base offset 0: the offsets are assigned after the bytes are written). The
 * base offset is outside the CRC, so the bytes are otherwise the producer's.
 */
export function kafkaBatchesBody(batches: readonly StoredBatch[]): Uint8Array {
  const body = new Uint8Array(batches.reduce((n, b) => n + b.bytes.length, 0));
  let position = 0;
  for (const batch of batches) {
    body.set(batch.bytes, position);
    writeBaseOffset(body, position, batch.baseOffset);
    position += batch.bytes.length;
  }
  return body;
}

/** CORRUPT_DATA for undecodable stored bytes of offsets [offset, nextOffset); any other error as it is. */
export function storedCorruption(error: unknown, offset: bigint, nextOffset: bigint): unknown {
  if (!(error instanceof CorruptBatchError || error instanceof UnsupportedCodecError)) return error;
  return new SluiceError(
    'CORRUPT_DATA',
    `the stored batch at offset ${offset} cannot be decoded (${error.message}); read it as raw batches (Accept: application/vnd.kafka.record-batches) or continue at offset ${nextOffset}`,
    { cause: error, details: { offset: offset.toString(), nextOffset: nextOffset.toString() } },
  );
}

/** storedCorruption for a whole log entry. */
export function entryCorruption(error: unknown, entry: LogEntry): unknown {
  return storedCorruption(error, entry.start, entry.end);
}
