/**
 * The fetcher: keeps a read in flight for every partition stream that wants one, as far as
 * maxInFlightFetches allows, round-robin across partitions. Reading runs ahead of processing by one
 * response (a stream holds at most one chunk ready); a read retries retriable errors for ever (with
 * backoff); an offset out of range moves the stream to the nearest end of the log; a read that fails
 * for good crashes the consumer.
 *
 * A partition that has caught up (its long poll came back empty) goes idle: the idle partitions of a
 * topic share one long poll (GET /v1/topics/{topic}/wait, up to MAX_WAIT_PARTITIONS of them), and a
 * partition it names as ready is read again. One request per topic instead of one per partition while
 * nothing is produced: in AWS that is one fetch Lambda waiting instead of one per partition. A server
 * without the wait route (404) gets per-partition long polls, as before.
 *
 * Better still, where the server names a notification channel (channel.ts): while a topic is
 * followed there, its idle partitions are parked — no request at all — until an append message says
 * their high watermark passed them. What the channel may have missed is caught by a check (a shared
 * wait with maxWaitMs 0) after every subscribe and every safetyPollMs; a lost channel sends the
 * parked partitions back to the shared long poll until it is back.
 */
import { LIMITS } from '../../api/limits.ts';
import type { ClientContext } from '../context.ts';
import { isAbort, SluiceClientError } from '../errors.ts';
import { withRetry, type RetryPolicy } from '../retry/retry.ts';
import { Semaphore, type Signal } from '../util/async.ts';
import { partitionKey } from './assignment.ts';
import { NotificationChannel, type ChannelOptions } from './channel.ts';
import { CONSUMER_EVENTS, type ConsumerEvents } from './events.ts';
import type { Chunk, PartitionReader } from './reader.ts';

/** One assigned partition: where the application is, where reading is, what is read ahead. */
export class PartitionStream {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /** Next offset to hand to the application (what a commit stores). */
  position: bigint;
  /** Next offset to read. */
  fetchOffset: bigint;
  /** Bumped by every reposition; results of older reads and handlers are ignored. */
  epoch = 0;
  ready: Chunk | null = null;
  fetching: AbortController | null = null;
  busy = false;
  revoked = false;
  highWatermark = -1n;
  lastCommitted: bigint | null;
  /** Consecutive handler failures; no reads before retryAt. */
  failures = 0;
  retryAt = 0;
  /** Caught up at fetchOffset: waits in its topic's shared long poll, not in a read of its own. Cleared by a reposition. */
  idle = false;
  /** Idle on a followed topic, but to be checked by the next pump (after a subscribe, or the safety poll). */
  checkDue = false;

  constructor(topic: string, partition: number, position: bigint, committed: bigint | null) {
    this.topic = topic;
    this.partition = partition;
    this.key = partitionKey(topic, partition);
    this.position = position;
    this.fetchOffset = position;
    this.lastCommitted = committed;
  }
}

/** What the fetcher needs from its consumer. */
export interface FetcherHost {
  running(): boolean;
  streams(): Iterable<PartitionStream>;
  isPaused(stream: PartitionStream): boolean;
  /** Drops what was read ahead and continues from offset. */
  reposition(stream: PartitionStream, offset: bigint): void;
  crash(error: unknown): void;
}

/** The wait route's limit on partitions per request. */
const MAX_WAIT_PARTITIONS = LIMITS.maxWaitPartitions;

/** How long a shared wait gathers partitions going idle together before it starts. */
const WAIT_GATHER_MS = 20;

interface SharedWait {
  /** The partitions in it (stream keys): fixed once it started; a partition idle since waits for the next one, reading on its own meanwhile. */
  readonly members: Set<string>;
  started: boolean;
  /** The wait's maxWaitMs: 0 for a check of parked partitions. */
  readonly waitMs: number;
  readonly controller: AbortController;
}

/** How the fetcher uses the notification channel; false: it does not (long polls only). */
export type FetcherNotifications = false | (ChannelOptions & { readonly safetyPollMs: number });

