/** Derived numbers: rates, Sluice/raw ratios, and AWS requests and dollars per GiB. */
import type { AwsCaseResult, Phase } from './aws-requests.ts';
import type { LocalResult, Throughput } from './local-http.ts';
import { costOf, scaleUsage, type Cost, type Usage } from './pricing.ts';
import { GIB, MIB } from './workload.ts';

export interface Rates {
  readonly rawMiBPerSecond?: number;
  readonly storedMiBPerSecond: number;
  readonly httpMiBPerSecond?: number;
  readonly recordsPerSecond?: number;
}

/** Sluice throughput over raw file-system throughput on the same bytes (1 = as fast as the disk). */
export interface Ratio {
  readonly wall: number;
  readonly cpu: number;
}

export interface LocalSummary {
  /** Of the binary workload: uncompressed batch bytes per record, and raw / stored. */
  readonly rawBytesPerRecord: number;
  readonly compressionRatio: number;
  readonly rows: ReadonlyArray<Throughput & Rates>;
  readonly produceVsRawWrite: Ratio;
  /** Against the fair baseline: temp file + fsync, rename, directory fsync per file. */
  readonly produceVsDurableWrite: Ratio;
  readonly fetchVsRawRead: Ratio;
  readonly rangeReads: LocalResult['rangeReads'];
}

/** In report order; the last three run after one maintenance pass compacted the log. */
const PHASES = ['produce', 'fetch', 'locations', 'compaction', 'fetchCompacted', 'locationsCompacted'] as const;

export interface PhaseSummary extends Phase {
  readonly name: (typeof PHASES)[number];
  /** AWS requests per API call, by operation and target; presigned GETs last. */
  readonly perApiCall: ReadonlyArray<{ readonly label: string; readonly requests: number }>;
  readonly perGiBRaw: Usage;
  readonly costPerGiBRaw: Cost;
  readonly costPerGiBStored: Cost;
  readonly usdPerApiCall: number;
}

export interface AwsCaseSummary {
  readonly name: string;
  readonly description: string;
  readonly produceRequests: number;
  readonly records: number;
  readonly rawBytes: number;
  readonly storedBytes: number;
  readonly phases: readonly PhaseSummary[];
}

export function summarizeLocal(local: LocalResult): LocalSummary {
  const rows = [local.produce, local.rawWrite, local.rawWriteDurable, local.fetch, local.rawRead, local.produceJson, local.fetchJson];
  const { rawBytes = 0, records = 1, storedBytes } = local.produce;
  return {
    rawBytesPerRecord: rawBytes / records,
    compressionRatio: rawBytes / storedBytes,
    rows: rows.map((row) => ({ ...row, ...ratesOf(row) })),
    produceVsRawWrite: ratio(local.produce, local.rawWrite),
    produceVsDurableWrite: ratio(local.produce, local.rawWriteDurable),
    fetchVsRawRead: ratio(local.fetch, local.rawRead),
    rangeReads: local.rangeReads,
  };
}

export function summarizeAws(result: AwsCaseResult): AwsCaseSummary {
  const phases = PHASES.map((name) => summarizePhase(name, result[name], result));
  return {
    name: result.case.name,
    description: result.case.description,
    produceRequests: result.produce.apiCalls,
    records: result.records,
    rawBytes: result.rawBytes,
    storedBytes: result.storedBytes,
    phases,
  };
}

function summarizePhase(name: PhaseSummary['name'], phase: Phase, result: AwsCaseResult): PhaseSummary {
  const perApiCall = phase.counts.map((count) => ({
    label: `${count.service === 'DynamoDB' ? 'DDB' : count.service} ${count.operation} ${count.target}`,
    requests: count.requests / phase.apiCalls,
  }));
  if (phase.presignedGets > 0) perApiCall.push({ label: 'presigned S3 GET by the client', requests: phase.presignedGets / phase.apiCalls });
  return {
    name,
    ...phase,
    perApiCall,
    perGiBRaw: scaleUsage(phase.usage, GIB / result.rawBytes),
    costPerGiBRaw: costOf(scaleUsage(phase.usage, GIB / result.rawBytes)),
    costPerGiBStored: costOf(scaleUsage(phase.usage, GIB / result.storedBytes)),
    usdPerApiCall: costOf(phase.usage).totalUsd / phase.apiCalls,
  };
}

function ratesOf(row: Throughput): Rates {
  const seconds = row.timing.wallSeconds;
  return {
    rawMiBPerSecond: row.rawBytes === undefined ? undefined : row.rawBytes / MIB / seconds,
    storedMiBPerSecond: row.storedBytes / MIB / seconds,
    httpMiBPerSecond: row.httpBytes === undefined ? undefined : row.httpBytes / MIB / seconds,
    recordsPerSecond: row.records === undefined ? undefined : row.records / seconds,
  };
}

/** Both moved the same bytes, so throughput ratio = inverse time ratio. */
function ratio(sluice: Throughput, raw: Throughput): Ratio {
  return { wall: raw.timing.wallSeconds / sluice.timing.wallSeconds, cpu: raw.timing.cpuSeconds / sluice.timing.cpuSeconds };
}
