/**
 * What a Kafka broker validates before it appends a producer's batches (LogValidator), for the batches
 * of one produce request, so that everything stored decodes: a partition can never be poisoned by a
 * batch whose CRC is right but whose records are not.
 *
 * Per batch, in this order (cheap checks before expensive ones):
 *   1. header and CRC-32C (verifyBatch); magic 2; codec none, gzip or zstd; not transactional or control;
 *      recordCount >= 1 and lastOffsetDelta = recordCount - 1
 *   2. the request's record count stays within `maxRecords` (before anything is decompressed)
 *   3. the records section inflates to at most what is left of `maxDecompressedBytes` for the request
 *      (decompression stops there: a bomb costs no more than the limit)
 *   4. every record decodes (lengths inside the record, exactly recordCount records, no trailing bytes;
 *      scanRecordsSection walks them without building them)
 *   5. offset deltas are 0..recordCount-1; timestamps are in [0, maxTimestamp]; the header's
 *      maxTimestamp is the largest record timestamp (create time); key + value + headers of a record
 *      fit `maxRecordBytes`; at most `maxHeadersPerRecord` headers
 *
 * Errors: CorruptBatchError for 1, 3, 4 and 5's structural checks; IngestLimitError for 2 and 5's limits.
 * Runs on Node (decompression through compression.ts).
 */
import { decompress } from './compression.ts';
import { CorruptBatchError, InflatedTooLargeError, IngestLimitError } from './errors.ts';
import { BATCH_HEADER_SIZE, iterateBatches, plainBytes, scanRecordsSection, type BatchHeader } from './record-batch-core.ts';

export { IngestLimitError };

export interface IngestLimits {
  /** What the records sections of a request may inflate to, in all. */
  readonly maxDecompressedBytes: number;
  /** Records in a request. */
  readonly maxRecords: number;
  /** Key + value + headers (keys and values) of one record. */
  readonly maxRecordBytes: number;
  readonly maxHeadersPerRecord: number;
  /** Largest record timestamp accepted (ms since the epoch). */
  readonly maxTimestamp: number;
}

/** What is left of a request's limits while its batches are validated one section after another. */
export interface IngestBudget {
  decompressedBytes: number;
  records: number;
}

export interface ValidatedBatches {
  readonly recordCount: number;
  readonly maxTimestamp: number;
}

const SUPPORTED_CODECS = new Set(['none', 'gzip', 'zstd']);

export function ingestBudget(limits: IngestLimits): IngestBudget {
  return { decompressedBytes: limits.maxDecompressedBytes, records: limits.maxRecords };
}

/**
 * Validates the batches back to back in `data` (one partition's part of a request), spending `budget`.
 * Returns the record count and largest timestamp, read from the records themselves.
 */
export function validateIngestBatches(data: Uint8Array, limits: IngestLimits, budget: IngestBudget): ValidatedBatches {
  const bytes = plainBytes(data);
  const totals = { recordCount: 0, maxTimestamp: 0 };
  for (const batch of checkHeaders(bytes, limits, budget)) {
    const inflated = batch.header.codec === 'none' ? undefined : inflate(bytes, batch, budget, limits);
    try {
      addTo(totals, checkRecords(bytes, batch, inflated, limits, budget));
    } finally {
      if (inflated) release(inflated);
    }
  }
  return totals;
}

interface BatchAt {
  readonly position: number;
  readonly header: BatchHeader;
}

/**
 * Frees an inflated section now instead of at some later garbage collection. Validation only reads it
 * (nothing keeps a view of it), and its memory lives outside the JavaScript heap: left to the
 * collector, a server validating 1 MiB requests allocated ~1 MiB of such memory per request, which
 * made V8 run a full mark-compact every ~10 requests (a fifth of the server's CPU at 1 MiB requests).
 * Detaching the ArrayBuffer (transfer to length 0) returns its memory at once. Only a buffer that is
 * wholly this section's is detached: never Node's shared pool (small buffers are slices of one
 * Buffer.poolSize slab) nor a view into anything larger.
 */
function release(inflated: Uint8Array): void {
  const buffer = inflated.buffer;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > Buffer.poolSize && inflated.byteOffset === 0 && !buffer.detached) buffer.transfer(0);
}

