/**
 * Small requests on the AWS adapters (s3rver + dynalite): produce requests of one ~1 KiB JSON event
 * (compressed with the SDK producer's default codec, zstd on Node: ~700 B stored), with
 * and without Idempotency-Key, one at a time (so every count is deterministic). Every SDK request is
 * counted (request-counter.ts) and priced (pricing.ts), on the HTTP API front door ($1 per million) and
 * on the Function URL front door (no per-request fee); every port call is recorded in order
 * (recording-stores.ts) for the latency model (latency-model.ts).
 *
 * Then one maintenance pass compacts what they wrote: the cost that follows every small request later.
 */
import { sha256Hex } from '../lib/hash.ts';
import { Engine } from '../lib/log/engine.ts';
import type { MetadataStore, ObjectStore } from '../lib/storage/ports.ts';
import { encodeRecordBatch } from '../lib/protocol/record-batch.ts';
import { defaultCodec } from '../lib/protocol/compression.ts';
import { encodeSluiceBatches } from '../lib/api/sluice-batches.ts';
import { parseSluiceBatches } from '../lib/http/sluice-batches.ts';
import { PUBLISHED_LATENCY_MS, latencyModel, type LatencyModel } from './latency-model.ts';
import { costOf, scaleUsage, usageOf, type Cost, type Usage } from './pricing.ts';
import { recordingStores, type RecordedCall } from './recording-stores.ts';
import { RequestCounter, countedEmulatorStores, type OperationCount } from './request-counter.ts';
import { median } from './stats.ts';
import { eventRecords } from './workload.ts';

export interface SmallRequestSettings {
  /** Produce requests per case. */
  readonly requests: number;
  readonly partitions: number;
}

/**
 * What a warm produce Lambda is billed for a small request: the service time on its critical path
 * (the latency model's p50) plus its own work (parse, validate, respond), stated, not measured.
 */
export const SMALL_PRODUCE_HANDLER_MS = 5;

export interface SmallRequestCase {
  readonly idempotent: boolean;
  readonly requests: number;
  readonly recordBytes: number;
  readonly bodyBytes: number;
  /** SDK requests per produce request, by `service operation target`. */
  readonly perRequest: ReadonlyArray<{ readonly label: string; readonly requests: number; readonly failed: number }>;
  readonly usagePerMillion: Usage;
  /** Through the HTTP API (API Gateway's per-request fee included). */
  readonly costPerMillion: Cost;
  /** Through the produce function's URL: the same minus API Gateway. */
  readonly functionUrlUsdPerMillion: number;
  /** The median request's model (all requests of a case make the same calls in the same order). */
  readonly latency: LatencyModel;
  readonly latencyFunctionUrl: LatencyModel;
  /** Sequential round trips over all requests: equal min and max mean every request did the same. */
  readonly roundTripsMin: number;
  readonly roundTripsMax: number;
  /** The maintenance pass after the produce requests, per million of them. */
  readonly compactionUsdPerMillion: number;
  readonly compactionPerRequest: ReadonlyArray<{ readonly label: string; readonly requests: number }>;
}

const TOPIC = 'bench-small';

export async function runSmallRequestBench(settings: SmallRequestSettings): Promise<SmallRequestCase[]> {
  const cases: SmallRequestCase[] = [];
  for (const idempotent of [false, true]) {
    const stores = await countedEmulatorStores();
    try {
      cases.push(await smallRequestCase(stores.objects, stores.metadata, stores.counter, { ...settings, idempotent }));
    } finally {
      await stores.stop();
    }
  }
  return cases;
}

