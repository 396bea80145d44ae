/**
 * What one small produce request costs in AWS requests, counted: `npx node bench/inline-crossover.ts
 * [--requests N] [--records R]`. Requests of R (default 1) ~1 KiB events each (zstd, as the SDK sends it) go through the
 * engine over the real S3 and DynamoDB adapters on s3rver and dynalite, every SDK request counted
 * (request-counter.ts), in three phases per request: produce, a consumer reading it (fetch), and the
 * compaction pass that later moves it into a segment. Each is run with batches in ingest objects
 * (inlineMaxBytes 0: the storage path before inline batches) and with the default inline threshold,
 * with and without Idempotency-Key.
 *
 * Requests go one at a time to one partition each (8 partitions round robin, one in flight per
 * partition), so no compare-and-set races: the counts are deterministic and the same on every run.
 * Dollars use bench/pricing.ts (list prices; API Gateway and Lambda with its stated assumptions).
 */
import { sha256Hex } from '../lib/hash.ts';
import { DEFAULTS } from '../lib/defaults.ts';
import { Engine } from '../lib/log/engine.ts';
import { encodeRecordBatch } from '../lib/protocol/record-batch.ts';
import { dealIntoLanes, runLanes } from './measure.ts';
import { LAMBDA_ASSUMPTIONS, PRICES_USD, costOf, usageOf, type Usage } from './pricing.ts';
import { countedEmulatorStores, type OperationCount } from './request-counter.ts';
import { eventRecords } from './workload.ts';

const PARTITIONS = 8;
const TOPIC = 'small';

export interface SmallRequestsCase {
  readonly inlineMaxBytes: number;
  readonly idempotent: boolean;
}

export interface PhaseCost {
  readonly usage: Usage;
  /** Per million requests. */
  readonly s3Usd: number;
  readonly dynamoUsd: number;
  readonly frontDoorUsd: number;
  readonly totalUsd: number;
}

export interface SmallRequestsResult {
  readonly case: SmallRequestsCase;
  readonly requests: number;
  readonly storedBytesPerRequest: number;
  readonly produce: PhaseCost;
  readonly fetch: PhaseCost;
  readonly compaction: PhaseCost;
  /** produce + fetch + compaction, per million requests. */
  readonly totalUsdPerMillion: number;
}

export async function runSmallRequestsBench(requests: number, cases: readonly SmallRequestsCase[], recordsPerRequest = 1): Promise<SmallRequestsResult[]> {
  const results: SmallRequestsResult[] = [];
  for (const smallCase of cases) results.push(await runCase(smallCase, requests, recordsPerRequest));
  return results;
}

async function runCase(smallCase: SmallRequestsCase, requests: number, recordsPerRequest: number): Promise<SmallRequestsResult> {
  const stores = await countedEmulatorStores();
  try {
    const { counter, objects, metadata } = stores;
    const engineAt = async (now: () => number = Date.now) => {
      // One invocation per request in AWS: no shared ingest objects (see aws-requests.ts).
      const engine = new Engine({ objects, metadata, now, topicCacheMs: Number.POSITIVE_INFINITY, inlineMaxBytes: smallCase.inlineMaxBytes, coalesceIngestObjects: false });
      await engine.topics.get(TOPIC);
      counter.reset();
      return engine;
    };
    await new Engine({ objects, metadata }).topics.create(TOPIC, PARTITIONS, { retentionMs: -1 });
    const records = eventRecords(requests * recordsPerRequest, 11);
    const bodies = Array.from({ length: requests }, (_, i) => {
      const batch = records.slice(i * recordsPerRequest, (i + 1) * recordsPerRequest);
      return { partition: i % PARTITIONS, data: encodeRecordBatch(batch, { codec: 'zstd' }), recordCount: batch.length, maxTimestamp: Math.max(...batch.map((r) => r.timestamp)) };
    });

    const producer = await engineAt();
    let sent = 0;
    await runLanes(dealIntoLanes(bodies, PARTITIONS), async (append) => {
      const idempotency = smallCase.idempotent ? { key: `small-${sent++}`, fingerprint: await sha256Hex(append.data) } : undefined;
      await producer.produce(TOPIC, [append], idempotency);
    });
    const produce = phaseCost(counter.snapshot(), requests, LAMBDA_ASSUMPTIONS.produceSeconds, requests);

    // A consumer at the tail reads each request's records once (maxBytes 1 MiB: many requests per fetch).
    const reader = await engineAt();
    let fetches = 0;
    await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, partition) => {
        for (let offset = 0n; ; fetches++) {
          const result = await reader.fetch(TOPIC, partition, { offset, maxBytes: 1024 * 1024 });
          if (result.nextOffset === offset) break;
          offset = result.nextOffset;
        }
      }),
    );
    const fetch = phaseCost(counter.snapshot(), requests, LAMBDA_ASSUMPTIONS.fetchSeconds, fetches);

    const maintainer = await engineAt(() => Date.now() + 30 * 60_000);
    const report = await maintainer.maintain();
    const storedBytes = bodies.reduce((n, b) => n + b.data.length, 0);
    if (report.segmentBytes !== storedBytes) throw new Error(`compaction rewrote ${report.segmentBytes} bytes, expected ${storedBytes}`);
    const compaction = phaseCost(counter.snapshot(), requests, (LAMBDA_ASSUMPTIONS.maintenanceSecondsPerMiB * storedBytes) / 2 ** 20, 1, false);
    return {
      case: smallCase,
      requests,
      storedBytesPerRequest: storedBytes / requests,
      produce,
      fetch,
      compaction,
      totalUsdPerMillion: produce.totalUsd + fetch.totalUsd + compaction.totalUsd,
    };
  } finally {
    await stores.stop();
  }
}

