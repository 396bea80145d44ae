/**
 * The long poll's cost: how many times a wait reads the partition head, counted with a counting
 * metadata store and fake timers on a manual clock (no sleeping, no wall-clock asserts), and the
 * multi-partition wait.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type WaitTimers } from '../../lib/log/engine.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { SluiceError } from '../../lib/errors.ts';
import { CountingStore } from '../groups/counting-store.ts';
import { ManualClock } from '../support/clock.ts';
import { append } from './engine.suite.ts';

/** Timers that fire on the next turn of the event loop, moving the manual clock by their delay. */
class FakeTimers implements WaitTimers {
  readonly delays: number[] = [];
  readonly #clock: ManualClock;
  readonly #cancelled = new Set<number>();
  #seq = 0;
  /** Runs before a timer fires (a test appends from "another process" here). */
  beforeFire?: (fired: number) => Promise<void> | void;
  constructor(clock: ManualClock) {
    this.#clock = clock;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.delays.push(ms);
    setImmediate(async () => {
      if (this.#cancelled.has(id)) return;
      await this.beforeFire?.(this.delays.length);
      this.#clock.advance(ms);
      callback();
    });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#cancelled.add(handle as number);
  }
}

function setup() {
  const clock = new ManualClock();
  const timers = new FakeTimers(clock);
  const metadata = new CountingStore(new MemoryMetadataStore());
  const objects = new MemoryObjectStore();
  // topicCacheMs keeps topic reads out of the count: only head reads remain.
  const engine = new Engine({ objects, metadata, now: clock.now, timers, topicCacheMs: 3_600_000 });
  // Another process (a Lambda appending elsewhere): same stores, its appends do not wake `engine`.
  const other = new Engine({ objects, metadata, now: clock.now, topicCacheMs: 3_600_000 });
  return { clock, timers, metadata, engine, other };
}

describe('long poll cost', () => {
  it('a 20 s wait with nothing appended reads the head 10 times on the backoff schedule', async () => {
    const { timers, metadata, engine } = setup();
    await engine.topics.create('idle', 1);
    await engine.fetch('idle', 0, { offset: 0n }); // warms the topic cache
    metadata.reset();
    const result = await engine.fetch('idle', 0, { offset: 0n, maxWaitMs: 20_000 });
    assert.equal(result.batches.length, 0);
    assert.deepEqual(timers.delays, [250, 500, 1000, 2000, 4000, 4000, 4000, 4000, 250]);
    assert.equal(metadata.reads, 1 + timers.delays.length, 'one head read up front, one after each interval');
    assert.equal(engine.waitingFetches, 0, 'no waiter left behind');
  });

  it('an append by another process is found on the next scheduled read', async () => {
    const { timers, metadata, engine, other } = setup();
    await engine.topics.create('elsewhere', 1);
    await engine.fetch('elsewhere', 0, { offset: 0n });
    metadata.reset();
    timers.beforeFire = async (fired) => {
      if (fired === 3) await other.produce('elsewhere', [append(0, ['x'])]);
    };
    const readsBefore = metadata.reads;
    const result = await engine.fetch('elsewhere', 0, { offset: 0n, maxWaitMs: 20_000 });
    assert.equal(result.batches.length, 1);
    assert.deepEqual(timers.delays, [250, 500, 1000]);
    assert.ok(metadata.reads - readsBefore >= 4);
  });

  it('an append in the same process ends the wait at once, without waiting for the schedule', async () => {
    const { timers, engine } = setup();
    await engine.topics.create('local', 1);
    timers.beforeFire = () => new Promise(() => {}); // no timer ever fires: only the wake can end the wait
    const waiting = engine.fetch('local', 0, { offset: 0n, maxWaitMs: 20_000 });
    await new Promise((resolve) => setImmediate(resolve));
    await engine.produce('local', [append(0, ['now'])]);
    assert.equal((await waiting).batches.length, 1);
    assert.equal(engine.waitingFetches, 0);
  });
});

describe('multi-partition wait', () => {
  it('answers the partitions with records past the offsets as soon as one has them', async () => {
    const { engine } = setup();
    await engine.topics.create('many', 4);
    await engine.produce('many', [append(1, ['a', 'b'])]);
    // partition 1 already has records past offset 1: answered without waiting
    assert.deepEqual(await engine.waitForRecords('many', [{ partition: 0, offset: 0n }, { partition: 1, offset: 1n }], { maxWaitMs: 20_000 }), [
      { partition: 1, highWatermark: 2n, logStartOffset: 0n },
    ]);
    const waiting = engine.waitForRecords('many', [{ partition: 0, offset: 0n }, { partition: 1, offset: 2n }, { partition: 3, offset: 0n }], { maxWaitMs: 20_000 });
    await new Promise((resolve) => setImmediate(resolve));
    await engine.produce('many', [append(3, ['c'])]);
    assert.deepEqual(await waiting, [{ partition: 3, highWatermark: 1n, logStartOffset: 0n }]);
    assert.equal(engine.waitingFetches, 0, 'the waiter left every partition it waited on');
  });

  it('is empty at the deadline, reading each head once per round', async () => {
    const { timers, metadata, engine } = setup();
    await engine.topics.create('quiet', 3);
    await engine.fetch('quiet', 0, { offset: 0n });
    metadata.reset();
    const positions = [0, 1, 2].map((partition) => ({ partition, offset: 0n }));
    assert.deepEqual(await engine.waitForRecords('quiet', positions, { maxWaitMs: 20_000 }), []);
    assert.equal(metadata.reads, 3 * (1 + timers.delays.length));
    assert.equal(timers.delays.length, 9);
  });

  it('reports an offset outside the log as ready (the fetch there answers OFFSET_OUT_OF_RANGE)', async () => {
    const { engine } = setup();
    await engine.topics.create('beyond', 1);
    assert.deepEqual(await engine.waitForRecords('beyond', [{ partition: 0, offset: 5n }], { maxWaitMs: 20_000 }), [{ partition: 0, highWatermark: 0n, logStartOffset: 0n }]);
  });

  it('refuses unknown and repeated partitions before waiting', async () => {
    const { engine } = setup();
    await engine.topics.create('checked', 2);
    await assert.rejects(engine.waitForRecords('checked', [{ partition: 2, offset: 0n }], { maxWaitMs: 20_000 }), (e: SluiceError) => e.code === 'INVALID_REQUEST');
    await assert.rejects(
      engine.waitForRecords('checked', [{ partition: 1, offset: 0n }, { partition: 1, offset: 3n }], { maxWaitMs: 20_000 }),
      (e: SluiceError) => e.code === 'INVALID_REQUEST',
    );
    assert.equal(engine.waitingFetches, 0);
  });
});
