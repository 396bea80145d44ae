/**
 * Kafka RecordBatch v2 (magic 2), byte for byte as Kafka's DefaultRecordBatch / DefaultRecord.
 *
 * RecordBatch =>                        offset
 *   BaseOffset           => int64            0   outside the CRC: may be stamped later (writeBaseOffset)
 *   BatchLength          => int32            8   bytes after this field (totalSize - 12)
 *   PartitionLeaderEpoch => int32           12   outside the CRC
 *   Magic                => int8            16   = 2
 *   CRC                  => uint32          17   CRC-32C of Attributes .. end of batch
 *   Attributes           => int16           21   bits 0-2 codec, 3 timestampType (1 = logAppend),
 *                                                4 isTransactional, 5 isControl, 6 hasDeleteHorizonMs
 *   LastOffsetDelta      => int32           23
 *   BaseTimestamp        => int64           27   timestamp of the first record
 *   MaxTimestamp         => int64           35   largest record timestamp (or the log append time)
 *   ProducerId           => int64           43   -1 = none
 *   ProducerEpoch        => int16           51   -1 = none
 *   BaseSequence         => int32           53   -1 = none
 *   RecordCount          => int32           57
 *   Records              => [Record]        61   RecordCount records, compressed as one blob when codec != none
 *
 * Record =>
 *   Length         => varint     bytes after this field
 *   Attributes     => int8       unused, always 0
 *   TimestampDelta => varlong    timestamp - BaseTimestamp
 *   OffsetDelta    => varint     offset - BaseOffset (index in the batch when produced)
 *   KeyLength      => varint     -1 = null key
 *   Key            => bytes
 *   ValueLength    => varint     -1 = null value
 *   Value          => bytes
 *   HeaderCount    => varint
 *   Headers        => [Header]
 *
 * Header =>
 *   HeaderKeyLength   => varint
 *   HeaderKey         => UTF-8 bytes
 *   HeaderValueLength => varint  -1 = null value
 *   HeaderValue       => bytes
 *
 * All integers are big-endian; varint / varlong are zig-zag LEB128 (see varint.ts). Producer-side
 * defaults follow Kafka's Java producer (MemoryRecordsBuilder) for a non-idempotent producer:
 * producerId -1, producerEpoch -1, baseSequence -1, partitionLeaderEpoch -1, record attributes 0,
 * baseTimestamp = first record's timestamp, offset deltas 0..n-1.
 *
 * Encoding is two passes over the records: measure (exact sizes), then write into one pre-sized
 * Uint8Array. Compression is a separate step, so the pieces can also be driven by an async compressor
 * (the client SDK, browsers): encodeRecordsSection -> compress -> assembleRecordBatch, and
 * readBatchHeader -> decompress -> decodeRecordsSection.
 *
 * This module never imports a compression library, so it runs in any JavaScript runtime; the `With`
 * functions take a synchronous (de)compressor. record-batch.ts binds them to node:zlib.
 */

import { CODEC_BY_ID, CODEC_IDS, CODEC_MASK } from './codecs.ts';
import type { Codec, CompressOptions, DecompressOptions } from './codecs.ts';
import { crc32c } from './crc32c.ts';
import { CorruptBatchError } from './errors.ts';
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts';
import type { Cursor } from './varint.ts';

export { CorruptBatchError };
export type { Codec };

// ---------------------------------------------------------------------------------------------------
// types and constants

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface ProducerRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch (any safe integer). */
  timestamp: number;
}

export interface BatchOptions {
  /** Default 'none' in this low-level API. */
  codec?: Codec;
  /** Codec level for encodeRecordBatch; default see compression.ts (GZIP_LEVEL / ZSTD_LEVEL). */
  compressionLevel?: number;
  /** Default 0n; can be stamped later with writeBaseOffset. */
  baseOffset?: bigint;
  /** Default -1n. */
  producerId?: bigint;
  /** Default -1. */
  producerEpoch?: number;
  /** Default -1. */
  baseSequence?: number;
  /** Default -1. */
  partitionLeaderEpoch?: number;
  /** Default false. */
  isTransactional?: boolean;
  /** Default false. Control batches carry transaction markers. */
  isControl?: boolean;
  /** Default 'create'. */
  timestampType?: 'create' | 'logAppend';
}

export interface BatchMeta {
  recordCount: number;
  baseTimestamp: number;
  maxTimestamp: number;
  lastOffsetDelta: number;
  codec: Codec;
}

