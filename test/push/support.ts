/** Shared pieces of the push-consumer tests: a scriptable target, a dispatcher over a backend, produce helpers. */
import { randomBytes } from 'node:crypto';
import { Engine } from '../../lib/log/engine.ts';
import { Groups } from '../../lib/groups/groups.ts';
import { encodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { LOCAL_URL_POLICY, type CreateConsumerRequest } from '../../lib/push/config.ts';
import { PushConsumers } from '../../lib/push/consumers.ts';
import { Dispatcher, type DispatcherOptions } from '../../lib/push/dispatcher.ts';
import { AesGcmSecretBox } from '../../lib/push/secrets.ts';
import type { DeliveryOutcome, DeliveryRequest, DeliveryTarget } from '../../lib/push/targets.ts';
import type { MetadataStore, ObjectStore } from '../../lib/storage/ports.ts';
import { ManualClock } from '../support/clock.ts';

export interface Delivered {
  readonly consumer: string;
  readonly topic: string;
  readonly partition: number;
  readonly batchId: string;
  readonly attempt: number;
  readonly records: Array<{ offset: string; timestamp: number; key: string | null; value: string | null; headers: Record<string, string> }>;
}

export type Script = (delivery: Delivered, request: DeliveryRequest) => DeliveryOutcome | Promise<DeliveryOutcome>;

/** A target that records every delivery and answers what the script says (success by default). */
export class ScriptedTarget implements DeliveryTarget {
  readonly deliveries: Delivered[] = [];
  script: Script;
  constructor(script: Script = () => ({ kind: 'success' })) {
    this.script = script;
  }
  async deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    const delivery = JSON.parse(request.body) as Delivered;
    this.deliveries.push(delivery);
    return this.script(delivery, request);
  }
  offsets(partition: number): bigint[] {
    return this.deliveries.filter((d) => d.partition === partition).flatMap((d) => d.records.map((r) => BigInt(r.offset)));
  }
}

const text = new TextEncoder();

export async function produceValues(engine: Engine, topic: string, partition: number, values: readonly string[], timestamp: number): Promise<void> {
  const records = values.map((value, i) => ({ key: text.encode(`k-${value}`), value: text.encode(value), headers: [], timestamp: timestamp + i }));
  await engine.produce(topic, [{ partition, data: encodeRecordBatch(records, { codec: 'none' }), recordCount: records.length, maxTimestamp: timestamp + values.length - 1 }]);
}

export interface PushWorld {
  readonly clock: ManualClock;
  readonly engine: Engine;
  readonly groups: Groups;
  readonly consumers: PushConsumers;
  readonly target: ScriptedTarget;
  readonly wakes: number[];
  dispatcher(options?: Partial<DispatcherOptions>): Dispatcher;
}

export function pushWorld(stores: { objects: ObjectStore; metadata: MetadataStore }, clock = new ManualClock()): PushWorld {
  const engine = new Engine({ objects: stores.objects, metadata: stores.metadata, now: clock.now, topicCacheMs: 0 });
  const groups = new Groups({ engine, now: clock.now });
  const consumers = new PushConsumers({ engine, groups, secrets: new AesGcmSecretBox(randomBytes(32)), urlPolicy: LOCAL_URL_POLICY, now: clock.now });
  const target = new ScriptedTarget();
  const wakes: number[] = [];
  return {
    clock,
    engine,
    groups,
    consumers,
    target,
    wakes,
    dispatcher: (options = {}) =>
      new Dispatcher({ engine, groups, consumers, targets: () => target, now: clock.now, random: () => 0.5, scheduleWake: (_c, at) => wakes.push(at), ...options }),
  };
}

export function consumerRequest(name: string, topics: string[], extra: Partial<CreateConsumerRequest> = {}): CreateConsumerRequest {
  return { name, topics, target: { url: 'http://127.0.0.1:9/unused' }, startAt: 'earliest', ...extra };
}
