/** Reading partitions: records (JSON or Kafka batches), presigned locations (or inline batches), offsets by time. */
import type { Engine, FetchResult } from '../../log/engine.ts';
import { kafkaBatchesBody } from '../../log/stored-batches.ts';
import { MEDIA_KAFKA_BATCHES } from '../../api/media-types.ts';
import { jsonRecordsWithin } from '../json-records.ts';
import { API_DEFAULTS, LIMITS } from '../../api/limits.ts';
import { json, type Handlers } from '../router.ts';
import type { HttpRequest } from '../types.ts';
import { SluiceError } from '../../errors.ts';

function readOptions(query: { offset: string; maxBytes?: string; maxWaitMs?: string }, request: HttpRequest) {
  return {
    offset: BigInt(query.offset),
    maxBytes: query.maxBytes === undefined ? undefined : Number(query.maxBytes),
    maxWaitMs: query.maxWaitMs === undefined ? undefined : Number(query.maxWaitMs),
    signal: request.signal,
  };
}

/** The JSON form of a fetch answer; maxBytes bounds the decompressed record data too, not only the stored bytes read. */
export function jsonFetchAnswer(result: FetchResult, offset: bigint, maxBytes: number | undefined): { records: unknown[]; nextOffset: string; highWatermark: string } {
  const decoded = jsonRecordsWithin(result.batches, offset, Math.min(maxBytes ?? API_DEFAULTS.fetchMaxBytes, LIMITS.maxFetchBytes));
  return { records: decoded.records, nextOffset: (decoded.nextOffset ?? result.nextOffset).toString(), highWatermark: result.highWatermark.toString() };
}

/** Records between where a read stopped and the high watermark, for the ConsumerLag metric. */
function lagOf(result: { nextOffset: bigint; highWatermark: bigint }): number {
  return Number(result.highWatermark - result.nextOffset);
}

export function fetchHandlers(engine: Engine): Pick<Handlers, 'fetchRecords' | 'fetchLocations' | 'offsetForTimestamp' | 'waitForRecords' | 'topicThroughput'> {
  return {
    async fetchRecords({ request, params, query }) {
      const options = readOptions(query, request);
      const result = await engine.fetch(params.topic, Number(params.partition), options);
      const observed = { lag: lagOf(result) };
      // The same headers for both forms, so a proxy or a client can see the lag without the body.
      const readHeaders = { 'sluice-next-offset': result.nextOffset.toString(), 'sluice-high-watermark': result.highWatermark.toString() };
      if ((request.headers.accept ?? '').includes(MEDIA_KAFKA_BATCHES)) {
        return { status: 200, headers: { 'content-type': MEDIA_KAFKA_BATCHES, ...readHeaders }, body: kafkaBatchesBody(result.batches), observed };
      }
      const body = jsonFetchAnswer(result, options.offset, options.maxBytes);
      const answer = json(200, body, { ...readHeaders, 'sluice-next-offset': body.nextOffset });
      return { ...answer, observed };
    },
    async fetchLocations({ request, params, query }) {
      const result = await engine.locations(params.topic, Number(params.partition), readOptions(query, request));
      const answer = json(200, {
        locations: result.locations.map((l) => {
          const offsets = { baseOffset: l.baseOffset.toString(), lastOffset: l.lastOffset.toString() };
          if ('batches' in l) return { batchesBase64: Buffer.from(l.batches.buffer, l.batches.byteOffset, l.batches.length).toString('base64'), ...offsets };
          return { url: l.url, range: l.range, ...offsets };
        }),
        nextOffset: result.nextOffset.toString(),
        highWatermark: result.highWatermark.toString(),
      });
      return { ...answer, observed: { lag: lagOf(result) } };
    },
    async waitForRecords({ request, params, query }) {
      const positions = query.partitions.split(',').map((pair) => {
        const [partition, offset] = pair.split(':');
        return { partition: Number(partition), offset: BigInt(offset) };
      });
      const maxWaitMs = query.maxWaitMs === undefined ? undefined : Number(query.maxWaitMs);
      const ready = await engine.waitForRecords(params.topic, positions, { maxWaitMs, signal: request.signal });
      return json(200, {
        partitions: ready.map((p) => ({ partition: p.partition, highWatermark: p.highWatermark.toString(), logStartOffset: p.logStartOffset.toString() })),
      });
    },
    async topicThroughput({ params, query }) {
      const bucketMs = query.bucketMs === undefined ? API_DEFAULTS.throughputBucketMs : Number(query.bucketMs);
      if (bucketMs < 1) throw new SluiceError('INVALID_REQUEST', 'bucketMs must be at least 1');
      const to = query.to === undefined ? Date.now() : Number(query.to);
      const from = query.from === undefined ? to - API_DEFAULTS.throughputBuckets * bucketMs : Number(query.from);
      if (from >= to) throw new SluiceError('INVALID_REQUEST', 'from must be before to');
      if (Math.ceil((to - from) / bucketMs) > LIMITS.maxThroughputBuckets) {
        throw new SluiceError('INVALID_REQUEST', `at most ${LIMITS.maxThroughputBuckets} buckets: widen bucketMs or narrow from..to`);
      }
      const partition = query.partition === undefined ? undefined : Number(query.partition);
      const result = await engine.throughput(params.topic, { partition, bucketMs, from, to, maxEntries: LIMITS.maxThroughputEntries });
      return json(200, { topic: params.topic, ...(partition === undefined ? {} : { partition }), bucketMs, buckets: result.buckets, truncated: result.truncated });
    },
    async offsetForTimestamp({ params, query }) {
      const offset = await engine.offsetForTimestamp(params.topic, Number(params.partition), Number(query.timestamp));
      return json(200, { offset: offset.toString() });
    },
  };
}
