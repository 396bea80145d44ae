/**
 * Record-section compression for browsers (and any runtime with the Compression Streams API), behind
 * the same Compressor interface as node:zlib's (compression.ts). No Node import anywhere.
 *
 *   gzip   CompressionStream('gzip') / DecompressionStream('gzip'); the level is the browser's choice
 *   zstd   decompress only: DecompressionStream('zstd') where the browser has it, else fzstd; browsers
 *          cannot compress zstd, so a browser producer's default codec is gzip
 *
 * Why fzstd: batches written by Node producers (and by the server from JSON) are zstd, and a browser
 * consumer reads them straight from the object store. Without a zstd decoder it would have to go
 * through the server's JSON route instead: every byte through Lambda and API Gateway (paid per
 * request and per GB-second), uncompressed on the wire (~4x the bytes), base64 for binary values.
 * fzstd is 8 kB minified (3.8 kB gzipped), MIT, has no dependencies, is pure JavaScript (no WebAssembly
 * to load, no CSP exception) and comes from the author of fflate; it handles the single-frame, known-
 * size output of ZSTD_compress at level 1 that Sluice writes. Decoding is slower than native zstd
 * (about a quarter of node:zlib on the same machine: ~180 vs ~670 MB/s of output), still far above what
 * a browser tab consumes.
 */
import { decompress as fzstdDecompress, Decompress as FzstdStream } from 'fzstd';
import type { Codec, CompressOptions, Compressor, DecompressOptions } from './codecs.ts';
import { CorruptBatchError, InflatedTooLargeError, UnsupportedCodecError } from './errors.ts';

type StreamFormat = 'gzip' | 'zstd';

function streamSupported(format: StreamFormat): boolean {
  try {
    new DecompressionStream(format as CompressionFormat);
    return true;
  } catch {
    return false;
  }
}

/** Pushes data through a (de)compression stream, collecting at most maxOutputLength bytes. */
async function throughStream(stream: CompressionStream | DecompressionStream, data: Uint8Array, maxOutputLength = Infinity, format = 'gzip'): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  const written = writer.write(data as Uint8Array<ArrayBuffer>).then(() => writer.close());
  written.catch(() => {}); // a write error surfaces again through the reader
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxOutputLength) {
      await reader.cancel();
      throw new InflatedTooLargeError(format, maxOutputLength);
    }
    chunks.push(value);
  }
  await written;
  if (chunks.length === 1) return chunks[0];
  return concat(chunks, total);
}

/**
 * fzstd with an output bound. fzstd has none of its own: its one-shot decompress allocates the frame's
 * declared content size, and its stream allocates the declared window before the first block, up to
 * 2 GiB either way. So the frames are walked first (headers and block headers only, no decoding) and
 * any frame whose window or declared size exceeds the bound is refused; then the stream decodes block
 * by block (at most 128 KiB each) with a running total of the output, stopping past the bound.
 */
function zstdWithFzstd(data: Uint8Array, maxOutputLength: number | undefined): Uint8Array {
  if (maxOutputLength === undefined) return fzstdDecompress(data);
  checkZstdFrames(data, maxOutputLength);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new FzstdStream((chunk) => {
    total += chunk.length;
    if (total > maxOutputLength) throw new InflatedTooLargeError('zstd', maxOutputLength);
    chunks.push(chunk);
  });
  stream.push(data, true);
  return concat(chunks, total);
}

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const ZSTD_MAX_BLOCK = 128 * 1024;

/**
 * Refuses (InflatedTooLargeError) zstd data whose frames declare more than maxOutputLength bytes of
 * content in all, a window larger than maxOutputLength, or RLE and raw blocks adding up to more;
 * CorruptBatchError when the framing does not parse (RFC 8878 §3.1).
 */
