/**
 * The sender (Kafka's Sender): one produce request for a topic's ready partitions, retried with the
 * same bytes and the same Idempotency-Key (the server appends them once and answers with the first
 * attempt's offsets, even if that attempt died halfway); only retriable errors are retried (error
 * table), with backoff and jitter. Every record's delivery is settled, with its offset or the error.
 */
import type { Codec } from '../../protocol/codecs.ts';
import type { ClientContext } from '../context.ts';
import { SluiceClientError } from '../errors.ts';
import { encodeProduceRequest } from '../protocol/produce-request.ts';
import { withRetry, type RetryPolicy } from '../retry/retry.ts';
import { randomId } from '../util/async.ts';
import type { ReadyRequest } from './accumulator.ts';

export interface SenderOptions {
  readonly codec: Codec;
  readonly compressionLevel: number | undefined;
  readonly idempotent: boolean;
  readonly retry: RetryPolicy;
}

export class Sender {
  readonly #context: ClientContext;
  readonly #options: SenderOptions;
  readonly #producerId = randomId();
  #sequence = 0;

  constructor(context: ClientContext, options: SenderOptions) {
    this.#context = context;
    this.#options = options;
  }

  /** Sends the request and settles every record's delivery; never rejects. */
  async send({ topic, sections }: ReadyRequest): Promise<void> {
    const { api, runtime, logger } = this.#context;
    const options = this.#options;
    try {
      const body = await encodeProduceRequest(
        sections.map((s) => ({ partition: s.queue.partition, batches: s.batches.map((b) => b.map((p) => p.record)) })),
        { codec: options.codec, compressor: runtime.compressor, level: options.compressionLevel },
      );
      const idempotencyKey = options.idempotent ? `${this.#producerId}.${this.#sequence++}` : undefined;
      let attempt = 0;
      const results = await withRetry(options.retry, () => api.produceBatches(topic.name, body, { idempotencyKey, attempt: ++attempt }), {
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
    }
  }
}
