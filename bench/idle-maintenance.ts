/**
 * What maintenance passes cost over a long retained log: `npm run bench:idle-maintenance [-- --quick]
 * [--retention-bytes N]` (retention by size too; by default by time alone).
 *
 * A topic's partitions are filled and compacted into segments, then left alone until passes find
 * nothing to do. Then one full pass (from each partition's log start, and collecting the topic: what
 * the hourly safety net costs; every pass cost more than that before: 47 Query, 185 RRU in this bench
 * at 1047689, when retention and compaction each walked the whole log), one scheduled pass (quiet
 * partitions skipped: one Query each) and one scheduled pass after a request to every partition
 * (compaction walks from the end of the sealed segments, retention to the first entry it keeps,
 * collection lists the ingest objects and reads the tails) are counted on DynamoDB (dynalite, ConsumedCapacity: a Query pays 1 read unit per 4 KB of items it reads,
 * strongly consistent) and on the object store (LIST requests: one per 1,000 keys). Deterministic
 * counts, not timings; priced per month at the default schedule (a pass every 5 minutes, a full pass
 * at least every DEFAULTS.maintenanceFullPassIntervalMs), and per GiB retained, since a deployment's
 * segments are DEFAULTS.segmentBytes each (the bench's are smaller so that it has many; an entry item
 * costs the same whatever its segment's size).
 */
import { DEFAULTS, DEPLOYMENT } from '../lib/defaults.ts';
import { Engine } from '../lib/log/engine.ts';
import { ENTRY_SK_END, ENTRY_SK_PREFIX, partitionPk } from '../lib/log/layout.ts';
import { MemoryObjectStore } from '../lib/storage/memory.ts';
import { DynamoDbMetadataStore } from '../lib/storage/dynamodb-metadata-store.ts';
import type { ObjectStore } from '../lib/storage/ports.ts';
import { append } from '../test/log/engine.suite.ts';
import { ManualClock } from '../test/support/clock.ts';
import { startDynalite } from '../test/support/emulators.ts';
import { PRICES_USD } from './pricing.ts';
import { RequestCounter, type OperationCount } from './request-counter.ts';

const PARTITIONS = 4;
const SEGMENT_BYTES = 32 * 1024;
/** Two requests of ~16 KiB per segment. */
const RECORDS_PER_REQUEST = 16;
const MINUTE = 60_000;
const PASSES_PER_MONTH = (30 * 24 * 60) / DEPLOYMENT.maintenanceIntervalMinutes;
const FULL_PASSES_PER_MONTH = (30 * 24 * 60 * MINUTE) / DEFAULTS.maintenanceFullPassIntervalMs;

/** Counts list calls and the keys they return (S3 answers at most 1,000 keys per LIST request). */
class ListCounter implements ObjectStore {
  readonly inner: ObjectStore;
  listRequests = 0;
  constructor(inner: ObjectStore) {
    this.inner = inner;
  }
  put(key: string, body: Uint8Array) {
    return this.inner.put(key, body);
  }
  get(...args: Parameters<ObjectStore['get']>) {
    return this.inner.get(...args);
  }
  delete(keys: readonly string[]) {
    return this.inner.delete(keys);
  }
  async *list(prefix: string) {
    let keys = 0;
    for await (const info of this.inner.list(prefix)) {
      if (keys++ % 1000 === 0) this.listRequests++;
      yield info;
    }
    if (keys === 0) this.listRequests++;
  }
}

export interface PassCount {
  readonly queries: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly listRequests: number;
}

export function countOf(counts: readonly OperationCount[], listRequests: number): PassCount {
  const dynamo = counts.filter((c) => c.service === 'DynamoDB');
  const writes = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
  return {
    queries: dynamo.filter((c) => c.operation === 'Query').reduce((n, c) => n + c.requests, 0),
    readUnits: dynamo.filter((c) => !writes.has(c.operation)).reduce((n, c) => n + c.capacityUnits, 0),
    writeUnits: dynamo.filter((c) => writes.has(c.operation)).reduce((n, c) => n + c.capacityUnits, 0),
    listRequests,
  };
}

function dollars(pass: PassCount): number {
  return (pass.readUnits * PRICES_USD.dynamoReadUnit + pass.writeUnits * PRICES_USD.dynamoWriteUnit + pass.listRequests * PRICES_USD.s3PutRequest /* LIST is priced as a PUT */);
}

export interface IdleMaintenanceRun {
  readonly partitions: number;
  readonly segments: number;
  /** A full pass: what every pass cost before quiet partitions were skipped. */
  readonly full: PassCount;
  /** A scheduled pass over the same quiet partitions. */
  readonly scheduled: PassCount;
  /** A scheduled pass after one more request to every partition (its tail compacted). */
  readonly busy: PassCount;
  readonly partitionsSkipped: number;
}

