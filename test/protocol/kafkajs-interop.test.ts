/**
 * Cross-checks against KafkaJS's RecordBatch v0 encoder and decoder (kafkajs/src/protocol/recordBatch),
 * an independent implementation: their bytes -> our decoder, our bytes -> their decoder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecordBatch, encodeRecordBatch, stampLogAppendTime, verifyBatch } from '../../lib/protocol/record-batch.ts';
import type { ProducerRecord, RecordHeader } from '../../lib/protocol/record-batch.ts';
import { firstDifference, prng, randomBytes, utf8 } from './helpers.ts';
import { Long, kafkajsDecode, kafkajsEncode } from '../support/kafkajs.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const T0 = 1_700_000_000_000;

/**
 * Records KafkaJS can encode: header keys unique per record (KafkaJS takes headers as an object)
 * and header values never null (its size computation calls Buffer.byteLength(null)).
 */
function makeRecords(count: number, seed: number): ProducerRecord[] {
  const rand = prng(seed);
  const records: ProducerRecord[] = [];
  for (let i = 0; i < count; i++) {
    const headers: RecordHeader[] = [];
    const hn = rand() % 4;
    for (let j = 0; j < hn; j++) headers.push({ key: j === 1 ? `ключ-${j}` : `header-${j}`, value: randomBytes(rand, rand() % 30) });
    records.push({
      key: rand() % 6 === 0 ? null : utf8(`key-${i}-${rand() % 10_000}`),
      value: rand() % 9 === 0 ? null : randomBytes(rand, 20 + (rand() % 300)),
      headers,
      // mostly increasing, some out of order, one far away (varlong beyond int32)
      timestamp: i === 7 ? T0 + 5_000_000_000 : T0 + i * 3 - (rand() % 50),
    });
  }
  return records;
}

function checkOurDecode(bytes: Uint8Array, records: ProducerRecord[], baseOffset: bigint): void {
  const { header, records: decoded } = decodeRecordBatch(bytes, 0, { verify: true });
  assert.equal(header.recordCount, records.length);
  assert.equal(header.baseOffset, baseOffset);
  assert.equal(decoded.length, records.length);
  for (let i = 0; i < records.length; i++) {
    const d = decoded[i];
    const r = records[i];
    assert.equal(d.offset, baseOffset + BigInt(i));
    assert.equal(d.timestamp, r.timestamp);
    assert.deepEqual(d.key, r.key);
    assert.deepEqual(d.value, r.value);
    assert.deepEqual(d.headers, r.headers);
  }
}

async function checkKafkajsDecode(bytes: Uint8Array, records: ProducerRecord[], baseOffset: bigint): Promise<void> {
  const batch = await kafkajsDecode(bytes);
  assert.equal(batch.firstOffset, String(baseOffset));
  assert.equal(batch.records.length, records.length);
  for (let i = 0; i < records.length; i++) {
    const d = batch.records[i];
    const r = records[i];
    assert.equal(d.offset, String(baseOffset + BigInt(i)));
    assert.equal(d.timestamp, String(r.timestamp));
    assert.deepEqual(d.key === null ? null : new Uint8Array(d.key), r.key);
    assert.deepEqual(d.value === null ? null : new Uint8Array(d.value), r.value);
    const headers = Object.entries(d.headers as Record<string, Buffer>).map(([key, value]) => ({ key, value: new Uint8Array(value) }));
    assert.deepEqual(headers, r.headers);
  }
}

describe('KafkaJS interop', () => {
  const records = makeRecords(1000, 77);

  it('our uncompressed encoding equals KafkaJS byte for byte (1000 records)', async () => {
    const ours = encodeRecordBatch(records);
    const theirs = await kafkajsEncode(records, 0);
    assert.equal(firstDifference(ours, theirs), -1);
  });

  it('same, with a baseOffset, producer id/epoch/sequence, leader epoch and the transactional bit', async () => {
    const ours = encodeRecordBatch(records.slice(0, 50), {
      baseOffset: 88n,
      producerId: 123456789n,
      producerEpoch: 2,
      baseSequence: 500,
      partitionLeaderEpoch: 4,
      isTransactional: true,
    });
    const theirs = await kafkajsEncode(records.slice(0, 50), 0, {
      firstOffset: Long.fromValue(88),
      producerId: Long.fromValue(123456789),
      producerEpoch: 2,
      firstSequence: 500,
      partitionLeaderEpoch: 4,
      transactional: true,
    });
    assert.equal(firstDifference(ours, theirs), -1);
  });

  for (const [name, compression] of [['none', 0], ['gzip', 1]] as const) {
    it(`we decode KafkaJS-encoded ${name} batches, every field`, async () => {
      const theirs = await kafkajsEncode(records, compression, { firstOffset: Long.fromValue(1000) });
      const header = verifyBatch(theirs);
      assert.equal(header.codec, name);
      assert.equal(header.baseTimestamp, records[0].timestamp);
      assert.equal(header.maxTimestamp, T0 + 5_000_000_000);
      assert.equal(header.lastOffsetDelta, records.length - 1);
      assert.equal(header.producerId, -1n);
      assert.equal(header.producerEpoch, -1);
      assert.equal(header.baseSequence, -1);
      checkOurDecode(theirs, records, 1000n);
    });

    it(`KafkaJS decodes our ${name} batches, every field`, async () => {
      const ours = encodeRecordBatch(records, { codec: name, baseOffset: 5n });
      await checkKafkajsDecode(ours, records, 5n);
    });
  }

  it('KafkaJS reads a batch we stamped with the append time (LogAppendTime topics) as that time on every record', async () => {
    const records = makeRecords(6, 11);
    const ours = encodeRecordBatch(records, { codec: 'gzip' });
    stampLogAppendTime(ours, 0, T0 + 42);
    verifyBatch(ours, 0);
    const batch = await kafkajsDecode(ours);
    assert.equal(batch.timestampType, 1, 'LOG_APPEND_TIME');
    assert.deepEqual(batch.records.map((r: any) => r.timestamp), records.map(() => String(T0 + 42)));
    assert.deepEqual(batch.records.map((r: any) => (r.value === null ? null : new Uint8Array(r.value))), records.map((r) => r.value));
  });

  it('KafkaJS decodes our null header values as null', async () => {
    const ours = encodeRecordBatch([{ key: null, value: utf8('v'), headers: [{ key: 'h', value: null }], timestamp: T0 }]);
    const batch = await kafkajsDecode(ours);
    assert.deepEqual(batch.records[0].headers, { h: null });
  });
});
