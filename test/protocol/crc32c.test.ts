import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { crc32c } from '../../lib/protocol/crc32c.ts';
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

  it('rejects an out-of-range slice', () => {
    assert.throws(() => crc32c(new Uint8Array(4), 0, 5), RangeError);
    assert.throws(() => crc32c(new Uint8Array(4), 3, 2), RangeError);
  });
});
