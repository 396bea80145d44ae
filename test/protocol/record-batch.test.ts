import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compress, decompress, UnsupportedCodecError } from '../../lib/protocol/compression.ts';
import { crc32c } from '../../lib/protocol/crc32c.ts';
import {
  assembleRecordBatch,
  BATCH_HEADER_SIZE,
  batchMeta,
  CorruptBatchError,
  decodeRecordBatch,
  encodeRecordBatch,
  encodeRecordsSection,
  iterateBatches,
  readBatchHeader,
  stampLogAppendTime,
  verifyBatch,
  writeBaseOffset,
} from '../../lib/protocol/record-batch.ts';
import type { Codec, DecodedRecord, ProducerRecord } from '../../lib/protocol/record-batch.ts';
import { prng, randomBytes, utf8 } from './helpers.ts';

const T0 = 1_700_000_000_000;

function makeRecords(count: number, seed = 1): ProducerRecord[] {
  const rand = prng(seed);
  const records: ProducerRecord[] = [];
  for (let i = 0; i < count; i++) {
    const headers = [];
    const hn = rand() % 4;
    for (let j = 0; j < hn; j++) {
      headers.push({ key: j === 2 ? `ключ-${i}` : `h${j}`, value: rand() % 5 === 0 ? null : randomBytes(rand, rand() % 20) });
    }
    records.push({
      key: rand() % 7 === 0 ? null : utf8(`key-${rand() % 1000}`),
      value: rand() % 11 === 0 ? null : randomBytes(rand, 50 + (rand() % 150)),
      headers: rand() % 3 === 0 ? undefined : headers,
      timestamp: T0 + (rand() % 100_000) - 50_000,
    });
  }
  return records;
}

function assertRecords(decoded: DecodedRecord[], records: readonly ProducerRecord[], baseOffset = 0n): void {
  assert.equal(decoded.length, records.length);
  for (let i = 0; i < records.length; i++) {
    const d = decoded[i];
    const r = records[i];
    assert.equal(d.offset, baseOffset + BigInt(i), `offset ${i}`);
    assert.equal(d.timestamp, r.timestamp, `timestamp ${i}`);
    assert.deepEqual(d.key, r.key, `key ${i}`);
    assert.deepEqual(d.value, r.value, `value ${i}`);
    assert.deepEqual(d.headers, r.headers ?? [], `headers ${i}`);
  }
}

const CODECS: Codec[] = ['none', 'gzip', 'zstd'];

