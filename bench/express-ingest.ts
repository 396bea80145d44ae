/**
 * Ingest objects in an S3 Express One Zone directory bucket (`ingestObjects: { storage: 'express' }`):
 * the same produce requests as section 2 (1 MiB and 64 KiB requests, one partition each) and section 5
 * (1-record requests), on the same engine, over RoutedObjectStore with a second s3rver standing in for
 * the directory bucket. Every SDK request is counted as before; requests to the second bucket are
 * priced at S3 Express One Zone rates (pricing.ts), with its per-GiB upload and retrieval charges on the
 * bytes they carried. Segments written by compaction stay on S3 Standard.
 *
 * Storage is not a request charge, but the option adds one: ingest objects live in the directory
 * bucket at $0.11 per GB-month until garbage collection deletes them, at least DEFAULTS.gcMinObjectAgeMs
 * + gcGraceMs after they were written, plus up to a maintenance interval (EXPRESS_STORAGE_MINUTES).
 */
import { DEFAULTS, DEPLOYMENT } from '../lib/defaults.ts';
import { runAwsCase, type AwsCase, type AwsSettings } from './aws-requests.ts';
import { PRICES_USD } from './pricing.ts';
import { countedExpressEmulatorStores } from './request-counter.ts';
import { smallRequestCase, type SmallRequestCase, type SmallRequestSettings } from './small-requests.ts';
import { summarizeAws, type AwsCaseSummary } from './summary.ts';
import { KIB, MIB } from './workload.ts';

/** How long an ingest object is stored in the directory bucket: GC's minimum age and grace, and one maintenance interval. */
export const EXPRESS_STORAGE_MINUTES = (DEFAULTS.gcMinObjectAgeMs + DEFAULTS.gcGraceMs) / 60_000 + DEPLOYMENT.maintenanceIntervalMinutes;
const MINUTES_PER_MONTH = 730 * 60;

export interface ExpressProduceFigure {
  readonly requestRawBytes: number;
  readonly caseName: string;
  /** Produce phase, per GiB of raw record batches, HTTP API front door. */
  readonly usdPerGiB: number;
  /** The same through the produce function's URL (no API Gateway fee). */
  readonly functionUrlUsdPerGiB: number;
  /** The directory bucket's part of it (PUTs and upload charge). */
  readonly s3ExpressUsdPerGiB: number;
  /** Storage in the directory bucket for EXPRESS_STORAGE_MINUTES, per GiB raw. */
  readonly storageUsdPerGiB: number;
  /** The maintenance pass that moves the data to segments (GETs from the directory bucket, segment PUTs), per GiB raw. */
  readonly compactionUsdPerGiB: number;
}

export interface ExpressIngestResult {
  readonly produce: readonly ExpressProduceFigure[];
  readonly cases: readonly AwsCaseSummary[];
  readonly small: readonly SmallRequestCase[];
}

/** The 1 MiB and 64 KiB one-partition, no-key cases of the profile. */
export function expressCases(settings: AwsSettings): AwsCase[] {
  const cases = [MIB, 64 * KIB].map((bytes) => settings.cases.find((c) => c.requestRawBytes === bytes && c.partitionsPerRequest === 1 && !c.idempotent));
  if (cases.some((c) => c === undefined)) throw new Error('the AWS profile needs its 1 MiB and 64 KiB one-partition cases');
  return cases as AwsCase[];
}

