/**
 * Byte-for-byte checks against fixtures whose bytes were produced independently of lib/protocol:
 * record-batch-golden.json (KafkaJS's encoder, see generate-golden.ts) and hand-assembled bytes.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import {
  BATCH_HEADER_SIZE,
  decodeRecordBatch,
  encodeRecordBatch,
  encodeRecordsSection,
  readBatchHeader,
  verifyBatch,
} from '../../lib/protocol/record-batch.ts';
import type { BatchOptions, ProducerRecord } from '../../lib/protocol/record-batch.ts';
import { firstDifference, fromBase64, fromHex, readFixtureJson, toHex, utf8 } from './helpers.ts';

interface GoldenBatch {
  name: string;
  options: {
    baseOffset: string;
    producerId: string;
    producerEpoch: number;
    baseSequence: number;
    partitionLeaderEpoch: number;
    isTransactional: boolean;
  };
  records: { key: string | null; value: string | null; headers: { key: string; value: string }[]; timestamp: number }[];
  hex: string;
}

const kafkajsCrc = createRequire(import.meta.url)('kafkajs/src/protocol/recordBatch/crc32C') as (b: Uint8Array) => number;
const golden = readFixtureJson<{ batches: GoldenBatch[] }>('record-batch-golden.json');

function inputs(batch: GoldenBatch): { records: ProducerRecord[]; options: BatchOptions } {
  const records = batch.records.map((r) => ({
    key: r.key === null ? null : fromBase64(r.key),
    value: r.value === null ? null : fromBase64(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: fromBase64(h.value) })),
    timestamp: r.timestamp,
  }));
  const o = batch.options;
  const options: BatchOptions = {
    baseOffset: BigInt(o.baseOffset),
    producerId: BigInt(o.producerId),
    producerEpoch: o.producerEpoch,
    baseSequence: o.baseSequence,
    partitionLeaderEpoch: o.partitionLeaderEpoch,
    isTransactional: o.isTransactional,
  };
  return { records, options };
}

describe('golden RecordBatch bytes (KafkaJS-encoded fixture)', () => {
  assert.ok(golden.batches.length >= 3);

  for (const batch of golden.batches) {
    const expected = fromHex(batch.hex);
    const { records, options } = inputs(batch);

    it(`${batch.name}: encodeRecordBatch reproduces the fixture byte for byte`, () => {
      const actual = encodeRecordBatch(records, options);
      const diff = firstDifference(actual, expected);
      assert.equal(diff, -1, `first difference at byte ${diff}\nactual   ${toHex(actual)}\nexpected ${batch.hex}`);
    });

    it(`${batch.name}: decodeRecordBatch of the fixture gives back the records`, () => {
      const { header, records: decoded } = decodeRecordBatch(expected, 0, { verify: true });
      assert.equal(header.baseOffset, options.baseOffset);
      assert.equal(header.totalSize, expected.length);
      assert.equal(header.batchLength, expected.length - 12);
      assert.equal(header.magic, 2);
      assert.equal(header.codec, 'none');
      assert.equal(header.attributes, options.isTransactional ? 0x10 : 0);
      assert.equal(header.isTransactional, options.isTransactional);
      assert.equal(header.isControl, false);
      assert.equal(header.timestampType, 'create');
      assert.equal(header.partitionLeaderEpoch, options.partitionLeaderEpoch);
      assert.equal(header.producerId, options.producerId);
      assert.equal(header.producerEpoch, options.producerEpoch);
      assert.equal(header.baseSequence, options.baseSequence);
      assert.equal(header.recordCount, records.length);
      assert.equal(header.lastOffsetDelta, records.length - 1);
      assert.equal(header.baseTimestamp, records[0].timestamp);
      assert.equal(header.maxTimestamp, Math.max(...records.map((r) => r.timestamp)));
      assert.equal(decoded.length, records.length);
      decoded.forEach((d, i) => {
        const r = records[i];
        assert.equal(d.offset, options.baseOffset! + BigInt(i));
        assert.equal(d.timestamp, r.timestamp);
        assert.deepEqual(d.key, r.key);
        assert.deepEqual(d.value, r.value);
        assert.deepEqual(d.headers, r.headers);
      });
    });
  }

  it('the fixture exercises null key, null value, empty key/value, headers, non-ASCII and several timestamps', () => {
    const { records } = inputs(golden.batches[0]);
    assert.ok(records.some((r) => r.key === null));
    assert.ok(records.some((r) => r.value === null));
    assert.ok(records.some((r) => r.key?.length === 0 && r.value?.length === 0));
    assert.ok(records.some((r) => (r.headers?.length ?? 0) > 1));
    assert.ok(records.some((r) => r.headers?.some((h) => /[^\x00-\x7f]/.test(h.key))));
    assert.ok(new Set(records.map((r) => r.timestamp)).size >= 2);
    assert.ok(records.some((r) => r.timestamp < records[0].timestamp), 'a negative timestamp delta');
  });
});

describe('hand-assembled RecordBatch bytes', () => {
  // One record: key "k", value null, headers [{ "h": null }, { "é": 0x01 }], timestamp base + 300.
  // Record body (after the length varint):
  //   00            attributes
  //   d8 04         timestampDelta 300 (zigzag 600)
  //   00            offsetDelta 0
  //   02 6b         key length 1, "k"
  //   01            value length -1 (null)
  //   04            2 headers
  //   02 68 01      "h", value null
  //   04 c3 a9 02 01   "é" (2 UTF-8 bytes), value length 1, 0x01
  // = 16 bytes -> length varint zigzag(16) = 0x20
  const record = '20' + '00' + 'd804' + '00' + '026b' + '01' + '04' + '026801' + '04c3a90201';
  // the same record as the first of a batch: timestampDelta 0 (one byte shorter: 15 -> 0x1e)
  const firstRecord = '1e' + '00' + '00' + '00' + '026b' + '01' + '04' + '026801' + '04c3a90201';

  it('null header values, zero offset delta and a 2-byte timestamp delta', () => {
    const base = 1_000;
    const records: ProducerRecord[] = [
      { key: utf8('k'), value: null, headers: [{ key: 'h', value: null }, { key: 'é', value: Uint8Array.of(1) }], timestamp: base + 300 },
    ];
    assert.equal(toHex(encodeRecordsSection(records, base)), record);
    const batch = encodeRecordBatch(records);
    assert.equal(toHex(batch.subarray(BATCH_HEADER_SIZE)), firstRecord);
    const decoded = decodeRecordBatch(batch).records[0];
    assert.deepEqual(decoded.headers, [{ key: 'h', value: null }, { key: 'é', value: Uint8Array.of(1) }]);
    assert.equal(decoded.value, null);
  });

  it('the 61-byte header with defaults, field by field', () => {
    const batch = encodeRecordBatch([{ key: utf8('k'), value: null, headers: [{ key: 'h', value: null }, { key: 'é', value: Uint8Array.of(1) }], timestamp: 1300 }]);
    const total = BATCH_HEADER_SIZE + firstRecord.length / 2;
    assert.equal(batch.length, total);
    const header = toHex(batch.subarray(0, BATCH_HEADER_SIZE));
    const expectedWithoutCrc =
      '0000000000000000' + // baseOffset 0
      (total - 12).toString(16).padStart(8, '0') + // batchLength
      'ffffffff' + // partitionLeaderEpoch -1
      '02' + // magic
      'CRC_____' +
      '0000' + // attributes: none, create time, not transactional
      '00000000' + // lastOffsetDelta 0
      '0000000000000514' + // baseTimestamp 1300
      '0000000000000514' + // maxTimestamp 1300
      'ffffffffffffffff' + // producerId -1
      'ffff' + // producerEpoch -1
      'ffffffff' + // baseSequence -1
      '00000001'; // recordCount 1
    assert.equal(header.slice(0, 34) + 'CRC_____' + header.slice(42), expectedWithoutCrc);
    // CRC-32C over attributes..end, computed with KafkaJS's independent implementation
    assert.equal(header.slice(34, 42), kafkajsCrc(batch.subarray(21)).toString(16).padStart(8, '0'));
    assert.equal(verifyBatch(batch).crc, readBatchHeader(batch).crc);
  });
});