describe('encodeRecordBatch / decodeRecordBatch round trips', () => {
  for (const codec of CODECS) {
    it(`${codec}: 500 records with null keys/values, headers and scattered timestamps`, () => {
      const records = makeRecords(500, 5);
      const batch = encodeRecordBatch(records, { codec });
      const header = verifyBatch(batch);
      assert.equal(header.codec, codec);
      assert.equal(header.attributes & 7, { none: 0, gzip: 1, zstd: 4 }[codec as 'none']);
      assert.equal(header.totalSize, batch.length);
      assert.equal(header.recordCount, 500);
      assert.equal(header.lastOffsetDelta, 499);
      assert.equal(header.baseTimestamp, records[0].timestamp);
      assert.equal(header.maxTimestamp, Math.max(...records.map((r) => r.timestamp)));
      const { header: h2, records: decoded } = decodeRecordBatch(batch);
      assert.deepEqual(h2, header);
      assertRecords(decoded, records);
      if (codec !== 'none') assert.ok(batch.length < encodeRecordBatch(records).length);
    });
  }

  it('the compressed section is exactly the compressed uncompressed section', () => {
    const records = makeRecords(50, 9);
    const plain = encodeRecordBatch(records);
    for (const codec of ['gzip', 'zstd'] as const) {
      const batch = encodeRecordBatch(records, { codec });
      assert.deepEqual(decompress(codec, batch.subarray(BATCH_HEADER_SIZE)), Buffer.from(plain.subarray(BATCH_HEADER_SIZE)));
    }
  });

  it('encodeRecordsSection -> compress -> assembleRecordBatch equals encodeRecordBatch (the async/browser path)', () => {
    const records = makeRecords(100, 10);
    const options = { baseOffset: 42n, producerId: 7n, producerEpoch: 1, baseSequence: 9, partitionLeaderEpoch: 3, isTransactional: true };
    for (const codec of CODECS) {
      const meta = batchMeta(records, codec);
      const section = encodeRecordsSection(records, meta.baseTimestamp);
      const assembled = assembleRecordBatch(compress(codec, section), { ...options, ...meta });
      assert.deepEqual(assembled, encodeRecordBatch(records, { ...options, codec }), codec);
    }
  });

  it('compressionLevel is passed to the codec', () => {
    const records = makeRecords(200, 6).map((r) => ({ ...r, value: utf8('abcdefgh'.repeat(40)) }));
    const fast = encodeRecordBatch(records, { codec: 'gzip', compressionLevel: 1 });
    const best = encodeRecordBatch(records, { codec: 'gzip', compressionLevel: 9 });
    assert.notDeepEqual(fast, best);
    assertRecords(decodeRecordBatch(best, 0, { verify: true }).records, records);
  });

  it('header options land in the header; logAppend and control bits', () => {
    const records = makeRecords(3, 2);
    const batch = encodeRecordBatch(records, {
      baseOffset: 2n ** 62n,
      producerId: 2n ** 40n + 1n,
      producerEpoch: 32767,
      baseSequence: 2147483647,
      partitionLeaderEpoch: 99,
      isTransactional: true,
      isControl: true,
      timestampType: 'logAppend',
    });
    const h = verifyBatch(batch);
    assert.equal(h.baseOffset, 2n ** 62n);
    assert.equal(h.producerId, 2n ** 40n + 1n);
    assert.equal(h.producerEpoch, 32767);
    assert.equal(h.baseSequence, 2147483647);
    assert.equal(h.partitionLeaderEpoch, 99);
    assert.equal(h.attributes, 0x08 | 0x10 | 0x20);
    assert.ok(h.isTransactional && h.isControl);
    assert.equal(h.timestampType, 'logAppend');
    // logAppend: every record reports the batch's maxTimestamp
    for (const d of decodeRecordBatch(batch).records) assert.equal(d.timestamp, h.maxTimestamp);
  });

  it('timestamps spanning more than 2^31 ms (varlong beyond int32) and negative deltas', () => {
    const records: ProducerRecord[] = [
      { key: null, value: utf8('a'), timestamp: 5_000_000_000_000 },
      { key: null, value: utf8('b'), timestamp: 0 },
      { key: null, value: utf8('c'), timestamp: 9_000_000_000_000 },
      { key: null, value: utf8('d'), timestamp: -1 },
    ];
    const batch = encodeRecordBatch(records);
    const { header, records: decoded } = decodeRecordBatch(batch, 0, { verify: true });
    assert.equal(header.maxTimestamp, 9_000_000_000_000);
    assertRecords(decoded, records);
  });

  it('large values (multi-byte length varints) survive', () => {
    const rand = prng(4);
    const records: ProducerRecord[] = [
      { key: randomBytes(rand, 20_000), value: randomBytes(rand, 1_100_000), headers: [{ key: 'x'.repeat(300), value: randomBytes(rand, 70_000) }], timestamp: T0 },
      { key: utf8('small'), value: utf8('v'), timestamp: T0 + 1 },
    ];
    for (const codec of CODECS) assertRecords(decodeRecordBatch(encodeRecordBatch(records, { codec })).records, records);
  });

  it('decoded keys, values and header values are views into the input, not copies', () => {
    const records = makeRecords(20, 3);
    const batch = encodeRecordBatch(records);
    const asBuffer = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
    for (const input of [batch, asBuffer]) {
      for (const d of decodeRecordBatch(input).records) {
        for (const bytes of [d.key, d.value, ...d.headers.map((h) => h.value)]) {
          if (bytes === null) continue;
          assert.equal(bytes.buffer, batch.buffer);
          assert.equal(bytes.constructor, Uint8Array);
        }
      }
    }
  });

  it('decodes a batch that sits at a non-zero position of a larger buffer', () => {
    const records = makeRecords(10, 8);
    const batch = encodeRecordBatch(records, { codec: 'zstd' });
    const big = new Uint8Array(batch.length + 100);
    big.set(batch, 37);
    const { header, records: decoded } = decodeRecordBatch(big, 37, { verify: true });
    assert.equal(header.totalSize, batch.length);
    assertRecords(decoded, records);
  });

  it('rejects bad input to the encoder', () => {
    assert.throws(() => encodeRecordBatch([]), RangeError);
    assert.throws(() => encodeRecordBatch([{ key: null, value: null, timestamp: 1.5 }]), TypeError);
    assert.throws(() => encodeRecordBatch([{ key: null, value: null, timestamp: 1 }, { key: null, value: null, timestamp: Number.NaN }]), TypeError);
    assert.throws(() => encodeRecordBatch([{ key: null, value: null, timestamp: 1 }], { producerEpoch: 40000 }), RangeError);
    assert.throws(() => encodeRecordBatch([{ key: null, value: null, timestamp: 1 }], { codec: 'snappy' }), UnsupportedCodecError);
    assert.throws(() => encodeRecordBatch([{ key: null, value: null, headers: [{ key: 1 as never, value: null }], timestamp: 1 }]), TypeError);
  });

  it('header keys: repeated, same-length-different, many distinct, long and non-ASCII all decode right', () => {
    const keys = ['ab', 'ac', 'ab', 'ba', 'é', 'ab', 'x'.repeat(100), 'ü'.repeat(40), ''];
    for (let i = 0; i < 12; i++) keys.push(`k${i}`, 'ab');
    const records: ProducerRecord[] = keys.map((key, i) => ({ key: null, value: null, headers: [{ key, value: null }, { key: 'ac', value: null }], timestamp: i }));
    const decoded = decodeRecordBatch(encodeRecordBatch(records)).records;
    assert.deepEqual(decoded.map((d) => d.headers.map((h) => h.key)), keys.map((k) => [k, 'ac']));
  });

  it('encodes header keys with lone surrogates the way TextEncoder does (U+FFFD)', () => {
    const records: ProducerRecord[] = [{ key: null, value: null, headers: [{ key: 'a\uD800b', value: null }], timestamp: 1 }];
    const decoded = decodeRecordBatch(encodeRecordBatch(records)).records[0];
    assert.equal(decoded.headers[0].key, 'a\uFFFDb');
  });
});

