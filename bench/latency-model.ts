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

/**
 * The notification channel's hops in AWS, assumed (AWS publishes no latency figures for DynamoDB Streams
 * delivery, Lambda's shard polling or PostToConnection):
 * - streamRecord: a new item's stream record becomes readable, 200 ms p50 / 500 ms p99 (DynamoDB Streams
 *   is "near-real time"); shardPoll: Lambda polls each shard about 4 times a second (125 average, 250 worst);
 *   notifier: one head read and PostToConnection in the stream handler.
 * - postToConnection: one Management API call from a warm Lambda in the region: taken as the notifier's
 *   figure whole (15 / 60, which also covered a head read: the conservative side), the same order as
 *   an API Gateway request's own overhead above.
 * - webSocketDelivery: the frame from API Gateway to a consumer in the region, 5 / 20 (a consumer
 *   across the internet adds half its round trip here, and to its read).
 * - consumerRead: the consumer's read that the hint starts: API Gateway + a warm Lambda (10 / 30) and
 *   two DynamoDB reads (head, entry: 2 × 5 / 20); small batches are inline, so no S3 GET.
 */
export const CHANNEL_LATENCY_MS = {
  streamRecord: { p50Ms: 200, p99Ms: 500 },
  shardPoll: { p50Ms: 125, p99Ms: 250 },
  notifier: { p50Ms: 15, p99Ms: 60 },
  postToConnection: { p50Ms: 15, p99Ms: 60 },
  webSocketDelivery: { p50Ms: 5, p99Ms: 20 },
  consumerRead: { p50Ms: 20, p99Ms: 70 },
} as const satisfies Record<string, ServiceLatency>;

/** Sums of hops (every p99 charged: an upper bound, as for the produce ack). */
export function chain(...hops: readonly ServiceLatency[]): ServiceLatency {
  return { p50Ms: hops.reduce((sum, hop) => sum + hop.p50Ms, 0), p99Ms: hops.reduce((sum, hop) => sum + hop.p99Ms, 0) };
}

/**
 * The produce ack when the topic has subscribers: the append hints wait after the commit for the posts
 * (all in parallel, so one post's time), at most deadlineMs (lib/lambda/append-hints.ts). The
 * subscriber lookup runs alongside the append (one Query against its two or more sequential round
 * trips) or comes from the container's cache, so it is off the path.
 */
export function ackWithAppendHints(ack: ServiceLatency, deadlineMs: number, post: ServiceLatency = CHANNEL_LATENCY_MS.postToConnection): ServiceLatency {
  return { p50Ms: ack.p50Ms + Math.min(post.p50Ms, deadlineMs), p99Ms: ack.p99Ms + Math.min(post.p99Ms, deadlineMs) };
}

/** P(X > x) for a log-normal X fitted to a p50 and a p99. */
export function exceedance(latency: ServiceLatency, x: number): number {
  const sigma = Math.log(latency.p99Ms / latency.p50Ms) / Z99;
  return 1 - normalCdf(Math.log(x / latency.p50Ms) / sigma);
}

/**
 * The q-quantile of a mixture of log-normals (each fitted to a p50 and a p99), e.g. consumers told by
 * the hint and, for the posts the deadline cut off, by the fallback.
 */
export function mixtureQuantile(parts: ReadonlyArray<{ readonly share: number; readonly latency: ServiceLatency }>, q: number): number {
  let low = 0.01;
  let high = 100_000;
  for (let i = 0; i < 100; i++) {
    const mid = Math.sqrt(low * high);
    const above = parts.reduce((sum, part) => sum + part.share * exceedance(part.latency, mid), 0);
    if (above > 1 - q) low = mid;
    else high = mid;
  }
  return high;
}

const Z99 = 2.3263;

function normalCdf(z: number): number {
  // Abramowitz & Stegun 26.2.17 (error below 1e-7)
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989423 * Math.exp((-z * z) / 2);
  const tail = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return z >= 0 ? 1 - tail : tail;
}
