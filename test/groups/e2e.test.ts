/**
 * End to end over the log engine: a group consumes a topic that is being produced to, while members
 * join, leave, crash and restart (static). Each member runs the consumer loop a client runs: heartbeat,
 * rejoin on rebalance, commit and release revoking partitions, fetch its partitions from their
 * positions, process, commit (at least once: after processing). At the end every record produced has
 * been processed at least once, none was skipped, and the committed offsets reach the end of the log.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../lib/log/engine.ts';
import { Groups } from '../../lib/groups/groups.ts';
import { decodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { SluiceError } from '../../lib/errors.ts';
import { awsEmulatorBackend, localBackend, memoryBackend, type Backend, type BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { append } from '../log/engine.suite.ts';
import { Rng } from './rng.ts';
import { SimMember } from './sim.ts';

const untext = new TextDecoder();

class Consumer {
  readonly sim: SimMember;
  readonly position = new Map<number, bigint>();
  alive = true;
  readonly topic: string;
  readonly engine: Engine;
  readonly processed: Map<number, Map<bigint, number>>;

  constructor(groups: Groups, engine: Engine, group: string, topic: string, processed: Map<number, Map<bigint, number>>, instanceId?: string) {
    this.sim = new SimMember(groups, group, { topics: [topic], sessionTimeoutMs: 6_000, ...(instanceId ? { instanceId } : {}) });
    this.engine = engine;
    this.topic = topic;
    this.processed = processed;
  }

  #adopt(): void {
    for (const a of this.sim.assignments) if (!this.position.has(a.partition)) this.position.set(a.partition, a.committedOffset ?? 0n);
    const keep = new Set(this.sim.assignments.map((a) => a.partition));
    for (const p of [...this.position.keys()]) if (!keep.has(p)) this.position.delete(p);
  }

  async join(): Promise<void> {
    await this.sim.join();
    this.#adopt();
  }

  async commit(partitions: number[]): Promise<void> {
    const offsets = partitions.filter((p) => this.position.has(p)).map((partition) => ({ topic: this.topic, partition, offset: this.position.get(partition)! }));
    if (offsets.length === 0) return;
    try {
      await this.sim.commit(offsets);
    } catch (error) {
      if (!(error instanceof SluiceError && error.code === 'ILLEGAL_GENERATION')) throw error;
    }
  }

  /** One turn of the consumer loop. */
  async poll(rng: Rng): Promise<void> {
    try {
      const { rebalance } = await this.sim.heartbeat();
      if (rebalance) {
        await this.join();
        if (this.sim.revoking.length > 0) {
          await this.commit(this.sim.revoking.map((r) => r.partition)); // commit on revoke (positions kept until released)
          await this.join();
        }
      }
    } catch (error) {
      if (!(error instanceof SluiceError && error.code === 'UNKNOWN_MEMBER')) throw error;
      this.sim.memberId = undefined;
      this.position.clear();
      await this.join();
    }
    for (const partition of [...this.position.keys()]) {
      const from = this.position.get(partition)!;
      const result = await this.engine.fetch(this.topic, partition, { offset: from, maxBytes: rng.int(200, 2000) });
      for (const batch of result.batches) {
        for (const record of decodeRecordBatch(batch.bytes).records) {
          const offset = batch.baseOffset + (record.offset - batch.header.baseOffset);
          if (offset < from) continue;
          assert.equal(untext.decode(record.value!), `${partition}:${offset}`, 'the record at its offset');
          const seen = this.processed.get(partition)!;
          seen.set(offset, (seen.get(offset) ?? 0) + 1);
        }
      }
      this.position.set(partition, result.nextOffset);
    }
    if (rng.chance(0.6)) await this.commit([...this.position.keys()]);
  }
}

