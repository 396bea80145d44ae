/**
 * Compaction, retention and garbage collection (invariant 6), run against every backend: reads are
 * the same before, during and after compaction; a crash after any compaction step loses nothing; a
 * read inside a segment costs one index GET and one ranged GET of at most maxBytes plus one index
 * interval; retention by time and size; metadata per partition stays bounded. In both storage paths
 * (STORAGE_MODES): these tests' requests are small, so with inlining on, compaction merges inline
 * entries, retention drops them, and garbage collection finds no ingest objects.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type EngineOptions } from '../../lib/log/engine.ts';
import type { ProduceStep } from '../../lib/log/produce.ts';
import { SluiceError } from '../../lib/errors.ts';
import { MAINTAINED_SK, entrySk, gcPk, maintainedFromItem, partitionPk } from '../../lib/log/layout.ts';
import type { MetadataStore } from '../../lib/storage/ports.ts';
import type { Backend, BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { CountingObjectStore } from '../support/counting-store.ts';
import { countingQueries as countingQueriesOf } from '../support/counting-metadata.ts';
import { STORAGE_MODES, append, readAll } from './engine.suite.ts';

const MINUTE = 60_000;
const SEGMENT_BYTES = 32 * 1024;
const INTERVAL_BYTES = 2 * 1024;

class Crash extends Error {}

export function maintenanceSuite(name: string, factory: BackendFactory): void {
  for (const mode of STORAGE_MODES) {
    describe(`maintenance on ${name} (${mode.label})`, () => {
      let backend: Backend;
      let clock: ManualClock;
      let objects: CountingObjectStore;
      let topicSeq = 0;
      const engineOf = (options: Partial<EngineOptions> = {}) =>
        new Engine({
          objects,
          metadata: backend.metadata,
          now: clock.now,
          topicCacheMs: 0,
          objectCacheBytes: 0,
          maintenance: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: INTERVAL_BYTES, tailQuietMs: 5 * MINUTE, maxTailEntries: 16 },
          inlineMaxBytes: mode.inlineMaxBytes,
          ...options,
        });
      /**
       * A produce step that holds the first attempt to reach `step` until released (`reached` resolves
       * when it gets there, or rejects after 10 s so that a broken setup fails instead of waiting).
       */
      const holdAt = (at: ProduceStep) => {
        let release = () => {};
        let arrive = () => {};
        const gate = new Promise<void>((resolve) => (release = resolve));
        const arrived = new Promise<void>((resolve) => (arrive = resolve));
        let used = false;
        return {
          step: async (step: ProduceStep) => {
            if (step !== at || used) return;
            used = true;
            arrive();
            await gate;
          },
          reached: Promise.race([arrived, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no produce reached ${at}`)), 10_000).unref())]),
          release: () => release(),
        };
      };
      /** An engine whose produce dies (throws Crash) right after `step`. */
      const crashingAfter = (step: ProduceStep) =>
        engineOf({
          afterProduceStep: (s) => {
            if (s === step) throw new Crash(`died after ${step}`);
          },
        });
      const newTopic = async (engine: Engine, config: Record<string, unknown> = {}) => {
        const topic = `m${++topicSeq}-${Math.random().toString(36).slice(2, 8)}`;
        await engine.topics.create(topic, 1, config);
        return topic;
      };
      /** n produce requests of `perRequest` records of ~200 bytes, 1 s apart. */
      const fill = async (engine: Engine, topic: string, n: number, perRequest = 5, timestamp = () => clock.now()) => {
        for (let i = 0; i < n; i++) {
          await engine.produce(topic, [append(0, Array.from({ length: perRequest }, (_, j) => `r${i}-${j}-${'x'.repeat(180)}`), timestamp(), 'none')]);
          clock.advance(1000);
        }
      };
      const entryCount = async (engine: Engine, topic: string) => {
        const { id } = await engine.topics.get(topic);
        return (await backend.metadata.query(partitionPk(id, 0), { gte: 'e#', lt: 'e#~' })).length;
      };
      const objectKeys = async (engine: Engine, topic: string) => {
        const { id } = await engine.topics.get(topic);
        const keys: string[] = [];
        for await (const o of objects.list(`t/${id}/`)) keys.push(o.key);
        return keys;
      };

      before(async () => {
        backend = await factory();
        clock = new ManualClock(Date.now());
        objects = new CountingObjectStore(backend.objects, clock.now);
      });
      after(async () => backend.teardown());

      it('compacts ingest ranges into indexed segments; reads are unchanged, with real base offsets', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await fill(engine, topic, 60);
        const before = await readAll(engine, topic, 0);
        assert.equal(await entryCount(engine, topic), 60);
        clock.advance(6 * MINUTE);
        const report = await engine.maintain();
        assert.ok(report.segmentsWritten >= 2, `segments written: ${report.segmentsWritten}`);
        assert.equal(report.entriesCompacted, 60);
        assert.ok((await entryCount(engine, topic)) <= 3);
        assert.deepEqual(await readAll(engine, topic, 0), before);
        for (const from of [0n, 1n, 137n, 299n]) {
          assert.deepEqual(await readAll(engine, topic, 0, from), before.filter(([o]) => o >= from), `from ${from}`);
        }
        const fetched = await engine.fetch(topic, 0, { offset: 100n, maxBytes: 4096 });
        assert.ok(fetched.batches.every((b) => b.header.baseOffset === b.baseOffset), 'segments carry real base offsets');
        assert.ok((await objectKeys(engine, topic)).some((k) => k.endsWith('.index')));
      });

      it('reads from any offset in a segment with one index GET and one ranged GET of at most maxBytes + one interval', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await fill(engine, topic, 150);
        clock.advance(6 * MINUTE);
        await engine.maintain();
        const maxBytes = 3000;
        let sawIndex = false;
        for (const offset of [0n, 57n, 333n, 500n, 749n]) {
          objects.reset();
          const result = await engine.fetch(topic, 0, { offset, maxBytes });
          assert.ok(result.batches.length >= 1);
          assert.ok(result.batches[0].baseOffset <= offset && result.batches[0].lastOffset >= offset);
          const indexGets = objects.keysRead.filter((k) => k.endsWith('.index')).length;
          const dataGets = objects.gets - indexGets;
          sawIndex ||= indexGets > 0;
          assert.ok(indexGets <= 1, `index GETs ${indexGets}`);
          assert.equal(dataGets, 1, `data GETs at offset ${offset}`);
        }
        assert.ok(sawIndex);
        // bytes read, counted with the index already warm
        for (const offset of [3n, 250n, 612n]) {
          await engine.fetch(topic, 0, { offset: offset + 1n, maxBytes }); // warms this segment's index
          objects.reset();
          await engine.fetch(topic, 0, { offset, maxBytes });
          assert.equal(objects.gets, 1, 'index is cached in warm memory');
          assert.ok(objects.bytesRead <= maxBytes + INTERVAL_BYTES, `read ${objects.bytesRead} bytes for maxBytes ${maxBytes}`);
        }
      });

      it('finds offsets by timestamp through the segment index', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const t0 = clock.now();
        let t = t0;
        await fill(engine, topic, 80, 5, () => (t += 1000));
        clock.advance(6 * MINUTE);
        assert.ok((await engine.maintain()).segmentsWritten > 0);
        // request i has timestamps t0 + 1000(i+1) + j
        assert.equal(await engine.offsetForTimestamp(topic, 0, 0), 0n);
        assert.equal(await engine.offsetForTimestamp(topic, 0, t0 + 1000 * 41 + 2), 40n * 5n + 2n);
        assert.equal(await engine.offsetForTimestamp(topic, 0, t0 + 1000 * 41 + 5), 41n * 5n);
        assert.equal(await engine.offsetForTimestamp(topic, 0, t0 + 9_000_000), 400n);
      });

      it('readers during compaction see exactly the records they would see without it', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await fill(engine, topic, 40);
        const expected = await readAll(engine, topic, 0);
        const observed: string[] = [];
        const reader = engineOf({
          afterCompactionStep: async (step) => {
            observed.push(step);
            assert.deepEqual(await readAll(engine, topic, 0), expected, `after ${step}`);
            assert.deepEqual(await readAll(engine, topic, 0, 77n), expected.filter(([o]) => o >= 77n), `after ${step}, from 77`);
          },
        });
        clock.advance(6 * MINUTE);
        await reader.maintain();
        assert.ok(observed.includes('entry-swapped'));
        assert.deepEqual(await readAll(engine, topic, 0), expected);
      });

      for (const step of ['segment-written', 'entry-swapped', 'entries-deleted'] as const) {
        it(`records deleted by request while compaction is between steps (after ${step}): reads from the new start are unchanged, and a later pass leaves nothing below it`, async () => {
          const engine = engineOf();
          const topic = await newTopic(engine, { retentionMs: -1 });
          await fill(engine, topic, 30); // 150 records
          const expected = (await readAll(engine, topic, 0)).filter(([offset]) => offset >= 37n);
          let armed = true;
          const compacting = engineOf({
            afterCompactionStep: async (s) => {
              if (!armed || s !== step) return;
              armed = false;
              await engine.deleteRecords(topic, 0, 37n); // inside an entry the segment being written covers
              assert.deepEqual(await readAll(engine, topic, 0, 37n), expected, `right after the request, during ${step}`);
            },
          });
          clock.advance(6 * MINUTE);
          assert.equal((await compacting.maintain()).errors, 0);
          assert.equal(armed, false, `${step} was reached`);
          assert.deepEqual(await readAll(engine, topic, 0, 37n), expected);
          await compacting.maintain();
          const { id } = await engine.topics.get(topic);
          const entries = (await backend.metadata.query(partitionPk(id, 0), { gte: 'e#', lt: 'e#~' })).map((item) => [item.start as bigint, item.end as bigint]);
          assert.ok(entries.every(([, end]) => end > 37n), `entries left: ${entries.join(' ')}`);
          assert.deepEqual(await readAll(engine, topic, 0, 37n), expected);
          await assert.rejects(engine.fetch(topic, 0, { offset: 36n }), (e: SluiceError) => e.code === 'OFFSET_OUT_OF_RANGE');
        });
      }

      it('a pass that fails while it deletes the entries below a moved start leaves the rest to the next pass', async () => {
        let failDeletes = 0;
        const metadata = new Proxy(backend.metadata, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver);
            if (property !== 'delete' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
            return async (...args: Parameters<MetadataStore['delete']>) => {
              if (failDeletes > 0 && args[1].startsWith('e#') && --failDeletes === 0) throw new Error('the store failed this delete');
              return target.delete(...args);
            };
          },
        });
        const engine = engineOf({ metadata });
        const topic = await newTopic(engine, { retentionMs: -1 });
        await fill(engine, topic, 10); // entries of 5 records
        await engine.maintain();
        const expected = (await readAll(engine, topic, 0)).filter(([offset]) => offset >= 30n);
        await engine.deleteRecords(topic, 0, 30n);
        failDeletes = 3; // the third delete of an entry fails
        const failed = await engine.maintain();
        assert.equal(failed.errors, 1);
        assert.equal(failed.entriesExpired, 0, 'the pass ended at the failure, before it counted');
        const { id } = await engine.topics.get(topic);
        const below = async () => (await backend.metadata.query(partitionPk(id, 0), { gte: 'e#', lt: 'e#~' })).filter((item) => (item.end as bigint) <= 30n).length;
        assert.equal(await below(), 4, 'two of the six went');
        assert.deepEqual(await readAll(engine, topic, 0, 30n), expected);
        const next = await engine.maintain();
        assert.deepEqual([next.errors, next.entriesExpired], [0, 4]);
        assert.equal(await below(), 0);
        assert.deepEqual(await readAll(engine, topic, 0, 30n), expected);
        // its entries are not yet compacted: gone, they cannot be the first a later test's pass compacts
        await engine.topics.delete(topic);
      });

      for (const step of ['segment-written', 'entry-swapped', 'entries-deleted'] as const) {
        it(`a crash after ${step} leaves every record readable and the next pass finishes the job`, async () => {
          const engine = engineOf();
          const topic = await newTopic(engine);
          await fill(engine, topic, 30);
          const expected = await readAll(engine, topic, 0);
          let armed = true;
          const crashing = engineOf({
            afterCompactionStep: (s) => {
              if (armed && s === step) {
                armed = false;
                throw new Crash(step);
              }
            },
          });
          clock.advance(6 * MINUTE);
          const crashed = await crashing.maintain();
          assert.equal(crashed.errors, 1, 'the crashed partition is reported, the pass goes on');
          assert.match(crashed.firstError ?? '', new RegExp(step));
          assert.deepEqual(await readAll(engine, topic, 0), expected);
          await engine.maintain();
          assert.deepEqual(await readAll(engine, topic, 0), expected);
          assert.ok((await entryCount(engine, topic)) <= 2, `entries after the next pass: ${await entryCount(engine, topic)}`);
          // unreferenced objects (superseded ranges, or the crashed pass's segment) go after the grace period
          clock.advance(16 * MINUTE);
          await engine.maintain();
          clock.advance(11 * MINUTE);
          await engine.maintain();
          if (step === 'segment-written') {
            // Nobody marked the crashed pass's segment: the partial sweeps do not list segments, the
            // next full one (within the hour) finds it.
            assert.equal((await objectKeys(engine, topic)).filter((k) => k.endsWith('.seg')).length, (await entryCount(engine, topic)) + 1);
            clock.advance(40 * MINUTE);
            await engine.maintain(); // a full pass: marks it
            clock.advance(11 * MINUTE);
            await engine.maintain();
          }
          assert.deepEqual(await readAll(engine, topic, 0), expected);
          const keys = await objectKeys(engine, topic);
          assert.ok(keys.every((k) => !k.includes('/ingest/')), `ingest objects left: ${keys.filter((k) => k.includes('/ingest/')).length}`);
          assert.equal(keys.filter((k) => k.endsWith('.seg')).length, (await entryCount(engine, topic)));
        });
      }

      if (mode.inlineMaxBytes === 0) {
        // Ingest objects exist only for batches too large to inline.
        it('keeps superseded objects through the grace period, so outstanding reads still work', async () => {
          const engine = engineOf();
          const topic = await newTopic(engine);
          await fill(engine, topic, 10);
          clock.advance(20 * MINUTE);
          const stale = await engine.fetch(topic, 0, { offset: 0n }); // planned against ingest entries
          const ingestKeys = (await objectKeys(engine, topic)).filter((k) => k.includes('/ingest/'));
          await engine.maintain(); // compacts
          await engine.maintain(); // marks the superseded objects
          clock.advance(5 * MINUTE);
          await engine.maintain();
          for (const key of ingestKeys) assert.ok((await objects.get(key)).length > 0, 'still there within the grace period');
          assert.ok(stale.batches.length > 0);
          clock.advance(6 * MINUTE);
          const report = await engine.maintain();
          assert.equal(report.objectsDeleted, ingestKeys.length);
        });
      }

      if (mode.inlineMaxBytes === 0) {
        // Ingest objects exist only for batches too large to inline.
        it('deletes the object of a crashed produce once it is old, and never a referenced one', async () => {
          const engine = engineOf();
          const topic = await newTopic(engine);
          const crashing = crashingAfter('object-written');
          await assert.rejects(crashing.produce(topic, [append(0, ['orphan'], clock.now())]), Crash);
          await engine.produce(topic, [append(0, ['kept'], clock.now())]);
          assert.equal((await objectKeys(engine, topic)).length, 2);
          await engine.maintain();
          clock.advance(10 * MINUTE);
          assert.equal((await engine.maintain()).objectsDeleted, 0, 'too young to judge');
          clock.advance(6 * MINUTE);
          await engine.maintain(); // marks
          clock.advance(11 * MINUTE);
          await engine.maintain();
          assert.deepEqual((await readAll(engine, topic, 0)).map(([, v]) => v), ['kept']);
          assert.equal((await objectKeys(engine, topic)).length, 2, 'the kept record now lives in a segment and its index');
        });
      }

      it('applies retention by time: the log start moves first, reads below it get 416', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, { retentionMs: 10 * MINUTE });
        await fill(engine, topic, 10);
        clock.advance(9 * MINUTE);
        await fill(engine, topic, 10);
        await engine.maintain();
        let state = (await engine.describeTopic(topic)).partitions[0];
        assert.equal(state.startOffset, 0n, 'nothing is older than 10 minutes yet');
        clock.advance(2 * MINUTE); // the first 10 requests are now 11-ish minutes old
        const report = await engine.maintain();
        state = (await engine.describeTopic(topic)).partitions[0];
        assert.equal(state.startOffset, 50n);
        assert.equal(report.offsetsTrimmed, '50');
        await assert.rejects(engine.fetch(topic, 0, { offset: 49n }), (e: SluiceError) => e.code === 'OFFSET_OUT_OF_RANGE' && e.details.startOffset === '50');
        assert.equal((await readAll(engine, topic, 0, 50n)).length, 50);
        assert.equal(await engine.offsetForTimestamp(topic, 0, 0), 50n);
      });

      it('retention by time of a LogAppendTime topic follows arrival: records stamped a year ahead by their producer still expire', async () => {
        const engine = engineOf();
        const yearAhead = () => clock.now() + 365 * 24 * 60 * MINUTE;
        const created = await newTopic(engine, { retentionMs: 10 * MINUTE }); // CreateTime: the producer's clock decides
        const appended = await newTopic(engine, { retentionMs: 10 * MINUTE, timestampType: 'LogAppendTime' });
        await fill(engine, created, 10, 5, yearAhead);
        await fill(engine, appended, 10, 5, yearAhead);
        clock.advance(11 * MINUTE);
        await engine.maintain();
        assert.equal((await engine.describeTopic(created)).partitions[0].startOffset, 0n, 'kept for a year by its producer');
        const state = (await engine.describeTopic(appended)).partitions[0];
        assert.deepEqual([state.startOffset, state.endOffset], [50n, 50n], 'expired 10 minutes after arrival');
      });

      it('applies retention by size', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, { retentionBytes: 5_000, retentionMs: -1 });
        await fill(engine, topic, 20); // ~1,100 bytes per request
        await engine.maintain();
        const state = (await engine.describeTopic(topic)).partitions[0];
        assert.ok(state.startOffset > 0n && state.startOffset % 5n === 0n, `start ${state.startOffset}`);
        const kept = await readAll(engine, topic, 0, state.startOffset);
        assert.equal(BigInt(kept.length), 100n - state.startOffset);
        assert.ok(kept.length * 200 <= 5_000 + 1200, 'roughly retentionBytes are kept');
        assert.ok(kept.length * 200 >= 5_000 - 1200);
      });

      it('keeps metadata per partition bounded under continuous small produces', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        let worst = 0;
        for (let round = 0; round < 30; round++) {
          await fill(engine, topic, 10, 2); // 10 small produces per maintenance interval
          clock.advance(MINUTE);
          await engine.maintain();
          worst = Math.max(worst, await entryCount(engine, topic));
        }
        // Bound: sealed segments (≥ segmentBytes/2 each, here ~120 KiB written → ≤ 8) + one open
        // segment + at most maxTailEntries (16) + entries younger than minEntryAgeMs (the last 60 s: 10).
        const written = 300 * 2 * 200;
        const bound = Math.ceil(written / (SEGMENT_BYTES / 2)) + 1 + 16 + 10;
        assert.ok(worst <= bound, `worst ${worst} > bound ${bound}`);
        assert.equal((await readAll(engine, topic, 0)).length, 600);
      });

      it('purges a deleted topic after the grace period', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await fill(engine, topic, 3);
        const { id } = await engine.topics.get(topic);
        await engine.topics.delete(topic);
        assert.equal((await engine.maintain()).deletedTopicsPurged, 0);
        clock.advance(11 * MINUTE);
        assert.equal((await engine.maintain()).deletedTopicsPurged, 1);
        const left: string[] = [];
        for await (const o of objects.list(`t/${id}/`)) left.push(o.key);
        assert.deepEqual(left, []);
        assert.deepEqual(await backend.metadata.query(partitionPk(id, 0)), []);
      });

      it('forgets idempotency keys after their time to live (DynamoDB TTL in AWS, the pass elsewhere)', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await engine.produce(topic, [append(0, ['once'], clock.now())], { key: 'ttl-key', fingerprint: 'fp' });
        assert.equal((await engine.maintain()).expiredItemsDeleted, 0);
        clock.advance(25 * 60 * MINUTE);
        const report = await engine.maintain();
        if (backend.metadata.deleteExpired) assert.ok(report.expiredItemsDeleted >= 1, `expired items deleted: ${report.expiredItemsDeleted}`);
        else assert.equal(report.expiredItemsDeleted, 0, 'DynamoDB expires items itself');
      });

      it('a keyed retry of an acknowledged request answers its offsets after compaction merged its entry into a segment', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const batch = [append(0, ['acked'], clock.now())];
        const idem = { key: 'acked-then-compacted', fingerprint: 'fp' };
        const first = await engine.produce(topic, batch, idem);
        await engine.produce(topic, [append(0, ['later'], clock.now())]);
        clock.advance(6 * MINUTE); // a quiet tail: compaction merges both entries into a segment
        await engine.maintain();
        const items = await backend.metadata.query(partitionPk((await engine.topics.get(topic)).id, 0), { gte: 'e#', lt: 'e$' });
        assert.ok(items.every((item) => item.indexKey !== undefined), 'only segment entries are left');
        assert.deepEqual(await engine.produce(topic, batch, idem), first);
        assert.deepEqual((await readAll(engine, topic, 0)).map(([, v]) => v), ['acked', 'later']);
      });

      it('a keyed retry after retention deleted its records is refused, never appended twice', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, { retentionMs: 10 * MINUTE });
        const batch = [append(0, ['gone'], clock.now())];
        const idem = { key: 'past-retention', fingerprint: 'fp' };
        await engine.produce(topic, batch, idem);
        clock.advance(11 * MINUTE);
        await engine.maintain();
        const [{ startOffset }] = (await engine.describeTopic(topic)).partitions;
        assert.equal(startOffset, 1n, 'retention deleted the record');
        await assert.rejects(engine.produce(topic, batch, idem), (e: SluiceError) => e.code === 'IDEMPOTENCY_KEY_REUSED' && /can no longer be told/.test(e.message));
        assert.deepEqual(await readAll(engine, topic, 0, startOffset), [], 'nothing appended');
        const [fresh] = await engine.produce(topic, batch, { key: 'a-new-key', fingerprint: 'fp' });
        assert.deepEqual(await readAll(engine, topic, 0, startOffset), [[fresh.baseOffset, 'gone']]);
      });

      it('a keyed retry after deleteRecords removed its records is refused on a topic that keeps everything, never appended twice', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, { retentionMs: -1 });
        const batch = [append(0, ['deleted'], clock.now())];
        const idem = { key: 'deleted-then-retried', fingerprint: 'fp', retry: true };
        await engine.produce(topic, batch, idem);
        await engine.produce(topic, [append(0, ['later'], clock.now())]);
        await engine.deleteRecords(topic, 0, 'end');
        await engine.maintain(); // deletes the entries below the new start: nothing says what was there
        const id = (await engine.topics.get(topic)).id;
        assert.equal((await backend.metadata.query(partitionPk(id, 0), { gte: 'e#', lt: 'e$' })).length, 0);
        await assert.rejects(engine.produce(topic, batch, idem), (e: SluiceError) => e.code === 'IDEMPOTENCY_KEY_REUSED' && /deleteRecords/.test(e.message));
        assert.deepEqual((await engine.describeTopic(topic)).partitions[0], { partition: 0, startOffset: 2n, endOffset: 2n }, 'nothing appended');
        const [fresh] = await engine.produce(topic, batch, { key: 'a-new-key', fingerprint: 'fp' });
        assert.equal(fresh.baseOffset, 2n, 'a new key appends');
      });

      it('an attempt that wakes after its range was written by a retry, then deleted by deleteRecords, is refused, never appended twice', async () => {
        const held = holdAt('reservations-recorded');
        const slow = engineOf({ afterProduceStep: held.step });
        const engine = engineOf();
        const topic = await newTopic(engine, { retentionMs: -1 });
        const batch = [append(0, ['once'], clock.now())];
        const idem = { key: 'woken-after-delete', fingerprint: 'fp' };
        const first = slow.produce(topic, batch, idem); // reserves [0, 1), records it, then stalls before writing
        await held.reached;
        const [retried] = await engine.produce(topic, batch, { ...idem, retry: true }); // writes [0, 1) itself
        assert.equal(retried.baseOffset, 0n);
        await engine.deleteRecords(topic, 0, 'end');
        await engine.maintain(); // the entry at [0, 1) goes: nothing shows it was written
        clock.advance(60_000); // the stalled attempt is past its write deadline: it fences the range instead
        held.release();
        await assert.rejects(first, (e: SluiceError) => e.code === 'IDEMPOTENCY_KEY_REUSED' && /deleteRecords/.test(e.message));
        assert.deepEqual((await engine.describeTopic(topic)).partitions[0], { partition: 0, startOffset: 1n, endOffset: 1n }, 'nothing appended again');
        const id = (await engine.topics.get(topic)).id;
        assert.deepEqual(await backend.metadata.query(partitionPk(id, 0), { gte: 'e#', lt: 'e$' }), [], 'its fence below the start is gone');
      });

      it('an attempt whose entry write finds the range taken, and then merged into a segment, answers it as written, never appends twice', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, { retentionMs: -1 });
        await engine.produce(topic, [append(0, ['before'], clock.now())]); // so that a segment starts before our range
        const batch = [append(0, ['once'], clock.now())];
        const idem = { key: 'merged-under-it', fingerprint: 'fp' };
        const held = holdAt('reservations-recorded');
        const first = engineOf({ afterProduceStep: held.step });
        const holding = first.produce(topic, batch, idem); // reserves [1, 2), records it, stalls before writing
        await held.reached;
        const store = backend.metadata;
        let step: 'put' | 'get' | 'done' = 'put';
        const racing: MetadataStore = {
          ...store,
          get: async (p, sk) => {
            if (step === 'get' && sk === entrySk(1n)) {
              step = 'done';
              clock.advance(6 * MINUTE);
              await engine.maintain(); // the first attempt's entry is merged into a segment from 0 under our read
            }
            return store.get(p, sk);
          },
          put: async (item, condition) => {
            if (step === 'put' && item.sk === entrySk(1n)) {
              step = 'get';
              held.release(); // the first attempt writes its entry at [1, 2) before ours lands
              await holding;
            }
            return store.put(item, condition);
          },
          update: (p, sk, changes, condition, options) => store.update(p, sk, changes, condition, options),
          delete: (p, sk, condition) => store.delete(p, sk, condition),
          query: (p, options) => store.query(p, options),
        };
        const retry = engineOf({ metadata: racing });
        const [answered] = await retry.produce(topic, batch, { ...idem, retry: true });
        assert.equal(step, 'done', 'the race ran as staged');
        assert.equal(answered.baseOffset, 1n, 'the first attempt\'s offset');
        assert.deepEqual((await readAll(engine, topic, 0)).map(([, v]) => v), ['before', 'once']);
      });

      describe('quiet partitions', () => {
        const countingQueries = () => countingQueriesOf(backend.metadata);
        /** The prefixes of this topic that `work` listed. */
        const listedBy = async (id: string, work: () => Promise<unknown>) => {
          const prefixes: string[] = [];
          const list = objects.list.bind(objects);
          objects.list = (prefix: string) => {
            if (prefix.startsWith(`t/${id}/`)) prefixes.push(prefix);
            return list(prefix);
          };
          try {
            await work();
          } finally {
            objects.list = list;
          }
          return prefixes;
        };
        /** Lists of this topic's objects made by `work`. */
        const listsOf = async (id: string, work: () => Promise<unknown>) => (await listedBy(id, work)).length;
        /** A topic produced to, compacted and left alone until passes find nothing to do (its superseded objects collected). */
        const settledTopic = async (engine: Engine, config: Record<string, unknown> = {}) => {
          const topic = await newTopic(engine, config);
          await fill(engine, topic, 40);
          clock.advance(6 * MINUTE);
          await engine.maintain(); // compacts
          clock.advance(16 * MINUTE);
          await engine.maintain(); // marks the superseded ingest objects
          clock.advance(11 * MINUTE);
          await engine.maintain(); // collects them; nothing left to do
          return topic;
        };

        it('a scheduled pass reads a quiet partition with one Query and does not list its objects; reads are unchanged', async () => {
          const { metadata, queries } = countingQueries();
          const engine = engineOf({ metadata });
          const topic = await settledTopic(engine);
          const { id } = await engine.topics.get(topic);
          const before = await readAll(engine, topic, 0);
          queries.clear();
          let report!: Awaited<ReturnType<Engine['maintain']>>;
          const lists = await listsOf(id, async () => (report = await engine.maintain()));
          assert.equal(queries.get(partitionPk(id, 0)), 1, 'head, watermark and mark in one Query: no entry walk');
          assert.equal(queries.get(gcPk(id)), 1, 'nothing pending in collection');
          assert.equal(lists, 0, 'no listing of the topic');
          assert.ok(report.partitionsSkipped >= 1 && report.collectionsSkipped >= 1, JSON.stringify(report));
          assert.equal(report.segmentsWritten + report.entriesCompacted + report.objectsDeleted, 0);
          assert.deepEqual(await readAll(engine, topic, 0), before);

          queries.clear();
          const full = await listsOf(id, () => engine.maintain({ full: true }));
          assert.ok(queries.get(partitionPk(id, 0))! > 2, 'a full pass walks the entries');
          assert.equal(full, 1, 'and lists the topic');
        });

        it('a produce makes the partition due again: the next passes compact what it added', async () => {
          const { metadata, queries } = countingQueries();
          const engine = engineOf({ metadata });
          const topic = await settledTopic(engine);
          const { id } = await engine.topics.get(topic);
          await fill(engine, topic, 40);
          const expected = await readAll(engine, topic, 0);
          clock.advance(6 * MINUTE);
          queries.clear();
          const report = await engine.maintain();
          assert.ok(queries.get(partitionPk(id, 0))! > 2, 'walked');
          assert.ok(report.entriesCompacted >= 40, `compacted ${report.entriesCompacted}`);
          assert.deepEqual(await readAll(engine, topic, 0), expected);
          assert.ok((await entryCount(engine, topic)) <= 4);
        });

        it('retention by time comes due with nothing produced: the mark says when', async () => {
          const engine = engineOf();
          // Settled 33 minutes after its records were written (the last full pass); the safety net
          // would look again an hour after that, so what drops them 48 minutes in is the mark's dueAt.
          const topic = await settledTopic(engine, { retentionMs: 45 * MINUTE });
          clock.advance(5 * MINUTE);
          assert.equal((await engine.maintain()).offsetsTrimmed, '0');
          assert.equal((await engine.describeTopic(topic)).partitions[0].startOffset, 0n, 'not yet due');
          clock.advance(10 * MINUTE); // every record is now older than 45 minutes
          await engine.maintain();
          const state = (await engine.describeTopic(topic)).partitions[0];
          assert.equal(state.startOffset, state.endOffset, 'retention dropped the whole log');
          assert.equal(state.endOffset, 200n);
        });

        it('a topic whose retention was changed is due at the next scheduled pass, not the hourly full one', async () => {
          const engine = engineOf();
          const topic = await settledTopic(engine);
          clock.advance(MINUTE);
          const quiet = await engine.maintain();
          assert.ok(quiet.partitionsSkipped >= 1, JSON.stringify(quiet));
          await engine.topics.alterConfig(topic, { retentionBytes: 20_000 }); // of ~44,000 stored
          clock.advance(MINUTE);
          await engine.maintain();
          const bySize = (await engine.describeTopic(topic)).partitions[0];
          assert.ok(bySize.startOffset > 0n && bySize.startOffset < bySize.endOffset, `by size: log start ${bySize.startOffset} of ${bySize.endOffset}`);
          await engine.topics.alterConfig(topic, { retentionMs: 20 * MINUTE, retentionBytes: null });
          clock.advance(MINUTE);
          await engine.maintain();
          const byTime = (await engine.describeTopic(topic)).partitions[0];
          assert.deepEqual([byTime.startOffset, byTime.endOffset], [200n, 200n], 'every record is older than the new retention');
        });

        it('different maintenance settings make every partition due', async () => {
          const { metadata, queries } = countingQueries();
          const engine = engineOf({ metadata });
          const topic = await settledTopic(engine);
          const { id } = await engine.topics.get(topic);
          const redeployed = engineOf({ metadata, maintenance: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: INTERVAL_BYTES, tailQuietMs: 5 * MINUTE, maxTailEntries: 8 } });
          queries.clear();
          await redeployed.maintain();
          assert.ok(queries.get(partitionPk(id, 0))! > 2, 'walked under the new settings');
        });

        it('a gap makes the partition due: a reservation nobody wrote is closed by a later pass', async () => {
          const engine = engineOf();
          const topic = await settledTopic(engine);
          await assert.rejects(crashingAfter('offsets-reserved').produce(topic, [append(0, ['lost'], clock.now())]), Crash);
          clock.advance(2 * MINUTE);
          const report = await engine.maintain();
          assert.ok(report.gapsClosed >= 1, `gaps closed: ${report.gapsClosed}`);
          const [result] = await engine.produce(topic, [append(0, ['after'], clock.now())]);
          assert.equal(result.baseOffset, 201n, 'offset 200 was the dead reservation');
          assert.deepEqual((await readAll(engine, topic, 0, 199n)).map(([offset]) => offset), [199n, 201n]);
        });

        it('an orphan that leaves the head as it was is collected by the safety net: the next full pass', async () => {
          const engine = engineOf();
          const topic = await settledTopic(engine);
          const { id } = await engine.topics.get(topic);
          // What a produce that died between its object PUT and its reservation leaves behind.
          const orphan = `t/${id}/ingest/00/${'0'.repeat(9)}-orphan`;
          await objects.put(orphan, new Uint8Array(100));
          clock.advance(20 * MINUTE);
          await engine.maintain();
          assert.ok((await objectKeys(engine, topic)).includes(orphan), 'quiet: not looked at');
          clock.advance(45 * MINUTE); // past the hour since the last full pass
          await engine.maintain(); // full: marks the orphan
          clock.advance(11 * MINUTE);
          const report = await engine.maintain(); // partitions quiet again, but a mark is pending
          assert.ok(!(await objectKeys(engine, topic)).includes(orphan), `collected (${JSON.stringify(report)})`);
        });

        const smallSegments = { segmentBytes: 2 * 1024, indexIntervalBytes: 512, tailQuietMs: 5 * MINUTE, maxTailEntries: 16 };

        it('a busy partition is compacted from the end of its sealed segments, not from its log start', async () => {
          const { metadata, entriesRead } = countingQueries();
          const engine = engineOf({ metadata, maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: -1 });
          const pk = partitionPk((await engine.topics.get(topic)).id, 0);
          assert.ok((await entryCount(engine, topic)) >= 15, `segments: ${await entryCount(engine, topic)}`);
          await fill(engine, topic, 3);
          const expected = await readAll(engine, topic, 0);
          clock.advance(6 * MINUTE);
          entriesRead.clear();
          const report = await engine.maintain();
          assert.ok(report.entriesCompacted >= 3, `compacted ${report.entriesCompacted}`);
          assert.ok(entriesRead.get(pk)! <= 6, `entries read by compaction's walk: ${entriesRead.get(pk)}`);
          assert.deepEqual(await readAll(engine, topic, 0), expected);
          entriesRead.clear();
          await engine.maintain({ full: true });
          assert.ok(entriesRead.get(pk)! >= 15, `a full pass walks from the log start: ${entriesRead.get(pk)}`);
        });

        it('a compaction that crashed after its swap on a busy partition is finished by the next scheduled pass', async () => {
          const engine = engineOf({ maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: -1 });
          await fill(engine, topic, 6);
          const expected = await readAll(engine, topic, 0);
          const crashing = engineOf({
            maintenance: smallSegments,
            afterCompactionStep: (step) => {
              if (step === 'entry-swapped') throw new Crash(step);
            },
          });
          clock.advance(6 * MINUTE);
          assert.equal((await crashing.maintain()).errors, 1);
          assert.deepEqual(await readAll(engine, topic, 0), expected);
          const report = await engine.maintain();
          assert.ok(report.leftoversDeleted >= 1, `leftovers deleted: ${report.leftoversDeleted}`);
          assert.deepEqual(await readAll(engine, topic, 0), expected);
        });

        it('a written-to topic is swept through its ingest objects only, and the segments compaction superseded still go', async () => {
          const engine = engineOf({ maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: -1 });
          const { id } = await engine.topics.get(topic);
          const segmentKeys = async () => (await objectKeys(engine, topic)).filter((k) => k.includes('/segments/'));
          const seen = new Set(await segmentKeys());
          const prefixes: string[] = [];
          for (let round = 0; round < 3; round++) {
            await fill(engine, topic, 1, 1); // one small record: merged with the small open segment, which it supersedes
            clock.advance(6 * MINUTE);
            prefixes.push(...(await listedBy(id, () => engine.maintain())));
            for (const key of await segmentKeys()) seen.add(key);
          }
          clock.advance(11 * MINUTE);
          prefixes.push(...(await listedBy(id, () => engine.maintain())));
          assert.ok(prefixes.length >= 4 && prefixes.every((p) => p === `t/${id}/ingest/`), `listed: ${[...new Set(prefixes)].join(', ')}`);
          const after = await segmentKeys();
          const gone = [...seen].filter((k) => !after.includes(k));
          assert.ok(gone.some((k) => k.endsWith('.seg')) && gone.some((k) => k.endsWith('.index')), `superseded and deleted: ${gone.length}`);
          assert.equal(after.filter((k) => k.endsWith('.seg')).length, await entryCount(engine, topic), 'one segment object per entry: nothing referenced was deleted, nothing superseded kept');
          assert.equal((await readAll(engine, topic, 0)).length, 40 * 5 + 3);
        });

        it('segments that retention dropped are deleted by sweeps that list only ingest objects', async () => {
          const engine = engineOf({ maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: -1, retentionBytes: 8 * 1024 });
          const { id } = await engine.topics.get(topic);
          const prefixes: string[] = [];
          for (let round = 0; round < 3; round++) {
            await fill(engine, topic, 2);
            clock.advance(6 * MINUTE);
            prefixes.push(...(await listedBy(id, () => engine.maintain())));
          }
          clock.advance(11 * MINUTE);
          prefixes.push(...(await listedBy(id, () => engine.maintain())));
          assert.ok(prefixes.every((p) => p === `t/${id}/ingest/`), `listed: ${[...new Set(prefixes)].join(', ')}`);
          const { startOffset } = (await engine.describeTopic(topic)).partitions[0];
          assert.ok(startOffset > 0n, 'retention dropped the oldest segments');
          const segments = (await objectKeys(engine, topic)).filter((k) => k.endsWith('.seg'));
          assert.equal(segments.length, await entryCount(engine, topic), `segment objects ${segments.length}, entries ${await entryCount(engine, topic)}`);
        });

        it('a partial sweep keeps a marked segment that its entry still names', async () => {
          const engine = engineOf({ maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: -1 });
          const { id } = await engine.topics.get(topic);
          const live = (await objectKeys(engine, topic)).find((k) => k.endsWith('.seg'))!;
          // What a pass racing another could leave: a mark on an object that is still referenced.
          await backend.metadata.put({ pk: gcPk(id), sk: live, firstSeenAt: BigInt(clock.now()) });
          await fill(engine, topic, 1, 1);
          clock.advance(11 * MINUTE);
          const prefixes = await listedBy(id, () => engine.maintain());
          assert.deepEqual(prefixes, [`t/${id}/ingest/`], 'a partial sweep');
          assert.ok((await objectKeys(engine, topic)).includes(live), 'kept');
          assert.equal(await backend.metadata.get(gcPk(id), live), undefined, 'and its mark dropped');
          assert.equal((await readAll(engine, topic, 0)).length, 40 * 5 + 1);
        });

        if (mode.inlineMaxBytes === 0) {
          it('a partial sweep keeps ingest objects that uncompacted entries still name, however old', async () => {
            // Nothing is compacted: too few bytes for a segment, a tail not quiet for two hours.
            const engine = engineOf({ maintenance: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: INTERVAL_BYTES, tailQuietMs: 120 * MINUTE, maxTailEntries: 64 } });
            const topic = await newTopic(engine, { retentionMs: -1 });
            const { id } = await engine.topics.get(topic);
            await fill(engine, topic, 3);
            const expected = await readAll(engine, topic, 0);
            await engine.maintain(); // walks from the log start; the tail is not quiet yet, so it stays
            const prefixes: string[] = [];
            for (const minutes of [16, 11, 11]) {
              clock.advance(minutes * MINUTE);
              prefixes.push(...(await listedBy(id, () => engine.maintain())));
            }
            assert.deepEqual([...new Set(prefixes)], [`t/${id}/ingest/`], 'partial sweeps only');
            assert.equal((await objectKeys(engine, topic)).filter((k) => k.includes('/ingest/')).length, 3);
            assert.deepEqual(await readAll(engine, topic, 0), expected);
          });
        }

        it('retention by time reads up to the first entry it keeps, not the whole log', async () => {
          const { metadata, entriesRead } = countingQueries();
          const engine = engineOf({ metadata, maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: 24 * 60 * MINUTE });
          const pk = partitionPk((await engine.topics.get(topic)).id, 0);
          await fill(engine, topic, 1);
          clock.advance(6 * MINUTE);
          entriesRead.clear();
          await engine.maintain();
          // Retention reads one small page (it keeps the first entry), compaction its tail.
          const segments = await entryCount(engine, topic);
          assert.ok(segments >= 15, `segments: ${segments}`);
          assert.ok(entriesRead.get(pk)! <= 12, `entries read: ${entriesRead.get(pk)} of ${segments}`);
        });

        it('a small segment closed in by a dead writer\'s aborted range does not hold the sealed end back', async () => {
          const engine = engineOf({ maintenance: smallSegments });
          const topic = await newTopic(engine, { retentionMs: -1 });
          const pk = partitionPk((await engine.topics.get(topic)).id, 0);
          await fill(engine, topic, 1, 2); // ~400 bytes: a segment of less than half the target, for good
          await assert.rejects(crashingAfter('offsets-reserved').produce(topic, [append(0, ['lost'], clock.now())]), Crash);
          clock.advance(2 * MINUTE);
          await fill(engine, topic, 30);
          for (let pass = 0; pass < 4; pass++) {
            clock.advance(6 * MINUTE);
            assert.equal((await engine.maintain()).errors, 0);
          }
          const entries = (await backend.metadata.query(pk, { gte: 'e#', lt: 'e#~' })).map((item) => ({ start: item.start as bigint, end: item.end as bigint, aborted: item.aborted === true, length: Number(item.length) }));
          assert.deepEqual(entries.slice(0, 2).map((e) => [e.start, e.end, e.aborted]), [[0n, 2n, false], [2n, 3n, true]], 'the small segment, then the aborted range');
          assert.ok(entries[0]!.length < smallSegments.segmentBytes / 2);
          const mark = maintainedFromItem(await backend.metadata.get(pk, MAINTAINED_SK))!;
          assert.ok(mark.sealedThrough > 3n, `sealed through ${mark.sealedThrough}`);
          const points = await backend.metadata.query(pk, { gte: 't#', lt: 't#~' });
          assert.equal(points.at(-1)?.end, mark.sealedThrough, 'the time index reaches the sealed end');
          assert.deepEqual((await readAll(engine, topic, 0)).map(([offset]) => offset).slice(0, 3), [0n, 1n, 3n]);
        });

        it('records deleted by request: the next pass deletes the entries wholly below the new start, keeps the one holding it, and later passes neither look below it again nor stop sealing there', async () => {
          // Queries bounded above by an entry key: only the search for entries below the log start makes them.
          let searchesBelowStart = 0;
          let pk = '';
          const metadata = new Proxy(backend.metadata, {
            get(target, property, receiver) {
              const value = Reflect.get(target, property, receiver);
              if (property !== 'query' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
              return (key: string, options?: Parameters<MetadataStore['query']>[1]) => {
                if (key === pk && options?.lt?.startsWith('e#') && options.lt !== 'e#~') searchesBelowStart++;
                return target.query(key, options);
              };
            },
          });
          const engine = engineOf({ metadata, maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: -1 });
          pk = partitionPk((await engine.topics.get(topic)).id, 0);
          const entries = async () => (await backend.metadata.query(pk, { gte: 'e#', lt: 'e#~' })).map((item) => [item.start as bigint, item.end as bigint] as const);
          const before = await entries();
          const holding = before.find(([start, end]) => start < 102n && end > 102n)!;
          assert.ok(holding && holding[0] < 101n, `an entry holds 101 and 102: ${before.join(' ')}`);
          const expected = (await readAll(engine, topic, 0)).filter(([offset]) => offset >= 102n);
          assert.equal((await engine.deleteRecords(topic, 0, 102n)).startOffset, 102n);
          assert.deepEqual(await entries(), before, 'nothing is deleted by the request itself');
          clock.advance(MINUTE);
          searchesBelowStart = 0;
          const report = await engine.maintain();
          assert.equal(searchesBelowStart, 1, 'a moved start is searched below once');
          const whollyBelow = before.filter(([, end]) => end <= 102n).length;
          assert.ok(whollyBelow >= 2, `entries below: ${whollyBelow}`);
          assert.equal(report.entriesExpired, whollyBelow);
          assert.deepEqual(await entries(), before.filter(([, end]) => end > 102n), 'the entry holding the start stays');
          assert.deepEqual(await readAll(engine, topic, 0, 102n), expected);
          await assert.rejects(engine.fetch(topic, 0, { offset: 101n }), (e: SluiceError) => e.code === 'OFFSET_OUT_OF_RANGE');
          const mark = maintainedFromItem(await backend.metadata.get(pk, MAINTAINED_SK))!;
          assert.equal(mark.clearedBelow, 102n);
          assert.ok(mark.sealedThrough > 102n, `sealed through ${mark.sealedThrough}`);
          // a walk from the log start (a full pass) begins at the entry holding it: that entry does not hold the sealed end back
          await engine.maintain({ full: true });
          assert.equal(maintainedFromItem(await backend.metadata.get(pk, MAINTAINED_SK))!.sealedThrough, mark.sealedThrough, 'the full pass finds the same sealed end');
          // busy passes after it: nothing more to search below the start
          searchesBelowStart = 0;
          for (let pass = 0; pass < 2; pass++) {
            await fill(engine, topic, 3);
            clock.advance(6 * MINUTE);
            assert.equal((await engine.maintain()).entriesExpired, 0);
          }
          assert.equal(searchesBelowStart, 0);
          assert.ok(maintainedFromItem(await backend.metadata.get(pk, MAINTAINED_SK))!.sealedThrough > mark.sealedThrough, 'sealing goes on');
          // a start moved past the holding entry's end deletes it at the next pass
          const all = await readAll(engine, topic, 0, 102n);
          await engine.deleteRecords(topic, 0, holding[1]);
          assert.equal((await engine.maintain()).entriesExpired, 1);
          assert.ok((await entries()).every(([, end]) => end > holding[1]));
          assert.deepEqual(await readAll(engine, topic, 0, holding[1]), all.filter(([offset]) => offset >= holding[1]));
          // and a full pass looks below the start again (the safety net), finding nothing
          searchesBelowStart = 0;
          assert.equal((await engine.maintain({ full: true })).entriesExpired, 0);
          assert.equal(searchesBelowStart, 1);
        });

        it('retention by time drops an entry that holds a log start moved into it', async () => {
          const engine = engineOf();
          const topic = await newTopic(engine, { retentionMs: 10 * MINUTE });
          await fill(engine, topic, 2); // entries [0, 5) and [5, 10)
          await engine.deleteRecords(topic, 0, 7n);
          clock.advance(9 * MINUTE);
          await fill(engine, topic, 2);
          clock.advance(2 * MINUTE); // the first two are past retention, the last two not
          const report = await engine.maintain();
          assert.equal((await engine.describeTopic(topic)).partitions[0].startOffset, 10n, 'records 7 to 9 expired with their entry');
          assert.equal(report.entriesExpired, 2, 'the entry holding offset 7 by retention, the one below the start by clearing');
          const { id } = await engine.topics.get(topic);
          assert.ok((await backend.metadata.query(partitionPk(id, 0), { gte: 'e#', lt: 'e#~' })).every((item) => (item.start as bigint) >= 10n), 'nothing left below the start');
          assert.equal((await readAll(engine, topic, 0, 10n)).length, 10);
        });

        it('retention by size reads the entries after the sealed segments, not the whole log', async () => {
          const { metadata, entriesRead } = countingQueries();
          const engine = engineOf({ metadata, maintenance: smallSegments });
          const topic = await settledTopic(engine, { retentionMs: -1, retentionBytes: 1024 * 1024 });
          const pk = partitionPk((await engine.topics.get(topic)).id, 0);
          for (const full of [false, true]) {
            await fill(engine, topic, 1);
            clock.advance(6 * MINUTE);
            entriesRead.clear();
            await engine.maintain({ full });
            const segments = await entryCount(engine, topic);
            assert.ok(segments >= 15, `segments: ${segments}`);
            // Retention reads its tail and one small page (it keeps the first entry), compaction its tail.
            if (full) assert.ok(entriesRead.get(pk)! >= segments, `a full pass sums the whole log: ${entriesRead.get(pk)}`);
            else assert.ok(entriesRead.get(pk)! <= 16, `entries read: ${entriesRead.get(pk)} of ${segments}`);
          }
        });

        it('retention by size with the count drops exactly what a sum of the whole partition drops, pass after pass, passes side by side too', async () => {
          const engine = engineOf({ maintenance: smallSegments });
          const retentionBytes = 6 * 1024;
          const topic = await newTopic(engine, { retentionMs: -1, retentionBytes });
          const pk = partitionPk((await engine.topics.get(topic)).id, 0);
          /** The live chain from the log start, as the pass will find it. */
          const live = async () => {
            const { logStartOffset } = await engine.partitionBounds(await engine.topics.get(topic), 0);
            const chain: Array<{ start: bigint; end: bigint; length: number; aborted: boolean }> = [];
            for (const item of await backend.metadata.query(pk, { gte: 'e#', lt: 'e#~' })) {
              const entry = { start: item.start as bigint, end: item.end as bigint, length: Number(item.length), aborted: item.aborted === true };
              if (entry.end <= logStartOffset || (chain.length > 0 && entry.start < chain[chain.length - 1]!.end)) continue;
              chain.push(entry);
            }
            return { logStartOffset, chain };
          };
          let seed = 7;
          const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
          let counted = 0;
          for (let pass = 0; pass < 16; pass++) {
            await fill(engine, topic, 1 + random(4), 1 + random(6));
            clock.advance((1 + random(6)) * MINUTE);
            if (pass === 7) {
              // Another pass's retention, caught between moving the log start and deleting the entries below
              // it: this partition's count (made by pass 6) is stale, and must not be used.
              const { chain } = await live();
              await backend.metadata.update(pk, 'head', { set: { logStartOffset: chain[Math.floor(chain.length / 2)]!.end } });
            }
            const before = await live();
            let drop = 0;
            while (drop < before.chain.length && before.chain[drop]!.aborted) drop++;
            let bytes = before.chain.slice(drop).reduce((n, e) => n + e.length, 0);
            while (drop < before.chain.length && bytes > retentionBytes) bytes -= before.chain[drop++]!.length;
            const expected = drop > 0 ? before.chain[drop - 1]!.end : before.logStartOffset;
            // Every third pass runs beside another (a scheduled pass and an admin-triggered one, say).
            const reports = await Promise.all(pass % 3 === 2 ? [engine.maintain(), engine.maintain()] : [engine.maintain({ full: pass % 5 === 4 })]);
            for (const report of reports) assert.equal(report.errors, 0, report.firstError);
            const after = await live();
            assert.equal(after.logStartOffset, expected, `pass ${pass}`);
            const mark = maintainedFromItem(await backend.metadata.get(pk, MAINTAINED_SK));
            const sealed = after.chain.filter((e) => e.end <= mark!.sealedThrough).reduce((n, e) => n + e.length, 0);
            assert.deepEqual(mark!.retained, { logStartOffset: after.logStartOffset, bytes: sealed }, `pass ${pass}`);
            if (mark!.sealedThrough > after.logStartOffset) counted++;
          }
          assert.ok(counted >= 8, `passes that left a count over sealed segments: ${counted}`);
          assert.ok((await live()).logStartOffset > 0n, 'retention dropped something');
        });

        it('an unreferenced object too young to judge keeps collection going until it is judged', async () => {
          const engine = engineOf();
          const topic = await settledTopic(engine);
          const { id } = await engine.topics.get(topic);
          const orphan = `t/${id}/ingest/00/${'0'.repeat(9)}-young-orphan`;
          await objects.put(orphan, new Uint8Array(100));
          await engine.maintain({ full: true }); // sees the orphan, too young to mark
          assert.ok(await backend.metadata.get(gcPk(id), '~young'), 'remembered');
          clock.advance(16 * MINUTE);
          const marking = await engine.maintain(); // the partition is quiet, but the young object is due
          assert.ok(await backend.metadata.get(gcPk(id), orphan), `marked (${JSON.stringify(marking)})`);
          assert.equal(await backend.metadata.get(gcPk(id), '~young'), undefined, 'nothing young left');
          clock.advance(11 * MINUTE);
          await engine.maintain();
          assert.ok(!(await objectKeys(engine, topic)).includes(orphan), 'collected while every partition was quiet');
        });
      });

      it('an idempotent retry after the commit window writes its own object and appends once', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const crashing = crashingAfter('intent-written');
        const batch = [append(0, ['late'], clock.now())];
        const idem = { key: 'late-retry', fingerprint: 'fp' };
        await assert.rejects(crashing.produce(topic, batch, idem), Crash);
        clock.advance(20 * MINUTE);
        await engine.maintain();
        clock.advance(11 * MINUTE);
        await engine.maintain(); // the first attempt's object is gone now
        const [result] = await engine.produce(topic, batch, idem);
        // The dead attempt's reservation (recorded in its intent) was closed as aborted and dropped by
        // retention from the front of the log: the log starts after it, and the retry appended afresh.
        const [{ startOffset }] = (await engine.describeTopic(topic)).partitions;
        assert.ok(startOffset > 0n);
        assert.deepEqual(await readAll(engine, topic, 0, startOffset), [[result.baseOffset, 'late']]);
        assert.deepEqual(await engine.produce(topic, batch, idem), [result]);
      });
    });
  }
}
