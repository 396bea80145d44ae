/**
 * The MetadataStore contract, written once and run against every adapter (memory, SQLite, DynamoDB
 * over dynalite). The expected answers are the port's semantics (ports.ts, item-semantics.ts), which
 * the DynamoDB adapter has to reproduce with expressions evaluated server side.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConditionFailedError } from '../../lib/errors.ts';
import type { Clause, Condition, Item, MetadataStore, QueryOptions } from '../../lib/storage/ports.ts';
import { inParallel } from './object-store.contract.ts';

export interface MetadataStoreFixture {
  readonly store: MetadataStore;
  teardown(): Promise<void>;
}

export function metadataStoreContract(name: string, setup: () => Promise<MetadataStoreFixture>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let fixture: MetadataStoreFixture;
    let store: MetadataStore;
    // Each test uses its own partition keys, so one store serves the whole suite.
    let testNumber = 0;
    const partition = () => `contract-${++testNumber}`;

    before(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    after(async () => {
      await fixture?.teardown();
    });

    describe('get, put, delete', () => {
      it('returns undefined for a missing item', async () => {
        assert.equal(await store.get(partition(), 'nothing'), undefined);
      });

      it('round-trips strings, bigints and booleans', async () => {
        const item: Item = { pk: partition(), sk: 'a', text: 'hello', count: 42n, negative: -7n, zero: 0n, yes: true, no: false, blank: '' };
        await store.put(item);
        assert.deepEqual(await store.get(item.pk, item.sk), item);
      });

      it('round-trips bytes (binary attributes), every byte value, through put, update and query', async () => {
        const pk = partition();
        const every = Uint8Array.from({ length: 256 }, (_, i) => i);
        await store.put({ pk, sk: 'a', bytes: every, tag: 'x' });
        const read = await store.get(pk, 'a');
        assert.ok(read?.bytes instanceof Uint8Array);
        assert.deepEqual(read, { pk, sk: 'a', bytes: every, tag: 'x' });
        const updated = await store.update(pk, 'a', { set: { more: new Uint8Array([1, 2, 3]) } });
        assert.deepEqual(updated.more, new Uint8Array([1, 2, 3]));
        assert.deepEqual((await store.query(pk))[0].bytes, every);
        // A view into a larger buffer (as a request body's sections are) stores just its bytes.
        await store.put({ pk, sk: 'view', bytes: every.subarray(3, 7) });
        assert.deepEqual((await store.get(pk, 'view'))!.bytes, new Uint8Array([3, 4, 5, 6]));
        // A caller changing the bytes it wrote or read changes nothing stored.
        const mine = new Uint8Array([9, 9]);
        await store.put({ pk, sk: 'b', bytes: mine });
        mine[0] = 0;
        const first = (await store.get(pk, 'b'))!.bytes as Uint8Array;
        first[1] = 0;
        assert.deepEqual((await store.get(pk, 'b'))!.bytes, new Uint8Array([9, 9]));
      });

      it('compares bytes in conditions: equal, not equal, and never equal to a string', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'a', bytes: new Uint8Array([1, 2]) });
        await store.put({ pk, sk: 'a', bytes: new Uint8Array([3]) }, { where: [{ attr: 'bytes', op: '=', value: new Uint8Array([1, 2]) }] });
        await assert.rejects(store.put({ pk, sk: 'a', bytes: new Uint8Array([4]) }, { where: [{ attr: 'bytes', op: '=', value: new Uint8Array([1, 2]) }] }), ConditionFailedError);
        await assert.rejects(store.delete(pk, 'a', { where: [{ attr: 'bytes', op: '=', value: '\u0003' }] }), ConditionFailedError);
        await store.delete(pk, 'a', { where: [{ attr: 'bytes', op: '<>', value: new Uint8Array([3, 0]) }] });
        assert.equal(await store.get(pk, 'a'), undefined);
      });

      it('replaces the whole item on put', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'a', old: 'x', kept: 1n });
        await store.put({ pk, sk: 'a', kept: 2n });
        assert.deepEqual(await store.get(pk, 'a'), { pk, sk: 'a', kept: 2n });
      });

      it('keeps items with the same sort key in different partitions apart', async () => {
        const [first, second] = [partition(), partition()];
        await store.put({ pk: first, sk: 's', v: 'first' });
        await store.put({ pk: second, sk: 's', v: 'second' });
        assert.equal((await store.get(first, 's'))?.v, 'first');
        assert.equal((await store.get(second, 's'))?.v, 'second');
      });

      it('deletes, and deleting a missing item is not an error', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'a', v: 1n });
        await store.delete(pk, 'a');
        assert.equal(await store.get(pk, 'a'), undefined);
        await store.delete(pk, 'a');
        await store.delete(pk, 'never-existed');
      });

      it('round-trips integers beyond 2^53 exactly', async () => {
        const pk = partition();
        const values = [2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n + 3n, -(2n ** 60n) - 1n, 10n ** 37n + 1n];
        await store.put({ pk, sk: 'big', ...Object.fromEntries(values.map((value, i) => [`v${i}`, value])) });
        const item = await store.get(pk, 'big');
        values.forEach((value, i) => assert.equal(item?.[`v${i}`], value));
      });

      it('stores large string attributes (1 KiB to 100 KiB) and unicode', async () => {
        const pk = partition();
        const item: Item = {
          pk,
          sk: 'large',
          kib: 'x'.repeat(1024),
          json: JSON.stringify({ members: Array.from({ length: 200 }, (_, i) => ({ id: `member-${i}`, partitions: [i, i + 1] })) }),
          big: 'abcdefghij'.repeat(10_240),
          unicode: 'caf\u00e9 \u65e5\u672c \u{1F600}',
        };
        await store.put(item);
        assert.deepEqual(await store.get(pk, 'large'), item);
        const updated = await store.update(pk, 'large', { set: { kib: 'y'.repeat(2048) } });
        assert.equal(updated.kib, 'y'.repeat(2048));
        assert.equal(updated.big, item.big);
      });
    });

    describe('conditions', () => {
      const base = { s: 'm', n: 10n, b: true } as const;

      // [description, clause, holds on the base item]
      const clauses: [string, Clause, boolean][] = [
        ['s = m', { attr: 's', op: '=', value: 'm' }, true],
        ['s = n', { attr: 's', op: '=', value: 'n' }, false],
        ['s <> n', { attr: 's', op: '<>', value: 'n' }, true],
        ['s <> m', { attr: 's', op: '<>', value: 'm' }, false],
        ['s < n', { attr: 's', op: '<', value: 'n' }, true],
        ['s < m', { attr: 's', op: '<', value: 'm' }, false],
        ['s <= m', { attr: 's', op: '<=', value: 'm' }, true],
        ['s <= l', { attr: 's', op: '<=', value: 'l' }, false],
        ['s > l', { attr: 's', op: '>', value: 'l' }, true],
        ['s > m', { attr: 's', op: '>', value: 'm' }, false],
        ['s >= m', { attr: 's', op: '>=', value: 'm' }, true],
        ['s >= ma', { attr: 's', op: '>=', value: 'ma' }, false],
        ['n = 10', { attr: 'n', op: '=', value: 10n }, true],
        ['n = 11', { attr: 'n', op: '=', value: 11n }, false],
        ['n <> 11', { attr: 'n', op: '<>', value: 11n }, true],
        ['n <> 10', { attr: 'n', op: '<>', value: 10n }, false],
        ['n < 11', { attr: 'n', op: '<', value: 11n }, true],
        ['n < 10', { attr: 'n', op: '<', value: 10n }, false],
        ['n <= 10', { attr: 'n', op: '<=', value: 10n }, true],
        ['n <= 9', { attr: 'n', op: '<=', value: 9n }, false],
        ['n > 9 (numeric, not lexicographic)', { attr: 'n', op: '>', value: 9n }, true],
        ['n > 10', { attr: 'n', op: '>', value: 10n }, false],
        ['n >= 10', { attr: 'n', op: '>=', value: 10n }, true],
        ['n >= 2^60', { attr: 'n', op: '>=', value: 2n ** 60n }, false],
        ['n > -5', { attr: 'n', op: '>', value: -5n }, true],
        ['s = 10 (type mismatch)', { attr: 's', op: '=', value: 10n }, false],
        ['n = "10" (type mismatch)', { attr: 'n', op: '=', value: '10' }, false],
        ['n <> "10" (type mismatch)', { attr: 'n', op: '<>', value: '10' }, true],
        ['n < "z" (type mismatch)', { attr: 'n', op: '<', value: 'z' }, false],
        ['b = true', { attr: 'b', op: '=', value: true }, true],
        ['b = false', { attr: 'b', op: '=', value: false }, false],
        ['b <> false', { attr: 'b', op: '<>', value: false }, true],
        ['b <= true', { attr: 'b', op: '<=', value: true }, true],
        ['b >= false', { attr: 'b', op: '>=', value: false }, false],
        ['b < true', { attr: 'b', op: '<', value: true }, false],
        ['b > false', { attr: 'b', op: '>', value: false }, false],
        ['missing = a', { attr: 'missing', op: '=', value: 'a' }, false],
        ['missing <> a', { attr: 'missing', op: '<>', value: 'a' }, false],
        ['missing < z', { attr: 'missing', op: '<', value: 'z' }, false],
        ['missing >= 0', { attr: 'missing', op: '>=', value: 0n }, false],
        ['missing exists', { attr: 'missing', op: 'exists' }, false],
        ['missing notExists', { attr: 'missing', op: 'notExists' }, true],
        ['s exists', { attr: 's', op: 'exists' }, true],
        ['s notExists', { attr: 's', op: 'notExists' }, false],
        ['anyOf [s = a, n = 10]', { anyOf: [{ attr: 's', op: '=', value: 'a' }, { attr: 'n', op: '=', value: 10n }] }, true],
        ['anyOf [s = a, n = 11]', { anyOf: [{ attr: 's', op: '=', value: 'a' }, { attr: 'n', op: '=', value: 11n }] }, false],
        ['anyOf []', { anyOf: [] }, false],
        ['anyOf [n = 10] (a single clause)', { anyOf: [{ attr: 'n', op: '=', value: 10n }] }, true],
        ['anyOf [anyOf [s <> zz]] (nested single clauses)', { anyOf: [{ anyOf: [{ attr: 's', op: '<>', value: 'zz' }] }] }, true],
        ['anyOf [anyOf [missing <> a]]', { anyOf: [{ anyOf: [{ attr: 'missing', op: '<>', value: 'a' }] }] }, false],
        [
          'anyOf [s <> m, missing <> a, anyOf [b < true, n <> 10]]',
          { anyOf: [{ attr: 's', op: '<>', value: 'm' }, { attr: 'missing', op: '<>', value: 'a' }, { anyOf: [{ attr: 'b', op: '<', value: true }, { attr: 'n', op: '<>', value: 10n }] }] },
          false,
        ],
        ['anyOf [s <> m, anyOf [], n <> 11]', { anyOf: [{ attr: 's', op: '<>', value: 'm' }, { anyOf: [] }, { attr: 'n', op: '<>', value: 11n }] }, true],
        [
          'anyOf [missing exists, anyOf [n > 100, s notExists, b = true]]',
          { anyOf: [{ attr: 'missing', op: 'exists' }, { anyOf: [{ attr: 'n', op: '>', value: 100n }, { attr: 's', op: 'notExists' }, { attr: 'b', op: '=', value: true }] }] },
          true,
        ],
        ['anyOf [missing notExists, s = zzz]', { anyOf: [{ attr: 'missing', op: 'notExists' }, { attr: 's', op: '=', value: 'zzz' }] }, true],
        ['attribute names that are reserved words', { attr: 'size', op: 'notExists' }, true],
      ];

      for (const [description, clause, holds] of clauses) {
        it(`${description} ${holds ? 'holds' : 'fails'} on an existing item (put, update, delete)`, async () => {
          const pk = partition();
          const item = { pk, sk: 'c', ...base };
          await store.put(item);
          await expectCondition(() => store.put({ ...item, marker: 'put' }, { where: [clause] }), holds);
          assert.deepEqual(await store.get(pk, 'c'), holds ? { ...item, marker: 'put' } : item);

          await store.put(item);
          await expectCondition(() => store.update(pk, 'c', { set: { marker: 'update' }, add: { n: 1n } }, { where: [clause] }), holds);
          assert.deepEqual(await store.get(pk, 'c'), holds ? { ...item, marker: 'update', n: 11n } : item);

          await store.put(item);
          await expectCondition(() => store.delete(pk, 'c', { where: [clause] }), holds);
          assert.deepEqual(await store.get(pk, 'c'), holds ? undefined : item);
        });
      }

      // On a missing item every attribute is absent.
      const onMissing: [string, Condition, boolean][] = [
        ['itemExists false', { itemExists: false }, true],
        ['itemExists true', { itemExists: true }, false],
        ['s notExists', { where: [{ attr: 's', op: 'notExists' }] }, true],
        ['s exists', { where: [{ attr: 's', op: 'exists' }] }, false],
        ['s = m', { where: [{ attr: 's', op: '=', value: 'm' }] }, false],
        ['s <> z', { where: [{ attr: 's', op: '<>', value: 'z' }] }, false],
        ['n < 100', { where: [{ attr: 'n', op: '<', value: 100n }] }, false],
        ['anyOf [s notExists, s = m]', { where: [{ anyOf: [{ attr: 's', op: 'notExists' }, { attr: 's', op: '=', value: 'm' }] }] }, true],
        ['itemExists false and n notExists', { itemExists: false, where: [{ attr: 'n', op: 'notExists' }] }, true],
      ];
      for (const [description, condition, holds] of onMissing) {
        it(`${description} ${holds ? 'holds' : 'fails'} on a missing item`, async () => {
          const pk = partition();
          await expectCondition(() => store.put({ pk, sk: 'c', v: 1n }, condition), holds);
          assert.deepEqual(await store.get(pk, 'c'), holds ? { pk, sk: 'c', v: 1n } : undefined);
          await store.delete(pk, 'c');

          await expectCondition(() => store.update(pk, 'c', { add: { v: 5n } }, condition), holds);
          assert.deepEqual(await store.get(pk, 'c'), holds ? { pk, sk: 'c', v: 5n } : undefined);
          await store.delete(pk, 'c');

          await expectCondition(() => store.delete(pk, 'c', condition), holds);
        });
      }

      it('combines several where clauses, each with alternatives', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'c', ...base });
        const condition: Condition = {
          itemExists: true,
          where: [
            { anyOf: [{ attr: 'n', op: '=', value: 10n }] },
            { anyOf: [{ attr: 'missing', op: 'exists' }, { attr: 's', op: '<>', value: 'x' }] },
            { attr: 'b', op: '=', value: true },
          ],
        };
        await store.update(pk, 'c', { add: { n: 1n } }, condition);
        await expectCondition(() => store.update(pk, 'c', { add: { n: 1n } }, condition), false);
        assert.equal((await store.get(pk, 'c'))?.n, 11n);
      });

      it('requires every where clause to hold', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'c', ...base });
        await store.update(pk, 'c', { set: { step: 1n } }, { where: [{ attr: 's', op: '=', value: 'm' }, { attr: 'n', op: '=', value: 10n }] });
        await expectCondition(
          () => store.update(pk, 'c', { set: { step: 2n } }, { where: [{ attr: 's', op: '=', value: 'm' }, { attr: 'n', op: '=', value: 11n }] }),
          false,
        );
        assert.equal((await store.get(pk, 'c'))?.step, 1n);
      });

      it('checks itemExists on an existing item', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'c', v: 1n });
        await expectCondition(() => store.put({ pk, sk: 'c', v: 2n }, { itemExists: false }), false);
        await expectCondition(() => store.put({ pk, sk: 'c', v: 3n }, { itemExists: true }), true);
        assert.equal((await store.get(pk, 'c'))?.v, 3n);
      });

      it('treats an empty condition as no condition', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'c', v: 1n }, {});
        await store.update(pk, 'c', { add: { v: 1n } }, { where: [] });
        assert.equal((await store.get(pk, 'c'))?.v, 2n);
      });
    });

    describe('update', () => {
      it('creates a missing item (upsert) and returns it', async () => {
        const pk = partition();
        const created = await store.update(pk, 'u', { set: { name: 'new', flag: false }, add: { count: 3n } });
        assert.deepEqual(created, { pk, sk: 'u', name: 'new', flag: false, count: 3n });
        assert.deepEqual(await store.get(pk, 'u'), created);
      });

      it('sets, adds and removes in one update and returns the new image', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'u', keep: 'k', replace: 'old', count: 10n, gone: 'x', alsoGone: 1n });
        const next = await store.update(pk, 'u', { set: { replace: 'new', added: true }, add: { count: -3n, fresh: 7n }, remove: ['gone', 'alsoGone', 'neverThere'] });
        const expected = { pk, sk: 'u', keep: 'k', replace: 'new', added: true, count: 7n, fresh: 7n };
        assert.deepEqual(next, expected);
        assert.deepEqual(await store.get(pk, 'u'), expected);
      });

      it('returns the old image on request (just the keys when the item was missing)', async () => {
        const pk = partition();
        const before = await store.update(pk, 'u', { add: { next: 5n }, set: { at: 'one' } }, undefined, { returnValues: 'old' });
        assert.deepEqual(before, { pk, sk: 'u' });
        const second = await store.update(pk, 'u', { add: { next: 3n }, set: { at: 'two' } }, undefined, { returnValues: 'old' });
        assert.deepEqual(second, { pk, sk: 'u', next: 5n, at: 'one' });
        assert.deepEqual(await store.get(pk, 'u'), { pk, sk: 'u', next: 8n, at: 'two' });
        await assert.rejects(store.update(pk, 'u', { add: { next: 1n } }, { where: [{ attr: 'next', op: '=', value: 0n }] }, { returnValues: 'old' }), ConditionFailedError);
      });

      it('adds a delta to a missing attribute, beyond 2^53 exactly', async () => {
        const pk = partition();
        const first = await store.update(pk, 'u', { add: { offset: 2n ** 53n } });
        assert.equal(first.offset, 2n ** 53n);
        const second = await store.update(pk, 'u', { add: { offset: 1n } });
        assert.equal(second.offset, 2n ** 53n + 1n);
        const third = await store.update(pk, 'u', { add: { offset: 2n ** 64n } });
        assert.equal(third.offset, 2n ** 64n + 2n ** 53n + 1n);
        assert.equal((await store.get(pk, 'u'))?.offset, 2n ** 64n + 2n ** 53n + 1n);
      });

      it('creates a key-only item from an empty update', async () => {
        const pk = partition();
        assert.deepEqual(await store.update(pk, 'u', {}), { pk, sk: 'u' });
        assert.deepEqual(await store.get(pk, 'u'), { pk, sk: 'u' });
      });

      it('leaves the item unchanged when the condition fails', async () => {
        const pk = partition();
        const item = { pk, sk: 'u', version: 3n, payload: 'p'.repeat(1500), other: 'o' };
        await store.put(item);
        await assert.rejects(
          store.update(pk, 'u', { set: { payload: 'changed' }, add: { version: 1n }, remove: ['other'] }, { where: [{ attr: 'version', op: '=', value: 2n }] }),
          ConditionFailedError,
        );
        assert.deepEqual(await store.get(pk, 'u'), item);
      });

      it('applies set, then add, then remove when they name the same attribute', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'u', a: 1n, b: 'x', c: 5n });
        const next = await store.update(pk, 'u', { set: { a: 10n, b: 'y', d: 'new' }, add: { a: 5n, c: 1n }, remove: ['b', 'c'] });
        const expected = { pk, sk: 'u', a: 15n, d: 'new' };
        assert.deepEqual(next, expected);
        assert.deepEqual(await store.get(pk, 'u'), expected);
      });

      it('refuses to change the key attributes', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'u', v: 1n });
        await assert.rejects(store.update(pk, 'u', { set: { pk: 'other' } }));
        await assert.rejects(store.update(pk, 'u', { remove: ['sk'] }));
        assert.deepEqual(await store.get(pk, 'u'), { pk, sk: 'u', v: 1n });
      });

      it('accepts attribute names with dots, dashes, spaces and reserved words', async () => {
        const pk = partition();
        const next = await store.update(pk, 'u', { set: { 'a.b': 'dot', 'with-dash': 'dash', 'with space': 'space', size: 'reserved', status: 'reserved' }, add: { count: 1n } });
        assert.deepEqual(next, { pk, sk: 'u', 'a.b': 'dot', 'with-dash': 'dash', 'with space': 'space', size: 'reserved', status: 'reserved', count: 1n });
        await store.update(pk, 'u', { remove: ['a.b'] }, { where: [{ attr: 'a.b', op: '=', value: 'dot' }, { attr: 'status', op: 'exists' }] });
        assert.equal((await store.get(pk, 'u'))?.['a.b'], undefined);
      });
    });

    describe('query', () => {
      const sortKeys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      let pk: string;
      before(async () => {
        pk = partition();
        // Neighbouring partitions whose items must never show up.
        await store.put({ pk: `${pk}-`, sk: 'k05', v: 'other' });
        await store.put({ pk: pk.slice(0, -1), sk: 'k05', v: 'other' });
        await inParallel(sortKeys, 10, (sk) => store.put({ pk, sk, v: sk }));
      });

      const expect = (options: QueryOptions): string[] => {
        let keys = sortKeys.filter(
          (sk) =>
            (options.gte === undefined || sk >= options.gte) &&
            (options.gt === undefined || sk > options.gt) &&
            (options.lte === undefined || sk <= options.lte) &&
            (options.lt === undefined || sk < options.lt),
        );
        if (options.reverse) keys = keys.reverse();
        return keys.slice(0, options.limit ?? keys.length);
      };

      const lowers: QueryOptions[] = [{}, { gte: 'k05' }, { gt: 'k05' }, { gte: 'k055' }, { gt: 'k' }];
      const uppers: QueryOptions[] = [{}, { lte: 'k15' }, { lt: 'k15' }, { lte: 'k155' }, { lt: 'l' }];
      for (const lower of lowers) {
        for (const upper of uppers) {
          for (const reverse of [false, true]) {
            const options: QueryOptions = { ...lower, ...upper, reverse };
            it(`query ${JSON.stringify(options)}`, async () => {
              const items = await store.query(pk, options);
              assert.deepEqual(items.map((item) => item.sk), expect(options));
              for (const item of items) assert.deepEqual(item, { pk, sk: item.sk, v: item.sk });
            });
          }
        }
      }

      const edgeCases: QueryOptions[] = [
        { gte: 'k07', lte: 'k07' },
        { gt: 'k07', lte: 'k07' },
        { gte: 'k07', lt: 'k07' },
        { gt: 'k07', lt: 'k08' },
        { gt: 'k07', lt: 'k09' },
        { gte: 'k15', lte: 'k05' },
        { gt: 'k10', lt: 'k02' },
        { gte: 'k03', gt: 'k05' },
        { gte: 'k06', gt: 'k05' },
        { lte: 'k12', lt: 'k10' },
        { lte: 'k09', lt: 'k10' },
        { gte: 'k03', gt: 'k04', lte: 'k09', lt: 'k08', reverse: true },
        { gt: 'k19' },
        { lt: 'k00' },
        { gte: 'a', lte: 'z' },
      ];
      for (const options of edgeCases) {
        it(`query edge case ${JSON.stringify(options)}`, async () => {
          assert.deepEqual((await store.query(pk, options)).map((item) => item.sk), expect(options));
        });
      }

      const limits: QueryOptions[] = [
        { limit: 3 },
        { limit: 3, reverse: true },
        { limit: 0 },
        { limit: 1 },
        { limit: 100 },
        { gt: 'k05', lt: 'k15', limit: 4 },
        { gt: 'k05', lt: 'k15', limit: 4, reverse: true },
        { gt: 'k05', lt: 'k15', limit: 9 },
        { gt: 'k05', lt: 'k15', limit: 10 },
        { gte: 'k05', lte: 'k15', limit: 11, reverse: true },
      ];
      for (const options of limits) {
        it(`query with limit ${JSON.stringify(options)}`, async () => {
          assert.deepEqual((await store.query(pk, options)).map((item) => item.sk), expect(options));
        });
      }

      it('returns nothing for an empty partition', async () => {
        assert.deepEqual(await store.query(partition()), []);
        assert.deepEqual(await store.query(partition(), { gte: 'a', lte: 'z', reverse: true, limit: 5 }), []);
      });
    });

    describe('query pagination', () => {
      // 2,500 items of ~520 bytes: more than DynamoDB's 1 MB page, so the adapter must follow
      // LastEvaluatedKey.
      const count = 2500;
      const sortKeys = Array.from({ length: count }, (_, i) => `e${String(i).padStart(6, '0')}`);
      let pk: string;
      before(async () => {
        pk = partition();
        const entries = [...sortKeys.entries()];
        await inParallel(entries, 32, ([i, sk]) => store.put({ pk, sk, payload: sk.repeat(70), offset: BigInt(i) * 1000n }));
      });

      it('returns every item in order', async () => {
        const items = await store.query(pk);
        assert.equal(items.length, count);
        assert.deepEqual(items.map((item) => item.sk), sortKeys);
        assert.equal(items[1234].payload, sortKeys[1234].repeat(70));
        assert.equal(items[2499].offset, 2_499_000n);
      });

      it('returns every item in reverse order', async () => {
        const items = await store.query(pk, { reverse: true });
        assert.deepEqual(items.map((item) => item.sk), [...sortKeys].reverse());
      });

      it('stops at a limit that spans pages', async () => {
        const items = await store.query(pk, { limit: 2100 });
        assert.deepEqual(items.map((item) => item.sk), sortKeys.slice(0, 2100));
        const reversed = await store.query(pk, { limit: 2100, reverse: true });
        assert.deepEqual(reversed.map((item) => item.sk), [...sortKeys].reverse().slice(0, 2100));
      });

      it('pages through exclusive bounds', async () => {
        const items = await store.query(pk, { gt: sortKeys[100], lt: sortKeys[2400] });
        assert.deepEqual(items.map((item) => item.sk), sortKeys.slice(101, 2400));
        const limited = await store.query(pk, { gt: sortKeys[100], lt: sortKeys[2400], limit: 2299, reverse: true });
        assert.deepEqual(limited.map((item) => item.sk), sortKeys.slice(101, 2400).reverse());
      });
    });

    describe('concurrency', () => {
      it('32 concurrent compare-and-set loops on one item count exactly', async () => {
        const pk = partition();
        const workers = 32;
        const incrementsEach = 5;
        let conflicts = 0;
        await Promise.all(
          Array.from({ length: workers }, async () => {
            for (let done = 0; done < incrementsEach; ) {
              const current = await store.get(pk, 'counter');
              const value = (current?.value as bigint | undefined) ?? 0n;
              const condition: Condition = current
                ? { where: [{ attr: 'value', op: '=', value }] }
                : { itemExists: false };
              try {
                await store.put({ pk, sk: 'counter', value: value + 1n }, condition);
                done++;
              } catch (error) {
                if (!(error instanceof ConditionFailedError)) throw error;
                conflicts++;
              }
            }
          }),
        );
        assert.equal((await store.get(pk, 'counter'))?.value, BigInt(workers * incrementsEach));
        assert.ok(conflicts >= 0);
      });

      it('32 concurrent conditional updates increment exactly', async () => {
        const pk = partition();
        await store.put({ pk, sk: 'counter', value: 0n });
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            for (let done = 0; done < 3; ) {
              const { value } = (await store.get(pk, 'counter')) as Item;
              try {
                await store.update(pk, 'counter', { add: { value: 1n } }, { where: [{ attr: 'value', op: '=', value }] });
                done++;
              } catch (error) {
                if (!(error instanceof ConditionFailedError)) throw error;
              }
            }
          }),
        );
        assert.equal((await store.get(pk, 'counter'))?.value, 96n);
      });

      it('32 concurrent adds end with the exact sum', async () => {
        const pk = partition();
        const deltas = Array.from({ length: 32 }, (_, i) => BigInt(i + 1) * 1_000_000_007n);
        const results = await Promise.all(deltas.map((delta) => store.update(pk, 'sum', { add: { total: delta, calls: 1n } })));
        const sum = deltas.reduce((a, b) => a + b, 0n);
        assert.deepEqual(await store.get(pk, 'sum'), { pk, sk: 'sum', total: sum, calls: 32n });
        // Each caller saw a distinct intermediate total: the adds were applied one at a time.
        assert.equal(new Set(results.map((item) => item.calls)).size, 32);
      });

      it('exactly one of 32 concurrent create-if-absent puts wins', async () => {
        const pk = partition();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 32 }, (_, i) => store.put({ pk, sk: 'once', writer: BigInt(i) }, { itemExists: false })),
        );
        const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        assert.equal(winners.length, 1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof ConditionFailedError);
        }
      });
    });
  });
}

async function expectCondition(write: () => Promise<unknown>, holds: boolean): Promise<void> {
  if (holds) {
    await write();
  } else {
    await assert.rejects(write(), ConditionFailedError);
  }
}
