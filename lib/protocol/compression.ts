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
 * The window is 256 KiB (ZSTD_WINDOW_LOG) instead of level 1's 512 KiB for inputs over 256 KiB: on the
 * bench's ~1 KiB JSON events (sections of 400 KiB, 1 MiB, 3 MiB) the ratio is the same to three
 * digits (3.556, 3.583, 3.580) and compression 7-15 % faster; smaller inputs are unchanged (zstd picks
 * a window of at most 256 KiB for them anyway). Readers need no more memory than before.
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

/** log2 of the zstd window (see the top of this file). */
export const ZSTD_WINDOW_LOG = 18;

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
        chunkSize: zstdOutputChunk(data.length),
        params: {
          [zlib.constants.ZSTD_c_compressionLevel]: options?.level ?? ZSTD_LEVEL,
          [zlib.constants.ZSTD_c_checksumFlag]: 0,
          [zlib.constants.ZSTD_c_windowLog]: ZSTD_WINDOW_LOG,
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
 * The output buffer for compressing `length` bytes: ZSTD_compressBound(length), so the frame is
 * written in one pass into one buffer instead of 16 KiB chunks concatenated at the end (10-20 % of
 * the compression time on 300 KiB-1 MiB sections of the bench's events). The result is a view of
 * that buffer (about the input's size) until the caller copies it; both callers copy it into the
 * batch at once (assembleRecordBatch).
 */
function zstdOutputChunk(length: number): number {
  const bound = length + (length >>> 8) + (length < 128 * 1024 ? (128 * 1024 - length) >>> 11 : 0);
  return Math.max(MIN_CHUNK, Math.min(bound + MIN_CHUNK, MAX_HINTED_CHUNK));
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
        return zlib.zstdDecompressSync(data, { maxOutputLength, chunkSize: outputChunkSize(zstdContentSize(data), data.length, maxOutputLength) });
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

/** zlib's smallest output chunk, and the largest one taken from a size a frame declares (a hint only). */
const MIN_CHUNK = 64;
const MAX_HINTED_CHUNK = 64 * 1024 * 1024;

/**
 * The output buffer for a decompression: sized to what the frame declares (plus room for zlib to see
 * the end in the same pass), so a 1 MiB section inflates into one buffer instead of sixty-four 16 KiB
 * chunks concatenated at the end (about half the time). Only a hint: a wrong size costs chunks and a
 * copy, never correctness; maxOutputLength is enforced by zlib as before. Capped by maxOutputLength and
 * by 32× the input, so a header that lies cannot make the server allocate more than the data could
 * plausibly inflate to.
 */
function outputChunkSize(declared: number | undefined, compressedLength: number, maxOutputLength: number | undefined): number | undefined {
  if (declared === undefined || declared <= 0) return undefined;
  const plausible = Math.max(64 * 1024, 32 * compressedLength);
  return Math.max(MIN_CHUNK, Math.min(declared + MIN_CHUNK, maxOutputLength ?? Infinity, plausible, MAX_HINTED_CHUNK));
}

/** Frame_Content_Size of the first zstd frame (RFC 8878, 3.1.1.1), when the frame header carries it. */
export function zstdContentSize(data: Uint8Array): number | undefined {
  if (data.length < 6 || data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd) return undefined;
  const descriptor = data[4];
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3];
  const fcsBytes = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag];
  const at = 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes;
  if (fcsBytes === 0 || at + fcsBytes > data.length) return undefined;
  const view = new DataView(data.buffer, data.byteOffset + at, fcsBytes);
  switch (fcsBytes) {
    case 1:
      return view.getUint8(0);
    case 2:
      return view.getUint16(0, true) + 256;
    case 4:
      return view.getUint32(0, true);
    default:
      return view.getUint32(4, true) === 0 ? view.getUint32(0, true) : undefined; // >= 4 GiB: no useful hint
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
