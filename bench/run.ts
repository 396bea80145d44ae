/**
 * Sluice benchmark: `npm run bench [-- --quick | --large]`.
 *
 * 1. The local backend through the real HTTP API, against raw file-system writes and reads of the
 *    same files in the same run (the machine is shared and noisy: compare ratios, not absolutes).
 * 2. The AWS adapters on s3rver and dynalite: SDK requests counted, scaled to requests and dollars per
 *    GiB produced and consumed.
 * 3. The client SDK end to end (producer -> local server -> consumer) for lingerMs 0, 5 and 50.
 * 4. Sluice's RecordBatch encoder and decoder against KafkaJS's on the same records.
 *
 * Prints the report and writes it as JSON to bench/results/latest.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { runAwsBench } from './aws-requests.ts';
import { runClientE2EBench } from './client-e2e.ts';
import { runCodecBench } from './codec-vs-kafkajs.ts';
import { runLocalBench } from './local-http.ts';
import { formatPushReport, runPushBench } from './push.ts';
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
  // the CPU-bound codec comparison first, on a small, fresh heap
  console.error(`sluice bench: profile ${profile.name}; RecordBatch code vs KafkaJS...`);
  const codec = await runCodecBench(profile.codec);
  console.error('sluice bench: local backend...');
  const local = await runLocalBench(profile.local);
  console.error('sluice bench: AWS adapters on emulators...');
  const aws = await runAwsBench(profile.aws);
  console.error('sluice bench: client SDK end to end...');
  const client = await runClientE2EBench(profile.client);
  console.error('sluice bench: push consumers...');
  const push = await runPushBench({ quick: profile.name === 'quick' });

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
    settings: { local: profile.local, aws: profile.aws, client: profile.client, codec: profile.codec },
    local: summarizeLocal(local),
    aws: aws.map(summarizeAws),
    client,
    codec,
  };
  console.log(formatReport(report));
  console.log(formatPushReport(push));
  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  const file = new URL('latest.json', RESULTS_DIRECTORY);
  await writeFile(file, `${JSON.stringify({ ...report, push }, null, 2)}\n`);
  console.error(`sluice bench: wrote ${file.pathname}`);
}

await main();