export function checkZstdFrames(data: Uint8Array, maxOutputLength: number): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const need = (position: number, bytes: number) => {
    if (position + bytes > data.length) throw new CorruptBatchError(`truncated zstd frame at byte ${position}`);
  };
  let position = 0;
  let declared = 0;
  let known = 0;
  while (position < data.length) {
    need(position, 4);
    const magic = view.getUint32(position, true);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(position, 8);
      position += 8 + view.getUint32(position + 4, true);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new CorruptBatchError(`not a zstd frame at byte ${position}`);
    need(position, 5);
    const descriptor = data[position + 4];
    const contentSizeFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    const hasChecksum = (descriptor >> 2) & 1;
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3];
    position += 5;
    let windowSize = 0;
    if (!singleSegment) {
      need(position, 1);
      const exponent = data[position] >> 3;
      const windowBase = 2 ** (10 + exponent);
      windowSize = windowBase + (windowBase / 8) * (data[position] & 7);
      position += 1;
    }
    position += dictionaryIdBytes;
    const sizeBytes = contentSizeFlag === 0 ? singleSegment : 1 << contentSizeFlag;
    need(position, sizeBytes);
    let contentSize = -1;
    if (sizeBytes > 0) {
      contentSize = 0;
      for (let i = sizeBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + data[position + i];
      if (sizeBytes === 2) contentSize += 256;
      position += sizeBytes;
    }
    if (singleSegment) windowSize = contentSize;
    if (contentSize >= 0) declared += contentSize;
    if (windowSize > maxOutputLength || declared > maxOutputLength) throw new InflatedTooLargeError('zstd', maxOutputLength);
    for (let last = 0; !last; ) {
      need(position, 3);
      const header = data[position] | (data[position + 1] << 8) | (data[position + 2] << 16);
      last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      position += 3;
      if (type === 3 || size > ZSTD_MAX_BLOCK) throw new CorruptBatchError(`invalid zstd block at byte ${position - 3}`);
      if (type !== 2) known += size; // raw and RLE blocks say exactly what they inflate to
      if (known > maxOutputLength) throw new InflatedTooLargeError('zstd', maxOutputLength);
      position += type === 1 ? 1 : size;
    }
    position += hasChecksum * 4;
  }
  if (position !== data.length) throw new CorruptBatchError('truncated zstd frame');
}

function unsupported(codec: Codec, what: string): UnsupportedCodecError {
  return new UnsupportedCodecError(codec, `this runtime cannot ${what} '${codec}'`);
}

/** A Compressor on Compression Streams and fzstd. Feature detection runs once, on first use. */
export function createWebCompressor(): Compressor {
  let nativeZstd: boolean | undefined;
  const hasNativeZstd = () => (nativeZstd ??= streamSupported('zstd'));
  return {
    name: 'web streams + fzstd',
    defaultCodec: 'gzip',
    canCompress: (codec) => codec === 'none' || codec === 'gzip',
    canDecompress: (codec) => codec === 'none' || codec === 'gzip' || codec === 'zstd',

    async compress(codec: Codec, data: Uint8Array, _options?: CompressOptions): Promise<Uint8Array> {
      if (codec === 'none') return data;
      if (codec === 'gzip') return throughStream(new CompressionStream('gzip'), data);
      throw unsupported(codec, 'compress');
    },

    async decompress(codec: Codec, data: Uint8Array, options?: DecompressOptions): Promise<Uint8Array> {
      const max = options?.maxOutputLength;
      try {
        switch (codec) {
          case 'none':
            return data;
          case 'gzip':
            return await throughStream(new DecompressionStream('gzip'), data, max, 'gzip');
          case 'zstd':
            if (hasNativeZstd()) return await throughStream(new DecompressionStream('zstd' as CompressionFormat), data, max, 'zstd');
            return zstdWithFzstd(data, max);
          default:
            throw unsupported(codec, 'decompress');
        }
      } catch (error) {
        if (error instanceof UnsupportedCodecError || error instanceof CorruptBatchError) throw error;
        throw new CorruptBatchError(`cannot ${codec}-decompress the records section: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

export const webCompressor: Compressor = createWebCompressor();

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let position = 0;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}
