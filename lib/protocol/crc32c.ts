/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka RecordBatch v2.
 * Init 0xFFFFFFFF, final xor 0xFFFFFFFF, so crc32c("123456789") === 0xE3069283.
 *
 * Two implementations behind one function, chosen by size:
 * - Pure JS, slice-by-8: eight 256-entry tables let the main loop consume 8 input bytes per iteration
 *   with 8 table lookups and no per-bit work (~1-1.8 GB/s on one core). Runs everywhere: browsers,
 *   workers, Lambda.
 * - Native, on Node only, when the optional dependency `@node-rs/crc32` is installed (prebuilt
 *   binaries for linux x64/arm64, macOS and Windows; SSE 4.2 / ARMv8 CRC instructions): several times
 *   faster on large buffers, but each call pays a fixed cost of ~150-200 ns to cross into native code.
 *   It is loaded lazily, by the first checksum of at least NATIVE_CRC32C_MIN_BYTES, through
 *   `process.getBuiltinModule('module')`, so bundlers never see it and browsers never try it;
 *   when it is absent (or fails a self-check) the JS loop does everything.
 *
 * The Lambda bundles keep the JS loop (the module is not bundled; see README "Benchmarks"): a
 * Lambda's CRC work is verifying produce batches, well under 2% of a request's billed time.
 */

const POLY = 0x82f63b78;

/**
 * Checksums of at least this many bytes go to the native module when it is loaded. Measured by
 * `npm run bench` (section "CRC-32C", which reports the crossover of the run): on x64 and arm64 the
 * two cross between 256 and 512 bytes, below that the native call's fixed cost loses.
 */
export const NATIVE_CRC32C_MIN_BYTES = 512;

/** The optional dependency that provides the native implementation. */
export const NATIVE_CRC32C_MODULE = '@node-rs/crc32';

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

/** The native module's signature: CRC-32C of the whole input, continuing from `seed`. */
export type NativeCrc32c = (input: Uint8Array, seed?: number) => number;

/** undefined: not tried yet; null: tried, unavailable (or switched off). */
let native: NativeCrc32c | null | undefined;
let mode: 'auto' | 'js' = 'auto';

/**
 * CRC-32C of data[start, end). Returns an unsigned 32-bit integer.
 * Pass a previous result as `seed` to continue a running checksum over several chunks.
 */
export function crc32c(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  if (start < 0 || end > data.length || start > end) {
    throw new RangeError(`crc32c: bad range [${start}, ${end}) for length ${data.length}`);
  }
  if (end - start >= NATIVE_CRC32C_MIN_BYTES) {
    const fast = native === undefined ? (native = loadNativeCrc32c()) : native;
    if (fast !== null) return fast(start === 0 && end === data.length ? data : data.subarray(start, end), seed) >>> 0;
  }
  return crc32cJs(data, start, end, seed);
}

/** The pure-JS slice-by-8 loop, whatever the size (no range checks: callers pass a valid range). */
export function crc32cJs(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
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

/** Which implementation checksums of NATIVE_CRC32C_MIN_BYTES and more use (loads the native one if it can). */
export function crc32cImplementation(): 'native' | 'js' {
  if (native === undefined) native = loadNativeCrc32c();
  return native === null ? 'js' : 'native';
}

/**
 * 'js' makes every checksum use the JS loop (the benchmark compares both in one run); 'auto' goes back
 * to choosing by size.
 */
export function setCrc32cMode(next: 'auto' | 'js'): void {
  mode = next;
  native = undefined;
}

/**
 * The native implementation, or null where there is none: not Node (no process.getBuiltinModule), the
 * optional dependency not installed or not built for this platform, or a binary that does not compute
 * CRC-32C (checked on the standard vector, so a wrong module can never decide a checksum).
 */
export function loadNativeCrc32c(load: (specifier: string) => unknown = requireFromHere): NativeCrc32c | null {
  if (mode === 'js') return null;
  try {
    const candidate = (load(NATIVE_CRC32C_MODULE) as { crc32c?: unknown } | null)?.crc32c;
    if (typeof candidate !== 'function') return null;
    const check = candidate as NativeCrc32c;
    return check(CHECK_INPUT) >>> 0 === CHECK_VALUE && check(CHECK_INPUT.subarray(4), CHECK_PREFIX_CRC) >>> 0 === CHECK_VALUE ? check : null;
  } catch {
    return null;
  }
}

/** "123456789" and its CRC-32C; the second check continues from the CRC of "1234". */
const CHECK_INPUT = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
const CHECK_VALUE = 0xe3069283;
const CHECK_PREFIX_CRC = crc32cJs(CHECK_INPUT, 0, 4);

/** Node's require, reached at run time only (bundlers and browsers never see a require call). */
function requireFromHere(specifier: string): unknown {
  const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof getBuiltinModule !== 'function') return null;
  // 'module', not 'node:module': the browser bundle must not even name a Node built-in.
  const { createRequire } = getBuiltinModule('module') as typeof import('node:module');
  return createRequire(import.meta.url)(specifier);
}
