/**
 * Issue 14, part 2: the produce path writes the partition head exactly once per append (its
 * reservation), and the watermark item beside it once per DEFAULTS.watermarkAdvanceEveryReservations
 * reservations; no condition on the head fails; readers see every entry written after the stored
 * watermark; a watermark stored on the head by an earlier version still counts. Counted over recording
 * stores (bench/recording-stores.ts) on every backend.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type EngineOptions } from '../../lib/log/engine.ts';
import { DEFAULTS } from '../../lib/defaults.ts';
import { HEAD_SK, WATERMARK_SK, headFromItems, partitionPk } from '../../lib/log/layout.ts';
import { recordingStores, WRITE_OPERATIONS } from '../../bench/recording-stores.ts';
import { awsEmulatorBackend, localBackend, memoryBackend, type Backend, type BackendFactory } from '../support/backends.ts';
import { append, Crash, readAll } from './engine.suite.ts';

const PRODUCERS = 16;
const APPENDS_PER_PRODUCER = 16;
const EVERY = DEFAULTS.watermarkAdvanceEveryReservations;

const BACKENDS: ReadonlyArray<[string, BackendFactory]> = [
  ['memory', memoryBackend],
  ['local (SQLite + fs)', localBackend],
  ['S3 + DynamoDB adapters (s3rver + dynalite)', awsEmulatorBackend],
];

for (const [name, factory] of BACKENDS) {
  describe(`partition head writes on ${name}`, { timeout: 120_000 }, () => {
    let backend: Backend;
    let topicSeq = 0;
    before(async () => {
      backend = await factory();
    });
    after(async () => {
      await backend?.teardown();
    });
    const engineOf = (options: Partial<EngineOptions> = {}) => new Engine({ objects: backend.objects, metadata: backend.metadata, topicCacheMs: 0, ...options });
    const newTopic = async (engine: Engine) => {
      const topic = `hw-${++topicSeq}`;
      await engine.topics.create(topic, 1, { retentionMs: -1 });
      return topic;
    };
    const pkOf = async (engine: Engine, topic: string) => partitionPk((await engine.topics.get(topic)).id, 0);
    // Read item by item, not through PartitionLog.readHead, so the test does not take the code's word for where the watermark is.
    const storedHead = async (engine: Engine, topic: string) => {
      const pk = await pkOf(engine, topic);
      return headFromItems(await backend.metadata.get(pk, HEAD_SK), await backend.metadata.get(pk, WATERMARK_SK));
    };

    it(`${PRODUCERS} concurrent producers on one partition: exactly one head write per append, one watermark advance per ${EVERY} reservations, no failed condition, offsets 0..n-1, each ack readable once every earlier offset is acknowledged`, async () => {
      const recording = recordingStores(backend.objects, backend.metadata);
      const producer = new Engine({ objects: recording.objects, metadata: recording.metadata, topicCacheMs: Number.POSITIVE_INFINITY });
      // Reads go through their own engine on the raw stores: they are checked, not counted.
      const reader = engineOf();
      const topic = await newTopic(producer);
      await producer.topics.get(topic);
      recording.recorder.reset();

      const acked = new Map<bigint, bigint>();
      let ackedPrefixEnd = 0n;
      const lateReads: string[] = [];
      await Promise.all(
        Array.from({ length: PRODUCERS }, async (_, p) => {
          for (let i = 0; i < APPENDS_PER_PRODUCER; i++) {
            const [result] = await producer.produce(topic, [append(0, [`p${p}-${i}`])]);
            acked.set(result.baseOffset, result.baseOffset + 1n);
            while (acked.has(ackedPrefixEnd)) ackedPrefixEnd = acked.get(ackedPrefixEnd)!;
            const mustSee = ackedPrefixEnd;
            const { endOffset } = await reader.partitionState(topic, 0);
            if (endOffset < mustSee) lateReads.push(`after the ack of ${result.baseOffset} the readable end was ${endOffset}, below ${mustSee}`);
          }
        }),
      );
      const appends = PRODUCERS * APPENDS_PER_PRODUCER;
      const writesTo = (target: string) => recording.recorder.calls.filter((call) => call.target === target && WRITE_OPERATIONS.has(call.operation));
      const headWrites = writesTo('partition head');
      const watermarkWrites = writesTo('partition watermark');
      const failed = headWrites.filter((call) => call.conditionFailed).length;
      const advances = appends / EVERY;

      assert.deepEqual([...acked.keys()].sort((a, b) => (a < b ? -1 : 1)), Array.from({ length: appends }, (_, i) => BigInt(i)), 'offsets 0..n-1, each once');
      assert.deepEqual(lateReads, []);
      assert.equal(headWrites.length, appends, 'one head write per append: the reservation');
      assert.equal(failed, 0, 'the reservation is an unconditional add');
      assert.ok(watermarkWrites.length >= 1 && watermarkWrites.length <= advances, `${watermarkWrites.length} watermark writes for ${appends} appends (at most ${advances})`);
      const head = await storedHead(producer, topic);
      assert.equal(head.nextOffset, BigInt(appends));
      assert.ok(head.nextOffset - head.highWatermark <= BigInt(EVERY + PRODUCERS), `the stored watermark lags by ${head.nextOffset - head.highWatermark}: one Query page for readers`);
      assert.equal((await readAll(reader, topic, 0)).length, appends);
    });

    it('readers see records whose watermark was never stored, also after a crash right after the entry write', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine);
      await engine.produce(topic, [append(0, ['a'])]);
      await engine.produce(topic, [append(0, ['b', 'c'])]);
      const dying = engineOf({
        afterProduceStep: (s) => {
          if (s === 'entry-written') throw new Crash('died after writing its entry');
        },
      });
      await assert.rejects(dying.produce(topic, [append(0, ['d'])]), Crash);
      const head = await storedHead(engine, topic);
      assert.equal(head.highWatermark, 0n, 'no watermark stored');
      assert.equal(head.nextOffset, 4n);
      const refuse = () => Promise.reject(new Error('a reader wrote'));
      const readOnly = { ...backend.metadata, get: backend.metadata.get.bind(backend.metadata), query: backend.metadata.query.bind(backend.metadata), put: refuse, update: refuse, delete: refuse };
      const reader = engineOf({ metadata: readOnly });
      assert.deepEqual(await readAll(reader, topic, 0), [[0n, 'a'], [1n, 'b'], [2n, 'c'], [3n, 'd']]);
      assert.equal((await reader.partitionState(topic, 0)).endOffset, 4n);
      assert.deepEqual(await reader.waitForRecords(topic, [{ partition: 0, offset: 3n }]), [{ partition: 0, highWatermark: 4n, logStartOffset: 0n }]);
    });

    it('the producer elected to advance the watermark dies before it: nothing is lost, the next election or maintenance advances it', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine);
      for (let i = 0; i < EVERY - 1; i++) await engine.produce(topic, [append(0, [`r${i}`])]);
      assert.equal((await storedHead(engine, topic)).highWatermark, 0n);
      const dying = engineOf({
        afterProduceStep: (s) => {
          if (s === 'entry-written') throw new Crash('died before advancing the watermark');
        },
      });
      await assert.rejects(dying.produce(topic, [append(0, ['elected'])]), Crash);
      assert.equal((await storedHead(engine, topic)).highWatermark, 0n, 'the elected producer never advanced it');
      assert.equal((await readAll(engine, topic, 0)).length, EVERY);
      await engine.maintain();
      assert.equal((await storedHead(engine, topic)).highWatermark, BigInt(EVERY), 'maintenance advanced it');
      for (let i = 0; i < EVERY; i++) await engine.produce(topic, [append(0, [`s${i}`])]);
      assert.equal((await storedHead(engine, topic)).highWatermark, BigInt(2 * EVERY), 'the next elected producer advanced it over its own entry');
      assert.equal((await readAll(engine, topic, 0)).length, 2 * EVERY);
    });

    it('a watermark stored on the head by an earlier version still counts, and advancing from it writes only the watermark item', async () => {
      const engine = engineOf();
      const topic = await newTopic(engine);
      for (let i = 0; i < 5; i++) await engine.produce(topic, [append(0, [`r${i}`])]);
      const pk = await pkOf(engine, topic);
      // As an earlier version left it: the watermark on the head (5), none beside it.
      await backend.metadata.delete(pk, WATERMARK_SK);
      await backend.metadata.update(pk, HEAD_SK, { set: { highWatermark: 5n } });
      assert.equal((await engine.partitionState(topic, 0)).endOffset, 5n);
      const recording = recordingStores(backend.objects, backend.metadata);
      const counted = new Engine({ objects: recording.objects, metadata: recording.metadata, topicCacheMs: 0 });
      assert.deepEqual(await readAll(counted, topic, 0), [0, 1, 2, 3, 4].map((i) => [BigInt(i), `r${i}`]));
      assert.equal(recording.recorder.calls.filter((call) => call.target === 'log entries').length, 1, 'the reader walked nothing past the watermark on the head: one page of entries for the records');
      for (let i = 5; i < 8; i++) await engine.produce(topic, [append(0, [`r${i}`])]);
      await engine.maintain();
      assert.equal((await backend.metadata.get(pk, WATERMARK_SK))?.highWatermark, 8n, 'maintenance advanced the watermark item from 5');
      assert.equal((await backend.metadata.get(pk, HEAD_SK))?.highWatermark, 5n, 'and left the head alone');
      assert.equal((await storedHead(engine, topic)).highWatermark, 8n);
      assert.equal((await readAll(engine, topic, 0)).length, 8);
    });
  });
}
