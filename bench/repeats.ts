/**
 * The timed sections run several times (`--repeats N`); these fold the runs into medians with min and
 * max (stats.ts), figure by figure. Counted sections (AWS requests) are deterministic and run once.
 */
import type { ClientE2ERun } from './client-e2e.ts';
import type { CodecCase, CodecRate } from './codec-vs-kafkajs.ts';
import { spreadOf, type Spread } from './stats.ts';
import type { LocalSummary, Ratio } from './summary.ts';
import { MIB } from './workload.ts';

export interface LocalRowSpread {
  readonly label: string;
  readonly calls: number;
  readonly records?: number;
  readonly wallSeconds: Spread;
  readonly cpuSeconds: Spread;
  /** Uncompressed record-batch bytes per second. */
  readonly rawMiBPerSecond?: Spread;
  /** Bytes as stored (zstd batches; the raw fs rows: the same file sizes). */
  readonly storedMiBPerSecond: Spread;
  /** Request bodies (produce) or response bodies (fetch). */
  readonly httpMiBPerSecond?: Spread;
  readonly recordsPerSecond?: Spread;
}

export interface RatioSpread {
  readonly wall: Spread;
  readonly cpu: Spread;
}

export interface LocalRepeated {
  readonly repeats: number;
  readonly rawBytesPerRecord: number;
  readonly compressionRatio: number;
  readonly rows: readonly LocalRowSpread[];
  /** Every Sluice/raw ratio the summary has (produceVsRawWrite, fetchVsRawRead, ...), by its name. */
  readonly ratios: Readonly<Record<string, RatioSpread>>;
  readonly rangeReads: ReadonlyArray<LocalSummary['rangeReads']>;
}

export function repeatLocal(runs: readonly LocalSummary[]): LocalRepeated {
  if (runs.length === 0) throw new RangeError('no local runs');
  const rows = runs[0].rows.map((first, i): LocalRowSpread => {
    const same = runs.map((run) => run.rows[i]);
    if (same.some((row) => row.label !== first.label)) throw new Error(`local rows differ between runs at ${first.label}`);
    const spread = (value: (row: (typeof same)[number]) => number | undefined) => {
      const values = same.map(value);
      return values.every((v) => v !== undefined) ? spreadOf(values as number[]) : undefined;
    };
    return {
      label: first.label,
      calls: first.calls,
      records: first.records,
      wallSeconds: spreadOf(same.map((row) => row.timing.wallSeconds)),
      cpuSeconds: spreadOf(same.map((row) => row.timing.cpuSeconds)),
      rawMiBPerSecond: spread((row) => row.rawMiBPerSecond),
      storedMiBPerSecond: spreadOf(same.map((row) => row.storedMiBPerSecond)),
      httpMiBPerSecond: spread((row) => row.httpMiBPerSecond),
      recordsPerSecond: spread((row) => row.recordsPerSecond),
    };
  });
  const ratios: Record<string, RatioSpread> = {};
  for (const [name, value] of Object.entries(runs[0])) {
    if (!isRatio(value)) continue;
    const all = runs.map((run) => (run as unknown as Record<string, Ratio>)[name]);
    ratios[name] = { wall: spreadOf(all.map((ratio) => ratio.wall)), cpu: spreadOf(all.map((ratio) => ratio.cpu)) };
  }
  return {
    repeats: runs.length,
    rawBytesPerRecord: runs[0].rawBytesPerRecord,
    compressionRatio: runs[0].compressionRatio,
    rows,
    ratios,
    rangeReads: runs.map((run) => run.rangeReads),
  };
}

function isRatio(value: unknown): value is Ratio {
  return typeof value === 'object' && value !== null && typeof (value as Ratio).wall === 'number' && typeof (value as Ratio).cpu === 'number';
}

export interface ClientRepeated {
  readonly lingerMs: number;
  readonly runs: number;
  readonly records: number;
  readonly recordsPerSecond: Spread;
  /** Key + value bytes per second. */
  readonly recordMiBPerSecond: Spread;
  readonly wallSeconds: Spread;
  readonly produceSeconds: Spread;
  readonly cpuSeconds: Spread;
  readonly produceRequests: Spread;
  readonly recordBytesPerRequest: Spread;
  readonly bodyBytesPerRequest: Spread;
  readonly partitionsPerRequest: Spread;
  readonly rangeGets: Spread;
}

/** Runs grouped by lingerMs, in the order the values first appear. */
export function repeatClient(runs: readonly ClientE2ERun[]): ClientRepeated[] {
  const lingers = [...new Set(runs.map((run) => run.lingerMs))];
  return lingers.map((lingerMs) => {
    const same = runs.filter((run) => run.lingerMs === lingerMs);
    const spread = (value: (run: ClientE2ERun) => number) => spreadOf(same.map(value));
    return {
      lingerMs,
      runs: same.length,
      records: same[0].records,
      recordsPerSecond: spread((run) => run.records / run.endToEnd.wallSeconds),
      recordMiBPerSecond: spread((run) => run.recordBytes / MIB / run.endToEnd.wallSeconds),
      wallSeconds: spread((run) => run.endToEnd.wallSeconds),
      produceSeconds: spread((run) => run.produceSeconds),
      cpuSeconds: spread((run) => run.endToEnd.cpuSeconds),
      produceRequests: spread((run) => run.produceRequests),
      recordBytesPerRequest: spread((run) => run.recordBytes / run.produceRequests),
      bodyBytesPerRequest: spread((run) => run.produceBodyBytes / run.produceRequests),
      partitionsPerRequest: spread((run) => run.partitionsPerRequest),
      rangeGets: spread((run) => run.rangeGets),
    };
  });
}

export interface CodecRateSpread {
  readonly recordsPerSecond: Spread;
  /** Uncompressed batch bytes (codec none) per second. */
  readonly mibPerSecond: Spread;
}

export interface CodecPhaseSpread {
  readonly sluice: CodecRateSpread;
  readonly kafkajs: CodecRateSpread;
  /** Sluice / KafkaJS within each run, then the median of those. */
  readonly ratio: Spread;
}

export interface CodecRepeated {
  readonly name: string;
  readonly description: string;
  readonly recordBytes: number;
  readonly batchBytes: number;
  readonly runs: number;
  readonly encode: CodecPhaseSpread;
  readonly decode: CodecPhaseSpread;
}

export function repeatCodec(runs: ReadonlyArray<readonly CodecCase[]>): CodecRepeated[] {
  if (runs.length === 0) throw new RangeError('no codec runs');
  return runs[0].map((first) => {
    const same = runs.map((run) => run.find((c) => c.name === first.name)!);
    const rate = (rates: readonly CodecRate[]): CodecRateSpread => ({
      recordsPerSecond: spreadOf(rates.map((r) => r.recordsPerSecond)),
      mibPerSecond: spreadOf(rates.map((r) => r.mibPerSecond)),
    });
    const phase = (name: 'encode' | 'decode'): CodecPhaseSpread => ({
      sluice: rate(same.map((c) => c[name].sluice)),
      kafkajs: rate(same.map((c) => c[name].kafkajs)),
      ratio: spreadOf(same.map((c) => c[name].ratio)),
    });
    return { name: first.name, description: first.description, recordBytes: first.recordBytes, batchBytes: first.batchBytes, runs: runs.length, encode: phase('encode'), decode: phase('decode') };
  });
}
