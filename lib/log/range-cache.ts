/**
 * Warm-memory cache of object byte ranges, bounded by bytes, least recently used out first.
 * Objects are immutable, so an entry can never be stale: no invalidation, no TTL.
 * Concurrent misses for the same range share one read.
 */
import type { ByteRange, ObjectStore } from '../storage/ports.ts';

export class RangeCache {
  readonly #objects: ObjectStore;
  readonly #capacityBytes: number;
  readonly #entries = new Map<string, Uint8Array>();
  readonly #inflight = new Map<string, Promise<Uint8Array>>();
  #bytes = 0;
  /** Reads that reached the object store (for benchmarks and tests). */
  misses = 0;
  hits = 0;

  constructor(objects: ObjectStore, capacityBytes: number) {
    this.#objects = objects;
    this.#capacityBytes = capacityBytes;
  }

  async get(key: string, range: ByteRange): Promise<Uint8Array> {
    const id = `${key}\u0000${range.start}-${range.end}`;
    const cached = this.#entries.get(id);
    if (cached) {
      this.hits++;
      this.#entries.delete(id);
      this.#entries.set(id, cached);
      return cached;
    }
    const pending = this.#inflight.get(id);
    if (pending) return pending;
    this.misses++;
    const read = this.#objects.get(key, range).then(
      (bytes) => {
        this.#inflight.delete(id);
        this.#remember(id, bytes);
        return bytes;
      },
      (error: unknown) => {
        this.#inflight.delete(id);
        throw error;
      },
    );
    this.#inflight.set(id, read);
    return read;
  }

  #remember(id: string, bytes: Uint8Array): void {
    if (bytes.length > this.#capacityBytes / 4) return;
    this.#entries.set(id, bytes);
    this.#bytes += bytes.length;
    for (const [oldest, value] of this.#entries) {
      if (this.#bytes <= this.#capacityBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= value.length;
    }
  }
}
