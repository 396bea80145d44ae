/**
 * The time index (lib/log/time-index.ts), run against every backend: a seek by time reads the head,
 * one index point and a small page of entries however long the partition is; the throughput route
 * walks only what its window can hold; and whatever the timestamps (late, far in the future or the
 * past), passes (concurrent, crashing between index writes), retention and settings changes (sealed
 * segments merged again), every answer is the one a scan of every record gives, and the one the log
 * gives with its index removed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Engine, type EngineOptions } from '../../lib/log/engine.ts';
import { TIME_INDEX_SK_END, TIME_INDEX_SK_PREFIX, partitionPk, timeIndexPointFromItem, type TimeIndexPoint } from '../../lib/log/layout.ts';
import type { Item, MetadataStore } from '../../lib/storage/ports.ts';
import type { Backend, BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { countingQueries } from '../support/counting-metadata.ts';
import { append } from './engine.suite.ts';

const MINUTE = 60_000;
const SEED = 20261204;
/** Small segments, so that a short test has many: a request of 5 records is ~1.1 KB. */
const SMALL = { segmentBytes: 4 * 1024, indexIntervalBytes: 1024, tailQuietMs: 5 * MINUTE, maxTailEntries: 16 };
/** Segments that SMALL's sealed ones are too small for: a pass under it merges them again. */
const LARGE = { ...SMALL, segmentBytes: 64 * 1024, indexIntervalBytes: 4 * 1024 };

class Crash extends Error {}

/** What was produced, record by record, in offset order (one producer, so offsets are contiguous). */
type Written = Array<{ readonly offset: bigint; readonly timestamp: number }>;