function e2e(name: string, factory: BackendFactory, rounds: number): void {
  describe(`a group consuming while members come and go, on ${name}`, { timeout: 1_800_000 }, () => {
    let backend: Backend;
    before(async () => {
      backend = await factory();
    });
    after(async () => backend.teardown());

    it('processes every record at least once and skips none', async () => {
      const rng = new Rng(2024);
      const clock = new ManualClock();
      const engine = new Engine({ objects: backend.objects, metadata: backend.metadata, now: clock.now, topicCacheMs: 0 });
      const groups = new Groups({ engine, now: clock.now });
      const topic = 'e2e-orders';
      const partitions = 6;
      await engine.topics.create(topic, partitions);
      const processed = new Map(Array.from({ length: partitions }, (_, p) => [p, new Map<bigint, number>()]));
      const produced = new Array<bigint>(partitions).fill(0n);
      const produce = async () => {
        const partition = rng.int(0, partitions - 1);
        const count = rng.int(1, 8);
        const values = Array.from({ length: count }, (_, i) => `${partition}:${produced[partition] + BigInt(i)}`);
        await engine.produce(topic, [append(partition, values, clock.now(), rng.pick(['none', 'zstd'] as const))]);
        produced[partition] += BigInt(count);
      };
      const consumers: Consumer[] = [];
      const start = async (instanceId?: string) => {
        const c = new Consumer(groups, engine, 'e2e', topic, processed, instanceId);
        await c.join();
        consumers.push(c);
      };
      await start();
      await start('pod-1');
      let events = 0;
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < 3; i++) await produce();
        clock.advance(rng.int(200, 1500));
        const live = consumers.filter((c) => c.alive);
        const roll = rng.next();
        if (roll < 0.1 && live.length < 5) {
          await start(rng.chance(0.3) ? `pod-${rng.int(2, 3)}` : undefined);
          events++;
        } else if (roll < 0.17 && live.length > 1) {
          const c = rng.pick(live);
          await c.commit([...c.position.keys()]);
          await c.sim.leave(); // graceful
          c.alive = false;
          events++;
        } else if (roll < 0.22 && live.length > 1) {
          rng.pick(live).alive = false; // crash: no commit, no leave; its lease runs out
          events++;
        } else if (roll < 0.26) {
          const statics = live.filter((c) => c.sim.request.instanceId);
          if (statics.length > 0) {
            const c = rng.pick(statics);
            c.alive = false; // a static member restarts: the new process takes over its assignment at once
            await start(c.sim.request.instanceId);
            events++;
          }
        }
        for (const c of consumers.filter((c) => c.alive)) await c.poll(rng);
      }
      // drain: production stops; the survivors consume to the end
      const survivors = consumers.filter((c) => c.alive);
      assert.ok(survivors.length > 0);
      for (let round = 0; round < 60; round++) {
        clock.advance(1000);
        for (const c of survivors) await c.poll(rng);
        for (const c of survivors) await c.commit([...c.position.keys()]);
      }
      assert.ok(events >= 5, `members came and went (${events} times)`);
      const description = await groups.describe('e2e');
      for (let p = 0; p < partitions; p++) {
        const seen = processed.get(p)!;
        for (let o = 0n; o < produced[p]; o++) assert.ok(seen.has(o), `partition ${p} offset ${o} was never processed`);
        const offset = description.offsets.find((x) => x.partition === p)!;
        assert.equal(offset.endOffset, produced[p]);
        assert.equal(offset.committedOffset, produced[p], `partition ${p} committed to the end`);
        assert.equal(offset.lag, 0n);
      }
      const total = produced.reduce((a, b) => a + b, 0n);
      const duplicates = [...processed.values()].reduce((n, seen) => n + [...seen.values()].reduce((m, c) => m + c - 1, 0), 0);
      assert.ok(total > 0n);
      console.log(`e2e on ${name}: ${total} records, ${duplicates} processed twice or more, ${events} membership events, generation ${description.generation}`);
    });
  });
}

e2e('memory', memoryBackend, 200);
e2e('local filesystem + SQLite', localBackend, 120);
e2e('S3 + DynamoDB adapters (s3rver + dynalite)', awsEmulatorBackend, 70);
