/**
 * The server's side of `application/vnd.sluice.batches` (the framing and its codec are in
 * lib/api/sluice-batches.ts): every batch of every section is validated as a Kafka broker does
 * (lib/protocol/ingest-validation.ts: header, CRC-32C, codec, bounded decompression, every record
 * decoded, counts, lengths, offset and timestamp deltas) before anything is written, and stored
 * unchanged.
 */
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../api/limits.ts';
import { decodeSluiceBatches, SluiceBatchesFramingError } from '../api/sluice-batches.ts';
import { CorruptBatchError } from '../protocol/record-batch.ts';
import { IngestLimitError, ingestBudget, validateIngestBatches, type IngestBudget, type IngestLimits } from '../protocol/ingest-validation.ts';
import type { PartitionAppend } from '../log/produce.ts';

/** What a produced batch is checked against. */
export const INGEST_LIMITS: IngestLimits = {
  maxDecompressedBytes: LIMITS.maxDecompressedBytes,
  maxRecords: LIMITS.maxRecordsPerRequest,
  maxRecordBytes: LIMITS.maxRecordBytes,
  maxHeadersPerRecord: LIMITS.maxHeadersPerRecord,
  maxTimestamp: LIMITS.maxTimestampMs,
};

export function parseSluiceBatches(body: Uint8Array): PartitionAppend[] {
  let sections;
  try {
    sections = decodeSluiceBatches(body);
  } catch (error) {
    if (error instanceof SluiceBatchesFramingError) throw new SluiceError('INVALID_REQUEST', error.message, { cause: error });
    throw error;
  }
  const budget = ingestBudget(INGEST_LIMITS);
  return sections.map(({ partition, batches: data }) => ({ partition, data, ...validated(partition, data, budget) }));
}

/** Every record of the section decodes and fits the limits, or the request is refused before anything is written. */
function validated(partition: number, data: Uint8Array, budget: IngestBudget) {
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
