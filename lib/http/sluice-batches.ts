/**
 * `application/vnd.sluice.batches`: the binary produce body the SDK sends. The server checks each
 * batch's header and CRC-32C and stores the bytes unchanged, without decompressing them.
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
import { CorruptBatchError, iterateBatches } from '../protocol/record-batch.ts';
import type { PartitionAppend } from '../log/produce.ts';

const SUPPORTED_CODECS = new Set(['none', 'gzip', 'zstd']);

export function parseSluiceBatches(body: Uint8Array): PartitionAppend[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const appends: PartitionAppend[] = [];
  let position = 0;
  while (position < body.length) {
    if (position + 8 > body.length) throw invalid(`truncated section header at byte ${position}`);
    const partition = view.getInt32(position);
    const length = view.getInt32(position + 4);
    position += 8;
    if (length <= 0 || position + length > body.length) throw invalid(`section for partition ${partition} has a bad length ${length}`);
    const data = body.subarray(position, position + length);
    position += length;
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
    appends.push({ partition, data, recordCount, maxTimestamp });
  }
  if (appends.length === 0) throw invalid('empty body');
  return appends;
}

function invalid(message: string, cause?: unknown): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, { cause });
}
