import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import {
  CODEC_BY_ID,
  CODEC_IDS,
  codecFromId,
  compress,
  decompress,
  defaultCodec,
  isCodec,
  UnsupportedCodecError,
  ZSTD_WINDOW_LOG,
  zstdContentSize,
} from '../../lib/protocol/compression.ts';
import { CorruptBatchError } from '../../lib/protocol/errors.ts';
import { prng, randomBytes, utf8 } from './helpers.ts';

const sample = utf8('the quick brown fox jumps over the lazy dog; '.repeat(200));

describe('compression', () => {
  it('maps codecs to Kafka attribute ids and back', () => {
    assert.deepEqual(CODEC_IDS, { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
    for (const [codec, id] of Object.entries(CODEC_IDS)) {
      assert.equal(CODEC_BY_ID[id], codec);
      assert.equal(codecFromId(id), codec);
    }
    assert.equal(codecFromId(5), undefined);
    assert.equal(codecFromId(7), undefined);
    assert.ok(isCodec('zstd'));
    assert.ok(!isCodec('brotli'));
    assert.ok(!isCodec('toString'));
  });

  it("defaultCodec is zstd on a Node with zlib zstd (Node 24)", () => {
    assert.equal(typeof zlib.zstdCompressSync, 'function');
    assert.equal(defaultCodec(), 'zstd');
  });

  it('none is the identity without a copy', () => {
    assert.equal(compress('none', sample), sample);
    assert.equal(decompress('none', sample), sample);
  });

  for (const codec of ['gzip', 'zstd'] as const) {
    it(`${codec} round-trips (text, random, empty) and actually compresses`, () => {
      const random = randomBytes(prng(1), 10_000);
      for (const data of [sample, random, new Uint8Array(0)]) {
        const packed = compress(codec, data);
        assert.deepEqual(decompress(codec, packed), Buffer.from(data));
      }
      assert.ok(compress(codec, sample).length < sample.length / 10);
    });

    it(`${codec} output is the standard format (readable by plain zlib)`, () => {
      const packed = compress(codec, sample);
      const plain = codec === 'gzip' ? zlib.gunzipSync(packed) : zlib.zstdDecompressSync(packed);
      assert.deepEqual(new Uint8Array(plain), sample);
      // and we read what zlib writes with its defaults
      const theirs = codec === 'gzip' ? zlib.gzipSync(sample, { level: 9 }) : zlib.zstdCompressSync(sample);
      assert.deepEqual(new Uint8Array(decompress(codec, theirs)), sample);
    });

    it(`${codec} malformed input and maxOutputLength raise CorruptBatchError`, () => {
      assert.throws(() => decompress(codec, utf8('definitely not compressed')), CorruptBatchError);
      const packed = compress(codec, sample);
      assert.throws(() => decompress(codec, packed.subarray(0, packed.length >> 1)), CorruptBatchError);
      assert.throws(() => decompress(codec, packed, { maxOutputLength: 100 }), CorruptBatchError);
      assert.equal(decompress(codec, packed, { maxOutputLength: sample.length }).length, sample.length);
    });
  }

  it('zstd round-trips at the sizes where its one output buffer is sized (0 to past 128 KiB, incompressible too), as a standard frame', () => {
    for (const size of [0, 1, 63, 64, 65, 4095, 128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, 700_000]) {
      for (const data of [randomBytes(prng(size + 1), size), new Uint8Array(size).fill(42)]) {
        const packed = compress('zstd', data);
        assert.deepEqual(new Uint8Array(zlib.zstdDecompressSync(packed)), data, `${size} bytes`);
        assert.deepEqual(decompress('zstd', packed), Buffer.from(data), `${size} bytes`);
      }
    }
  });

  it('zstd frames of large sections use a 256 KiB window (ZSTD_WINDOW_LOG), small ones no larger', () => {
    // Frame header (RFC 8878 3.1.1.1): descriptor byte, then Window_Descriptor unless Single_Segment.
    const windowOf = (frame: Uint8Array) => {
      const descriptor = frame[4];
      if ((descriptor >> 5) & 1) return zstdContentSize(frame)!; // single segment: the window is the content
      const exponent = (frame[5] >> 3) + 10;
      return 2 ** exponent + (2 ** exponent / 8) * (frame[5] & 7);
    };
    const large = randomBytes(prng(7), 1024 * 1024).map((b) => b & 0x0f); // compressible, 1 MiB
    assert.equal(windowOf(compress('zstd', large)), 2 ** ZSTD_WINDOW_LOG);
    assert.ok(windowOf(compress('zstd', large.subarray(0, 50_000))) <= 2 ** ZSTD_WINDOW_LOG);
  });

  it('accepts an explicit level', () => {
    assert.deepEqual(new Uint8Array(decompress('gzip', compress('gzip', sample, { level: 9 }))), sample);
    assert.deepEqual(new Uint8Array(decompress('zstd', compress('zstd', sample, { level: 1 }))), sample);
  });

  it('snappy and lz4 throw UnsupportedCodecError both ways', () => {
    for (const codec of ['snappy', 'lz4'] as const) {
      assert.throws(() => compress(codec, sample), (e: unknown) => e instanceof UnsupportedCodecError && e.codec === codec);
      assert.throws(() => decompress(codec, sample), UnsupportedCodecError);
    }
    assert.throws(() => compress('brotli' as never, sample), UnsupportedCodecError);
  });

  it('reads the content size a zstd frame declares, for every field width, and nothing from other data', () => {
    for (const size of [0, 1, 200, 300, 70_000, 1 << 20]) {
      const data = randomBytes(prng(size + 1), size);
      const frame = compress('zstd', data);
      assert.equal(zstdContentSize(frame), size, `a frame of ${size} bytes`);
      assert.deepEqual(new Uint8Array(decompress('zstd', frame, { maxOutputLength: Math.max(1, size) })), new Uint8Array(data));
    }
    // A frame written without its size: no hint, still decompressed.
    const streamed = zlib.zstdCompressSync(sample, { params: { [zlib.constants.ZSTD_c_contentSizeFlag]: 0 } });
    assert.equal(zstdContentSize(streamed), undefined);
    assert.deepEqual(new Uint8Array(decompress('zstd', streamed)), new Uint8Array(sample));
    assert.equal(zstdContentSize(compress('gzip', sample)), undefined);
    assert.equal(zstdContentSize(new Uint8Array([0x28, 0xb5, 0x2f])), undefined);
  });

  it('a zstd frame that declares a wrong size still decompresses right, and the limit still holds', () => {
    const frame = compress('zstd', sample) as Uint8Array;
    const declared = zstdContentSize(frame)!;
    const descriptor = frame[4];
    const at = 5 + ((descriptor >> 5) & 1 ? 0 : 1) + [0, 1, 2, 4][descriptor & 3];
    assert.equal(declared, sample.length);
    for (const lie of [1, sample.length * 1000]) {
      // Rewrite the 2-byte field (this frame's width for 9,000 bytes) and expect zstd to reject or
      // ignore the lie exactly as without the hint: either way no wrong bytes come out.
      const tampered = Uint8Array.from(frame);
      new DataView(tampered.buffer).setUint16(at, Math.min(lie, 0xffff + 256) - 256, true);
      let hinted: unknown;
      try {
        hinted = decompress('zstd', tampered);
      } catch (error) {
        hinted = error;
      }
      if (hinted instanceof Uint8Array) assert.deepEqual(new Uint8Array(hinted), new Uint8Array(sample));
      else assert.ok(hinted instanceof CorruptBatchError, `lie ${lie}: ${String(hinted)}`);
    }
    assert.throws(() => decompress('zstd', frame, { maxOutputLength: sample.length - 1 }));
  });
});