/** Fills, compacts and settles a topic, then counts one full and one scheduled pass (see the top of this file). */
export async function runIdleMaintenanceBench(segmentsPerPartition: number, options: { retentionBytes?: number } = {}): Promise<IdleMaintenanceRun> {
  const dynamo = await startDynalite();
  try {
    const counter = new RequestCounter();
    counter.countDynamoDb(dynamo.client);
    const clock = new ManualClock(Date.now());
    const objects = new ListCounter(new MemoryObjectStore());
    const metadata = new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName });
    const engine = new Engine({
      objects,
      metadata,
      now: clock.now,
      inlineMaxBytes: 0,
      maintenance: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 4 * 1024 },
    });
    await engine.topics.create('idle', PARTITIONS, { retentionMs: 7 * 24 * 60 * MINUTE, retentionBytes: options.retentionBytes ?? -1 });
    const value = 'x'.repeat(1000);
    for (let i = 0; i < segmentsPerPartition * 2; i++) {
      await Promise.all(
        Array.from({ length: PARTITIONS }, (_, p) => engine.produce('idle', [append(p, Array.from({ length: RECORDS_PER_REQUEST }, (_, j) => `${i}-${j}-${value}`), clock.now(), 'none')])),
      );
      clock.advance(100);
    }
    // Compact, mark the superseded ingest objects, collect them, and settle.
    for (const advance of [6 * MINUTE, 16 * MINUTE, 11 * MINUTE, MINUTE]) {
      clock.advance(advance);
      await engine.maintain();
    }
    await engine.maintain({ full: true });
    const measure = async (full: boolean) => {
      counter.reset();
      objects.listRequests = 0;
      const report = await engine.maintain({ full });
      return { report, count: countOf(counter.snapshot(), objects.listRequests) };
    };
    const full = await measure(true);
    const scheduled = await measure(false);
    await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => engine.produce('idle', [append(p, [`one more ${value}`], clock.now(), 'none')])));
    clock.advance(6 * MINUTE);
    const busy = await measure(false);
    if (busy.report.entriesCompacted < PARTITIONS) throw new Error(`the busy pass compacted ${busy.report.entriesCompacted} entries`);
    const { id } = await engine.topics.get('idle');
    let segments = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      segments += (await metadata.query(partitionPk(id, partition), { gte: ENTRY_SK_PREFIX, lt: ENTRY_SK_END })).filter((item) => typeof item.indexKey === 'string').length;
    }
    return { partitions: PARTITIONS, segments, full: full.count, scheduled: scheduled.count, busy: busy.count, partitionsSkipped: scheduled.report.partitionsSkipped };
  } finally {
    await dynamo.stop();
  }
}

function format(run: IdleMaintenanceRun): string[] {
  const { full, scheduled, segments } = run;
  if (run.partitionsSkipped !== run.partitions) throw new Error(`expected ${run.partitions} quiet partitions, ${run.partitionsSkipped} were skipped`);
  const before = dollars(full) * PASSES_PER_MONTH;
  const after = dollars(scheduled) * (PASSES_PER_MONTH - FULL_PASSES_PER_MONTH) + dollars(full) * FULL_PASSES_PER_MONTH;
  const segmentsPerGiB = (1024 * 1024 * 1024) / DEFAULTS.segmentBytes;
  const perGiB = (usd: number) => ((usd / segments) * segmentsPerGiB).toFixed(4);
  const row = (name: string, c: PassCount) =>
    `  ${name.padEnd(36)} ${String(c.queries).padStart(5)} Query, ${c.readUnits.toFixed(1).padStart(7)} RRU, ${c.writeUnits.toFixed(0).padStart(3)} WRU, ${String(c.listRequests).padStart(3)} LIST`;
  return [
    `Maintenance over a retained log: ${run.partitions} partitions, ${segments} compacted segments (dynalite ConsumedCapacity, LIST requests per 1,000 keys)`,
    row('full pass (from the log start)', full),
    row('scheduled pass, quiet partitions', scheduled),
    row('scheduled pass, 1 new request each', run.busy),
    `  idle: read units per pass ${(full.readUnits / scheduled.readUnits).toFixed(0)}× fewer than a full pass; per month at a pass every ${DEPLOYMENT.maintenanceIntervalMinutes} min and a full pass every ${DEFAULTS.maintenanceFullPassIntervalMs / MINUTE} min: $${before.toFixed(4)} → $${after.toFixed(4)} (${(before / after).toFixed(1)}× less)`,
    `  per GiB retained (${segmentsPerGiB} segments of ${DEFAULTS.segmentBytes / 1024 / 1024} MiB; the pass's fixed reads spread over this run's segments): $${perGiB(before)} → $${perGiB(after)} per month (S3 Standard storage: $0.023 per GB-month)`,
  ];
}

if (import.meta.main) {
  const at = process.argv.indexOf('--retention-bytes');
  const retentionBytes = at > 0 ? Number(process.argv[at + 1]) : undefined;
  const run = await runIdleMaintenanceBench(process.argv.includes('--quick') ? 40 : 200, { retentionBytes });
  if (retentionBytes !== undefined) console.log(`(retention by size as well: ${retentionBytes} bytes per partition)`);
  for (const line of format(run)) console.log(line);
}
