/**
 * Section 1: the local backend (FsObjectStore + SQLite) through the real HTTP API, against raw
 * file-system writes and reads of the same files measured in the same run.
 *
 * The server runs in this process, so client and server share its thread and the CPU numbers cover
 * both. Binary produce sends one zstd batch per request, one request in flight per partition; fetch
 * reads every partition from offset 0 to its end, one request in flight per partition.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys } from '../lib/auth/api-keys.ts';
import { topicObjectPrefix } from '../lib/log/layout.ts';
import { startLocalServer, type LocalServer } from '../lib/server/local.ts';
import { ApiClient, type FetchedBatches } from './api-client.ts';
import { readFiles, writeFiles, writeFilesDurably, type FileRun } from './fs-baseline.ts';
import { dealIntoLanes, runLanes, timed, type Timing } from './measure.ts';
import { jsonProduceBodies, planProduce, requestBody, sum } from './workload.ts';

export interface LocalSettings {
  readonly partitions: number;
  readonly rawBytes: number;
  readonly requestRawBytes: number;
  readonly distinctRawBytes: number;
  readonly fetchMaxBytes: number;
  readonly jsonRequests: number;
  readonly jsonRecordsPerRequest: number;
  readonly jsonFetchMaxBytes: number;
}

export interface Throughput {
  readonly label: string;
  readonly calls: number;
  readonly records?: number;
  /** Uncompressed record batches. */
  readonly rawBytes?: number;
  /** Bytes in the object store (or in the raw files). */
  readonly storedBytes: number;
  /** Request bodies (produce) or response bodies (fetch). */
  readonly httpBytes?: number;
  readonly timing: Timing;
}

export interface LocalResult {
  readonly produce: Throughput;
  /** Naive: write + fsync per file. */
  readonly rawWrite: Throughput;
  /** Fair: temp file + fsync, rename, directory fsync per file (what a crash-safe store needs). */
  readonly rawWriteDurable: Throughput;
  readonly fetch: Throughput;
  readonly rawRead: Throughput;
  readonly produceJson: Throughput;
  readonly fetchJson: Throughput;
  /** Range reads by the binary fetch: from the object store, and from the warm-memory cache. */
  readonly rangeReads: { readonly fromStore: number; readonly fromCache: number };
}

const BINARY_TOPIC = 'bench-binary';
const JSON_TOPIC = 'bench-json';
const SEED = 1;

