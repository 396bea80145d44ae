/**
 * A MetadataStore that counts, by partition key, the queries made (what a call reads, and where) and
 * the log entry items they returned (queries whose range starts at an entry key: `gte: 'e#…'`); every
 * other method passes through. `reset()` clears both.
 */
import type { MetadataStore } from '../../lib/storage/ports.ts';

export interface QueryCounts {
  readonly metadata: MetadataStore;
  readonly queries: Map<string, number>;
  readonly entriesRead: Map<string, number>;
  reset(): void;
}

export function countingQueries(inner: MetadataStore): QueryCounts {
  const queries = new Map<string, number>();
  const entriesRead = new Map<string, number>();
  const metadata = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'query' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (pk: string, options?: Parameters<MetadataStore['query']>[1]) => {
        queries.set(pk, (queries.get(pk) ?? 0) + 1);
        const items = await (value as MetadataStore['query']).call(target, pk, options);
        if (options?.gte?.startsWith('e#')) entriesRead.set(pk, (entriesRead.get(pk) ?? 0) + items.length);
        return items;
      };
    },
  }) as MetadataStore;
  return {
    metadata,
    queries,
    entriesRead,
    reset() {
      queries.clear();
      entriesRead.clear();
    },
  };
}
