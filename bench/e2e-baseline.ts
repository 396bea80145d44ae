/**
 * The SDK end to end against an older commit, in the same run: `npm run bench:e2e-baseline [-- options]`.
 *
 * Checks the old commit (default 24a95f5, the first wave's last) out into a temporary detached git
 * worktree whose node_modules is a symlink to this checkout's (the old code's imports all resolve in
 * today's tree), then runs bench/client-e2e.ts's workload (producer -> local server -> consumer, ~1 KiB
 * keyed JSON events, 8 partitions, 100 messages per send, 64 sends outstanding) against the old code and
 * the current code alternately (ABBA order), each run in its own child process on a fresh data
 * directory with its own warm-up. Prints records/s as median (min–max) per side and the ratio of the
 * medians, plus the per-round ratios (neighbours on a shared machine move both sides of a round alike).
 * The worktree is removed at the end, also on failure or Ctrl-C.
 *
 * Options: --ref <commit> (24a95f5), --rounds N (3: each side runs 2N times), --records N (100000),
 * --linger N (5), --runs-per-child N (1: measured runs in each child after its warm-up; with more than
 * one, the last run of every child is also reported as the steady state: the first measured run of
 * a fresh process still pays for JIT and allocation warm-up, and whether a run falls into the
 * producer's 31- or 41-request rhythm swings it by a third), --server-process (the server of each
 * side in a process of its own, as `npm start` runs it beside an application, instead of sharing
 * the SDK's one thread; the workload is then this file's, through each side's public `Sluice` entry
 * point without a counting wrapper, and CPU per record adds both processes), --json (one JSON line
 * on stdout instead of the table).
 *
 * Without --server-process the old side's own bench/client-e2e.ts runs, whose request counter parses
 * every produce body a second time on the shared thread (header and CRC-32C of each batch); that
 * line is taken out of the temporary checkout (the count it fed is not reported here), so neither
 * side pays for its instrument.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { produceAndConsume } from './client-e2e.ts';
import { eventRecords } from './workload.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const { values: args } = parseArgs({
  options: {
    ref: { type: 'string', default: '24a95f5' },
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '100000' },
    linger: { type: 'string', default: '5' },
    'runs-per-child': { type: 'string', default: '1' },
    'server-process': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    /** Internal: run one measurement of the checkout at this directory and print its JSON. */
    child: { type: 'string' },
  },
});

interface RunResult {
  readonly recordsPerSec: number;
  readonly cpuSecondsPerRecord: number;
  readonly produceRequests: number;
}

/** One child's measured runs, in order: the first right after the warm-up, the last the steadiest. */
interface ChildResult {
  readonly runs: readonly RunResult[];
}

