/**
 * The push-consumer side of a verification run: a push consumer on the verified topic delivers to an
 * in-process target that fails, answers partial failures, and takes records while answering as
 * failed; the dispatcher runs over the fault-injecting stores, is woken by the engine's append hook
 * (the local trigger), crashes or stalls at its named points (a crashed dispatcher is replaced, and
 * the new one fences it), and is healed at the end to drain. Recorded for the checker: every
 * delivery in order of arrival, what the target acknowledged, the dead letters, the final offsets.
 */
import { Groups } from '../lib/groups/groups.ts';
import type { Engine } from '../lib/log/engine.ts';
import { decodeRecordBatch } from '../lib/protocol/record-batch.ts';
import { LOCAL_URL_POLICY } from '../lib/push/config.ts';
import { PushConsumers } from '../lib/push/consumers.ts';
import { Dispatcher } from '../lib/push/dispatcher.ts';
import { consumerGroup } from '../lib/push/layout.ts';
import { AesGcmSecretBox } from '../lib/push/secrets.ts';
import type { DeliveryOutcome } from '../lib/push/targets.ts';
import { AppendFanout, localAppendSource } from '../lib/trigger/append-trigger.ts';
import { InjectedCrash, sleep, type FaultPlan } from './faults.ts';
import { GROUP_TOPIC_CHECK_MS } from './group-workload.ts';

export const PUSH_CONSUMER = 'verify-push';
export const DEAD_LETTER_TOPIC = 'verify-dlq';

export interface PushHistory {
  /** First deliveries that came out of offset order, per partition. */
  orderViolations: number;
  readonly acked: Map<number, Set<bigint>>;
  /** "partition/offset" of every record in the dead-letter topic, duplicates included. */
  readonly deadLetters: string[];
  readonly finalCommitted: Map<number, bigint>;
  deliveries: number;
  dispatchersReplaced: number;
  examples: string[];
}

export function emptyPushHistory(): PushHistory {
  return { orderViolations: 0, acked: new Map(), deadLetters: [], finalCommitted: new Map(), deliveries: 0, dispatchersReplaced: 0, examples: [] };
}

