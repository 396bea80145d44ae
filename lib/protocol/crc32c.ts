/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka RecordBatch v2.
 *
 * Slice-by-8: eight 256-entry tables let the main loop consume 8 input bytes per iteration with
 * 8 table lookups and no per-bit work. Init 0xFFFFFFFF, final xor 0xFFFFFFFF, so
 * crc32c("123456789") === 0xE3069283.
 */

const POLY = 0x82f63b78;

/** T[k * 256 + b]: CRC of byte b followed by k zero bytes. One flat Int32Array keeps lookups monomorphic. */
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n];
  for (let k = 1; k < 8; k++) {
    c = T[c & 0xff] ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

/**
 * CRC-32C of data[start, end). Returns an unsigned 32-bit integer.
 * Pass a previous result as `seed` to continue a running checksum over several chunks.
 */
export function crc32c(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  if (start < 0 || end > data.length || start > end) {
    throw new RangeError(`crc32c: bad range [${start}, ${end}) for length ${data.length}`);
  }
  const t = T;
  let crc = ~seed;
  let i = start;
  const end8 = end - 7;
  while (i < end8) {
    const lo = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
    i += 8;
  }
  while (i < end) crc = t[(crc ^ data[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
