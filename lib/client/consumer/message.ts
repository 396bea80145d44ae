/**
 * Messages as the application sees them (KafkaJS's message and batch shapes), made from decoded
 * records: keys, values and header values as views of the fetched bytes (the runtime decides: Buffer
 * on Node), repeated header keys as arrays.
 */
import type { DecodedRecord } from '../../protocol/record-batch-core.ts';
import type { DecodedBatch } from '../protocol/decode.ts';
import { invalidArgument } from '../errors.ts';
import type { KafkaMessage, ReceivedHeaders } from '../types.ts';
import type { BatchProcessPayload } from './events.ts';
import type { Chunk } from './reader.ts';

/** One read of one partition, as eachBatch gets it. */
export interface Batch {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string;
  readonly messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  /** highWatermark - 1 - lastOffset */
  offsetLag(): string;
  /** highWatermark - 1 - firstOffset */
  offsetLagLow(): string;
}

/** An offset as an application gives it (string, bigint or number). */
export function parseOffset(value: string | bigint | number, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw invalidArgument(`${what} must be ≥ 0`);
    return value;
  }
  const text = String(value);
  if (!/^\d+$/.test(text)) throw invalidArgument(`${what} must be a non-negative integer, got ${text}`);
  return BigInt(text);
}

function setHeader(headers: ReceivedHeaders, key: string, value: Uint8Array | null): void {
  if (!Object.hasOwn(headers, key)) {
    if (key === '__proto__') Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
    else headers[key] = value;
    return;
  }
  const existing = headers[key];
  if (Array.isArray(existing)) existing.push(value);
  else headers[key] = [existing, value];
}

export function messagesOf(batches: readonly DecodedBatch[], bytes: (view: Uint8Array) => Uint8Array): KafkaMessage[] {
  const messages: KafkaMessage[] = [];
  for (const batch of batches) for (const record of batch.records) messages.push(toMessage(record, bytes));
  return messages;
}

/** The eachBatch view of a chunk's messages. */
export function batchOf(topic: string, partition: number, highWatermark: bigint, messages: KafkaMessage[]): Batch {
  const batch: Batch = {
    topic,
    partition,
    highWatermark: highWatermark.toString(),
    messages,
    isEmpty: () => messages.length === 0,
    firstOffset: () => messages[0]?.offset ?? null,
    lastOffset: () => messages.at(-1)?.offset ?? (highWatermark - 1n).toString(),
    offsetLag: () => (highWatermark - 1n - BigInt(batch.lastOffset())).toString(),
    offsetLagLow: () => (highWatermark - 1n - BigInt(batch.firstOffset() ?? batch.lastOffset())).toString(),
  };
  return batch;
}

export function batchProcessPayload(topic: string, partition: number, chunk: Chunk): BatchProcessPayload {
  const first = chunk.batches[0]?.records[0]?.offset ?? null;
  const last = chunk.batches.at(-1)?.records.at(-1)?.offset ?? chunk.nextOffset - 1n;
  const top = chunk.highWatermark - 1n;
  return {
    topic,
    partition,
    highWatermark: chunk.highWatermark.toString(),
    offsetLag: (top - last).toString(),
    offsetLagLow: (top - (first ?? last)).toString(),
    batchSize: chunk.batches.reduce((n, b) => n + b.records.length, 0),
    firstOffset: first === null ? null : first.toString(),
    lastOffset: last.toString(),
  };
}

export function toMessage(record: DecodedRecord, bytes: (view: Uint8Array) => Uint8Array): KafkaMessage {
  const headers: ReceivedHeaders = {};
  const recordHeaders = record.headers;
  for (let i = 0; i < recordHeaders.length; i++) {
    const h = recordHeaders[i];
    setHeader(headers, h.key, h.value === null ? null : bytes(h.value));
  }
  return {
    key: record.key === null ? null : bytes(record.key),
    value: record.value === null ? null : bytes(record.value),
    timestamp: String(record.timestamp),
    offset: record.offset.toString(),
    headers,
    attributes: 0,
  };
}
