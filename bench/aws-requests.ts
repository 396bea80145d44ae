/**
 * Section 2: what the engine costs on AWS, counted rather than estimated. The engine runs over the
 * real S3 and DynamoDB adapters against s3rver and dynalite, and every HTTP request the SDK clients
 * send is counted (request-counter.ts). Each case produces its volume, then consumes all of it twice:
 * through fetch (data through Lambda) and through locations (presigned URLs; the client then GETs the
 * ranges from S3 itself, and those GETs are counted here).
 *
 * Then one maintenance pass compacts the ingest objects into indexed segments (its own requests are
 * counted as the `compaction` phase), and both reads run again on the compacted log.
 *
 * Counts are deterministic: a partition never has two requests in flight (so no compare-and-set
 * races), and each phase uses a fresh engine (cold range cache, as in another Lambda) whose topic
 * lookup is cached for the whole run (a warm Lambda; a cold one adds one GetItem per call).
 */
import { sha256Hex } from '../lib/hash.ts';
import { Engine } from '../lib/log/engine.ts';
import { parseSluiceBatches } from '../lib/http/sluice-batches.ts';
import type { MetadataStore, ObjectStore } from '../lib/storage/ports.ts';
import { dealIntoLanes, runLanes } from './measure.ts';
import { LAMBDA_ASSUMPTIONS, usageOf, type Usage } from './pricing.ts';
import { RequestCounter, countedEmulatorStores, type OperationCount } from './request-counter.ts';
import { planProduce, requestBody, sum, type ProduceRequest } from './workload.ts';

export interface AwsCase {
  readonly name: string;
  readonly description: string;
  readonly totalRawBytes: number;
  readonly requestRawBytes: number;
  readonly partitionsPerRequest: number;
  /** Send an Idempotency-Key with every produce (safe retries; costs an intent item per request). */
  readonly idempotent: boolean;
}

export interface AwsSettings {
  readonly partitions: number;
  readonly fetchMaxBytes: number;
  readonly distinctRawBytes: number;
  readonly cases: readonly AwsCase[];
}

/** One phase of a case: the API calls a client made and what they cost in AWS requests. */
export interface Phase {
  readonly apiCalls: number;
  readonly counts: OperationCount[];
  /** Ranged GETs the client sent straight to S3 with presigned URLs. */
  readonly presignedGets: number;
  /** Record-batch bytes moved: written by produce, received by the consumer. */
  readonly dataBytes: number;
  readonly usage: Usage;
}

export interface AwsCaseResult {
  readonly case: AwsCase;
  readonly records: number;
  readonly rawBytes: number;
  readonly storedBytes: number;
  readonly produce: Phase;
  readonly fetch: Phase;
  readonly locations: Phase;
  readonly compaction: Phase;
  readonly fetchCompacted: Phase;
  readonly locationsCompacted: Phase;
}

const TOPIC = 'bench';
const SEED = 3;

export async function runAwsBench(settings: AwsSettings): Promise<AwsCaseResult[]> {
  const results: AwsCaseResult[] = [];
  for (const awsCase of settings.cases) results.push(await runAwsCase(awsCase, settings));
  return results;
}

/** Counted stores on fresh emulators (request-counter.ts). */
export type CountedStores = { counter: RequestCounter; objects: ObjectStore; metadata: MetadataStore; stop(): Promise<void> };

/** One case on stores from `stores` (default: one bucket; express-ingest.ts passes two). */
export async function runAwsCase(awsCase: AwsCase, settings: AwsSettings, stores: () => Promise<CountedStores> = countedEmulatorStores): Promise<AwsCaseResult> {
  return runCase(awsCase, settings, await stores());
}

async function runCase(awsCase: AwsCase, settings: AwsSettings, stores: CountedStores): Promise<AwsCaseResult> {
  try {
    const { counter, objects, metadata } = stores;
    const warmEngine = async () => {
      // In AWS every produce request runs in an invocation of its own, so no two share an ingest object
      // (lib/log/ingest-writer.ts): count what Lambda does, not what one process sending them at once would.
      const engine = new Engine({ objects, metadata, topicCacheMs: Number.POSITIVE_INFINITY, coalesceIngestObjects: false });
      await engine.topics.get(TOPIC);
      counter.reset();
      return engine;
    };

    // The workload has fixed, old timestamps: keep everything, so maintenance only compacts.
    await new Engine({ objects, metadata }).topics.create(TOPIC, settings.partitions, { retentionMs: -1 });
    const requests = planProduce({
      ...awsCase,
      partitions: settings.partitions,
      distinctRawBytes: settings.distinctRawBytes,
      seed: SEED,
    });
    const produce = await producePhase(await warmEngine(), counter, requests, { partitions: settings.partitions, idempotent: awsCase.idempotent });
    const fetch = await fetchPhase(await warmEngine(), counter, settings);
    const locations = await locationsPhase(await warmEngine(), counter, settings);
    const storedBytes = sum(requests.map((request) => request.storedBytes));
    const compaction = await compactionPhase(objects, metadata, counter, storedBytes);
    const fetchCompacted = await fetchPhase(await warmEngine(), counter, settings);
    const locationsCompacted = await locationsPhase(await warmEngine(), counter, settings);
    return {
      case: awsCase,
      records: sum(requests.map((request) => request.recordCount)),
      rawBytes: sum(requests.map((request) => request.rawBytes)),
      storedBytes,
      produce,
      fetch: checkConsumedAll(fetch, storedBytes),
      locations: checkConsumedAll(locations, storedBytes),
      compaction,
      fetchCompacted: checkConsumedAll(fetchCompacted, storedBytes),
      locationsCompacted: checkConsumedAll(locationsCompacted, storedBytes),
    };
  } finally {
    await stores.stop();
  }
}

