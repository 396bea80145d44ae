/**
 * The engine's readable head past the stored watermark (Engine #readableEnds): a reader walks each
 * entry written after the stored watermark once, not on every read; what other engines (processes)
 * append, gaps, their closing and the stored watermark catching up all read exactly as before.
 * Counted as log-entry items handed out by the metadata store, on the memory and local backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../lib/defaults.ts';
import { Engine, type EngineOptions } from '../../lib/log/engine.ts';
import { ENTRY_SK_PREFIX, HEAD_SK, WATERMARK_SK, headFromItems, partitionPk } from '../../lib/log/layout.ts';
import type { MetadataStore } from '../../lib/storage/ports.ts';
import { localBackend, memoryBackend, type Backend, type BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { append, Crash, readAll } from './engine.suite.ts';

/** The store, counting the log-entry items its queries return. */
function countingEntries(inner: MetadataStore): { metadata: MetadataStore; entriesRead: () => number } {
  let read = 0;
  const metadata: MetadataStore = {
    get: (pk, sk) => inner.get(pk, sk),
    put: (item, condition) => inner.put(item, condition),
    update: (pk, sk, changes, condition, options) => inner.update(pk, sk, changes, condition, options),
    delete: (pk, sk, condition) => inner.delete(pk, sk, condition),
    query: async (pk, options) => {
      const items = await inner.query(pk, options);
      read += items.filter((item) => item.sk.startsWith(ENTRY_SK_PREFIX)).length;
      return items;
    },
  };
  return { metadata, entriesRead: () => read };
}

const BACKENDS: ReadonlyArray<[string, BackendFactory]> = [
  ['memory', memoryBackend],
  ['local (SQLite + fs)', localBackend],
];

for (const [name, factory] of BACKENDS) {
  describe(`readable head past the stored watermark on ${name}`, { timeout: 120_000 }, () => {
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
      const topic = `rh-${++topicSeq}`;
      await engine.topics.create(topic, 1, { retentionMs: -1 });
      return topic;
    };
    const storedWatermark = async (engine: Engine, topic: string) => {
      const pk = partitionPk((await engine.topics.get(topic)).id, 0);
      return headFromItems(await backend.metadata.get(pk, HEAD_SK), await backend.metadata.get(pk, WATERMARK_SK)).highWatermark;
    };

    it('walks each entry past the stored watermark once, and what another engine appends after it', async () => {
      const writer = engineOf();
      const topic = await newTopic(writer);
      for (let i = 0; i < 10; i++) await writer.produce(topic, [append(0, [`r${i}`])]);
      assert.equal(await storedWatermark(writer, topic), 0n, 'fewer appends than the watermark is stored after');

      const counting = countingEntries(backend.metadata);
      const reader = engineOf({ metadata: counting.metadata });
      assert.equal((await reader.partitionState(topic, 0)).endOffset, 10n);
      assert.equal(counting.entriesRead(), 10, 'the first read walks the ten entries');
      for (let i = 0; i < 5; i++) assert.equal((await reader.partitionState(topic, 0)).endOffset, 10n);
      assert.equal(counting.entriesRead(), 10, 'later reads walk none of them again');

      // Another process (engine) appends: the reader walks just the new entries.
      for (let i = 10; i < 13; i++) await writer.produce(topic, [append(0, [`r${i}`])]);
      assert.equal((await reader.partitionState(topic, 0)).endOffset, 13n);
      assert.equal(counting.entriesRead(), 13);
      assert.deepEqual(await reader.waitForRecords(topic, [{ partition: 0, offset: 12n }]), [{ partition: 0, highWatermark: 13n, logStartOffset: 0n }]);
      assert.deepEqual(
        (await readAll(reader, topic, 0)).map(([, value]) => value),
        Array.from({ length: 13 }, (_, i) => `r${i}`),
      );
    });

    it('a reader following the tail reads the new entries once: the fetch takes them from the head walk', async () => {
      const writer = engineOf();
      const topic = await newTopic(writer);
      const counting = countingEntries(backend.metadata);
      const reader = engineOf({ metadata: counting.metadata });
      let offset = 0n;
      const values: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4; i++) await writer.produce(topic, [append(0, [`r${round}-${i}`])]);
        const before = counting.entriesRead();
        const result = await reader.fetch(topic, 0, { offset });
        // Four new entries, each read once (by the walk past the stored watermark), not again by the read.
        assert.equal(counting.entriesRead() - before, 4, `round ${round}`);
        assert.equal(result.nextOffset, offset + 4n);
        offset = result.nextOffset;
        values.push(...result.batches.map((batch) => String(batch.baseOffset)));
      }
      assert.deepEqual(values, Array.from({ length: 12 }, (_, i) => String(i)));
      // A read from elsewhere (not where the walk began) still reads the table: the same records.
      const again = await reader.fetch(topic, 0, { offset: 2n });
      assert.equal(again.batches[0]!.baseOffset, 2n);
    });

    it('stops at a gap and moves past it once it is closed; follows the stored watermark when it overtakes', async () => {
      const clock = new ManualClock();
      const writer = engineOf({ now: clock.now });
      const topic = await newTopic(writer);
      await writer.produce(topic, [append(0, ['a', 'b'])]);
      const reader = engineOf({ now: clock.now });
      assert.equal((await reader.partitionState(topic, 0)).endOffset, 2n);

      // A writer reserves offset 2 and dies before its entry; later appends land behind the gap.
      const dying = engineOf({
        now: clock.now,
        afterProduceStep: (step) => {
          if (step === 'offsets-reserved') throw new Crash('died before writing its entry');
        },
      });
      await assert.rejects(dying.produce(topic, [append(0, ['lost'])]), Crash);
      await writer.produce(topic, [append(0, ['c'])]);
      assert.equal((await reader.partitionState(topic, 0)).endOffset, 2n, 'nothing past the gap is readable');
      assert.equal((await reader.partitionState(topic, 0)).endOffset, 2n);

      clock.advance(DEFAULTS.abortReservationAfterMs + 1);
      assert.equal((await writer.repairPartition(topic, 0)).gapsClosed, 1);
      assert.equal((await reader.partitionState(topic, 0)).endOffset, 4n, 'the closed gap and the entry after it');
      assert.deepEqual((await readAll(reader, topic, 0)).map(([offset, value]) => [offset, value]), [[0n, 'a'], [1n, 'b'], [3n, 'c']]);

      // The stored watermark overtakes what the reader had found; the reader follows it.
      for (let i = 0; i < DEFAULTS.watermarkAdvanceEveryReservations; i++) await writer.produce(topic, [append(0, [`s${i}`])]);
      await writer.maintain();
      const stored = await storedWatermark(writer, topic);
      assert.ok(stored > 4n, `the stored watermark moved (${stored})`);
      assert.equal((await reader.partitionState(topic, 0)).endOffset, stored);
      await writer.produce(topic, [append(0, ['t'])]);
      assert.equal((await reader.partitionState(topic, 0)).endOffset, stored + 1n);
    });
  });
}
