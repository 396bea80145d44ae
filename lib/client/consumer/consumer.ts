/**
 * The consumer: reads its assigned partitions in parallel, straight from the object store by default.
 *
 * Per partition a stream keeps a position (the next offset to hand to the application, what gets
 * committed) and a fetch offset (the next offset to read). Reading runs ahead of processing by one
 * response: while the application processes a batch, the next range is already being read
 * (prefetch). Up to maxInFlightFetches reads run at once across partitions; a partition that has
 * caught up long-polls (maxWaitMs). Up to partitionsConsumedConcurrently partitions are processed at
 * once, each partition strictly in offset order.
 *
 * A handler that throws gets its records again from the first unprocessed one, after a backoff; when
 * the retries run out the consumer crashes ('crash' listeners, logger.error) and stops. Reads retry
 * retriable errors forever (with backoff); a read that fails for good (topic deleted, no permission)
 * crashes the consumer too.
 *
 * Partitions and committed offsets come from an AssignmentSource (assignment.ts): with a groupId, the
 * consumer group (group.ts: join, heartbeats, cooperative rebalances, fenced commits, leave); without
 * one, every partition of the subscribed topics with offsets kept in memory.
 *
 * Split as KafkaJS splits its consumer: this file is the facade (subscribe, run, stop, seek, pause,
 * commits, assignment); fetcher.ts reads (one stream per partition); runner.ts hands chunks to the
 * handlers; message.ts makes the messages and batches they get.
 */
import { LIMITS } from '../../api/limits.ts';
import type { ClientContext } from '../context.ts';
import { invalidArgument, isAbort, isRetriable, SluiceClientError } from '../errors.ts';
import type { TopicDescription } from '../protocol/api.ts';
import { retryPolicy, withRetry, type RetryOptions, type RetryPolicy } from '../retry/retry.ts';
import { Signal } from '../util/async.ts';
import type { KafkaMessage, TopicPartition, TopicPartitionOffset } from '../types.ts';
import { partitionKey, StaticAssignment, type AssignedPartition, type AssignmentSource, type CommitOptions } from './assignment.ts';
import {
  committedTopics,
  CONSUMER_EVENTS,
  ConsumerEvents,
  type ConsumerEventType,
  type CrashEvent,
  type InstrumentationEvent,
} from './events.ts';
import type { ChannelOptions } from './channel.ts';
import { Fetcher, PartitionStream } from './fetcher.ts';
import { GroupAssignment, type GroupMembershipOptions } from './group.ts';
import { parseOffset, type Batch } from './message.ts';
import { PartitionReader, type ReaderStats } from './reader.ts';
import { Runner, type ResolvedRunOptions } from './runner.ts';

export type { Batch } from './message.ts';

/** The group fields (sessionTimeoutMs, instanceId, …) apply only with a groupId. */
export interface ConsumerOptions extends GroupMembershipOptions {
  /**
   * Join this consumer group: the group shares the subscribed topics' partitions among its members and
   * keeps their committed offsets. Without it the consumer reads every partition and keeps its own offsets.
   */
  readonly groupId?: string;
  /** Where partitions and committed offsets come from. @default the group with groupId, else new StaticAssignment(): every partition of the subscribed topics */
  readonly assignmentSource?: AssignmentSource;
  /**
   * Without a group: how long the subscribed topics' partition counts are used before the consumer
   * looks at them again, and reads partitions added since from their log start (a group takes added
   * partitions in on the server's side). @default 300000
   */
  readonly metadataMaxAgeMs?: number;
  /** Largest read per partition and request, in bytes of stored (compressed) batches; at least one batch is always returned. @default 1 MiB */
  readonly maxBytesPerPartition?: number;
  /** How long a read at the end of a partition waits for new records (long poll), in ms. @default 5000 */
  readonly maxWaitMs?: number;
  /** Read straight from the object store through presigned ranged GETs. @default true */
  readonly directReads?: boolean;
  /** Check each batch's CRC-32C. @default true */
  readonly checkCrcs?: boolean;
  /** Reads in flight at once across partitions. @default 32 on Node, 4 in browsers */
  readonly maxInFlightFetches?: number;
  /** Ranged GETs of one read in flight at once. @default 8 */
  readonly rangeConcurrency?: number;
  /** After a failed presigned GET, read through the API for this long, in ms. @default 60000 */
  readonly directReadsRetryMs?: number;
  /** Overrides the client's retry settings (reads, and re-delivery after a handler error). */
  readonly retry?: RetryOptions;
  /**
   * Wait at the end of the log on the notification channel that `GET /v1/health` names, instead of
   * long polls: an idle partition sends no request until records come. Without a channel (or when it
   * is lost) the consumer long-polls. @default true
   */
  readonly notifications?: boolean;
  /**
   * While the channel is up, check idle partitions this often anyway (one request per topic), in ms:
   * it bounds how late a record is seen if a notification is lost while the connection stays up (a
   * lost connection is noticed at once and checked on re-subscribing). Each check costs about $2.7
   * per million in AWS: every 5 minutes ≈ $0.02 a month per topic, every 30 s ≈ $0.20. @default 300000
   */
  readonly safetyPollMs?: number;
  /** Reconnect, keep-alive and connect timings of the channel (channel.ts). */
  readonly notificationChannel?: ChannelOptions;
}

