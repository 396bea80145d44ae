/**
 * Record-section compression on Node: node:zlib, synchronously. The codec table and the runtime-neutral
 * Compressor interface are in codecs.ts; browsers use compression-web.ts instead.
 *
 *   gzip    node:zlib gzipSync / gunzipSync, level GZIP_LEVEL (1: fastest; Kafka's default is 6)
 *   zstd    node:zlib zstdCompressSync / zstdDecompressSync, level ZSTD_LEVEL (1; Kafka's default is 3)
 *   snappy, lz4: UnsupportedCodecError
 *
 * Levels were picked on a 1,000-record batch of ~110 B JSON values (113 KB section, Node 24):
 *   gzip -1: ratio 4.1, ~265 MB/s    gzip -6: ratio 4.7, ~87 MB/s
 *   zstd -1: ratio 4.7, ~730 MB/s    zstd -3: ratio 4.6, ~610 MB/s    zstd -6: ratio 4.8, ~155 MB/s
 * i.e. on batch-sized inputs zstd 1 is as small as zstd 3 and faster; both beat every gzip level.
 *
 * Sync on purpose: the record section of one batch is small (KBs to a few MB) and the threadpool round
 * trip of the async zlib API costs more than it saves on that size. This module is separate from batch
 * assembly (see record-batch-core.ts: encodeRecordsSection -> compress -> assembleRecordBatch) so that
 * a browser build can swap in the async CompressionStream without touching the framing code.
 */

import * as zlib from 'node:zlib';
import { CODEC_BY_ID, CODEC_IDS, CODEC_MASK, GZIP_LEVEL, ZSTD_LEVEL, codecFromId, isCodec } from './codecs.ts';
import type { Codec, CompressOptions, Compressor, DecompressOptions } from './codecs.ts';
import { CorruptBatchError, InflatedTooLargeError, UnsupportedCodecError } from './errors.ts';

export { CODEC_BY_ID, CODEC_IDS, CODEC_MASK, GZIP_LEVEL, ZSTD_LEVEL, UnsupportedCodecError, codecFromId, isCodec };
export type { Codec, CompressOptions, Compressor, DecompressOptions };

const hasZstd = typeof zlib.zstdCompressSync === 'function' && typeof zlib.zstdDecompressSync === 'function';

/** 'zstd' when this Node has zlib.zstdCompressSync (Node >= 22.15 / 23.8), else 'gzip'. */
export function defaultCodec(): Codec {
  return hasZstd ? 'zstd' : 'gzip';
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
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InflatedTooLargeError(codec, maxOutputLength!, { cause: error });
    }
    throw new CorruptBatchError(`cannot ${codec}-decompress the records section: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** compress / decompress above behind the Compressor interface, for the client SDK on Node. */
export const nodeCompressor: Compressor = {
  name: 'node:zlib',
  defaultCodec: hasZstd ? 'zstd' : 'gzip',
  canCompress: (codec) => codec === 'none' || codec === 'gzip' || (codec === 'zstd' && hasZstd),
  canDecompress: (codec) => codec === 'none' || codec === 'gzip' || (codec === 'zstd' && hasZstd),
  compress: async (codec, data, options) => compress(codec, data, options),
  decompress: async (codec, data, options) => decompress(codec, data, options),
};
