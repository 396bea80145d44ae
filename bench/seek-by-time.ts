/**
 * What finding records by time costs on a long partition: `npm run bench:seek-by-time [-- --quick]`.
 *
 * One partition is filled with requests ten seconds apart (a twentieth of them arriving 30 s late,
 * as app events do) and compacted into sealed segments, then `offsetForTimestamp` is asked for
 * targets across its history (before it, at 10 %, 50 %, 90 % and 99 % of it, past its end) and the
 * throughput route for its last ten minutes. Each call is counted on DynamoDB (dynalite,
 * ConsumedCapacity: a Query pays 1 read unit per 4 KB of items it reads, strongly consistent) and
 * on the object store (GETs of segment indexes). Deterministic counts, not timings. A deployment's
 * segments are DEFAULTS.segmentBytes each; the bench's are smaller so that it has many (an entry
 * item costs the same whatever its segment's size), and per GiB retained is stated.
 *
 * Before the time index (fe473e8, the same command: 1,334 segments) a seek walked the entries from the
 * log start: 2–15 Queries and 12–135 read units (median 131), growing with the log; the throughput
 * window took 135 read units and 1,329 index GETs. With it (bcea186): 3 Queries and 3 read units
 * wherever the seek lands; the window 5 read units and 21 GETs.
 */
import { DEFAULTS, LIMITS } from '../lib/defaults.ts';
import { Engine } from '../lib/log/engine.ts';
import { ENTRY_SK_END, ENTRY_SK_PREFIX, TIME_INDEX_SK_END, TIME_INDEX_SK_PREFIX, partitionPk } from '../lib/log/layout.ts';
import { MemoryObjectStore } from '../lib/storage/memory.ts';
import { DynamoDbMetadataStore } from '../lib/storage/dynamodb-metadata-store.ts';
import { append } from '../test/log/engine.suite.ts';
import { ManualClock } from '../test/support/clock.ts';
import { CountingObjectStore } from '../test/support/counting-store.ts';
import { startDynalite } from '../test/support/emulators.ts';
import { countOf, type PassCount } from './idle-maintenance.ts';
import { RequestCounter } from './request-counter.ts';

const SEGMENT_BYTES = 32 * 1024;
/** Two requests of ~16 KiB per segment. */
const RECORDS_PER_REQUEST = 16;
const MINUTE = 60_000;
const LATE_EVERY = 20;
const LATE_MS = 30_000;
const REQUEST_EVERY_MS = 10_000;

export interface SeekCount extends PassCount {
  readonly objectGets: number;
}

export interface SeekByTimeRun {
  readonly segments: number;
  readonly records: bigint;
  /** offsetForTimestamp per target, named by where it points. */
  readonly seeks: ReadonlyArray<{ readonly target: string; readonly offset: bigint; readonly count: SeekCount }>;
  /** The throughput route over the last ten minutes, one-minute buckets. */
  readonly throughput: SeekCount & { readonly truncated: boolean; readonly records: number };
  /** A full maintenance pass over the settled partition. */
  readonly fullPass: PassCount;
  /** Time index points the partition holds (one write unit each, written once). */
  readonly timeIndexPoints: number;
}

