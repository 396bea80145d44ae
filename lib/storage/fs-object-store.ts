/**
 * ObjectStore over a local directory: the embedded default (`npm start`). Same semantics as S3 as far
 * as the port goes, including durability: put() resolves only after the bytes and every directory
 * entry leading to them have been fsynced, because a produce is acknowledged on that promise.
 *
 * Layout. A key `a/b/c` is stored as the file `<directory>/a/b/c%`: each `/`-separated segment but the
 * last is a directory, the last is a file whose name ends in `%`. The marker keeps S3's flat key space
 * intact: the keys `a` and `a/b` can both exist (file `a%` next to directory `a`), which a plain
 * one-to-one mapping cannot do. A literal `%` in a key is written `%25`, so only an object file's name
 * ends in `%`. Anything else in the tree (temp files, stray files) is ignored by list().
 *
 * Durability per put: temp file written and fsynced, renamed into place, the directory fsynced. The
 * directory fsync is shared: concurrent puts into one directory wait for one fsync that started after
 * their rename (at most one runs per directory, and the next one starts when it ends, covering every
 * rename made meanwhile), so N concurrent puts cost N file fsyncs but far fewer directory fsyncs.
 *
 * Single writer: one process owns the directory (the embedded server). Several processes can read.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ObjectNotFoundError, StorageError, ThrottledError, UnavailableError } from '../errors.ts';
import type { ByteRange, ObjectInfo, ObjectStore } from './ports.ts';
import { SharedSync } from './shared-sync.ts';

const OBJECT_MARKER = '%';
/** Most file systems limit one name to 255 bytes; the marker and escaping must fit in it. */
const MAX_NAME_BYTES = 255;
/** put() retries when a concurrent delete pruned the directory it was writing into. */
const PUT_ATTEMPTS = 5;

export interface FsObjectStoreOptions {
  /** Root of the object tree; created on first write. */
  readonly directory: string;
  /** Test hook: awaited just before each shared directory fsync of a put starts (can hold it back). */
  readonly beforeDirectorySync?: (directory: string) => Promise<void>;
}

/** Counted since the store was created. */
export interface FsObjectStoreStats {
  readonly fileSyncs: number;
  readonly directorySyncs: number;
}

export class FsObjectStore implements ObjectStore {
  readonly #root: string;
  /**
   * Directories whose entry, and every entry above them up to the root, this process has fsynced: an
   * object is only reachable after a power loss once every directory on its path is durable, whoever
   * created them (another put, or an earlier run that crashed before syncing). Checked once per
   * directory per process.
   */
  readonly #durableDirectories = new Set<string>();
  /** In-flight syncs by directory, so concurrent puts into a new directory share one. */
  readonly #pendingDirectorySyncs = new Map<string, Promise<void>>();
  #rootAncestorsSynced: Promise<void> | undefined;
  /** The shared fsync of each directory that puts are renaming into right now. */
  readonly #directorySyncs = new Map<string, SharedSync>();
  readonly #stats = { fileSyncs: 0, directorySyncs: 0 };
  readonly #beforeDirectorySync: FsObjectStoreOptions['beforeDirectorySync'];

