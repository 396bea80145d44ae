/**
 * Where a consumer's partitions and committed offsets come from. The consumer is written against this
 * interface only, so a consumer-group coordinator (join, heartbeat, rebalance, fenced commits: the
 * /v1/groups routes of the API contract) plugs in as another AssignmentSource:
 *
 *   start()   join the group; call handler.assign() with the first assignment; keep heartbeating in
 *             the background; on a rebalance call handler.revoke() (the consumer stops reading those
 *             partitions, waits for running handlers and commits), rejoin, then handler.assign() again
 *   commit()  commit with the member id and generation; a fenced member gets ILLEGAL_GENERATION
 *   heartbeat() what eachBatch's heartbeat() calls, for long-running handlers
 *   stop()    leave the group
 *
 * Until consumer groups exist, StaticAssignment gives the consumer every partition of its subscribed
 * topics (or the ones it was told) and keeps committed offsets in memory: they survive stop()/run()
 * on the same consumer, not a restart of the process.
 */
import type { TopicPartition, TopicPartitionOffset } from '../types.ts';

export interface AssignedPartition extends TopicPartition {
  /** Where to resume (the next offset to consume), or null: start per subscribe's fromBeginning. */
  readonly committedOffset: string | null;
}

export interface AssignmentContext {
  /** Subscribed topic names (patterns already resolved). */
  readonly topics: readonly string[];
  /** Partition count of a topic. */
  partitionCount(topic: string): Promise<number>;
  readonly signal: AbortSignal;
}

export interface AssignmentHandler {
  /** Start reading these partitions (in addition to any already assigned). */
  assign(partitions: readonly AssignedPartition[]): Promise<void>;
  /** Stop reading these partitions; resolves once their handlers have finished and offsets are committed. */
  revoke(partitions: readonly TopicPartition[]): Promise<void>;
  /** The source cannot go on (e.g. it was fenced and cannot rejoin): the consumer crashes with this error. */
  fail(error: unknown): void;
}

export interface AssignmentSource {
  start(context: AssignmentContext, handler: AssignmentHandler): Promise<void>;
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  heartbeat?(): Promise<void>;
  stop(): Promise<void>;
}

export const partitionKey = (topic: string, partition: number): string => `${partition}:${topic}`;

/** Every partition of the subscribed topics, or exactly the given ones; offsets kept in memory. */
export class StaticAssignment implements AssignmentSource {
  readonly #partitions: readonly TopicPartition[] | undefined;
  readonly #committed = new Map<string, TopicPartitionOffset>();

  constructor(partitions?: readonly TopicPartition[]) {
    this.#partitions = partitions?.map(({ topic, partition }) => ({ topic, partition }));
  }

  async start(context: AssignmentContext, handler: AssignmentHandler): Promise<void> {
    let partitions: TopicPartition[];
    if (this.#partitions) {
      partitions = this.#partitions.filter((tp) => context.topics.includes(tp.topic));
    } else {
      partitions = [];
      for (const topic of context.topics) {
        const count = await context.partitionCount(topic);
        for (let partition = 0; partition < count; partition++) partitions.push({ topic, partition });
      }
    }
    await handler.assign(
      partitions.map((tp) => ({ ...tp, committedOffset: this.#committed.get(partitionKey(tp.topic, tp.partition))?.offset ?? null })),
    );
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    for (const o of offsets) this.#committed.set(partitionKey(o.topic, o.partition), { topic: o.topic, partition: o.partition, offset: o.offset });
  }

  /** What has been committed so far. */
  committed(): TopicPartitionOffset[] {
    return [...this.#committed.values()];
  }

  async stop(): Promise<void> {}
}