export async function runExpressIngestBench(aws: AwsSettings, small: SmallRequestSettings): Promise<ExpressIngestResult> {
  const summaries: AwsCaseSummary[] = [];
  for (const awsCase of expressCases(aws)) summaries.push(summarizeAws(await runAwsCase(awsCase, aws, countedExpressEmulatorStores)));
  const produce = summaries.map((summary, i): ExpressProduceFigure => {
    const phase = (name: string) => summary.phases.find((p) => p.name === name)!;
    const cost = phase('produce').costPerGiBRaw;
    const storedPerRaw = summary.storedBytes / summary.rawBytes;
    return {
      requestRawBytes: expressCases(aws)[i].requestRawBytes,
      caseName: summary.name,
      usdPerGiB: cost.totalUsd,
      functionUrlUsdPerGiB: cost.totalUsd - cost.apiGatewayUsd,
      s3ExpressUsdPerGiB: cost.s3ExpressUsd,
      storageUsdPerGiB: storedPerRaw * PRICES_USD.s3ExpressStoragePerGiBMonth * (EXPRESS_STORAGE_MINUTES / MINUTES_PER_MONTH),
      compactionUsdPerGiB: phase('compaction').costPerGiBRaw.totalUsd,
    };
  });
  const smallCases: SmallRequestCase[] = [];
  for (const idempotent of [false, true]) {
    const stores = await countedExpressEmulatorStores();
    try {
      smallCases.push(await smallRequestCase(stores.objects, stores.metadata, stores.counter, { ...small, idempotent }));
    } finally {
      await stores.stop();
    }
  }
  return { produce, cases: summaries, small: smallCases };
}

/** The report section, beside section 2's S3 Standard figures of the same cases. */
export function formatExpressIngest(result: ExpressIngestResult, standard: readonly AwsCaseSummary[]): string {
  const usd = (value: number) => `$${value.toFixed(4)}`;
  const lines = [
    "8. Ingest objects in S3 Express One Zone (ingestObjects: { storage: 'express' }): the same requests, counted the same way on a",
    '   second s3rver bucket (listing like a directory bucket); its requests priced at S3 Express One Zone rates: PUT $0.00113 and',
    '   GET $0.00003 per 1,000, upload $0.0032 and retrieval $0.0006 per GiB on every byte; segments stay on S3 Standard.',
    '   Produce, $ per GiB raw:      S3 Standard (HTTP API / Function URL)   S3 Express (HTTP API / Function URL)   of which directory bucket   + storage   compaction (Standard → Express)',
  ];
  for (const figure of result.produce) {
    const base = standard.find((c) => c.name === figure.caseName)?.phases;
    const stdProduce = base?.find((p) => p.name === 'produce')?.costPerGiBRaw;
    const stdCompaction = base?.find((p) => p.name === 'compaction')?.costPerGiBRaw.totalUsd;
    const label = figure.requestRawBytes >= MIB ? `${figure.requestRawBytes / MIB} MiB` : `${figure.requestRawBytes / KIB} KiB`;
    lines.push(
      `     ${`${label} requests`.padEnd(26)}` +
        `${stdProduce ? `${usd(stdProduce.totalUsd)} / ${usd(stdProduce.totalUsd - stdProduce.apiGatewayUsd)}` : 'n/a'}`.padEnd(41) +
        `${usd(figure.usdPerGiB)} / ${usd(figure.functionUrlUsdPerGiB)}`.padEnd(39) +
        `${usd(figure.s3ExpressUsdPerGiB)}`.padEnd(28) +
        `$${figure.storageUsdPerGiB.toFixed(6)}`.padEnd(12) +
        `${stdCompaction === undefined ? 'n/a' : usd(stdCompaction)} → ${usd(figure.compactionUsdPerGiB)}`,
    );
  }
  for (const c of result.small) {
    lines.push(
      `     1-record requests${c.idempotent ? ', Idempotency-Key' : ''}: $${c.costPerMillion.totalUsd.toFixed(2)} per million (HTTP API), $${c.functionUrlUsdPerMillion.toFixed(2)} (Function URL); ` +
        `directory bucket $${c.costPerMillion.s3ExpressUsd.toFixed(2)} (their batches are inline in the log entry: no object)`,
    );
  }
  lines.push(
    `   Storage: ${EXPRESS_STORAGE_MINUTES} minutes at $0.11/GB-month (GC's minimum object age + grace + one maintenance interval), per GiB stored.`,
    '   Lambda is billed the same modeled time as on S3 Standard (a directory bucket PUT is faster; not credited here).',
    '   Not counted: CreateSession (one per function instance and bucket about every 5 minutes; the emulator has none).',
  );
  return lines.join('\n');
}
