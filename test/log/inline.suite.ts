/**
 * Small batches inline in their log entries (DEFAULTS.inlineMaxBytes), next to batches in ingest
 * objects, run against every backend: the object requests that disappear (counted), requests mixing
 * inline and object partitions, locations for inline ranges, idempotent retries across every crash
 * point with inline parts, compaction of inline entries and garbage collection around them. The
 * engine and maintenance suites run all their tests in each path alone (STORAGE_MODES).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEFAULTS, LIMITS } from '../../lib/defaults.ts';
import { SluiceError } from '../../lib/errors.ts';
import { Engine, type EngineOptions, type Location } from '../../lib/log/engine.ts';
import { INTENT_SK, entryFromItem, intentPk, partitionPk, type LogEntry } from '../../lib/log/layout.ts';
import type { PartitionAppend, ProduceStep } from '../../lib/log/produce.ts';
import { sha256Hex } from '../../lib/hash.ts';
import { decodeRecordBatch, iterateBatches } from '../../lib/protocol/record-batch.ts';
import type { ObjectStore } from '../../lib/storage/ports.ts';
import type { Backend, BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { CountingObjectStore } from '../support/counting-store.ts';
import { Crash, append, readAll } from './engine.suite.ts';

const MINUTE = 60_000;

/** A batch of `count` records of incompressible values, well over the default inline threshold. */
function large(partition: number, count = 1, timestamp = 1_764_000_000_000, valueBytes = 6000): PartitionAppend {
  const values = Array.from({ length: count }, (_, i) => `L${partition}-${i}-${randomBytes(valueBytes).toString('base64').slice(0, valueBytes)}`);
  return append(partition, values, timestamp, 'none');
}

/** The store, able to presign (the memory and file stores cannot; the engine only needs a URL to hand out). */
function presigning(store: CountingObjectStore): ObjectStore {
  if (store.presignGet) return store;
  return {
    put: (key, body) => store.put(key, body),
    get: (key, range) => store.get(key, range),
    delete: (keys) => store.delete(keys),
    list: (prefix) => store.list(prefix),
    presignGet: async (key, range) => `test://${key}?range=${range.start}-${range.end}`,
  };
}

