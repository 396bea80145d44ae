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
import { CorruptBatchError, UnsupportedCodecError } from './errors.ts';

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
async function throughStream(stream: CompressionStream | DecompressionStream, data: Uint8Array, maxOutputLength = Infinity): Promise<Uint8Array> {
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
      throw new RangeError(`output exceeds ${maxOutputLength} bytes`);
    }
    chunks.push(value);
  }
  await written;
  if (chunks.length === 1) return chunks[0];
  return concat(chunks, total);
}

function zstdWithFzstd(data: Uint8Array, maxOutputLength: number | undefined): Uint8Array {
  if (maxOutputLength === undefined) return fzstdDecompress(data);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new FzstdStream((chunk) => {
    total += chunk.length;
    if (total > maxOutputLength) throw new RangeError(`output exceeds ${maxOutputLength} bytes`);
    chunks.push(chunk);
  });
  stream.push(data, true);
  return concat(chunks, total);
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
            return await throughStream(new DecompressionStream('gzip'), data, max);
          case 'zstd':
            if (hasNativeZstd()) return await throughStream(new DecompressionStream('zstd' as CompressionFormat), data, max);
            return zstdWithFzstd(data, max);
          default:
            throw unsupported(codec, 'decompress');
        }
      } catch (error) {
        if (error instanceof UnsupportedCodecError) throw error;
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