describe('corruption and truncation', () => {
  const records = makeRecords(8, 12);

  for (const codec of CODECS) {
    it(`${codec}: flipping any byte covered by the CRC (or the CRC itself) fails verifyBatch`, () => {
      const batch = encodeRecordBatch(records, { codec });
      for (let i = 17; i < batch.length; i++) {
        const bad = batch.slice();
        bad[i] ^= 0x01;
        assert.throws(() => verifyBatch(bad), CorruptBatchError, `byte ${i}`);
        assert.throws(() => decodeRecordBatch(bad, 0, { verify: true }), CorruptBatchError, `byte ${i}`);
      }
    });
  }

  it('a flipped byte after the CRC is reported as a CRC mismatch', () => {
    const bad = encodeRecordBatch(records);
    bad[BATCH_HEADER_SIZE + 5] ^= 0xff;
    assert.throws(() => verifyBatch(bad), /CRC mismatch/);
  });

  it('baseOffset and partitionLeaderEpoch are outside the CRC', () => {
    const batch = encodeRecordBatch(records);
    batch[3] ^= 0xff;
    batch[14] ^= 0xff;
    assert.doesNotThrow(() => verifyBatch(batch));
  });

  it('wrong magic is rejected', () => {
    const bad = encodeRecordBatch(records);
    bad[16] = 1;
    assert.throws(() => readBatchHeader(bad), /magic/);
    assert.throws(() => decodeRecordBatch(bad), CorruptBatchError);
  });

  for (const codec of CODECS) {
    it(`${codec}: every truncation is detected`, () => {
      const batch = encodeRecordBatch(records, { codec });
      for (let n = 0; n < batch.length; n++) {
        const cut = batch.subarray(0, n);
        assert.throws(() => verifyBatch(cut), CorruptBatchError, `verify ${n}`);
        assert.throws(() => decodeRecordBatch(cut), CorruptBatchError, `decode ${n}`);
        if (n > 0) assert.throws(() => [...iterateBatches(cut)], CorruptBatchError, `iterate ${n}`);
      }
      // an empty buffer is an empty segment, not a truncated one
      assert.deepEqual([...iterateBatches(batch.subarray(0, 0))], []);
    });
  }

  it('readBatchHeader needs only the 61 header bytes', () => {
    const batch = encodeRecordBatch(records);
    const h = readBatchHeader(batch.subarray(0, BATCH_HEADER_SIZE));
    assert.equal(h.totalSize, batch.length);
    assert.throws(() => readBatchHeader(batch.subarray(0, BATCH_HEADER_SIZE - 1)), /truncated/);
  });

  /** Re-signs a hand-modified batch so that only the structural checks can catch it. */
  function resign(batch: Uint8Array): Uint8Array {
    new DataView(batch.buffer, batch.byteOffset).setUint32(17, crc32c(batch, 21));
    return batch;
  }

  it('structural damage under a valid CRC is caught by the decoder', () => {
    const one: ProducerRecord[] = [{ key: utf8('k'), value: utf8('value'), timestamp: 5 }];
    const good = encodeRecordBatch(one);
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset);

    // recordCount larger than the records present
    let bad = good.slice();
    view(bad).setInt32(57, 2);
    assert.throws(() => decodeRecordBatch(resign(bad)), CorruptBatchError);
    // recordCount smaller: trailing bytes
    const two = encodeRecordBatch([...one, ...one]);
    bad = two.slice();
    view(bad).setInt32(57, 1);
    assert.throws(() => decodeRecordBatch(resign(bad)), /trailing/);
    // record length says one byte more than the record has
    bad = good.slice();
    bad[BATCH_HEADER_SIZE] += 2;
    assert.throws(() => decodeRecordBatch(resign(bad)), CorruptBatchError);
    // value length overruns the record
    bad = good.slice();
    bad[BATCH_HEADER_SIZE + 6] = 0x20; // value length 16 > remaining
    assert.throws(() => decodeRecordBatch(resign(bad)), /overruns/);
    // key length -2
    bad = good.slice();
    bad[BATCH_HEADER_SIZE + 4] = 0x03;
    assert.throws(() => decodeRecordBatch(resign(bad)), /invalid key length/);
    // negative record count / lastOffsetDelta, and more records than offsets
    bad = good.slice();
    view(bad).setInt32(57, -1);
    assert.throws(() => verifyBatch(resign(bad)), /negative record count/);
    assert.throws(() => decodeRecordBatch(bad), CorruptBatchError);
    bad = good.slice();
    view(bad).setInt32(23, -1);
    assert.throws(() => verifyBatch(resign(bad)), /lastOffsetDelta/);
    bad = two.slice();
    view(bad).setInt32(23, 0);
    assert.throws(() => verifyBatch(resign(bad)), /exceeds lastOffsetDelta/);
    // unknown codec id
    bad = good.slice();
    bad[22] = 6;
    assert.throws(() => readBatchHeader(resign(bad)), /codec id 6/);
    // batchLength smaller than a header
    bad = good.slice();
    view(bad).setInt32(8, 10);
    assert.throws(() => readBatchHeader(bad), /smaller than the header/);
    // garbage inside a compressed section
    bad = encodeRecordBatch(one, { codec: 'gzip' });
    bad[BATCH_HEADER_SIZE + 12] ^= 0xff;
    assert.throws(() => decodeRecordBatch(resign(bad)), CorruptBatchError);
  });

  it('snappy / lz4 batches are recognised but not decoded', () => {
    const bad = encodeRecordBatch(records);
    bad[22] = 2;
    const header = verifyBatch(resign(bad));
    assert.equal(header.codec, 'snappy');
    assert.throws(() => decodeRecordBatch(bad), UnsupportedCodecError);
  });

  it('maxDecompressedBytes guards against decompression bombs', () => {
    const big: ProducerRecord[] = [{ key: null, value: new Uint8Array(1_000_000), timestamp: 1 }];
    const batch = encodeRecordBatch(big, { codec: 'zstd' });
    assert.ok(batch.length < 1000);
    assert.throws(() => decodeRecordBatch(batch, 0, { maxDecompressedBytes: 100_000 }), CorruptBatchError);
    assert.equal(decodeRecordBatch(batch, 0, { maxDecompressedBytes: 2_000_000 }).records.length, 1);
  });
});

