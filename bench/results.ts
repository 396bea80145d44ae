/**
 * bench/results/bench-results.json: the headline figures in a stable, machine-readable shape, for
 * tracking them across commits. A timed figure is `{ median, min, max }` over the run's repeats; a
 * counted one (requests priced at list prices, request counts, the latency model) is a number, because
 * it does not change from run to run. `units` says what each figure counts.
 */
import { PRODUCER_DEFAULTS } from '../lib/client/producer/producer.ts';
import type { AwsCase } from './aws-requests.ts';
import type { ContentionRun } from './contention.ts';
import type { BenchReport } from './report.ts';
import type { SmallRequestCase } from './small-requests.ts';
import type { ExpressIngestResult } from './express-ingest.ts';
import { spreadOf, type Spread } from './stats.ts';
import { KIB, MIB } from './workload.ts';

export interface BenchResults {
  readonly schemaVersion: 1;
  readonly profile: string;
  readonly startedAt: string;
  readonly repeats: number;
  readonly units: Readonly<Record<string, string>>;
  readonly produceSmallUsdPerMillion: {
    readonly withoutIdempotencyKey: number;
    readonly withIdempotencyKey: number;
    readonly functionUrlWithoutIdempotencyKey: number;
    readonly functionUrlWithIdempotencyKey: number;
  };
  readonly produceUsdPerGiB: { readonly '1MiB': number; readonly '64KiB': number };
  /** The same produce requests with ingest objects in S3 Express One Zone (bench/express-ingest.ts). */
  readonly produceUsdPerGiBExpressIngest?: {
    readonly '1MiB': number;
    readonly '64KiB': number;
    readonly functionUrl1MiB: number;
    readonly functionUrl64KiB: number;
    /** Directory-bucket storage until GC, per GiB raw (not in the figures above). */
    readonly storage64KiB: number;
  };
  readonly produceSmallUsdPerMillionExpressIngest?: {
    readonly withoutIdempotencyKey: number;
    readonly withIdempotencyKey: number;
    readonly functionUrlWithoutIdempotencyKey: number;
    readonly functionUrlWithIdempotencyKey: number;
  };
  readonly headWritesPerAppendHot: number;
  readonly failedConditionsPerAppendHot: number;
  readonly readsPerAppendHot: number;
  readonly partitionCeilingAppendsPerSecHot: number;
  readonly watermarkWritesPerAppendHot: number;
  readonly partitionKeyCeilingAppendsPerSecHot: number;
  readonly localProduceToRawFs: Spread;
  /** Against the fair baseline: temp file + fsync, rename, directory fsync per file. */
  readonly localProduceToDurableFs: Spread;
  readonly localFetchToRawFs: Spread;
  /** Every local Sluice/raw ratio (wall time), by name: baselines added later show up here too. */
  readonly localRatios: Readonly<Record<string, Spread>>;
  readonly encodeVsKafkajs1KiB: Spread;
  readonly decodeVsKafkajs1KiB: Spread;
  readonly sdkEndToEndRecordsPerSec: Spread;
  readonly sdkEndToEndRecordsPerSecByLingerMs: Readonly<Record<string, Spread>>;
  readonly produceLatencyModelP50Ms: number;
  readonly produceLatencyModelP99Ms: number;
  readonly produceLatencyModel: Readonly<Record<'withoutIdempotencyKey' | 'withIdempotencyKey', LatencyDetail>>;
  readonly hotPartition: {
    readonly producers: number;
    readonly appendsPerRun: number;
    readonly runs: number;
    readonly headWritesPerAppend: Spread;
    readonly failedConditionsPerAppend: Spread;
  };
}

interface LatencyDetail {
  readonly sequentialRoundTrips: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly functionUrlP50Ms: number;
  readonly functionUrlP99Ms: number;
  readonly path: readonly string[];
}

