/**
 * The consumer's instrumentation events, KafkaJS style: `consumer.on(consumer.events.GROUP_JOIN, (event) => ...)`.
 * Every listener gets `{ id, type, timestamp, payload }`; a listener that throws is logged and
 * never disturbs consuming. Payloads (offsets are decimal strings, durations milliseconds):
 *
 *   consumer.group_join            { groupId, memberId, generation, duration, memberAssignment, revoking, pending }
 *                                  (topic → partitions: what this member reads, gives up, waits for)
 *   consumer.heartbeat             { groupId, memberId, generation }
 *   consumer.rebalancing           { groupId, memberId, generation, revoking, lost }
 *                                  (partitions this member stops: moving away after a last commit, or lost to a fence)
 *   consumer.commit_offsets        { groupId, memberId, generation, topics: [{ topic, partitions: [{ partition, offset }] }] }
 *   consumer.commit_offsets_failed { ..., error, final }: a commit that did not land; `final` when nothing
 *                                  will retry it (commit on revoke, on stop): that progress is processed again
 *   consumer.fetch                 { topic, partition, numberOfBatches, numberOfRecords, duration, direct }
 *   consumer.start_batch_process   { topic, partition, highWatermark, offsetLag, offsetLagLow, batchSize, firstOffset, lastOffset }
 *   consumer.end_batch_process     the same, and duration
 *   consumer.crash                 { error, groupId, restart: false }
 *   consumer.stop                  {}
 *   consumer.disconnect            {}
 *
 * `groupId` and `memberId` are null without a consumer group; the legacy name 'crash' is
 * 'consumer.crash' with the error also at the top of the event (`({ error }) => ...`).
 */
import type { Logger, TopicPartition } from '../types.ts';

export const CONSUMER_EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  HEARTBEAT: 'consumer.heartbeat',
  REBALANCING: 'consumer.rebalancing',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  COMMIT_OFFSETS_FAILED: 'consumer.commit_offsets_failed',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CRASH: 'consumer.crash',
  STOP: 'consumer.stop',
  DISCONNECT: 'consumer.disconnect',
} as const;

/** topic → partitions, sorted (KafkaJS's memberAssignment shape). */
export type PartitionsByTopic = Record<string, number[]>;

export interface GroupIdentity {
  readonly groupId: string | null;
  readonly memberId: string | null;
  readonly generation: number;
}

export interface CommittedTopics {
  readonly topics: Array<{ readonly topic: string; readonly partitions: Array<{ readonly partition: number; readonly offset: string }> }>;
}

export interface BatchProcessPayload {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string;
  readonly offsetLag: string;
  readonly offsetLagLow: string;
  readonly batchSize: number;
  readonly firstOffset: string | null;
  readonly lastOffset: string;
}

export interface ConsumerEventPayloads {
  'consumer.group_join': GroupIdentity & {
    readonly duration: number;
    readonly memberAssignment: PartitionsByTopic;
    readonly revoking: PartitionsByTopic;
    readonly pending: PartitionsByTopic;
  };
  'consumer.heartbeat': GroupIdentity;
  'consumer.rebalancing': GroupIdentity & { readonly revoking: PartitionsByTopic; readonly lost: PartitionsByTopic };
  'consumer.commit_offsets': GroupIdentity & CommittedTopics;
  'consumer.commit_offsets_failed': GroupIdentity & CommittedTopics & { readonly error: unknown; readonly final: boolean };
  'consumer.fetch': {
    readonly topic: string;
    readonly partition: number;
    readonly numberOfBatches: number;
    readonly numberOfRecords: number;
    readonly duration: number;
    readonly direct: boolean;
  };
  'consumer.start_batch_process': BatchProcessPayload;
  'consumer.end_batch_process': BatchProcessPayload & { readonly duration: number };
  'consumer.crash': { readonly error: unknown; readonly groupId: string | null; readonly restart: false };
  'consumer.stop': Record<string, never>;
  'consumer.disconnect': Record<string, never>;
}

export type ConsumerEventType = keyof ConsumerEventPayloads;

export interface InstrumentationEvent<T extends ConsumerEventType = ConsumerEventType> {
  readonly id: number;
  readonly type: T;
  readonly timestamp: number;
  readonly payload: ConsumerEventPayloads[T];
}

/** What a legacy 'crash' listener gets: the crash event with its error at the top. */
export type CrashEvent = InstrumentationEvent<'consumer.crash'> & { readonly error: unknown };

type Listener = (event: InstrumentationEvent) => void;

export function byTopic(partitions: Iterable<TopicPartition>): PartitionsByTopic {
  const out: PartitionsByTopic = {};
  for (const { topic, partition } of partitions) (out[topic] ??= []).push(partition);
  for (const list of Object.values(out)) list.sort((a, b) => a - b);
  return out;
}

export function committedTopics(offsets: Iterable<{ topic: string; partition: number; offset: string }>): CommittedTopics['topics'] {
  const topics = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of offsets) {
    let list = topics.get(topic);
    if (!list) topics.set(topic, (list = []));
    list.push({ partition, offset });
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a.partition - b.partition) }));
}

export class ConsumerEvents {
  readonly #listeners = new Map<string, Listener[]>();
  readonly #logger: Logger;
  #nextId = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on(type: string, listener: Listener): () => void {
    let list = this.#listeners.get(type);
    if (!list) this.#listeners.set(type, (list = []));
    list.push(listener);
    return () => {
      const current = this.#listeners.get(type) ?? [];
      const i = current.indexOf(listener);
      if (i >= 0) current.splice(i, 1);
    };
  }

  /** Whether anyone listens (so payloads that cost something are built only when wanted). */
  wanted(type: ConsumerEventType): boolean {
    return (this.#listeners.get(type)?.length ?? 0) > 0 || (type === CONSUMER_EVENTS.CRASH && (this.#listeners.get('crash')?.length ?? 0) > 0);
  }

  emit<T extends ConsumerEventType>(type: T, payload: ConsumerEventPayloads[T]): void {
    if (!this.wanted(type)) return;
    const event: InstrumentationEvent<T> = { id: this.#nextId++, type, timestamp: Date.now(), payload };
    this.#deliver(type, event);
    if (type === CONSUMER_EVENTS.CRASH) {
      const crash: CrashEvent = { ...(event as InstrumentationEvent<'consumer.crash'>), error: (payload as ConsumerEventPayloads['consumer.crash']).error };
      this.#deliver('crash', crash);
    }
  }

  #deliver(type: string, event: InstrumentationEvent): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.warn(`a ${type} listener threw`, { error: String(error) });
      }
    }
  }
}
