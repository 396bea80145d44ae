/** POST /v1/topics/{topic}/records, JSON and binary. */
import { authorize } from '../../auth/api-keys.ts';
import { LIMITS } from '../../defaults.ts';
import { sha256Hex } from '../../hash.ts';
import type { Engine } from '../../log/engine.ts';
import { parseJsonProduce } from '../json-records.ts';
import { invalid, json, jsonBody, mediaTypeOf, route, type Route } from '../router.ts';
import { parseSluiceBatches } from '../sluice-batches.ts';
import { MEDIA_SLUICE_BATCHES } from '../types.ts';

export function produceRoutes(engine: Engine, now: () => number): Route[] {
  return [
    route('POST', '/v1/topics/:topic/records', async ({ request, params, principal }) => {
      authorize(principal, 'produce', { topic: params.topic });
      const topic = await engine.topics.get(params.topic);
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > LIMITS.maxIdempotencyKeyLength)) {
        throw invalid(`Idempotency-Key must be 1-${LIMITS.maxIdempotencyKeyLength} characters`, 'Idempotency-Key');
      }
      const mediaType = mediaTypeOf(request);
      const idempotency = idempotencyKey
        ? { key: idempotencyKey, fingerprint: await sha256Hex(Buffer.concat([Buffer.from(`${mediaType}\n`), request.body])) }
        : undefined;
      if (mediaType === MEDIA_SLUICE_BATCHES) {
        const results = await engine.produce(topic.name, parseSluiceBatches(request.body), idempotency);
        return json(200, {
          partitions: results.map((r) => ({ partition: r.partition, baseOffset: r.baseOffset.toString(), recordCount: r.recordCount })),
        });
      }
      // Unkeyed records of one request go to one partition (Kafka's sticky partitioning); the choice
      // is derived from the Idempotency-Key when there is one, so a retry maps records identically.
      const unkeyedPartition = idempotency
        ? Number.parseInt(idempotency.fingerprint.slice(0, 8), 16) % topic.partitions
        : Math.floor(Math.random() * topic.partitions);
      const { appends, placement } = parseJsonProduce(jsonBody(request), topic, { now: now(), unkeyedPartition });
      const results = await engine.produce(topic.name, appends, idempotency);
      const bases = new Map(results.map((r) => [r.partition, r.baseOffset]));
      return json(200, {
        records: placement.map((p) => ({ partition: p.partition, offset: (bases.get(p.partition)! + BigInt(p.index)).toString() })),
      });
    }),
  ];
}