/** Keys the issue asks for (issue 14 part 7); checkResults() makes sure each is there in its shape. */
export const REQUIRED_RESULTS: Readonly<Record<string, 'count' | 'spread' | 'object'>> = {
  produceSmallUsdPerMillion: 'object',
  produceUsdPerGiB: 'object',
  headWritesPerAppendHot: 'count',
  failedConditionsPerAppendHot: 'count',
  localProduceToRawFs: 'spread',
  localProduceToDurableFs: 'spread',
  localFetchToRawFs: 'spread',
  encodeVsKafkajs1KiB: 'spread',
  decodeVsKafkajs1KiB: 'spread',
  sdkEndToEndRecordsPerSec: 'spread',
  produceLatencyModelP50Ms: 'count',
  produceLatencyModelP99Ms: 'count',
};

const UNITS: Record<string, string> = {
  produceSmallUsdPerMillion:
    'USD per million produce requests of one ~1 KiB record, list prices us-east-1: S3, DynamoDB, Lambda (billed for the modeled p50 service time + 5 ms) and, except functionUrl*, the HTTP API ($1/M)',
  produceUsdPerGiB: 'USD per GiB of uncompressed record batches produced, 1 partition per request, no Idempotency-Key, HTTP API front door',
  produceUsdPerGiBExpressIngest:
    "USD per GiB of uncompressed record batches produced with ingest objects in S3 Express One Zone (ingestObjects: { storage: 'express' }): the same requests as produceUsdPerGiB, directory-bucket requests at $0.00113/1,000 PUT plus $0.0032/GiB upload; functionUrl*: without API Gateway; storage64KiB: directory-bucket storage for GC's 25 min + one 5-min maintenance interval at $0.11/GB-month, not included in the others",
  produceSmallUsdPerMillionExpressIngest: 'as produceSmallUsdPerMillion, with ingest objects in S3 Express One Zone (1-record batches are inline in their log entries: no object either way)',
  headWritesPerAppendHot: 'writes to the partition head item per append, 16 producers on one partition, counted (failed conditions included)',
  failedConditionsPerAppendHot: 'head writes refused by their condition per append (billed), same run',
  readsPerAppendHot: 'DynamoDB reads (gets and queries) per append, same run',
  partitionCeilingAppendsPerSecHot: "1000 / headWritesPerAppendHot: DynamoDB's 1,000 writes/s per item",
  watermarkWritesPerAppendHot: 'writes to the watermark item beside the head (head#watermark) per append, same run (failed conditions included)',
  partitionKeyCeilingAppendsPerSecHot:
    "1000 / writes per append to the partition's items (head, watermark, log entries): they share a partition key, so until DynamoDB splits the hot item collection its 1,000 write units/s per partition bind their sum",
  localProduceToRawFs: 'local produce throughput / raw fs write+fsync throughput on the same bytes, wall time, same run',
  localProduceToDurableFs: 'local produce throughput / raw fs throughput writing the same files durably (temp file + fsync, rename, directory fsync), wall time, same run',
  localFetchToRawFs: 'local fetch throughput / raw fs read throughput on the same bytes, wall time, same run',
  encodeVsKafkajs1KiB: 'Sluice / KafkaJS RecordBatch encode, records/s, ~1 KiB records, codec none',
  decodeVsKafkajs1KiB: 'Sluice / KafkaJS RecordBatch decode, records/s, ~1 KiB records, codec none',
  sdkEndToEndRecordsPerSec: `records/s, client producer -> local server -> consumer, ~1 KiB events, lingerMs ${PRODUCER_DEFAULTS.lingerMs} (the default)`,
  produceLatencyModelP50Ms: 'ms, modeled produce ack of a 1-record request with Idempotency-Key (the SDK default): sequential round trips x published latencies + API Gateway and warm Lambda',
  produceLatencyModelP99Ms: 'ms, the same with p99 latencies on every round trip (an upper bound)',
};

