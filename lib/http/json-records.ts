/**
 * The JSON forms of produce and fetch (docs/api-v1.md). JSON records become one RecordBatch
 * per partition, compressed once with the topic's codec; fetched batches become JSON records with
 * UTF-8 text where the bytes are valid UTF-8 and base64 otherwise.
 */
import type * as z from 'zod';
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../api/limits.ts';
import type { FetchedRecord, ProduceRequest } from '../api/schemas.ts';
import { partitionForKey } from '../protocol/murmur2.ts';
import { decodeRecordBatch, encodeRecordBatch, type ProducerRecord, type RecordHeader } from '../protocol/record-batch.ts';
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
    const headers = [...headersFromJson(input.headers, (text) => encoder.encode(text)), ...headersFromJson(input.headersBase64, (b64) => Buffer.from(b64, 'base64'))];
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

/** `{"h": "v"}`, `{"h": ["x", "y"]}` (a repeated key, in order), null values kept. */
function headersFromJson(headers: Record<string, string | null | Array<string | null>> | undefined, bytes: (value: string) => Uint8Array): RecordHeader[] {
  const out: RecordHeader[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) out.push({ key, value: one === null ? null : bytes(one) });
  }
  return out;
}

function resolveCodec(codec: Codec): Codec {
  return codec === 'zstd' ? defaultCodec() : codec;
}

export type JsonRecord = z.output<typeof FetchedRecord>;

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
      setHeaders(json, record.headers);
      out.push(json);
    }
  }
  return out;
}

/**
 * Headers faithfully: a repeated key gives the array of its values in order, null stays null; a key
 * with any value that is not UTF-8 goes, all its values, to headersBase64.
 */
function setHeaders(json: JsonRecord, headers: readonly RecordHeader[]): void {
  const byKey = new Map<string, Array<Uint8Array | null>>();
  for (const header of headers) {
    const values = byKey.get(header.key);
    if (values) values.push(header.value);
    else byKey.set(header.key, [header.value]);
  }
  const textHeaders: Record<string, string | null | Array<string | null>> = {};
  let base64Headers: Record<string, string | null | Array<string | null>> | undefined;
  for (const [key, values] of byKey) {
    const texts = values.map((value) => (value === null ? null : text(value)));
    const single = <T,>(list: T[]) => (list.length === 1 ? list[0] : list);
    if (!texts.includes(undefined)) textHeaders[key] = single(texts as Array<string | null>);
    else (base64Headers ??= {})[key] = single(values.map((value) => (value === null ? null : Buffer.from(value).toString('base64'))));
  }
  json.headers = textHeaders;
  if (base64Headers) json.headersBase64 = base64Headers;
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
