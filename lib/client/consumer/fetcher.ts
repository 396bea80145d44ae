/**
 * The fetcher: keeps a read in flight for every partition stream that wants one, as far as
 * maxInFlightFetches allows, round-robin across partitions. Reading runs ahead of processing by one
 * response (a stream holds at most one chunk ready); a partition that has caught up long-polls; a
 * read retries retriable errors for ever (with backoff); an offset out of range moves the stream to
 * the nearest end of the log; a read that fails for good crashes the consumer.
 */
import type { ClientContext } from '../context.ts';
import { isAbort, SluiceClientError } from '../errors.ts';
import { withRetry, type RetryPolicy } from '../retry/retry.ts';
import { Semaphore, type Signal } from '../util/async.ts';
import { partitionKey } from './assignment.ts';
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

export class Fetcher {
  readonly #context: ClientContext;
  readonly #reader: PartitionReader;
  readonly #retry: RetryPolicy;
  readonly #events: ConsumerEvents;
  readonly #signal: Signal;
  readonly #host: FetcherHost;
  readonly #fetchSlots: Semaphore;
  #fetchRotation = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: { context: ClientContext; reader: PartitionReader; retry: RetryPolicy; events: ConsumerEvents; signal: Signal; maxInFlightFetches: number; host: FetcherHost }) {
    this.#context = deps.context;
    this.#reader = deps.reader;
    this.#retry = deps.retry;
    this.#events = deps.events;
    this.#signal = deps.signal;
    this.#host = deps.host;
    this.#fetchSlots = new Semaphore(deps.maxInFlightFetches);
  }

  /** Ends every read in flight and the timer of streams waiting to retry. */
  stop(): void {
    clearTimeout(this.#retryTimer);
    for (const stream of this.#host.streams()) stream.fetching?.abort();
  }

  /** Starts reads for every stream that wants one, as far as the fetch slots allow. */
  pump(): void {
    if (!this.#host.running()) return;
    const streams = [...this.#host.streams()];
    const n = streams.length;
    const now = Date.now();
    let soonest = Infinity;
    for (let i = 0; i < n; i++) {
      const stream = streams[(this.#fetchRotation + i) % n];
      if (stream.fetching || stream.ready || stream.revoked || this.#host.isPaused(stream)) continue;
      if (stream.retryAt > now) {
        soonest = Math.min(soonest, stream.retryAt);
        continue;
      }
      if (!this.#fetchSlots.tryAcquire()) break;
      this.#fetchRotation = (this.#fetchRotation + i + 1) % n;
      void this.#fetch(stream);
    }
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
    try {
      const chunk = await withRetry(this.#retry, () => this.#reader.read(stream.topic, stream.partition, offset, controller.signal), {
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
      if (chunk.batches.length > 0 || chunk.nextOffset > offset) stream.ready = chunk;
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
}
