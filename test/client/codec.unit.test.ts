/**
 * The client's wire code without a network: produce framing (against the server's own encoder and
 * parser), decoding of location ranges and fetch answers, and the two Compressors agreeing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFetched } from '../../lib/client/protocol/decode.ts';
import { encodeSluiceBatches } from '../../lib/api/sluice-batches.ts';
import { encodeBatch, encodeProduceRequest } from '../../lib/client/protocol/produce-request.ts';
import { parseSluiceBatches } from '../../lib/http/sluice-batches.ts';
import { compress, nodeCompressor } from '../../lib/protocol/compression.ts';
import { webCompressor } from '../../lib/protocol/compression-web.ts';
import { decodeRecordBatch, encodeRecordBatch, readBatchHeader, writeBaseOffset, type ProducerRecord } from '../../lib/protocol/record-batch.ts';
import { prng, randomBytes, utf8 } from '../protocol/helpers.ts';

const T0 = 1_764_000_000_000;

function records(n: number, tag: string, seed = 1): ProducerRecord[] {
  const rand = prng(seed);
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : utf8(`key-${i}`),
    value: utf8(JSON.stringify({ tag, i, pad: 'lorem ipsum '.repeat(rand() % 8) })),
    headers: i % 2 ? [{ key: 'h', value: randomBytes(rand, 4) }] : [],
    timestamp: T0 + i,
  }));
}

/** A stored range: batches back to back, base offset 0 as the server stores them. */
function storedRange(batchSizes: number[], codecs: Array<'none' | 'gzip' | 'zstd'>): { bytes: Uint8Array; values: string[] } {
  const parts: Uint8Array[] = [];
  const values: string[] = [];
  batchSizes.forEach((size, b) => {
    const recs = records(size, `b${b}`, b + 1);
    for (const r of recs) values.push(new TextDecoder().decode(r.value!));
    parts.push(encodeRecordBatch(recs, { codec: codecs[b % codecs.length] }));
  });
  return { bytes: Buffer.concat(parts), values };
}

const text = (v: Uint8Array | null) => new TextDecoder().decode(v!);

describe('produce request encoding', () => {
  it('frames sections as the grammar says (checked by hand), and the server parses them', async () => {
    const sections = [
      { partition: 3, batches: [records(5, 'a'), records(2, 'b')] },
      { partition: 0, batches: [records(1, 'c')] },
    ];
    const body = await encodeProduceRequest(sections, { codec: 'zstd', compressor: nodeCompressor });
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    assert.equal(view.getInt32(0), 3, 'first section: partition');
    const firstLength = view.getInt32(4);
    assert.equal(view.getInt32(8 + firstLength), 0, 'second section: partition');
    assert.equal(8 + firstLength + 8 + view.getInt32(8 + firstLength + 4), body.length, 'lengths cover the body exactly');
    const parsed = parseSluiceBatches(body);
    assert.deepEqual(parsed.map((p) => [p.partition, p.recordCount]), [[3, 7], [0, 1]]);
    assert.deepEqual(encodeSluiceBatches([]), new Uint8Array(0));
  });

  it('compresses a batch only when that makes it smaller', async () => {
    const big = await encodeBatch(records(200, 'x'), { codec: 'gzip', compressor: nodeCompressor });
    assert.equal(readBatchHeader(big).codec, 'gzip');
    const tiny = await encodeBatch([{ key: null, value: utf8('x'), timestamp: T0 }], { codec: 'zstd', compressor: nodeCompressor });
    assert.equal(readBatchHeader(tiny).codec, 'none');
    assert.equal(text(decodeRecordBatch(tiny).records[0].value), 'x');
  });

  it('browser gzip batches (CompressionStream) decode with node:zlib, and back', async () => {
    const recs = records(300, 'web');
    const fromWeb = await encodeBatch(recs, { codec: 'gzip', compressor: webCompressor });
    assert.equal(readBatchHeader(fromWeb).codec, 'gzip');
    assert.deepEqual(decodeRecordBatch(fromWeb, 0, { verify: true }).records.map((r) => text(r.value)), recs.map((r) => text(r.value)));
    const fromNode = encodeRecordBatch(recs, { codec: 'zstd' });
    const decoded = await decodeFetched(fromNode, { compressor: webCompressor, fromOffset: 0n, verify: true });
    assert.deepEqual(decoded[0].records.map((r) => text(r.value)), recs.map((r) => text(r.value)));
    assert.equal(webCompressor.canCompress('zstd'), false);
    assert.equal(webCompressor.defaultCodec, 'gzip');
    await assert.rejects(webCompressor.compress('zstd', new Uint8Array(10)), { name: 'UnsupportedCodecError' });
  });

  it('both compressors refuse corrupt input with CorruptBatchError', async () => {
    const garbage = compress('zstd', utf8('hello world hello world')).slice(0, 8);
    for (const compressor of [nodeCompressor, webCompressor]) {
      await assert.rejects(compressor.decompress('zstd', garbage), { name: 'CorruptBatchError' }, compressor.name);
      await assert.rejects(compressor.decompress('gzip', utf8('not gzip at all')), { name: 'CorruptBatchError' }, compressor.name);
    }
  });
});