export async function startPush(options: { engine: Engine; setupEngine: Engine; plan: FaultPlan; random: () => number; topic: string; history: PushHistory }) {
  const { engine, setupEngine, plan, random, history } = options;
  await setupEngine.topics.create(DEAD_LETTER_TOPIC, 1, { retentionMs: -1 });
  const secrets = new AesGcmSecretBox(new Uint8Array(32).fill(7));
  const setup = new PushConsumers({ engine: setupEngine, groups: new Groups({ engine: setupEngine, topicCheckMs: GROUP_TOPIC_CHECK_MS }), secrets, urlPolicy: LOCAL_URL_POLICY });
  await setup.create({
    name: PUSH_CONSUMER,
    topics: [options.topic],
    target: { url: 'http://127.0.0.1:9/in-process' },
    // From "now", which is before anything is produced: the run's partitions start at 0 all the same,
    // and those added mid-run with nothing committed must be started at their log start by the group
    // (a dispatcher left to `latest` would skip their first records, and the checker would see them unhandled).
    startAt: 'latest',
    deadLetterTopic: DEAD_LETTER_TOPIC,
    batch: { maxRecords: 8 },
    retry: { maxAttempts: 4, bisectOnError: true, minBackoffMs: 5, maxBackoffMs: 40 },
    maxConcurrency: 4,
  });
  const groups = new Groups({ engine, topicCheckMs: GROUP_TOPIC_CHECK_MS });
  const consumers = new PushConsumers({ engine, groups, secrets, urlPolicy: LOCAL_URL_POLICY });
  let healed = false;
  const firstSeen = new Map<number, bigint>();
  const delivered = new Map<number, Set<bigint>>();
  const target = {
    async deliver(request: { body: string }): Promise<DeliveryOutcome> {
      const d = JSON.parse(request.body) as { partition: number; records: Array<{ offset: string }> };
      history.deliveries++;
      const offsets = d.records.map((r) => BigInt(r.offset));
      let seen = delivered.get(d.partition);
      if (!seen) delivered.set(d.partition, (seen = new Set()));
      for (const offset of offsets) {
        if (seen.has(offset)) continue;
        seen.add(offset);
        const last = firstSeen.get(d.partition);
        if (last !== undefined && offset < last) {
          history.orderViolations++;
          if (history.examples.length < 10) history.examples.push(`push: ${d.partition}@${offset} first delivered after ${last}`);
        }
        firstSeen.set(d.partition, offset);
      }
      const ack = (below: bigint) => {
        let set = history.acked.get(d.partition);
        if (!set) history.acked.set(d.partition, (set = new Set()));
        for (const o of offsets) if (o < below) set.add(o);
      };
      await sleep(Math.floor(random() * 3));
      const roll = healed ? 0 : random();
      if (roll < 0.6) {
        ack(offsets[offsets.length - 1] + 1n);
        return { kind: 'success' };
      }
      if (roll < 0.75) return { kind: 'failure', error: 'HTTP 503' };
      if (roll < 0.85) return { kind: 'failure', error: 'took the records, answered too late' };
      const firstFailed = offsets[Math.floor(random() * offsets.length)];
      ack(firstFailed);
      return { kind: 'partial', firstFailed };
    },
  };

  let current: Dispatcher;
  let crashed = false;
  const make = () =>
    new Dispatcher({
      engine,
      groups,
      consumers,
      targets: () => target,
      sessionTimeoutMs: 5000,
      logError: () => {},
      afterStep: async (step) => {
        if (healed) return;
        try {
          await plan.atPoint(`push.${step}`, step === 'delivered' || step === 'dead-letter-planned');
        } catch (error) {
          if (error instanceof InjectedCrash) crashed = true;
          throw error;
        }
      },
    });
  current = make();
  const fanout = new AppendFanout(() => {});
  fanout.subscribe((advanced) => current.wake(advanced));
  const unsubscribe = localAppendSource(engine, fanout);
  let stopped = false;
  // The safety net: due retries (the local server uses timers; a pass every few ms is the same here).
  const loop = (async () => {
    while (!stopped) {
      await current.runAll().catch(() => {});
      if (crashed) {
        crashed = false;
        history.dispatchersReplaced++;
        current = make();
      }
      await sleep(15);
    }
  })();

  return {
    /** Heals the target and the dispatcher, drains the consumer, and records the outcome. */
    async finish(healthy: Engine): Promise<void> {
      healed = true;
      stopped = true;
      await loop;
      unsubscribe();
      const drainer = new Dispatcher({ engine: healthy, groups: new Groups({ engine: healthy, topicCheckMs: GROUP_TOPIC_CHECK_MS }), consumers: new PushConsumers({ engine: healthy, groups: new Groups({ engine: healthy, topicCheckMs: GROUP_TOPIC_CHECK_MS }), secrets, urlPolicy: LOCAL_URL_POLICY }), targets: () => target, sessionTimeoutMs: 5000, logError: () => {} });
      const healthyGroups = new Groups({ engine: healthy, topicCheckMs: GROUP_TOPIC_CHECK_MS });
      for (let round = 0; round < 400; round++) {
        await drainer.runAll();
        await setup.resume(PUSH_CONSUMER).catch(() => {});
        const described = await healthyGroups.describe(consumerGroup(PUSH_CONSUMER));
        if (described.offsets.every((o) => o.committedOffset !== null && o.committedOffset >= o.endOffset)) break;
        await sleep(20);
      }
      for (const o of (await healthyGroups.describe(consumerGroup(PUSH_CONSUMER))).offsets) if (o.committedOffset !== null) history.finalCommitted.set(o.partition, o.committedOffset);
      let offset = 0n;
      for (;;) {
        const result = await healthy.fetch(DEAD_LETTER_TOPIC, 0, { offset });
        for (const batch of result.batches) {
          for (const record of decodeRecordBatch(batch.bytes).records) {
            const headers = Object.fromEntries(record.headers.map((h) => [h.key, new TextDecoder().decode(h.value!)]));
            history.deadLetters.push(`${headers['sluice.partition']}/${headers['sluice.offset']}`);
          }
        }
        if (result.nextOffset <= offset || result.nextOffset >= result.highWatermark) break;
        offset = result.nextOffset;
      }
    },
  };
}