/** One case on any pair of stores; `counter` counts the SDK requests under them. */
export async function smallRequestCase(
  objects: ObjectStore,
  metadata: MetadataStore,
  counter: RequestCounter,
  options: SmallRequestSettings & { readonly idempotent: boolean },
): Promise<SmallRequestCase> {
  const recording = recordingStores(objects, metadata);
  const engine = new Engine({ objects: recording.objects, metadata: recording.metadata, topicCacheMs: Number.POSITIVE_INFINITY });
  await engine.topics.create(TOPIC, options.partitions, { retentionMs: -1 });
  await engine.topics.get(TOPIC); // a warm Lambda: the topic is cached
  const records = eventRecords(options.requests, 17);
  // as the SDK producer sends them: compressed with its default codec (zstd on Node), one batch per request
  const bodies = records.map((record, i) => encodeSluiceBatches([{ partition: i % options.partitions, batches: [encodeRecordBatch([record], { codec: defaultCodec() })] }]));

  counter.reset();
  const perRequestCalls: RecordedCall[][] = [];
  for (const [i, body] of bodies.entries()) {
    recording.recorder.reset();
    const idempotency = options.idempotent ? { key: `small-${i}`, fingerprint: await sha256Hex(body) } : undefined;
    await engine.produce(TOPIC, parseSluiceBatches(body), idempotency);
    perRequestCalls.push(recording.recorder.calls);
  }
  const counts = counter.snapshot();

  const models = perRequestCalls.map((calls) => latencyModel(calls));
  const roundTrips = models.map((model) => model.sequentialRoundTrips);
  const typical = models.find((model) => model.sequentialRoundTrips === median(roundTrips)) ?? models[models.length >> 1];
  const billedSeconds = (typical.serviceP50Ms + SMALL_PRODUCE_HANDLER_MS) / 1000;
  const api = { invocations: options.requests, secondsEach: billedSeconds, payloadBytes: bodies.map((body) => body.length) };
  const usage = usageOf(counts, api);
  const perMillion = 1e6 / options.requests;
  const usagePerMillion = scaleUsage(usage, perMillion);
  const costPerMillion = costOf(usagePerMillion);
  const compaction = await compactionCost(objects, metadata, counter, perMillion, options.requests);
  return {
    idempotent: options.idempotent,
    requests: options.requests,
    recordBytes: records.reduce((sum, r) => sum + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0) / records.length,
    bodyBytes: bodies.reduce((sum, body) => sum + body.length, 0) / bodies.length,
    perRequest: perRequestOf(counts, options.requests),
    usagePerMillion,
    costPerMillion,
    functionUrlUsdPerMillion: costPerMillion.totalUsd - costPerMillion.apiGatewayUsd,
    latency: typical,
    latencyFunctionUrl: latencyModel(perRequestCalls[models.indexOf(typical)], PUBLISHED_LATENCY_MS.functionUrlAndWarmLambda),
    roundTripsMin: Math.min(...roundTrips),
    roundTripsMax: Math.max(...roundTrips),
    ...compaction,
  };
}

async function compactionCost(
  objects: ObjectStore,
  metadata: MetadataStore,
  counter: RequestCounter,
  perMillion: number,
  requests: number,
): Promise<Pick<SmallRequestCase, 'compactionUsdPerMillion' | 'compactionPerRequest'>> {
  const later = () => Date.now() + 30 * 60_000;
  const engine = new Engine({ objects, metadata, now: later, topicCacheMs: Number.POSITIVE_INFINITY });
  await engine.topics.get(TOPIC);
  counter.reset();
  await engine.maintain();
  const counts = counter.snapshot();
  // S3 and DynamoDB requests only: the maintenance Lambda runs on a timer, whatever the request count.
  const cost = costOf(scaleUsage(usageOf(counts, { invocations: 0, secondsEach: 0, payloadBytes: [] }), perMillion));
  return {
    compactionUsdPerMillion: cost.s3Usd + cost.dynamoUsd,
    compactionPerRequest: perRequestOf(counts, requests).map(({ label, requests: perRequest }) => ({ label, requests: perRequest })),
  };
}

function perRequestOf(counts: readonly OperationCount[], requests: number): SmallRequestCase['perRequest'] {
  return counts.map((count) => ({
    label: `${count.service === 'DynamoDB' ? 'DDB' : count.service} ${count.operation} ${count.target}`,
    requests: count.requests / requests,
    failed: count.failed / requests,
  }));
}
