/** The printed report: plain-text tables of the summaries. */
import type { AwsSettings } from './aws-requests.ts';
import type { ClientE2ESettings } from './client-e2e.ts';
import type { CodecSettings } from './codec-vs-kafkajs.ts';
import type { LocalSettings } from './local-http.ts';
import { API_GATEWAY_METERING_BYTES, LAMBDA_ASSUMPTIONS, PRICES_USD, type Cost } from './pricing.ts';
import type { ProfileName } from './profiles.ts';
import type { ClientRepeated, CodecRepeated, LocalRepeated, RatioSpread } from './repeats.ts';
import { formatSpread, type Spread } from './stats.ts';
import type { AwsCaseSummary, PhaseSummary } from './summary.ts';
import { GIB, KIB, MIB } from './workload.ts';

export interface Environment {
  readonly node: string;
  readonly platform: string;
  readonly cpuModel: string;
  readonly cpus: number;
  /** 1-minute load average at the start and the end: how busy the neighbours were. */
  readonly loadAverageBefore: number;
  readonly loadAverageAfter: number;
}

export interface BenchReport {
  readonly profile: ProfileName;
  readonly startedAt: string;
  readonly durationSeconds: number;
  /** Runs of each timed section (local, client, codec); figures are medians with min and max. */
  readonly repeats: number;
  readonly environment: Environment;
  readonly settings: { readonly local: LocalSettings; readonly aws: AwsSettings; readonly client: ClientE2ESettings; readonly codec: CodecSettings };
  readonly local: LocalRepeated;
  readonly aws: readonly AwsCaseSummary[];
  readonly client: readonly ClientRepeated[];
  readonly codec: readonly CodecRepeated[];
}

export function formatReport(report: BenchReport): string {
  return [
    ...headerLines(report),
    '',
    ...localLines(report.local, report.settings.local),
    '',
    ...awsLines(report.aws, report.settings.aws),
    '',
    ...clientLines(report.client, report.settings.client),
    '',
    ...codecLines(report.codec, report.settings.codec),
  ].join('\n');
}

function headerLines(report: BenchReport): string[] {
  const env = report.environment;
  return [
    `Sluice benchmark · profile ${report.profile} · ${report.startedAt} · ${fixed(report.durationSeconds, 0)} s`,
    `node ${env.node} · ${env.platform} · ${env.cpus} × ${env.cpuModel} · load average ${fixed(env.loadAverageBefore, 2)} → ${fixed(env.loadAverageAfter, 2)}`,
    `Data: JSON-like events, ${int(report.local.rawBytesPerRecord)} B per record in an uncompressed batch; zstd batches are ` +
      `${fixed(report.local.compressionRatio, 2)}x smaller.`,
    `"raw" = uncompressed record batches (what the producer hands over); "stored" = bytes in the object store, which for`,
    `binary produce and fetch are also the bytes on the wire.`,
    `Timed figures: median (min–max) over ${report.repeats} runs of each section, never the best run. Counted figures (AWS`,
    `requests, dollars) are deterministic and come from one run.`,
  ];
}

function localLines(local: LocalRepeated, settings: LocalSettings): string[] {
  const rows = local.rows.map((row) => [
    row.label,
    int(row.calls),
    optional(row.records, int),
    spread(row.wallSeconds, (v) => fixed(v, 2)),
    optional(row.rawMiBPerSecond, (v) => spread(v, (x) => fixed(x, 1))),
    spread(row.storedMiBPerSecond, (v) => fixed(v, 1)),
    optional(row.httpMiBPerSecond, (v) => spread(v, (x) => fixed(x, 1))),
    optional(row.recordsPerSecond, (v) => spread(v, int)),
    spread(row.cpuSeconds, (v) => fixed(v, 2)),
  ]);
  const ratios = Object.entries(local.ratios).map(([name, ratio]) => `${ratioName(name)} ${ratioText(ratio)}`);
  return [
    '1. Local backend through the HTTP API (FsObjectStore + SQLite; server and client share this process)',
    ...indent(
      table(['', 'calls', 'records', 'wall s', 'uncompressed MiB/s', 'stored MiB/s', 'HTTP body MiB/s', 'records/s', 'CPU s'], rows),
    ),
    `   Sluice / raw fs on the same bytes (throughput ratio, 1 = as fast as the disk):`,
    ...ratios.map((line) => `     ${line}`),
    `   uncompressed MiB/s counts record batches before zstd; stored MiB/s the bytes written to / read from the store (and`,
    `   for the raw fs rows, files of the same sizes); HTTP body MiB/s the request or response bodies.`,
    `   Binary: one zstd batch of ${size(settings.requestRawBytes)} raw per request, ${settings.partitions} partitions, one request in flight per partition; ` +
      `fetch maxBytes ${size(settings.fetchMaxBytes)}.`,
    `   Raw fs: naive = write + fsync per file (no rename, no directory fsync, no metadata); durable (the fair bar) = temp file +`,
    `   fsync, rename, directory fsync per file, what a crash-safe store needs (still no metadata). Then read back, as many in flight;`,
    `   best of a run just before and just after Sluice. Reads come from the page cache on both sides.`,
    `   JSON: ${int(settings.jsonRecordsPerRequest)} keyed records per request (spread over all partitions), ${settings.partitions} requests in flight; ` +
      `fetch maxBytes ${size(settings.jsonFetchMaxBytes)}; HTTP MiB/s counts JSON bodies.`,
    `   Binary fetch range reads per run: ${local.rangeReads.map((reads) => `${int(reads.fromStore)} from the object store, ${int(reads.fromCache)} from the cache`).join('; ')}.`,
  ];
}

