import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  NATIVE_CRC32C_MIN_BYTES,
  NATIVE_CRC32C_MODULE,
  crc32c,
  crc32cImplementation,
  crc32cJs,
  loadNativeCrc32c,
} from '../../lib/protocol/crc32c.ts';
import { prng } from './helpers.ts';

const require = createRequire(import.meta.url);
// KafkaJS's byte-at-a-time CRC-32C: an independent implementation to compare against
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the standard check value and RFC 3720 (iSCSI) vectors', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
    assert.equal(crc32c(ascii('a')), 0xc1d04330);
    assert.equal(crc32c(ascii('The quick brown fox jumps over the lazy dog')), 0x22620404);
  });

  it('returns an unsigned 32-bit value', () => {
    const crc = crc32c(ascii('123456789'));
    assert.ok(crc > 0x7fffffff && Number.isInteger(crc));
  });

  it('honours start/end and agrees with KafkaJS on every length and alignment', () => {
    const rand = prng(42);
    const data = Uint8Array.from({ length: 300 }, () => rand() & 0xff);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 1 + (end % 7)) {
        const expected = kafkajsCrc32c(Buffer.from(data.subarray(start, end)));
        assert.equal(crc32c(data, start, end), expected, `range [${start}, ${end})`);
      }
    }
    assert.equal(crc32c(data, 5), crc32c(data.subarray(5)));
  });

  it('continues a running checksum through the seed argument', () => {
    const data = ascii('123456789');
    assert.equal(crc32c(data, 4, data.length, crc32c(data, 0, 4)), 0xe3069283);
  });

  it('checksums above the native threshold agree with KafkaJS (whichever implementation serves them)', () => {
    const rand = prng(7);
    const data = Uint8Array.from({ length: 70_000 }, () => rand() & 0xff);
    for (const [start, end] of [[0, NATIVE_CRC32C_MIN_BYTES], [3, 3 + NATIVE_CRC32C_MIN_BYTES + 1], [0, data.length], [11, data.length - 5]]) {
      assert.equal(crc32c(data, start, end), kafkajsCrc32c(Buffer.from(data.subarray(start, end))), `range [${start}, ${end})`);
    }
    const half = 35_001;
    assert.equal(crc32c(data, half, data.length, crc32c(data, 0, half)), crc32c(data), 'a running checksum across the threshold');
  });

  it('rejects an out-of-range slice', () => {
    assert.throws(() => crc32c(new Uint8Array(4), 0, 5), RangeError);
    assert.throws(() => crc32c(new Uint8Array(4), 3, 2), RangeError);
  });
});

describe('crc32c, native (@node-rs/crc32) and JS', () => {
  const native = loadNativeCrc32c();

  it('the optional native module is installed here and used for large checksums', () => {
    // npm ci installs optional dependencies on every platform with a prebuilt binary (linux x64 and
    // arm64 included); without one this fails, so a broken install is noticed rather than run slow.
    assert.ok(native, `${NATIVE_CRC32C_MODULE} loads`);
    assert.equal(crc32cImplementation(), 'native');
  });

  it('agree on the golden vectors', () => {
    assert.ok(native);
    const vectors: Array<[Uint8Array, number]> = [
      [ascii('123456789'), 0xe3069283],
      [new Uint8Array(0), 0],
      [new Uint8Array(32), 0x8a9136aa],
      [new Uint8Array(32).fill(0xff), 0x62a8ab43],
      [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
      [ascii('The quick brown fox jumps over the lazy dog'), 0x22620404],
    ];
    for (const [input, expected] of vectors) {
      assert.equal(native(input) >>> 0, expected);
      assert.equal(crc32cJs(input), expected);
    }
  });

  it('agree on random inputs of every size class, offsets and seeds', () => {
    assert.ok(native);
    const rand = prng(2026);
    const data = Uint8Array.from({ length: 1 << 18 }, () => rand() & 0xff);
    for (let i = 0; i < 400; i++) {
      const length = i < 200 ? rand() % 2048 : rand() % data.length;
      const start = rand() % (data.length - length + 1);
      const seed = i % 3 === 0 ? 0 : rand() >>> 0;
      const slice = data.subarray(start, start + length);
      assert.equal(native(slice, seed) >>> 0, crc32cJs(data, start, start + length, seed), `length ${length} at ${start}, seed ${seed}`);
    }
  });

  it('falls back to JS when the module is absent, broken or wrong', () => {
    const missing = () => {
      throw Object.assign(new Error(`Cannot find module '${NATIVE_CRC32C_MODULE}'`), { code: 'MODULE_NOT_FOUND' });
    };
    assert.equal(loadNativeCrc32c(missing), null);
    assert.equal(loadNativeCrc32c(() => null), null, 'not Node: no require');
    assert.equal(loadNativeCrc32c(() => ({})), null, 'no crc32c export');
    assert.equal(loadNativeCrc32c(() => ({ crc32c: () => 0x12345678 })), null, 'a function that is not CRC-32C');
    const real = loadNativeCrc32c(() => ({ crc32c: (input: Uint8Array, seed?: number) => crc32cJs(input, 0, input.length, seed) }));
    assert.ok(real, 'a correct implementation passes the self-check');
  });

  it('without the module installed, every checksum is computed by the JS loop, with the same results', { timeout: 60_000 }, async () => {
    // A separate Node process in which the package cannot be resolved (a resolve hook refuses it), as
    // on a machine where the optional dependency was not installed.
    const script = `
      import { registerHooks } from 'node:module';
      registerHooks({
        resolve(specifier, context, next) {
          if (specifier === ${JSON.stringify(NATIVE_CRC32C_MODULE)}) throw Object.assign(new Error('not installed'), { code: 'MODULE_NOT_FOUND' });
          return next(specifier, context);
        },
      });
      const { crc32c, crc32cImplementation } = await import(${JSON.stringify(new URL('../../lib/protocol/crc32c.ts', import.meta.url).href)});
      const data = new Uint8Array(100_000).map((_, i) => (i * 7919) & 0xff);
      console.log(JSON.stringify({ implementation: crc32cImplementation(), large: crc32c(data), small: crc32c(data, 0, 9) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const result = JSON.parse(stdout) as { implementation: string; large: number; small: number };
    const data = new Uint8Array(100_000).map((_, i) => (i * 7919) & 0xff);
    assert.deepEqual(result, { implementation: 'js', large: crc32cJs(data), small: crc32cJs(data, 0, 9) });
  });
});