export async function runSeekByTimeBench(segments: number): Promise<SeekByTimeRun> {
  const dynamo = await startDynalite();
  try {
    const counter = new RequestCounter();
    counter.countDynamoDb(dynamo.client);
    const clock = new ManualClock(Date.UTC(2026, 11, 1));
    const objects = new CountingObjectStore(new MemoryObjectStore(), clock.now);
    const metadata = new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName });
    const engine = new Engine({ objects, metadata, now: clock.now, inlineMaxBytes: 0, maintenance: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 4 * 1024 } });
    await engine.topics.create('seek', 1, { retentionMs: -1 });
    const value = 'x'.repeat(1000);
    const first = clock.now();
    const requests = segments * 2;
    for (let i = 0; i < requests; i++) {
      const timestamp = clock.now() - (i % LATE_EVERY === LATE_EVERY - 1 ? LATE_MS : 0);
      await engine.produce('seek', [append(0, Array.from({ length: RECORDS_PER_REQUEST }, (_, j) => `${i}-${j}-${value}`), timestamp, 'none')]);
      clock.advance(REQUEST_EVERY_MS);
    }
    const last = clock.now();
    for (const advance of [6 * MINUTE, 16 * MINUTE, 11 * MINUTE, MINUTE]) {
      clock.advance(advance);
      await engine.maintain();
    }
    const measure = async <T>(work: () => Promise<T>): Promise<{ result: T; count: SeekCount }> => {
      counter.reset();
      objects.reset();
      const result = await work();
      return { result, count: { ...countOf(counter.snapshot(), 0), objectGets: objects.gets } };
    };
    const fullPass = (await measure(() => engine.maintain({ full: true }))).count;
    const at = (fraction: number) => Math.round(first + fraction * (last - first));
    const targets: Array<[string, number]> = [['before the log', first - 3_600_000], ['10 %', at(0.1)], ['50 %', at(0.5)], ['90 %', at(0.9)], ['99 %', at(0.99)], ['past the end', last + 3_600_000]];
    const seeks = [];
    for (const [target, timestamp] of targets) {
      const { result: offset, count } = await measure(() => engine.offsetForTimestamp('seek', 0, timestamp));
      seeks.push({ target, offset, count });
    }
    const { result: throughput, count } = await measure(() => engine.throughput('seek', { bucketMs: MINUTE, from: last - 10 * MINUTE, to: last, maxEntries: LIMITS.maxThroughputEntries }));
    const { id } = await engine.topics.get('seek');
    const entries = await metadata.query(partitionPk(id, 0), { gte: ENTRY_SK_PREFIX, lt: ENTRY_SK_END });
    const points = await metadata.query(partitionPk(id, 0), { gte: TIME_INDEX_SK_PREFIX, lt: TIME_INDEX_SK_END });
    return {
      segments: entries.filter((item) => typeof item.indexKey === 'string').length,
      records: BigInt(requests * RECORDS_PER_REQUEST),
      seeks,
      throughput: { ...count, truncated: throughput.truncated, records: throughput.buckets.reduce((n, b) => n + b.records, 0) },
      fullPass,
      timeIndexPoints: points.length,
    };
  } finally {
    await dynamo.stop();
  }
}

function format(run: SeekByTimeRun): string[] {
  const row = (name: string, c: SeekCount) =>
    `  ${name.padEnd(40)} ${String(c.queries).padStart(5)} Query, ${c.readUnits.toFixed(1).padStart(7)} RRU, ${String(c.objectGets).padStart(2)} GET`;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rrus = run.seeks.map((s) => s.count.readUnits);
  const gib = (run.segments * DEFAULTS.segmentBytes) / 2 ** 30; // what the same entries hold at the default segment size
  return [
    `Seeking by time on one partition of ${run.segments} sealed segments, ${run.records} records (dynalite ConsumedCapacity; ≈ ${gib.toFixed(1)} GiB at ${DEFAULTS.segmentBytes / 1024 / 1024} MiB segments)`,
    ...run.seeks.map((s) => row(`offsetForTimestamp, ${s.target} → ${s.offset}`, s.count)),
    `  offsetForTimestamp read units: median ${median(rrus).toFixed(1)} (min ${Math.min(...rrus).toFixed(1)}, max ${Math.max(...rrus).toFixed(1)}); Queries median ${median(run.seeks.map((s) => s.count.queries))}`,
    `${row('throughput, last 10 minutes', run.throughput)}; ${run.throughput.records} records${run.throughput.truncated ? ', TRUNCATED' : ''}`,
    `  full maintenance pass: ${run.fullPass.queries} Query, ${run.fullPass.readUnits.toFixed(1)} RRU, ${run.fullPass.writeUnits.toFixed(0)} WRU; time index: ${run.timeIndexPoints} points (${(run.timeIndexPoints / run.segments).toFixed(2)} per segment, written once)`,
  ];
}

if (import.meta.main) {
  const run = await runSeekByTimeBench(process.argv.includes('--quick') ? 200 : 2000);
  for (const line of format(run)) console.log(line);
}
