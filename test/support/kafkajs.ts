/**
 * KafkaJS's own RecordBatch v0 (magic 2) encoder and decoder, an independent implementation of the
 * format, for interop tests and the encode/decode benchmark. KafkaJS is CommonJS and these are its
 * internals, so they are loaded with require.
 */
import { createRequire } from 'node:module';
import type { ProducerRecord } from '../../lib/protocol/record-batch.ts';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: any) => Promise<{ buffer: Buffer }> };
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: any) => any;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: any) => Promise<any>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => any;
export const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): any };

/** Buffers pass through untouched, so a benchmark does not charge KafkaJS for our copies. */
function buffer(bytes: Uint8Array | null): Buffer | null {
  return bytes === null ? null : Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
}

/** KafkaJS encodes a batch of the records (compression 0 none, 1 gzip); options override header fields. */
export async function kafkajsEncode(records: readonly ProducerRecord[], compression: 0 | 1 = 0, options: Record<string, unknown> = {}): Promise<Buffer> {
  const first = records[0].timestamp;
  let max = first;
  for (const r of records) if (r.timestamp > max) max = r.timestamp;
  const batch = await RecordBatch({
    compression,
    firstTimestamp: first,
    maxTimestamp: max,
    lastOffsetDelta: records.length - 1,
    partitionLeaderEpoch: -1,
    producerId: Long.fromValue(-1),
    producerEpoch: -1,
    firstSequence: -1,
    ...options,
    records: records.map((r, i) =>
      KafkajsRecord({
        offsetDelta: i,
        timestampDelta: r.timestamp - first,
        key: buffer(r.key),
        value: buffer(r.value),
        headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, buffer(h.value)])),
      }),
    ),
  });
  return batch.buffer;
}

/** KafkaJS decodes one batch. */
export function kafkajsDecode(bytes: Uint8Array): Promise<any> {
  return decodeBatch(new Decoder(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)));
}
