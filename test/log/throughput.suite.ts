/**
 * Throughput per time bucket from the log's own entries (Engine.throughput, the route
 * `GET /v1/topics/{topic}/throughput`), run against every backend: counts per bucket and partition,
 * the sum over partitions, the window's edges, and the walk's bound.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../lib/log/engine.ts';
import type { MetadataStore } from '../../lib/storage/ports.ts';
import type { Backend, BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { append } from './engine.suite.ts';

const T0 = 1_764_000_000_000;
const SECOND = 1000;

export function throughputSuite(name: string, factory: BackendFactory): void {
  describe(`throughput on ${name}`, () => {
    let backend: Backend;
    let engine: Engine;
    let topic: string;

    before(async () => {
      backend = await factory();
      const clock = new ManualClock(Date.now());
      engine = new Engine({ objects: backend.objects, metadata: backend.metadata, now: clock.now, topicCacheMs: 0, objectCacheBytes: 0 });
      topic = `tp-${Math.random().toString(36).slice(2, 8)}`;
      await engine.topics.create(topic, 2, { retentionMs: -1 });
      // Partition 0: 3 records at T0, 2 at T0+10 s; partition 1: 4 records at T0+10 s.
      await engine.produce(topic, [append(0, ['a', 'b', 'c'], T0)]);
      await engine.produce(topic, [append(0, ['d', 'e'], T0 + 10 * SECOND), append(1, ['f', 'g', 'h', 'i'], T0 + 10 * SECOND)]);
    });
    after(async () => backend.teardown());

    it('counts records per bucket of one partition, with the stored bytes', async () => {
      const result = await engine.throughput(topic, { partition: 0, bucketMs: 5 * SECOND, from: T0, to: T0 + 20 * SECOND, maxEntries: 1000 });
      assert.equal(result.truncated, false);
      assert.deepEqual(result.buckets.map((b) => [b.startMs - T0, b.records]), [[0, 3], [5000, 0], [10_000, 2], [15_000, 0]]);
      assert.ok(result.buckets[0]!.bytes > 0 && result.buckets[2]!.bytes > 0);
      assert.equal(result.buckets[1]!.bytes, 0);
    });

    it('sums every partition when none is named', async () => {
      const result = await engine.throughput(topic, { bucketMs: 5 * SECOND, from: T0, to: T0 + 20 * SECOND, maxEntries: 1000 });
      assert.deepEqual(result.buckets.map((b) => b.records), [3, 0, 6, 0]);
    });

    it('walks the partitions side by side, not one after another', async () => {
      let inFlight = 0;
      let most = 0;
      const metadata = new Proxy(backend.metadata, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (property !== 'query' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: Parameters<MetadataStore['query']>) => {
            most = Math.max(most, ++inFlight);
            try {
              await new Promise((resolve) => setImmediate(resolve));
              return await (value as MetadataStore['query']).apply(target, args);
            } finally {
              inFlight--;
            }
          };
        },
      }) as MetadataStore;
      const sideBySide = new Engine({ objects: backend.objects, metadata, topicCacheMs: 0, objectCacheBytes: 0 });
      const result = await sideBySide.throughput(topic, { bucketMs: 5 * SECOND, from: T0, to: T0 + 20 * SECOND, maxEntries: 1000 });
      assert.deepEqual(result.buckets.map((b) => b.records), [3, 0, 6, 0]);
      assert.equal(most, 2, 'both partitions read at once');
    });

    it('leaves out what falls outside the window', async () => {
      const result = await engine.throughput(topic, { bucketMs: SECOND, from: T0 + 5 * SECOND, to: T0 + 8 * SECOND, maxEntries: 1000 });
      assert.deepEqual(result.buckets.map((b) => b.records), [0, 0, 0]);
    });

    it('stops the walk at maxEntries and says so', async () => {
      const result = await engine.throughput(topic, { partition: 0, bucketMs: 5 * SECOND, from: T0, to: T0 + 20 * SECOND, maxEntries: 1 });
      assert.equal(result.truncated, true);
      assert.deepEqual(result.buckets.map((b) => b.records), [3, 0, 0, 0]);
    });

    it('spreads a compacted segment over time, span by span of its segment index', async () => {
      const clock = new ManualClock(Date.now());
      const compacting = new Engine({
        objects: backend.objects,
        metadata: backend.metadata,
        now: clock.now,
        topicCacheMs: 0,
        objectCacheBytes: 0,
        inlineMaxBytes: 0,
        maintenance: { segmentBytes: 32 * 1024, indexIntervalBytes: 2 * 1024, tailQuietMs: 5 * 60_000, maxTailEntries: 16 },
      });
      const name = `tc-${Math.random().toString(36).slice(2, 8)}`;
      await compacting.topics.create(name, 1, { retentionMs: -1 });
      // 60 requests of 5 records (about 1 kB each request), one a second.
      for (let i = 0; i < 60; i++) {
        await compacting.produce(name, [append(0, Array.from({ length: 5 }, (_, j) => `r${i}-${j}-${'x'.repeat(180)}`), T0 + i * SECOND, 'none')]);
        clock.advance(1000);
      }
      const window = { bucketMs: 10 * SECOND, from: T0, to: T0 + 60 * SECOND, maxEntries: 1000 };
      const before = await compacting.throughput(name, window);
      assert.deepEqual(before.buckets.map((b) => b.records), [50, 50, 50, 50, 50, 50]);
      clock.advance(6 * 60_000);
      assert.ok((await compacting.maintain()).segmentsWritten > 0, 'compacted');
      const after = await compacting.throughput(name, window);
      const records = after.buckets.map((b) => b.records);
      assert.equal(records.reduce((a, b) => a + b, 0), 300, 'every record counted once');
      assert.ok(records.filter((r) => r > 0).length >= 5, `spread over the window, not piled at its end: ${records}`);
      for (const r of records) assert.ok(r <= 70, `each bucket close to its 50 (one index span off at most): ${records}`);
    });

    it('answers TOPIC_NOT_FOUND for an unknown topic', async () => {
      await assert.rejects(engine.throughput('no-such-topic', { bucketMs: SECOND, from: T0, to: T0 + SECOND, maxEntries: 10 }), { code: 'TOPIC_NOT_FOUND' });
    });
  });
}