export function benchResults(report: BenchReport, small: readonly SmallRequestCase[], contention: readonly ContentionRun[], express?: ExpressIngestResult): BenchResults {
  const plain = small.find((c) => !c.idempotent);
  const keyed = small.find((c) => c.idempotent);
  if (!plain || !keyed) throw new Error('the small-request cases with and without Idempotency-Key are both needed');
  if (contention.length === 0) throw new Error('no hot-partition runs');
  const total = (value: (run: ContentionRun) => number) => contention.reduce((sum, run) => sum + value(run), 0);
  const appends = total((run) => run.appends);
  const headWritesPerAppend = total((run) => run.headWrites) / appends;
  const watermarkWritesPerAppend = total((run) => run.watermarkWrites) / appends;
  const latency = (c: SmallRequestCase): LatencyDetail => ({
    sequentialRoundTrips: c.latency.sequentialRoundTrips,
    p50Ms: c.latency.p50Ms,
    p99Ms: c.latency.p99Ms,
    functionUrlP50Ms: c.latencyFunctionUrl.p50Ms,
    functionUrlP99Ms: c.latencyFunctionUrl.p99Ms,
    path: c.latency.path,
  });
  const codec = report.codec.find((c) => c.name === 'events');
  if (!codec || Math.abs(codec.recordBytes - KIB) > KIB / 8) throw new Error('the codec bench needs its 1 KiB case (events)');
  const byLinger = Object.fromEntries(report.client.map((run) => [String(run.lingerMs), run.recordsPerSecond]));
  const defaultLinger = byLinger[String(PRODUCER_DEFAULTS.lingerMs)];
  if (!defaultLinger) throw new Error(`the client bench did not run lingerMs ${PRODUCER_DEFAULTS.lingerMs}`);
  const localRatios = Object.fromEntries(Object.entries(report.local.ratios).map(([name, ratio]) => [name, ratio.wall]));
  if (!localRatios.produceVsRawWrite || !localRatios.fetchVsRawRead) throw new Error('the local bench lost its raw fs ratios');
  return {
    schemaVersion: 1,
    profile: report.profile,
    startedAt: report.startedAt,
    repeats: report.repeats,
    units: UNITS,
    produceSmallUsdPerMillion: {
      withoutIdempotencyKey: plain.costPerMillion.totalUsd,
      withIdempotencyKey: keyed.costPerMillion.totalUsd,
      functionUrlWithoutIdempotencyKey: plain.functionUrlUsdPerMillion,
      functionUrlWithIdempotencyKey: keyed.functionUrlUsdPerMillion,
    },
    produceUsdPerGiB: { '1MiB': produceUsdPerGiB(report, MIB), '64KiB': produceUsdPerGiB(report, 64 * KIB) },
    ...(express ? expressResults(express) : {}),
    headWritesPerAppendHot: headWritesPerAppend,
    failedConditionsPerAppendHot: total((run) => run.headConditionsFailed) / appends,
    readsPerAppendHot: total((run) => run.metadataReads) / appends,
    partitionCeilingAppendsPerSecHot: 1000 / headWritesPerAppend,
    watermarkWritesPerAppendHot: watermarkWritesPerAppend,
    partitionKeyCeilingAppendsPerSecHot: 1000 / (total((run) => run.partitionKeyWritesPerAppend * run.appends) / appends),
    localProduceToRawFs: localRatios.produceVsRawWrite,
    localProduceToDurableFs: localRatios.produceVsDurableWrite,
    localFetchToRawFs: localRatios.fetchVsRawRead,
    localRatios,
    encodeVsKafkajs1KiB: codec.encode.ratio,
    decodeVsKafkajs1KiB: codec.decode.ratio,
    sdkEndToEndRecordsPerSec: defaultLinger,
    sdkEndToEndRecordsPerSecByLingerMs: byLinger,
    produceLatencyModelP50Ms: keyed.latency.p50Ms,
    produceLatencyModelP99Ms: keyed.latency.p99Ms,
    produceLatencyModel: { withoutIdempotencyKey: latency(plain), withIdempotencyKey: latency(keyed) },
    hotPartition: {
      producers: contention[0].producers,
      appendsPerRun: contention[0].appends,
      runs: contention.length,
      headWritesPerAppend: spreadOf(contention.map((run) => run.headWritesPerAppend)),
      failedConditionsPerAppend: spreadOf(contention.map((run) => run.failedConditionsPerAppend)),
    },
  };
}