export interface BatchHeader {
  baseOffset: bigint;
  /** Bytes after the length field. */
  batchLength: number;
  /** 12 + batchLength: the whole batch. */
  totalSize: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  codec: Codec;
  isTransactional: boolean;
  isControl: boolean;
  timestampType: 'create' | 'logAppend';
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface DecodedRecord {
  offset: bigint;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export interface DecodeOptions {
  /** Check the CRC and header sanity first (verifyBatch). Default false: structure is always checked. */
  verify?: boolean;
  /** Refuse to decompress a records section to more than this many bytes. Default: no limit. */
  maxDecompressedBytes?: number;
}

export const MAGIC = 2;
/** Fixed part of a batch: everything before the first record. */
export const BATCH_HEADER_SIZE = 61;
/** BaseOffset + BatchLength: the bytes not counted by BatchLength (Kafka's LOG_OVERHEAD). */
export const LOG_OVERHEAD = 12;

export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_MASK = 0x10;
export const CONTROL_MASK = 0x20;

const BASE_OFFSET_OFFSET = 0;
const LENGTH_OFFSET = 8;
const PARTITION_LEADER_EPOCH_OFFSET = 12;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;
const RECORD_COUNT_OFFSET = 57;
/** Smallest possible record: length, attributes, timestampDelta, offsetDelta, key, value, headerCount. */
const MIN_RECORD_SIZE = 7;
const MAX_INT32 = 0x7fffffff;
const TWO_32 = 4294967296;

// ---------------------------------------------------------------------------------------------------
// encoding

/** Scratch space reused across calls (encoding is synchronous, so no call can interleave). */
let bodySizes = new Int32Array(1024);
let headerKeyLengths = new Int32Array(256);

const textEncoder = new TextEncoder();

/** UTF-8 byte length of a JS string, as TextEncoder would encode it (lone surrogates -> U+FFFD). */
export function utf8ByteLength(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // surrogate pair: 2 UTF-16 units -> 4 bytes
      i++;
    } else {
      bytes += 2; // BMP char (or lone surrogate -> EF BF BD): 3 bytes
    }
  }
  return bytes;
}

function badRecord(index: number, message: string): never {
  throw new TypeError(`record ${index}: ${message}`);
}

/**
 * Pass 1: exact size of the records section; fills bodySizes[i] and headerKeyLengths (in order).
 * Validates what the writer will rely on.
 */
function measureRecords(records: readonly ProducerRecord[], baseTimestamp: number): number {
  const n = records.length;
  if (bodySizes.length < n) bodySizes = new Int32Array(Math.max(n, bodySizes.length * 2));
  const sizes = bodySizes;
  let hk = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const record = records[i];
    const delta = record.timestamp - baseTimestamp;
    if (!Number.isSafeInteger(delta)) badRecord(i, `timestamp must be an integer number of ms, got ${record.timestamp}`);
    let size = 1 + sizeOfVarlong(delta) + sizeOfVarint(i);
    const key = record.key;
    if (key == null) size += 1;
    else size += sizeOfVarint(key.length) + key.length;
    const value = record.value;
    if (value == null) size += 1;
    else size += sizeOfVarint(value.length) + value.length;
    const headers = record.headers;
    if (headers === undefined || headers === null || headers.length === 0) {
      size += 1;
    } else {
      const hn = headers.length;
      size += sizeOfVarint(hn);
      if (headerKeyLengths.length < hk + hn) {
        const grown = new Int32Array(Math.max(hk + hn, headerKeyLengths.length * 2));
        grown.set(headerKeyLengths.subarray(0, hk));
        headerKeyLengths = grown;
      }
      for (let j = 0; j < hn; j++) {
        const header = headers[j];
        if (typeof header.key !== 'string') badRecord(i, `header ${j} key must be a string`);
        const kl = utf8ByteLength(header.key);
        headerKeyLengths[hk++] = kl;
        size += sizeOfVarint(kl) + kl;
        const hv = header.value;
        if (hv == null) size += 1;
        else size += sizeOfVarint(hv.length) + hv.length;
      }
    }
    if (size > MAX_INT32) badRecord(i, 'record is larger than 2 GiB');
    sizes[i] = size;
    total += sizeOfVarint(size) + size;
  }
  if (total > MAX_INT32 - BATCH_HEADER_SIZE) throw new RangeError('records section is larger than 2 GiB');
  return total;
}

