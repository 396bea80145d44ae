/**
 * Record-section compression for Kafka RecordBatch v2. The codec id lives in bits 0..2 of the batch
 * attributes; what gets compressed is the concatenated records (everything after the recordCount
 * field), exactly as Kafka does.
 *
 *   id  codec   here
 *   0   none    identity (the input array itself is returned, no copy)
 *   1   gzip    node:zlib gzipSync / gunzipSync, level GZIP_LEVEL (1: fastest; Kafka's default is 6)
 *   2   snappy  UnsupportedCodecError
 *   3   lz4     UnsupportedCodecError
 *   4   zstd    node:zlib zstdCompressSync / zstdDecompressSync, level ZSTD_LEVEL (1; Kafka's default is 3)
 *
 * Levels were picked on a 1,000-record batch of ~110 B JSON values (113 KB section, Node 24):
 *   gzip -1: ratio 4.1, ~265 MB/s    gzip -6: ratio 4.7, ~87 MB/s
 *   zstd -1: ratio 4.7, ~730 MB/s    zstd -3: ratio 4.6, ~610 MB/s    zstd -6: ratio 4.8, ~155 MB/s
 * i.e. on batch-sized inputs zstd 1 is as small as zstd 3 and faster; both beat every gzip level.
 *
 * Sync on purpose: the record section of one batch is small (KBs to a few MB) and the threadpool round
 * trip of the async zlib API costs more than it saves on that size. This module is separate from batch
 * assembly (see record-batch.ts: encodeRecordsSection -> compress -> assembleRecordBatch) so that a
 * browser build can swap in the async CompressionStream without touching the framing code.
 */

import * as zlib from 'node:zlib';
import { CorruptBatchError, UnsupportedCodecError } from './errors.ts';

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

const hasZstd = typeof zlib.zstdCompressSync === 'function' && typeof zlib.zstdDecompressSync === 'function';

/** 'zstd' when this Node has zlib.zstdCompressSync (Node >= 22.15 / 23.8), else 'gzip'. */
export function defaultCodec(): Codec {
  return hasZstd ? 'zstd' : 'gzip';
}

export interface CompressOptions {
  /** Codec-specific level; defaults to GZIP_LEVEL / ZSTD_LEVEL. */
  level?: number;
}

export interface DecompressOptions {
  /** Refuse to inflate to more than this many bytes (decompression-bomb guard). Default: no limit. */
  maxOutputLength?: number;
}

export function compress(codec: Codec, data: Uint8Array, options?: CompressOptions): Uint8Array {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return zlib.gzipSync(data, { level: options?.level ?? GZIP_LEVEL });
    case 'zstd':
      if (!hasZstd) throw new UnsupportedCodecError('zstd', 'zstd needs a Node.js with zlib.zstdCompressSync');
      return zlib.zstdCompressSync(data, {
        params: {
          [zlib.constants.ZSTD_c_compressionLevel]: options?.level ?? ZSTD_LEVEL,
          [zlib.constants.ZSTD_c_checksumFlag]: 0,
        },
        pledgedSrcSize: data.length,
      });
    case 'snappy':
    case 'lz4':
      throw new UnsupportedCodecError(codec);
    default:
      throw new UnsupportedCodecError(String(codec), `unknown compression codec '${String(codec)}'`);
  }
}

/**
 * Inverse of compress. Malformed input (or output over maxOutputLength) throws CorruptBatchError with
 * the zlib error as cause; snappy / lz4 throw UnsupportedCodecError.
 */
export function decompress(codec: Codec, data: Uint8Array, options?: DecompressOptions): Uint8Array {
  const maxOutputLength = options?.maxOutputLength;
  const zopts = maxOutputLength === undefined ? undefined : { maxOutputLength };
  try {
    switch (codec) {
      case 'none':
        return data;
      case 'gzip':
        return zlib.gunzipSync(data, zopts);
      case 'zstd':
        if (!hasZstd) throw new UnsupportedCodecError('zstd', 'zstd needs a Node.js with zlib.zstdDecompressSync');
        return zlib.zstdDecompressSync(data, zopts);
      case 'snappy':
      case 'lz4':
        throw new UnsupportedCodecError(codec);
      default:
        throw new UnsupportedCodecError(String(codec), `unknown compression codec '${String(codec)}'`);
    }
  } catch (error) {
    if (error instanceof UnsupportedCodecError) throw error;
    throw new CorruptBatchError(`cannot ${codec}-decompress the records section: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
