/**
 * Random schedules of producing, dispatching, a flaky target and dispatcher crashes and stalls at
 * named points, checked after every step:
 *   - per partition, records are first delivered in offset order
 *   - no committed offset is beyond a record that the target has not acknowledged nor was dead-lettered
 *   - no commit is accepted from a dispatcher once a newer one has joined (it was fenced)
 * and at the end, once the target heals: every record acknowledged or dead-lettered, and nothing
 * twice in the dead-letter topic.
 * The target fails, times out, answers partial failures, and takes records but answers as failed
 * (success after a delay that looked like failure). Replay one schedule with PUSH_SEED=<n>.
 */
import assert from 'node:assert/strict';
import { Groups, type CommitRequest } from '../../lib/groups/groups.ts';
import { decodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { consumerGroup } from '../../lib/push/layout.ts';
import { PushConsumers } from '../../lib/push/consumers.ts';
import { Dispatcher, type DispatchStep } from '../../lib/push/dispatcher.ts';
import { AesGcmSecretBox } from '../../lib/push/secrets.ts';
import { LOCAL_URL_POLICY } from '../../lib/push/config.ts';
import { Engine } from '../../lib/log/engine.ts';
import type { DeliveryOutcome } from '../../lib/push/targets.ts';
import type { BackendFactory } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { seededRandom } from '../support/random.ts';
import { ScriptedTarget, produceValues, type Delivered } from './support.ts';

const STEPS: readonly DispatchStep[] = ['joined', 'delivered', 'committed', 'state-written', 'dead-letter-planned', 'dead-letters-appended'];

class CrashHere extends Error {}

interface CommitLog {
  readonly memberId: string;
  readonly startedAfterJoins: number;
  readonly accepted: boolean;
}

class RecordingGroups extends Groups {
  readonly commits: CommitLog[] = [];
  joins = 0;
  override async commit(group: string, request: CommitRequest) {
    const startedAfterJoins = this.joins;
    try {
      const result = await super.commit(group, request);
      this.commits.push({ memberId: request.memberId, startedAfterJoins, accepted: true });
      return result;
    } catch (error) {
      this.commits.push({ memberId: request.memberId, startedAfterJoins, accepted: false });
      throw error;
    }
  }
}

export async function runPushSchedule(seed: number, factory: BackendFactory, steps = 40): Promise<{ delivered: number; deadLettered: number; crashes: number; zombies: number }> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const backend = await factory();
  const clock = new ManualClock();
  try {
    const engine = new Engine({ objects: backend.objects, metadata: backend.metadata, now: clock.now, topicCacheMs: 0 });
    const groups = new RecordingGroups({ engine, now: clock.now });
    const consumers = new PushConsumers({ engine, groups, secrets: new AesGcmSecretBox(new Uint8Array(32).fill(seed % 251)), urlPolicy: LOCAL_URL_POLICY, now: clock.now });
    const partitions = 1 + Math.floor(random() * 3);
    await engine.topics.create('src', partitions);
    await engine.topics.create('dlq', 1);
    const name = 'flaky';
    await consumers.create({
      name,
      topics: ['src'],
      target: { url: 'http://127.0.0.1:9/unused' },
      startAt: 'earliest',
      deadLetterTopic: 'dlq',
      batch: { maxRecords: 1 + Math.floor(random() * 5) },
      retry: { maxAttempts: 1 + Math.floor(random() * 4), bisectOnError: random() < 0.5, minBackoffMs: 10, maxBackoffMs: 80 },
      maxConcurrency: 1 + Math.floor(random() * 3),
    });

    // What the target has acknowledged (success, or the part of a partial failure before its offset).
    const acked = new Map<number, Set<bigint>>(Array.from({ length: partitions }, (_, p) => [p, new Set<bigint>()]));
    const firstDelivered = new Map<number, bigint>();
    let healed = false;
    const target = new ScriptedTarget((d: Delivered): DeliveryOutcome => {
      const offsets = d.records.map((r) => BigInt(r.offset));
      // First deliveries come in offset order per partition.
      for (const offset of offsets) {
        const seen = firstDelivered.get(d.partition);
        const already = target.deliveries.slice(0, -1).some((x) => x.partition === d.partition && x.records.some((r) => BigInt(r.offset) === offset));
        if (!already) {
          assert.ok(seen === undefined || offset > seen, `seed ${seed}: ${d.partition}@${offset} first delivered after ${seen}`);
          firstDelivered.set(d.partition, offset);
        }
      }
      const ack = (upTo: bigint) => offsets.filter((o) => o < upTo).forEach((o) => acked.get(d.partition)!.add(o));
      const roll = healed ? 0 : random();
      if (roll < 0.45) {
        ack(offsets[offsets.length - 1] + 1n);
        return { kind: 'success' };
      }
      if (roll < 0.6) return { kind: 'failure', error: 'HTTP 500' };
      if (roll < 0.7) return { kind: 'failure', error: 'the target did not answer within 30000 ms' };
      if (roll < 0.8) return { kind: 'failure', error: 'looked failed, but the target took the records' }; // not acknowledged: redelivered
      const firstFailed = pick(offsets);
      ack(firstFailed);
      return { kind: 'partial', firstFailed };
    });

    let crashes = 0;
    let zombies = 0;
    const newDispatcher = (stall?: { step: DispatchStep; gate: Promise<void>; parked: () => void }) => {
      let dead = false;
      let stalled = false;
      const crashAt = random() < 0.3 ? pick(STEPS) : undefined;
      const dispatcher: Dispatcher = new Dispatcher({
        engine,
        groups,
        consumers,
        targets: () => target,
        now: clock.now,
        random,
        sessionTimeoutMs: 60_000,
        logError: () => {},
        afterStep: async (step) => {
          if (step === 'joined') groups.joins++;
          if (dead) throw new CrashHere();
          if (stall && !stalled && step === stall.step) {
            stalled = true;
            stall.parked();
            await stall.gate;
          }
          if (step === crashAt && !stall) {
            dead = true;
            crashes++;
            throw new CrashHere();
          }
        },
      });
      return dispatcher;
    };

    let values = 0;
    const produced = new Map<number, number>(Array.from({ length: partitions }, (_, p) => [p, 0]));
    const check = async () => {
      const described = await groups.describe(consumerGroup(name));
      const dead = await deadLettered(engine);
      for (const o of described.offsets) {
        if (o.committedOffset === null) continue;
        for (let offset = 0n; offset < o.committedOffset; offset++) {
          const ok = acked.get(o.partition)!.has(offset) || dead.has(`${o.partition}/${offset}`);
          assert.ok(ok, `seed ${seed}: committed ${o.partition}@${o.committedOffset} but ${offset} was neither acknowledged nor dead-lettered`);
        }
      }
    };

    let dispatcher = newDispatcher();
    for (let step = 0; step < steps; step++) {
      const action = random();
      if (action < 0.3) {
        const partition = Math.floor(random() * partitions);
        const count = 1 + Math.floor(random() * 4);
        await produceValues(engine, 'src', partition, Array.from({ length: count }, () => `v${values++}`), clock.now());
        produced.set(partition, produced.get(partition)! + count);
      } else if (action < 0.75) {
        await dispatcher.runAll();
        dispatcher = newDispatcher(); // a crashed one is replaced; a live one may be replaced too (a new execution environment)
      } else if (action < 0.9) {
        clock.advance(Math.floor(random() * 120));
      } else {
        // A zombie: a dispatcher stalls at a named point while a newer one joins and works; then it wakes.
        let parked!: () => void;
        let release!: () => void;
        const isParked = new Promise<void>((resolve) => (parked = resolve));
        const gate = new Promise<void>((resolve) => (release = resolve));
        const zombie = newDispatcher({ step: pick(['delivered', 'state-written', 'dead-letter-planned', 'dead-letters-appended'] as const), gate, parked });
        const joinsBefore = groups.joins;
        const zombieRun = zombie.runAll();
        await Promise.race([isParked, zombieRun]);
        const fresh = newDispatcher();
        await fresh.runAll();
        const fencedFrom = groups.joins > joinsBefore + 1 ? joinsBefore + 1 : Infinity;
        const zombieMember = zombie.memberOf(name);
        release();
        await zombieRun;
        zombies++;
        if (zombieMember !== undefined && fencedFrom !== Infinity) {
          const late = groups.commits.filter((c) => c.memberId === zombieMember && c.accepted && c.startedAfterJoins > fencedFrom);
          assert.deepEqual(late, [], `seed ${seed}: a fenced dispatcher's commit was accepted`);
        }
        dispatcher = newDispatcher();
      }
      await check();
    }

    // Heal: the target takes everything; retries fall due; run until every partition is caught up.
    healed = true;
    for (let round = 0; round < 200; round++) {
      clock.advance(100);
      await newDispatcher().runAll().catch(() => {});
      await consumers.resume(name);
      const described = await groups.describe(consumerGroup(name));
      if (described.offsets.every((o) => o.committedOffset !== null && o.committedOffset >= o.endOffset)) break;
    }
    await check();
    const dead = await deadLettered(engine);
    const deadList = await deadLetteredList(engine);
    assert.equal(deadList.length, dead.size, `seed ${seed}: a record is in the dead-letter topic twice: ${deadList.join(' ')}`);
    let delivered = 0;
    for (const [partition, count] of produced) {
      for (let offset = 0n; offset < BigInt(count); offset++) {
        const ok = acked.get(partition)!.has(offset) || dead.has(`${partition}/${offset}`);
        assert.ok(ok, `seed ${seed}: ${partition}@${offset} was neither delivered nor dead-lettered`);
        if (acked.get(partition)!.has(offset)) delivered++;
      }
    }
    return { delivered, deadLettered: dead.size, crashes, zombies };
  } finally {
    await backend.teardown();
  }
}

async function deadLetteredList(engine: Engine): Promise<string[]> {
  const out: string[] = [];
  let offset = 0n;
  for (;;) {
    const result = await engine.fetch('dlq', 0, { offset });
    for (const batch of result.batches) {
      for (const record of decodeRecordBatch(batch.bytes).records) {
        const headers = Object.fromEntries(record.headers.map((h) => [h.key, new TextDecoder().decode(h.value!)]));
        out.push(`${headers['sluice.partition']}/${headers['sluice.offset']}`);
      }
    }
    if (result.nextOffset <= offset || result.nextOffset >= result.highWatermark) return out;
    offset = result.nextOffset;
  }
}

async function deadLettered(engine: Engine): Promise<Set<string>> {
  return new Set(await deadLetteredList(engine));
}
