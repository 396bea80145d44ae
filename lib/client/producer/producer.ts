/**
 * The producer: Kafka's RecordAccumulator and Sender, over HTTP.
 *
 * send() turns messages into records, picks their partitions and appends them to per-partition queues;
 * it resolves once every record is durable, with each record's offset. A sender drains the queues
 * into produce requests:
 *
 * - A partition is ready when its queued records reach maxBatchBytes, or the oldest has waited
 *   lingerMs, or flush()/disconnect() is waiting, or send() is blocked on maxBufferedBytes.
 * - When any partition of a topic is ready, every idle partition of that topic with queued records
 *   goes too (as Kafka drains all partitions of a broker): one request per topic (an ingest object
 *   never mixes topics), each partition's records cut into RecordBatches of at most maxBatchBytes,
 *   each batch compressed whole, at most maxRequestBytes of records per request.
 * - One request in flight per partition (so a partition's records land in the order they were sent,
 *   retries included), up to maxInFlightRequests across partitions. While a partition's request is in
 *   flight, its next batch fills up: under load, batches grow towards maxBatchBytes by themselves.
 * - Each request gets an Idempotency-Key; a retry resends the very same bytes with the same key, so
 *   the server appends them once (it returns the first attempt's offsets, even if that attempt died
 *   halfway). Only retriable errors are retried (error table), with backoff and jitter.
 * - Memory: records count against maxBufferedBytes from send() until their request completes; send()
 *   waits (backpressure) while the buffer is full.
 */
import { LIMITS } from '../../api/limits.ts';
import { isCodec, type Codec } from '../../protocol/codecs.ts';
import type { ProducerRecord as BatchRecord, RecordHeader } from '../../protocol/record-batch-core.ts';
import type { ClientContext } from '../context.ts';
import { invalidArgument, SluiceClientError } from '../errors.ts';
import { encodeProduceRequest } from '../protocol/produce-request.ts';
import { retryPolicy, withRetry, type RetryOptions, type RetryPolicy } from '../retry/retry.ts';
import { randomId } from '../util/async.ts';
import type { CompressionCodec, Message, ProducerBatch, ProducerRecord, RecordMetadata } from '../types.ts';
import { keyPartition, StickyPartition, type Partitioner } from './partitioner.ts';

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
}

export const PRODUCER_DEFAULTS = {
  lingerMs: 5,
  maxBatchBytes: 1024 * 1024,
  maxRequestBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxInFlightRequests: 16,
  idempotent: true,
} as const;

/** Framing, batch headers and record varints on top of the record bytes stay below this. */
const MAX_REQUEST_BYTES = LIMITS.maxRequestBytes - 512 * 1024;
/** Record overhead beyond key, value and headers: length, attributes, deltas, lengths (estimate). */
const RECORD_OVERHEAD = 12;

const textEncoder = new TextEncoder();

/** One send() call: its records' results, in message order. */
class Delivery {
  readonly results: RecordMetadata[];
  remaining: number;
  settled = false;
  readonly promise: Promise<RecordMetadata[]>;
  resolve!: (results: RecordMetadata[]) => void;
  reject!: (error: unknown) => void;

  constructor(count: number) {
    this.results = new Array(count);
    this.remaining = count;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  done(index: number, metadata: RecordMetadata): void {
    this.results[index] = metadata;
    if (--this.remaining === 0 && !this.settled) {
      this.settled = true;
      this.resolve(this.results);
    }
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }
}

interface Pending {
  readonly record: BatchRecord;
  readonly size: number;
  readonly delivery: Delivery;
  readonly index: number;
}

class PartitionQueue {
  readonly partition: number;
  records: Pending[] = [];
  bytes = 0;
  /** When the oldest queued record arrived (for lingerMs). */
  firstAt = 0;
  inFlight = false;

  constructor(partition: number) {
    this.partition = partition;
  }
}

class TopicState {
  readonly name: string;
  readonly partitionCount: number;
  readonly queues: PartitionQueue[];
  /** Queues holding records, in no particular order. */
  readonly active = new Set<PartitionQueue>();
  readonly sticky = new StickyPartition();