/** Copy src into buf at pos; a byte loop beats TypedArray#set for the short keys typical here. */
function copyBytes(buf: Uint8Array, pos: number, src: Uint8Array): number {
  const n = src.length;
  if (n < 24) {
    for (let i = 0; i < n; i++) buf[pos + i] = src[i];
  } else {
    buf.set(src, pos);
  }
  return pos + n;
}

/** Pass 2: write the records measured by measureRecords (same arguments) into buf at pos. */
function writeRecords(buf: Uint8Array, pos: number, records: readonly ProducerRecord[], baseTimestamp: number): number {
  const n = records.length;
  const sizes = bodySizes;
  let hk = 0;
  for (let i = 0; i < n; i++) {
    const record = records[i];
    pos = writeVarint(buf, pos, sizes[i]);
    buf[pos++] = 0; // record attributes
    pos = writeVarlong(buf, pos, record.timestamp - baseTimestamp);
    pos = writeVarint(buf, pos, i);
    const key = record.key;
    if (key == null) {
      buf[pos++] = 1; // zigzag(-1)
    } else {
      pos = writeVarint(buf, pos, key.length);
      pos = copyBytes(buf, pos, key);
    }
    const value = record.value;
    if (value == null) {
      buf[pos++] = 1;
    } else {
      pos = writeVarint(buf, pos, value.length);
      pos = copyBytes(buf, pos, value);
    }
    const headers = record.headers;
    if (headers === undefined || headers === null || headers.length === 0) {
      buf[pos++] = 0;
    } else {
      const hn = headers.length;
      pos = writeVarint(buf, pos, hn);
      for (let j = 0; j < hn; j++) {
        const header = headers[j];
        const hkey = header.key;
        const kl = headerKeyLengths[hk++];
        pos = writeVarint(buf, pos, kl);
        if (kl === hkey.length) {
          for (let c = 0; c < kl; c++) buf[pos + c] = hkey.charCodeAt(c); // all ASCII
        } else {
          textEncoder.encodeInto(hkey, buf.subarray(pos, pos + kl));
        }
        pos += kl;
        const hv = header.value;
        if (hv == null) {
          buf[pos++] = 1;
        } else {
          pos = writeVarint(buf, pos, hv.length);
          pos = copyBytes(buf, pos, hv);
        }
      }
    }
  }
  return pos;
}

/**
 * The uncompressed records section (what follows RecordCount) for records with offset deltas 0..n-1
 * and timestamp deltas relative to baseTimestamp. Compress it (or not) and pass it to
 * assembleRecordBatch together with batchMeta(records, codec).
 */
export function encodeRecordsSection(records: readonly ProducerRecord[], baseTimestamp: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(baseTimestamp)) throw new TypeError(`baseTimestamp must be an integer, got ${baseTimestamp}`);
  const size = measureRecords(records, baseTimestamp);
  const buf = new Uint8Array(size);
  writeRecords(buf, 0, records, baseTimestamp);
  return buf;
}

/**
 * Header fields derived from the records, as encodeRecordBatch computes them: baseTimestamp is the
 * first record's timestamp (like Kafka's producer), maxTimestamp the largest, lastOffsetDelta n - 1.
 * Throws RangeError for an empty list: a produced batch holds at least one record.
 */
export function batchMeta(records: readonly ProducerRecord[], codec: Codec = 'none'): BatchMeta {
  const n = records.length;
  if (n === 0) throw new RangeError('a record batch needs at least one record');
  const baseTimestamp = records[0].timestamp;
  let maxTimestamp = baseTimestamp;
  for (let i = 1; i < n; i++) {
    const t = records[i].timestamp;
    if (t > maxTimestamp) maxTimestamp = t;
  }
  return { recordCount: n, baseTimestamp, maxTimestamp, lastOffsetDelta: n - 1, codec };
}

