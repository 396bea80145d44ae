/**
 * The JSON forms of produce and fetch (see ../shared/api-v1.md). JSON records become one RecordBatch
 * per partition, compressed once with the topic's codec; fetched batches become JSON records with
 * UTF-8 text where the bytes are valid UTF-8 and base64 otherwise.
 */
import * as z from 'zod';
import { SluiceError } from '../errors.ts';
import { parseInput } from '../validation.ts';
import { LIMITS } from '../defaults.ts';
import { partitionForKey } from '../protocol/murmur2.ts';
import { encodeRecordBatch, type ProducerRecord } from '../protocol/record-batch.ts';
import { decodeStoredBatch } from '../log/stored-batches.ts';
import { defaultCodec, type Codec } from '../protocol/compression.ts';
import type { PartitionAppend } from '../log/produce.ts';
import type { StoredBatch } from '../log/read.ts';
import type { Topic } from '../log/topics.ts';

/** Strict base64 (RFC 4648 §4, padded, canonical): what Buffer.from would silently truncate or repair is refused. */
const base64 = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'padded base64 (RFC 4648), a multiple of 4 characters')
  .refine((text) => Buffer.from(text, 'base64').toString('base64') === text, 'expected canonical base64 (the unused bits of the last character are zero)');

const recordSchema = z
  .object({
    key: z.string().nullable().optional(),
    keyBase64: base64.optional(),
    value: z.unknown().optional(),
    valueBase64: base64.optional(),
    headers: z.record(z.string(), z.string()).optional(),
    partition: z.number().int().min(0).optional(),
    timestamp: z.number().int().min(0).max(LIMITS.maxTimestampMs).optional(),
  })
  .strict()
  .refine((r) => r.key === undefined || r.keyBase64 === undefined, { message: 'give key or keyBase64, not both' })
  .refine((r) => r.value === undefined || r.valueBase64 === undefined, { message: 'give value or valueBase64, not both' });

const produceSchema = z.object({ records: z.array(recordSchema).min(1) }).strict();

export interface JsonProduce {
  readonly appends: PartitionAppend[];
  /** For each input record, its partition and index within that partition's batch. */
  readonly placement: ReadonlyArray<{ partition: number; index: number }>;
}

const encoder = new TextEncoder();

export function parseJsonProduce(body: unknown, topic: Topic, options: { now: number; unkeyedPartition: number }): JsonProduce {
  const count = (body as { records?: unknown })?.records;
  if (Array.isArray(count) && count.length > LIMITS.maxRecordsPerRequest) {
    throw new SluiceError('PAYLOAD_TOO_LARGE', `records: expected at most ${LIMITS.maxRecordsPerRequest} records per request, got ${count.length}`, {
      details: { field: 'records', limit: LIMITS.maxRecordsPerRequest },
    });
  }
  const { records: inputs } = parseInput(produceSchema, body);

  const byPartition = new Map<number, ProducerRecord[]>();
  const placement: Array<{ partition: number; index: number }> = [];
  inputs.forEach((input, i) => {
    const key = input.keyBase64 !== undefined ? Buffer.from(input.keyBase64, 'base64') : typeof input.key === 'string' ? encoder.encode(input.key) : null;
    const value =
      input.valueBase64 !== undefined
        ? Buffer.from(input.valueBase64, 'base64')
        : input.value === undefined || input.value === null
          ? null
          : encoder.encode(typeof input.value === 'string' ? input.value : JSON.stringify(input.value));
    const headers = Object.entries(input.headers ?? {}).map(([k, v]) => ({ key: k, value: encoder.encode(v) }));
    if (headers.length > LIMITS.maxHeadersPerRecord) {
      throw new SluiceError('INVALID_REQUEST', `records[${i}].headers: expected at most ${LIMITS.maxHeadersPerRecord} headers, got ${headers.length}`, { details: { field: `records[${i}].headers`, index: i } });
    }
    const size = (key?.length ?? 0) + (value?.length ?? 0) + headers.reduce((n, h) => n + h.key.length + (h.value?.length ?? 0), 0);
    if (size > LIMITS.maxRecordBytes) {
      throw new SluiceError('PAYLOAD_TOO_LARGE', `records[${i}]: key, value and headers take ${size} bytes, more than the limit of ${LIMITS.maxRecordBytes}`, {
        details: { field: `records[${i}]`, index: i, limit: LIMITS.maxRecordBytes },
      });
    }
    let partition = input.partition;
    if (partition !== undefined && partition >= topic.partitions) {
      throw new SluiceError('INVALID_REQUEST', `records[${i}].partition: partition ${partition} does not exist (topic ${topic.name} has partitions 0-${topic.partitions - 1})`, {
        details: { field: `records[${i}].partition`, index: i },
      });
    }
    partition ??= key ? partitionForKey(key, topic.partitions) : options.unkeyedPartition;
    let records = byPartition.get(partition);
    if (!records) byPartition.set(partition, (records = []));
    placement.push({ partition, index: records.length });
    records.push({ key, value, headers, timestamp: input.timestamp ?? options.now });
  });

  const codec = resolveCodec(topic.config.compression);
  const appends = [...byPartition].map(([partition, records]) => ({
    partition,
    data: encodeRecordBatch(records, { codec }),
    recordCount: records.length,
    maxTimestamp: records.reduce((max, r) => Math.max(max, r.timestamp), 0),
  }));
  return { appends, placement };
}

