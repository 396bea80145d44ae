/**
 * Sluice benchmark: `npm run bench [-- --quick | --large]`.
 *
 * 1. The local backend through the real HTTP API, against raw file-system writes and reads of the
 *    same files in the same run (the machine is shared and noisy: compare ratios, not absolutes).
 * 2. The AWS adapters on s3rver and dynalite: SDK requests counted, scaled to requests and dollars per
 *    GiB produced and consumed.
 *
 * Prints the report and writes it as JSON to bench/results/latest.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { runAwsBench } from './aws-requests.ts';
import { runLocalBench } from './local-http.ts';
import { PROFILES, type Profile } from './profiles.ts';
import { formatReport, type BenchReport } from './report.ts';
import { summarizeAws, summarizeLocal } from './summary.ts';

const RESULTS_DIRECTORY = new URL('./results/', import.meta.url);

const PROFILE_FLAGS = new Map<string, Profile>([
  ['--quick', PROFILES.quick],
  ['--large', PROFILES.large],
]);

function profileFromArgs(args: readonly string[]): Profile {
  if (args.length === 0) return PROFILES.default;
  const profile = args.length === 1 ? PROFILE_FLAGS.get(args[0]) : undefined;
  if (!profile) throw new Error(`usage: node bench/run.ts [--quick | --large] (got: ${args.join(' ')})`);
  return profile;
}

async function main(): Promise<void> {
  const profile = profileFromArgs(process.argv.slice(2));
  const startedAt = new Date();
  const loadAverageBefore = os.loadavg()[0];
  console.error(`sluice bench: profile ${profile.name}; local backend...`);
  const local = await runLocalBench(profile.local);
  console.error('sluice bench: AWS adapters on emulators...');
  const aws = await runAwsBench(profile.aws);

  const report: BenchReport = {
    profile: profile.name,
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    environment: {
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpuModel: os.cpus()[0]?.model ?? 'unknown CPU',
      cpus: os.availableParallelism(),
      loadAverageBefore,
      loadAverageAfter: os.loadavg()[0],
    },
    settings: { local: profile.local, aws: profile.aws },
    local: summarizeLocal(local),
    aws: aws.map(summarizeAws),
  };
  console.log(formatReport(report));
  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  const file = new URL('latest.json', RESULTS_DIRECTORY);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.error(`sluice bench: wrote ${file.pathname}`);
}

await main();