/** Writes a signed 64-bit integer given as a JS safe integer. */
function setInt64Number(view: DataView, offset: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  view.setInt32(offset, hi);
  view.setUint32(offset + 4, value - hi * TWO_32);
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** Fills bytes [0, 61) of a batch whose records section is already in place, then the CRC. */
function writeBatchHeader(buf: Uint8Array, meta: BatchMeta & BatchOptions): void {
  const { recordCount, baseTimestamp, maxTimestamp, lastOffsetDelta, codec } = meta;
  const codecId = CODEC_IDS[codec];
  if (codecId === undefined) throw new TypeError(`unknown codec '${String(codec)}'`);
  checkInt('recordCount', recordCount, 0, MAX_INT32);
  checkInt('lastOffsetDelta', lastOffsetDelta, 0, MAX_INT32);
  if (!Number.isSafeInteger(baseTimestamp)) throw new RangeError(`baseTimestamp must be an integer, got ${baseTimestamp}`);
  if (!Number.isSafeInteger(maxTimestamp)) throw new RangeError(`maxTimestamp must be an integer, got ${maxTimestamp}`);
  const producerEpoch = meta.producerEpoch ?? -1;
  const baseSequence = meta.baseSequence ?? -1;
  const partitionLeaderEpoch = meta.partitionLeaderEpoch ?? -1;
  checkInt('producerEpoch', producerEpoch, -0x8000, 0x7fff);
  checkInt('baseSequence', baseSequence, -0x80000000, MAX_INT32);
  checkInt('partitionLeaderEpoch', partitionLeaderEpoch, -0x80000000, MAX_INT32);

  let attributes = codecId;
  if (meta.timestampType === 'logAppend') attributes |= TIMESTAMP_TYPE_MASK;
  if (meta.isTransactional) attributes |= TRANSACTIONAL_MASK;
  if (meta.isControl) attributes |= CONTROL_MASK;

  const total = buf.length;
  const view = new DataView(buf.buffer, buf.byteOffset, total);
  view.setBigInt64(BASE_OFFSET_OFFSET, meta.baseOffset ?? 0n);
  view.setInt32(LENGTH_OFFSET, total - LOG_OVERHEAD);
  view.setInt32(PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
  view.setInt8(MAGIC_OFFSET, MAGIC);
  view.setInt16(ATTRIBUTES_OFFSET, attributes);
  view.setInt32(LAST_OFFSET_DELTA_OFFSET, lastOffsetDelta);
  setInt64Number(view, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  setInt64Number(view, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  view.setBigInt64(PRODUCER_ID_OFFSET, meta.producerId ?? -1n);
  view.setInt16(PRODUCER_EPOCH_OFFSET, producerEpoch);
  view.setInt32(BASE_SEQUENCE_OFFSET, baseSequence);
  view.setInt32(RECORD_COUNT_OFFSET, recordCount);
  view.setUint32(CRC_OFFSET, crc32c(buf, ATTRIBUTES_OFFSET, total));
}

/**
 * Wraps a records section (compressed with meta.codec, or not) in the 61-byte batch header and
 * computes the CRC. The section is copied once into the new batch.
 */
export function assembleRecordBatch(section: Uint8Array, meta: BatchMeta & BatchOptions): Uint8Array<ArrayBuffer> {
  if (section.length > MAX_INT32 - BATCH_HEADER_SIZE) throw new RangeError('records section is larger than 2 GiB');
  const buf = new Uint8Array(BATCH_HEADER_SIZE + section.length);
  buf.set(section, BATCH_HEADER_SIZE);
  writeBatchHeader(buf, meta);
  return buf;
}

/** A synchronous record-section compressor (node:zlib's, for record-batch.ts). */
export type SyncCompress = (codec: Codec, data: Uint8Array, options?: CompressOptions) => Uint8Array;
/** A synchronous record-section decompressor. */
export type SyncDecompress = (codec: Codec, data: Uint8Array, options?: DecompressOptions) => Uint8Array;

/**
 * Encodes records as one batch: offset deltas 0..n-1, baseTimestamp = first record's timestamp,
 * compressed synchronously with options.codec (default 'none') by `compress`. Throws RangeError for no
 * records.
 */
export function encodeRecordBatchWith(
  compress: SyncCompress,
  records: readonly ProducerRecord[],
  options?: BatchOptions,
): Uint8Array<ArrayBuffer> {
  const codec = options?.codec ?? 'none';
  const meta = batchMeta(records, codec);
  if (!Number.isSafeInteger(meta.baseTimestamp)) {
    badRecord(0, `timestamp must be an integer number of ms, got ${meta.baseTimestamp}`);
  }
  const size = measureRecords(records, meta.baseTimestamp);
  const full = options === undefined ? meta : { ...options, ...meta };
  if (codec === 'none') {
    // write the records straight into the batch: no intermediate section, no copy
    const buf = new Uint8Array(BATCH_HEADER_SIZE + size);
    writeRecords(buf, BATCH_HEADER_SIZE, records, meta.baseTimestamp);
    writeBatchHeader(buf, full);
    return buf;
  }
  const section = new Uint8Array(size);
  writeRecords(section, 0, records, meta.baseTimestamp);
  const level = options?.compressionLevel;
  return assembleRecordBatch(compress(codec, section, level === undefined ? undefined : { level }), full);
}

// ---------------------------------------------------------------------------------------------------
// decoding

function corrupt(message: string): never {
  throw new CorruptBatchError(message);
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function getInt64Number(view: DataView, offset: number): number {
  return view.getInt32(offset) * TWO_32 + view.getUint32(offset + 4);
}

/**
 * Parses the 61-byte header at position. Needs only those 61 bytes (so a ranged read of a header
 * works); use verifyBatch to also check that the whole batch is present and intact. Throws
 * CorruptBatchError when the header is truncated, the magic is not 2, BatchLength is too small or
 * the codec id is unknown.
 */
/** The last offset of a batch that starts at `baseOffset` (a stored batch's own base offset may be 0). */
export function lastOffsetOf(baseOffset: bigint, header: Pick<BatchHeader, 'lastOffsetDelta'>): bigint {
  return baseOffset + BigInt(header.lastOffsetDelta);
}

/** Where the next batch starts: after every offset of this one (compaction may leave fewer records than offsets). */
export function nextBaseOffset(baseOffset: bigint, header: Pick<BatchHeader, 'lastOffsetDelta'>): bigint {
  return lastOffsetOf(baseOffset, header) + 1n;
}

export function readBatchHeader(buf: Uint8Array, position = 0): BatchHeader {
  if (!Number.isInteger(position) || position < 0 || position > buf.length) {
    throw new RangeError(`position ${position} is outside the buffer (length ${buf.length})`);
  }
  const available = buf.length - position;
  if (available > MAGIC_OFFSET && buf[position + MAGIC_OFFSET] !== MAGIC) {
    corrupt(`unsupported record batch magic ${buf[position + MAGIC_OFFSET]} at position ${position} (expected 2)`);
  }
  if (available < BATCH_HEADER_SIZE) {
    corrupt(`truncated record batch header at position ${position}: ${available} of ${BATCH_HEADER_SIZE} bytes`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset + position, BATCH_HEADER_SIZE);
  const batchLength = view.getInt32(LENGTH_OFFSET);
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
    corrupt(`record batch length ${batchLength} at position ${position} is smaller than the header`);
  }
  const attributes = view.getInt16(ATTRIBUTES_OFFSET);
  const codec = CODEC_BY_ID[attributes & CODEC_MASK];
  if (codec === undefined) corrupt(`unknown compression codec id ${attributes & CODEC_MASK} at position ${position}`);
  return {
    baseOffset: view.getBigInt64(BASE_OFFSET_OFFSET),
    batchLength,
    totalSize: LOG_OVERHEAD + batchLength,
    partitionLeaderEpoch: view.getInt32(PARTITION_LEADER_EPOCH_OFFSET),
    magic: MAGIC,
    crc: view.getUint32(CRC_OFFSET),
    attributes,
    codec,
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & CONTROL_MASK) !== 0,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 'logAppend' : 'create',
    lastOffsetDelta: view.getInt32(LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: getInt64Number(view, BASE_TIMESTAMP_OFFSET),
    maxTimestamp: getInt64Number(view, MAX_TIMESTAMP_OFFSET),
    producerId: view.getBigInt64(PRODUCER_ID_OFFSET),
    producerEpoch: view.getInt16(PRODUCER_EPOCH_OFFSET),
    baseSequence: view.getInt32(BASE_SEQUENCE_OFFSET),
    recordCount: view.getInt32(RECORD_COUNT_OFFSET),
  };
}

function checkComplete(buf: Uint8Array, position: number, header: BatchHeader): void {
  if (header.totalSize > buf.length - position) {
    corrupt(
      `truncated record batch at position ${position}: ${buf.length - position} of ${header.totalSize} bytes present`,
    );
  }
}

/**
 * readBatchHeader plus: the whole batch is present, recordCount >= 0, lastOffsetDelta >= 0,
 * recordCount <= lastOffsetDelta + 1 (compaction may leave fewer records than offsets, never more),
 * an uncompressed section is big enough for recordCount records, and the CRC-32C over
 * Attributes..end matches. Throws CorruptBatchError otherwise.
 */
export function verifyBatch(buf: Uint8Array, position = 0): BatchHeader {
  const header = readBatchHeader(buf, position);
  checkComplete(buf, position, header);
  const { recordCount, lastOffsetDelta } = header;
  if (recordCount < 0) corrupt(`negative record count ${recordCount} at position ${position}`);
  if (lastOffsetDelta < 0) corrupt(`negative lastOffsetDelta ${lastOffsetDelta} at position ${position}`);
  if (recordCount > lastOffsetDelta + 1) {
    corrupt(`record count ${recordCount} exceeds lastOffsetDelta + 1 (${lastOffsetDelta + 1}) at position ${position}`);
  }
  const sectionSize = header.totalSize - BATCH_HEADER_SIZE;
  if (header.codec === 'none' ? sectionSize < recordCount * MIN_RECORD_SIZE : recordCount > 0 && sectionSize === 0) {
    corrupt(`records section of ${sectionSize} bytes cannot hold ${recordCount} records at position ${position}`);
  }
  const crc = crc32c(buf, position + ATTRIBUTES_OFFSET, position + header.totalSize);
  if (crc !== header.crc) {
    corrupt(
      `record batch CRC mismatch at position ${position}: stored 0x${header.crc.toString(16)}, computed 0x${crc.toString(16)}`,
    );
  }
  return header;
}

/**
 * Walks back-to-back batches (a segment). With verify, each batch goes through verifyBatch; without,
 * only headers and lengths are checked. Throws CorruptBatchError at a truncated tail or garbage.
 */
export function* iterateBatches(
  buf: Uint8Array,
  options?: { verify?: boolean },
): Generator<{ position: number; header: BatchHeader }> {
  const verify = options?.verify ?? false;
  let position = 0;
  while (position < buf.length) {
    let header: BatchHeader;
    if (verify) {
      header = verifyBatch(buf, position);
    } else {
      header = readBatchHeader(buf, position);
      checkComplete(buf, position, header);
    }
    yield { position, header };
    position += header.totalSize;
  }
}

const textDecoder = new TextDecoder();

/** UTF-8 decode of buf[start, end); short ASCII (the usual header key) without a TextDecoder call. */
function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = buf[i];
      if (b > 0x7f) return textDecoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return textDecoder.decode(buf.subarray(start, end));
}

/**
 * Header keys repeat across the records of a batch ("content-type", "trace-id", ...). A tiny
 * per-batch cache of (bytes -> string) turns most key decodes into a short byte comparison and
 * shares one string between records.
 */
const KEY_CACHE_SIZE = 8;

class HeaderKeyCache {
  bytes: Uint8Array[] = [];
  strings: string[] = [];
  next = 0;

  decode(buf: Uint8Array, start: number, end: number): string {
    const length = end - start;
    const cached = this.bytes;
    for (let k = 0; k < cached.length; k++) {
      const candidate = cached[k];
      if (candidate.length !== length) continue;
      let i = 0;
      while (i < length && candidate[i] === buf[start + i]) i++;
      if (i === length) return this.strings[k];
    }
    const s = decodeUtf8(buf, start, end);
    if (length <= 64) {
      const slot = this.next;
      this.bytes[slot] = buf.subarray(start, end);
      this.strings[slot] = s;
      this.next = (slot + 1) % KEY_CACHE_SIZE;
    }
    return s;
  }
}

/** Reads a varint length of `what` and returns the end of its bytes, checked against c.end. */
function readLength(c: Cursor, what: string, nullable: boolean): number {
  const length = readVarint(c);
  if (length < 0) {
    if (length === -1 && nullable) return -1;
    corrupt(`invalid ${what} length ${length}`);
  }
  if (length > c.end - c.pos) corrupt(`${what} of ${length} bytes overruns its record`);
  return length;
}

/**
 * Decodes the records of an uncompressed records section data[start, end) under `header` (offsets
 * from header.baseOffset, timestamps from header.baseTimestamp or maxTimestamp for logAppend).
 * Keys, values and header values are views into data. Checks the structure, throws CorruptBatchError.
 * Pass a plain Uint8Array (see plainBytes): views of a Buffer are slower to make.
 */
export function decodeRecordsSection(data: Uint8Array, start: number, end: number, header: BatchHeader): DecodedRecord[] {
  const count = header.recordCount;
  if (count < 0) corrupt(`negative record count ${count}`);
  if (count * MIN_RECORD_SIZE > end - start) {
    corrupt(`records section of ${end - start} bytes cannot hold ${count} records`);
  }
  const baseOffset = header.baseOffset;
  const baseTimestamp = header.baseTimestamp;
  const logAppend = header.timestampType === 'logAppend';
  const maxTimestamp = header.maxTimestamp;
  const records: DecodedRecord[] = new Array(count);
  const c: Cursor = { buf: data, pos: start, end };
  let keyCache: HeaderKeyCache | undefined;

  for (let i = 0; i < count; i++) {
    c.end = end;
    const size = readVarint(c);
    if (size < MIN_RECORD_SIZE - 1 || size > end - c.pos) corrupt(`record ${i}: invalid length ${size}`);
    const recordEnd = c.pos + size;
    c.end = recordEnd; // every read below stays inside this record
    c.pos++; // attributes: unused
    const timestampDelta = readVarlong(c);
    const offsetDelta = readVarint(c);

    let key: Uint8Array | null = null;
    const keyLength = readLength(c, 'key', true);
    if (keyLength >= 0) key = data.subarray(c.pos, (c.pos += keyLength));

    let value: Uint8Array | null = null;
    const valueLength = readLength(c, 'value', true);
    if (valueLength >= 0) value = data.subarray(c.pos, (c.pos += valueLength));

    const headerCount = readVarint(c);
    if (headerCount < 0 || headerCount * 2 > recordEnd - c.pos) corrupt(`record ${i}: invalid header count ${headerCount}`);
    const headers: RecordHeader[] = new Array(headerCount);
    if (headerCount > 0 && keyCache === undefined) keyCache = new HeaderKeyCache();
    for (let j = 0; j < headerCount; j++) {
      const hkLength = readLength(c, 'header key', false);
      const hkey = keyCache!.decode(data, c.pos, (c.pos += hkLength));
      let hvalue: Uint8Array | null = null;
      const hvLength = readLength(c, 'header value', true);
      if (hvLength >= 0) hvalue = data.subarray(c.pos, (c.pos += hvLength));
      headers[j] = { key: hkey, value: hvalue };
    }
    if (c.pos !== recordEnd) corrupt(`record ${i}: ${recordEnd - c.pos} unread bytes inside the record`);

    records[i] = {
      offset: baseOffset + BigInt(offsetDelta),
      timestamp: logAppend ? maxTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    };
  }
  if (c.pos !== end) corrupt(`${end - c.pos} trailing bytes after the last of ${count} records`);
  return records;
}

/** One record of a scan: index, offset delta, timestamp, header count, and key + value + header key and value bytes. */
export type RecordVisitor = (index: number, offsetDelta: number, timestamp: number, headerCount: number, bytes: number) => void;

/**
 * decodeRecordsSection's walk and checks (the same grammar, the same CorruptBatchErrors) without
 * building anything: no record objects, no views, no header strings, no BigInt offsets. What ingest
 * validation needs of every record of every request; hand-written beside the decoder because the
 * decoder's allocations were most of validation's cost (and its garbage collection).
 */
export function scanRecordsSection(data: Uint8Array, start: number, end: number, header: BatchHeader, visit: RecordVisitor): void {
  const count = header.recordCount;
  if (count < 0) corrupt(`negative record count ${count}`);
  if (count * MIN_RECORD_SIZE > end - start) {
    corrupt(`records section of ${end - start} bytes cannot hold ${count} records`);
  }
  const baseTimestamp = header.baseTimestamp;
  const logAppend = header.timestampType === 'logAppend';
  const maxTimestamp = header.maxTimestamp;
  const c: Cursor = { buf: data, pos: start, end };
  for (let i = 0; i < count; i++) {
    c.end = end;
    const size = readVarint(c);
    if (size < MIN_RECORD_SIZE - 1 || size > end - c.pos) corrupt(`record ${i}: invalid length ${size}`);
    const recordEnd = c.pos + size;
    c.end = recordEnd;
    c.pos++; // attributes: unused
    const timestampDelta = readVarlong(c);
    const offsetDelta = readVarint(c);
    let bytes = 0;
    const keyLength = readLength(c, 'key', true);
    if (keyLength >= 0) (c.pos += keyLength), (bytes += keyLength);
    const valueLength = readLength(c, 'value', true);
    if (valueLength >= 0) (c.pos += valueLength), (bytes += valueLength);
    const headerCount = readVarint(c);
    if (headerCount < 0 || headerCount * 2 > recordEnd - c.pos) corrupt(`record ${i}: invalid header count ${headerCount}`);
    for (let j = 0; j < headerCount; j++) {
      const hkLength = readLength(c, 'header key', false);
      c.pos += hkLength;
      const hvLength = readLength(c, 'header value', true);
      if (hvLength >= 0) c.pos += hvLength;
      bytes += hkLength + Math.max(hvLength, 0);
    }
    if (c.pos !== recordEnd) corrupt(`record ${i}: ${recordEnd - c.pos} unread bytes inside the record`);
    visit(i, offsetDelta, logAppend ? maxTimestamp : baseTimestamp + timestampDelta, headerCount, bytes);
  }
  if (c.pos !== end) corrupt(`${end - c.pos} trailing bytes after the last of ${count} records`);
}

/**
 * The same bytes as a plain Uint8Array: subarray on a Buffer goes through the species constructor,
 * which makes every key and value view slower to create.
 */
export function plainBytes(buf: Uint8Array): Uint8Array {
  return buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Decodes the batch at position: decompresses the records section with `decompress`, offsets = baseOffset + offsetDelta,
 * timestamps = baseTimestamp + timestampDelta (maxTimestamp for logAppend batches). Keys, values and
 * header values are views into buf (or into the decompressed section), not copies; they are plain
 * Uint8Arrays even when buf is a Buffer. Does not check the CRC unless options.verify is set, but
 * always checks the structure (lengths, counts, no trailing bytes) and throws CorruptBatchError.
 */
export function decodeRecordBatchWith(
  decompress: SyncDecompress,
  buf: Uint8Array,
  position = 0,
  options?: DecodeOptions,
): { header: BatchHeader; records: DecodedRecord[] } {
  let header: BatchHeader;
  if (options?.verify) {
    header = verifyBatch(buf, position);
  } else {
    header = readBatchHeader(buf, position);
    checkComplete(buf, position, header);
  }
  const end = position + header.totalSize;
  const bytes = plainBytes(buf);
  let records: DecodedRecord[];
  if (header.codec === 'none') {
    records = decodeRecordsSection(bytes, position + BATCH_HEADER_SIZE, end, header);
  } else if (header.recordCount === 0 && end === position + BATCH_HEADER_SIZE) {
    records = [];
  } else {
    const section = decompress(header.codec, bytes.subarray(position + BATCH_HEADER_SIZE, end), {
      maxOutputLength: options?.maxDecompressedBytes,
    });
    const plain = plainBytes(section);
    records = decodeRecordsSection(plain, 0, plain.length, header);
  }
  return { header, records };
}

// ---------------------------------------------------------------------------------------------------
// in-place edits

function checkHeaderRange(buf: Uint8Array, position: number): void {
  if (!Number.isInteger(position) || position < 0 || buf.length - position < BATCH_HEADER_SIZE) {
    throw new RangeError(`no record batch header at position ${position} (buffer length ${buf.length})`);
  }
}

/** Stamps BaseOffset in place. It is outside the CRC, so the batch stays valid. */
export function writeBaseOffset(buf: Uint8Array, position: number, baseOffset: bigint): void {
  if (!Number.isInteger(position) || position < 0 || buf.length - position < 8) {
    throw new RangeError(`no record batch at position ${position} (buffer length ${buf.length})`);
  }
  if (typeof baseOffset !== 'bigint' || baseOffset < 0n || baseOffset > 0x7fffffffffffffffn) {
    throw new RangeError(`baseOffset must be a non-negative int64 bigint, got ${String(baseOffset)}`);
  }
  new DataView(buf.buffer, buf.byteOffset + position, 8).setBigInt64(0, baseOffset);
}

/**
 * What a Kafka broker does for topics with message.timestamp.type=LogAppendTime: sets the timestamp
 * type bit and MaxTimestamp to the append time in place, and rewrites the CRC (both are inside it).
 * The batch must be complete in buf.
 */
export function stampLogAppendTime(buf: Uint8Array, position: number, timestamp: number): void {
  checkHeaderRange(buf, position);
  if (!Number.isSafeInteger(timestamp)) throw new RangeError(`timestamp must be an integer, got ${timestamp}`);
  const header = readBatchHeader(buf, position);
  checkComplete(buf, position, header);
  const view = viewOf(buf);
  view.setInt16(position + ATTRIBUTES_OFFSET, header.attributes | TIMESTAMP_TYPE_MASK);
  setInt64Number(view, position + MAX_TIMESTAMP_OFFSET, timestamp);
  view.setUint32(position + CRC_OFFSET, crc32c(buf, position + ATTRIBUTES_OFFSET, position + header.totalSize));
}
