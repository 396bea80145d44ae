import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptBatchError } from '../../lib/protocol/errors.ts';
import {
  cursor,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from '../../lib/protocol/varint.ts';
import { prng } from './helpers.ts';

/** Reference zig-zag varlong encoder on BigInt (full int64 range), independent of varint.ts. */
function referenceVarlong(value: bigint): number[] {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (zz > 0x7fn) {
    out.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  out.push(Number(zz));
  return out;
}

function encodeVarint(n: number): number[] {
  const buf = new Uint8Array(5);
  return [...buf.subarray(0, writeVarint(buf, 0, n))];
}

function encodeVarlong(n: number): number[] {
  const buf = new Uint8Array(10);
  return [...buf.subarray(0, writeVarlong(buf, 0, n))];
}

const INT32_EDGES = [0, 1, -1, 2, -2, 63, -64, 64, -65, 127, 128, 8191, -8192, 8192, 2 ** 20, -(2 ** 20), 2 ** 27 - 1, 2 ** 27, 2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)];

describe('varint (zig-zag, 32-bit)', () => {
  it('has the golden encodings', () => {
    assert.deepEqual(encodeVarint(0), [0x00]);
    assert.deepEqual(encodeVarint(-1), [0x01]); // zigzag(-1) = 1
    assert.deepEqual(encodeVarint(1), [0x02]);
    assert.deepEqual(encodeVarint(-2), [0x03]);
    assert.deepEqual(encodeVarint(63), [0x7e]);
    assert.deepEqual(encodeVarint(-64), [0x7f]);
    assert.deepEqual(encodeVarint(64), [0x80, 0x01]);
    assert.deepEqual(encodeVarint(150), [0xac, 0x02]);
    assert.deepEqual(encodeVarint(300), [0xd8, 0x04]); // zigzag(300) = 600
    assert.deepEqual(encodeVarint(2147483647), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
    assert.deepEqual(encodeVarint(-2147483648), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it('unsigned varint golden encodings', () => {
    const buf = new Uint8Array(5);
    assert.deepEqual([...buf.subarray(0, writeUnsignedVarint(buf, 0, 300))], [0xac, 0x02]);
    assert.deepEqual([...buf.subarray(0, writeUnsignedVarint(buf, 0, 0xffffffff))], [0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert.equal(readUnsignedVarint(cursor(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f))), 0xffffffff);
    assert.equal(sizeOfUnsignedVarint(127), 1);
    assert.equal(sizeOfUnsignedVarint(128), 2);
    assert.equal(sizeOfUnsignedVarint(0xffffffff), 5);
  });

  it('round-trips edge and random values, and sizeOfVarint is exact', () => {
    const rand = prng(7);
    const values = [...INT32_EDGES];
    for (let i = 0; i < 2000; i++) values.push(rand() | 0, (rand() | 0) >> (rand() % 31));
    const buf = new Uint8Array(5 * values.length);
    let pos = 0;
    for (const v of values) {
      const next = writeVarint(buf, pos, v);
      assert.equal(next - pos, sizeOfVarint(v), `size of ${v}`);
      assert.deepEqual([...buf.subarray(pos, next)], referenceVarlong(BigInt(v)), `bytes of ${v}`);
      pos = next;
    }
    const c = cursor(buf, 0, pos);
    for (const v of values) assert.equal(readVarint(c), v);
    assert.equal(c.pos, pos);
  });

  it('rejects truncated and over-long varints', () => {
    assert.throws(() => readVarint(cursor(Uint8Array.of(0x80))), CorruptBatchError);
    assert.throws(() => readVarint(cursor(Uint8Array.of())), CorruptBatchError);
    assert.throws(() => readVarint(cursor(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01))), CorruptBatchError);
    // end limit is honoured even when the buffer continues
    assert.throws(() => readVarint(cursor(Uint8Array.of(0x80, 0x01), 0, 1)), CorruptBatchError);
  });
});

describe('varlong (zig-zag, 64-bit as JS number)', () => {
  const edges = [
    ...INT32_EDGES,
    2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 35 - 1, 2 ** 42, -(2 ** 42) - 3, 1_700_000_000_000, -1_700_000_000_000,
    2 ** 49 + 12345, 2 ** 52, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1,
  ];

  it('matches a BigInt reference encoder, round-trips, and sizeOfVarlong is exact', () => {
    const rand = prng(11);
    const values = [...edges];
    for (let i = 0; i < 3000; i++) {
      const magnitude = Math.floor((rand() / 2 ** 32) * 2 ** (rand() % 54));
      values.push(rand() & 1 && magnitude !== 0 ? -magnitude : magnitude);
    }
    for (const v of values) {
      const bytes = encodeVarlong(v);
      assert.deepEqual(bytes, referenceVarlong(BigInt(v)), `bytes of ${v}`);
      assert.equal(sizeOfVarlong(v), bytes.length, `size of ${v}`);
      const c = cursor(Uint8Array.from(bytes));
      assert.equal(readVarlong(c), v);
      assert.equal(c.pos, bytes.length);
    }
  });

  it('golden: Date-sized deltas', () => {
    assert.deepEqual(encodeVarlong(-1), [0x01]);
    assert.deepEqual(encodeVarlong(2 ** 31), [0x80, 0x80, 0x80, 0x80, 0x10]);
    assert.deepEqual(encodeVarlong(Number.MAX_SAFE_INTEGER), [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]);
  });

  it('refuses values outside the safe integer range', () => {
    assert.throws(() => writeVarlong(new Uint8Array(10), 0, 2 ** 53), RangeError);
    assert.throws(() => writeVarlong(new Uint8Array(10), 0, 0.5), RangeError);
    for (const big of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      assert.throws(() => readVarlong(cursor(Uint8Array.from(referenceVarlong(big)))), CorruptBatchError, String(big));
    }
    assert.equal(readVarlong(cursor(Uint8Array.from(referenceVarlong(-(2n ** 53n) + 1n)))), -Number.MAX_SAFE_INTEGER);
  });

  it('rejects truncated and over-long varlongs', () => {
    assert.throws(() => readVarlong(cursor(Uint8Array.of(0x80, 0x80))), CorruptBatchError);
    assert.throws(() => readVarlong(cursor(new Uint8Array(11).fill(0x80))), CorruptBatchError);
  });
});