  constructor(options: FsObjectStoreOptions) {
    this.#root = path.resolve(options.directory);
    this.#beforeDirectorySync = options.beforeDirectorySync;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const file = this.#fileFor(key);
    const directory = path.dirname(file);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#ensureDurableDirectory(directory);
        await this.#writeDurably(directory, file, body);
        return;
      } catch (error) {
        // ENOENT here means a concurrent delete() pruned a directory on our path: create it again.
        if (errorCode(error) === 'ENOENT' && attempt < PUT_ATTEMPTS) {
          this.#forgetDirectory(directory);
          continue;
        }
        throw translateFsError(error, `put ${key}`);
      }
    }
  }

  stats(): FsObjectStoreStats {
    return { ...this.#stats };
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const file = this.#fileFor(key);
    if (range) checkRange(range);
    try {
      if (!range) {
        const whole = await readFile(file);
        // A plain Uint8Array view (not a Buffer), like every other adapter returns.
        return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
      }
      const handle = await open(file, 'r');
      try {
        const { size } = await handle.stat();
        const end = Math.min(range.end, size - 1);
        if (range.start > end) return new Uint8Array(0);
        const buffer = new Uint8Array(end - range.start + 1);
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, range.start + filled);
          if (bytesRead === 0) break; // truncated underneath us; cannot happen with rename-into-place
          filled += bytesRead;
        }
        return filled === buffer.length ? buffer : buffer.subarray(0, filled);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new ObjectNotFoundError(key, error);
      throw translateFsError(error, `get ${key}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const files = keys.map((key) => this.#fileFor(key));
    for (const file of files) {
      try {
        await unlink(file);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue;
        throw translateFsError(error, `delete ${file}`);
      }
      await this.#pruneEmptyDirectories(path.dirname(file));
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Start at the deepest directory the prefix names in full; the last, partial segment filters names.
    const slash = prefix.lastIndexOf('/');
    const directorySegments = slash < 0 ? [] : prefix.slice(0, slash).split('/');
    if (!directorySegments.every(isValidSegment)) return; // no key can have such a prefix
    const directory = path.join(this.#root, ...directorySegments.map(escapeSegment));
    const keyPrefix = slash < 0 ? '' : prefix.slice(0, slash + 1);
    yield* this.#walk(directory, keyPrefix, prefix);
  }

  /** Depth first, siblings in key order: a directory `d` sorts as `d/`, the prefix all its keys share. */
  async *#walk(directory: string, keyPrefix: string, filter: string): AsyncGenerator<ObjectInfo> {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return;
      throw translateFsError(error, `list ${filter}`);
    }
    const children: { sortKey: string; name: string; isDirectory: boolean }[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        children.push({ sortKey: `${keyPrefix}${unescapeSegment(entry.name)}/`, name: entry.name, isDirectory: true });
      } else if (entry.isFile() && isObjectFileName(entry.name)) {
        const key = keyPrefix + unescapeSegment(entry.name.slice(0, -OBJECT_MARKER.length));
        children.push({ sortKey: key, name: entry.name, isDirectory: false });
      }
    }
    children.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const child of children) {
      const childPath = path.join(directory, child.name);
      if (child.isDirectory) {
        // Keys under `d/` all start with `d/`: descend only if that can match the filter.
        if (child.sortKey.startsWith(filter) || filter.startsWith(child.sortKey)) yield* this.#walk(childPath, child.sortKey, filter);
        continue;
      }
      if (!child.sortKey.startsWith(filter)) continue;
      let info;
      try {
        info = await stat(childPath);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue; // deleted while we listed
        throw translateFsError(error, `list ${filter}`);
      }
      yield { key: child.sortKey, size: info.size, lastModified: Math.floor(info.mtimeMs) };
    }
  }

  #fileFor(key: string): string {
    const segments = key.split('/');
    if (key.length === 0 || !segments.every(isValidSegment)) {
      throw new TypeError(`invalid object key ${JSON.stringify(key)}: empty, absolute, or has an empty, '.' or '..' segment`);
    }
    const names = segments.map(escapeSegment);
    names[names.length - 1] += OBJECT_MARKER;
    if (names.some((name) => Buffer.byteLength(name) > MAX_NAME_BYTES)) {
      throw new TypeError(`invalid object key ${JSON.stringify(key)}: a segment is longer than the file system allows`);
    }
    return path.join(this.#root, ...names);
  }

  /** Creates `directory` if needed and resolves once it and every entry leading to it is durable. */
  async #ensureDurableDirectory(directory: string): Promise<void> {
    if (this.#durableDirectories.has(directory)) return;
    let pending = this.#pendingDirectorySyncs.get(directory);
    if (!pending) {
      pending = this.#makeDurable(directory);
      this.#pendingDirectorySyncs.set(directory, pending);
      const forget = () => {
        if (this.#pendingDirectorySyncs.get(directory) === pending) this.#pendingDirectorySyncs.delete(directory);
      };
      pending.then(forget, forget);
    }
    await pending;
  }

  async #makeDurable(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    // Entries from `directory` up to the first ancestor already known durable (or the root).
    const chain: string[] = [];
    for (let dir = directory; !this.#durableDirectories.has(dir); dir = path.dirname(dir)) {
      chain.push(dir);
      if (dir === this.#root) break;
    }
    if (chain.at(-1) === this.#root) {
      // The root's own entry, and any ancestors mkdir just created: best effort, once per process,
      // since directories above the root may not be ours to open.
      this.#rootAncestorsSynced ??= syncAncestorsBestEffort(this.#root);
      await this.#rootAncestorsSynced;
    }
    for (const dir of chain) {
      if (dir !== this.#root) {
        await fsyncDirectory(path.dirname(dir));
        this.#stats.directorySyncs++;
      }
    }
    for (const dir of chain) this.#durableDirectories.add(dir);
  }

  /** Temp file in the target directory (same file system, so rename is atomic), fsync, rename, fsync dir (shared). */
  async #writeDurably(directory: string, file: string, body: Uint8Array): Promise<void> {
    // Short fixed-length name: it never ends in the object marker, and never overflows the name limit.
    const temp = path.join(directory, `.tmp-${randomBytes(12).toString('hex')}`);
    let renamed = false;
    try {
      const handle = await open(temp, 'wx');
      try {
        let written = 0;
        while (written < body.length) {
          const { bytesWritten } = await handle.write(body, written, body.length - written);
          written += bytesWritten;
        }
        await handle.sync();
        this.#stats.fileSyncs++;
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      renamed = true;
      await this.#syncDirectoryShared(directory);
    } finally {
      if (!renamed) await unlink(temp).catch(() => undefined);
    }
  }

  /** Resolves after an fsync of `directory` that started after this call: it covers renames made before the call. */
  #syncDirectoryShared(directory: string): Promise<void> {
    let shared = this.#directorySyncs.get(directory);
    if (!shared) {
      shared = new SharedSync(async () => {
        await this.#beforeDirectorySync?.(directory);
        await fsyncDirectory(directory);
        this.#stats.directorySyncs++;
      });
      const created = shared;
      created.onIdle = () => {
        if (this.#directorySyncs.get(directory) === created) this.#directorySyncs.delete(directory);
      };
      this.#directorySyncs.set(directory, created);
    }
    return shared.request();
  }

  #forgetDirectory(directory: string): void {
    for (let dir = directory; dir.startsWith(this.#root); dir = path.dirname(dir)) {
      this.#durableDirectories.delete(dir);
      if (dir === this.#root) break;
    }
  }

  /** Removes now-empty directories up to (not including) the root, so deleted prefixes leave no litter. */
  async #pruneEmptyDirectories(directory: string): Promise<void> {
    for (let dir = directory; dir !== this.#root && dir.startsWith(this.#root + path.sep); dir = path.dirname(dir)) {
      if (this.#pendingDirectorySyncs.has(dir)) return; // a put is about to write here
      this.#durableDirectories.delete(dir); // if rmdir fails it is merely synced again on next use
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (ENOTEMPTY/EEXIST), already gone, or not ours to judge: pruning is best effort
      }
    }
  }
}

async function syncAncestorsBestEffort(root: string): Promise<void> {
  for (let dir = root; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      await fsyncDirectory(path.dirname(dir));
    } catch {
      return; // unreadable ancestor: nothing above it is ours
    }
  }
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isValidSegment(segment: string): boolean {
  return segment.length > 0 && segment !== '.' && segment !== '..' && !segment.includes('\0');
}

function escapeSegment(segment: string): string {
  return segment.replaceAll('%', '%25');
}

function unescapeSegment(name: string): string {
  return name.replaceAll('%25', '%');
}

/** Ends in the marker, and that `%` is not the start of an escape (escaped names never end in `%`). */
function isObjectFileName(name: string): boolean {
  return name.length > OBJECT_MARKER.length && name.endsWith(OBJECT_MARKER);
}

function checkRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
    throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Out of descriptors or busy: nothing happened, try later. Permissions and the like: retrying will not help. */
function translateFsError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = errorCode(error);
  switch (code) {
    case 'EMFILE':
    case 'ENFILE':
    case 'EAGAIN':
    case 'EBUSY':
      return new ThrottledError(`${what}: ${code}`, error);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENAMETOOLONG':
    case 'ENOTDIR':
    case 'EISDIR':
      return new StorageError(`${what}: ${code}`, { retriable: false, cause: error });
    default:
      return new UnavailableError(`${what}: ${code ?? String(error)}`, error);
  }
}