describe('decoding fetched bytes', () => {
  it('stamps real offsets into a location range: first batch at baseOffset, each next after the previous', async () => {
    const { bytes, values } = storedRange([3, 1, 4, 2], ['zstd', 'none', 'gzip']);
    const batches = await decodeFetched(bytes, { compressor: nodeCompressor, fromOffset: 100n, verify: true, stampFrom: 100n, expectLastOffset: 109n });
    assert.deepEqual(batches.map((b) => [b.baseOffset, b.lastOffset]), [[100n, 102n], [103n, 103n], [104n, 107n], [108n, 109n]]);
    const all = batches.flatMap((b) => b.records);
    assert.deepEqual(all.map((r) => r.offset), Array.from({ length: 10 }, (_, i) => 100n + BigInt(i)));
    assert.deepEqual(all.map((r) => text(r.value)), values);
    // the stamped copy is still a valid batch (base offset is outside the CRC)
    assert.equal(decodeRecordBatch(bytes, 0, { verify: true }).records[0].offset, 100n);
  });

  it('skips what lies before the offset asked for, whole batches without decompressing them', async () => {
    const { bytes, values } = storedRange([3, 1, 4, 2], ['zstd']);
    let decompressed = 0;
    const counting = { ...nodeCompressor, decompress: async (...args: Parameters<typeof nodeCompressor.decompress>) => (decompressed++, nodeCompressor.decompress(...args)) };
    const batches = await decodeFetched(bytes, { compressor: counting, fromOffset: 15n, verify: true, stampFrom: 10n, expectLastOffset: 19n });
    assert.deepEqual(batches.flatMap((b) => b.records.map((r) => r.offset)), [15n, 16n, 17n, 18n, 19n]);
    assert.deepEqual(batches.flatMap((b) => b.records.map((r) => text(r.value))), values.slice(5));
    assert.equal(decompressed, 2, 'the first two batches end before offset 15 and are not decompressed');
  });

  it('refuses a range whose batches do not add up to the location, and corrupt bytes', async () => {
    const { bytes } = storedRange([3, 2], ['none']);
    await assert.rejects(decodeFetched(bytes.slice(), { compressor: nodeCompressor, fromOffset: 0n, verify: true, stampFrom: 0n, expectLastOffset: 5n }), {
      code: 'CORRUPT_DATA',
    });
    const flipped = bytes.slice();
    flipped[flipped.length - 2] ^= 0x40;
    await assert.rejects(decodeFetched(flipped, { compressor: nodeCompressor, fromOffset: 0n, verify: true }), { code: 'CORRUPT_DATA' });
    await assert.rejects(decodeFetched(bytes.subarray(0, bytes.length - 3), { compressor: nodeCompressor, fromOffset: 0n, verify: false }), { code: 'CORRUPT_DATA' });
  });

  it('reads fetch-route answers by their own base offsets and skips control batches', async () => {
    const a = encodeRecordBatch(records(2, 'a'), { codec: 'gzip' });
    const control = encodeRecordBatch([{ key: utf8('\0\0\0\0'), value: utf8('\0\0\0\0\0\0'), timestamp: T0 }], { isControl: true, isTransactional: true });
    const b = encodeRecordBatch(records(3, 'b'), { codec: 'zstd' });
    writeBaseOffset(a, 0, 40n);
    writeBaseOffset(control, 0, 42n);
    writeBaseOffset(b, 0, 43n);
    const batches = await decodeFetched(Buffer.concat([a, control, b]), { compressor: nodeCompressor, fromOffset: 41n, verify: true });
    assert.deepEqual(batches.flatMap((x) => x.records.map((r) => r.offset)), [41n, 43n, 44n, 45n]);
  });
});