async function producePhase(
  engine: Engine,
  counter: RequestCounter,
  requests: readonly ProduceRequest[],
  options: { partitions: number; idempotent: boolean },
): Promise<Phase> {
  // One partition per request: a lane per partition. Several: one lane, so no partition sees two at once.
  const lanes = requests[0].sections.length === 1 ? dealIntoLanes(requests, options.partitions) : [requests];
  const payloadBytes: number[] = [];
  let sent = 0;
  await runLanes(lanes, async (request) => {
    const body = requestBody(request);
    const idempotency = options.idempotent ? { key: `bench-${sent++}`, fingerprint: await sha256Hex(body) } : undefined;
    payloadBytes.push(body.length);
    await engine.produce(TOPIC, parseSluiceBatches(body), idempotency);
  });
  const counts = counter.snapshot();
  const api = { invocations: requests.length, secondsEach: LAMBDA_ASSUMPTIONS.produceSeconds, payloadBytes };
  const dataBytes = sum(requests.map((request) => request.storedBytes));
  return { apiCalls: requests.length, counts, presignedGets: 0, dataBytes, usage: usageOf(counts, api) };
}

/** One maintenance pass, run as if the ingest objects were old enough to compact. */
async function compactionPhase(objects: ObjectStore, metadata: MetadataStore, counter: RequestCounter, storedBytes: number): Promise<Phase> {
  const later = () => Date.now() + 30 * 60_000;
  const engine = new Engine({ objects, metadata, now: later, topicCacheMs: Number.POSITIVE_INFINITY });
  await engine.topics.get(TOPIC);
  counter.reset();
  const report = await engine.maintain();
  if (report.segmentBytes !== storedBytes) throw new Error(`compaction rewrote ${report.segmentBytes} bytes, expected ${storedBytes}`);
  const counts = counter.snapshot();
  const api = { invocations: 1, secondsEach: (LAMBDA_ASSUMPTIONS.maintenanceSecondsPerMiB * storedBytes) / 2 ** 20, payloadBytes: [] };
  return { apiCalls: 1, counts, presignedGets: 0, dataBytes: storedBytes, usage: usageOf(counts, api) };
}

/** Every partition from 0 to its end with fetch, partitions in parallel. */
async function fetchPhase(engine: Engine, counter: RequestCounter, settings: AwsSettings): Promise<Phase> {
  const ends = await endOffsets(engine, counter);
  const payloadBytes: number[] = [];
  await Promise.all(
    ends.map(async (end, partition) => {
      for (let offset = 0n; offset < end; ) {
        const result = await engine.fetch(TOPIC, partition, { offset, maxBytes: settings.fetchMaxBytes });
        payloadBytes.push(sum(result.batches.map((batch) => batch.bytes.length)));
        offset = result.nextOffset;
      }
    }),
  );
  const counts = counter.snapshot();
  const api = { invocations: payloadBytes.length, secondsEach: LAMBDA_ASSUMPTIONS.fetchSeconds, payloadBytes };
  return { apiCalls: payloadBytes.length, counts, presignedGets: 0, dataBytes: sum(payloadBytes), usage: usageOf(counts, api) };
}

/** Every partition from 0 to its end with locations, then a ranged GET of each URL (not of inline batches), as a client would. */
async function locationsPhase(engine: Engine, counter: RequestCounter, settings: AwsSettings): Promise<Phase> {
  const ends = await endOffsets(engine, counter);
  const payloadBytes: number[] = [];
  let presignedGets = 0;
  let dataBytes = 0;
  await Promise.all(
    ends.map(async (end, partition) => {
      for (let offset = 0n; offset < end; ) {
        const result = await engine.locations(TOPIC, partition, { offset, maxBytes: settings.fetchMaxBytes });
        // About the size of the JSON response: the URLs make up most of it, or inline batches in base64.
        payloadBytes.push(sum(result.locations.map((location) => ('batches' in location ? Math.ceil(location.batches.length / 3) * 4 : location.url.length))));
        for (const location of result.locations) {
          if ('batches' in location) {
            dataBytes += location.batches.length; // inline in the log: came with the answer, no GET
            continue;
          }
          // awaited first: `dataBytes += await …` would read dataBytes before the await and lose the other partitions' additions
          const got = await getRange(location.url, location.range.start, location.range.end);
          dataBytes += got;
          presignedGets++;
        }
        offset = result.nextOffset;
      }
    }),
  );
  const counts = counter.snapshot();
  const api = { invocations: payloadBytes.length, secondsEach: LAMBDA_ASSUMPTIONS.locationsSeconds, payloadBytes };
  return { apiCalls: payloadBytes.length, counts, presignedGets, dataBytes, usage: usageOf(counts, api, presignedGets) };
}

/** End offsets, read before counting starts (a consumer learns them as it goes). */
async function endOffsets(engine: Engine, counter: RequestCounter): Promise<bigint[]> {
  const { partitions } = await engine.describeTopic(TOPIC);
  counter.reset();
  return partitions.map((partition) => partition.endOffset);
}

async function getRange(url: string, start: number, end: number): Promise<number> {
  const response = await fetch(url, { headers: { range: `bytes=${start}-${end}` } });
  const bytes = (await response.arrayBuffer()).byteLength;
  if (response.status !== 206 || bytes !== end - start + 1) throw new Error(`presigned GET answered ${response.status} with ${bytes} bytes for ${start}-${end}`);
  return bytes;
}

function checkConsumedAll(phase: Phase, storedBytes: number): Phase {
  if (phase.dataBytes !== storedBytes) throw new Error(`consumed ${phase.dataBytes} bytes, expected ${storedBytes}`);
  return phase;
}