describe('segments: iterateBatches, writeBaseOffset, stampLogAppendTime', () => {
  function segment(): { buf: Uint8Array; sizes: number[]; counts: number[] } {
    const parts = CODECS.map((codec, i) => encodeRecordBatch(makeRecords(5 + i, 20 + i), { codec }));
    const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let pos = 0;
    for (const p of parts) {
      buf.set(p, pos);
      pos += p.length;
    }
    return { buf, sizes: parts.map((p) => p.length), counts: [5, 6, 7] };
  }

  it('walks back-to-back batches with positions and headers', () => {
    const { buf, sizes, counts } = segment();
    for (const verify of [false, true]) {
      const seen = [...iterateBatches(buf, { verify })];
      assert.deepEqual(seen.map((b) => b.position), [0, sizes[0], sizes[0] + sizes[1]]);
      assert.deepEqual(seen.map((b) => b.header.recordCount), counts);
      assert.deepEqual(seen.map((b) => b.header.codec), CODECS);
    }
  });

  it('throws on a truncated tail or trailing garbage', () => {
    const { buf } = segment();
    assert.throws(() => [...iterateBatches(buf.subarray(0, buf.length - 1))], CorruptBatchError);
    const withGarbage = new Uint8Array(buf.length + 70);
    withGarbage.set(buf);
    withGarbage.fill(0xab, buf.length);
    assert.throws(() => [...iterateBatches(withGarbage)], CorruptBatchError);
    const withShortTail = new Uint8Array(buf.length + 5);
    withShortTail.set(buf);
    assert.throws(() => [...iterateBatches(withShortTail)], CorruptBatchError);
  });

  it('verify: true catches a corrupt batch in the middle; verify: false does not read records', () => {
    const { buf, sizes } = segment();
    buf[sizes[0] + BATCH_HEADER_SIZE + 3] ^= 0x10;
    assert.equal([...iterateBatches(buf)].length, 3);
    assert.throws(() => [...iterateBatches(buf, { verify: true })], /CRC mismatch at position/);
  });

  it('writeBaseOffset stamps real offsets without breaking the CRC', () => {
    const { buf, sizes } = segment();
    let next = 1_000_000_000_000n;
    for (const { position, header } of iterateBatches(buf)) {
      writeBaseOffset(buf, position, next);
      next += BigInt(header.lastOffsetDelta + 1);
    }
    const batches = [...iterateBatches(buf, { verify: true })];
    assert.deepEqual(batches.map((b) => b.header.baseOffset), [1_000_000_000_000n, 1_000_000_000_005n, 1_000_000_000_011n]);
    const second = decodeRecordBatch(buf, sizes[0], { verify: true });
    assert.deepEqual(second.records.map((r) => r.offset), [0n, 1n, 2n, 3n, 4n, 5n].map((d) => 1_000_000_000_005n + d));
  });

  it('writeBaseOffset validates its arguments', () => {
    const batch = encodeRecordBatch(makeRecords(1));
    assert.throws(() => writeBaseOffset(batch, 0, -1n), RangeError);
    assert.throws(() => writeBaseOffset(batch, 0, 2n ** 63n), RangeError);
    assert.throws(() => writeBaseOffset(batch, batch.length - 4, 1n), RangeError);
    assert.throws(() => writeBaseOffset(batch, 0, 1 as never), RangeError);
  });

  it('stampLogAppendTime sets the type bit and maxTimestamp and re-signs', () => {
    const batch = encodeRecordBatch(makeRecords(4, 30), { codec: 'gzip' });
    stampLogAppendTime(batch, 0, T0 + 123_456);
    const { header, records } = decodeRecordBatch(batch, 0, { verify: true });
    assert.equal(header.timestampType, 'logAppend');
    assert.equal(header.maxTimestamp, T0 + 123_456);
    assert.equal(header.codec, 'gzip');
    assert.ok(records.every((r) => r.timestamp === T0 + 123_456));
  });
});