function awsLines(cases: readonly AwsCaseSummary[], settings: AwsSettings): string[] {
  const phaseRows = cases.flatMap((c) => c.phases.map((phase) => ({ label: `${c.name} ${phase.name}`, phase })));
  return [
    '2. AWS adapters (S3ObjectStore + DynamoDbMetadataStore) on s3rver + dynalite: SDK requests actually sent',
    ...cases.flatMap(caseLines),
    '',
    '   Requests per GiB of raw data produced or consumed (per GiB stored: multiply by the compression ratio)',
    ...indent(
      table(
        ['', 'API calls', 'S3 PUT', 'S3 GET', 'DDB requests', 'DDB WRU', 'DDB RRU', 'API GW units'],
        phaseRows.map(({ label, phase }) => [
          label,
          fixed(phase.perGiBRaw.lambdaInvocations, 1),
          fixed(phase.perGiBRaw.s3PutRequests, 1),
          fixed(phase.perGiBRaw.s3GetRequests, 1),
          fixed(phase.perGiBRaw.dynamoRequests, 1),
          fixed(phase.perGiBRaw.dynamoWriteUnits, 1),
          fixed(phase.perGiBRaw.dynamoReadUnits, 1),
          fixed(phase.perGiBRaw.apiGatewayRequests, 1),
        ]),
      ),
    ),
    '',
    '   $ per GiB, list prices (us-east-1)',
    ...indent(
      table(
        ['', 'S3 requests', 'DynamoDB', 'Lambda', 'API GW', 'total / GiB raw', 'total / GiB stored'],
        [
          ...phaseRows.map(({ label, phase }) => costRow(label, phase.costPerGiBRaw, phase.costPerGiBStored)),
          ['Kinesis on-demand in', '', '', '', '', usd(PRICES_USD.kinesisIngestPerGiB), ''],
          ['Kinesis on-demand out', '', '', '', '', usd(PRICES_USD.kinesisRetrievalPerGiB), ''],
        ],
      ),
    ),
    `   Cost of one produce call, and the raw bytes it must carry to be cheaper than Kinesis ingest ($${PRICES_USD.kinesisIngestPerGiB}/GiB):`,
    ...cases.map(breakEvenLine),
    ...awsNotes(cases, settings),
  ];
}

function breakEvenLine(c: AwsCaseSummary): string {
  const produce = c.phases.find((phase) => phase.name === 'produce')!;
  const rawBytes = (produce.usdPerApiCall / PRICES_USD.kinesisIngestPerGiB) * GIB;
  return `     ${c.name}  $${fixed(produce.usdPerApiCall * 1e6, 2)} per million calls → ${size(rawBytes)} per call`;
}

function caseLines(c: AwsCaseSummary): string[] {
  return [
    '',
    `   Case ${c.name} · ${c.description} · ${int(c.produceRequests)} produce calls · ${int(c.records)} records · ` +
      `${size(c.rawBytes)} raw → ${size(c.storedBytes)} stored`,
    ...c.phases.map((phase) => `     ${phase.name.padEnd(18)} ${int(phase.apiCalls).padStart(5)} calls · per call: ${perCallText(phase)}`),
  ];
}

function perCallText(phase: PhaseSummary): string {
  return phase.perApiCall.map(({ label, requests }) => `${label} ${trimmed(requests)}`).join(' · ');
}

function costRow(label: string, perGiBRaw: Cost, perGiBStored: Cost): string[] {
  return [label, usd(perGiBRaw.s3Usd), usd(perGiBRaw.dynamoUsd), usd(perGiBRaw.lambdaUsd), usd(perGiBRaw.apiGatewayUsd), usd(perGiBRaw.totalUsd), usd(perGiBStored.totalUsd)];
}

function awsNotes(cases: readonly AwsCaseSummary[], settings: AwsSettings): string[] {
  const lambda = LAMBDA_ASSUMPTIONS;
  const failed = cases.flatMap((c) => c.phases.flatMap((phase) => phase.counts)).reduce((sum, count) => sum + count.failed, 0);
  return [
    `   Counts: every HTTP request the SDK clients sent, retries included (${int(failed)} answered with an error); DynamoDB capacity`,
    `   units as dynalite reports them. No partition ever has two requests in flight, so the counts are deterministic.`,
    `   Fetch and locations read every partition from 0 with maxBytes ${size(settings.fetchMaxBytes)}; locations then GETs each range from S3.`,
    `   Lambda (assumed, not measured): arm64, ${lambda.memoryMb} MB, ${ms(lambda.produceSeconds)} per produce, ${ms(lambda.fetchSeconds)} per fetch, ` +
      `${ms(lambda.locationsSeconds)} per locations call; one invocation per API call.`,
    `   API Gateway HTTP API: one unit per started ${size(API_GATEWAY_METERING_BYTES)} of request or response body.`,
    `   Warm Lambda: topic and API-key lookups are cached; a cold or idle (> 1 s) Lambda adds up to 2 GetItem = 2 RRU per call.`,
    `   Not included: S3 storage (Standard $0.023 per GB-month of stored bytes), data transfer out, CloudWatch.`,
  ];
}