/** Steps 1 and 2 for every batch, before anything is inflated. */
function checkHeaders(bytes: Uint8Array, limits: IngestLimits, budget: IngestBudget): BatchAt[] {
  const headers: BatchAt[] = [];
  for (const batch of iterateBatches(bytes, { verify: true })) {
    const { header, position } = batch;
    if (header.isControl || header.isTransactional) corrupt(position, 'transactional and control batches are not accepted');
    if (!SUPPORTED_CODECS.has(header.codec)) corrupt(position, `codec ${header.codec} is not supported (use none, gzip or zstd)`);
    if (header.recordCount < 1 || header.lastOffsetDelta !== header.recordCount - 1) {
      corrupt(position, `a batch of ${header.recordCount} records has lastOffsetDelta ${header.lastOffsetDelta} (expected recordCount - 1)`);
    }
    budget.records -= header.recordCount;
    if (budget.records < 0) throw new IngestLimitError('records', `a request holds at most ${limits.maxRecords} records`, limits.maxRecords);
    headers.push(batch);
  }
  return headers;
}

/** The batch's records section as stored (compressed unless the codec is none). */
function recordsOf(bytes: Uint8Array, { position, header }: BatchAt): Uint8Array {
  return bytes.subarray(position + BATCH_HEADER_SIZE, position + header.totalSize);
}

/** Step 3: the batch's records section inflated, bounded by what is left of the request's budget. */
function inflate(bytes: Uint8Array, batch: BatchAt, budget: IngestBudget, limits: IngestLimits): Uint8Array {
  try {
    return plainBytes(decompress(batch.header.codec, recordsOf(bytes, batch), { maxOutputLength: budget.decompressedBytes }));
  } catch (error) {
    if (error instanceof InflatedTooLargeError) corrupt(batch.position, `the records inflate past ${limits.maxDecompressedBytes} bytes, the limit for a request`);
    if (error instanceof CorruptBatchError) corrupt(batch.position, error.message);
    throw error;
  }
}

function addTo(totals: { recordCount: number; maxTimestamp: number }, batch: ValidatedBatches): void {
  totals.recordCount += batch.recordCount;
  totals.maxTimestamp = Math.max(totals.maxTimestamp, batch.maxTimestamp);
}

/** Steps 3 (the budget) to 5 for one batch; `inflated` is its records section inflated, undefined for codec none. */
function checkRecords(bytes: Uint8Array, batch: BatchAt, inflated: Uint8Array | undefined, limits: IngestLimits, budget: IngestBudget): ValidatedBatches {
  const { header, position } = batch;
  const section = inflated ?? bytes;
  const start = inflated ? 0 : position + BATCH_HEADER_SIZE;
  const sectionEnd = inflated ? inflated.length : position + header.totalSize;
  budget.decompressedBytes -= sectionEnd - start;
  if (budget.decompressedBytes < 0) {
    corrupt(position, `the records inflate past ${limits.maxDecompressedBytes} bytes for the request`);
  }
  let batchMax = -1;
  let refusal: Error | undefined; // thrown by the checks below, as opposed to the scan's own structural errors
  const refuse = (error: Error): never => {
    throw (refusal = error);
  };
  try {
    scanRecordsSection(section, start, sectionEnd, header, (i, offsetDelta, timestamp, headerCount, bytes) => {
      if (offsetDelta !== i) refuse(corruption(position, `record ${i} has offset delta ${offsetDelta} (expected ${i})`));
      if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > limits.maxTimestamp) {
        refuse(corruption(position, `record ${i} has timestamp ${timestamp} (expected 0 to ${limits.maxTimestamp} ms)`));
      }
      if (timestamp > batchMax) batchMax = timestamp;
      if (headerCount > limits.maxHeadersPerRecord) {
        refuse(new IngestLimitError('headers', `record ${i} of the batch at byte ${position} has ${headerCount} headers; at most ${limits.maxHeadersPerRecord}`, limits.maxHeadersPerRecord));
      }
      if (bytes > limits.maxRecordBytes) {
        refuse(new IngestLimitError('recordBytes', `record ${i} of the batch at byte ${position} is ${bytes} bytes; at most ${limits.maxRecordBytes}`, limits.maxRecordBytes));
      }
    });
  } catch (error) {
    if (error !== refusal && error instanceof CorruptBatchError) corrupt(position, error.message);
    throw error;
  }
  if (header.timestampType === 'create' && header.maxTimestamp !== batchMax) {
    corrupt(position, `maxTimestamp ${header.maxTimestamp} is not the largest record timestamp ${batchMax}`);
  }
  if (header.timestampType === 'logAppend' && !(header.maxTimestamp >= 0 && header.maxTimestamp <= limits.maxTimestamp)) {
    corrupt(position, `maxTimestamp ${header.maxTimestamp} is out of range`);
  }
  return { recordCount: header.recordCount, maxTimestamp: header.maxTimestamp };
}

function corrupt(position: number, message: string): never {
  throw corruption(position, message);
}

function corruption(position: number, message: string): CorruptBatchError {
  return new CorruptBatchError(`batch at byte ${position}: ${message}`);
}
