/**
 * Push consumers: `node bench/push.ts [--quick]`, or through `npm run bench` (bench/run.ts).
 *
 * 1. AWS, counted: the dispatcher over the S3 and DynamoDB adapters on the emulators, its SDK
 *    requests counted per delivered batch (steady state: a warm dispatcher, one partition, batches
 *    of 100 records of 1 KiB), priced per batch and per GiB delivered; and one scheduled pass of an
 *    idle deployment with one consumer (what idle costs a month).
 * 2. A latency model from an acknowledged produce to the target's invocation in AWS, from published
 *    figures and the counted round trips.
 * 3. Locally: the local server delivering to an HTTP target on loopback: records/s, and p50/p99 from
 *    the produce's acknowledgement to the delivery's arrival.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Groups } from '../lib/groups/groups.ts';
import { Engine } from '../lib/log/engine.ts';
import { encodeRecordBatch } from '../lib/protocol/record-batch.ts';
import { LOCAL_URL_POLICY } from '../lib/push/config.ts';
import { PushConsumers } from '../lib/push/consumers.ts';
import { Dispatcher } from '../lib/push/dispatcher.ts';
import { AesGcmSecretBox } from '../lib/push/secrets.ts';
import { consumerLags } from '../lib/lambda/push.ts';
import { startLocalServer } from '../lib/server/local.ts';
import { PRICES_USD, costOf, scaleUsage, usageOf, type Usage } from './pricing.ts';
import { countedEmulatorStores } from './request-counter.ts';

const GIB = 1024 ** 3;
const RECORD_BYTES = 1024;
const BATCH_RECORDS = 100;
/** Lambda time of the functions on a delivery's path, stated (the target's own time is the user's). */
const SECONDS = { streamHandler: 0.02, dispatcherPerBatch: 0.05, idlePass: 0.05 } as const;
const DISPATCHER_MB = 512;
const STREAM_HANDLER_MB = 256;

export interface PushBenchResult {
  readonly aws: {
    readonly perBatch: { readonly dynamoReads: number; readonly dynamoWrites: number; readonly s3Gets: number; readonly s3Puts: number; readonly lambdaInvocations: number; readonly usd: number };
    readonly perGiBUsd: number;
    readonly idlePassRequests: { readonly dynamoReads: number; readonly dynamoWrites: number; readonly s3: number };
    readonly idleUsdPerMonth: number;
  };
  readonly latencyModelMs: { readonly p50: number; readonly parts: Record<string, number> };
  readonly local: { readonly records: number; readonly recordsPerSecond: number; readonly p50Ms: number; readonly p99Ms: number };
}

export async function runPushBench(options: { quick?: boolean } = {}): Promise<PushBenchResult> {
  const aws = await awsCounts(options.quick ? 20 : 100);
  const local = await localDelivery(options.quick ? 5_000 : 50_000);
  // Published: Lambda polls a DynamoDB stream shard 4 times a second (on average 125 ms until the next
  // poll); stream records appear within a second, typically far less (assumed 200 ms); an async
  // invocation starts in tens of ms (assumed 50); the dispatcher's reads are sequential round trips
  // (counted: reads per batch, at ~5 ms each on DynamoDB, and the S3 GET at ~25 ms first byte).
  const parts = {
    streamRecordAvailable: 200,
    eventSourcePoll: 125,
    streamHandler: SECONDS.streamHandler * 1000,
    asyncInvoke: 50,
    dispatcherReads: Math.round(aws.perBatch.dynamoReads * 5 + aws.perBatch.s3Gets * 25),
  };
  return { aws, latencyModelMs: { p50: Object.values(parts).reduce((a, b) => a + b, 0), parts }, local };
}

