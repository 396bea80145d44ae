/**
 * The delivery planner, pure: which records make the next batch (maxRecords, maxBytes of the JSON
 * body — the 6 MB synchronous Lambda payload is the ceiling of maxBytes — and the end of a batch
 * being retried), the delivery body, and what a failure leads to (a backoff, a bisection, a dead
 * letter, or a partition that waits).
 */
import type { JsonRecord } from '../http/json-records.ts';
import type { ConsumerConfig } from './config.ts';
import type { RetryFields } from './layout.ts';

export interface CandidateRecord {
  readonly offset: bigint;
  readonly timestamp: number;
  readonly json: JsonRecord;
  /** Bytes of `json` in the body. */
  readonly bytes: number;
}

export interface DeliveryMeta {
  readonly consumer: string;
  readonly topic: string;
  readonly partition: number;
  readonly attempt: number;
}

export function batchIdOf(topic: string, partition: number, records: readonly CandidateRecord[]): string {
  return `${topic}/${partition}/${records[0].offset}-${records[records.length - 1].offset}`;
}

/** The body bytes of a delivery without its records (the envelope). */
export function envelopeBytes(meta: DeliveryMeta, batchId: string): number {
  return Buffer.byteLength(JSON.stringify({ consumer: meta.consumer, topic: meta.topic, partition: meta.partition, batchId, attempt: meta.attempt, records: [] }));
}

/**
 * The records of the next batch: in offset order, at most maxRecords, the body within maxBytes (the
 * first record always goes, so a large record is delivered alone), none at or past `end` (a batch
 * being retried keeps exactly its records).
 */
export function planBatch(records: readonly CandidateRecord[], limits: { maxRecords: number; maxBytes: number }, end?: bigint, envelope = 256): CandidateRecord[] {
  const batch: CandidateRecord[] = [];
  let bytes = envelope;
  for (const record of records) {
    if (end !== undefined && record.offset >= end) break;
    if (batch.length >= limits.maxRecords) break;
    const added = record.bytes + (batch.length > 0 ? 1 : 0);
    if (batch.length > 0 && bytes + added > limits.maxBytes) break;
    batch.push(record);
    bytes += added;
  }
  return batch;
}

export function deliveryBody(meta: DeliveryMeta, batchId: string, records: readonly CandidateRecord[]): string {
  return JSON.stringify({ consumer: meta.consumer, topic: meta.topic, partition: meta.partition, batchId, attempt: meta.attempt, records: records.map((r) => r.json) });
}

/** A batch is full when more records could not join it; otherwise maxWaitMs may hold it back. */
export function isFull(batch: readonly CandidateRecord[], available: number, limits: { maxRecords: number; maxBytes: number }): boolean {
  if (batch.length >= limits.maxRecords || batch.length < available) return true;
  return batch.reduce((n, r) => n + r.bytes + 1, 256) >= limits.maxBytes;
}

/** Backoff before the next attempt after `failures` failed ones: exponential, with jitter in [½, 1]. */
export function backoffMs(failures: number, retry: Pick<ConsumerConfig['retry'], 'minBackoffMs' | 'maxBackoffMs'>, random: () => number): number {
  const ceiling = Math.min(retry.maxBackoffMs, retry.minBackoffMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface FailedBatch {
  /** The committed offset: where the batch starts (records may begin later, after an aborted range). */
  readonly start: bigint;
  readonly records: readonly CandidateRecord[];
  /** Failed attempts of this same batch before this one. */
  readonly previousFailures: number;
  /** Where the failing range ends when bisecting (else the batch's end). */
  readonly rangeEnd: bigint;
  readonly error: string;
}

export type FailureDecision =
  | { readonly kind: 'retry'; readonly fields: RetryFields }
  /** Append [start, end) to the dead-letter topic, then move on. */
  | { readonly kind: 'dead-letter'; readonly fields: RetryFields }
  /** Out of attempts with nowhere to put the records: the partition waits until resumed. */
  | { readonly kind: 'fail'; readonly fields: RetryFields };

export function decideAfterFailure(batch: FailedBatch, config: Pick<ConsumerConfig, 'retry' | 'deadLetterTopic'>, now: number, random: () => number): FailureDecision {
  const end = batch.records[batch.records.length - 1].offset + 1n;
  const rangeEnd = batch.rangeEnd > end ? batch.rangeEnd : end;
  const failures = batch.previousFailures + 1;
  if (config.retry.bisectOnError && batch.records.length > 1) {
    // Narrow down: the first half next, at once, as a batch of its own; the rest of the range after it.
    const half = batch.records[Math.ceil(batch.records.length / 2)].offset;
    return { kind: 'retry', fields: { offset: batch.start, end: half, rangeEnd, attempts: 0, nextAttemptAt: now, failing: false } };
  }
  const oldest = Math.min(...batch.records.map((r) => r.timestamp));
  const tooOld = config.retry.maxRecordAgeMs >= 0 && now - oldest > config.retry.maxRecordAgeMs;
  if (failures >= config.retry.maxAttempts || tooOld) {
    const why = tooOld ? `older than retry.maxRecordAgeMs (${config.retry.maxRecordAgeMs} ms)` : `failed ${failures} attempts`;
    const error = `${batch.error} (${why})`;
    if (config.deadLetterTopic !== null) {
      return { kind: 'dead-letter', fields: { offset: batch.start, end, rangeEnd, attempts: failures, nextAttemptAt: 0, failing: false, deadLetter: { start: batch.start, end, error } } };
    }
    return { kind: 'fail', fields: { offset: batch.start, end, rangeEnd, attempts: failures, nextAttemptAt: 0, failing: true } };
  }
  return { kind: 'retry', fields: { offset: batch.start, end, rangeEnd, attempts: failures, nextAttemptAt: now + backoffMs(failures, config.retry, random), failing: false } };
}
