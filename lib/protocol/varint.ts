/**
 * Zig-zag varints as used inside Kafka RecordBatch v2 records (same as protobuf sint32/sint64).
 *
 *   zigzag(n)  = (n << 1) ^ (n >> 63)         -1 -> 1, 1 -> 2, -2 -> 3, ...
 *   varint     = zigzag value as unsigned LEB128: 7 bits per byte, least significant group first,
 *                high bit set on every byte except the last.    300 -> d8 04
 *   Varint  (32-bit, 1..5 bytes): offsetDelta, lengths, header count.
 *   Varlong (64-bit, 1..10 bytes): timestampDelta.
 *
 * Numbers: varints are JS int32 numbers. Varlongs are plain JS numbers, not bigint: writers accept any
 * safe integer (|v| <= 2^53 - 1) and readers throw CorruptBatchError when the encoded value does not fit
 * in a safe integer. Timestamp deltas are milliseconds, so this never bites in practice, and it keeps
 * the hot path free of bigint allocations. Integers in int32 range take a fast path with 32-bit ops;
 * larger ones are split into (sign, magnitude) so no intermediate ever needs more than 53 bits.
 *
 * Writers take (buf, pos, value) and return the new position; they do not bounds-check (size the
 * buffer with sizeOfVarint / sizeOfVarlong first). Readers take a Cursor and advance cursor.pos,
 * never reading at or past cursor.end.
 */

import { CorruptBatchError } from './errors.ts';

/** A read position inside buf, limited to [pos, end). */
export interface Cursor {
  buf: Uint8Array;
  pos: number;
  end: number;
}

export function cursor(buf: Uint8Array, pos = 0, end = buf.length): Cursor {
  return { buf, pos, end };
}

// ---------------------------------------------------------------------------------------------------
// sizes

/** Bytes needed for an unsigned LEB128 of a uint32 (value is taken modulo 2^32). */
export function sizeOfUnsignedVarint(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes needed for a zig-zag varint of an int32. */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
}

/** Bytes needed for a zig-zag varlong of a safe integer. */
export function sizeOfVarlong(value: number): number {
  if ((value | 0) === value) return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
  // zigzag >> 7 === magnitude >> 6, where magnitude = v >= 0 ? v : -v - 1 (< 2^53)
  let rest = Math.floor((value < 0 ? -value - 1 : value) / 64);
  let size = 1;
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 128);
  }
  return size;
}

// ---------------------------------------------------------------------------------------------------
// writers

export function writeUnsignedVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value >>> 0;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Zig-zag varint of an int32 (the value is truncated to int32 first, like Java's (int) cast). */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Zig-zag varlong of a safe integer. Throws RangeError for non-integers or |value| > 2^53 - 1. */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if ((value | 0) === value) return writeVarint(buf, pos, value);
  if (!Number.isSafeInteger(value)) throw new RangeError(`varlong value is not a safe integer: ${value}`);
  const sign = value < 0 ? 1 : 0;
  const magnitude = sign ? -value - 1 : value;
  // zigzag bits 0..6 = sign | magnitude bits 0..5 << 1; the rest is magnitude >> 6
  let rest = Math.floor(magnitude / 64);
  buf[pos++] = (((magnitude % 64) << 1) | sign) | 0x80; // |value| >= 2^31 here, so rest > 0
  while (rest > 0x7f) {
    buf[pos++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = rest;
  return pos;
}

// ---------------------------------------------------------------------------------------------------
// readers

function truncated(): never {
  throw new CorruptBatchError('truncated varint');
}

/** Unsigned LEB128, up to 5 bytes, as an unsigned 32-bit number. Bits beyond 32 are dropped (as Java does). */
export function readUnsignedVarint(c: Cursor): number {
  const buf = c.buf;
  const end = c.end;
  let pos = c.pos;
  if (pos >= end) truncated();
  let b = buf[pos++];
  let v = b & 0x7f;
  if (b > 0x7f) {
    if (pos >= end) truncated();
    b = buf[pos++];
    v |= (b & 0x7f) << 7;
    if (b > 0x7f) {
      if (pos >= end) truncated();
      b = buf[pos++];
      v |= (b & 0x7f) << 14;
      if (b > 0x7f) {
        if (pos >= end) truncated();
        b = buf[pos++];
        v |= (b & 0x7f) << 21;
        if (b > 0x7f) {
          if (pos >= end) truncated();
          b = buf[pos++];
          if (b > 0x7f) throw new CorruptBatchError('varint is longer than 5 bytes');
          v |= b << 28;
        }
      }
    }
  }
  c.pos = pos;
  return v >>> 0;
}

/** Zig-zag varint (int32). */
export function readVarint(c: Cursor): number {
  const buf = c.buf;
  const pos = c.pos;
  // one-byte fast path: small lengths, offset deltas < 64, null (-1)
  if (pos < c.end) {
    const b = buf[pos];
    if (b < 0x80) {
      c.pos = pos + 1;
      return (b >>> 1) ^ -(b & 1);
    }
  }
  const v = readUnsignedVarint(c);
  return (v >>> 1) ^ -(v & 1);
}

/**
 * Zig-zag varlong (int64) as a JS number. Throws CorruptBatchError if it is longer than 10 bytes or
 * its value is outside the safe integer range.
 */
export function readVarlong(c: Cursor): number {
  const buf = c.buf;
  const end = c.end;
  let pos = c.pos;
  if (pos >= end) truncated();
  let b = buf[pos++];
  if (b < 0x80) {
    c.pos = pos;
    return (b >>> 1) ^ -(b & 1);
  }
  const sign = b & 1;
  // magnitude = zigzag >>> 1, accumulated exactly: every partial sum is <= the final value
  let magnitude = (b & 0x7e) >>> 1;
  let multiplier = 64; // 2^(7k - 1) for the k-th byte (k >= 1)
  for (let k = 1; ; k++) {
    if (pos >= end) truncated();
    b = buf[pos++];
    magnitude += (b & 0x7f) * multiplier;
    if (b < 0x80) break;
    if (k === 9) throw new CorruptBatchError('varlong is longer than 10 bytes');
    multiplier *= 128;
  }
  if (magnitude > Number.MAX_SAFE_INTEGER - sign) {
    throw new CorruptBatchError('varlong value is outside the safe integer range');
  }
  c.pos = pos;
  return sign ? -magnitude - 1 : magnitude;
}
