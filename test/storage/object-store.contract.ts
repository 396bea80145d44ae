/**
 * The ObjectStore contract, written once and run against every adapter (memory, local filesystem,
 * S3 over s3rver). Each adapter's test file calls objectStoreContract with a factory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectNotFoundError } from '../../lib/errors.ts';
import type { ObjectInfo, ObjectStore } from '../../lib/storage/ports.ts';

export interface ObjectStoreFixture {
  readonly store: ObjectStore;
  teardown(): Promise<void>;
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function testBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Byte equality without deepStrictEqual's per-element diffing (slow on MiBs), plus the type the port promises. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.ok(actual instanceof Uint8Array, 'expected a Uint8Array');
  assert.equal(actual.length, expected.length, message ?? 'length');
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected), message ?? 'bytes differ');
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

function sortedStrings(values: readonly string[]): string[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `presigns`: the store hands out URLs that clients read directly (S3); others are read through the API. */
export function objectStoreContract(name: string, setup: () => Promise<ObjectStoreFixture>, options: { presigns?: boolean } = {}): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ObjectStoreFixture;
    let store: ObjectStore;
    // Each test writes under its own prefix, so one store serves the whole suite.
    let testNumber = 0;
    const space = () => `contract-${++testNumber}/`;

    before(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    after(async () => {
      await fixture?.teardown();
    });

    describe('put and get', () => {
      it('round-trips every byte value', async () => {
        const key = `${space()}binary`;
        const body = new Uint8Array(512).map((_, i) => i % 256);
        await store.put(key, body);
        assertBytes(await store.get(key), body);
      });

      it('stores an empty object', async () => {
        const key = `${space()}empty`;
        await store.put(key, new Uint8Array(0));
        assertBytes(await store.get(key), new Uint8Array(0));
        assertBytes(await store.get(key, { start: 0, end: 10 }), new Uint8Array(0), 'any range of an empty object is empty');
      });

      it('round-trips a 5 MiB object, whole and in part', async () => {
        const key = `${space()}large`;
        const body = testBytes(5 * 1024 * 1024, 7);
        await store.put(key, body);
        assertBytes(await store.get(key), body);
        const start = 3 * 1024 * 1024 + 17;
        assertBytes(await store.get(key, { start, end: start + 65_535 }), body.subarray(start, start + 65_536));
      });

      it('keeps no reference to the caller buffer', async () => {
        const key = `${space()}copied`;
        const body = testBytes(64, 3);
        const original = body.slice();
        await store.put(key, body);
        body.fill(0);
        assertBytes(await store.get(key), original);
      });

      it('throws ObjectNotFoundError for a missing key, with or without a range', async () => {
        const key = `${space()}missing`;
        await assert.rejects(store.get(key), ObjectNotFoundError);
        await assert.rejects(store.get(key, { start: 0, end: 9 }), ObjectNotFoundError);
      });

      it('overwrites an existing key', async () => {
        const prefix = space();
        const key = `${prefix}object`;
        await store.put(key, testBytes(100, 1));
        const second = testBytes(40, 2);
        await store.put(key, second);
        assertBytes(await store.get(key), second);
        const listed = await collect(store.list(prefix));
        assert.deepEqual(listed.map(({ key, size }) => ({ key, size })), [{ key, size: 40 }]);
      });

      it('accepts keys with spaces, percent signs, unicode and dots', async () => {
        const prefix = space();
        const keys = [`${prefix}with space`, `${prefix}100%25done%`, `${prefix}caf\u00e9/\u65e5\u672c`, `${prefix}a.b..c/.hidden`];
        for (const [i, key] of keys.entries()) await store.put(key, testBytes(10 + i, i));
        for (const [i, key] of keys.entries()) assertBytes(await store.get(key), testBytes(10 + i, i), key);
        const listed = await collect(store.list(prefix));
        assert.deepEqual(listed.map((info) => info.key), sortedStrings(keys));
      });
    });

    describe('ranges (inclusive)', () => {
      const body = testBytes(1000, 11);
      let key: string;
      before(async () => {
        key = `${space()}ranged`;
        await store.put(key, body);
      });

      it('reads the first byte', async () => {
        assertBytes(await store.get(key, { start: 0, end: 0 }), body.subarray(0, 1));
      });

      it('reads a middle range', async () => {
        assertBytes(await store.get(key, { start: 100, end: 199 }), body.subarray(100, 200));
      });

      it('reads the last byte', async () => {
        assertBytes(await store.get(key, { start: 999, end: 999 }), body.subarray(999));
      });

      it('reads the whole object as a range', async () => {
        assertBytes(await store.get(key, { start: 0, end: 999 }), body);
      });

      it('clips a range that runs past the end', async () => {
        assertBytes(await store.get(key, { start: 990, end: 5000 }), body.subarray(990));
      });

      it('returns nothing for a range that starts past the end', async () => {
        assertBytes(await store.get(key, { start: 1000, end: 1010 }), new Uint8Array(0));
        assertBytes(await store.get(key, { start: 5000, end: 6000 }), new Uint8Array(0));
      });
    });

    describe('delete', () => {
      it('deletes objects and ignores missing keys', async () => {
        const prefix = space();
        await store.put(`${prefix}a`, testBytes(5));
        await store.put(`${prefix}b`, testBytes(6));
        await store.put(`${prefix}c`, testBytes(7));
        await store.delete([`${prefix}a`, `${prefix}missing`, `${prefix}c`]);
        await assert.rejects(store.get(`${prefix}a`), ObjectNotFoundError);
        await assert.rejects(store.get(`${prefix}c`), ObjectNotFoundError);
        assertBytes(await store.get(`${prefix}b`), testBytes(6));
        assert.deepEqual((await collect(store.list(prefix))).map((info) => info.key), [`${prefix}b`]);
      });

      it('accepts an empty key list and a key deleted twice', async () => {
        const prefix = space();
        await store.delete([]);
        await store.put(`${prefix}once`, testBytes(3));
        await store.delete([`${prefix}once`]);
        await store.delete([`${prefix}once`]);
        await assert.rejects(store.get(`${prefix}once`), ObjectNotFoundError);
      });

      it('deletes more keys than one batch request holds (1,001)', async () => {
        const prefix = space();
        const keys = Array.from({ length: 1001 }, (_, i) => `${prefix}k${String(i).padStart(4, '0')}`);
        // Only the first, the 1,000th and the 1,001st exist: the batch boundary is what matters.
        const existing = [keys[0], keys[999], keys[1000]];
        for (const key of existing) await store.put(key, testBytes(4));
        await store.delete(keys);
        for (const key of existing) await assert.rejects(store.get(key), ObjectNotFoundError);
        assert.deepEqual(await collect(store.list(prefix)), []);
      });

      it('lets a key be written again after delete, and a sibling prefix survive', async () => {
        const prefix = space();
        await store.put(`${prefix}dir/x`, testBytes(8, 1));
        await store.put(`${prefix}dir2/y`, testBytes(8, 2));
        await store.delete([`${prefix}dir/x`]);
        await store.put(`${prefix}dir/x`, testBytes(9, 3));
        assertBytes(await store.get(`${prefix}dir/x`), testBytes(9, 3));
        assertBytes(await store.get(`${prefix}dir2/y`), testBytes(8, 2));
      });
    });

    describe('list', () => {
      it('lists by prefix in key order with sizes', async () => {
        const prefix = space();
        // Orders that a naive directory walk gets wrong: '-' < '/' < '0' and a key that is also a "folder".
        const keys = ['a', 'a-b', 'a/b', 'a/b/c', 'a0', 'ab/c', 'b', 'B', 'z/z/z/z'].map((key) => prefix + key);
        const shuffled = [...keys].reverse();
        for (const [i, key] of shuffled.entries()) await store.put(key, testBytes(i * 3, i));
        const sizeOf = new Map(shuffled.map((key, i) => [key, i * 3]));

        const all = await collect(store.list(prefix));
        assert.deepEqual(all.map((info) => info.key), sortedStrings(keys));
        for (const info of all) {
          assert.equal(info.size, sizeOf.get(info.key), `size of ${info.key}`);
          assert.ok(Number.isFinite(info.lastModified) && info.lastModified > 0, 'lastModified is a timestamp');
        }

        // A prefix that ends mid-segment, one that ends at a separator, and one that matches nothing.
        assert.deepEqual((await collect(store.list(`${prefix}a`))).map((info) => info.key), sortedStrings(keys.filter((key) => key.startsWith(`${prefix}a`))));
        assert.deepEqual((await collect(store.list(`${prefix}a/`))).map((info) => info.key), [`${prefix}a/b`, `${prefix}a/b/c`]);
        assert.deepEqual((await collect(store.list(`${prefix}a/b`))).map((info) => info.key), [`${prefix}a/b`, `${prefix}a/b/c`]);
        assert.deepEqual(await collect(store.list(`${prefix}nothing`)), []);
        assert.deepEqual(await collect(store.list(`${prefix}z/z/z/z/deeper`)), []);
      });

      it('lists more than one page (1,050 objects)', async () => {
        const prefix = space();
        const keys = Array.from({ length: 1050 }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
        await inParallel(keys, 25, (key) => store.put(key, new Uint8Array(1)));
        const listed = await collect(store.list(prefix));
        assert.equal(listed.length, keys.length);
        assert.deepEqual(listed.map((info) => info.key), keys);
      });
    });

    describe('concurrency', () => {
      it('handles 50 concurrent puts then 50 concurrent gets', async () => {
        const prefix = space();
        const keys = Array.from({ length: 50 }, (_, i) => `${prefix}shared-dir/obj-${i}`);
        await Promise.all(keys.map((key, i) => store.put(key, testBytes(1000 + i, i))));
        const bodies = await Promise.all(keys.map((key) => store.get(key)));
        bodies.forEach((body, i) => assertBytes(body, testBytes(1000 + i, i), keys[i]));
        assert.equal((await collect(store.list(prefix))).length, 50);
      });

      it('leaves one whole version after 50 concurrent overwrites of one key', async () => {
        const key = `${space()}contended`;
        const versions = Array.from({ length: 50 }, (_, i) => testBytes(4096, i + 100));
        await Promise.all(versions.map((body) => store.put(key, body)));
        const final = await store.get(key);
        assert.ok(
          versions.some((body) => Buffer.from(final).equals(body)),
          'the object is exactly one of the written versions, never a mix',
        );
      });

      it('handles concurrent puts and deletes in one directory', async () => {
        const prefix = space();
        const keys = Array.from({ length: 40 }, (_, i) => `${prefix}d/${i}`);
        await Promise.all(keys.slice(0, 20).map((key) => store.put(key, testBytes(10))));
        await Promise.all([
          store.delete(keys.slice(0, 20)),
          ...keys.slice(20).map((key) => store.put(key, testBytes(20))),
        ]);
        assert.deepEqual((await collect(store.list(prefix))).map((info) => info.key), sortedStrings(keys.slice(20)));
      });
    });

    // Stores that clients cannot read directly have no presignGet; the local server's signed URLs are
    // tested through the server (test/server).
    if (options.presigns) describe('presignGet', () => {
      it('presigns a URL that serves exactly the range', async () => {
        assert.ok(store.presignGet, 'a presigning store has presignGet');
        const key = `${space()}presigned`;
        const body = testBytes(300, 5);
        await store.put(key, body);
        const url = await store.presignGet(key, { start: 10, end: 109 }, 60);
        assert.ok(url, 'a URL for a key of this store');
        const response = await fetch(url, { headers: { Range: 'bytes=10-109' } });
        assert.ok(response.status === 206 || response.status === 200, `status ${response.status}`);
        const received = new Uint8Array(await response.arrayBuffer());
        // A server that ignores Range would send everything; the presigned range must still be what we get.
        assertBytes(response.status === 206 ? received : received.subarray(10, 110), body.subarray(10, 110));
      });
    });
  });
}

/** Runs `task` over `items` with at most `width` in flight. */
export async function inParallel<T>(items: readonly T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
