/**
 * An ObjectStore wrapper that counts PUTs, GETs and bytes read, for request-cost assertions, and reports
 * `lastModified` by the test's clock (the stores use the wall clock) so age rules can be tested.
 */
import type { ByteRange, ObjectStore } from '../../lib/storage/ports.ts';

export class CountingObjectStore implements ObjectStore {
  readonly inner: ObjectStore;
  puts = 0;
  gets = 0;
  bytesRead = 0;
  readonly keysRead: string[] = [];
  readonly #now: () => number;
  readonly #writtenAt = new Map<string, number>();

  constructor(inner: ObjectStore, now: () => number = Date.now) {
    this.inner = inner;
    this.#now = now;
  }
  reset(): void {
    this.puts = 0;
    this.gets = 0;
    this.bytesRead = 0;
    this.keysRead.length = 0;
  }
  async put(key: string, body: Uint8Array) {
    await this.inner.put(key, body);
    this.puts++;
    this.#writtenAt.set(key, this.#now());
  }
  async get(key: string, range?: ByteRange) {
    const bytes = await this.inner.get(key, range);
    this.gets++;
    this.bytesRead += bytes.length;
    this.keysRead.push(key);
    return bytes;
  }
  delete(keys: readonly string[]) {
    return this.inner.delete(keys);
  }
  /** Passed through when the inner store can presign (its own URLs are not counted: they are not requests). */
  get presignGet() {
    return this.inner.presignGet?.bind(this.inner);
  }
  async *list(prefix: string) {
    for await (const info of this.inner.list(prefix)) yield { ...info, lastModified: this.#writtenAt.get(info.key) ?? info.lastModified };
  }
}
