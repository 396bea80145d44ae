/**
 * The server's side of `application/vnd.sluice.batches` (the framing and its codec are in
 * lib/api/sluice-batches.ts): every batch of every section is checked — header, CRC-32C, codec, record
 * count — before anything is written, and stored unchanged, without being decompressed.
 */
import { SluiceError } from '../errors.ts';
import { decodeSluiceBatches, SluiceBatchesFramingError } from '../api/sluice-batches.ts';
import { CorruptBatchError, iterateBatches } from '../protocol/record-batch.ts';
import type { PartitionAppend } from '../log/produce.ts';

const SUPPORTED_CODECS = new Set(['none', 'gzip', 'zstd']);

export function parseSluiceBatches(body: Uint8Array): PartitionAppend[] {
  let sections;
  try {
    sections = decodeSluiceBatches(body);
  } catch (error) {
    if (error instanceof SluiceBatchesFramingError) throw invalid(error.message, error);
    throw error;
  }
  return sections.map(({ partition, batches: data }) => {
    let recordCount = 0;
    let maxTimestamp = 0;
    try {
      for (const { header } of iterateBatches(data, { verify: true })) {
        if (header.isControl || header.isTransactional) throw invalid('transactional and control batches are not accepted');
        if (!SUPPORTED_CODECS.has(header.codec)) throw invalid(`codec ${header.codec} is not supported (use none, gzip or zstd)`);
        if (header.recordCount < 1 || header.lastOffsetDelta !== header.recordCount - 1) {
          throw invalid(`batch with ${header.recordCount} records has lastOffsetDelta ${header.lastOffsetDelta}`);
        }
        recordCount += header.recordCount;
        maxTimestamp = Math.max(maxTimestamp, header.maxTimestamp);
      }
    } catch (error) {
      if (error instanceof CorruptBatchError) throw invalid(`corrupt batch for partition ${partition}: ${error.message}`, error);
      throw error;
    }
    return { partition, data, recordCount, maxTimestamp };
  });
}

function invalid(message: string, cause?: unknown): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, { cause });
}
