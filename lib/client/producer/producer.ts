/**
 * The producer: Kafka's RecordAccumulator (accumulator.ts) and Sender (sender.ts), over HTTP.
 *
 * send() turns messages into records, picks their partitions and appends them to per-partition queues;
 * it resolves once every record is durable, with each record's offset. Draining takes the ready
 * partitions into requests (accumulator.ts says when a partition is ready and how requests are cut),
 * at most maxInFlightRequests at once across partitions, one per partition; the sender retries each
 * with its Idempotency-Key.
 *
 * Memory: records count against maxBufferedBytes from send() until their request completes; send()
 * waits (backpressure) while the buffer is full.
 */
import { LIMITS } from '../../api/limits.ts';
import { isCodec, type Codec } from '../../protocol/codecs.ts';
import type { ClientContext } from '../context.ts';
import { invalidArgument, SluiceClientError } from '../errors.ts';
import { retryPolicy, withRetry, type RetryOptions, type RetryPolicy } from '../retry/retry.ts';
import type { CompressionCodec, ProducerBatch, ProducerRecord, RecordMetadata } from '../types.ts';
import { Delivery, prepareRecord, RecordAccumulator, TopicState, type ReadyRequest } from './accumulator.ts';
import type { Partitioner } from './partitioner.ts';
import { Sender } from './sender.ts';

export interface ProducerOptions {
  /** How long a record may wait for more to join its batch, in ms. @default 5 */
  readonly lingerMs?: number;
  /** Uncompressed record bytes per partition batch: a batch this full is sent at once. @default 1 MiB */
  readonly maxBatchBytes?: number;
  /** Uncompressed record bytes per request (the server takes bodies up to 5 MiB). @default 4 MiB */
  readonly maxRequestBytes?: number;
  /** Record bytes held by the producer (queued and in flight) before send() waits. @default 32 MiB */
  readonly maxBufferedBytes?: number;
  /** Requests in flight at once, across partitions (one per partition). @default 16 */
  readonly maxInFlightRequests?: number;
  /** Codec for whole batches. @default 'zstd' on Node, 'gzip' in browsers */
  readonly compression?: CompressionCodec;
  /** Codec level (Node only). @default zstd 1, gzip 1 */
  readonly compressionLevel?: number;
  /** Send an Idempotency-Key with every request, so retries never append twice. @default true */
  readonly idempotent?: boolean;
  /** Overrides the client's retry settings for produce requests. */
  readonly retry?: RetryOptions;
  /** Custom partition choice; return undefined to fall back to the default. */
  readonly partitioner?: Partitioner;
  /** How long a topic's partition count is used before a send looks at it again (partitions added). @default 300000 */
  readonly metadataMaxAgeMs?: number;
}

interface ResolvedOptions {
  readonly lingerMs: number;
  readonly maxBatchBytes: number;
  readonly maxRequestBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxInFlightRequests: number;
  readonly codec: Codec;
  readonly compressionLevel: number | undefined;
  readonly idempotent: boolean;
  readonly retry: RetryPolicy;
  readonly metadataMaxAgeMs: number;
}

export const PRODUCER_DEFAULTS = {
  lingerMs: 5,
  maxBatchBytes: 1024 * 1024,
  maxRequestBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxInFlightRequests: 16,
  idempotent: true,
  /** Kafka's metadata.max.age.ms. */
  metadataMaxAgeMs: 300_000,
} as const;

/** Framing, batch headers and record varints on top of the record bytes stay below this. */
const MAX_REQUEST_BYTES = LIMITS.maxRequestBytes - 512 * 1024;

