/** POST /v1/topics/{topic}/records, JSON and binary. */
import { SluiceError } from '../../errors.ts';
import { sha256Hex } from '../../hash.ts';
import type { Engine } from '../../log/engine.ts';
import type { AppendResult } from '../../log/produce.ts';
import type { Topic } from '../../log/topics.ts';
import { MEDIA_JSON } from '../../api/media-types.ts';
import { parseJsonProduce } from '../json-records.ts';
import { json, type Handlers } from '../router.ts';
import type { ObservedRequest } from '../types.ts';
import { parseSluiceBatches } from '../sluice-batches.ts';

/**
 * Told of every produce before it is answered: in AWS the produce function posts the notification
 * channel's append hints (lib/lambda/append-hints.ts). Locally the server's channel hears the engine's
 * append hook instead.
 */
export interface AppendHints {
  /** The topic is known, the append not yet done: work that does not depend on it (a lookup) starts here. The answer waits for the returned function, called with the committed results. */
  begin(topic: Topic): (results: readonly AppendResult[]) => Promise<AppendHintOutcome>;
}

/** What one produce's hints did: messages posted before the answer, whether the deadline cut them off, connections found gone (metrics: observability.ts). */
export interface AppendHintOutcome {
  readonly posted: number;
  readonly late: boolean;
  readonly gone: number;
}

function hintObservations(outcome: AppendHintOutcome | undefined): ObservedRequest | undefined {
  return outcome && { appendHintsPosted: outcome.posted, appendHintsLate: outcome.late ? 1 : 0, appendHintsGone: outcome.gone };
}

/** `Sluice-Attempt` from 2 on: the client says an earlier attempt of this request may have been appended. */
function isRetry(attempt: string | undefined): boolean {
  if (attempt === undefined) return false;
  if (!/^[1-9][0-9]{0,3}$/.test(attempt)) throw new SluiceError('INVALID_REQUEST', `sluice-attempt: expected an attempt number from 1 to 9999, got ${JSON.stringify(attempt)}`, { details: { field: 'sluice-attempt' } });
  return attempt !== '1';
}

export function produceHandlers(engine: Engine, now: () => number, hints?: AppendHints): Pick<Handlers, 'produce'> {
  return {
    async produce({ request, params, body, binary }) {
      const topic = await engine.topics.get(params.topic);
      const hint = hints?.begin(topic);
      // Checked by the router: 1 to LIMITS.maxIdempotencyKeyLength characters (the route table's headers).
      const idempotencyKey = request.headers['idempotency-key'];
      const mediaType = binary?.mediaType ?? MEDIA_JSON;
      const idempotency = idempotencyKey
        ? { key: idempotencyKey, fingerprint: await sha256Hex(`${mediaType}\n`, request.body), retry: isRetry(request.headers['sluice-attempt']) }
        : undefined;
      if (binary) {
        const results = await engine.produce(topic, parseSluiceBatches(binary.bytes), idempotency);
        const observed = hintObservations(await hint?.(results));
        return {
          ...json(200, { partitions: results.map((r) => ({ partition: r.partition, baseOffset: r.baseOffset.toString(), recordCount: r.recordCount })) }),
          observed,
        };
      }
      // Unkeyed records of one request go to one partition (Kafka's sticky partitioning); the choice
      // is derived from the Idempotency-Key when there is one, so a retry maps records identically —
      // over the partition count of its first attempt, should partitions have been added since.
      const receivedAt = now();
      const place = (partitions: number) =>
        parseJsonProduce(body!, { ...topic, partitions }, {
          now: receivedAt,
          unkeyedPartition: idempotency ? Number.parseInt(idempotency.fingerprint.slice(0, 8), 16) % partitions : Math.floor(Math.random() * partitions),
        });
      let placed = place(topic.partitions);
      const placeOver = (partitions: number) => (placed = place(partitions)).appends;
      const results = await engine.produce(topic, placed.appends, idempotency && { ...idempotency, placeOver });
      const { placement } = placed;
      const observed = hintObservations(await hint?.(results));
      const bases = new Map(results.map((r) => [r.partition, r.baseOffset]));
      return {
        ...json(200, { records: placement.map((p) => ({ partition: p.partition, offset: (bases.get(p.partition)! + BigInt(p.index)).toString() })) }),
        observed,
      };
    },
  };
}