function expressResults(express: ExpressIngestResult): Pick<BenchResults, 'produceUsdPerGiBExpressIngest' | 'produceSmallUsdPerMillionExpressIngest'> {
  const figure = (bytes: number) => {
    const found = express.produce.find((f) => f.requestRawBytes === bytes);
    if (!found) throw new Error(`no S3 Express figure for ${bytes}-byte requests`);
    return found;
  };
  const plain = express.small.find((c) => !c.idempotent);
  const keyed = express.small.find((c) => c.idempotent);
  if (!plain || !keyed) throw new Error('the S3 Express small-request cases with and without Idempotency-Key are both needed');
  return {
    produceUsdPerGiBExpressIngest: {
      '1MiB': figure(MIB).usdPerGiB,
      '64KiB': figure(64 * KIB).usdPerGiB,
      functionUrl1MiB: figure(MIB).functionUrlUsdPerGiB,
      functionUrl64KiB: figure(64 * KIB).functionUrlUsdPerGiB,
      storage64KiB: figure(64 * KIB).storageUsdPerGiB,
    },
    produceSmallUsdPerMillionExpressIngest: {
      withoutIdempotencyKey: plain.costPerMillion.totalUsd,
      withIdempotencyKey: keyed.costPerMillion.totalUsd,
      functionUrlWithoutIdempotencyKey: plain.functionUrlUsdPerMillion,
      functionUrlWithIdempotencyKey: keyed.functionUrlUsdPerMillion,
    },
  };
}

/** The produce phase of the case with requests of `requestRawBytes`, one partition each, no key. */
function produceUsdPerGiB(report: BenchReport, requestRawBytes: number): number {
  const awsCase = report.settings.aws.cases.find((c: AwsCase) => c.requestRawBytes === requestRawBytes && c.partitionsPerRequest === 1 && !c.idempotent);
  const summary = awsCase && report.aws.find((c) => c.name === awsCase.name);
  const produce = summary?.phases.find((phase) => phase.name === 'produce');
  if (!produce) throw new Error(`no AWS case of ${requestRawBytes}-byte requests to one partition`);
  return produce.costPerGiBRaw.totalUsd;
}

/** Throws unless every required key is present in its shape (finite numbers throughout). */
export function checkResults(results: unknown): void {
  const record = results as Record<string, unknown>;
  for (const [key, shape] of Object.entries(REQUIRED_RESULTS)) {
    const value = record[key];
    const ok =
      shape === 'count'
        ? isFiniteNumber(value)
        : shape === 'spread'
          ? isSpread(value)
          : typeof value === 'object' && value !== null && Object.values(value).length > 0 && Object.values(value).every(isFiniteNumber);
    if (!ok) throw new Error(`bench-results.json: ${key} should be a ${shape}, got ${JSON.stringify(value)}`);
  }
  const small = record.produceSmallUsdPerMillion as Record<string, unknown>;
  for (const key of ['withoutIdempotencyKey', 'withIdempotencyKey']) {
    if (!isFiniteNumber(small[key])) throw new Error(`bench-results.json: produceSmallUsdPerMillion.${key} is missing`);
  }
  const perGiB = record.produceUsdPerGiB as Record<string, unknown>;
  for (const key of ['1MiB', '64KiB']) if (!isFiniteNumber(perGiB[key])) throw new Error(`bench-results.json: produceUsdPerGiB.${key} is missing`);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isSpread(value: unknown): value is Spread {
  if (typeof value !== 'object' || value === null) return false;
  const { median, min, max } = value as Spread;
  return [median, min, max].every(isFiniteNumber) && min <= median && median <= max;
}