export interface SubscribeOptions {
  readonly topics?: ReadonlyArray<string | RegExp>;
  readonly topic?: string | RegExp;
  /** Where to start a partition that has no committed offset: the earliest offset, or the end. @default false */
  readonly fromBeginning?: boolean;
}

export interface EachMessagePayload {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
  heartbeat(): Promise<void>;
  /** Pauses this partition after this message; returns a function that resumes it. */
  pause(): () => void;
}

export interface EachBatchPayload {
  readonly batch: Batch;
  /** Marks offset as processed: the position (and the next commit) moves to offset + 1. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(offsets?: readonly TopicPartitionOffset[]): Promise<void>;
  uncommittedOffsets(): TopicPartitionOffset[];
  isRunning(): boolean;
  /** True once a seek, pause, revoke or stop made the rest of this batch stale. */
  isStale(): boolean;
  pause(): () => void;
}

export interface RunOptions {
  readonly eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  readonly eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Partitions whose handlers run at the same time. @default 1 */
  readonly partitionsConsumedConcurrently?: number;
  /** After eachBatch returns, mark the whole batch processed. @default true */
  readonly eachBatchAutoResolve?: boolean;
  /** Commit positions periodically and on stop. @default true */
  readonly autoCommit?: boolean;
  /** @default 5000 */
  readonly autoCommitIntervalMs?: number;
}

/** seek() target: an offset, 'earliest' / 'latest' (or Kafka's -2 / -1), or a timestamp. */
export interface SeekTarget {
  readonly topic: string;
  readonly partition: number;
  readonly offset?: string | bigint | number | 'earliest' | 'latest';
  /** Milliseconds since the epoch: seek to the first offset with a timestamp at or after it. */
  readonly timestamp?: number;
}

type ResolvedTarget = { kind: 'offset'; offset: bigint } | { kind: 'earliest' } | { kind: 'latest' } | { kind: 'timestamp'; timestamp: number };

/** An event name of CONSUMER_EVENTS (events.ts), or 'crash' (the same as 'consumer.crash'). */
export type ConsumerEvent = ConsumerEventType | 'crash';

export const CONSUMER_DEFAULTS = {
  maxBytesPerPartition: 1024 * 1024,
  maxWaitMs: 5000,
  notifications: true,
  safetyPollMs: 300_000,
  directReads: true,
  checkCrcs: true,
  rangeConcurrency: 8,
  directReadsRetryMs: 60_000,
  partitionsConsumedConcurrently: 1,
  autoCommitIntervalMs: 5000,
} as const;

