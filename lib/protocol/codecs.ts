/**
 * Compression codecs of Kafka RecordBatch v2, independent of any runtime. The codec id lives in bits
 * 0..2 of the batch attributes; what gets compressed is the concatenated records (everything after
 * the recordCount field), exactly as Kafka does.
 *
 *   id  codec   Node (compression.ts)                 browsers (compression-web.ts)
 *   0   none    identity                              identity
 *   1   gzip    node:zlib, level GZIP_LEVEL            CompressionStream / DecompressionStream
 *   2   snappy  unsupported                           unsupported
 *   3   lz4     unsupported                           unsupported
 *   4   zstd    node:zlib, level ZSTD_LEVEL            decompress only (native stream if any, else fzstd)
 *
 * The Compressor interface is what the client SDK is written against, so the browser build never
 * imports node:zlib. It is async because the web streams are; the Node implementation answers at once.
 */
import { UnsupportedCodecError } from './errors.ts';

export { UnsupportedCodecError };

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Codec -> attribute bits (attributes & 0x07). */
export const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const satisfies Record<Codec, number>;

/** Attribute bits -> codec; index with (attributes & 0x07). Ids 5..7 are undefined. */
export const CODEC_BY_ID: readonly Codec[] = Object.freeze(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as Codec[]);

/** Mask of the codec bits in the batch attributes. */
export const CODEC_MASK = 0x07;

/** Reverse lookup of CODEC_IDS: the codec for an id, or undefined for an unknown id. */
export function codecFromId(id: number): Codec | undefined {
  return CODEC_BY_ID[id];
}

export function isCodec(value: unknown): value is Codec {
  return typeof value === 'string' && Object.hasOwn(CODEC_IDS, value);
}

/** gzip level used when none is given: 1, about 3x faster than 6 for ~15% more bytes. */
export const GZIP_LEVEL = 1;
/** zstd level used when none is given: 1, the fastest standard level; on batch-sized inputs as small as 3. */
export const ZSTD_LEVEL = 1;

export interface CompressOptions {
  /** Codec-specific level; defaults to GZIP_LEVEL / ZSTD_LEVEL. Web streams ignore it. */
  level?: number;
}

export interface DecompressOptions {
  /** Refuse to inflate to more than this many bytes (decompression-bomb guard). Default: no limit. */
  maxOutputLength?: number;
}

/** Record-section compression for one runtime. Errors: UnsupportedCodecError, CorruptBatchError. */
export interface Compressor {
  /** Which runtime this is, for messages and reports ("node:zlib", "web streams + fzstd"). */
  readonly name: string;
  /** The codec producers use when none is configured: zstd where this runtime compresses it, else gzip. */
  readonly defaultCodec: Codec;
  canCompress(codec: Codec): boolean;
  canDecompress(codec: Codec): boolean;
  compress(codec: Codec, data: Uint8Array, options?: CompressOptions): Promise<Uint8Array>;
  decompress(codec: Codec, data: Uint8Array, options?: DecompressOptions): Promise<Uint8Array>;
}