/** One measured run of --server-process: the checkout's server in a process of its own, the SDK here. */
async function runSeparate(checkout: string, tag: string, records: number, events: readonly BenchEvent[]): Promise<RunResult & { readonly wallSeconds: number }> {
  const load = <T>(file: string) => import(pathToFileURL(path.join(checkout, 'lib', ...file.split('/'))).href) as Promise<T>;
  const { ApiKeys } = await load<typeof import('../lib/auth/api-keys.ts')>('auth/api-keys.ts');
  const { Sluice } = await load<typeof import('../lib/client/index.ts')>('client/index.ts');
  const apiKey = ApiKeys.generate();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sluice-e2e-server-'));
  const server = fork(path.join(here, 'e2e-server.ts'), [checkout, dataDir], { cwd: checkout, env: { ...process.env, SLUICE_BENCH_API_KEY: apiKey }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const url = (await ask(server, undefined, 'url')) as string;
    const sluice = new Sluice({ endpoint: url, apiKey });
    const settings = { partitions: 8, messagesPerSend: 100, outstandingSends: 64 };
    const workload = (count: number, topicTag: string) =>
      produceAndConsume(sluice as unknown as Parameters<typeof produceAndConsume>[0], `client-e2e-separate-${topicTag}`, { ...settings, records: count }, events, Number(args.linger));
    await workload(Math.min(records, 20_000), `warmup-${tag}`);
    const serverBefore = (await ask(server, 'cpu', 'cpuSeconds')) as number;
    const { timing } = await workload(records, tag);
    const serverSeconds = ((await ask(server, 'cpu', 'cpuSeconds')) as number) - serverBefore;
    return { recordsPerSec: records / timing.wallSeconds, cpuSecondsPerRecord: (timing.cpuSeconds + serverSeconds) / records, produceRequests: Number.NaN, wallSeconds: timing.wallSeconds };
  } finally {
    // a server that died (its error already on stderr) has no channel left to be told
    if (server.connected) server.send('close');
    await new Promise((resolve) => (server.exitCode === null && server.signalCode === null ? server.once('exit', resolve) : resolve(undefined)));
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Sends `message` (unless undefined) and resolves with the field `field` of the next answer that has it. */
function ask(child: ChildProcess, message: string | undefined, field: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (answer: Record<string, unknown>) => {
      if (!(field in answer)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(answer[field]);
    };
    const onExit = (code: number | null) => reject(new Error(`bench server exited with ${code} before answering`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message !== undefined) child.send(message);
  });
}

type BenchEvent = { key: Uint8Array; value: Uint8Array; timestamp: number };

async function runChild(checkout: string): Promise<void> {
  if (args['server-process']) {
    const events = eventRecords(20_000, 21).map((r) => ({ key: r.key!, value: r.value!, timestamp: r.timestamp }));
    const runs: RunResult[] = [];
    for (let i = 0; i < Number(args['runs-per-child']); i++) runs.push(await runSeparate(checkout, String(i), Number(args.records), events));
    process.stdout.write(`${JSON.stringify({ runs } satisfies ChildResult)}\n`);
    return;
  }
  // Same settings as bench/profiles.ts's client section; the old commit's module has the same signature.
  const module = (await import(pathToFileURL(path.join(checkout, 'bench', 'client-e2e.ts')).href)) as typeof import('./client-e2e.ts');
  const records = Number(args.records);
  // One call per measured run (each with its own server and warm-up, in this same process, so JIT
  // and allocator state carry over): the old commit's function may not know `repeats`.
  const runs = [];
  for (let i = 0; i < Number(args['runs-per-child']); i++) {
    const [run] = await module.runClientE2EBench({
      partitions: 8,
      records,
      distinctRecords: 20_000,
      messagesPerSend: 100,
      outstandingSends: 64,
      lingerValues: [Number(args.linger)],
      repeats: 1,
    });
    runs.push(run);
  }
  const result: ChildResult = {
    runs: runs.map((run) => ({
      recordsPerSec: run.records / run.endToEnd.wallSeconds,
      cpuSecondsPerRecord: run.endToEnd.cpuSeconds / run.records,
      produceRequests: run.produceRequests,
    })),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function measure(checkout: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        ...['--child', checkout, '--records', String(args.records), '--linger', String(args.linger), '--runs-per-child', String(args['runs-per-child'])],
        ...(args['server-process'] ? ['--server-process'] : []),
      ],
      { cwd: checkout, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench child for ${checkout} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
    });
  });
}

/** Each child's first measured run, or its last (the steady state). */
function pick(result: ChildResult, which: 'first' | 'steady'): RunResult {
  return which === 'first' ? result.runs[0] : result.runs[result.runs.length - 1];
}

const rate = (side: readonly ChildResult[], which: 'first' | 'steady') => side.map((r) => pick(r, which).recordsPerSec);
const cpu = (side: readonly ChildResult[], which: 'first' | 'steady') => side.map((r) => pick(r, which).cpuSecondsPerRecord * 1e6);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function spread(values: readonly number[], digits: number): string {
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

/** The first wave's request counter validated every produce body (header and CRC-32C) on the shared thread. */
const INSTRUMENT_PARSE = 'counts.partitions += parseSluiceBatches(body).length;';

async function dropInstrumentParse(file: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (!text.includes(INSTRUMENT_PARSE)) return;
  await writeFile(file, text.replace(INSTRUMENT_PARSE, '/* request parsing taken out by bench/e2e-baseline.ts */'));
  console.error(`e2e baseline: took the old bench's per-request parse out of its request counter`);
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  if (!Number.isSafeInteger(rounds) || rounds <= 0) throw new Error(`--rounds must be a positive integer, got ${args.rounds}`);
  const commit = execFileSync('git', ['rev-parse', '--verify', `${args.ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const parent = await mkdtemp(path.join(tmpdir(), 'sluice-e2e-baseline-'));
  const oldCheckout = path.join(parent, 'checkout');
  const removeWorktree = () => {
    try {
      execFileSync('git', ['worktree', 'remove', '--force', oldCheckout], { cwd: root, stdio: 'ignore' });
    } catch {
      // never added, or already gone; prune drops any stale registration
    }
    execFileSync('git', ['worktree', 'prune'], { cwd: root, stdio: 'ignore' });
  };
  const interrupted = () => {
    removeWorktree();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    execFileSync('git', ['worktree', 'add', '--detach', oldCheckout, commit], { cwd: root, stdio: 'ignore' });
    await symlink(path.join(root, 'node_modules'), path.join(oldCheckout, 'node_modules'), 'dir');
    if (!args['server-process']) await dropInstrumentParse(path.join(oldCheckout, 'bench', 'client-e2e.ts'));
    const runsPerChild = Number(args['runs-per-child']);
    if (!Number.isSafeInteger(runsPerChild) || runsPerChild <= 0) throw new Error(`--runs-per-child must be a positive integer, got ${args['runs-per-child']}`);
    const sides = { old: [] as ChildResult[], current: [] as ChildResult[] };
    const ratios = { first: [] as number[], steady: [] as number[] };
    console.error(`e2e baseline: ${commit.slice(0, 7)} vs current, ${rounds} rounds (ABBA), ${args.records} records, lingerMs ${args.linger}, ${runsPerChild} measured run(s) per child, ${args['server-process'] ? 'server in a process of its own' : 'server, producer and consumer on one thread'}`);
    for (let round = 0; round < rounds; round++) {
      // old, current, current, old: a drift in the machine's load hits both sides alike
      const order: ('old' | 'current')[] = round % 2 === 0 ? ['old', 'current', 'current', 'old'] : ['current', 'old', 'old', 'current'];
      const roundResults = { old: [] as ChildResult[], current: [] as ChildResult[] };
      for (const side of order) {
        const result = await measure(side === 'old' ? oldCheckout : root);
        sides[side].push(result);
        roundResults[side].push(result);
        const runs = result.runs.map(
          (r) => `${Math.round(r.recordsPerSec)} records/s, ${(r.cpuSecondsPerRecord * 1e6).toFixed(1)} µs CPU/record${Number.isFinite(r.produceRequests) ? `, ${r.produceRequests} requests` : ''}`,
        );
        console.error(`  round ${round + 1} ${side.padEnd(7)} ${runs.join(' | ')}`);
      }
      ratios.first.push(median(rate(roundResults.current, 'first')) / median(rate(roundResults.old, 'first')));
      ratios.steady.push(median(rate(roundResults.current, 'steady')) / median(rate(roundResults.old, 'steady')));
    }
    const summary = {
      baselineCommit: commit,
      lingerMs: Number(args.linger),
      records: Number(args.records),
      runsPerChild,
      serverProcess: args['server-process'],
      oldRecordsPerSec: median(rate(sides.old, 'first')),
      currentRecordsPerSec: median(rate(sides.current, 'first')),
      ratio: median(rate(sides.current, 'first')) / median(rate(sides.old, 'first')),
      roundRatios: ratios.first,
      ...(runsPerChild > 1
        ? {
            steadyOldRecordsPerSec: median(rate(sides.old, 'steady')),
            steadyCurrentRecordsPerSec: median(rate(sides.current, 'steady')),
            steadyRatio: median(rate(sides.current, 'steady')) / median(rate(sides.old, 'steady')),
            steadyRoundRatios: ratios.steady,
          }
        : {}),
    };
    if (args.json) {
      console.log(JSON.stringify(summary));
    } else {
      const lines = (which: 'first' | 'steady') => [
        `  ${commit.slice(0, 7)} (old)   ${spread(rate(sides.old, which), 0)} records/s, ${spread(cpu(sides.old, which), 1)} µs CPU/record`,
        `  current         ${spread(rate(sides.current, which), 0)} records/s, ${spread(cpu(sides.current, which), 1)} µs CPU/record`,
        `  current ÷ old   ${(median(rate(sides.current, which)) / median(rate(sides.old, which))).toFixed(2)} (rounds: ${ratios[which].map((r) => r.toFixed(2)).join(', ')})`,
      ];
      console.log(
        [
          `SDK end to end, lingerMs ${args.linger}, ${args.records} records of ~1 KiB, ${2 * rounds} children per side (ABBA), ${args['server-process'] ? 'server in a process of its own (CPU: both processes)' : 'all on one thread'}: median (min–max)`,
          `first measured run of each child (after its warm-up):`,
          ...lines('first'),
          ...(runsPerChild > 1 ? [`steady state (run ${runsPerChild} of each child):`, ...lines('steady')] : []),
        ].join('\n'),
      );
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    removeWorktree();
    await rm(parent, { recursive: true, force: true });
  }
}

if (args.child) {
  await runChild(args.child);
  process.exit(0); // a stray timer or socket in either version must not keep the child alive
}
else await main();
