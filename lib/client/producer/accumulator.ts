/**
 * The record accumulator (Kafka's RecordAccumulator): per-partition queues of records waiting to be
 * sent, and the choice of what goes next.
 *
 * - A partition is ready when its queued records reach maxBatchBytes, or the oldest has waited
 *   lingerMs, or the caller says it is urgent (flush()/disconnect() waiting, send() blocked on
 *   maxBufferedBytes).
 * - When any partition of a topic is ready, every idle partition of that topic with queued records
 *   goes too (as Kafka drains all partitions of a broker): one request per topic (an ingest object
 *   never mixes topics), each partition's records cut into RecordBatches of at most maxBatchBytes, at
 *   most maxRequestBytes of records per request.
 * - One request in flight per partition (so a partition's records land in the order they were sent,
 *   retries included). While a partition's request is in flight, its next batch fills up: under load,
 *   batches grow towards maxBatchBytes by themselves.
 * - Partitions ready by lingerMs alone wait (bounded) for the topic's requests in flight, so that the
 *   topic's partitions keep travelling together (#holdUntil).
 */
import { LIMITS } from '../../api/limits.ts';
import type { ProducerRecord as BatchRecord, RecordHeader } from '../../protocol/record-batch-core.ts';
import { invalidArgument, SluiceClientError } from '../errors.ts';
import type { Message, RecordMetadata } from '../types.ts';
import { keyPartition, StickyPartition, type Partitioner } from './partitioner.ts';

/** Record overhead beyond key, value and headers: length, attributes, deltas, lengths (estimate). */
const RECORD_OVERHEAD = 12;

const textEncoder = new TextEncoder();

/** The longest a partition ready by lingerMs waits for its topic's requests in flight (#holdUntil). */
export const MAX_HOLD_MS = 1000;

/** One send() call: its records' results, in message order. */
export class Delivery {
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

export interface Pending {
  readonly record: BatchRecord;
  readonly size: number;
  readonly delivery: Delivery;
  readonly index: number;
}

export class PartitionQueue {
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

export class TopicState {
  readonly name: string;
  /** Grows when a look at the topic finds partitions added (never shrinks). */
  partitionCount: number;
  readonly queues: PartitionQueue[];
  /** When the partition count was last read (the producer reads it again after metadataMaxAgeMs). */
  loadedAt: number;
  /** Queues holding records, in no particular order. */
  readonly active = new Set<PartitionQueue>();
  readonly sticky = new StickyPartition();
  /** When each of the topic's requests in flight was sent (one element per request). */
  readonly inFlightSince: number[] = [];
  /** How long the topic's last completed request took (send to answer, retries included); undefined before the first. */
  lastRoundTripMs: number | undefined;

  constructor(name: string, partitionCount: number, loadedAt = 0) {
    this.name = name;
    this.partitionCount = partitionCount;
    this.queues = Array.from({ length: partitionCount }, (_, p) => new PartitionQueue(p));
    this.loadedAt = loadedAt;
  }

  /** Partitions were added to the topic: records may go to them from now on. */
  grow(partitionCount: number): void {
    for (let p = this.partitionCount; p < partitionCount; p++) this.queues.push(new PartitionQueue(p));
    this.partitionCount = Math.max(this.partitionCount, partitionCount);
  }
}

export interface Section {
  readonly queue: PartitionQueue;
  readonly batches: Pending[][];
}

function toBytes(value: string | Uint8Array | null | undefined, what: string): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return textEncoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw invalidArgument(`${what} must be a string, a Uint8Array or null`);
}

/** A message as a batch record with its size estimate and its partition (-1: sticky, chosen when appended). */
export function prepareRecord(topic: TopicState, message: Message, index: number, now: number, partitioner: Partitioner | undefined): PreparedRecord {
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
  } else if (partitioner) {
    partition = partitioner({ topic: topic.name, partitionCount: topic.partitionCount, key, message }) ?? -1;
    if (partition === -1 && key !== null) partition = keyPartition(key, topic.partitionCount);
  } else if (key !== null) {
    partition = keyPartition(key, topic.partitionCount);
  }
  if (partition !== -1 && (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitionCount)) {
    throw invalidArgument(`message ${index}: partition ${partition} does not exist in topic ${topic.name} (0-${topic.partitionCount - 1})`);
  }
  return { record: { key, value, headers, timestamp }, size, partition };
}

export interface PreparedRecord {
  readonly record: BatchRecord;
  readonly size: number;
  readonly partition: number;
}

/** One produce request to send: a topic and, per partition, its batches. */
export interface ReadyRequest {
  readonly topic: TopicState;
  readonly sections: Section[];
  /** Record bytes, released from the buffer when the request completes. */
  readonly bytes: number;
  /** When ready() cut it (Date.now()). */
  readonly sentAt: number;
}