export class Fetcher {
  readonly #context: ClientContext;
  readonly #reader: PartitionReader;
  readonly #retry: RetryPolicy;
  readonly #events: ConsumerEvents;
  readonly #signal: Signal;
  readonly #host: FetcherHost;
  readonly #fetchSlots: Semaphore;
  readonly #maxWaitMs: number;
  #fetchRotation = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Per topic: the shared long poll of its idle partitions, while one runs. */
  readonly #waits = new Map<string, SharedWait>();
  #waitRoute = true;
  readonly #channel: NotificationChannel | undefined;
  readonly #safetyPollMs: number;
  #safetyTimer: ReturnType<typeof setInterval> | undefined;
  /** Per partition (stream key): the highest high watermark the channel told of. */
  readonly #notified = new Map<string, bigint>();

  constructor(deps: {
    context: ClientContext;
    reader: PartitionReader;
    retry: RetryPolicy;
    events: ConsumerEvents;
    signal: Signal;
    maxInFlightFetches: number;
    maxWaitMs: number;
    host: FetcherHost;
    notifications: FetcherNotifications;
  }) {
    this.#context = deps.context;
    this.#reader = deps.reader;
    this.#retry = deps.retry;
    this.#events = deps.events;
    this.#signal = deps.signal;
    this.#host = deps.host;
    this.#fetchSlots = new Semaphore(deps.maxInFlightFetches);
    this.#maxWaitMs = deps.maxWaitMs;
    this.#safetyPollMs = deps.notifications ? deps.notifications.safetyPollMs : 0;
    this.#channel = deps.notifications
      ? new NotificationChannel(deps.context, { onAppend: (t, p, hw) => this.#appended(t, p, hw), onSubscribed: (topics) => this.#subscribed(topics), onLost: () => this.pump() }, deps.notifications)
      : undefined;
  }

  /** The channel's counters (connects, appends, losses), where there is a channel. */
  get channelStats(): (NotificationChannel['stats'] & { parked: number }) | undefined {
    if (!this.#channel) return undefined;
    let parked = 0;
    for (const stream of this.#host.streams()) if (this.#parked(stream)) parked++;
    return { ...this.#channel.stats, parked };
  }

  /** Waiting on the channel: no request until it tells of an append (or a check is due). */
  #parked(stream: PartitionStream): boolean {
    return stream.idle && !stream.checkDue && this.#channel?.follows(stream.topic) === true;
  }

  /** Opens the notification channel (in the background) and starts the safety poll. */
  start(): void {
    if (!this.#channel) return;
    this.#channel.start();
    clearInterval(this.#safetyTimer);
    this.#safetyTimer = setInterval(() => {
      let due = 0;
      for (const stream of this.#host.streams()) {
        if (this.#parked(stream)) {
          stream.checkDue = true;
          due++;
        }
      }
      if (due > 0) this.pump();
    }, this.#safetyPollMs);
  }

  #appended(topic: string, partition: number, highWatermark: bigint): void {
    const key = partitionKey(topic, partition);
    if ((this.#notified.get(key) ?? -1n) < highWatermark) this.#notified.set(key, highWatermark);
    for (const stream of this.#host.streams()) {
      if (stream.key === key && stream.idle && highWatermark > stream.fetchOffset) {
        stream.idle = false;
        this.pump();
      }
    }
  }

  /**
   * Newly followed topics: what was appended before the subscribe is found by one check of every
   * partition there (also those whose read is in flight: its answer may predate the subscribe); a long
   * poll running for them ends.
   */
  #subscribed(topics: readonly string[]): void {
    const followed = new Set(topics);
    for (const stream of this.#host.streams()) if (followed.has(stream.topic)) stream.checkDue = true;
    for (const topic of topics) {
      const wait = this.#waits.get(topic);
      if (wait && wait.waitMs > 0) wait.controller.abort();
    }
    this.pump();
  }

  /** Ends every read in flight and the timer of streams waiting to retry. */
  stop(): void {
    clearTimeout(this.#retryTimer);
    clearInterval(this.#safetyTimer);
    this.#channel?.stop();
    for (const stream of this.#host.streams()) stream.fetching?.abort();
    for (const wait of this.#waits.values()) wait.controller.abort();
  }

  /** Starts reads for every stream that wants one, as far as the fetch slots allow. */
  pump(): void {
    if (!this.#host.running()) return;
    const streams = [...this.#host.streams()];
    const n = streams.length;
    const now = Date.now();
    let soonest = Infinity;
    const idle = new Map<string, PartitionStream[]>();
    let slotsFull = false;
    if (this.#channel) this.#channel.want(new Set(streams.map((s) => s.topic)));
    for (let i = 0; i < n; i++) {
      const stream = streams[(this.#fetchRotation + i) % n];
      if (stream.fetching || stream.ready || stream.revoked || this.#host.isPaused(stream)) continue;
      if (stream.retryAt > now) {
        soonest = Math.min(soonest, stream.retryAt);
        continue;
      }
      if (stream.idle) {
        // parked: the channel tells when records come (or the next check finds them)
        if (this.#parked(stream)) continue;
        const wait = this.#waits.get(stream.topic);
        const waiting = idle.get(stream.topic) ?? [];
        idle.set(stream.topic, waiting);
        const joins = wait ? wait.members.has(stream.key) || (!wait.started && wait.members.size < MAX_WAIT_PARTITIONS) : waiting.length < MAX_WAIT_PARTITIONS;
        if (joins) {
          wait?.members.add(stream.key);
          waiting.push(stream);
          continue;
        }
        if (wait && wait.waitMs > 0 && wait.members.size < MAX_WAIT_PARTITIONS) {
          // Idle since the topic's wait started: end that wait and start one with this partition in it.
          // A long poll of its own would end about when the shared one does, and under load the two
          // can stay out of step for good, one extra long poll per round. The wait given up costs one
          // request (in AWS its function still runs to the server's bound, as the long poll of its own
          // would have), once per partition that goes idle, not once per round. On a topic the channel
          // follows there is no such wait: its checks answer at once and are never ended early.
          wait.controller.abort();
          waiting.push(stream);
          continue;
        }
        // beyond the wait route's limit: a long poll of its own
      }
      // no slot: keep looking for idle partitions (so the shared waits see all of them), start no read
      if (slotsFull || !this.#fetchSlots.tryAcquire()) {
        slotsFull = true;
        continue;
      }
      this.#fetchRotation = (this.#fetchRotation + i + 1) % n;
      void this.#fetch(stream);
    }
    for (const [topic, waiting] of idle) this.#waitShared(topic, waiting);
    // nobody idle there any more (a check answers at once: parked partitions leave it be)
    for (const [topic, wait] of this.#waits) if (!idle.has(topic) && wait.waitMs > 0) wait.controller.abort();
    if (soonest !== Infinity) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.pump(), soonest - now);
    }
  }

  async #fetch(stream: PartitionStream): Promise<void> {
    const controller = new AbortController();
    stream.fetching = controller;
    const epoch = stream.epoch;
    const offset = stream.fetchOffset;
    const started = Date.now();
    // On a followed topic a read does not wait at the end of the log: the partition parks instead (in
    // AWS a long poll bills the fetch function for its whole wait). Unless a hint promised more than
    // the log has shown: then it long-polls (no loop of empty reads), and a hint a whole long poll did
    // not bear out is forgotten.
    const hinted = this.#notified.get(stream.key);
    const maxWaitMs = this.#channel?.follows(stream.topic) && !(hinted !== undefined && hinted > offset) ? 0 : this.#maxWaitMs;
    try {
      const chunk = await withRetry(this.#retry, () => this.#reader.read(stream.topic, stream.partition, offset, controller.signal, maxWaitMs), {
        signal: controller.signal,
        forever: true,
        onRetry: (error, retry, delayMs) =>
          this.#context.logger.warn(`read of ${stream.topic}/${stream.partition} failed, retrying`, { error: String(error), retry: retry + 1, delayMs: Math.round(delayMs) }),
      });
      if (epoch !== stream.epoch || stream.revoked) return;
      if (this.#events.wanted(CONSUMER_EVENTS.FETCH)) {
        this.#events.emit(CONSUMER_EVENTS.FETCH, {
          topic: stream.topic,
          partition: stream.partition,
          numberOfBatches: chunk.batches.length,
          numberOfRecords: chunk.batches.reduce((n, b) => n + b.records.length, 0),
          duration: Date.now() - started,
          direct: chunk.via === 'direct',
        });
      }
      stream.highWatermark = chunk.highWatermark;
      if (chunk.nextOffset < offset) throw new SluiceClientError('BAD_RESPONSE', `read at ${offset} answered nextOffset ${chunk.nextOffset}`);
      stream.fetchOffset = chunk.nextOffset;
      // an empty answer that moved on (past aborted offsets) still moves the position, in order
      if (chunk.batches.length > 0 || chunk.nextOffset > offset) {
        stream.ready = chunk;
        // Caught up with records in hand, on a followed topic: park now rather than after one more read
        // that would answer empty (it was one request in three). Appends the answer did not include are
        // told by the channel, before this point (then notified is past nextOffset: no parking) or after
        // (then it wakes the stream) — the same reasoning as for an empty answer below.
        if (
          this.#waitRoute &&
          this.#channel?.follows(stream.topic) &&
          chunk.highWatermark <= chunk.nextOffset &&
          (this.#notified.get(stream.key) ?? -1n) <= chunk.nextOffset
        ) {
          stream.idle = true;
        }
      }
      // caught up: the long poll found nothing; from now on it waits with the topic's other idle partitions
      else {
        if (hinted !== undefined && this.#notified.get(stream.key) === hinted) this.#notified.delete(stream.key);
        if (this.#waitRoute && (this.#maxWaitMs > 0 || this.#channel?.follows(stream.topic)) && chunk.highWatermark <= offset && (this.#notified.get(stream.key) ?? -1n) <= offset) {
          stream.idle = true;
        }
      }
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted || epoch !== stream.epoch || !this.#host.running()) return;
      if (error instanceof SluiceClientError && error.code === 'OFFSET_OUT_OF_RANGE') {
        const start = BigInt(String(error.details.startOffset ?? '0'));
        const end = BigInt(String(error.details.endOffset ?? '0'));
        const reset = offset < start ? start : end;
        this.#context.logger.warn(`offset ${offset} of ${stream.topic}/${stream.partition} is out of range [${start}, ${end}]; continuing at ${reset}`);
        stream.fetching = null;
        this.#host.reposition(stream, reset);
        return;
      }
      this.#host.crash(error);
    } finally {
      if (stream.fetching === controller) stream.fetching = null;
      this.#fetchSlots.release();
      this.#signal.notify();
      this.pump();
    }
  }

  /** The shared long poll of a topic's idle partitions: one at a time per topic, started after a short gathering. */
  #waitShared(topic: string, streams: readonly PartitionStream[]): void {
    if (this.#waits.has(topic) || streams.length === 0) return;
    if (!this.#fetchSlots.tryAcquire()) return; // the next pump starts it
    // a followed topic's wait is a check of partitions due one: it answers at once (the channel does the waiting)
    const check = this.#channel?.follows(topic) === true;
    const wait: SharedWait = { members: new Set(streams.map((s) => s.key)), started: false, controller: new AbortController(), waitMs: check ? 0 : this.#maxWaitMs };
    this.#waits.set(topic, wait);
    setTimeout(() => void this.#runWait(topic, wait), WAIT_GATHER_MS);
  }

  async #runWait(topic: string, wait: SharedWait): Promise<void> {
    wait.started = true;
    const streams = [...this.#host.streams()].filter((s) => wait.members.has(s.key) && s.idle && !s.revoked && !s.fetching && !s.ready && !this.#host.isPaused(s));
    const epochs = streams.map((s) => s.epoch);
    try {
      if (streams.length === 0 || wait.controller.signal.aborted || !this.#host.running()) return;
      const positions = streams.map((s) => ({ partition: s.partition, offset: s.fetchOffset }));
      const ready = new Set((await this.#context.api.waitForRecords(topic, positions, wait.waitMs, wait.controller.signal)).map((p) => p.partition));
      streams.forEach((stream, i) => {
        if (ready.has(stream.partition) && stream.epoch === epochs[i]) stream.idle = false;
      });
    } catch (error) {
      if (isAbort(error) || wait.controller.signal.aborted || !this.#host.running()) return;
      if (error instanceof SluiceClientError && error.code !== 'TOPIC_NOT_FOUND' && (error.status === 404 || error.status === 405)) {
        this.#waitRoute = false;
        this.#context.logger.info('the server has no wait route; idle partitions long-poll one by one', { topic });
      } else {
        this.#context.logger.warn(`the shared long poll of ${topic} failed; its partitions read on their own`, { error: String(error) });
      }
      // their own reads retry with backoff, and surface what fails for good
      for (const stream of streams) stream.idle = false;
    } finally {
      if (wait.waitMs === 0) for (const stream of streams) stream.checkDue = false; // checked (or, failed, reading on its own)
      if (this.#waits.get(topic) === wait) this.#waits.delete(topic);
      this.#fetchSlots.release();
      this.#signal.notify();
      this.pump();
    }
  }
}
