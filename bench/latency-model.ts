/**
 * A model of the produce acknowledgement latency on AWS, since the emulators' latencies say nothing
 * about the real services: the calls one request makes, in the order they started and ended (from
 * recording-stores.ts), give its critical path of sequential round trips; each round trip on it is
 * charged a published latency of its service, plus the front door and a warm Lambda.
 *
 * A call depends on every call that ended before it started (the engine awaits them; calls in flight
 * together run in parallel). The p99 figure charges every round trip on the path its p99, so it is an
 * upper bound of the request's p99 (tails of independent calls rarely line up), which is the honest
 * side to err on.
 */
import type { RecordedCall, StoreKind } from './recording-stores.ts';

export interface ServiceLatency {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Published or widely measured latencies, same region, small items and objects (all stated, none measured here):
 * - S3 Standard PUT of a small object: p50 ~30 ms, p99 ~100 ms. AWS's "Best practices design patterns:
 *   optimizing Amazon S3 performance" (docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html)
 *   says applications "can achieve consistent small object latencies ... of roughly 100-200 milliseconds";
 *   100 ms is the low end of that, so a p99 of 200 ms would add ~100 ms per S3 round trip on the path.
 *   S3 Express One Zone promises "single-digit millisecond" requests (its product page).
 * - S3 GET (small ranged read): the same order as a PUT; p50 ~20 ms, p99 ~80 ms.
 * - DynamoDB single-item read or write: "single-digit millisecond performance at any scale" (the
 *   DynamoDB product page and developer guide); p50 ~5 ms, p99 ~20 ms for on-demand tables in-region.
 * - API Gateway HTTP API + a warm Lambda invocation: ~10 ms p50, ~30 ms p99 of overhead (API Gateway's
 *   Latency minus IntegrationLatency, plus Lambda's invoke path without Init).
 * - Lambda Function URL + a warm Lambda: no API Gateway hop; ~7 ms p50, ~25 ms p99.
 */
export const PUBLISHED_LATENCY_MS = {
  s3Put: { p50Ms: 30, p99Ms: 100 },
  s3Get: { p50Ms: 20, p99Ms: 80 },
  dynamoDb: { p50Ms: 5, p99Ms: 20 },
  apiGatewayAndWarmLambda: { p50Ms: 10, p99Ms: 30 },
  functionUrlAndWarmLambda: { p50Ms: 7, p99Ms: 25 },
} as const satisfies Record<string, ServiceLatency>;

export interface LatencyModel {
  /** Round trips on the critical path, by store: what the latencies multiply. */
  readonly sequentialRoundTrips: number;
  readonly sequentialObjectCalls: number;
  readonly sequentialMetadataCalls: number;
  /** Service time on the critical path (what a warm Lambda waits for; it bills about this long). */
  readonly serviceP50Ms: number;
  readonly serviceP99Ms: number;
  /** Plus the front door and the Lambda invocation: what the producer sees. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The critical path itself, e.g. `object put ingest object → metadata update partition head → ...`. */
  readonly path: readonly string[];
}

export function latencyOf(call: Pick<RecordedCall, 'store' | 'operation'>): ServiceLatency {
  if (call.store === 'metadata') return PUBLISHED_LATENCY_MS.dynamoDb;
  return call.operation === 'put' ? PUBLISHED_LATENCY_MS.s3Put : PUBLISHED_LATENCY_MS.s3Get;
}

/**
 * The longest chain of dependent calls, weighted by `weight`: each call finishes `weight(call)` after
 * the latest finish of the calls that ended before it started. Returns the chain, first call first.
 */
export function criticalPath(calls: readonly RecordedCall[], weight: (call: RecordedCall) => number): { length: number; chain: RecordedCall[] } {
  const ordered = [...calls].sort((a, b) => a.startedAt - b.startedAt);
  const finish = new Map<RecordedCall, { at: number; after?: RecordedCall }>();
  for (const call of ordered) {
    if (call.endedAt < call.startedAt) throw new Error(`call ${call.operation} ${call.target} has not ended`);
    let after: RecordedCall | undefined;
    for (const previous of ordered) {
      if (previous.startedAt >= call.startedAt) break;
      if (previous.endedAt < call.startedAt && (!after || finish.get(previous)!.at > finish.get(after)!.at)) after = previous;
    }
    finish.set(call, { at: (after ? finish.get(after)!.at : 0) + weight(call), after });
  }
  let last: RecordedCall | undefined;
  for (const call of ordered) if (!last || finish.get(call)!.at > finish.get(last)!.at) last = call;
  const chain: RecordedCall[] = [];
  for (let call = last; call; call = finish.get(call)!.after) chain.unshift(call);
  return { length: last ? finish.get(last)!.at : 0, chain };
}

/** The model for one request's calls, behind the given front door. */
export function latencyModel(calls: readonly RecordedCall[], frontDoor: ServiceLatency = PUBLISHED_LATENCY_MS.apiGatewayAndWarmLambda): LatencyModel {
  const p50 = criticalPath(calls, (call) => latencyOf(call).p50Ms);
  const p99 = criticalPath(calls, (call) => latencyOf(call).p99Ms);
  const trips = criticalPath(calls, () => 1);
  const countOn = (store: StoreKind) => trips.chain.filter((call) => call.store === store).length;
  return {
    sequentialRoundTrips: trips.length,
    sequentialObjectCalls: countOn('object'),
    sequentialMetadataCalls: countOn('metadata'),
    serviceP50Ms: p50.length,
    serviceP99Ms: p99.length,
    p50Ms: p50.length + frontDoor.p50Ms,
    p99Ms: p99.length + frontDoor.p99Ms,
    path: p50.chain.map((call) => `${call.store} ${call.operation} ${call.target}`),
  };
}
