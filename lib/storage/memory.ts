/** In-memory adapters: for tests and for the fault-injection harness. Same semantics as the real ones. */
import { ObjectNotFoundError } from '../errors.ts';
import { applyUpdate, checkCondition, copyItem, inRange } from './item-semantics.ts';
import { EXPIRES_AT } from './ports.ts';
import type { ByteRange, Condition, Item, MetadataStore, ObjectInfo, ObjectStore, QueryOptions, UpdateChanges, UpdateOptions } from './ports.ts';

export class MemoryObjectStore implements ObjectStore {
  readonly #objects = new Map<string, { body: Uint8Array; lastModified: number }>();

  async put(key: string, body: Uint8Array): Promise<void> {
    this.#objects.set(key, { body: body.slice(), lastModified: Date.now() });
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const object = this.#objects.get(key);
    if (!object) throw new ObjectNotFoundError(key);
    return range ? object.body.slice(range.start, range.end + 1) : object.body.slice();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#objects.delete(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.#objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) {
      const object = this.#objects.get(key);
      if (object) yield { key, size: object.body.length, lastModified: object.lastModified };
    }
  }
}

export class MemoryMetadataStore implements MetadataStore {
  readonly #partitions = new Map<string, Map<string, Item>>();

  #partition(pk: string): Map<string, Item> {
    let partition = this.#partitions.get(pk);
    if (!partition) this.#partitions.set(pk, (partition = new Map()));
    return partition;
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const item = this.#partitions.get(pk)?.get(sk);
    return item ? copyItem(item) : undefined;
  }

  async put(item: Item, condition?: Condition): Promise<void> {
    const partition = this.#partition(item.pk);
    checkCondition(partition.get(item.sk), condition);
    partition.set(item.sk, copyItem(item));
  }

  async update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    const partition = this.#partition(pk);
    const current = partition.get(sk);
    checkCondition(current, condition);
    const next = copyItem(applyUpdate(pk, sk, current, changes));
    partition.set(sk, next);
    return options?.returnValues === 'old' ? copyItem(current ?? { pk, sk }) : copyItem(next);
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    const partition = this.#partition(pk);
    checkCondition(partition.get(sk), condition);
    partition.delete(sk);
  }

  async deleteExpired(nowSeconds: number): Promise<number> {
    let deleted = 0;
    for (const partition of this.#partitions.values()) {
      for (const [sk, item] of partition) {
        const expiresAt = item[EXPIRES_AT];
        if (typeof expiresAt === 'bigint' && expiresAt <= BigInt(nowSeconds)) {
          partition.delete(sk);
          deleted++;
        }
      }
    }
    return deleted;
  }

  /** Every item, in no particular order (tests compare whole stores before and after a request). */
  items(): Item[] {
    return [...this.#partitions.values()].flatMap((partition) => [...partition.values()].map(copyItem));
  }

  async query(pk: string, options: QueryOptions = {}): Promise<Item[]> {
    const items = [...(this.#partitions.get(pk)?.values() ?? [])]
      .filter((item) => inRange(item.sk, options))
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
    if (options.reverse) items.reverse();
    return items.slice(0, options.limit ?? items.length).map(copyItem);
  }
}
