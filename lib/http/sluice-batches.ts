/**
 * `application/vnd.sluice.batches`: the binary produce body the SDK sends. The server validates every
 * batch as a Kafka broker does (lib/protocol/ingest-validation.ts: CRC, bounded decompression, every
 * record decoded, counts, lengths, offset and timestamp deltas) and stores the bytes unchanged.
 *
 *   body      = 1*section
 *   section   = partition length batches
 *   partition = int32 big-endian          target partition
 *   length    = int32 big-endian          byte length of `batches`
 *   batches   = 1*RecordBatch             Kafka RecordBatch v2 (magic 2), back to back; baseOffset is
 *                                          ignored (the server assigns offsets), lastOffsetDelta must be
 *                                          recordCount - 1, codec none, gzip or zstd, not transactional
 *                                          or control
 *
 * A partition appears at most once (the SDK's encoder: frameSections in lib/client/protocol/produce-request.ts).
 * The response is JSON:
 *   {"partitions": [{"partition": 0, "baseOffset": "17", "recordCount": 3}, ...]}
 */
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { CorruptBatchError } from '../protocol/record-batch.ts';
import { IngestLimitError, ingestBudget, validateIngestBatches, type IngestLimits } from '../protocol/ingest-validation.ts';
import type { PartitionAppend } from '../log/produce.ts';

/** What a produced batch is checked against (lib/protocol/ingest-validation.ts). */
export const INGEST_LIMITS: IngestLimits = {
  maxDecompressedBytes: LIMITS.maxDecompressedBytes,
  maxRecords: LIMITS.maxRecordsPerRequest,
  maxRecordBytes: LIMITS.maxRecordBytes,
  maxHeadersPerRecord: LIMITS.maxHeadersPerRecord,
  maxTimestamp: LIMITS.maxTimestampMs,
};

export function parseSluiceBatches(body: Uint8Array): PartitionAppend[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const appends: PartitionAppend[] = [];
  const budget = ingestBudget(INGEST_LIMITS);
  let position = 0;
  while (position < body.length) {
    if (position + 8 > body.length) throw invalid(`truncated section header at byte ${position}`);
    const partition = view.getInt32(position);
    const length = view.getInt32(position + 4);
    position += 8;
    if (length <= 0 || position + length > body.length) throw invalid(`section for partition ${partition} has a bad length ${length}`);
    const data = body.subarray(position, position + length);
    position += length;
    const { recordCount, maxTimestamp } = validated(partition, data, budget);
    appends.push({ partition, data, recordCount, maxTimestamp });
  }
  if (appends.length === 0) throw invalid('empty body');
  return appends;
}

/** Every record of the section decodes and fits the limits, or the request is refused before anything is written. */
function validated(partition: number, data: Uint8Array, budget: ReturnType<typeof ingestBudget>) {
  try {
    return validateIngestBatches(data, INGEST_LIMITS, budget);
  } catch (error) {
    if (error instanceof CorruptBatchError) {
      throw new SluiceError('CORRUPT_BATCH', `partition ${partition}: ${error.message}`, { cause: error, details: { partition } });
    }
    if (error instanceof IngestLimitError) {
      const code = error.limit === 'headers' ? 'INVALID_REQUEST' : 'PAYLOAD_TOO_LARGE';
      throw new SluiceError(code, `partition ${partition}: ${error.message}`, { cause: error, details: { partition, limit: error.max } });
    }
    throw error;
  }
}

function invalid(message: string, cause?: unknown): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, { cause });
}