function clientLines(runs: readonly ClientRepeated[], settings: ClientE2ESettings): string[] {
  const rows = runs.map((run) => [
    `lingerMs ${run.lingerMs}`,
    int(run.records),
    spread(run.wallSeconds, (v) => fixed(v, 2)),
    spread(run.recordsPerSecond, int),
    spread(run.recordMiBPerSecond, (v) => fixed(v, 1)),
    spread(run.produceSeconds, (v) => fixed(v, 2)),
    int(run.produceRequests.median),
    size(run.recordBytesPerRequest.median),
    size(run.bodyBytesPerRequest.median),
    fixed(run.partitionsPerRequest.median, 1),
    int(run.rangeGets.median),
    spread(run.cpuSeconds, (v) => fixed(v, 2)),
  ]);
  return [
    '3. Client SDK end to end: producer -> local server -> consumer (direct ranged reads), all in this process',
    ...indent(
      table(
        ['', 'records', 'wall s', 'records/s', 'key+value MiB/s', 'produce s', 'requests', 'raw/request', 'body/request', 'partitions/req', 'range GETs', 'CPU s'],
        rows,
      ),
    ),
    `   ${int(settings.records)} keyed JSON events per run (MiB/s counts keys + values), ${settings.partitions} partitions, send() of ${settings.messagesPerSend} ` +
      `messages with up to ${settings.outstandingSends} unacknowledged; default producer otherwise (zstd, maxBatchBytes 1 MiB).`,
    `   Clock: first send() to last record consumed (the consumer was started first). Median (min–max) of ${settings.repeats} runs per`,
    `   lingerMs, after a warm-up; requests, sizes and GETs are medians.`,
  ];
}

function codecLines(cases: readonly CodecRepeated[], settings: CodecSettings): string[] {
  const rows = cases.flatMap((c) =>
    (['encode', 'decode'] as const).map((phase) => [
      `${c.name} ${phase}`,
      int(c.recordBytes),
      spread(c[phase].sluice.recordsPerSecond, int),
      spread(c[phase].sluice.mibPerSecond, (v) => fixed(v, 0)),
      spread(c[phase].kafkajs.recordsPerSecond, int),
      spread(c[phase].kafkajs.mibPerSecond, (v) => fixed(v, 0)),
      spread(c[phase].ratio, (v) => `${fixed(v, 1)}x`),
    ]),
  );
  return [
    '4. RecordBatch v2 code: Sluice vs KafkaJS on the same records, codec none (byte-identical output)',
    ...indent(table(['', 'B/record', 'Sluice rec/s', 'batch MiB/s', 'KafkaJS rec/s', 'batch MiB/s', 'Sluice/KafkaJS'], rows)),
    ...cases.map((c) => `   ${c.name}: ${c.description}; batch ${size(c.batchBytes)}.`),
    `   batch MiB/s counts uncompressed batch bytes (codec none). Per run: the median of ${settings.rounds} alternating rounds of ${settings.roundMs} ms`,
    `   per side; then median (min–max) over ${cases[0]?.runs ?? 0} runs. Encode includes the CRC-32C of the whole batch (pure JS,`,
    `   ~1.8 GB/s here), which bounds the ratio for large records; decode does not verify the CRC on either side.`,
  ];
}

function ratioText(ratio: RatioSpread): string {
  return `${spread(ratio.wall, (v) => `${fixed(v, 2)}x`)} wall time, ${spread(ratio.cpu, (v) => `${fixed(v, 2)}x`)} CPU time`;
}

/** produceVsRawWrite → produce vs raw write */
function ratioName(name: string): string {
  return name.replace(/([A-Z])/g, ' $1').toLowerCase().replace(' vs ', ' / ');
}

export function spread(value: Spread, format: (value: number) => string): string {
  return formatSpread(value, format);
}

/** Columns padded to their widest cell: the first left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column].length)));
  return all.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ').trimEnd());
}

export function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `   ${line}`);
}

function optional<T>(value: T | undefined, format: (value: T) => string): string {
  return value === undefined ? '-' : format(value);
}

export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function fixed(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function trimmed(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function usd(value: number): string {
  return `$${value.toFixed(5)}`;
}

function ms(seconds: number): string {
  return `${Math.round(seconds * 1000)} ms`;
}

export function size(bytes: number): string {
  if (bytes >= MIB) return `${trimmed(bytes / MIB)} MiB`;
  if (bytes >= KIB) return `${trimmed(bytes / KIB)} KiB`;
  return `${bytes} B`;
}
