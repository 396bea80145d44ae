/**
 * Where a consumer's partitions and committed offsets come from. The consumer is written against this
 * interface only: the consumer group (group.ts: join, heartbeats, cooperative rebalances, fenced
 * commits over the /v1/groups routes) is one AssignmentSource, StaticAssignment another:
 *
 *   start()   hand the consumer its first partitions (handler.assign()), and keep them up to date in
 *             the background: on a rebalance, handler.revoke() (the consumer stops those partitions,
 *             waits for their running handlers and commits them), then handler.assign() for new ones
 *   commit()  store the consumer's positions (a group: with the member id and generation; a fenced
 *             member gets ILLEGAL_GENERATION). `final` marks the last commit of partitions being given
 *             up (on revoke, on stop): nothing will retry it
 *   heartbeat() what eachMessage's and eachBatch's heartbeat() call, for long-running handlers
 *   stop()    end the background work, call finalCommit (the consumer's last commit), then let go of the
 *             partitions (a group: leave)
 *
 * StaticAssignment gives the consumer every partition of its subscribed topics (or the ones it was
 * told) and keeps committed offsets in memory: they survive stop()/run() on the same consumer, not a
 * restart of the process. Give a groupId instead for offsets kept by the service.
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

export interface CommitOptions {
  /** The last commit of these partitions before they are given up (on revoke, on stop): nothing retries it. */
  readonly final?: boolean;
  readonly signal?: AbortSignal;
}

/** Who committed: what the consumer's commit events report. */
export interface CommitReceipt {
  readonly groupId: string | null;
  readonly memberId: string | null;
  readonly generation: number;
}

/** The consumer's last commit, made by the source's stop() before it lets the partitions go. */
export type FinalCommit = (signal?: AbortSignal) => Promise<void>;

export interface AssignmentSource {
  start(context: AssignmentContext, handler: AssignmentHandler): Promise<void>;
  /** Resolves with who committed, or undefined when there was nothing to commit. */
  commit(offsets: readonly TopicPartitionOffset[], options?: CommitOptions): Promise<CommitReceipt | undefined | void>;
  heartbeat?(): Promise<void>;
  /** The group's id and this member's, for events (absent without a group). */
  readonly groupId?: string;
  readonly membership?: { readonly memberId: string; readonly generation: number } | undefined;
  stop(finalCommit?: FinalCommit): Promise<void>;
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

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<CommitReceipt> {
    for (const o of offsets) this.#committed.set(partitionKey(o.topic, o.partition), { topic: o.topic, partition: o.partition, offset: o.offset });
    return { groupId: null, memberId: null, generation: -1 };
  }

  /** What has been committed so far. */
  committed(): TopicPartitionOffset[] {
    return [...this.#committed.values()];
  }

  async stop(finalCommit?: FinalCommit): Promise<void> {
    await finalCommit?.();
  }
}