export class RecordAccumulator {
  readonly topics = new Map<string, TopicState>();
  readonly #lingerMs: number;
  readonly #maxBatchBytes: number;
  readonly #maxRequestBytes: number;

  constructor(options: { readonly lingerMs: number; readonly maxBatchBytes: number; readonly maxRequestBytes: number }) {
    this.#lingerMs = options.lingerMs;
    this.#maxBatchBytes = options.maxBatchBytes;
    this.#maxRequestBytes = options.maxRequestBytes;
  }

  /** Queues a record; true when its partition is now full and idle (worth draining at once). */
  append(topic: TopicState, partition: number, pending: Pending, now = Date.now()): boolean {
    const queue = topic.queues[partition];
    if (queue.records.length === 0) {
      queue.firstAt = now;
      topic.active.add(queue);
    }
    queue.records.push(pending);
    queue.bytes += pending.size;
    return queue.bytes >= this.#maxBatchBytes && !queue.inFlight;
  }

  /** The partition for a record without key or partition: Kafka's sticky choice, away from full or busy queues. */
  stickyPartition(topic: TopicState): number {
    const max = this.#maxBatchBytes;
    return topic.sticky.choose(
      topic.partitionCount,
      (p) => topic.queues[p].bytes >= max,
      (p) => topic.queues[p].bytes + (topic.queues[p].inFlight ? max : 0),
    );
  }

  /**
   * Takes what is ready into at most `slots` requests (their partitions are then in flight until
   * `sent`). `wakeAt`: when the next partition becomes ready by lingerMs (Infinity: none waits).
   */
  ready(now: number, urgent: boolean, slots: number): { requests: ReadyRequest[]; wakeAt: number } {
    const requests: ReadyRequest[] = [];
    let wakeAt = Infinity;
    for (const topic of this.topics.values()) {
      if (requests.length >= slots) break;
      if (topic.active.size === 0) continue;
      const sendable: PartitionQueue[] = [];
      let ready = false;
      let full = urgent;
      for (const queue of topic.active) {
        if (queue.inFlight) continue;
        sendable.push(queue);
        if (queue.bytes >= this.#maxBatchBytes) full = true;
        if (urgent || queue.bytes >= this.#maxBatchBytes || now - queue.firstAt >= this.#lingerMs) ready = true;
        else wakeAt = Math.min(wakeAt, queue.firstAt + this.#lingerMs);
      }
      if (!ready) continue;
      const holdUntil = full ? 0 : this.#holdUntil(topic);
      if (now < holdUntil) {
        wakeAt = Math.min(wakeAt, holdUntil);
        continue;
      }
      sendable.sort((a, b) => a.firstAt - b.firstAt);
      let next = 0;
      while (next < sendable.length && requests.length < slots) {
        const sections: Section[] = [];
        let bytes = 0;
        while (next < sendable.length) {
          const queue = sendable[next];
          const room = this.#maxRequestBytes - bytes;
          if (sections.length > 0 && Math.min(queue.bytes, this.#maxBatchBytes) > room) break;
          const taken = this.#take(topic, queue, room);
          sections.push(taken.section);
          bytes += taken.bytes;
          next++;
        }
        requests.push({ topic, sections, bytes, sentAt: now });
        topic.inFlightSince.push(now);
      }
    }
    return { requests, wakeAt };
  }

  /** The request's partitions may send again. */
  sent(request: ReadyRequest, now = Date.now()): void {
    for (const section of request.sections) section.queue.inFlight = false;
    const since = request.topic.inFlightSince;
    const at = since.indexOf(request.sentAt);
    if (at >= 0) since.splice(at, 1);
    request.topic.lastRoundTripMs = now - request.sentAt;
  }

  /**
   * Partitions that are ready by lingerMs only (none full, nothing urgent) wait while the topic has a
   * request in flight, so that its partitions join them in the next request instead of going
   * separately: once a topic's partitions fall into two alternating requests (one in flight while
   * the others fill), they stay that way, and every record then pays for twice the requests (an
   * object, metadata writes and the HTTP exchange each; in AWS a PUT and DynamoDB writes). The wait
   * ends when the requests in flight are answered, or after twice the last round trip since the
   * newest of them was sent (a request that is retrying does not hold the others back for long), and
   * never later than MAX_HOLD_MS after it (a last round trip stretched by retries sets no long wait).
   */
  #holdUntil(topic: TopicState): number {
    if (topic.inFlightSince.length === 0 || topic.lastRoundTripMs === undefined) return 0;
    let newest = 0;
    for (const at of topic.inFlightSince) newest = Math.max(newest, at);
    return newest + Math.min(2 * topic.lastRoundTripMs, MAX_HOLD_MS);
  }

  /** Takes records from the front of a queue: up to `room` bytes (at least one record), cut into batches. */
  #take(topic: TopicState, queue: PartitionQueue, room: number): { section: Section; bytes: number } {
    const max = this.#maxBatchBytes;
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
}
