/**
 * The log engine's behaviour, written once and run against every backend (memory, local, AWS
 * emulators), in both storage paths (STORAGE_MODES). Covers invariants 1-4 and 7 of the design brief.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type EngineOptions } from '../../lib/log/engine.ts';
import { SluiceError } from '../../lib/errors.ts';
import { DEFAULTS } from '../../lib/defaults.ts';
import { encodeRecordBatch, decodeRecordBatch, verifyBatch } from '../../lib/protocol/record-batch.ts';
import type { PartitionAppend, ProduceStep } from '../../lib/log/produce.ts';
import type { Backend, BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { TOPICS_PK } from '../../lib/log/layout.ts';

const text = new TextEncoder();
const untext = new TextDecoder();

export function append(partition: number, values: string[], timestamp = 1_764_000_000_000, codec: 'none' | 'gzip' | 'zstd' = 'zstd'): PartitionAppend {
  const records = values.map((v, i) => ({ key: text.encode(`k${i}`), value: text.encode(v), headers: [], timestamp: timestamp + i }));
  return { partition, data: encodeRecordBatch(records, { codec }), recordCount: records.length, maxTimestamp: timestamp + values.length - 1 };
}

/** Every record of a partition from `from`, by repeated fetches, as [offset, value]. */
export async function readAll(engine: Engine, topic: string, partition: number, from = 0n, maxBytes = 64 * 1024): Promise<Array<[bigint, string]>> {
  const out: Array<[bigint, string]> = [];
  let offset = from;
  for (let guard = 0; guard < 100_000; guard++) {
    const result = await engine.fetch(topic, partition, { offset, maxBytes });
    for (const batch of result.batches) {
      for (const record of decodeRecordBatch(batch.bytes).records) {
        const real = batch.baseOffset + (record.offset - batch.header.baseOffset);
        if (real >= offset) out.push([real, untext.decode(record.value!)]);
      }
    }
    if (result.nextOffset === offset) return out;
    assert.ok(result.nextOffset > offset, 'nextOffset moves forward');
    offset = result.nextOffset;
  }
  throw new Error('readAll did not finish');
}

export class Crash extends Error {}

/**
 * Every engine and maintenance test runs in both storage paths: with the default inline threshold
 * (these tests' small batches live in their log entries) and with inlining off (every batch in an
 * ingest object). The mixed case has its own suite (inline.suite.ts).
 */
export const STORAGE_MODES = [
  { label: 'small batches inline', inlineMaxBytes: DEFAULTS.inlineMaxBytes },
  { label: 'every batch in an ingest object', inlineMaxBytes: 0 },
] as const;