export class Consumer {
  readonly #context: ClientContext;
  readonly #source: AssignmentSource;
  readonly #retry: RetryPolicy;
  readonly #reader: PartitionReader;
  readonly #maxInFlightFetches: number;
  #topics: Array<string | RegExp> = [];
  #fromBeginning = false;
  readonly #streams = new Map<string, PartitionStream>();
  readonly #pendingSeeks = new Map<string, ResolvedTarget>();
  readonly #pausedTopics = new Set<string>();
  readonly #pausedPartitions = new Set<string>();
  readonly #events: ConsumerEvents;
  readonly #signal = new Signal();
  #running = false;
  #stopping: Promise<void> | null = null;
  #run: ResolvedRunOptions = {
    partitionsConsumedConcurrently: 1,
    eachBatchAutoResolve: true,
    autoCommit: true,
    autoCommitIntervalMs: CONSUMER_DEFAULTS.autoCommitIntervalMs,
  };
  #runAbort: AbortController | null = null;
  readonly #fetcher: Fetcher;
  #workers: Promise<void>[] = [];
  #commitTimer: ReturnType<typeof setInterval> | undefined;
  #committing: Promise<void> | null = null;

  constructor(context: ClientContext, options: ConsumerOptions = {}) {
    if (options.groupId !== undefined && options.assignmentSource !== undefined) throw invalidArgument('give groupId or assignmentSource, not both');
    this.#context = context;
    this.#retry = retryPolicy(options.retry, context.retry);
    this.#events = new ConsumerEvents(context.logger);
    this.#source =
      options.assignmentSource ??
      (options.groupId === undefined
        ? new StaticAssignment(undefined, { metadataMaxAgeMs: options.metadataMaxAgeMs })
        : new GroupAssignment(context, { ...options, groupId: options.groupId, retry: this.#retry, events: this.#events }));
    const maxBytes = options.maxBytesPerPartition ?? CONSUMER_DEFAULTS.maxBytesPerPartition;
    const maxWaitMs = options.maxWaitMs ?? CONSUMER_DEFAULTS.maxWaitMs;
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw invalidArgument(`maxBytesPerPartition must be a positive integer, got ${maxBytes}`);
    if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > LIMITS.maxWaitMs) throw invalidArgument(`maxWaitMs must be an integer from 0 to ${LIMITS.maxWaitMs}, got ${maxWaitMs}`);
    const safetyPollMs = options.safetyPollMs ?? CONSUMER_DEFAULTS.safetyPollMs;
    if (!Number.isInteger(safetyPollMs) || safetyPollMs < 10) throw invalidArgument(`safetyPollMs must be an integer of at least 10, got ${safetyPollMs}`);
    this.#maxInFlightFetches = options.maxInFlightFetches ?? context.runtime.maxInFlightFetches;
    if (!Number.isInteger(this.#maxInFlightFetches) || this.#maxInFlightFetches < 1) throw invalidArgument('maxInFlightFetches must be a positive integer');
    this.#reader = new PartitionReader(context, {
      maxBytes,
      maxWaitMs,
      directReads: options.directReads ?? CONSUMER_DEFAULTS.directReads,
      checkCrcs: options.checkCrcs ?? CONSUMER_DEFAULTS.checkCrcs,
      rangeConcurrency: options.rangeConcurrency ?? CONSUMER_DEFAULTS.rangeConcurrency,
      directReadsRetryMs: options.directReadsRetryMs ?? CONSUMER_DEFAULTS.directReadsRetryMs,
    });
    this.#fetcher = new Fetcher({
      context,
      reader: this.#reader,
      retry: this.#retry,
      events: this.#events,
      signal: this.#signal,
      maxInFlightFetches: this.#maxInFlightFetches,
      maxWaitMs,
      notifications: (options.notifications ?? CONSUMER_DEFAULTS.notifications) && { ...options.notificationChannel, safetyPollMs },
      host: {
        running: () => this.#running,
        streams: () => this.#streams.values(),
        isPaused: (stream) => this.#isPaused(stream),
        reposition: (stream, offset) => this.#reposition(stream, offset),
        crash: (error) => this.#crash(error),
      },
    });
  }

  /** Nothing to open; checks the endpoint and the API key. */
  async connect(): Promise<void> {
    await this.#context.api.listTopics();
  }

  async subscribe(options: SubscribeOptions): Promise<void> {
    if (this.#running) throw invalidArgument('subscribe() before run()');
    const topics = [...(options.topics ?? []), ...(options.topic === undefined ? [] : [options.topic])];
    if (topics.length === 0) throw invalidArgument('subscribe() needs topic or topics');
    for (const t of topics) if (typeof t !== 'string' && !(t instanceof RegExp)) throw invalidArgument('topics are names or regular expressions');
    this.#topics.push(...topics);
    this.#fromBeginning = options.fromBeginning ?? false;
  }

  /** Starts consuming in the background; resolves once the partitions are assigned and reading. */
  async run(options: RunOptions): Promise<void> {
    if (this.#running) throw invalidArgument('the consumer is already running');
    if (this.#topics.length === 0) throw invalidArgument('subscribe() before run()');
    if (!options?.eachMessage === !options?.eachBatch) throw invalidArgument('run() needs exactly one of eachMessage or eachBatch');
    const concurrency = options.partitionsConsumedConcurrently ?? CONSUMER_DEFAULTS.partitionsConsumedConcurrently;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidArgument('partitionsConsumedConcurrently must be a positive integer');
    this.#run = {
      eachMessage: options.eachMessage,
      eachBatch: options.eachBatch,
      partitionsConsumedConcurrently: concurrency,
      eachBatchAutoResolve: options.eachBatchAutoResolve ?? true,
      autoCommit: options.autoCommit ?? true,
      autoCommitIntervalMs: options.autoCommitIntervalMs ?? CONSUMER_DEFAULTS.autoCommitIntervalMs,
    };
    if (this.#stopping) await this.#stopping;
    this.#running = true;
    this.#runAbort = new AbortController();
    const signal = this.#runAbort.signal;
    try {
      const topics = await this.#resolveTopics();
      await this.#source.start(
        { topics, signal, partitionCount: async (topic) => (await this.#describe(topic, signal)).partitions.length },
        {
          assign: (partitions) => this.#assign(partitions),
          revoke: (partitions) => this.#revoke(partitions),
          fail: (error) => this.#crash(error),
        },
      );
    } catch (error) {
      // stop() or disconnect() while the group was being joined: run() ends as stopped, not as failed
      if (signal.aborted) return;
      this.#running = false;
      this.#runAbort = null;
      throw error;
    }
    // stopped while joining: stop() has cleaned up; start nothing that would outlive it
    if (signal.aborted) return;
    const runner = new Runner({
      context: this.#context,
      options: this.#run,
      retry: this.#retry,
      events: this.#events,
      signal: this.#signal,
      host: {
        running: () => this.#running,
        streams: () => this.#streams.values(),
        isPaused: (stream) => this.#isPaused(stream),
        reposition: (stream, offset) => this.#reposition(stream, offset),
        pump: () => this.#pump(),
        pause: (topics) => this.pause(topics),
        resume: (topics) => this.resume(topics),
        heartbeat: async () => {
          await this.#source.heartbeat?.();
        },
        commitOffsets: (offsets) => this.commitOffsets(offsets),
        commitPositions: () => this.#commitPositions(),
        uncommittedOffsets: () => this.uncommittedOffsets(),
        crash: (error) => this.#crash(error),
      },
    });
    this.#workers = runner.start();
    if (this.#run.autoCommit && this.#run.autoCommitIntervalMs > 0) {
      this.#commitTimer = setInterval(() => void this.#commitPositions().catch(() => {}), this.#run.autoCommitIntervalMs); // surfaced there
    }
    this.#fetcher.start();
    this.#pump();
  }

  /** Stops consuming: waits for running handlers, commits (autoCommit), keeps the subscription. */
  async stop(): Promise<void> {
    if (!this.#running) return this.#stopping ?? undefined;
    this.#running = false;
    this.#stopping = (async () => {
      this.#runAbort?.abort();
      clearInterval(this.#commitTimer);
      this.#fetcher.stop();
      this.#signal.notify();
      await Promise.allSettled(this.#workers);
      this.#workers = [];
      // The source makes room for the last commit (a group member catches up if a rebalance is under way), then lets go.
      const finalCommit = async (deadline?: AbortSignal) => {
        if (this.#run.autoCommit) await this.#commitPositions(this.#streams.values(), { final: true, signal: deadline }).catch(() => {}); // surfaced there
      };
      await this.#source.stop(finalCommit).catch((error) => this.#context.logger.warn('stopping the assignment source failed', { error: String(error) }));
      this.#streams.clear();
      this.#events.emit(CONSUMER_EVENTS.STOP, {});
    })();
    try {
      await this.#stopping;
    } finally {
      this.#stopping = null;
    }
  }

  /** stop(), and forget the subscription. */
  async disconnect(): Promise<void> {
    await this.stop();
    this.#topics = [];
    this.#events.emit(CONSUMER_EVENTS.DISCONNECT, {});
  }

  /** The event names, as KafkaJS's `consumer.events` (GROUP_JOIN, REBALANCING, COMMIT_OFFSETS, FETCH, CRASH, STOP, …). */
  get events(): typeof CONSUMER_EVENTS {
    return CONSUMER_EVENTS;
  }

  /** Listens to an instrumentation event (payloads in events.ts); returns a function that removes the listener. */
  on(event: 'crash', listener: (event: CrashEvent) => void): () => void;
  on<T extends ConsumerEventType>(event: T, listener: (event: InstrumentationEvent<T>) => void): () => void;
  on(event: ConsumerEvent, listener: (event: never) => void): () => void {
    if (event !== 'crash' && !(Object.values(CONSUMER_EVENTS) as string[]).includes(event)) throw invalidArgument(`unknown event ${String(event)}`);
    return this.#events.on(event, listener as (event: InstrumentationEvent) => void);
  }

  /**
   * Moves a partition's position. Before the partition is assigned (or before run()), the seek is
   * remembered and wins over the committed offset.
   */
  async seek(target: SeekTarget): Promise<void> {
    const resolved = this.#parseTarget(target);
    const key = partitionKey(target.topic, target.partition);
    const stream = this.#streams.get(key);
    if (!stream) {
      this.#pendingSeeks.set(key, resolved);
      return;
    }
    const offset = await this.#resolveTarget(target.topic, target.partition, resolved);
    this.#reposition(stream, offset);
  }

  pause(topics: ReadonlyArray<{ topic: string; partitions?: readonly number[] }>): void {
    for (const { topic, partitions } of topics) {
      if (partitions === undefined) this.#pausedTopics.add(topic);
      else for (const p of partitions) this.#pausedPartitions.add(partitionKey(topic, p));
    }
  }

  resume(topics: ReadonlyArray<{ topic: string; partitions?: readonly number[] }>): void {
    for (const { topic, partitions } of topics) {
      if (partitions === undefined) {
        this.#pausedTopics.delete(topic);
        for (const key of [...this.#pausedPartitions]) if (key.slice(key.indexOf(':') + 1) === topic) this.#pausedPartitions.delete(key);
      } else {
        for (const p of partitions) this.#pausedPartitions.delete(partitionKey(topic, p));
      }
    }
    this.#signal.notify();
    this.#pump();
  }

  paused(): Array<{ topic: string; partitions: number[] }> {
    const byTopic = new Map<string, Set<number>>();
    for (const stream of this.#streams.values()) {
      if (this.#isPaused(stream)) {
        if (!byTopic.has(stream.topic)) byTopic.set(stream.topic, new Set());
        byTopic.get(stream.topic)!.add(stream.partition);
      }
    }
    for (const key of this.#pausedPartitions) {
      const colon = key.indexOf(':');
      const topic = key.slice(colon + 1);
      if (!byTopic.has(topic)) byTopic.set(topic, new Set());
      byTopic.get(topic)!.add(Number(key.slice(0, colon)));
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
  }

  /** Commits the given offsets (the next offset to consume per partition). */
  async commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const normalized = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: parseOffset(o.offset, 'offset').toString() }));
    const receipt = await withRetry(this.#retry, () => this.#source.commit(normalized));
    if (receipt) this.#events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, { ...receipt, topics: committedTopics(normalized) });
    for (const o of normalized) {
      const stream = this.#streams.get(partitionKey(o.topic, o.partition));
      if (stream) stream.lastCommitted = BigInt(o.offset);
    }
  }

  /** Positions not yet committed. */
  uncommittedOffsets(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const s of this.#streams.values()) {
      if (s.lastCommitted !== s.position) out.push({ topic: s.topic, partition: s.partition, offset: s.position.toString() });
    }
    return out;
  }

  /** Assigned partitions and where each stands: position, committed offset, high watermark, lag. */
  assignment(): Array<TopicPartition & { position: string; committed: string | null; highWatermark: string | null; lag: string | null }> {
    return [...this.#streams.values()].map((s) => ({
      topic: s.topic,
      partition: s.partition,
      position: s.position.toString(),
      committed: s.lastCommitted === null ? null : s.lastCommitted.toString(),
      highWatermark: s.highWatermark < 0n ? null : s.highWatermark.toString(),
      lag: s.highWatermark < 0n ? null : (s.highWatermark > s.position ? s.highWatermark - s.position : 0n).toString(),
    }));
  }

  /** How reads went: through presigned URLs (direct) or the API, ranged GETs, fallbacks. */
  get readStats(): Readonly<ReaderStats> & { directReads: 'unknown' | 'works' | 'unsupported' } {
    return { ...this.#reader.stats, directReads: this.#reader.directReads };
  }

  /** The notification channel's counters (connects, appends told, losses) and the partitions parked on it now; undefined with notifications: false. */
  get channelStats(): Readonly<{ connects: number; appends: number; losses: number; parked: number }> | undefined {
    return this.#fetcher.channelStats;
  }

  // ------------------------------------------------------------------------------------------------
  // assignment

  async #resolveTopics(): Promise<string[]> {
    const names = new Set<string>();
    const patterns = this.#topics.filter((t): t is RegExp => t instanceof RegExp);
    for (const t of this.#topics) if (typeof t === 'string') names.add(t);
    if (patterns.length > 0) {
      const all = await withRetry(this.#retry, () => this.#context.api.listTopics());
      for (const { name } of all) if (patterns.some((p) => new RegExp(p.source, p.flags.replace('g', '')).test(name))) names.add(name);
    }
    return [...names];
  }

  #describe(topic: string, signal?: AbortSignal): Promise<TopicDescription> {
    return withRetry(this.#retry, () => this.#context.api.describeTopic(topic, signal), { signal });
  }

  async #assign(partitions: readonly AssignedPartition[]): Promise<void> {
    const describes = new Map<string, Promise<TopicDescription>>();
    const bounds = (topic: string) => {
      if (!describes.has(topic)) describes.set(topic, this.#describe(topic, this.#runAbort?.signal));
      return describes.get(topic)!;
    };
    for (const p of partitions) {
      const key = partitionKey(p.topic, p.partition);
      if (this.#streams.has(key)) continue;
      const committed = p.committedOffset === null ? null : parseOffset(p.committedOffset, 'committedOffset');
      const seek = this.#pendingSeeks.get(key);
      this.#pendingSeeks.delete(key);
      let position: bigint;
      if (seek) {
        position = await this.#resolveTarget(p.topic, p.partition, seek);
      } else if (committed !== null) {
        position = committed;
      } else {
        const description = await bounds(p.topic);
        const state = description.partitions.find((x) => x.partition === p.partition);
        if (!state) throw new SluiceClientError('INVALID_ARGUMENT', `partition ${p.partition} does not exist in topic ${p.topic}`);
        position = this.#fromBeginning || p.fromLogStart ? state.startOffset : state.endOffset;
      }
      this.#streams.set(key, new PartitionStream(p.topic, p.partition, position, committed));
    }
    this.#pump();
    this.#signal.notify();
  }

  /**
   * Stops partitions and commits them (commit on revoke). A handler already running finishes, and the
   * records it processed count: the commit covers them, so their next owner does not process them
   * again. Lost partitions are dropped the same way, their commit skipped by the source.
   */
  async #revoke(partitions: readonly TopicPartition[]): Promise<void> {
    const streams = partitions.map((p) => this.#streams.get(partitionKey(p.topic, p.partition))).filter((s): s is PartitionStream => !!s);
    for (const stream of streams) {
      stream.revoked = true;
      stream.ready = null;
      stream.fetching?.abort();
    }
    while (streams.some((s) => s.busy)) await this.#signal.wait(50);
    if (this.#run.autoCommit) {
      try {
        await this.#commitPositions(streams, { final: true, signal: this.#runAbort?.signal });
      } catch (error) {
        // Stopping: keep them, so the final commit of stop() includes them. Otherwise it was surfaced.
        if (isAbort(error) && !this.#running) return;
      }
    }
    for (const stream of streams) this.#streams.delete(stream.key);
  }

  // ------------------------------------------------------------------------------------------------
  // positions

  #parseTarget(target: SeekTarget): ResolvedTarget {
    if (!target || typeof target.topic !== 'string' || !Number.isInteger(target.partition) || target.partition < 0) {
      throw invalidArgument('seek() takes { topic, partition, offset } or { topic, partition, timestamp }');
    }
    if (target.timestamp !== undefined) {
      if (!Number.isSafeInteger(target.timestamp) || target.timestamp < 0) throw invalidArgument('timestamp must be a non-negative integer (ms)');
      return { kind: 'timestamp', timestamp: target.timestamp };
    }
    const offset = target.offset;
    if (offset === 'earliest' || offset === '-2' || offset === -2) return { kind: 'earliest' };
    if (offset === 'latest' || offset === '-1' || offset === -1) return { kind: 'latest' };
    if (offset === undefined) throw invalidArgument('seek() needs offset or timestamp');
    return { kind: 'offset', offset: parseOffset(offset, 'offset') };
  }

  async #resolveTarget(topic: string, partition: number, target: ResolvedTarget): Promise<bigint> {
    switch (target.kind) {
      case 'offset':
        return target.offset;
      case 'timestamp':
        return withRetry(this.#retry, () => this.#context.api.offsetForTimestamp(topic, partition, target.timestamp));
      default: {
        const description = await this.#describe(topic);
        const state = description.partitions.find((p) => p.partition === partition);
        if (!state) throw new SluiceClientError('INVALID_ARGUMENT', `partition ${partition} does not exist in topic ${topic}`);
        return target.kind === 'earliest' ? state.startOffset : state.endOffset;
      }
    }
  }

  /** Drops what was read ahead and continues from offset. */
  #reposition(stream: PartitionStream, offset: bigint): void {
    stream.epoch++;
    stream.idle = false;
    stream.ready = null;
    stream.fetching?.abort();
    stream.position = offset;
    stream.fetchOffset = offset;
    this.#pump();
    this.#signal.notify();
  }

  #pump(): void {
    this.#fetcher.pump();
  }

  #isPaused(stream: PartitionStream): boolean {
    return this.#pausedTopics.has(stream.topic) || this.#pausedPartitions.has(stream.key);
  }

  // ------------------------------------------------------------------------------------------------
  // reading

  // ------------------------------------------------------------------------------------------------
  // processing

  // ------------------------------------------------------------------------------------------------
  // commits and failures

  /**
   * Commits the positions that moved, one commit at a time. A failure is surfaced here: an event, and a
   * log line — error when the commit was final (nothing retries it: that progress is processed again by
   * the partitions' next owner), warn when a later commit will carry the same positions.
   */
  async #commitPositions(streams: Iterable<PartitionStream> = this.#streams.values(), options: CommitOptions = {}): Promise<void> {
    // wait for a commit in flight, whatever its outcome: its failure is its own, not this one's
    while (this.#committing) await this.#committing.catch(() => {});
    const changed = [...streams].filter((s) => s.lastCommitted !== s.position);
    if (changed.length === 0) return;
    const offsets = changed.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position.toString(), stream: s, position: s.position }));
    const plain = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
    this.#committing = (async () => {
      const receipt = await withRetry(this.#retry, () => this.#source.commit(plain, options), { signal: options.signal });
      for (const o of offsets) o.stream.lastCommitted = o.position;
      if (receipt) this.#events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, { ...receipt, topics: committedTopics(plain) });
    })();
    try {
      await this.#committing;
    } catch (error) {
      if (!isAbort(error)) this.#commitFailed(plain, error, options.final === true);
      throw error;
    } finally {
      this.#committing = null;
    }
  }

  #commitFailed(offsets: ReadonlyArray<{ topic: string; partition: number; offset: string }>, error: unknown, final: boolean): void {
    const membership = this.#source.membership;
    const where = offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).join(', ');
    const extra = { error: String(error), code: error instanceof SluiceClientError ? error.code : undefined, offsets: where };
    if (final) this.#context.logger.error(`commit of ${where} failed; the next owner of these partitions processes their records again from the last commit`, extra);
    else this.#context.logger.warn(`commit of ${where} failed; the next commit carries these positions`, extra);
    this.#events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS_FAILED, {
      groupId: this.#source.groupId ?? null,
      memberId: membership?.memberId ?? null,
      generation: membership?.generation ?? -1,
      topics: committedTopics(offsets),
      error,
      final,
    });
  }

  #crash(error: unknown): void {
    if (!this.#running) return;
    this.#context.logger.error('consumer crashed', { error: String(error), retriable: isRetriable(error) });
    this.#events.emit(CONSUMER_EVENTS.CRASH, { error, groupId: this.#source.groupId ?? null, restart: false });
    void this.stop();
  }
}
