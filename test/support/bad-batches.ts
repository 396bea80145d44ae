/**
 * Hostile record batches for the validation tests and the fuzz suite: corrupt records under a valid
 * CRC, and decompression bombs.
 */
import { compress } from '../../lib/protocol/compression.ts';
import { assembleRecordBatch, encodeRecordsSection, type Codec, type ProducerRecord } from '../../lib/protocol/record-batch.ts';

const enc = new TextEncoder();
const record = (value: string, timestamp = 1_764_000_000_000): ProducerRecord => ({ key: null, value: enc.encode(value), headers: [], timestamp });

/** A batch around any records section, with a correct CRC, claiming `count` records. */
export function batchAround(section: Uint8Array, options: { count: number; codec?: Codec; baseTimestamp?: number; maxTimestamp?: number }): Uint8Array {
  const base = options.baseTimestamp ?? 1_764_000_000_000;
  return assembleRecordBatch(section, {
    recordCount: options.count,
    lastOffsetDelta: options.count - 1,
    baseTimestamp: base,
    maxTimestamp: options.maxTimestamp ?? base,
    codec: options.codec ?? 'none',
  });
}

/** The corrupt batches of issue 10 (and a few more), each with a valid CRC. */
export function corruptBatches(): Array<[string, Uint8Array]> {
  const one = encodeRecordsSection([record('hello')], 1_764_000_000_000);
  const two = encodeRecordsSection([record('a'), record('b')], 1_764_000_000_000);
  const keyPastEnd = one.slice();
  keyPastEnd[4] = 0x7e; // the null key's length (-1, zig-zag 0x01) becomes 63: past the end of the record
  // second record: length, attributes, timestampDelta, offsetDelta: make its offset delta 0 (a duplicate offset)
  const duplicateOffset = two.slice();
  duplicateOffset[1 + two[0] / 2 + 3] = 0;
  return [
    ['garbage varints', batchAround(new Uint8Array(16).fill(0xff), { count: 1 })],
    ['a count of 2 holding 1 record', batchAround(one, { count: 2 })],
    ['a count of 1 holding 2 records', batchAround(two, { count: 1 })],
    ['a key length past the end of the record', batchAround(keyPastEnd, { count: 1 })],
    ['the zstd bit on uncompressed records', batchAround(one, { count: 1, codec: 'zstd' })],
    ['the gzip bit on uncompressed records', batchAround(one, { count: 1, codec: 'gzip' })],
    ['gzip data that is not a records section', batchAround(compress('gzip', new Uint8Array(40).fill(7)), { count: 1, codec: 'gzip' })],
    ['a duplicate offset delta', batchAround(duplicateOffset, { count: 2 })],
    ['a maxTimestamp that is not the largest timestamp', batchAround(one, { count: 1, maxTimestamp: 1 })],
    ['a negative timestamp', batchAround(encodeRecordsSection([record('x', -5)], -5), { count: 1, baseTimestamp: -5, maxTimestamp: -5 })],
  ];
}

/**
 * A zstd frame of RLE blocks (4 bytes each, 128 KiB of zeros each) that inflates to `inflatedBytes`:
 * 4 KiB that become 128 MiB. No content size in the frame header, so nothing but a running total of
 * the output can tell how big it gets.
 */
export function zstdRleFrame(inflatedBytes = 128 * 1024 * 1024, byte = 0): Uint8Array {
  const BLOCK = 128 * 1024;
  const blocks = Math.ceil(inflatedBytes / BLOCK);
  const out = new Uint8Array(6 + blocks * 4);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]); // magic; descriptor: no checksum, no size; window 128 KiB
  for (let i = 0; i < blocks; i++) {
    const size = Math.min(BLOCK, inflatedBytes - i * BLOCK);
    const header = (size << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0); // block size, type RLE, last
    out.set([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, byte], 6 + i * 4);
  }
  return out;
}

/** One zstd batch of about 4 KB whose records section inflates to 128 MiB. */
export function zstdBomb(inflatedBytes = 128 * 1024 * 1024): Uint8Array {
  return batchAround(zstdRleFrame(inflatedBytes), { count: 1, codec: 'zstd' });
}