async function awsCounts(batches: number): Promise<PushBenchResult['aws']> {
  const stores = await countedEmulatorStores();
  try {
    const { counter, objects, metadata } = stores;
    // One invocation per produce request in AWS: no shared ingest objects (see aws-requests.ts).
    const engine = new Engine({ objects, metadata, topicCacheMs: Number.POSITIVE_INFINITY, coalesceIngestObjects: false });
    const groups = new Groups({ engine });
    const consumers = new PushConsumers({ engine, groups, secrets: new AesGcmSecretBox(randomBytes(32)), urlPolicy: LOCAL_URL_POLICY, functionTargets: true });
    await engine.topics.create('bench', 1);
    await consumers.create({ name: 'bench', topics: ['bench'], target: { url: 'http://127.0.0.1:9/x' }, startAt: 'earliest', batch: { maxRecords: BATCH_RECORDS, maxBytes: 4 * 1024 * 1024 } });
    let delivered = 0;
    const target = { deliver: async () => (delivered++, { kind: 'success' as const }) };
    const dispatcher = new Dispatcher({ engine, groups, consumers, targets: () => target });
    const value = new Uint8Array(RECORD_BYTES).fill(97);
    const produceBatch = () =>
      engine.produce('bench', [{ partition: 0, data: encodeRecordBatch(Array.from({ length: BATCH_RECORDS }, () => ({ key: null, value, headers: [], timestamp: Date.now() })), { codec: 'zstd' }), recordCount: BATCH_RECORDS, maxTimestamp: Date.now() }]);
    // Warm: the dispatcher joined, the topic cached, the secret opened.
    await produceBatch();
    await dispatcher.runAll();
    let usage: Usage | undefined;
    const measured = { s3Gets: 0, s3Puts: 0, reads: 0, writes: 0 };
    for (let i = 0; i < batches; i++) {
      await produceBatch();
      counter.reset();
      // What one stream-triggered invocation does: the consumers, then one batch of the partition.
      await dispatcher.wake([{ topicId: (await engine.topics.get('bench')).id, partition: 0 }]);
      const u = usageOf(counter.snapshot(), { invocations: 0, secondsEach: 0, payloadBytes: [] });
      measured.s3Gets += u.s3GetRequests;
      measured.s3Puts += u.s3PutRequests;
      measured.reads += u.dynamoReadUnits;
      measured.writes += u.dynamoWriteUnits;
      usage = u;
    }
    void usage;
    const perBatch = { s3GetRequests: measured.s3Gets / batches, s3PutRequests: measured.s3Puts / batches, dynamoReadUnits: measured.reads / batches, dynamoWriteUnits: measured.writes / batches };
    // Lambda on the path: the stream handler (one per stream batch; at most one per delivered batch here) and the dispatcher.
    const lambdaUsd =
      2 * PRICES_USD.lambdaRequest + PRICES_USD.lambdaGbSecond * (SECONDS.streamHandler * (STREAM_HANDLER_MB / 1024) + SECONDS.dispatcherPerBatch * (DISPATCHER_MB / 1024));
    const storesUsd = costOf({ ...perBatch, dynamoRequests: 0, lambdaInvocations: 0, lambdaSeconds: 0, apiGatewayRequests: 0 }).totalUsd;
    const batchUsd = storesUsd + lambdaUsd;
    const batchesPerGiB = GIB / (BATCH_RECORDS * RECORD_BYTES);

    // Idle: one scheduled pass (due retries, consumer lag) with nothing to do.
    counter.reset();
    await dispatcher.runAll();
    await consumerLags(consumers);
    const idle = usageOf(counter.snapshot(), { invocations: 1, secondsEach: SECONDS.idlePass, payloadBytes: [] });
    const passesPerMonth = (30 * 24 * 60) / 5;
    const idleMonth = costOf(scaleUsage({ ...idle, apiGatewayRequests: 0 }, passesPerMonth)).totalUsd;
    return {
      perBatch: {
        dynamoReads: round(perBatch.dynamoReadUnits),
        dynamoWrites: round(perBatch.dynamoWriteUnits),
        s3Gets: round(perBatch.s3GetRequests),
        s3Puts: round(perBatch.s3PutRequests),
        lambdaInvocations: 2,
        usd: batchUsd,
      },
      perGiBUsd: batchUsd * batchesPerGiB,
      idlePassRequests: { dynamoReads: idle.dynamoReadUnits, dynamoWrites: idle.dynamoWriteUnits, s3: idle.s3GetRequests + idle.s3PutRequests },
      idleUsdPerMonth: idleMonth,
    };
  } finally {
    await stores.stop();
  }
}

export async function localDelivery(records: number): Promise<PushBenchResult['local']> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-push-bench-'));
  const ackedAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const target = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { records: Array<{ value: string }> };
      for (const record of body.records) {
        const acked = ackedAt.get(record.value);
        if (acked !== undefined) latencies.push(now - acked);
      }
      received += body.records.length;
      res.writeHead(200).end();
      if (received >= records) done();
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const key = 'bench-admin-key-0123456789abcdef';
  const server = await startLocalServer({ dataDir: dir, port: 0, apiKey: key, maintenanceIntervalMs: 0 });
  try {
    const call = (method: string, path: string, body: unknown) =>
      fetch(server.url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await call('POST', '/v1/topics', { name: 'bench', partitions: 4 });
    await call('POST', '/v1/consumers', { name: 'bench', topics: ['bench'], target: { url: `http://127.0.0.1:${(target.address() as AddressInfo).port}/` }, batch: { maxRecords: 500 }, maxConcurrency: 4 });
    const started = performance.now();
    const perRequest = 100;
    const value = 'x'.repeat(200);
    for (let sent = 0; sent < records; sent += perRequest) {
      const batch = Array.from({ length: perRequest }, (_, i) => ({ value: `${sent + i}:${value}`, partition: (sent / perRequest) % 4 }));
      const response = await call('POST', '/v1/topics/bench/records', { records: batch });
      await response.arrayBuffer();
      const now = performance.now();
      for (const record of batch) ackedAt.set(record.value, now);
    }
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 120_000))]);
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN);
    return { records: received, recordsPerSecond: Math.round(received / seconds), p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    await server.close();
    target.closeAllConnections();
    target.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

export function formatPushReport(r: PushBenchResult): string {
  const b = r.aws.perBatch;
  return [
    'Push consumers',
    `  AWS, per delivered batch (${BATCH_RECORDS} × 1 KiB): ${b.dynamoReads} DynamoDB read units, ${b.dynamoWrites} write units, ${b.s3Gets} S3 GETs, ${b.s3Puts} S3 PUTs, ${b.lambdaInvocations} Lambda invocations (stream handler, dispatcher) = $${b.usd.toExponential(2)}`,
    `  AWS, per GiB delivered: $${r.aws.perGiBUsd.toFixed(4)} (Kinesis on-demand retrieval: $0.04, plus its enhanced fan-out)`,
    `  AWS, idle: one scheduled pass = ${r.aws.idlePassRequests.dynamoReads} read units, ${r.aws.idlePassRequests.dynamoWrites} writes, ${r.aws.idlePassRequests.s3} S3 requests; $${r.aws.idleUsdPerMonth.toFixed(4)} a month (every 5 minutes); nothing else runs`,
    `  AWS, latency model produce-ack → target invoked: p50 ≈ ${r.latencyModelMs.p50} ms (${Object.entries(r.latencyModelMs.parts).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `  local, to an HTTP target on loopback: ${r.local.records} records, ${r.local.recordsPerSecond} records/s; produce-ack → delivery p50 ${r.local.p50Ms} ms, p99 ${r.local.p99Ms} ms`,
  ].join('\n');
}

if (import.meta.main) {
  console.log(formatPushReport(await runPushBench({ quick: process.argv.includes('--quick') })));
}
