/**
 * Local produce against the file system, on its own: `npm run bench:local-produce [-- --quick]`.
 *
 * Many concurrent producers (default 16, one request in flight each) send binary produce requests to
 * the local server (FsObjectStore + SQLite) in this process. The same number of files of the same
 * sizes is written straight to disk with the same number in flight, two ways (bench/fs-baseline.ts):
 *   naive    write + fsync per file
 *   durable  temp file + fsync, rename, directory fsync per file: what a crash-safe store needs (the fair bar)
 * each just before and just after Sluice (the faster of the pair is the bar). The same requests also go
 * straight into the server's engine (same stores, no HTTP client or server), which tells the storage
 * path's cost apart from the HTTP stack's (client and server share this process), and once more to a
 * server in a process of its own, started as `npm start` starts it (lib/server/main.ts), which is how
 * an application uses the local service: the client's work then runs beside the server's, not on its
 * thread (on a 2-core machine, the client has the second core). Repeated `--runs` times
 * on a fresh data directory; prints medians with min and max of Sluice ÷ each baseline, and the
 * counted storage work per produce request (SQLite writes, write transactions and WAL fsyncs; object
 * file and directory fsyncs).
 *
 * Options: --quick (fewer requests), --producers N (16), --partitions N (= producers),
 * --request-kib N (16: raw bytes per request), --requests N, --runs N (3), --client node:http|fetch
 * (node:http: the HTTP client the bench drives the server with; it shares the server's thread, see
 * api-client.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiKeys } from '../lib/auth/api-keys.ts';
import { startLocalServer } from '../lib/server/local.ts';
import { ApiClient, type ApiTransport } from './api-client.ts';
import { writeFiles, writeFilesDurably, type FileRun } from './fs-baseline.ts';
import { dealIntoLanes, runLanes, timed, type Timing } from './measure.ts';
import { KIB, planProduce, requestBody, sum } from './workload.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    producers: { type: 'string', default: '16' },
    partitions: { type: 'string' },
    'request-kib': { type: 'string', default: '16' },
    requests: { type: 'string' },
    runs: { type: 'string', default: '3' },
    client: { type: 'string', default: 'node:http' },
  },
});

const producers = positive('producers', args.producers);
const partitions = positive('partitions', args.partitions ?? String(producers));
const requestRawBytes = positive('request-kib', args['request-kib']) * KIB;
const requestCount = positive('requests', args.requests ?? (args.quick ? '800' : '3000'));
const runs = positive('runs', args.runs);
if (args.client !== 'node:http' && args.client !== 'fetch') throw new Error(`--client must be node:http or fetch, got ${args.client}`);
const transport: ApiTransport = args.client;
const TOPIC = 'bench-local-produce';
const ENGINE_TOPIC = 'bench-local-produce-engine';

interface RunResult {
  readonly sluice: Timing;
  /** The same requests to a server in a process of its own (its CPU is not in this timing). */
  readonly ownProcess: Timing;
  readonly engine: Timing;
  readonly naive: FileRun;
  readonly durable: FileRun;
  readonly counts: StorageCounts;
}

/** What the local backend did per produce request. */
interface StorageCounts {
  readonly writeTransactions: number;
  readonly writes: number;
  readonly logSyncs: number;
  readonly fileSyncs: number;
  readonly directorySyncs: number;
}