  constructor(name: string, partitionCount: number) {
    this.name = name;
    this.partitionCount = partitionCount;
    this.queues = Array.from({ length: partitionCount }, (_, p) => new PartitionQueue(p));
  }
}

interface Section {
  readonly queue: PartitionQueue;
  readonly batches: Pending[][];
}

function positiveInt(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw invalidArgument(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return v;
}

function toBytes(value: string | Uint8Array | null | undefined, what: string): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return textEncoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw invalidArgument(`${what} must be a string, a Uint8Array or null`);
}

export class Producer {
  readonly #context: ClientContext;
  readonly #options: ResolvedOptions;
  readonly #partitioner: Partitioner | undefined;
  readonly #producerId = randomId();
  #sequence = 0;
  readonly #topics = new Map<string, TopicState>();
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
    };
    this.#partitioner = options.partitioner;
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
    const topic = this.#topics.get(record.topic) ?? (await this.#loadTopic(record.topic));
    const messages = record.messages;
    if (messages.length === 0) return [];
    const now = Date.now();
    const prepared = messages.map((message, index) => this.#prepare(topic, message, index, now));
    const delivery = new Delivery(messages.length);
    for (let i = 0; i < prepared.length; i++) {
      const { record: batchRecord, size, partition } = prepared[i];
      if (this.#hasSpace(size)) this.#buffered += size;
      else await this.#waitForSpace(size); // reserves the space when it wakes
      const p = partition >= 0 ? partition : this.#stickyPartition(topic);
      this.#append(topic, p, { record: batchRecord, size, delivery, index: i });
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

  // ------------------------------------------------------------------------------------------------
  // records in

  #prepare(topic: TopicState, message: Message, index: number, now: number): { record: BatchRecord; size: number; partition: number } {
    if (message === null || typeof message !== 'object') throw invalidArgument(`message ${index} must be an object`);
    const key = toBytes(message.key, `message ${index} key`);
    const value = toBytes(message.value, `message ${index} value`);
    let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
    let headers: RecordHeader[] | undefined;
    if (message.headers) {
      headers = [];
      for (const [name, raw] of Object.entries(message.headers)) {
        if (raw === undefined) continue;
        const values = Array.isArray(raw) ? raw : [raw];
        for (const v of values) {
          const bytes = toBytes(v as string | Uint8Array | null, `message ${index} header ${name}`);
          headers.push({ key: name, value: bytes });
          size += name.length * 3 + (bytes?.length ?? 0) + 2;
        }
      }
    }
    if (size - RECORD_OVERHEAD > LIMITS.maxRecordBytes) {
      throw new SluiceClientError('PAYLOAD_TOO_LARGE', `message ${index} is ${size - RECORD_OVERHEAD} bytes; the limit is ${LIMITS.maxRecordBytes}`, {
        details: { index, limit: LIMITS.maxRecordBytes },
      });
    }
    let timestamp = now;
    if (message.timestamp !== undefined) {
      timestamp = Number(message.timestamp);
      if (!Number.isSafeInteger(timestamp)) throw invalidArgument(`message ${index} timestamp must be an integer number of ms, got ${message.timestamp}`);
    }
    let partition = -1;
    if (message.partition !== undefined) {
      partition = message.partition;
    } else if (this.#partitioner) {
      partition = this.#partitioner({ topic: topic.name, partitionCount: topic.partitionCount, key, message }) ?? -1;
      if (partition === -1 && key !== null) partition = keyPartition(key, topic.partitionCount);
    } else if (key !== null) {
      partition = keyPartition(key, topic.partitionCount);
    }
    if (partition !== -1 && (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitionCount)) {
      throw invalidArgument(`message ${index}: partition ${partition} does not exist in topic ${topic.name} (0-${topic.partitionCount - 1})`);
    }
    return { record: { key, value, headers, timestamp }, size, partition };
  }

  #stickyPartition(topic: TopicState): number {
    const max = this.#options.maxBatchBytes;
    return topic.sticky.choose(
      topic.partitionCount,
      (p) => topic.queues[p].bytes >= max,
      (p) => topic.queues[p].bytes + (topic.queues[p].inFlight ? max : 0),
    );
  }

  #append(topic: TopicState, partition: number, pending: Pending): void {
    const queue = topic.queues[partition];
    if (queue.records.length === 0) {
      queue.firstAt = Date.now();
      topic.active.add(queue);
    }
    queue.records.push(pending);
    queue.bytes += pending.size;
    if (queue.bytes >= this.#options.maxBatchBytes && !queue.inFlight) this.#scheduleDrain();
  }

  async #loadTopic(name: string): Promise<TopicState> {
    let loading = this.#loading.get(name);
    if (!loading) {
      loading = withRetry(this.#context.retry, () => this.#context.api.describeTopic(name)).then(
        (description) => {
          const state = this.#topics.get(name) ?? new TopicState(name, description.partitions.length);
          this.#topics.set(name, state);
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
  // sender

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    const { lingerMs, maxBatchBytes } = this.#options;
    const now = Date.now();
    const urgent = this.#flushing > 0 || this.#spaceWaiters.length > 0;
    let wakeAt = Infinity;
    for (const topic of this.#topics.values()) {
      if (this.#inFlightRequests >= this.#options.maxInFlightRequests) break;
      if (topic.active.size === 0) continue;
      const sendable: PartitionQueue[] = [];
      let ready = false;
      for (const queue of topic.active) {
        if (queue.inFlight) continue;
        sendable.push(queue);
        if (urgent || queue.bytes >= maxBatchBytes || now - queue.firstAt >= lingerMs) ready = true;
        else wakeAt = Math.min(wakeAt, queue.firstAt + lingerMs);
      }
      if (!ready) continue;
      sendable.sort((a, b) => a.firstAt - b.firstAt);
      let next = 0;
      while (next < sendable.length && this.#inFlightRequests < this.#options.maxInFlightRequests) {
        const sections: Section[] = [];
        let bytes = 0;
        while (next < sendable.length) {
          const queue = sendable[next];
          const room = this.#options.maxRequestBytes - bytes;
          if (sections.length > 0 && Math.min(queue.bytes, maxBatchBytes) > room) break;
          const taken = this.#take(topic, queue, room);
          sections.push(taken.section);
          bytes += taken.bytes;
          next++;
        }
        void this.#dispatch(topic, sections, bytes);
      }
    }
    this.#armTimer(wakeAt);
  }

  /** Takes records from the front of a queue: up to `room` bytes (at least one record), cut into batches. */
  #take(topic: TopicState, queue: PartitionQueue, room: number): { section: Section; bytes: number } {
    const max = this.#options.maxBatchBytes;
    const batches: Pending[][] = [];
    let batch: Pending[] = [];
    let batchBytes = 0;
    let bytes = 0;
    let i = 0;
    const records = queue.records;
    for (; i < records.length; i++) {
      const size = records[i].size;
      if (i > 0 && bytes + size > room) break;
      if (batch.length > 0 && batchBytes + size > max) {
        batches.push(batch);
        batch = [];
        batchBytes = 0;
      }
      batch.push(records[i]);
      batchBytes += size;
      bytes += size;
    }
    batches.push(batch);
    if (i === records.length) {
      queue.records = [];
      queue.bytes = 0;
      topic.active.delete(queue);
    } else {
      queue.records = records.slice(i);
      queue.bytes -= bytes;
    }
    queue.inFlight = true;
    return { section: { queue, batches }, bytes };
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

  async #dispatch(topic: TopicState, sections: Section[], bytes: number): Promise<void> {
    this.#inFlightRequests++;
    const { api, runtime, logger } = this.#context;
    const options = this.#options;
    try {
      const body = await encodeProduceRequest(
        sections.map((s) => ({ partition: s.queue.partition, batches: s.batches.map((b) => b.map((p) => p.record)) })),
        { codec: options.codec, compressor: runtime.compressor, level: options.compressionLevel },
      );
      const idempotencyKey = options.idempotent ? `${this.#producerId}.${this.#sequence++}` : undefined;
      const results = await withRetry(options.retry, () => api.produceBatches(topic.name, body, idempotencyKey), {
        onRetry: (error, retry, delayMs) =>
          logger.warn(`produce to ${topic.name} failed, retrying`, { error: String(error), retry: retry + 1, delayMs: Math.round(delayMs), idempotencyKey }),
      });
      const byPartition = new Map(results.map((r) => [r.partition, r]));
      for (const section of sections) {
        const result = byPartition.get(section.queue.partition);
        const count = section.batches.reduce((n, b) => n + b.length, 0);
        if (!result || result.recordCount !== count) {
          throw new SluiceClientError('BAD_RESPONSE', `produce answer for partition ${section.queue.partition}: ${result?.recordCount ?? 'no'} records, sent ${count}`);
        }
      }
      for (const section of sections) {
        const partition = section.queue.partition;
        let offset = byPartition.get(partition)!.baseOffset;
        for (const batch of section.batches) {
          for (const pending of batch) {
            pending.delivery.done(pending.index, { topicName: topic.name, partition, offset: offset.toString() });
            offset++;
          }
        }
      }
    } catch (error) {
      for (const section of sections) for (const batch of section.batches) for (const pending of batch) pending.delivery.fail(error);
    } finally {
      this.#inFlightRequests--;
      for (const section of sections) section.queue.inFlight = false;
      this.#releaseSpace(bytes);
      this.#scheduleDrain();
    }
  }
}
