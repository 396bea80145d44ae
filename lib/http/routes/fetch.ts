/** Reading partitions: records (JSON or Kafka batches), presigned locations, offsets by time. */
import { authorize } from '../../auth/api-keys.ts';
import { DEFAULTS, LIMITS } from '../../defaults.ts';
import type { Engine } from '../../log/engine.ts';
import { writeBaseOffset } from '../../protocol/record-batch.ts';
import { jsonRecordsWithin } from '../json-records.ts';
import { intParam, invalid, json, offsetParam, optionalInt, route, type Route } from '../router.ts';
import { MEDIA_KAFKA_BATCHES, type HttpRequest } from '../types.ts';

function readOptions(request: HttpRequest) {
  return {
    offset: offsetParam(request.query.get('offset')),
    maxBytes: optionalInt(request.query.get('maxBytes'), 'maxBytes', 1),
    maxWaitMs: optionalInt(request.query.get('maxWaitMs'), 'maxWaitMs', 0, LIMITS.maxWaitMs),
    signal: request.signal,
  };
}

export function fetchRoutes(engine: Engine): Route[] {
  return [
    route('GET', '/v1/topics/:topic/partitions/:partition/records', async ({ request, params, principal }) => {
      authorize(principal, 'consume', { topic: params.topic });
      const partition = intParam(params.partition, 'partition');
      const options = readOptions(request);
      const result = await engine.fetch(params.topic, partition, options);
      if ((request.headers.accept ?? '').includes(MEDIA_KAFKA_BATCHES)) {
        const body = new Uint8Array(result.batches.reduce((n, b) => n + b.bytes.length, 0));
        let position = 0;
        for (const batch of result.batches) {
          body.set(batch.bytes, position);
          writeBaseOffset(body, position, batch.baseOffset);
          position += batch.bytes.length;
        }
        return {
          status: 200,
          headers: {
            'content-type': MEDIA_KAFKA_BATCHES,
            'sluice-next-offset': result.nextOffset.toString(),
            'sluice-high-watermark': result.highWatermark.toString(),
          },
          body,
        };
      }
      // maxBytes bounds the decompressed record data of the answer too, not only the stored bytes read.
      const decoded = jsonRecordsWithin(result.batches, options.offset, Math.min(options.maxBytes ?? DEFAULTS.fetchMaxBytes, LIMITS.maxFetchBytes));
      const nextOffset = (decoded.nextOffset ?? result.nextOffset).toString();
      // The same headers as the binary form, so a proxy or the Lambda glue can see the lag without the body.
      return json(
        200,
        { records: decoded.records, nextOffset, highWatermark: result.highWatermark.toString() },
        { 'sluice-next-offset': nextOffset, 'sluice-high-watermark': result.highWatermark.toString() },
      );
    }),
    route('GET', '/v1/topics/:topic/partitions/:partition/locations', async ({ request, params, principal }) => {
      authorize(principal, 'consume', { topic: params.topic });
      const result = await engine.locations(params.topic, intParam(params.partition, 'partition'), readOptions(request));
      return json(200, {
        locations: result.locations.map((l) => ({ url: l.url, range: l.range, baseOffset: l.baseOffset.toString(), lastOffset: l.lastOffset.toString() })),
        nextOffset: result.nextOffset.toString(),
        highWatermark: result.highWatermark.toString(),
      });
    }),
    route('GET', '/v1/topics/:topic/partitions/:partition/offsets', async ({ request, params, principal }) => {
      authorize(principal, 'consume', { topic: params.topic });
      const timestamp = optionalInt(request.query.get('timestamp'), 'timestamp', 0);
      if (timestamp === undefined) throw invalid('timestamp: expected a time in ms since the epoch, got nothing', 'timestamp');
      const offset = await engine.offsetForTimestamp(params.topic, intParam(params.partition, 'partition'), timestamp);
      return json(200, { offset: offset.toString() });
    }),
  ];
}