export async function runLocalBench(settings: LocalSettings): Promise<LocalResult> {
  const workDir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const apiKey = ApiKeys.generate();
  const server = await startLocalServer({ dataDir: join(workDir, 'sluice'), port: 0, apiKey });
  try {
    const client = new ApiClient(server.url, apiKey);
    const binary = await benchBinary(client, server, settings, join(workDir, 'raw'));
    const json = await benchJson(client, server, settings);
    return { ...binary, ...json };
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

type BinaryResult = Pick<LocalResult, 'produce' | 'rawWrite' | 'rawWriteDurable' | 'fetch' | 'rawRead' | 'rangeReads'>;
type JsonResult = Pick<LocalResult, 'produceJson' | 'fetchJson'>;

async function benchBinary(client: ApiClient, server: LocalServer, settings: LocalSettings, rawDir: string): Promise<BinaryResult> {
  const requests = planProduce({ ...settings, totalRawBytes: settings.rawBytes, partitionsPerRequest: 1, seed: SEED });
  const storedSizes = requests.map((request) => request.storedBytes);
  const [before, after] = [join(rawDir, 'before'), join(rawDir, 'after')];
  const [durableBefore, durableAfter] = [join(rawDir, 'durable-before'), join(rawDir, 'durable-after')];
  await Promise.all([before, after, durableBefore, durableAfter].map((dir) => mkdir(dir, { recursive: true })));
  await client.createTopic(BINARY_TOPIC, settings.partitions);

  // The baselines run just before and just after Sluice; the faster of each pair is the bar.
  const writeBefore = await writeFiles(before, storedSizes, settings.partitions);
  const durableWriteBefore = await writeFilesDurably(durableBefore, storedSizes, settings.partitions);
  const produced = await timed(() =>
    runLanes(dealIntoLanes(requests, settings.partitions), (request) => client.produceBatches(BINARY_TOPIC, requestBody(request))),
  );
  const writeAfter = await writeFiles(after, storedSizes, settings.partitions);
  const durableWriteAfter = await writeFilesDurably(durableAfter, storedSizes, settings.partitions);
  const storedBytes = await storedBytesOf(server, BINARY_TOPIC);
  if (storedBytes !== sum(storedSizes)) throw new Error(`the store holds ${storedBytes} bytes, expected ${sum(storedSizes)}`);

  const ends = await client.endOffsets(BINARY_TOPIC);
  const cacheBefore = server.engine.cacheStats();
  const readBefore = await readFiles(before, requests.length, settings.partitions);
  const fetched = await timed(() => consume(ends, (partition, offset) => client.fetchBatches(BINARY_TOPIC, partition, offset, settings.fetchMaxBytes)));
  const readAfter = await readFiles(after, requests.length, settings.partitions);
  const records = sum(requests.map((request) => request.recordCount));
  if (fetched.result.records !== records || fetched.result.bytes !== storedBytes) {
    throw new Error(`fetched ${fetched.result.records} records in ${fetched.result.bytes} bytes, expected ${records} in ${storedBytes}`);
  }

  const rawBytes = sum(requests.map((request) => request.rawBytes));
  return {
    produce: { label: 'produce binary', calls: requests.length, records, rawBytes, storedBytes, httpBytes: storedBytes, timing: produced.timing },
    rawWrite: fileThroughput('raw fs: write + fsync', faster(writeBefore, writeAfter)),
    rawWriteDurable: fileThroughput('raw fs: + rename + dir fsync', faster(durableWriteBefore, durableWriteAfter)),
    fetch: { label: 'fetch binary', calls: fetched.result.calls, records, rawBytes, storedBytes, httpBytes: fetched.result.bytes, timing: fetched.timing },
    rawRead: fileThroughput('raw fs: read', faster(readBefore, readAfter)),
    rangeReads: { fromStore: server.engine.cacheStats().misses - cacheBefore.misses, fromCache: server.engine.cacheStats().hits - cacheBefore.hits },
  };
}

async function benchJson(client: ApiClient, server: LocalServer, settings: LocalSettings): Promise<JsonResult> {
  await client.createTopic(JSON_TOPIC, settings.partitions);
  const distinct = jsonProduceBodies(Math.min(settings.jsonRequests, settings.partitions), settings.jsonRecordsPerRequest, SEED + 1);
  const bodies = Array.from({ length: settings.jsonRequests }, (_, i) => distinct[i % distinct.length]);
  const produced = await timed(() => runLanes(dealIntoLanes(bodies, settings.partitions), (body) => client.produceJson(JSON_TOPIC, body)));
  const storedBytes = await storedBytesOf(server, JSON_TOPIC);

  const ends = await client.endOffsets(JSON_TOPIC);
  const fetched = await timed(() => consume(ends, (partition, offset) => client.fetchJson(JSON_TOPIC, partition, offset, settings.jsonFetchMaxBytes)));
  const records = settings.jsonRequests * settings.jsonRecordsPerRequest;
  if (fetched.result.records !== records) throw new Error(`fetched ${fetched.result.records} JSON records, expected ${records}`);
  const httpBytes = sum(bodies.map((body) => Buffer.byteLength(body)));
  return {
    produceJson: { label: 'produce JSON', calls: bodies.length, records, storedBytes, httpBytes, timing: produced.timing },
    fetchJson: { label: 'fetch JSON', calls: fetched.result.calls, records, storedBytes, httpBytes: fetched.result.bytes, timing: fetched.timing },
  };
}

/** Reads every partition from 0 to its end offset, partitions in parallel. */
async function consume(
  ends: readonly bigint[],
  fetchFrom: (partition: number, offset: bigint) => Promise<FetchedBatches>,
): Promise<{ calls: number; records: number; bytes: number }> {
  const total = { calls: 0, records: 0, bytes: 0 };
  await Promise.all(
    ends.map(async (end, partition) => {
      for (let offset = 0n; offset < end; ) {
        const fetched = await fetchFrom(partition, offset);
        if (fetched.nextOffset <= offset) throw new Error(`fetch at ${offset} of partition ${partition} made no progress`);
        total.calls++;
        total.records += fetched.records;
        total.bytes += fetched.bytes;
        offset = fetched.nextOffset;
      }
    }),
  );
  return total;
}

async function storedBytesOf(server: LocalServer, topicName: string): Promise<number> {
  const topic = await server.engine.topics.get(topicName);
  let bytes = 0;
  for await (const object of server.engine.objects.list(topicObjectPrefix(topic.id))) bytes += object.size;
  return bytes;
}

function faster(a: FileRun, b: FileRun): FileRun {
  return a.timing.wallSeconds <= b.timing.wallSeconds ? a : b;
}

function fileThroughput(label: string, run: FileRun): Throughput {
  return { label, calls: run.files, storedBytes: run.bytes, timing: run.timing };
}