function positiveInt(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw invalidArgument(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return v;
}

export class Producer {
  readonly #context: ClientContext;
  readonly #options: ResolvedOptions;
  readonly #partitioner: Partitioner | undefined;
  readonly #accumulator: RecordAccumulator;
  readonly #sender: Sender;
  readonly #loading = new Map<string, Promise<TopicState>>();
  #buffered = 0;
  #inFlightRequests = 0;
  readonly #outstanding = new Set<Promise<unknown>>();
  readonly #spaceWaiters: Array<{ size: number; wake: () => void }> = [];
  #flushing = 0;
  #drainScheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #closed = false;

  constructor(context: ClientContext, options: ProducerOptions = {}) {
    this.#context = context;
    const compression = options.compression ?? context.runtime.compressor.defaultCodec;
    if (!isCodec(compression) || !context.runtime.compressor.canCompress(compression)) {
      throw invalidArgument(`compression '${String(compression)}' is not available here (${context.runtime.compressor.name})`);
    }
    const lingerMs = options.lingerMs ?? PRODUCER_DEFAULTS.lingerMs;
    if (!Number.isFinite(lingerMs) || lingerMs < 0) throw invalidArgument(`lingerMs must be ≥ 0, got ${lingerMs}`);
    const maxRequestBytes = positiveInt('maxRequestBytes', options.maxRequestBytes, PRODUCER_DEFAULTS.maxRequestBytes, MAX_REQUEST_BYTES);
    const maxBatchBytes = positiveInt('maxBatchBytes', options.maxBatchBytes, Math.min(PRODUCER_DEFAULTS.maxBatchBytes, maxRequestBytes), maxRequestBytes);
    this.#options = {
      lingerMs,
      maxBatchBytes,
      maxRequestBytes,
      maxBufferedBytes: positiveInt('maxBufferedBytes', options.maxBufferedBytes, PRODUCER_DEFAULTS.maxBufferedBytes),
      maxInFlightRequests: positiveInt('maxInFlightRequests', options.maxInFlightRequests, PRODUCER_DEFAULTS.maxInFlightRequests),
      codec: compression,
      compressionLevel: options.compressionLevel,
      idempotent: options.idempotent ?? PRODUCER_DEFAULTS.idempotent,
      retry: retryPolicy(options.retry, context.retry),
      metadataMaxAgeMs: positiveInt('metadataMaxAgeMs', options.metadataMaxAgeMs, PRODUCER_DEFAULTS.metadataMaxAgeMs),
    };
    this.#partitioner = options.partitioner;
    this.#accumulator = new RecordAccumulator(this.#options);
    this.#sender = new Sender(context, this.#options);
  }

  /** Nothing to open (every call is a stateless HTTPS request); checks the endpoint and the API key. */
  async connect(): Promise<void> {
    await this.#context.api.listTopics();
  }

  /** Sends records to one topic; resolves with each record's partition and offset once all are durable. */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.#closed) return Promise.reject(new SluiceClientError('DISCONNECTED', 'the producer is disconnected'));
    const sending = this.#send(record);
    this.#track(sending); // flush() and disconnect() wait for sends still looking up their topic
    return sending;
  }

  async #send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (!record || typeof record.topic !== 'string' || !Array.isArray(record.messages)) {
      throw invalidArgument('send() takes { topic, messages: [...] }');
    }
    const topic = this.#accumulator.topics.get(record.topic) ?? (await this.#loadTopic(record.topic));
    const messages = record.messages;
    if (messages.length === 0) return [];
    const now = Date.now();
    if (now - topic.loadedAt >= this.#options.metadataMaxAgeMs) this.#lookAgain(topic, now);
    const prepared = messages.map((message, index) => prepareRecord(topic, message, index, now, this.#partitioner));
    const delivery = new Delivery(messages.length);
    for (let i = 0; i < prepared.length; i++) {
      const { record: batchRecord, size, partition } = prepared[i];
      if (this.#hasSpace(size)) this.#buffered += size;
      else await this.#waitForSpace(size); // reserves the space when it wakes
      const p = partition >= 0 ? partition : this.#accumulator.stickyPartition(topic);
      if (this.#accumulator.append(topic, p, { record: batchRecord, size, delivery, index: i })) this.#scheduleDrain();
    }
    this.#scheduleDrain();
    return delivery.promise;
  }

  /** send() for several topics; one result list, in the order given. */
  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    if (!batch || !Array.isArray(batch.topicMessages)) throw invalidArgument('sendBatch() takes { topicMessages: [{ topic, messages }] }');
    const results = await Promise.all(batch.topicMessages.map((tm) => this.send(tm)));
    return results.flat();
  }

  /** Sends everything queued now without waiting for lingerMs, and waits until it is acknowledged or failed. */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      this.#scheduleDrain();
      while (this.#outstanding.size > 0) await Promise.allSettled([...this.#outstanding]);
    } finally {
      this.#flushing--;
    }
  }

  /** Flushes, then refuses further sends. */
  async disconnect(): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** Bytes of records held (queued, in flight, or reserved by a waiting send()), for monitoring. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  async #loadTopic(name: string): Promise<TopicState> {
    let loading = this.#loading.get(name);
    if (!loading) {
      loading = withRetry(this.#context.retry, () => this.#context.api.describeTopic(name)).then(
        (description) => {
          const state = this.#accumulator.topics.get(name) ?? new TopicState(name, description.partitions.length, Date.now());
          this.#accumulator.topics.set(name, state);
          this.#loading.delete(name);
          return state;
        },
        (error) => {
          this.#loading.delete(name);
          throw error;
        },
      );
      this.#loading.set(name, loading);
    }
    return loading;
  }

  /** Reads the topic's partition count again, in the background (this send goes on with what it has; a failure waits for the next interval). */
  #lookAgain(topic: TopicState, now: number): void {
    topic.loadedAt = now;
    this.#context.api.describeTopic(topic.name).then(
      (description) => topic.grow(description.partitions.length),
      () => {},
    );
  }

  #track(promise: Promise<unknown>): void {
    const settled: Promise<unknown> = promise.then(
      () => this.#outstanding.delete(settled),
      () => this.#outstanding.delete(settled),
    );
    this.#outstanding.add(settled);
  }

  // ------------------------------------------------------------------------------------------------
  // backpressure

  #hasSpace(size: number): boolean {
    return this.#spaceWaiters.length === 0 && (this.#buffered === 0 || this.#buffered + size <= this.#options.maxBufferedBytes);
  }

  #waitForSpace(size: number): Promise<void> {
    return new Promise((wake) => {
      this.#spaceWaiters.push({ size, wake });
      this.#scheduleDrain();
    });
  }

  #releaseSpace(bytes: number): void {
    this.#buffered -= bytes;
    while (this.#spaceWaiters.length > 0) {
      const next = this.#spaceWaiters[0];
      if (this.#buffered > 0 && this.#buffered + next.size > this.#options.maxBufferedBytes) break;
      this.#spaceWaiters.shift();
      this.#buffered += next.size;
      next.wake();
    }
  }

  // ------------------------------------------------------------------------------------------------
  // draining

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    const urgent = this.#flushing > 0 || this.#spaceWaiters.length > 0;
    const { requests, wakeAt } = this.#accumulator.ready(Date.now(), urgent, this.#options.maxInFlightRequests - this.#inFlightRequests);
    for (const request of requests) void this.#dispatch(request);
    this.#armTimer(wakeAt);
  }

  async #dispatch(request: ReadyRequest): Promise<void> {
    this.#inFlightRequests++;
    try {
      await this.#sender.send(request);
    } finally {
      this.#inFlightRequests--;
      this.#accumulator.sent(request);
      this.#releaseSpace(request.bytes);
      this.#scheduleDrain();
    }
  }

  #armTimer(at: number): void {
    if (at === Infinity) {
      // nothing waits for lingerMs: no timer (it would keep a Node process alive for nothing)
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#drain();
    }, Math.max(0, at - Date.now()));
  }
}
