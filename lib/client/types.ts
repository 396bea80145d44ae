/** Public types shared by the producer, the consumer and the admin client (KafkaJS-shaped). */

/** Header values as sent: text (stored as UTF-8) or bytes; an array sends the key once per value. */
export type HeaderValue = string | Uint8Array | null;
export type MessageHeaders = Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>;

/** A record to send. */
export interface Message {
  /** Text is stored as UTF-8. Keyed records go to murmur2(key) % partitions, as in Kafka. */
  readonly key?: string | Uint8Array | null;
  readonly value: string | Uint8Array | null;
  /** Send to this partition (overrides the partitioner). */
  readonly partition?: number;
  readonly headers?: MessageHeaders;
  /** Milliseconds since the epoch, as a number or a decimal string. @default the time of the send() call */
  readonly timestamp?: number | string;
}

/** producer.send() argument. */
export interface ProducerRecord {
  readonly topic: string;
  readonly messages: readonly Message[];
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly Message[];
}

/** producer.sendBatch() argument. */
export interface ProducerBatch {
  readonly topicMessages: readonly TopicMessages[];
}

/** Where one sent record landed: one entry per message, in the order given. */
export interface RecordMetadata {
  readonly topicName: string;
  readonly partition: number;
  /** Decimal string (offsets can exceed 2^53). */
  readonly offset: string;
}

/** Header values as received: bytes; a key that occurs more than once gives an array, in order. */
export type ReceivedHeaders = Record<string, Uint8Array | null | Array<Uint8Array | null>>;

/** A record as consumed. On Node, key, value and header values are Buffers (views, not copies). */
export interface KafkaMessage {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** Milliseconds since the epoch, as a decimal string (KafkaJS style). */
  readonly timestamp: string;
  readonly offset: string;
  readonly headers: ReceivedHeaders;
  /** Kafka record attributes (always 0 in RecordBatch v2). */
  readonly attributes: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to consume (last processed + 1), as a decimal string. */
  readonly offset: string;
}

/** Compression codecs a client can produce with (snappy and lz4 are not supported). */
export type CompressionCodec = 'zstd' | 'gzip' | 'none';

export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}