export function inlineSuite(name: string, factory: BackendFactory): void {
  describe(`inline batches on ${name}`, () => {
    let backend: Backend;
    let clock: ManualClock;
    let objects: CountingObjectStore;
    let topicSeq = 0;
    const engineOf = (options: Partial<EngineOptions> = {}) =>
      new Engine({
        objects: presigning(objects),
        metadata: backend.metadata,
        now: clock.now,
        topicCacheMs: 0,
        objectCacheBytes: 0,
        maintenance: { segmentBytes: 32 * 1024, indexIntervalBytes: 2 * 1024, tailQuietMs: 5 * MINUTE, maxTailEntries: 16 },
        ...options,
      });
    const newTopic = async (engine: Engine, partitions = 1) => {
      const topic = `i${++topicSeq}-${Math.random().toString(36).slice(2, 8)}`;
      await engine.topics.create(topic, partitions, { retentionMs: -1 });
      return topic;
    };
    const entries = async (engine: Engine, topic: string, partition: number): Promise<LogEntry[]> => {
      const { id } = await engine.topics.get(topic);
      return (await backend.metadata.query(partitionPk(id, partition), { gte: 'e#', lt: 'e#~' })).map(entryFromItem);
    };
    const objectKeys = async (engine: Engine, topic: string, kind = '') => {
      const { id } = await engine.topics.get(topic);
      const keys: string[] = [];
      for await (const o of objects.list(`t/${id}/${kind}`)) keys.push(o.key);
      return keys;
    };
    const values = async (engine: Engine, topic: string, partition: number) => (await readAll(engine, topic, partition)).map(([, v]) => v);

    before(async () => {
      backend = await factory();
      clock = new ManualClock(Date.now());
      objects = new CountingObjectStore(backend.objects, clock.now);
    });
    after(async () => backend.teardown());

    it('a small produce and everything read from it cost no object request: 0 PUTs, 0 GETs', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine, 2);
      objects.reset();
      const results = await engine.produce(topic, [append(0, ['a', 'b']), append(1, ['c'], 1_764_000_000_500)]);
      assert.deepEqual(results.map((r) => [r.partition, r.baseOffset, r.recordCount]), [[0, 0n, 2], [1, 0n, 1]]);
      assert.equal(objects.puts, 0, 'no ingest object');
      assert.deepEqual(await objectKeys(engine, topic), []);
      assert.deepEqual(await values(engine, topic, 0), ['a', 'b']);
      assert.deepEqual(await values(engine, topic, 1), ['c']);
      assert.equal(await engine.offsetForTimestamp(topic, 0, 1_764_000_000_001), 1n);
      const located = await engine.locations(topic, 0, { offset: 0n });
      assert.equal(located.locations.length, 1);
      assert.ok('batches' in located.locations[0]);
      assert.equal(objects.gets, 0, 'fetch, offsets by time and locations read no object');
      for (const p of [0, 1]) {
        const [entry] = await entries(engine, topic, p);
        assert.ok(entry.inlineBatches instanceof Uint8Array && entry.inlineBatches.length === entry.length);
        assert.equal(entry.objectKey, '');
      }
    });

    it('a mixed request writes one object holding only the partitions too large to inline', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine, 3);
      const parts = [append(0, ['small-0', 'small-1']), large(1, 2), large(2, 1, 1_764_000_009_000)];
      objects.reset();
      await engine.produce(topic, parts);
      assert.equal(objects.puts, 1);
      const [key] = await objectKeys(engine, topic, 'ingest/');
      assert.equal((await objects.get(key)).length, parts[1].data.length + parts[2].data.length, 'the small partition is not in the object');
      const [e0] = await entries(engine, topic, 0);
      const [e1] = await entries(engine, topic, 1);
      const [e2] = await entries(engine, topic, 2);
      assert.deepEqual(e0.inlineBatches, parts[0].data);
      assert.deepEqual([e1.objectKey, e1.position, e1.length, e1.inlineBatches], [key, 0, parts[1].data.length, undefined]);
      assert.deepEqual([e2.objectKey, e2.position, e2.length, e2.inlineBatches], [key, parts[1].data.length, parts[2].data.length, undefined]);
      assert.deepEqual(await values(engine, topic, 0), ['small-0', 'small-1']);
      assert.deepEqual(await values(engine, topic, 1), valuesIn(parts[1]));
      assert.deepEqual(await values(engine, topic, 2), valuesIn(parts[2]));
      assert.equal(await engine.offsetForTimestamp(topic, 2, 1_764_000_008_000), 0n);
      assert.equal(await engine.offsetForTimestamp(topic, 1, 1_764_000_000_001), 1n);
    });

    it('the threshold is inclusive: a part of exactly inlineMaxBytes is inline, one byte more goes to the object', async () => {
      const part = append(0, ['exactly']);
      const atLimit = engineOf({ inlineMaxBytes: part.data.length });
      const topic = await newTopic(atLimit);
      await atLimit.produce(topic, [part]);
      await engineOf({ inlineMaxBytes: part.data.length - 1 }).produce(topic, [part]);
      await engineOf({ inlineMaxBytes: 0 }).produce(topic, [part]);
      const stored = await entries(atLimit, topic, 0);
      assert.deepEqual(stored.map((e) => e.inlineBatches !== undefined), [true, false, false]);
      assert.deepEqual(await values(atLimit, topic, 0), ['exactly', 'exactly', 'exactly']);
    });

    it('refuses an inlineMaxBytes outside 0..LIMITS.maxInlineBytes', () => {
      for (const bad of [-1, 1.5, LIMITS.maxInlineBytes + 1]) assert.throws(() => engineOf({ inlineMaxBytes: bad }), RangeError);
      assert.equal(DEFAULTS.inlineMaxBytes <= LIMITS.maxInlineBytes, true);
    });

    it('the largest inline part allowed fits in one log entry item (DynamoDB: 400 KB)', async () => {
      const engine = engineOf({ inlineMaxBytes: LIMITS.maxInlineBytes });
      const topic = await newTopic(engine);
      const part = large(0, 1, 1_764_000_000_000, LIMITS.maxInlineBytes - 200);
      assert.ok(part.data.length <= LIMITS.maxInlineBytes && part.data.length > LIMITS.maxInlineBytes - 300, `${part.data.length} bytes`);
      objects.reset();
      await engine.produce(topic, [part]);
      assert.equal(objects.puts, 0);
      assert.deepEqual(await values(engine, topic, 0), valuesIn(part));
    });

    it('locations: inline ranges come with their bytes, object ranges as presigned URLs, in offset order within maxBytes', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine);
      const parts = [append(0, ['i0', 'i1', 'i2']), large(0, 2), append(0, ['i5'])];
      for (const part of parts) await engine.produce(topic, [part]);
      objects.reset();
      const all = await engine.locations(topic, 0, { offset: 0n });
      assert.equal(objects.gets, 0);
      assert.deepEqual(all.locations.map(kind), ['inline 0-2', 'url 3-4', 'inline 5-5']);
      assert.deepEqual((all.locations[0] as { batches: Uint8Array }).batches, parts[0].data, 'exactly the stored batches');
      assert.deepEqual((all.locations[2] as { batches: Uint8Array }).batches, parts[2].data);
      assert.equal(all.nextOffset, 6n);
      // a read from inside an inline entry gets the whole entry (the reader skips what it did not ask for)
      const fromInside = await engine.locations(topic, 0, { offset: 1n, maxBytes: 1 });
      assert.deepEqual(fromInside.locations.map(kind), ['inline 0-2']);
      assert.equal(fromInside.nextOffset, 3n);
      const fromLarge = await engine.locations(topic, 0, { offset: 3n, maxBytes: parts[1].data.length });
      assert.deepEqual(fromLarge.locations.map(kind), ['url 3-4']);
      assert.equal(fromLarge.nextOffset, 5n);
    });

    const steps: ProduceStep[] = ['object-written', 'intent-written', 'offsets-reserved', 'reservations-recorded', 'entry-written', 'watermark-advanced'];
    for (const step of steps) {
      it(`an idempotent mixed produce (inline + object partitions) that crashes after ${step} becomes visible exactly once`, async () => {
        const healthy = engineOf();
        const topic = await newTopic(healthy, 2);
        await healthy.produce(topic, [append(0, ['before'])]);
        let armed = true;
        const crashing = engineOf({
          afterProduceStep: (s) => {
            if (armed && s === step) {
              armed = false;
              throw new Crash(`crash after ${s}`);
            }
          },
        });
        const big = large(1, 2);
        const batch = [append(0, ['r0', 'r1']), big];
        const idem = { key: `mixed-${step}`, fingerprint: 'fp' };
        await assert.rejects(crashing.produce(topic, batch, idem), Crash);
        const visible = [...(await values(healthy, topic, 0)), ...(await values(healthy, topic, 1))];
        assert.ok(visible.length === 1 || visible.length === 5, `saw ${visible.length} records`);
        if (step !== 'object-written' && step !== 'offsets-reserved') {
          // the intent (created after the object and the reservations) names the object and which parts are inline
          const { id } = await healthy.topics.get(topic);
          const intent = await backend.metadata.get(intentPk(id, await sha256Hex(idem.key)), INTENT_SK);
          const recorded = JSON.parse(String(intent?.parts)) as Array<{ partition: number; inline?: boolean }>;
          assert.deepEqual(recorded.map((p) => [p.partition, p.inline === true]), [[0, true], [1, false]]);
        }
        clock.advance(1);
        const retry = await healthy.produce(topic, batch, idem);
        assert.deepEqual(await healthy.produce(topic, batch, idem), retry);
        clock.advance(61_000);
        await healthy.repairPartition(topic, 0);
        await healthy.repairPartition(topic, 1);
        assert.deepEqual(await values(healthy, topic, 0), ['before', 'r0', 'r1']);
        assert.deepEqual(await values(healthy, topic, 1), valuesIn(big));
        const p0 = await readAll(healthy, topic, 0);
        assert.equal(p0[1][0], retry.find((r) => r.partition === 0)!.baseOffset);
        const live = (await entries(healthy, topic, 0)).filter((e) => !e.aborted);
        assert.deepEqual(live.map((e) => e.inlineBatches !== undefined), [true, true]);
        assert.ok((await entries(healthy, topic, 1)).filter((e) => !e.aborted).every((e) => e.objectKey.includes('/ingest/')));
        const [next] = await healthy.produce(topic, [append(0, ['after'])]);
        const all = await readAll(healthy, topic, 0);
        assert.deepEqual(all.map(([, v]) => v), ['before', 'r0', 'r1', 'after']);
        assert.equal(all[3][0], next.baseOffset);
      });
    }

    it('a retry follows the split its intent recorded, whatever its own threshold says', async () => {
      for (const [first, second] of [[DEFAULTS.inlineMaxBytes, 0], [0, DEFAULTS.inlineMaxBytes]]) {
        const setup = engineOf();
        const topic = await newTopic(setup, 2);
        const crashing = engineOf({
          inlineMaxBytes: first,
          afterProduceStep: (s) => {
            if (s === 'reservations-recorded') throw new Crash('died');
          },
        });
        const batch = [append(0, ['x']), append(1, ['y'])];
        const idem = { key: `split-${first}`, fingerprint: 'fp' };
        await assert.rejects(crashing.produce(topic, batch, idem), Crash);
        objects.reset();
        await engineOf({ inlineMaxBytes: second }).produce(topic, batch, idem);
        assert.equal(objects.puts, 0, 'the retry writes no object: the intent already says where every part is');
        for (const p of [0, 1]) {
          const [entry] = await entries(setup, topic, p);
          assert.equal(entry.inlineBatches !== undefined, first > 0, `partition ${p} stored as the first attempt decided`);
        }
        assert.deepEqual(await values(setup, topic, 0), ['x']);
        assert.deepEqual(await values(setup, topic, 1), ['y']);
      }
    });

    it('a retry whose inline bytes differ (server-stamped timestamps of a JSON request) appends once; other record counts are refused', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine, 2);
      const crashing = engineOf({
        afterProduceStep: (s) => {
          if (s === 'reservations-recorded') throw new Crash('died');
        },
      });
      const idem = { key: 'stamped', fingerprint: 'same-json-body' };
      await assert.rejects(crashing.produce(topic, [append(0, ['a', 'b'], 1000), large(1, 1, 1000)], idem), Crash);
      const retried = [append(0, ['a', 'b'], 2000), large(1, 1, 2000)];
      await assert.rejects(engine.produce(topic, [append(0, ['a'], 2000), retried[1]], idem), (e: SluiceError) => e.code === 'IDEMPOTENCY_KEY_REUSED');
      await assert.rejects(engine.produce(topic, [retried[0]], idem), (e: SluiceError) => e.code === 'IDEMPOTENCY_KEY_REUSED');
      const results = await engine.produce(topic, retried, idem);
      assert.deepEqual(results.map((r) => [r.partition, r.baseOffset]), [[0, 0n], [1, 0n]]);
      assert.deepEqual(await values(engine, topic, 0), ['a', 'b']);
      assert.equal(await engine.offsetForTimestamp(topic, 0, 1500), 0n, 'the inline part carries the retry’s timestamps');
      assert.equal((await readAll(engine, topic, 1)).length, 1, 'the object part is the first attempt’s object');
    });

    it('concurrent attempts of one idempotent mixed produce append once', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine, 3);
      const big = large(2);
      const batch = [append(0, ['a']), append(1, ['b']), big];
      const idem = { key: 'racing-mixed', fingerprint: 'fp' };
      const results = await Promise.all(Array.from({ length: 8 }, () => engine.produce(topic, batch, idem)));
      for (const r of results) assert.deepEqual(r, results[0]);
      // the losers fenced what they reserved: a later record is readable before those ranges time out
      await engine.produce(topic, [append(0, ['after'])]);
      assert.deepEqual(await values(engine, topic, 0), ['a', 'after']);
      clock.advance(61_000);
      for (const p of [0, 1, 2]) await engine.repairPartition(topic, p);
      assert.deepEqual(await values(engine, topic, 0), ['a', 'after']);
      assert.deepEqual(await values(engine, topic, 1), ['b']);
      assert.deepEqual(await values(engine, topic, 2), valuesIn(big));
    });

    it('compaction merges inline and object entries into segments: no batches stay in the metadata, and GC deletes only ingest objects', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine);
      for (let i = 0; i < 10; i++) {
        await engine.produce(topic, [i % 2 === 0 ? append(0, [`small-${i}-a`, `small-${i}-b`], clock.now()) : large(0, 1, clock.now(), 5000)]);
        clock.advance(1000);
      }
      const before = await readAll(engine, topic, 0);
      const ingest = await objectKeys(engine, topic, 'ingest/');
      assert.equal(ingest.length, 5, 'one ingest object per large request');
      assert.equal((await entries(engine, topic, 0)).filter((e) => e.inlineBatches).length, 5);
      clock.advance(6 * MINUTE);
      await engine.maintain(); // (a pass covers every topic of the suite; counts are taken on this one)
      const after = await entries(engine, topic, 0);
      assert.ok(after.length >= 1 && after.length <= 2, `${after.length} entries after compaction`);
      assert.ok(after.every((e) => e.inlineBatches === undefined && e.indexKey !== undefined), 'only segment entries are left');
      assert.deepEqual(await readAll(engine, topic, 0), before);
      for (const from of [1n, 4n, 9n, 14n]) assert.deepEqual(await readAll(engine, topic, 0, from), before.filter(([o]) => o >= from));
      const fetched = await engine.fetch(topic, 0, { offset: 0n });
      assert.ok(fetched.batches.every((b) => b.header.baseOffset === b.baseOffset), 'inline batches got their real base offsets in the segment');
      clock.advance(16 * MINUTE);
      await engine.maintain(); // marks the superseded ingest objects
      clock.advance(11 * MINUTE);
      await engine.maintain();
      assert.deepEqual(await objectKeys(engine, topic, 'ingest/'), [], 'the superseded ingest objects are gone');
      assert.equal((await objectKeys(engine, topic, 'segments/')).length, 2 * after.length, 'each segment and its index are kept');
      assert.deepEqual(await readAll(engine, topic, 0), before);
    });

    it('an idempotent mixed retry after the commit window writes a new object with only the large parts', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine, 2);
      const crashing = engineOf({
        afterProduceStep: (s) => {
          if (s === 'intent-written') throw new Crash('died');
        },
      });
      const big = large(1, 1, clock.now());
      const batch = [append(0, ['late'], clock.now()), big];
      const idem = { key: 'late-mixed', fingerprint: 'fp' };
      await assert.rejects(crashing.produce(topic, batch, idem), Crash);
      clock.advance(20 * MINUTE);
      await engine.maintain();
      clock.advance(11 * MINUTE);
      await engine.maintain(); // the first attempt's object is collected as an orphan
      assert.deepEqual(await objectKeys(engine, topic, 'ingest/'), []);
      objects.reset();
      await engine.produce(topic, batch, idem);
      assert.equal(objects.puts, 1);
      const [key] = await objectKeys(engine, topic, 'ingest/');
      assert.equal((await objects.get(key)).length, big.data.length);
      assert.deepEqual(await values(engine, topic, 0), ['late']);
      assert.deepEqual(await values(engine, topic, 1), valuesIn(big));
    });
  });
}

function kind(location: Location): string {
  return `${'batches' in location ? 'inline' : 'url'} ${location.baseOffset}-${location.lastOffset}`;
}

/** The values in one partition append, decoded. */
function valuesIn(part: PartitionAppend): string[] {
  const out: string[] = [];
  for (const { position, header } of iterateBatches(part.data)) {
    for (const record of decodeRecordBatch(part.data.subarray(position, position + header.totalSize)).records) out.push(new TextDecoder().decode(record.value!));
  }
  return out;
}
