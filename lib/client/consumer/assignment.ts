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
 * restart of the process. Give a groupId instead for offsets kept by the service. Subscribed to whole
 * topics, it looks at their partition counts again every metadataMaxAgeMs and hands the consumer the
 * partitions added since, to be read from their log start (what was written there before it looked
 * was written for it: resetting them to the end would skip it, Kafka's KAFKA-12478).
 */
import { invalidArgument } from '../errors.ts';
import type { TopicPartition, TopicPartitionOffset } from '../types.ts';

export interface AssignedPartition extends TopicPartition {
  /** Where to resume (the next offset to consume), or null: start per subscribe's fromBeginning. */
  readonly committedOffset: string | null;
  /** With no committed offset: start at the log start whatever fromBeginning says (a partition added while the consumer ran). */
  readonly fromLogStart?: boolean;
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

export interface StaticAssignmentOptions {
  /** How long the partition counts of whole subscribed topics are used before they are looked at again (partitions added), in ms. @default 300000 (Kafka's metadata.max.age.ms) */
  readonly metadataMaxAgeMs?: number;
}

/** A StaticAssignment running on whole topics: what the consumer was handed, and how to hand it more. */
interface RunningOnTopics {
  readonly context: AssignmentContext;
  readonly handler: AssignmentHandler;
  /** Partitions handed per topic. */
  readonly counts: Map<string, number>;
  timer?: ReturnType<typeof setTimeout>;
}

/** Every partition of the subscribed topics, or exactly the given ones; offsets kept in memory. */
export class StaticAssignment implements AssignmentSource {
  readonly #partitions: readonly TopicPartition[] | undefined;
  readonly #metadataMaxAgeMs: number;
  readonly #committed = new Map<string, TopicPartitionOffset>();
  #running: RunningOnTopics | undefined;
  #looking: Promise<void> = Promise.resolve();

  constructor(partitions?: readonly TopicPartition[], options: StaticAssignmentOptions = {}) {
    this.#partitions = partitions?.map(({ topic, partition }) => ({ topic, partition }));
    this.#metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    if (!Number.isInteger(this.#metadataMaxAgeMs) || this.#metadataMaxAgeMs < 1) throw invalidArgument(`metadataMaxAgeMs must be a positive integer, got ${this.#metadataMaxAgeMs}`);
  }

  async start(context: AssignmentContext, handler: AssignmentHandler): Promise<void> {
    if (this.#partitions) {
      const partitions = this.#partitions.filter((tp) => context.topics.includes(tp.topic));
      await handler.assign(partitions.map((tp) => ({ ...tp, committedOffset: this.#committedOffset(tp) })));
      return;
    }
    const running: RunningOnTopics = { context, handler, counts: new Map() };
    this.#running = running;
    await this.#assignFrom(running, false);
    const schedule = () => {
      if (context.signal.aborted || this.#running !== running) return;
      running.timer = setTimeout(() => void this.checkPartitions().catch(() => {}).finally(schedule), this.#metadataMaxAgeMs);
      running.timer.unref?.();
    };
    schedule();
    context.signal.addEventListener('abort', () => clearTimeout(running.timer), { once: true });
  }

  /**
   * Looks at the subscribed topics' partition counts now (the consumer does so every
   * metadataMaxAgeMs) and hands the consumer the partitions added since, from their log start.
   */
  checkPartitions(): Promise<void> {
    // One look at a time: two at once would hand the consumer the same added partitions twice.
    const look = this.#looking.then(async () => {
      const running = this.#running;
      if (running && !running.context.signal.aborted) await this.#assignFrom(running, true);
    });
    this.#looking = look.catch(() => {});
    return look;
  }

  /** Hands the consumer the partitions of its topics past what it was handed (`added`: from their log start). */
  async #assignFrom(running: RunningOnTopics, added: boolean): Promise<void> {
    const partitions: AssignedPartition[] = [];
    for (const topic of running.context.topics) {
      const count = await running.context.partitionCount(topic);
      for (let partition = running.counts.get(topic) ?? 0; partition < count; partition++) {
        partitions.push({ topic, partition, committedOffset: this.#committedOffset({ topic, partition }), ...(added ? { fromLogStart: true } : {}) });
      }
      running.counts.set(topic, Math.max(count, running.counts.get(topic) ?? 0));
    }
    if (partitions.length > 0 || !added) await running.handler.assign(partitions);
  }

  #committedOffset(tp: TopicPartition): string | null {
    return this.#committed.get(partitionKey(tp.topic, tp.partition))?.offset ?? null;
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
    clearTimeout(this.#running?.timer);
    this.#running = undefined;
    await finalCommit?.();
  }
}
