/**
 * The runner: up to partitionsConsumedConcurrently workers hand ready chunks to the application's
 * eachMessage or eachBatch, each partition strictly in offset order and one chunk at a time. A handler
 * that throws gets its records again from the first unprocessed one after a backoff; when the
 * retries run out the consumer crashes. What a handler processed counts even while its partition is
 * being revoked or the consumer stops (the commit on revoke or on stop covers it), unless a seek moved
 * the partition meanwhile.
 */
import type { ClientContext } from '../context.ts';
import { backoffMs, type RetryPolicy } from '../retry/retry.ts';
import type { Signal } from '../util/async.ts';
import type { TopicPartitionOffset } from '../types.ts';
import { CONSUMER_EVENTS, type ConsumerEvents } from './events.ts';
import type { PartitionStream } from './fetcher.ts';
import { batchOf, batchProcessPayload, messagesOf, parseOffset, toMessage } from './message.ts';
import type { Chunk } from './reader.ts';
import type { RunOptions } from './consumer.ts';

export type ResolvedRunOptions = Required<Omit<RunOptions, 'eachMessage' | 'eachBatch'>> & Pick<RunOptions, 'eachMessage' | 'eachBatch'>;

/** What the runner needs from its consumer. */
export interface RunnerHost {
  running(): boolean;
  streams(): Iterable<PartitionStream>;
  isPaused(stream: PartitionStream): boolean;
  reposition(stream: PartitionStream, offset: bigint): void;
  /** Starts reads (the next range is read while this one is processed). */
  pump(): void;
  pause(topics: ReadonlyArray<{ topic: string; partitions?: readonly number[] }>): void;
  resume(topics: ReadonlyArray<{ topic: string; partitions?: readonly number[] }>): void;
  heartbeat(): Promise<void>;
  commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  commitPositions(): Promise<void>;
  uncommittedOffsets(): TopicPartitionOffset[];
  crash(error: unknown): void;
}

export class Runner {
  readonly #context: ClientContext;
  readonly #options: ResolvedRunOptions;
  readonly #retry: RetryPolicy;
  readonly #events: ConsumerEvents;
  readonly #signal: Signal;
  readonly #host: RunnerHost;
  #rotation = 0;

  constructor(deps: { context: ClientContext; options: ResolvedRunOptions; retry: RetryPolicy; events: ConsumerEvents; signal: Signal; host: RunnerHost }) {
    this.#context = deps.context;
    this.#options = deps.options;
    this.#retry = deps.retry;
    this.#events = deps.events;
    this.#signal = deps.signal;
    this.#host = deps.host;
  }

  /** Workers, until the consumer stops. */
  start(): Promise<void>[] {
    return Array.from({ length: this.#options.partitionsConsumedConcurrently }, () => this.work());
  }

  #nextReady(): PartitionStream | null {
    const streams = [...this.#host.streams()];
    const n = streams.length;
    for (let i = 0; i < n; i++) {
      const stream = streams[(this.#rotation + i) % n];
      if (stream.ready && !stream.busy && !stream.revoked && !this.#host.isPaused(stream)) {
        this.#rotation = (this.#rotation + i + 1) % n;
        return stream;
      }
    }
    return null;
  }

  async work(): Promise<void> {
    while (this.#host.running()) {
      const stream = this.#nextReady();
      if (!stream) {
        await this.#signal.wait(1000);
        continue;
      }
      const chunk = stream.ready!;
      stream.ready = null;
      stream.busy = true;
      this.#host.pump(); // read the next range while this one is processed
      try {
        await this.#process(stream, chunk);
      } finally {
        stream.busy = false;
        this.#signal.notify();
      }
    }
  }

  async #process(stream: PartitionStream, chunk: Chunk): Promise<void> {
    const epoch = stream.epoch;
    /**
     * No seek or reset since this chunk was read: what its handler has processed counts, even while
     * the partition is being revoked or the consumer stopped (the commit on revoke or on stop then
     * covers it, so the partition's next owner does not process it again).
     */
    const unmoved = () => epoch === stream.epoch;
    /** Hand out more of this chunk: also still running and not revoked. */
    const current = () => unmoved() && this.#host.running() && !stream.revoked;
    if (chunk.batches.length === 0) {
      if (unmoved()) stream.position = chunk.nextOffset;
      return;
    }
    const { topic, partition } = stream;
    const pause = () => {
      this.#host.pause([{ topic, partitions: [partition] }]);
      return () => this.#host.resume([{ topic, partitions: [partition] }]);
    };
    const heartbeat = async () => {
      await this.#host.heartbeat();
    };
    const instrumented = this.#events.wanted(CONSUMER_EVENTS.START_BATCH_PROCESS) || this.#events.wanted(CONSUMER_EVENTS.END_BATCH_PROCESS);
    const processing = instrumented ? batchProcessPayload(topic, partition, chunk) : undefined;
    const startedAt = Date.now();
    if (processing) this.#events.emit(CONSUMER_EVENTS.START_BATCH_PROCESS, processing);
    try {
      if (this.#options.eachBatch) {
        const messages = messagesOf(chunk.batches, this.#context.runtime.bytes);
        const batch = batchOf(topic, partition, chunk.highWatermark, messages);
        await this.#options.eachBatch({
          batch,
          resolveOffset: (offset) => {
            if (unmoved()) stream.position = parseOffset(offset, 'offset') + 1n;
          },
          heartbeat,
          commitOffsetsIfNecessary: async (offsets) => {
            if (offsets) await this.#host.commitOffsets(offsets);
            else await this.#host.commitPositions();
          },
          uncommittedOffsets: () => this.#host.uncommittedOffsets(),
          isRunning: () => this.#host.running(),
          isStale: () => !current() || this.#host.isPaused(stream),
          pause,
        });
        if (this.#options.eachBatchAutoResolve && current() && !this.#host.isPaused(stream)) stream.position = chunk.nextOffset;
      } else {
        const eachMessage = this.#options.eachMessage!;
        const bytes = this.#context.runtime.bytes;
        records: for (const decoded of chunk.batches) {
          for (const record of decoded.records) {
            if (!current() || this.#host.isPaused(stream)) break records;
            await eachMessage({ topic, partition, message: toMessage(record, bytes), heartbeat, pause });
            if (unmoved()) stream.position = record.offset + 1n;
          }
        }
        if (current() && !this.#host.isPaused(stream)) stream.position = chunk.nextOffset;
      }
      stream.failures = 0;
      if (processing) this.#events.emit(CONSUMER_EVENTS.END_BATCH_PROCESS, { ...processing, duration: Date.now() - startedAt });
    } catch (error) {
      if (!current()) return;
      stream.failures++;
      if (stream.failures > this.#retry.retries) {
        this.#host.crash(error);
        return;
      }
      const delay = backoffMs(this.#retry, stream.failures - 1);
      this.#context.logger.warn(`handler failed on ${topic}/${partition} at offset ${stream.position}; retrying`, {
        error: String(error),
        retry: stream.failures,
        delayMs: Math.round(delay),
      });
      stream.retryAt = Date.now() + delay;
    }
    // anything read past the position (paused, failed or left unresolved mid-batch) is read again
    if (current() && stream.position !== chunk.nextOffset) this.#host.reposition(stream, stream.position);
  }
}
