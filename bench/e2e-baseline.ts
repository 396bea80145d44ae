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
 * producer's 31- or 41-request rhythm swings it by a third), --json (one JSON line on stdout instead
 * of the table).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const { values: args } = parseArgs({
  options: {
    ref: { type: 'string', default: '24a95f5' },
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '100000' },
    linger: { type: 'string', default: '5' },
    'runs-per-child': { type: 'string', default: '1' },
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

async function runChild(checkout: string): Promise<void> {
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
      [fileURLToPath(import.meta.url), '--child', checkout, '--records', String(args.records), '--linger', String(args.linger), '--runs-per-child', String(args['runs-per-child'])],
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
    const runsPerChild = Number(args['runs-per-child']);
    if (!Number.isSafeInteger(runsPerChild) || runsPerChild <= 0) throw new Error(`--runs-per-child must be a positive integer, got ${args['runs-per-child']}`);
    const sides = { old: [] as ChildResult[], current: [] as ChildResult[] };
    const ratios = { first: [] as number[], steady: [] as number[] };
    console.error(`e2e baseline: ${commit.slice(0, 7)} vs current, ${rounds} rounds (ABBA), ${args.records} records, lingerMs ${args.linger}, ${runsPerChild} measured run(s) per child`);
    for (let round = 0; round < rounds; round++) {
      // old, current, current, old: a drift in the machine's load hits both sides alike
      const order: ('old' | 'current')[] = round % 2 === 0 ? ['old', 'current', 'current', 'old'] : ['current', 'old', 'old', 'current'];
      const roundResults = { old: [] as ChildResult[], current: [] as ChildResult[] };
      for (const side of order) {
        const result = await measure(side === 'old' ? oldCheckout : root);
        sides[side].push(result);
        roundResults[side].push(result);
        const runs = result.runs.map((r) => `${Math.round(r.recordsPerSec)} records/s, ${(r.cpuSecondsPerRecord * 1e6).toFixed(1)} µs CPU/record, ${r.produceRequests} requests`);
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
          `SDK end to end, lingerMs ${args.linger}, ${args.records} records of ~1 KiB, ${2 * rounds} children per side (ABBA): median (min–max)`,
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
