/**
 * Reading one partition from an offset, by the cheapest path that works:
 *
 * 1. direct (default): the locations route returns presigned ranged GETs; the ranges are read
 *    straight from the object store (several at once), so the data never passes through the API.
 *    Small batches that the server keeps inline in its log come in the locations answer itself
 *    (`batchesBase64`), so they cost no GET at all;
 * 2. the fetch route with Accept: application/vnd.kafka.record-batches, when direct reads are not
 *    possible: the locations route answers 400 INVALID_REQUEST where the store cannot presign (then
 *    direct reads stay off for this consumer), or a presigned GET fails (expired, object compacted
 *    away, no CORS on the bucket...; then direct reads pause for directReadsRetryMs).
 *
 * Both paths long-poll at the end of the log (maxWaitMs) and return whole batches up to maxBytes,
 * decoded here (protocol/decode.ts).
 */
import type { ClientContext } from '../context.ts';
import { isAbort, SluiceClientError } from '../errors.ts';
import { decodeFetched, type DecodedBatch } from '../protocol/decode.ts';
import { mapConcurrent } from '../../concurrency.ts';

export interface ReaderOptions {
  readonly maxBytes: number;
  readonly maxWaitMs: number;
  readonly directReads: boolean;
  readonly checkCrcs: boolean;
  /** Ranged GETs of one locations answer read at once. */
  readonly rangeConcurrency: number;
  /** After a failed presigned GET, read through the API for this long before trying again. */
  readonly directReadsRetryMs: number;
}

export interface Chunk {
  /** The offset asked for. */
  readonly offset: bigint;
  readonly batches: readonly DecodedBatch[];
  /** Where the next read continues (past aborted ranges too). */
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
  readonly via: 'direct' | 'api';
}

export interface ReaderStats {
  direct: number;
  api: number;
  rangeGets: number;
  /** Locations that came with their batches (inline in the log): read with no GET. */
  inlineRanges: number;
  fallbacks: number;
}

export class PartitionReader {
  readonly #context: ClientContext;
  readonly #options: ReaderOptions;
  #direct: 'unknown' | 'works' | 'unsupported';
  #directPausedUntil = 0;
  readonly stats: ReaderStats = { direct: 0, api: 0, rangeGets: 0, inlineRanges: 0, fallbacks: 0 };

  constructor(context: ClientContext, options: ReaderOptions) {
    this.#context = context;
    this.#options = options;
    this.#direct = options.directReads ? 'unknown' : 'unsupported';
  }

  /** 'unsupported' once the deployment said it cannot presign (or direct reads are off). */
  get directReads(): 'unknown' | 'works' | 'unsupported' {
    return this.#direct;
  }

  /** maxWaitMs: this read's long poll, instead of the consumer's (0 where the notification channel does the waiting). */
  async read(topic: string, partition: number, offset: bigint, signal?: AbortSignal, maxWaitMs = this.#options.maxWaitMs): Promise<Chunk> {
    if (this.#direct === 'unsupported' || Date.now() < this.#directPausedUntil) return this.#viaApi(topic, partition, offset, signal, maxWaitMs);
    const { api } = this.#context;
    const request = { offset, maxBytes: this.#options.maxBytes, maxWaitMs, signal };
    let answer;
    try {
      answer = await api.locations(topic, partition, request);
    } catch (error) {
      // 'unsupported' too: a concurrent read of another partition may have learnt it first, while this
      // request was on its way (before, this read rethrew and crashed the consumer).
      if (error instanceof SluiceClientError && error.code === 'INVALID_REQUEST' && this.#direct !== 'works') {
        // Either this deployment cannot presign, or the request itself is bad: the fetch route tells.
        const chunk = await this.#viaApi(topic, partition, offset, signal, maxWaitMs);
        if (this.directReads !== 'unsupported') this.#context.logger.info('the object store cannot presign reads; reading through the API', { topic, partition });
        this.#direct = 'unsupported';
        return chunk;
      }
      throw error;
    }
    this.#direct = 'works';
    if (answer.locations.length === 0) {
      return { offset, batches: [], nextOffset: answer.nextOffset, highWatermark: answer.highWatermark, via: 'direct' };
    }
    try {
      const ranges = await mapConcurrent(answer.locations, this.#options.rangeConcurrency, async (location) => {
        if ('batches' in location) {
          this.stats.inlineRanges++;
          return location.batches;
        }
        this.stats.rangeGets++;
        return api.http.getRange(location.url, location.range, signal);
      });
      const batches: DecodedBatch[] = [];
      for (let i = 0; i < ranges.length; i++) {
        const location = answer.locations[i];
        const decoded = await decodeFetched(ranges[i], {
          compressor: this.#context.runtime.compressor,
          fromOffset: offset,
          verify: this.#options.checkCrcs,
          stampFrom: location.baseOffset,
          expectLastOffset: location.lastOffset,
        });
        for (const batch of decoded) batches.push(batch);
      }
      this.stats.direct++;
      return { offset, batches, nextOffset: answer.nextOffset, highWatermark: answer.highWatermark, via: 'direct' };
    } catch (error) {
      if (isAbort(error) || signal?.aborted) throw error;
      this.stats.fallbacks++;
      this.#directPausedUntil = Date.now() + this.#options.directReadsRetryMs;
      this.#context.logger.warn('a direct read from the object store failed; reading through the API for a while', {
        topic,
        partition,
        error: String(error),
        retryDirectInMs: this.#options.directReadsRetryMs,
      });
      return this.#viaApi(topic, partition, offset, signal, maxWaitMs);
    }
  }

  async #viaApi(topic: string, partition: number, offset: bigint, signal: AbortSignal | undefined, maxWaitMs: number): Promise<Chunk> {
    const fetched = await this.#context.api.fetchBatches(topic, partition, {
      offset,
      maxBytes: this.#options.maxBytes,
      maxWaitMs,
      signal,
    });
    const batches = await decodeFetched(fetched.bytes, {
      compressor: this.#context.runtime.compressor,
      fromOffset: offset,
      verify: this.#options.checkCrcs,
    });
    this.stats.api++;
    return { offset, batches, nextOffset: fetched.nextOffset, highWatermark: fetched.highWatermark, via: 'api' };
  }
}
