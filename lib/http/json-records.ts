/**
 * The JSON forms of produce and fetch (see ../shared/api-v1.md). JSON records become one RecordBatch
 * per partition, compressed once with the topic's codec; fetched batches become JSON records with
 * UTF-8 text where the bytes are valid UTF-8 and base64 otherwise.
 */
import type * as z from 'zod';
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../api/limits.ts';
import type { FetchedRecord, ProduceRequest } from '../api/schemas.ts';
import { partitionForKey } from '../protocol/murmur2.ts';
import { decodeRecordBatch, encodeRecordBatch, type ProducerRecord } from '../protocol/record-batch.ts';
import { defaultCodec, type Codec } from '../protocol/compression.ts';
import type { PartitionAppend } from '../log/produce.ts';
import type { StoredBatch } from '../log/read.ts';
import type { Topic } from '../log/topics.ts';

export interface JsonProduce {
  readonly appends: PartitionAppend[];
  /** For each input record, its partition and index within that partition's batch. */
  readonly placement: ReadonlyArray<{ partition: number; index: number }>;
}

const encoder = new TextEncoder();

/** JSON records (validated by the contract's ProduceRequest) as one RecordBatch per partition. */
export function parseJsonProduce(body: z.output<typeof ProduceRequest>, topic: Topic, options: { now: number; unkeyedPartition: number }): JsonProduce {
  const byPartition = new Map<number, ProducerRecord[]>();
  const placement: Array<{ partition: number; index: number }> = [];
  body.records.forEach((input, i) => {
    const key = input.keyBase64 !== undefined ? Buffer.from(input.keyBase64, 'base64') : typeof input.key === 'string' ? encoder.encode(input.key) : null;
    const value =
      input.valueBase64 !== undefined
        ? Buffer.from(input.valueBase64, 'base64')
        : input.value === undefined || input.value === null
          ? null
          : encoder.encode(typeof input.value === 'string' ? input.value : JSON.stringify(input.value));
    const headers = Object.entries(input.headers ?? {}).map(([k, v]) => ({ key: k, value: encoder.encode(v) }));
    if (headers.length > LIMITS.maxHeadersPerRecord) {
      throw new SluiceError('INVALID_REQUEST', `record ${i} has more than ${LIMITS.maxHeadersPerRecord} headers`, { details: { index: i } });
    }
    const size = (key?.length ?? 0) + (value?.length ?? 0) + headers.reduce((n, h) => n + h.key.length + (h.value?.length ?? 0), 0);
    if (size > LIMITS.maxRecordBytes) {
      throw new SluiceError('PAYLOAD_TOO_LARGE', `record ${i} is ${size} bytes; the limit is ${LIMITS.maxRecordBytes}`, {
        details: { index: i, limit: LIMITS.maxRecordBytes },
      });
    }
    let partition = input.partition;
    if (partition !== undefined && partition >= topic.partitions) {
      throw new SluiceError('INVALID_REQUEST', `record ${i}: partition ${partition} does not exist (topic has ${topic.partitions})`, {
        details: { index: i },
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

type JsonRecord = z.output<typeof FetchedRecord>;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Records at or after `fromOffset` in the batches, in offset order. */
export function batchesToJson(batches: readonly StoredBatch[], fromOffset: bigint): JsonRecord[] {
  const out: JsonRecord[] = [];
  for (const batch of batches) {
    for (const record of decodeRecordBatch(batch.bytes).records) {
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
  return out;
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
