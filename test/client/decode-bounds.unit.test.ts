/**
 * Issue 10, fault 3 on the client: every decoder the consumer uses (node:zlib, browser streams, fzstd)
 * stops at LIMITS.maxDecompressedBytes, and fzstd is never asked to allocate what a frame header claims.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { LIMITS } from '../../lib/defaults.ts';
import { decodeFetched } from '../../lib/client/protocol/decode.ts';
import { nodeCompressor } from '../../lib/protocol/compression.ts';
import { checkZstdFrames, webCompressor } from '../../lib/protocol/compression-web.ts';
import { encodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { batchAround, zstdBomb, zstdRleFrame } from '../support/bad-batches.ts';

const MAX = LIMITS.maxDecompressedBytes;
const compressors = [nodeCompressor, webCompressor];
/** 16 MiB of zeros in about 16 KB: twice the limit. */
const gzipBomb = zlib.gzipSync(new Uint8Array(2 * MAX), { level: 9 });

describe('bounded decompression in the client', { timeout: 60_000 }, () => {
  for (const compressor of compressors) {
    it(`${compressor.name}: a zstd bomb stops at the limit`, async () => {
      await assert.rejects(compressor.decompress('zstd', zstdRleFrame(), { maxOutputLength: MAX }), { name: 'InflatedTooLargeError' });
      // exactly the limit still decodes
      const atLimit = await compressor.decompress('zstd', zstdRleFrame(MAX, 7), { maxOutputLength: MAX });
      assert.equal(atLimit.length, MAX);
    });

    it(`${compressor.name}: a gzip bomb stops at the limit`, async () => {
      await assert.rejects(compressor.decompress('gzip', gzipBomb, { maxOutputLength: MAX }), { name: 'InflatedTooLargeError' });
    });

    it(`${compressor.name}: decodeFetched turns a bomb into CORRUPT_DATA, and decodes what producers write`, async () => {
      await assert.rejects(decodeFetched(zstdBomb(), { compressor, fromOffset: 0n, verify: true }), { code: 'CORRUPT_DATA' });
      await assert.rejects(decodeFetched(batchAround(gzipBomb, { count: 1, codec: 'gzip' }), { compressor, fromOffset: 0n, verify: true }), { code: 'CORRUPT_DATA' });
      const value = new Uint8Array(1024 * 1024).map((_, i) => i % 7);
      for (const codec of ['zstd', 'gzip'] as const) {
        const batch = encodeRecordBatch([{ key: null, value, headers: [], timestamp: 1 }], { codec });
        const [decoded] = await decodeFetched(batch, { compressor, fromOffset: 0n, verify: true });
        assert.deepEqual(decoded.records[0].value, value);
      }
    });
  }

  it('fzstd: frames claiming a huge window or content size are refused before anything is allocated', async () => {
    // single-segment frame declaring 2 GiB - 1 of content, then one empty last raw block
    const claimsHuge = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0xff, 0xff, 0xff, 0x7f, 0x01, 0x00, 0x00]);
    assert.throws(() => checkZstdFrames(claimsHuge, MAX), { name: 'InflatedTooLargeError' });
    // window descriptor of 1 GiB
    const hugeWindow = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, (30 - 10) << 3, 0x01, 0x00, 0x00]);
    assert.throws(() => checkZstdFrames(hugeWindow, MAX), { name: 'InflatedTooLargeError' });
    await assert.rejects(webCompressor.decompress('zstd', claimsHuge, { maxOutputLength: MAX }), { name: 'InflatedTooLargeError' });
    await assert.rejects(webCompressor.decompress('zstd', hugeWindow, { maxOutputLength: MAX }), { name: 'InflatedTooLargeError' });
    await assert.rejects(webCompressor.decompress('zstd', new Uint8Array([0x28, 0xb5, 0x2f]), { maxOutputLength: MAX }), { name: 'CorruptBatchError' });
  });

  it('fzstd: frames other encoders write (no content size, a window, skippable frames, checksums) still decode', async () => {
    const data = new Uint8Array(300_000).map((_, i) => i % 251);
    const streamed = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const z = zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_checksumFlag]: 1, [zlib.constants.ZSTD_c_windowLog]: 20 } });
      z.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
      z.end(data);
    });
    const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    const framed = new Uint8Array([...skippable, ...streamed, ...zlib.zstdCompressSync(data)]);
    checkZstdFrames(framed, MAX);
    const decoded = await webCompressor.decompress('zstd', framed, { maxOutputLength: MAX });
    assert.deepEqual(decoded, new Uint8Array([...data, ...data]));
  });
});
