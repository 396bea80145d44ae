/**
 * Sluice benchmark: `npm run bench [-- --quick | --large] [--repeats N]`.
 *
 * Timed sections (local, client, codec) run N times (default 3; 2 with --quick) and report the median
 * with min and max of each figure; counted sections (AWS requests) are deterministic and run once.
 *
 * 1. The local backend through the real HTTP API, against raw file-system writes and reads of the
 *    same files in the same run (the machine is shared and noisy: compare ratios, not absolutes).
 * 2. The AWS adapters on s3rver and dynalite: SDK requests counted, scaled to requests and dollars per
 *    GiB produced and consumed.
 * 3. The client SDK end to end (producer -> local server -> consumer) for lingerMs 0, 5 and 50.
 * 4. Sluice's RecordBatch encoder and decoder against KafkaJS's on the same records.
 * 5. 1-record produce requests on the AWS adapters, counted and priced (HTTP API and Function URL).
 * 6. 16 producers on one partition: writes to the partition head per append, failed conditions.
 * 7. A latency model of a small produce: counted sequential round trips × published latencies.
 * 8. Sections 2 and 5's produce requests with ingest objects in S3 Express One Zone (express-ingest.ts).
 *
 * Prints the report, writes it as JSON to bench/results/latest.json and the headline figures to
 * bench/results/bench-results.json (results.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { runAwsBench } from './aws-requests.ts';
import { runClientE2EBench } from './client-e2e.ts';
import { runCodecBench } from './codec-vs-kafkajs.ts';
import { runLocalBench } from './local-http.ts';
import { runContentionBench } from './contention.ts';
import { formatExpressIngest, runExpressIngestBench } from './express-ingest.ts';
import { formatPushRepeated, runPushRepeated } from './push-repeats.ts';
import { CONTENTION, PROFILES, REPEATS, SMALL_REQUESTS, type Profile } from './profiles.ts';
import { repeatClient, repeatCodec, repeatLocal } from './repeats.ts';
import { formatReport, type BenchReport } from './report.ts';
import { benchResults, checkResults } from './results.ts';
import { formatSmallRequestSections } from './small-report.ts';
import { runSmallRequestBench } from './small-requests.ts';
import { summarizeAws, summarizeLocal, type LocalSummary } from './summary.ts';

const RESULTS_DIRECTORY = new URL('./results/', import.meta.url);

const PROFILE_FLAGS = new Map<string, Profile>([
  ['--quick', PROFILES.quick],
  ['--large', PROFILES.large],
]);

const USAGE = 'usage: node bench/run.ts [--quick | --large] [--repeats N]';

export function argsOf(args: readonly string[]): { profile: Profile; repeats: number } {
  let profile: Profile | undefined;
  let repeats: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const flag = PROFILE_FLAGS.get(args[i]);
    if (flag && !profile) profile = flag;
    else if (args[i] === '--repeats' && repeats === undefined) {
      repeats = Number(args[++i]);
      if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100) throw new Error(`--repeats takes a whole number from 1 to 100 (${USAGE})`);
    } else throw new Error(`${USAGE} (got: ${args.join(' ')})`);
  }
  profile ??= PROFILES.default;
  return { profile, repeats: repeats ?? REPEATS[profile.name] };
}

async function main(): Promise<void> {
  const { profile, repeats } = argsOf(process.argv.slice(2));
  const startedAt = new Date();
  const loadAverageBefore = os.loadavg()[0];
  // the CPU-bound codec comparison first, on a small, fresh heap
  console.error(`sluice bench: profile ${profile.name}, ${repeats} runs of each timed section; RecordBatch code vs KafkaJS...`);
  const codecRuns = [];
  for (let run = 0; run < repeats; run++) codecRuns.push(await runCodecBench(profile.codec));
  const localRuns: LocalSummary[] = [];
  for (let run = 0; run < repeats; run++) {
    console.error(`sluice bench: local backend, run ${run + 1} of ${repeats}...`);
    localRuns.push(summarizeLocal(await runLocalBench(profile.local)));
  }
  console.error('sluice bench: AWS adapters on emulators...');
  const aws = await runAwsBench(profile.aws);
  console.error('sluice bench: small requests and a hot partition on emulators...');
  const small = await runSmallRequestBench(SMALL_REQUESTS[profile.name]);
  const contention = await runContentionBench({ ...CONTENTION[profile.name], repeats });
  console.error('sluice bench: ingest objects in S3 Express One Zone, on emulators...');
  const express = await runExpressIngestBench(profile.aws, SMALL_REQUESTS[profile.name]);
  console.error('sluice bench: client SDK end to end...');
  const clientSettings = { ...profile.client, repeats };
  const client = await runClientE2EBench(clientSettings);
  console.error('sluice bench: push consumers...');
  const push = await runPushRepeated({ quick: profile.name === 'quick', repeats });

  const report: BenchReport = {
    profile: profile.name,
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    repeats,
    environment: {
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpuModel: os.cpus()[0]?.model ?? 'unknown CPU',
      cpus: os.availableParallelism(),
      loadAverageBefore,
      loadAverageAfter: os.loadavg()[0],
    },
    settings: { local: profile.local, aws: profile.aws, client: clientSettings, codec: profile.codec },
    local: repeatLocal(localRuns),
    aws: aws.map(summarizeAws),
    client: repeatClient(client),
    codec: repeatCodec(codecRuns),
  };
  console.log(formatReport(report));
  console.log('');
  console.log(formatSmallRequestSections(small, contention));
  console.log('');
  console.log(formatPushRepeated(push));
  console.log('');
  console.log(formatExpressIngest(express, report.aws));
  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  const file = new URL('latest.json', RESULTS_DIRECTORY);
  await writeFile(file, `${JSON.stringify({ ...report, small, contention, push, express }, null, 2)}\n`);
  const results = benchResults(report, small, contention, express);
  checkResults(results);
  const resultsFile = new URL('bench-results.json', RESULTS_DIRECTORY);
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.error(`sluice bench: wrote ${file.pathname} and ${resultsFile.pathname}`);
}

if (import.meta.main) await main();