export function engineSuite(name: string, factory: BackendFactory): void {
  for (const mode of STORAGE_MODES) {
    describe(`log engine on ${name} (${mode.label})`, () => {
      let backend: Backend;
      let clock: ManualClock;
      let topicSeq = 0;
      const engineOf = (options: Partial<EngineOptions> = {}) =>
        new Engine({
          objects: backend.objects,
          metadata: backend.metadata,
          now: clock.now,
          topicCacheMs: 0,
          longPollIntervalMs: 20,
          inlineMaxBytes: mode.inlineMaxBytes,
          ...options,
        });
      const newTopic = async (engine: Engine, partitions = 1) => {
        const topic = `t${++topicSeq}-${Math.random().toString(36).slice(2, 8)}`;
        await engine.topics.create(topic, partitions);
        return topic;
      };

      before(async () => {
        backend = await factory();
        clock = new ManualClock();
      });
      after(async () => backend.teardown());

      it('creates, lists, describes and deletes topics; a recreated topic starts empty', async () => {
        const engine = engineOf();
        const name = await newTopic(engine, 3);
        await assert.rejects(engine.topics.create(name, 1), (e: SluiceError) => e.code === 'TOPIC_EXISTS');
        await assert.rejects(engine.topics.create('bad name!', 1), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        await assert.rejects(engine.topics.create('x'.repeat(250), 1), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        await assert.rejects(engine.topics.create('ok', 0), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        await assert.rejects(engine.topics.create('ok2', 1, { retentionMs: 'soon' }), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        await assert.rejects(engine.topics.create('ok3', 1, { unknownSetting: 1 }), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        assert.ok((await engine.topics.list()).some((t) => t.name === name && t.partitions === 3));
        await engine.produce(name, [append(1, ['a', 'b'])]);
        const described = await engine.describeTopic(name);
        assert.deepEqual(
          described.partitions.map((p) => [p.partition, p.startOffset, p.endOffset]),
          [[0, 0n, 0n], [1, 0n, 2n], [2, 0n, 0n]],
        );
        await engine.topics.delete(name);
        await assert.rejects(engine.describeTopic(name), (e: SluiceError) => e.code === 'TOPIC_NOT_FOUND');
        await engine.topics.create(name, 3);
        assert.equal((await engine.describeTopic(name)).partitions[1].endOffset, 0n);
        assert.deepEqual(await readAll(engine, name, 1), []);
      });

      it('alters some settings and keeps the others; null sets the default again; a bad change changes nothing', async () => {
        const engine = engineOf({ topicDefaults: { retentionMs: 86_400_000 } });
        const name = `t${++topicSeq}-alter`;
        const created = await engine.topics.create(name, 2, { retentionBytes: 1_000_000, compression: 'gzip', timestampType: 'CreateTime' });
        await engine.produce(name, [append(1, ['a', 'b'])]);
        const altered = await engine.topics.alterConfig(name, { retentionMs: 3_600_000 });
        assert.deepEqual(altered.config, { retentionMs: 3_600_000, retentionBytes: 1_000_000, compression: 'gzip', timestampType: 'CreateTime' });
        assert.deepEqual([altered.id, altered.partitions, altered.createdAt], [created.id, 2, created.createdAt]);
        assert.deepEqual((await engine.describeTopic(name)).topic.config, altered.config);
        assert.deepEqual((await engineOf().topics.get(name)).config, altered.config, 'another engine reads the stored change');
        const reset = await engine.topics.alterConfig(name, { retentionMs: null, compression: null, retentionBytes: -1 });
        assert.deepEqual(reset.config, { retentionMs: 86_400_000, retentionBytes: -1, compression: 'zstd', timestampType: 'CreateTime' });
        for (const bad of [{}, { retentionMs: -2 }, { retentionMs: 'soon' }, { compression: 'lz4' }, { partitions: 3 }, null, [], 'x']) {
          await assert.rejects(engine.topics.alterConfig(name, bad), (e: SluiceError) => e.code === 'INVALID_REQUEST', JSON.stringify(bad));
        }
        assert.deepEqual((await engineOf().topics.get(name)).config, reset.config);
        await assert.rejects(engine.topics.alterConfig('missing-topic', { retentionMs: 1 }), (e: SluiceError) => e.code === 'TOPIC_NOT_FOUND');
        await assert.rejects(engine.topics.alterConfig('bad name!', { retentionMs: 1 }), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        assert.deepEqual(await readAll(engine, name, 1), [[0n, 'a'], [1n, 'b']]);
        await engine.topics.delete(name);
        await assert.rejects(engine.topics.alterConfig(name, { retentionMs: 1 }), (e: SluiceError) => e.code === 'TOPIC_NOT_FOUND');
      });

      it('stores a later setting only when it differs from its default, and reads past settings it does not know (rolling deploys)', async () => {
        const engine = engineOf();
        const plain = `t${++topicSeq}-stored`;
        const stamped = `t${++topicSeq}-stored`;
        await engine.topics.create(plain, 1);
        await engine.topics.create(stamped, 1, { timestampType: 'LogAppendTime' });
        const stored = async (name: string) => JSON.parse(String((await backend.metadata.get(TOPICS_PK, name))!.config));
        assert.deepEqual(await stored(plain), { retentionMs: DEFAULTS.retentionMs, retentionBytes: -1, compression: 'zstd' }, 'what the first version reads');
        assert.equal((await stored(stamped)).timestampType, 'LogAppendTime');
        await engine.topics.alterConfig(stamped, { timestampType: null });
        assert.equal('timestampType' in (await stored(stamped)), false);
        // a setting written by a later version
        await backend.metadata.update(TOPICS_PK, plain, { set: { config: JSON.stringify({ ...(await stored(plain)), settingFromTheFuture: 7 }) } });
        const read = await engine.topics.get(plain);
        assert.deepEqual(read.config, { retentionMs: DEFAULTS.retentionMs, retentionBytes: -1, compression: 'zstd', timestampType: 'CreateTime' });
        await engine.produce(plain, [append(0, ['still works'])]);
        assert.deepEqual(await readAll(engine, plain, 0), [[0n, 'still works']]);
        await engine.topics.alterConfig(plain, { retentionMs: 60_000 });
        assert.deepEqual(await stored(plain), { retentionMs: 60_000, retentionBytes: -1, compression: 'zstd', settingFromTheFuture: 7 }, 'a change keeps what it does not know');
      });

      it('adds partitions: the new ones take records at once; the same count again changes nothing, a lower one is refused', async () => {
        const engine = engineOf();
        const name = await newTopic(engine, 2);
        await engine.produce(name, [append(1, ['before'])]);
        await assert.rejects(engine.produce(name, [append(3, ['too soon'])]), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        const grown = await engine.topics.addPartitions(name, 4);
        assert.equal(grown.partitions, 4);
        assert.equal((await engine.topics.addPartitions(name, 4)).partitions, 4, 'a retry of the same request succeeds');
        for (const bad of [3, 0, 1.5, '8', null, 10_001]) {
          await assert.rejects(engine.topics.addPartitions(name, bad), (e: SluiceError) => e.code === 'INVALID_REQUEST', JSON.stringify(bad));
        }
        await engine.produce(name, [append(3, ['new'])]);
        assert.deepEqual((await engine.describeTopic(name)).partitions.map((p) => [p.partition, p.startOffset, p.endOffset]), [[0, 0n, 0n], [1, 0n, 1n], [2, 0n, 0n], [3, 0n, 1n]]);
        assert.deepEqual(await readAll(engine, name, 3), [[0n, 'new']]);
        assert.deepEqual(await readAll(engine, name, 1), [[0n, 'before']]);
        assert.equal((await engineOf().topics.get(name)).partitions, 4, 'stored');
        await assert.rejects(engine.topics.addPartitions('missing-topic', 2), (e: SluiceError) => e.code === 'TOPIC_NOT_FOUND');
        // two at once: both succeed when they ask for the same count; the larger wins otherwise
        const [a, b] = await Promise.allSettled([engine.topics.addPartitions(name, 6), engineOf().topics.addPartitions(name, 6)]);
        assert.deepEqual([a.status, b.status], ['fulfilled', 'fulfilled']);
        assert.equal((await engineOf().topics.get(name)).partitions, 6);
      });

      it('deletes records before an offset: the log start moves at once, reads below it get 416, reads from it skip what is below', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, 2);
        await engine.produce(topic, [append(0, ['a', 'b', 'c'], 1_764_000_000_000)]);
        await engine.produce(topic, [append(0, ['d', 'e'], 1_764_000_001_000)]);
        await engine.produce(topic, [append(0, ['f'], 1_764_000_002_000)]);
        assert.deepEqual(await engine.deleteRecords(topic, 0, 4n), { partition: 0, startOffset: 4n, endOffset: 6n });
        await assert.rejects(engine.fetch(topic, 0, { offset: 3n }), (e: SluiceError) => e.code === 'OFFSET_OUT_OF_RANGE' && e.details.startOffset === '4');
        assert.deepEqual(await readAll(engine, topic, 0, 4n), [[4n, 'e'], [5n, 'f']], 'a read inside a batch starts at the offset asked for');
        assert.equal(await engine.offsetForTimestamp(topic, 0, 0), 4n, 'offsets by time answer nothing below the start');
        assert.deepEqual((await engine.describeTopic(topic)).partitions.map((p) => [p.startOffset, p.endOffset]), [[4n, 6n], [0n, 0n]], 'the other partition is untouched');
        assert.equal((await engineOf().deleteRecords(topic, 0, 2n)).startOffset, 4n, 'never back');
        assert.equal((await engine.deleteRecords(topic, 0, 4n)).startOffset, 4n, 'a retry changes nothing');
        for (const bad of [7n, -1n]) {
          await assert.rejects(engine.deleteRecords(topic, 0, bad), (e: SluiceError) => e.code === 'OFFSET_OUT_OF_RANGE' && e.details.endOffset === '6', String(bad));
        }
        await assert.rejects(engine.deleteRecords(topic, 2, 0n), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        await assert.rejects(engine.deleteRecords('missing-topic', 0, 0n), (e: SluiceError) => e.code === 'TOPIC_NOT_FOUND');
        assert.equal((await engine.describeTopic(topic)).partitions[0].startOffset, 4n, 'refused requests changed nothing');
        // two at once: the further one wins, whichever lands last
        await Promise.all([engine.deleteRecords(topic, 0, 6n), engineOf().deleteRecords(topic, 0, 5n)]);
        assert.deepEqual(await engine.deleteRecords(topic, 0, 'end'), { partition: 0, startOffset: 6n, endOffset: 6n });
        const [appended] = await engine.produce(topic, [append(0, ['g'])]);
        assert.equal(appended.baseOffset, 6n, 'offsets go on where they were');
        assert.deepEqual(await readAll(engine, topic, 0, 6n), [[6n, 'g']]);
      });

      it('two changes at once both land; a change made while the topic is created again applies to the new topic', async () => {
        let beforeTopicWrite: (() => Promise<void>) | undefined;
        let topicWrites = 0;
        const metadata = new Proxy(backend.metadata, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver);
            if (property !== 'update' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
            return async (...args: Parameters<typeof target.update>) => {
              if (args[0] === TOPICS_PK) {
                topicWrites++;
                const hook = beforeTopicWrite;
                beforeTopicWrite = undefined;
                await hook?.();
              }
              return target.update(...args);
            };
          },
        });
        const engine = engineOf({ metadata });
        const other = engineOf();
        const name = `t${++topicSeq}-race`;
        await engine.topics.create(name, 1);
        // between this change's read and its write, another change of another setting lands
        beforeTopicWrite = async () => void (await other.topics.alterConfig(name, { retentionBytes: 4096 }));
        const first = await engine.topics.alterConfig(name, { retentionMs: 60_000 });
        assert.equal(topicWrites, 2, 'the change whose read went stale wrote again');
        assert.deepEqual(first.config, { retentionMs: 60_000, retentionBytes: 4096, compression: 'zstd', timestampType: 'CreateTime' });
        assert.deepEqual((await other.topics.get(name)).config, first.config);
        // deleted and created again (other settings) between read and write: the new topic's settings are kept
        let recreatedId = '';
        beforeTopicWrite = async () => {
          await other.topics.delete(name);
          recreatedId = (await other.topics.create(name, 1, { compression: 'none', timestampType: 'CreateTime' })).id;
        };
        const second = await engine.topics.alterConfig(name, { retentionBytes: 8192 });
        assert.equal(second.id, recreatedId);
        assert.deepEqual(second.config, { retentionMs: DEFAULTS.retentionMs, retentionBytes: 8192, compression: 'none', timestampType: 'CreateTime' });
        assert.deepEqual((await other.topics.get(name)).config, second.config);
      });

      it('appends and reads back in offset order, several partitions per request', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, 2);
        const first = await engine.produce(topic, [append(0, ['a0', 'a1', 'a2']), append(1, ['b0'])]);
        assert.deepEqual(first.map((r) => [r.partition, r.baseOffset, r.recordCount]), [[0, 0n, 3], [1, 0n, 1]]);
        const second = await engine.produce(topic, [append(0, ['a3', 'a4'], 1_764_000_000_000, 'none')]);
        assert.equal(second[0].baseOffset, 3n);
        assert.deepEqual(await readAll(engine, topic, 0), [[0n, 'a0'], [1n, 'a1'], [2n, 'a2'], [3n, 'a3'], [4n, 'a4']]);
        assert.deepEqual(await readAll(engine, topic, 0, 4n), [[4n, 'a4']]);
        assert.deepEqual(await readAll(engine, topic, 1), [[0n, 'b0']]);
      });

      it('returns whole batches up to maxBytes, and at least one batch', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        for (let i = 0; i < 5; i++) await engine.produce(topic, [append(0, [`v${i}`.padEnd(200, 'x')], 1_764_000_000_000, 'none')]);
        const one = await engine.fetch(topic, 0, { offset: 0n, maxBytes: 1 });
        assert.equal(one.batches.length, 1);
        assert.equal(one.nextOffset, 1n);
        const size = one.batches[0].bytes.length;
        const three = await engine.fetch(topic, 0, { offset: 1n, maxBytes: size * 3 });
        assert.deepEqual(three.batches.map((b) => b.baseOffset), [1n, 2n, 3n]);
        assert.equal(three.nextOffset, 4n);
        assert.equal(three.highWatermark, 5n);
      });

      it('rejects offsets outside the log with OFFSET_OUT_OF_RANGE and the bounds', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await engine.produce(topic, [append(0, ['a', 'b'])]);
        await assert.rejects(engine.fetch(topic, 0, { offset: 3n }), (e: SluiceError) => {
          assert.equal(e.code, 'OFFSET_OUT_OF_RANGE');
          assert.deepEqual(e.details, { startOffset: '0', endOffset: '2' });
          return true;
        });
        const atEnd = await engine.fetch(topic, 0, { offset: 2n });
        assert.equal(atEnd.batches.length, 0);
        assert.equal(atEnd.nextOffset, 2n);
        await assert.rejects(engine.fetch(topic, 5, { offset: 0n }), (e: SluiceError) => e.code === 'INVALID_REQUEST');
        await assert.rejects(engine.fetch('missing-topic', 0, { offset: 0n }), (e: SluiceError) => e.code === 'TOPIC_NOT_FOUND');
      });

      it('gives 16 concurrent producers on one partition unique, contiguous offsets', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const producers = 16;
        const perProducer = 5;
        const results = await Promise.all(
          Array.from({ length: producers }, async (_, p) => {
            const ranges: Array<[bigint, number]> = [];
            for (let i = 0; i < perProducer; i++) {
              const [r] = await engine.produce(topic, [append(0, [`p${p}-${i}-a`, `p${p}-${i}-b`])]);
              ranges.push([r.baseOffset, r.recordCount]);
            }
            return ranges;
          }),
        );
        const offsets = results.flat().flatMap(([base, count]) => Array.from({ length: count }, (_, i) => base + BigInt(i)));
        offsets.sort((a, b) => (a < b ? -1 : 1));
        assert.deepEqual(offsets, Array.from({ length: producers * perProducer * 2 }, (_, i) => BigInt(i)));
        const read = await readAll(engine, topic, 0);
        assert.equal(read.length, producers * perProducer * 2);
        assert.deepEqual(read.map(([o]) => o), offsets);
        // each producer's own records appear in the order it sent them
        for (let p = 0; p < producers; p++) {
          const mine = read.filter(([, v]) => v.startsWith(`p${p}-`)).map(([, v]) => v);
          assert.deepEqual(mine, Array.from({ length: perProducer }, (_, i) => [`p${p}-${i}-a`, `p${p}-${i}-b`]).flat());
        }
      });

      it('a retry of an acknowledged keyed request holds no reader back (what it reserved before finding the intent is fenced at once)', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const batch = [append(0, ['once'])];
        const idem = { key: 'acked-retry', fingerprint: 'fp' };
        const first = await engine.produce(topic, batch, idem);
        assert.deepEqual(await engine.produce(topic, batch, idem), first);
        await engine.produce(topic, [append(0, ['next'])]);
        // no maintenance and no clock change: a range left open would hold `next` back for abortReservationAfterMs
        assert.deepEqual((await readAll(engine, topic, 0)).map(([, v]) => v), ['once', 'next']);
      });

      it('a retry that says so (Sluice-Attempt 2) finds the acknowledged attempt before it reserves: no range is fenced, endOffset stays', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const batch = [append(0, ['once'])];
        const first = await engine.produce(topic, batch, { key: 'told-retry', fingerprint: 'fp' });
        const [{ endOffset }] = (await engine.describeTopic(topic)).partitions;
        assert.deepEqual(await engine.produce(topic, batch, { key: 'told-retry', fingerprint: 'fp', retry: true }), first);
        assert.equal((await engine.describeTopic(topic)).partitions[0].endOffset, endOffset);
        // and a retry flag on a first attempt costs a read, nothing else
        const [fresh] = await engine.produce(topic, [append(0, ['new'])], { key: 'told-but-new', fingerprint: 'fp', retry: true });
        assert.equal(fresh.baseOffset, endOffset);
        assert.deepEqual((await readAll(engine, topic, 0)).map(([, v]) => v), ['once', 'new']);
      });

      it('a produce the store fails after it reserved (its intent refused) fences its range: later records are readable at once', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const refusingIntents = new Proxy(backend.metadata, {
          get(target, property) {
            if (property === 'put') {
              return (item: { pk: string }, condition?: unknown) =>
                item.pk.startsWith('idem#') ? Promise.reject(new Error('intent refused')) : (target.put as (...a: unknown[]) => Promise<void>)(item, condition);
            }
            const value = Reflect.get(target, property);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        await assert.rejects(engineOf({ metadata: refusingIntents }).produce(topic, [append(0, ['refused'])], { key: 'refused', fingerprint: 'fp' }), /intent refused/);
        await engine.produce(topic, [append(0, ['next'])]);
        // no maintenance and no clock change: a range left open would hold `next` back
        assert.deepEqual((await readAll(engine, topic, 0)).map(([, v]) => v), ['next']);
      });

      it('deduplicates by Idempotency-Key and refuses a key reused for another request', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, 2);
        const batch = [append(0, ['x', 'y']), append(1, ['z'])];
        const idem = { key: 'req-1', fingerprint: 'f1' };
        const first = await engine.produce(topic, batch, idem);
        const again = await engine.produce(topic, batch, idem);
        assert.deepEqual(again, first);
        await assert.rejects(engine.produce(topic, batch, { key: 'req-1', fingerprint: 'other' }), (e: SluiceError) => e.code === 'IDEMPOTENCY_KEY_REUSED');
        assert.deepEqual(await readAll(engine, topic, 0), [[0n, 'x'], [1n, 'y']]);
        assert.deepEqual(await readAll(engine, topic, 1), [[0n, 'z']]);
      });

      const steps: ProduceStep[] = ['object-written', 'intent-written', 'offsets-reserved', 'reservations-recorded', 'entry-written', 'watermark-advanced'];
      for (const step of steps) {
        it(`an idempotent produce that crashes after ${step} becomes visible exactly once on retry`, async () => {
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
          const batch = [append(0, ['r0', 'r1']), append(1, ['s0'])];
          const idem = { key: `crash-${step}`, fingerprint: 'fp' };
          await assert.rejects(crashing.produce(topic, batch, idem), Crash);
          // Nothing partial is visible: either all of this produce or none of it.
          const visible = await readAll(healthy, topic, 0);
          assert.ok(visible.length === 1 || visible.length === 3, `saw ${visible.length} records`);
          clock.advance(1); // the retry comes a moment later
          const retry = await healthy.produce(topic, batch, idem);
          const again = await healthy.produce(topic, batch, idem);
          assert.deepEqual(again, retry);
          // A crash after reserving may leave a gap; readers get past it once maintenance closes it as aborted.
          clock.advance(61_000);
          await healthy.repairPartition(topic, 0);
          await healthy.repairPartition(topic, 1);
          const p0 = await readAll(healthy, topic, 0);
          const p1 = await readAll(healthy, topic, 1);
          assert.deepEqual(p0.map(([, v]) => v), ['before', 'r0', 'r1']);
          assert.deepEqual(p1.map(([, v]) => v), ['s0']);
          assert.equal(p0[1][0], retry.find((r) => r.partition === 0)!.baseOffset);
          // offsets stay unique and increasing, and later produces keep working
          const [next] = await healthy.produce(topic, [append(0, ['after'])]);
          const all = await readAll(healthy, topic, 0);
          assert.deepEqual(all.map(([, v]) => v), ['before', 'r0', 'r1', 'after']);
          assert.equal(all[3][0], next.baseOffset);
          for (let i = 1; i < all.length; i++) assert.ok(all[i][0] > all[i - 1][0]);
        });
      }

      it('closes the gap of a writer that died after reserving, only after the safe delay', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await engine.produce(topic, [append(0, ['a'])]);
        const dying = engineOf({
          afterProduceStep: (s) => {
            if (s === 'offsets-reserved') throw new Crash('died');
          },
        });
        await assert.rejects(dying.produce(topic, [append(0, ['lost1', 'lost2'])]), Crash);
        const [after] = await engine.produce(topic, [append(0, ['b'])]);
        assert.equal(after.baseOffset, 3n);
        // The gap at offset 1 holds readers back: `b` is written but not yet readable.
        assert.equal((await engine.fetch(topic, 0, { offset: 1n })).highWatermark, 1n);
        clock.advance(30_000);
        assert.deepEqual(await engine.repairPartition(topic, 0), { gapsClosed: 0 }, 'too young to close');
        assert.equal((await engine.fetch(topic, 0, { offset: 1n })).highWatermark, 1n);
        clock.advance(31_000);
        assert.deepEqual(await engine.repairPartition(topic, 0), { gapsClosed: 1 });
        const read = await readAll(engine, topic, 0);
        assert.deepEqual(read, [[0n, 'a'], [3n, 'b']]);
        assert.equal((await engine.describeTopic(topic)).partitions[0].endOffset, 4n);
      });

      it('reads never write: fetch, describe, locations-free reads and offsets by time work on a read-only store', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await engine.produce(topic, [append(0, ['a', 'b'])]);
        const dying = engineOf({
          afterProduceStep: (s) => {
            if (s === 'entry-written') throw new Crash('died before advancing the watermark');
          },
        });
        await assert.rejects(dying.produce(topic, [append(0, ['c'])]), Crash);
        const refuse = () => Promise.reject(new Error('a reader wrote'));
        const readOnly = { ...backend.metadata, get: backend.metadata.get.bind(backend.metadata), query: backend.metadata.query.bind(backend.metadata), put: refuse, update: refuse, delete: refuse };
        const reader = engineOf({ metadata: readOnly });
        // the entry written after the stored watermark is readable all the same
        assert.deepEqual((await readAll(reader, topic, 0)).map(([, v]) => v), ['a', 'b', 'c']);
        assert.equal((await reader.describeTopic(topic)).partitions[0].endOffset, 3n);
        assert.equal(await reader.offsetForTimestamp(topic, 0, 0), 0n);
      });

      it('a later producer closes a stale gap left before its own records', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const dying = engineOf({
          afterProduceStep: (s) => {
            if (s === 'offsets-reserved') throw new Crash('died');
          },
        });
        await assert.rejects(dying.produce(topic, [append(0, ['lost'])]), Crash);
        clock.advance(61_000);
        const [result] = await engine.produce(topic, [append(0, ['next'])]);
        assert.equal(result.baseOffset, 1n);
        assert.equal((await engine.describeTopic(topic)).partitions[0].endOffset, 2n, 'no maintenance needed');
        assert.deepEqual(await readAll(engine, topic, 0), [[1n, 'next']]);
      });

      it('a writer too slow to write its entry fences its range and appends once elsewhere', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        let paused = true;
        const slow = engineOf({
          afterProduceStep: (s) => {
            if (s === 'offsets-reserved' && paused) {
              paused = false;
              clock.advance(25_000); // past reservationTimeoutMs while "paused"
            }
          },
        });
        const [result] = await slow.produce(topic, [append(0, ['slow'])]);
        assert.equal(result.baseOffset, 1n, 'offset 0 was fenced off, the retry got offset 1');
        assert.deepEqual(await readAll(engine, topic, 0), [[1n, 'slow']]);
      });

      it('a writer whose range was closed as aborted (its clock behind) reserves again instead of acknowledging', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        const skewed = new ManualClock(clock.now() - 100_000);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let reachedGate!: () => void;
        const atGate = new Promise<void>((resolve) => (reachedGate = resolve));
        const writer = engineOf({
          now: skewed.now,
          afterProduceStep: async (s) => {
            if (s === 'offsets-reserved') {
              reachedGate();
              await gate;
            }
          },
        });
        const pending = writer.produce(topic, [append(0, ['survivor'])]);
        await atGate;
        // the head's last reservation is 100 s old by maintenance's clock: it closes the gap
        assert.deepEqual(await engine.repairPartition(topic, 0), { gapsClosed: 1 });
        assert.equal((await engine.fetch(topic, 0, { offset: 0n })).highWatermark, 1n);
        release();
        const [result] = await pending;
        assert.equal(result.baseOffset, 1n);
        assert.deepEqual(await readAll(engine, topic, 0), [[1n, 'survivor']]);
      });

      it('a zombie attempt that resumes after its retry succeeded appends nothing', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let reachedGate!: () => void;
        const atGate = new Promise<void>((resolve) => (reachedGate = resolve));
        const zombie = engineOf({
          afterProduceStep: async (s) => {
            if (s === 'offsets-reserved') {
              reachedGate();
              await gate;
            }
          },
        });
        const batch = [append(0, ['once'])];
        const idem = { key: 'zombie', fingerprint: 'fp' };
        const zombieResult = zombie.produce(topic, batch, idem);
        await atGate;
        const retry = await engine.produce(topic, batch, idem);
        release();
        assert.deepEqual(await zombieResult, retry);
        clock.advance(61_000);
        await engine.repairPartition(topic, 0);
        const read = await readAll(engine, topic, 0);
        assert.deepEqual(read.map(([, v]) => v), ['once']);
      });

      it('concurrent attempts of one idempotent produce append once', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine, 3);
        const batch = [append(0, ['a']), append(1, ['b']), append(2, ['c'])];
        const idem = { key: 'racing', fingerprint: 'fp' };
        const results = await Promise.all(Array.from({ length: 8 }, () => engine.produce(topic, batch, idem)));
        for (const r of results) assert.deepEqual(r, results[0]);
        clock.advance(61_000);
        for (const p of [0, 1, 2]) await engine.repairPartition(topic, p);
        for (const [p, v] of [[0, 'a'], [1, 'b'], [2, 'c']] as const) {
          assert.deepEqual((await readAll(engine, topic, p)).map(([, value]) => value), [v]);
        }
      });

      it('long-polls at the end of the log and returns as soon as data arrives', async () => {
        const engine = engineOf({ now: Date.now });
        const topic = await newTopic(engine);
        const waiting = engine.fetch(topic, 0, { offset: 0n, maxWaitMs: 10_000 });
        await new Promise((r) => setTimeout(r, 30));
        await engine.produce(topic, [append(0, ['late'])]);
        const result = await waiting;
        assert.equal(result.highWatermark, 1n);
        assert.equal(result.batches.length, 1);
        // another engine instance (another process or Lambda) is seen by polling the head
        const other = engineOf({ now: Date.now });
        const polling = other.fetch(topic, 0, { offset: 1n, maxWaitMs: 10_000 });
        await new Promise((r) => setTimeout(r, 30));
        await engine.produce(topic, [append(0, ['later'])]);
        assert.equal((await polling).batches.length, 1);
        const aborted = new AbortController();
        const cancelled = engine.fetch(topic, 0, { offset: 2n, maxWaitMs: 10_000, signal: aborted.signal });
        aborted.abort();
        assert.equal((await cancelled).batches.length, 0);
      });

      it('a LogAppendTime topic stamps each batch with the append time; its producers\' clocks no longer matter', async () => {
        const engine = engineOf();
        const name = `t${++topicSeq}-append-time`;
        await engine.topics.create(name, 1, { timestampType: 'LogAppendTime' });
        const t0 = clock.now();
        await engine.produce(name, [append(0, ['a', 'b'], t0 + 365 * 86_400_000, 'zstd')]); // a producer a year ahead
        clock.advance(1000);
        await engine.produce(name, [append(0, ['c'], 5, 'none')]); // and one at the epoch
        const { batches } = await engine.fetch(name, 0, { offset: 0n, maxBytes: 1 << 20 });
        assert.deepEqual(batches.map((b) => [b.header.timestampType, b.header.maxTimestamp]), [['logAppend', t0], ['logAppend', t0 + 1000]]);
        for (const batch of batches) verifyBatch(batch.bytes, 0); // CRC rewritten over the stamp
        const stamped = batches.flatMap((b) => decodeRecordBatch(b.bytes).records.map((r) => [untext.decode(r.value!), r.timestamp]));
        assert.deepEqual(stamped, [['a', t0], ['b', t0], ['c', t0 + 1000]]);
        // searches by time follow arrival
        assert.equal(await engine.offsetForTimestamp(name, 0, t0 + 1), 2n);
        assert.equal(await engine.offsetForTimestamp(name, 0, t0 + 1001), 3n);
        // switched back: later batches keep their producers' timestamps, earlier ones keep their stamp
        await engine.topics.alterConfig(name, { timestampType: 'CreateTime' });
        await engine.produce(name, [append(0, ['d'], 42)]);
        const all = (await engine.fetch(name, 0, { offset: 0n, maxBytes: 1 << 20 })).batches;
        assert.deepEqual(all.map((b) => b.header.maxTimestamp), [t0, t0 + 1000, 42]);
        assert.deepEqual(await readAll(engine, name, 0), [[0n, 'a'], [1n, 'b'], [2n, 'c'], [3n, 'd']]);
      });

      it('finds offsets by timestamp', async () => {
        const engine = engineOf();
        const topic = await newTopic(engine);
        await engine.produce(topic, [append(0, ['a', 'b', 'c'], 1000)]); // timestamps 1000-1002
        await engine.produce(topic, [append(0, ['d', 'e'], 2000)]); // 2000-2001
        assert.equal(await engine.offsetForTimestamp(topic, 0, 0), 0n);
        assert.equal(await engine.offsetForTimestamp(topic, 0, 1001), 1n);
        assert.equal(await engine.offsetForTimestamp(topic, 0, 1003), 3n);
        assert.equal(await engine.offsetForTimestamp(topic, 0, 2001), 4n);
        assert.equal(await engine.offsetForTimestamp(topic, 0, 9999), 5n);
      });
    });
  }
}