async function runOnce(seed: number): Promise<RunResult> {
  const workDir = await mkdtemp(join(os.tmpdir(), 'sluice-bench-produce-'));
  const apiKey = ApiKeys.generate();
  const server = await startLocalServer({ dataDir: join(workDir, 'sluice'), port: 0, apiKey });
  try {
    const client = new ApiClient(server.url, apiKey, transport);
    await client.createTopic(TOPIC, partitions);
    await client.createTopic(ENGINE_TOPIC, partitions);
    const requests = planProduce({
      totalRawBytes: requestCount * requestRawBytes,
      requestRawBytes,
      partitions,
      partitionsPerRequest: 1,
      distinctRawBytes: Math.min(requestCount * requestRawBytes, 16 * 1024 * KIB),
      seed,
    });
    const sizes = requests.map((request) => request.storedBytes);
    const bodies = requests.map(requestBody);
    const dirs = ['naive-before', 'naive-after', 'durable-before', 'durable-after'].map((name) => join(workDir, name));
    await Promise.all(dirs.map((dir) => mkdir(dir, { recursive: true })));

    const naiveBefore = await writeFiles(dirs[0], sizes, producers);
    const durableBefore = await writeFilesDurably(dirs[2], sizes, producers);
    const countsBefore = storageCounts(server);
    // Producer i sends requests i, i + producers, …: with partitions = producers, one producer per partition.
    const produced = await timed(() => runLanes(dealIntoLanes(bodies, producers), (body) => client.produceBatches(TOPIC, body)));
    const countsAfter = storageCounts(server);
    const appends = requests.map((request) =>
      request.sections.map((section) => ({ partition: section.partition, data: section.batch.bytes, recordCount: section.batch.recordCount, maxTimestamp: Date.now() })),
    );
    const engineProduced = await timed(() => runLanes(dealIntoLanes(appends, producers), async (append) => void (await server.engine.produce(ENGINE_TOPIC, append))));
    const ownProcess = await produceToOwnProcess(join(workDir, 'own-process'), bodies);
    const naiveAfter = await writeFiles(dirs[1], sizes, producers);
    const durableAfter = await writeFilesDurably(dirs[3], sizes, producers);

    const ends = await client.endOffsets(TOPIC);
    const records = sum(requests.map((request) => request.recordCount));
    if (sum(ends.map(Number)) !== records) throw new Error(`the log holds ${sum(ends.map(Number))} records, expected ${records}`);
    return {
      sluice: produced.timing,
      engine: engineProduced.timing,
      ownProcess,
      naive: faster(naiveBefore, naiveAfter),
      durable: faster(durableBefore, durableAfter),
      counts: perRequest(countsBefore, countsAfter, requests.length),
    };
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The requests, to `npm start`'s server (lib/server/main.ts) in a child process on a fresh data directory; stopped in `finally`. */
async function produceToOwnProcess(dataDir: string, bodies: readonly Uint8Array[]): Promise<Timing> {
  const apiKey = ApiKeys.generate();
  const child: ChildProcess = spawn(process.execPath, [new URL('../lib/server/main.ts', import.meta.url).pathname], {
    env: { ...process.env, PORT: '0', SLUICE_DATA_DIR: dataDir, SLUICE_API_KEY: apiKey, SLUICE_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`the server did not start in 30 s: ${output}`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (\S+)/.exec(output);
        if (match) clearTimeout(timer), resolve(match[1]);
      });
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the server exited with ${code}: ${output}`))));
    });
    const client = new ApiClient(url, apiKey, transport);
    await client.createTopic(TOPIC, partitions);
    const produced = await timed(() => runLanes(dealIntoLanes([...bodies], producers), (body) => client.produceBatches(TOPIC, body)));
    return produced.timing;
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
}

function storageCounts(server: Awaited<ReturnType<typeof startLocalServer>>): StorageCounts {
  return server.storageStats();
}

function perRequest(before: StorageCounts, after: StorageCounts, requests: number): StorageCounts {
  return {
    writeTransactions: (after.writeTransactions - before.writeTransactions) / requests,
    writes: (after.writes - before.writes) / requests,
    logSyncs: (after.logSyncs - before.logSyncs) / requests,
    fileSyncs: (after.fileSyncs - before.fileSyncs) / requests,
    directorySyncs: (after.directorySyncs - before.directorySyncs) / requests,
  };
}

function faster(a: FileRun, b: FileRun): FileRun {
  return a.timing.wallSeconds <= b.timing.wallSeconds ? a : b;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

function spread(values: readonly number[], digits = 2): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return `${median.toFixed(digits)} (min ${sorted[0].toFixed(digits)}, max ${sorted.at(-1)!.toFixed(digits)})`;
}

async function main(): Promise<void> {
  console.error(
    `local produce: ${runs} runs of ${requestCount} requests of ${requestRawBytes / KIB} KiB raw, ${producers} producers, ${partitions} partitions, client ${transport}; load ${os.loadavg()[0].toFixed(2)}`,
  );
  const results: RunResult[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await runOnce(run + 1);
    results.push(result);
    console.error(
      `  run ${run + 1}: sluice ${(requestCount / result.sluice.wallSeconds).toFixed(0)} req/s, own process ${(requestCount / result.ownProcess.wallSeconds).toFixed(0)} req/s, engine ${(requestCount / result.engine.wallSeconds).toFixed(0)} req/s, naive ${(requestCount / result.naive.timing.wallSeconds).toFixed(0)} files/s, durable ${(requestCount / result.durable.timing.wallSeconds).toFixed(0)} files/s`,
    );
  }
  const rate = (timing: Timing) => requestCount / timing.wallSeconds;
  const lines = [
    `Local produce (client ${transport}), ${producers} concurrent producers, ${partitions} partitions, ${requestCount} requests of ${requestRawBytes / KIB} KiB raw (${(sum(results.map((r) => r.naive.bytes)) / results.length / requestCount / KIB).toFixed(1)} KiB stored) per run, ${runs} runs: median (min, max)`,
    `  Sluice produce (HTTP)                 ${spread(results.map((r) => rate(r.sluice)), 0)} requests/s`,
    `  Sluice engine.produce (no HTTP)       ${spread(results.map((r) => rate(r.engine)), 0)} requests/s`,
    `  Sluice produce, server in own process ${spread(results.map((r) => rate(r.ownProcess)), 0)} requests/s`,
    `  raw fs naive: write + fsync           ${spread(results.map((r) => rate(r.naive.timing)), 0)} files/s`,
    `  raw fs durable: + rename + dir fsync  ${spread(results.map((r) => rate(r.durable.timing)), 0)} files/s`,
    `  Sluice ÷ naive baseline               ${spread(results.map((r) => r.naive.timing.wallSeconds / r.sluice.wallSeconds))}`,
    `  Sluice ÷ durable baseline (fair)      ${spread(results.map((r) => r.durable.timing.wallSeconds / r.sluice.wallSeconds))}`,
    `  engine ÷ durable baseline (fair)      ${spread(results.map((r) => r.durable.timing.wallSeconds / r.engine.wallSeconds))}`,
    `  own process ÷ naive / durable         ${spread(results.map((r) => r.naive.timing.wallSeconds / r.ownProcess.wallSeconds))} / ${spread(results.map((r) => r.durable.timing.wallSeconds / r.ownProcess.wallSeconds))}`,
    `  CPU per request (all threads): Sluice ${spread(results.map((r) => (r.sluice.cpuSeconds / requestCount) * 1e3))} ms, ` +
      `engine ${spread(results.map((r) => (r.engine.cpuSeconds / requestCount) * 1e3))} ms, durable baseline ${spread(results.map((r) => (r.durable.timing.cpuSeconds / requestCount) * 1e3))} ms`,
  ];
  const counted = results.map((r) => r.counts);
  lines.push(
    `  per produce request: SQLite writes ${spread(counted.map((c) => c.writes))}, write transactions ${spread(counted.map((c) => c.writeTransactions))}, WAL fsyncs ${spread(counted.map((c) => c.logSyncs))}`,
    `                       object file fsyncs ${spread(counted.map((c) => c.fileSyncs))}, directory fsyncs ${spread(counted.map((c) => c.directorySyncs))}`,
  );
  console.log(lines.join('\n'));
}

await main();
