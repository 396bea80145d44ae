/**
 * A MetadataStore wrapper that counts writes by the kind of item they touch (lib/groups/layout.ts) and
 * per item, and sizes every item written by DynamoDB's rules (attribute names + values, numbers about
 * one byte per two digits), so a write's cost in write units (1 per started KB) can be computed.
 */
import type { Condition, Item, MetadataStore, QueryOptions, UpdateChanges, UpdateOptions } from '../../lib/storage/ports.ts';

export type ItemKind = 'group head' | 'group state' | 'member lease' | 'member profile' | 'group topic' | 'partition offset' | 'group list' | 'other';

export function kindOf(pk: string, sk: string): ItemKind {
  if (pk === 'groups') return 'group list';
  if (pk.startsWith('go#')) return 'partition offset';
  if (!pk.startsWith('g#')) return 'other';
  if (sk === 'head') return 'group head';
  if (sk.startsWith('s#')) return 'group state';
  if (sk.startsWith('m#')) return 'member lease';
  if (sk.startsWith('a#')) return 'member profile';
  if (sk.startsWith('t#')) return 'group topic';
  return 'other';
}

/** DynamoDB's item size: UTF-8 bytes of names and string values, ~(digits / 2 + 1) bytes per number. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (typeof value === 'string') size += Buffer.byteLength(value);
    else if (typeof value === 'bigint') size += Math.ceil(value.toString().replace('-', '').length / 2) + 1;
    else size += 1;
  }
  return size;
}

export interface KindCount {
  writes: number;
  failed: number;
  writeUnits: number;
  maxItemBytes: number;
}

export class CountingStore implements MetadataStore {
  readonly inner: MetadataStore;
  byKind = new Map<ItemKind, KindCount>();
  perItem = new Map<string, number>();
  /** Writes per partition key (an item collection: DynamoDB serves ~1,000 writes/s per key). */
  perKey = new Map<string, number>();
  reads = 0;

  constructor(inner: MetadataStore) {
    this.inner = inner;
  }

  reset(): void {
    this.byKind = new Map();
    this.perItem = new Map();
    this.perKey = new Map();
    this.reads = 0;
  }

  count(kind: ItemKind): KindCount {
    let c = this.byKind.get(kind);
    if (!c) this.byKind.set(kind, (c = { writes: 0, failed: 0, writeUnits: 0, maxItemBytes: 0 }));
    return c;
  }

  async #counted<T>(pk: string, sk: string, write: () => Promise<T>): Promise<T> {
    const c = this.count(kindOf(pk, sk));
    c.writes++;
    this.perItem.set(`${pk}\n${sk}`, (this.perItem.get(`${pk}\n${sk}`) ?? 0) + 1);
    this.perKey.set(pk, (this.perKey.get(pk) ?? 0) + 1);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      c.failed++;
      c.writeUnits += 1; // a refused conditional write is billed too
      throw error;
    }
    const after = await this.inner.get(pk, sk);
    const size = after ? itemSize(after) : 0;
    c.maxItemBytes = Math.max(c.maxItemBytes, size);
    c.writeUnits += Math.max(1, Math.ceil(size / 1024));
    return result;
  }

  get(pk: string, sk: string): Promise<Item | undefined> {
    this.reads++;
    return this.inner.get(pk, sk);
  }

  put(item: Item, condition?: Condition): Promise<void> {
    return this.#counted(item.pk, item.sk, () => this.inner.put(item, condition));
  }

  update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    return this.#counted(pk, sk, () => this.inner.update(pk, sk, changes, condition, options));
  }

  delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.#counted(pk, sk, () => this.inner.delete(pk, sk, condition));
  }

  query(pk: string, options?: QueryOptions): Promise<Item[]> {
    this.reads++;
    return this.inner.query(pk, options);
  }
}