/** The phase's counted requests, per million produce requests. */
function phaseCost(counts: OperationCount[], requests: number, lambdaSeconds: number, invocations: number, viaApiGateway = true): PhaseCost {
  const usage = usageOf(counts, { invocations, secondsEach: lambdaSeconds, payloadBytes: viaApiGateway ? Array(invocations).fill(1) : [] });
  const perMillion = 1e6 / requests;
  const cost = costOf(usage);
  return {
    usage,
    s3Usd: cost.s3Usd * perMillion,
    dynamoUsd: cost.dynamoUsd * perMillion,
    frontDoorUsd: (cost.apiGatewayUsd + cost.lambdaUsd) * perMillion,
    totalUsd: cost.totalUsd * perMillion,
  };
}

function line(name: string, phase: PhaseCost, requests: number): string {
  const u = phase.usage;
  const per = (n: number) => (n / requests).toFixed(3);
  return (
    `    ${name.padEnd(10)} per request: ${per(u.s3PutRequests)} PUT, ${per(u.s3GetRequests)} GET, ${per(u.dynamoWriteUnits)} WRU, ${per(u.dynamoReadUnits)} RRU` +
    ` → per million: S3 $${phase.s3Usd.toFixed(2)}, DynamoDB $${phase.dynamoUsd.toFixed(2)}, API Gateway + Lambda $${phase.frontDoorUsd.toFixed(2)}`
  );
}

export function formatSmallRequests(results: readonly SmallRequestsResult[], recordsPerRequest = 1): string {
  const out = [`Small requests: ${recordsPerRequest} event(s) (~1 KiB each, zstd) per produce request; counted on s3rver + dynalite; $ per million requests (WRU $${(PRICES_USD.dynamoWriteUnit * 1e6).toFixed(3)}/M, PUT $${(PRICES_USD.s3PutRequest * 1e6).toFixed(2)}/M)`];
  for (const r of results) {
    const where = r.case.inlineMaxBytes > 0 ? `inline up to ${r.case.inlineMaxBytes} B` : 'every batch in an ingest object';
    out.push(`  ${where}${r.case.idempotent ? ', with Idempotency-Key' : ''} (${r.requests} requests, ${r.storedBytesPerRequest.toFixed(0)} stored bytes each):`);
    out.push(line('produce', r.produce, r.requests));
    out.push(line('fetch', r.fetch, r.requests));
    out.push(line('compaction', r.compaction, r.requests));
    const storage = [r.produce, r.fetch, r.compaction].reduce((n, p) => n + p.s3Usd + p.dynamoUsd, 0);
    out.push(`    total $${r.totalUsdPerMillion.toFixed(2)} per million (S3 + DynamoDB $${storage.toFixed(2)}); produce alone $${r.produce.totalUsd.toFixed(2)}`);
  }
  return out.join('\n');
}

if (import.meta.main) {
  const option = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const requests = option('--requests', 400);
  const recordsPerRequest = option('--records', 1);
  const cases: SmallRequestsCase[] = [];
  for (const idempotent of [false, true]) for (const inlineMaxBytes of [0, DEFAULTS.inlineMaxBytes]) cases.push({ inlineMaxBytes, idempotent });
  const results = await runSmallRequestsBench(requests, cases, recordsPerRequest);
  console.log(formatSmallRequests(results, recordsPerRequest));
  console.log(JSON.stringify(Object.fromEntries(results.map((r) => [`${r.case.inlineMaxBytes > 0 ? 'inline' : 'objects'}${r.case.idempotent ? 'Idempotent' : ''}`, { produceUsdPerMillion: r.produce.totalUsd, totalUsdPerMillion: r.totalUsdPerMillion }]))));
}