function resolveCodec(codec: Codec): Codec {
  return codec === 'zstd' ? defaultCodec() : codec;
}

export interface JsonRecord {
  offset: string;
  timestamp: number;
  key?: string | null;
  keyBase64?: string;
  value?: string | null;
  valueBase64?: string;
  headers: Record<string, string>;
  headersBase64?: Record<string, string>;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Records at or after `fromOffset` in the batches, in offset order, from whole batches whose record
 * data (keys, values, headers: decompressed) adds up to at most `maxBytes`; the first batch always
 * comes, so a reader makes progress (a batch inflates to at most LIMITS.maxDecompressedBytes).
 * `nextOffset` is set when batches were left out.
 */
export function jsonRecordsWithin(batches: readonly StoredBatch[], fromOffset: bigint, maxBytes: number): { records: JsonRecord[]; nextOffset?: bigint } {
  const out: JsonRecord[] = [];
  let bytes = 0;
  for (const batch of batches) {
    const { records, decodedBytes } = decodeStoredBatch(batch);
    if (out.length > 0 && bytes + decodedBytes > maxBytes) return { records: out, nextOffset: batch.baseOffset };
    bytes += decodedBytes;
    for (const record of records) {
      const offset = batch.baseOffset + (record.offset - batch.header.baseOffset);
      if (offset < fromOffset) continue;
      const json: JsonRecord = { offset: offset.toString(), timestamp: record.timestamp, headers: {} };
      setBytes(json, 'key', record.key);
      setBytes(json, 'value', record.value);
      for (const header of record.headers) {
        const value = header.value === null ? '' : text(header.value);
        if (value !== undefined) json.headers[header.key] = value;
        else (json.headersBase64 ??= {})[header.key] = Buffer.from(header.value!).toString('base64');
      }
      out.push(json);
    }
  }
  return { records: out };
}

/** Records at or after `fromOffset` in the batches, in offset order (each batch decompressed within the limit). */
export function batchesToJson(batches: readonly StoredBatch[], fromOffset: bigint): JsonRecord[] {
  return jsonRecordsWithin(batches, fromOffset, Infinity).records;
}

function setBytes(json: JsonRecord, field: 'key' | 'value', bytes: Uint8Array | null): void {
  if (bytes === null) {
    json[field] = null;
    return;
  }
  const decoded = text(bytes);
  if (decoded !== undefined) json[field] = decoded;
  else json[`${field}Base64`] = Buffer.from(bytes).toString('base64');
}