export function timeIndexSuite(name: string, factory: BackendFactory, options: { readonly propertyRuns: number }): void {
  describe(`time index on ${name}`, () => {
    let backend: Backend;
    let clock: ManualClock;
    let topicSeq = 0;
    const engineOf = (options: Partial<EngineOptions> = {}) =>
      new Engine({ objects: backend.objects, metadata: backend.metadata, now: clock.now, topicCacheMs: 0, objectCacheBytes: 0, maintenance: SMALL, ...options });
    const newTopic = async (engine: Engine, config: Record<string, unknown> = { retentionMs: -1 }) => {
      const topic = `ti${++topicSeq}-${Math.random().toString(36).slice(2, 8)}`;
      await engine.topics.create(topic, 1, config);
      return topic;
    };
    const pkOf = async (engine: Engine, topic: string) => partitionPk((await engine.topics.get(topic)).id, 0);
    /** One request of `count` records at `timestamp`, `timestamp + 1`, …, then ten seconds on the clock. */
    const produce = async (engine: Engine, topic: string, written: Written, timestamp: number, count = 5) => {
      const values = Array.from({ length: count }, (_, j) => `${written.length}-${j}-${'x'.repeat(180)}`);
      await engine.produce(topic, [append(0, values, timestamp, 'none')]);
      const base = BigInt(written.length);
      for (let j = 0; j < count; j++) written.push({ offset: base + BigInt(j), timestamp: timestamp + j });
      clock.advance(10_000);
    };
    /** Requests ten seconds apart on the clock (records timestamped by it). */
    const fill = async (engine: Engine, topic: string, written: Written, requests: number) => {
      for (let i = 0; i < requests; i++) await produce(engine, topic, written, clock.now());
    };
    /** Passes until the newest segments are sealed and indexed (a segment is indexed by the pass after the one that sealed it). */
    const settle = async (engine: Engine) => {
      for (let i = 0; i < 3; i++) {
        clock.advance(6 * MINUTE);
        const report = await engine.maintain();
        assert.equal(report.errors, 0, report.firstError);
      }
    };
    /** A topic of `requests` requests, settled (compacted, sealed, indexed), with what was written. */
    const settledTopic = async (engine: Engine, requests: number, config?: Record<string, unknown>) => {
      const topic = await newTopic(engine, config);
      const written: Written = [];
      await fill(engine, topic, written, requests);
      await settle(engine);
      return { topic, written, pk: await pkOf(engine, topic) };
    };
    /** What a scan of every retained record answers. */
    const scan = (written: Written, timestamp: number, bounds: { logStartOffset: bigint; highWatermark: bigint }) =>
      written.find((r) => r.offset >= bounds.logStartOffset && r.offset < bounds.highWatermark && r.timestamp >= timestamp)?.offset ?? bounds.highWatermark;
    const points = async (pk: string): Promise<TimeIndexPoint[]> =>
      (await backend.metadata.query(pk, { gte: TIME_INDEX_SK_PREFIX, lt: TIME_INDEX_SK_END })).map(timeIndexPointFromItem);
    /** Runs `work` with the partition's index taken away, and puts it back. */
    const withoutIndex = async <T>(pk: string, work: () => Promise<T>): Promise<T> => {
      const items: Item[] = await backend.metadata.query(pk, { gte: TIME_INDEX_SK_PREFIX, lt: TIME_INDEX_SK_END });
      for (const item of items) await backend.metadata.delete(pk, item.sk);
      try {
        return await work();
      } finally {
        for (const item of items) await backend.metadata.put(item);
      }
    };
    /** The timestamps worth asking for: every record's, one before and one after, and past both ends. */
    const targets = (written: Written) => {
      const all = new Set<number>([0, 1]);
      for (const { timestamp } of written) for (const t of [timestamp - 1, timestamp, timestamp + 1]) all.add(t);
      const max = Math.max(...written.map((r) => r.timestamp));
      all.add(max + 3_600_000);
      return [...all].sort((a, b) => a - b);
    };
    /** Every target answered as a scan answers it, with the index and without it. */
    const assertSeeks = async (engine: Engine, topic: string, written: Written, every = 1) => {
      const pk = await pkOf(engine, topic);
      const bounds = await engine.partitionBounds(await engine.topics.get(topic), 0);
      const asked = targets(written).filter((_, i) => i % every === 0);
      const answers = [];
      for (const t of asked) {
        const offset = await engine.offsetForTimestamp(topic, 0, t);
        assert.equal(offset, scan(written, t, bounds), `timestamp ${t} (log ${bounds.logStartOffset}–${bounds.highWatermark})`);
        answers.push(offset);
      }
      const unindexed = await withoutIndex(pk, async () => {
        const out = [];
        for (const t of asked) out.push(await engine.offsetForTimestamp(topic, 0, t));
        return out;
      });
      assert.deepEqual(answers, unindexed);
    };

    before(async () => {
      backend = await factory();
      clock = new ManualClock(Date.UTC(2026, 11, 1));
    });
    after(async () => backend.teardown());

    it('a seek reads the head, one index point and a small page of entries, wherever in a long partition it lands', async () => {
      const counts = countingQueries(backend.metadata);
      const engine = engineOf({ metadata: counts.metadata });
      const { topic, written, pk } = await settledTopic(engine, 150);
      const indexed = await points(pk);
      assert.ok(indexed.length >= 20, `points: ${indexed.length}`);
      const first = written[0]!.timestamp;
      const last = written[written.length - 1]!.timestamp;
      const bounds = await engine.partitionBounds(await engine.topics.get(topic), 0);
      for (const fraction of [0, 0.1, 0.5, 0.9, 0.99]) {
        const t = Math.round(first + fraction * (last - first));
        counts.reset();
        assert.equal(await engine.offsetForTimestamp(topic, 0, t), scan(written, t, bounds));
        assert.ok(counts.queries.get(pk)! <= 3, `at ${fraction}: ${counts.queries.get(pk)} Queries (head, index point, entries)`);
        assert.ok(counts.entriesRead.get(pk)! <= 8, `at ${fraction}: ${counts.entriesRead.get(pk)} entries read`);
      }
      // Without the index the same seek near the end walks the whole partition.
      counts.reset();
      await withoutIndex(pk, () => engine.offsetForTimestamp(topic, 0, Math.round(first + 0.9 * (last - first))));
      assert.ok(counts.entriesRead.get(pk)! >= indexed.length, `without the index: ${counts.entriesRead.get(pk)} entries read`);
      await assertSeeks(engine, topic, written, 7);
    });

    it('the throughput of a recent window walks only the entries the window can hold', async () => {
      const engine = engineOf();
      const { topic, written, pk } = await settledTopic(engine, 150);
      const last = written[written.length - 1]!.timestamp;
      const window = { bucketMs: MINUTE, from: last - 2 * MINUTE, to: last + MINUTE };
      const indexed = await engine.throughput(topic, { ...window, maxEntries: 12 });
      assert.equal(indexed.truncated, false);
      const unbounded = await withoutIndex(pk, () => engine.throughput(topic, { ...window, maxEntries: 100_000 }));
      assert.deepEqual(indexed, unbounded);
      assert.ok(unbounded.buckets.reduce((n, b) => n + b.records, 0) >= 50, JSON.stringify(unbounded.buckets));
      const walkedFromStart = await withoutIndex(pk, () => engine.throughput(topic, { ...window, maxEntries: 12 }));
      assert.equal(walkedFromStart.truncated, true, 'from the log start the same bound is not enough');
    });

    it('retention drops the points behind the log start; seeks still answer as a scan does', async () => {
      const engine = engineOf();
      const { topic, written, pk } = await settledTopic(engine, 100, { retentionMs: -1, retentionBytes: 24 * 1024 });
      const { logStartOffset } = await engine.partitionBounds(await engine.topics.get(topic), 0);
      assert.ok(logStartOffset > 100n, `log start ${logStartOffset}`);
      const indexed = await points(pk);
      assert.ok(indexed.length > 0);
      assert.ok(indexed.every((p) => p.end > logStartOffset), JSON.stringify(indexed.map((p) => String(p.end))));
      await assertSeeks(engine, topic, written, 3);
    });

    it('segments merged again under new settings leave points inside entries; seeks still answer as a scan does', async () => {
      const engine = engineOf();
      const { topic, written, pk } = await settledTopic(engine, 80);
      const before = await points(pk);
      const larger = engineOf({ maintenance: LARGE });
      clock.advance(6 * MINUTE);
      assert.ok((await larger.maintain()).segmentsWritten > 0);
      const entries = await backend.metadata.query(pk, { gte: 'e#', lt: 'e#~' });
      const starts = new Set(entries.map((item) => BigInt(item.start as bigint)));
      assert.ok(before.some((p) => !starts.has(p.end)), 'some point now ends inside a merged segment');
      await assertSeeks(larger, topic, written, 2);
      await assertSeeks(engine, topic, written, 5);
    });

    it('a pass that dies between index writes leaves seeks right, and the next pass completes the index', async () => {
      let pointPuts = 0;
      const crashing = new Proxy(backend.metadata, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== 'function') return value;
          if (property !== 'put') return value.bind(target);
          return (item: Item, ...rest: unknown[]) => {
            if (item.sk.startsWith(TIME_INDEX_SK_PREFIX) && ++pointPuts === 3) throw new Crash('died between time index writes');
            return (value as MetadataStore['put']).call(target, item, ...(rest as []));
          };
        },
      }) as MetadataStore;
      const engine = engineOf();
      const topic = await newTopic(engine);
      const written: Written = [];
      await fill(engine, topic, written, 80);
      const dying = engineOf({ metadata: crashing });
      let report!: Awaited<ReturnType<Engine['maintain']>>;
      for (let pass = 0; pass < 3 && pointPuts < 3; pass++) {
        clock.advance(6 * MINUTE);
        report = await dying.maintain();
      }
      assert.equal(report.errors, 1, 'the pass that reached the third point died');
      assert.match(report.firstError!, /died between time index writes/);
      const pk = await pkOf(engine, topic);
      assert.equal((await points(pk)).length, 2);
      await assertSeeks(engine, topic, written, 3);
      clock.advance(6 * MINUTE);
      await engine.maintain(); // not a full pass: the dead pass left its mark unwritten, so this one extends the index
      const complete = await points(pk);
      // The index reaches the end of the sealed segments (half the target size or more, from the log start).
      const entries = (await backend.metadata.query(pk, { gte: 'e#', lt: 'e#~' })).map((item) => ({ start: item.start as bigint, end: item.end as bigint, sealed: typeof item.indexKey === 'string' && Number(item.length) >= SMALL.segmentBytes / 2 }));
      let sealedEnd = 0n;
      for (const entry of entries) if (entry.start === sealedEnd && entry.sealed) sealedEnd = entry.end;
      assert.ok(complete.length > 2 && sealedEnd > 0n, `${complete.length} points, sealed through ${sealedEnd}`);
      assert.equal(complete[complete.length - 1]!.end, sealedEnd);
      await assertSeeks(engine, topic, written, 3);
    });

    it('a log start inside a segment (deleteRecords), past the span a time points to: seeks answer from it as a scan does', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine);
      const written: Written = [];
      // The first request is stamped an hour ahead: from then on the index's maximum is past what follows.
      await produce(engine, topic, written, clock.now() + 3_600_000);
      await fill(engine, topic, written, 11);
      await settle(engine);
      const pk = await pkOf(engine, topic);
      const [first] = (await backend.metadata.query(pk, { gte: 'e#', lt: 'e#~', limit: 1 }));
      assert.ok(first.indexKey !== undefined && (first.end as bigint) > 12n, 'a sealed segment holds the first requests');
      assert.equal((await engine.deleteRecords(topic, 0, 7n)).startOffset, 7n); // inside the second request's span
      const bounds = await engine.partitionBounds(await engine.topics.get(topic), 0);
      for (const t of [0, written[5].timestamp, written[8].timestamp, written[12].timestamp, written[0].timestamp, written[0].timestamp + 1]) {
        assert.equal(await engine.offsetForTimestamp(topic, 0, t), scan(written, t, bounds), `timestamp ${t}`);
      }
      await assertSeeks(engine, topic, written);
    });

    it('answers as a scan of every record does, whatever the timestamps, passes, retention, settings and deleted records', async () => {
      const request = fc.record({
        // Late and early arrivals, and now and then one far in the future or the past.
        skewMs: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -90_000, max: 5_000 }) }, { weight: 1, arbitrary: fc.constantFrom(-86_400_000, 86_400_000 * 365) }),
        records: fc.integer({ min: 1, max: 6 }),
        pass: fc.constantFrom('none', 'none', 'none', 'scheduled', 'concurrent', 'large'),
        // Now and then the records before a point between the log start and the end are deleted (deleteRecords).
        deleteBeforePercent: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) }),
      });
      const scenario = fc.record({
        requests: fc.array(request, { minLength: 8, maxLength: 50 }),
        retentionBytes: fc.constantFrom(-1, -1, 12 * 1024, 30 * 1024),
      });
      await fc.assert(
        fc.asyncProperty(scenario, async ({ requests, retentionBytes }) => {
          const engine = engineOf();
          const larger = engineOf({ maintenance: LARGE });
          const topic = await newTopic(engine, { retentionMs: -1, retentionBytes });
          const written: Written = [];
          for (const { skewMs, records, pass, deleteBeforePercent } of requests) {
            await produce(engine, topic, written, clock.now() + skewMs, records);
            if (deleteBeforePercent !== undefined) {
              const { logStartOffset, highWatermark } = await engine.partitionBounds(await engine.topics.get(topic), 0);
              await engine.deleteRecords(topic, 0, logStartOffset + ((highWatermark - logStartOffset) * BigInt(deleteBeforePercent)) / 100n);
            }
            if (pass === 'none') continue;
            clock.advance(6 * MINUTE);
            if (pass === 'concurrent') await Promise.all([engine.maintain(), engine.maintain()]);
            else await (pass === 'large' ? larger : engine).maintain();
          }
          await settle(engine);
          await assertSeeks(engine, topic, written, 1);
          const pk = await pkOf(engine, topic);
          const first = Math.min(...written.map((r) => r.timestamp));
          for (const from of [first, clock.now() - 10 * MINUTE]) {
            const window = { bucketMs: MINUTE, from, to: clock.now(), maxEntries: 100_000 };
            assert.deepEqual(await engine.throughput(topic, window), await withoutIndex(pk, () => engine.throughput(topic, window)));
          }
        }),
        { seed: SEED, numRuns: options.propertyRuns, endOnFailure: true },
      );
    });
  });
}
