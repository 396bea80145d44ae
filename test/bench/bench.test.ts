/**
 * The bench's own arithmetic, so it cannot silently rot: the stats helper, the results writer's keys
 * and shapes, the critical-path latency model, the hot-partition counting on the memory backend, and
 * the idle-maintenance counts on dynalite.
 * Nothing here times anything.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkContiguous, contentionRun, type ContentionRun } from '../../bench/contention.ts';
import { runIdleMaintenanceBench } from '../../bench/idle-maintenance.ts';
import { runSeekByTimeBench } from '../../bench/seek-by-time.ts';
import { PUBLISHED_LATENCY_MS, criticalPath, latencyModel } from '../../bench/latency-model.ts';
import { recordingStores, type RecordedCall } from '../../bench/recording-stores.ts';
import { repeatClient, repeatLocal } from '../../bench/repeats.ts';
import { argsOf } from '../../bench/run.ts';
import type { BenchReport } from '../../bench/report.ts';
import { REQUIRED_RESULTS, benchResults, checkResults } from '../../bench/results.ts';
import type { SmallRequestCase } from '../../bench/small-requests.ts';
import { formatSpread, median, spreadOf } from '../../bench/stats.ts';
import type { LocalSummary } from '../../bench/summary.ts';
import { Engine } from '../../lib/log/engine.ts';
import { encodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';

describe('bench stats', () => {
  it('takes the median of odd and even counts, whatever the order', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.deepEqual(spreadOf([5, 1, 9, 3]), { median: 4, min: 1, max: 9 });
  });

  it('refuses no values and non-finite ones rather than reporting nonsense', () => {
    assert.throws(() => median([]), RangeError);
    assert.throws(() => spreadOf([1, Number.NaN]), RangeError);
    assert.throws(() => spreadOf([Number.POSITIVE_INFINITY]), RangeError);
  });

  it('prints median (min–max), and one value when all runs agree', () => {
    assert.equal(formatSpread({ median: 2, min: 1, max: 3 }, (v) => v.toFixed(1)), '2.0 (1.0–3.0)');
    assert.equal(formatSpread({ median: 2, min: 2, max: 2 }, String), '2');
  });

  it('repeats 3 runs by default and 2 with --quick; --repeats N overrides; bad flags are refused', () => {
    assert.deepEqual([argsOf([]).repeats, argsOf([]).profile.name], [3, 'default']);
    assert.deepEqual([argsOf(['--quick']).repeats, argsOf(['--quick']).profile.name], [2, 'quick']);
    assert.equal(argsOf(['--quick', '--repeats', '5']).repeats, 5);
    assert.equal(argsOf(['--repeats', '4', '--large']).profile.name, 'large');
    assert.throws(() => argsOf(['--repeats', '0']), /--repeats/);
    assert.throws(() => argsOf(['--repeats', 'x']), /--repeats/);
    assert.throws(() => argsOf(['--fast']), /usage/);
  });

  it('folds repeated local runs figure by figure, every ratio included', () => {
    const run = (seconds: number, ratio: number): LocalSummary => ({
      rawBytesPerRecord: 1000,
      compressionRatio: 3,
      rows: [{ label: 'produce binary', calls: 4, records: 10, storedBytes: 100, timing: { wallSeconds: seconds, cpuSeconds: seconds / 2 }, storedMiBPerSecond: 1 / seconds }],
      produceVsRawWrite: { wall: ratio, cpu: ratio * 2 },
      produceVsDurableWrite: { wall: ratio * 2, cpu: ratio * 3 },
      fetchVsRawRead: { wall: ratio * 3, cpu: 1 },
      rangeReads: { fromStore: 1, fromCache: 0 },
    });
    const folded = repeatLocal([run(1, 0.1), run(4, 0.3), run(2, 0.2)]);
    assert.deepEqual(folded.rows[0].wallSeconds, { median: 2, min: 1, max: 4 });
    assert.deepEqual(folded.ratios.produceVsRawWrite.wall, { median: 0.2, min: 0.1, max: 0.3 });
    assert.deepEqual(folded.ratios.produceVsDurableWrite.wall, { median: 0.4, min: 0.2, max: 0.6 });
    assert.deepEqual(Object.keys(folded.ratios).sort(), ['fetchVsRawRead', 'produceVsDurableWrite', 'produceVsRawWrite']);
  });

  it('keeps every client run (no best-of) and groups them by lingerMs', () => {
    const run = (lingerMs: number, wallSeconds: number) => ({
      lingerMs,
      records: 100,
      recordBytes: 100 * 1024,
      endToEnd: { wallSeconds, cpuSeconds: 1 },
      produceSeconds: wallSeconds,
      produceRequests: 2,
      produceBodyBytes: 50_000,
      partitionsPerRequest: 1,
      locationsCalls: 1,
      rangeGets: 2,
    });
    const [zero, five] = repeatClient([run(0, 1), run(5, 2), run(0, 4), run(5, 1), run(0, 2), run(5, 0.5)]);
    assert.equal(zero.lingerMs, 0);
    assert.deepEqual(zero.recordsPerSecond, { median: 50, min: 25, max: 100 });
    assert.equal(five.runs, 3);
    assert.deepEqual(five.recordsPerSecond, { median: 100, min: 50, max: 200 });
  });
});

describe('bench latency model', () => {
  let sequence = 0;
  const call = (store: RecordedCall['store'], operation: string, startedAt: number, endedAt: number): RecordedCall => ({
    store,
    operation,
    target: `t${sequence++}`,
    startedAt,
    endedAt,
    conditionFailed: false,
    failed: false,
  });

  it('charges calls in flight together once and a call after another in sequence', () => {
    // PUT, then two DynamoDB writes in parallel, then one more after both.
    const calls = [call('object', 'put', 0, 1), call('metadata', 'update', 2, 5), call('metadata', 'update', 3, 4), call('metadata', 'put', 6, 7)];
    assert.equal(criticalPath(calls, () => 1).length, 3);
    const model = latencyModel(calls);
    assert.equal(model.sequentialRoundTrips, 3);
    assert.equal(model.sequentialObjectCalls, 1);
    assert.equal(model.sequentialMetadataCalls, 2);
    const { s3Put, dynamoDb, apiGatewayAndWarmLambda } = PUBLISHED_LATENCY_MS;
    assert.equal(model.serviceP50Ms, s3Put.p50Ms + 2 * dynamoDb.p50Ms);
    assert.equal(model.p99Ms, s3Put.p99Ms + 2 * dynamoDb.p99Ms + apiGatewayAndWarmLambda.p99Ms);
    assert.equal(model.path.length, 3);
  });

  it('follows the slower branch when parallel calls have different latencies', () => {
    // An S3 PUT and a DynamoDB write in parallel, then a DynamoDB write after both.
    const calls = [call('metadata', 'update', 0, 1), call('object', 'put', 2, 5), call('metadata', 'update', 3, 4), call('metadata', 'put', 6, 7)];
    const model = latencyModel(calls);
    assert.equal(model.serviceP50Ms, PUBLISHED_LATENCY_MS.dynamoDb.p50Ms * 2 + PUBLISHED_LATENCY_MS.s3Put.p50Ms);
    assert.match(model.path[1], /^object put/);
  });

  it('models a real produce on the memory backend from its recorded calls', async () => {
    const recording = recordingStores(new MemoryObjectStore(), new MemoryMetadataStore());
    const engine = new Engine({ objects: recording.objects, metadata: recording.metadata });
    await engine.topics.create('t', 1);
    await engine.topics.get('t');
    recording.recorder.reset();
    const data = encodeRecordBatch([{ key: null, value: new Uint8Array(1024), headers: [], timestamp: Date.now() }]);
    await engine.produce('t', [{ partition: 0, data, recordCount: 1, maxTimestamp: Date.now() }]);
    const model = latencyModel(recording.recorder.calls);
    assert.ok(recording.recorder.calls.every((recorded) => recorded.endedAt > recorded.startedAt));
    assert.ok(model.sequentialMetadataCalls >= 1, 'a produce writes metadata');
    assert.ok(model.sequentialRoundTrips <= recording.recorder.calls.length);
    assert.equal(model.sequentialRoundTrips, model.sequentialObjectCalls + model.sequentialMetadataCalls);
  });

  it('a small produce with an Idempotency-Key is acknowledged after 3 sequential round trips (reserve, intent, entry); its retry appends nothing new', async () => {
    const recording = recordingStores(new MemoryObjectStore(), new MemoryMetadataStore());
    const engine = new Engine({ objects: recording.objects, metadata: recording.metadata });
    await engine.topics.create('t', 1);
    await engine.topics.get('t');
    const data = encodeRecordBatch([{ key: null, value: new Uint8Array(200), headers: [], timestamp: Date.now() }]);
    const append = [{ partition: 0, data, recordCount: 1, maxTimestamp: Date.now() }];
    const idempotency = { key: 'k-1', fingerprint: 'f-1' };
    recording.recorder.reset();
    const [first] = await engine.produce('t', append, idempotency);
    const steps = recording.recorder.calls.map((c) => `${c.operation} ${c.target}`);
    assert.deepEqual(steps, ['update partition head', 'put idempotency intent', 'put log entry'], 'reserve, create the intent with the reservation, write the entry: no read, no object, no commit mark');
    assert.equal(latencyModel(recording.recorder.calls).sequentialRoundTrips, 3);
    recording.recorder.reset();
    const [retried] = await engine.produce('t', append, idempotency);
    assert.equal(retried.baseOffset, first.baseOffset);
    const retrySteps = recording.recorder.calls.map((c) => `${c.operation} ${c.target}`);
    assert.ok(retrySteps.includes('put log entry'), `the retry fences the range it reserved before it found the intent: ${retrySteps.join(', ')}`);
    const fetched = await engine.fetch('t', 0, { offset: 0n });
    assert.deepEqual(fetched.batches.map((b) => b.baseOffset), [0n], 'one record, once');
    assert.equal(fetched.highWatermark, 2n, 'the fenced range is past the high watermark already: readers do not wait for it');
  });
});

describe('bench hot partition', () => {
  it('counts head writes per append on a tiny run and checks the offsets are contiguous', async () => {
    // An independent count underneath the recorder: writes that reach the store's head items.
    const counted = { headWrites: 0, refused: 0 };
    class CountingMemoryStore extends MemoryMetadataStore {
      override async update(...args: Parameters<MemoryMetadataStore['update']>) {
        const isHead = args[1] === 'head' && args[0].startsWith('p#');
        if (isHead) counted.headWrites++;
        try {
          return await super.update(...args);
        } catch (error) {
          if (isHead) counted.refused++;
          throw error;
        }
      }
      override async put(...args: Parameters<MemoryMetadataStore['put']>) {
        const isHead = args[0].sk === 'head' && args[0].pk.startsWith('p#');
        if (isHead) counted.headWrites++;
        try {
          return await super.put(...args);
        } catch (error) {
          if (isHead) counted.refused++;
          throw error;
        }
      }
    }
    let countingFrom = { headWrites: 0, refused: 0 };
    const run = await contentionRun(new MemoryObjectStore(), new CountingMemoryStore(), { producers: 4, appendsPerProducer: 5 }, () => (countingFrom = { ...counted }));
    assert.equal(run.headWrites, counted.headWrites - countingFrom.headWrites);
    assert.equal(run.headConditionsFailed, counted.refused - countingFrom.refused);
    assert.equal(run.appends, 20);
    assert.ok(run.headWrites >= run.appends, `every append writes the head at least once (${run.headWrites} writes for ${run.appends})`);
    assert.ok(run.headConditionsFailed <= run.headWrites);
    assert.equal(run.headWritesPerAppend, run.headWrites / 20);
    assert.equal(run.ceilingAppendsPerSecond, 1000 / run.headWritesPerAppend);
    assert.ok(run.metadataWrites >= run.headWrites + run.watermarkWrites);
    // 20 appends on a fresh partition: none of them is the 64th reservation, and the partition was not idle.
    assert.equal(run.watermarkWrites, 0);
    // Each 1-record append also puts its log entry under the partition's key.
    assert.ok(run.partitionKeyWritesPerAppend >= 2, `${run.partitionKeyWritesPerAppend} writes per append to the partition's key`);
    assert.equal(run.ceilingPartitionKeyAppendsPerSecond, 1000 / run.partitionKeyWritesPerAppend);
  });

  it('refuses gaps and duplicates in the offsets', () => {
    checkContiguous([2n, 0n, 1n], 3);
    assert.throws(() => checkContiguous([0n, 2n, 3n], 3), /not contiguous/);
    assert.throws(() => checkContiguous([0n, 1n, 1n], 3), /not contiguous/);
    assert.throws(() => checkContiguous([0n, 1n], 3), /expected 3/);
  });
});

describe('bench-results.json', () => {
  const spread = (median: number) => ({ median, min: median / 2, max: median * 2 });
  const ratio = (wall: number) => ({ wall: spread(wall), cpu: spread(wall) });
  const phase = (name: string, totalUsd: number) => ({ name, costPerGiBRaw: { totalUsd } });
  const report = {
    profile: 'quick',
    startedAt: '2026-12-02T00:00:00.000Z',
    repeats: 3,
    settings: {
      aws: {
        cases: [
          { name: 'A', requestRawBytes: 1024 * 1024, partitionsPerRequest: 1, idempotent: false },
          { name: 'C', requestRawBytes: 64 * 1024, partitionsPerRequest: 1, idempotent: false },
          { name: 'D', requestRawBytes: 1024 * 1024, partitionsPerRequest: 1, idempotent: true },
        ],
      },
    },
    local: { ratios: { produceVsRawWrite: ratio(0.1), produceVsDurableWrite: ratio(0.2), fetchVsRawRead: ratio(0.5) } },
    aws: [
      { name: 'A', phases: [phase('produce', 0.01), phase('fetch', 0.004)] },
      { name: 'C', phases: [phase('produce', 0.17)] },
      { name: 'D', phases: [phase('produce', 0.5)] },
    ],
    client: [
      { lingerMs: 0, recordsPerSecond: spread(1000) },
      { lingerMs: 5, recordsPerSecond: spread(2000) },
    ],
    codec: [{ name: 'events', recordBytes: 1015, encode: { ratio: spread(6) }, decode: { ratio: spread(3) } }],
  } as unknown as BenchReport;
  const smallCase = (idempotent: boolean, totalUsd: number) =>
    ({
      idempotent,
      costPerMillion: { totalUsd, apiGatewayUsd: 1 },
      functionUrlUsdPerMillion: totalUsd - 1,
      latency: { sequentialRoundTrips: 4, p50Ms: 55, p99Ms: 190, path: ['object put ingest object'] },
      latencyFunctionUrl: { p50Ms: 52, p99Ms: 185 },
    }) as unknown as SmallRequestCase;
  const contention = [
    { producers: 16, appends: 80, headWrites: 200, headConditionsFailed: 100, watermarkWrites: 2, partitionKeyWritesPerAppend: 3, metadataReads: 320, headWritesPerAppend: 2.5, failedConditionsPerAppend: 1.25 },
    { producers: 16, appends: 80, headWrites: 220, headConditionsFailed: 120, watermarkWrites: 1, partitionKeyWritesPerAppend: 4, metadataReads: 330, headWritesPerAppend: 2.75, failedConditionsPerAppend: 1.5 },
  ] as unknown as ContentionRun[];

  it('has every required key in its shape, taken from the right figure', () => {
    const results = benchResults(report, [smallCase(false, 9.2), smallCase(true, 12.5)], contention);
    checkResults(JSON.parse(JSON.stringify(results)));
    for (const key of Object.keys(REQUIRED_RESULTS)) assert.ok(key in results, key);
    assert.deepEqual(results.produceSmallUsdPerMillion, {
      withoutIdempotencyKey: 9.2,
      withIdempotencyKey: 12.5,
      functionUrlWithoutIdempotencyKey: 8.2,
      functionUrlWithIdempotencyKey: 11.5,
    });
    assert.deepEqual(results.produceUsdPerGiB, { '1MiB': 0.01, '64KiB': 0.17 });
    assert.equal(results.headWritesPerAppendHot, 420 / 160);
    assert.equal(results.failedConditionsPerAppendHot, 220 / 160);
    assert.equal(results.partitionCeilingAppendsPerSecHot, 1000 / (420 / 160));
    assert.equal(results.watermarkWritesPerAppendHot, 3 / 160);
    assert.equal(results.partitionKeyCeilingAppendsPerSecHot, 1000 / 3.5);
    assert.deepEqual(results.localProduceToRawFs, spread(0.1));
    assert.deepEqual(results.localFetchToRawFs, spread(0.5));
    assert.deepEqual(results.encodeVsKafkajs1KiB, spread(6));
    assert.deepEqual(results.decodeVsKafkajs1KiB, spread(3));
    assert.deepEqual(results.sdkEndToEndRecordsPerSec, spread(2000), 'the default lingerMs (5)');
    assert.equal(results.produceLatencyModelP50Ms, 55);
    assert.equal(results.produceLatencyModelP99Ms, 190);
    for (const key of Object.keys(REQUIRED_RESULTS)) assert.ok(results.units[key], `units say what ${key} counts`);
  });

  it('refuses a results object with a missing key or a wrong shape', () => {
    const results = benchResults(report, [smallCase(false, 9.2), smallCase(true, 12.5)], contention);
    const { headWritesPerAppendHot: _, ...missing } = results;
    assert.throws(() => checkResults(missing), /headWritesPerAppendHot/);
    assert.throws(() => checkResults({ ...results, localProduceToRawFs: 0.1 }), /localProduceToRawFs/);
    assert.throws(() => checkResults({ ...results, encodeVsKafkajs1KiB: { median: 5, min: 6, max: 7 } }), /encodeVsKafkajs1KiB/);
    assert.throws(() => checkResults({ ...results, produceSmallUsdPerMillion: { withIdempotencyKey: 1 } }), /withoutIdempotencyKey/);
  });

  it('refuses to write without the pieces it reports', () => {
    assert.throws(() => benchResults(report, [smallCase(true, 12.5)], contention), /Idempotency-Key/);
    assert.throws(() => benchResults(report, [smallCase(false, 9.2), smallCase(true, 12.5)], []), /hot-partition/);
    const noCodec = { ...report, codec: [] } as unknown as BenchReport;
    assert.throws(() => benchResults(noCodec, [smallCase(false, 9.2), smallCase(true, 12.5)], contention), /1 KiB/);
  });
});

describe('bench idle maintenance', () => {
  it('counts a full and a scheduled pass over settled partitions on dynalite: the scheduled one lists nothing and reads each head once', async () => {
    const run = await runIdleMaintenanceBench(6);
    assert.equal(run.partitionsSkipped, run.partitions);
    assert.ok(run.segments >= run.partitions * 2, `segments: ${run.segments}`);
    assert.equal(run.scheduled.listRequests, 0);
    assert.ok(run.full.listRequests >= 1);
    // One Query per partition (head, watermark, mark) plus the topic list, the topic's marks and the deleted topics.
    assert.equal(run.scheduled.queries, run.partitions + 3);
    assert.equal(run.scheduled.writeUnits, 0);
    assert.ok(run.full.readUnits > run.scheduled.readUnits * 2, JSON.stringify(run));
  });
});

describe('bench seek by time', () => {
  it('counts seeks and a throughput window on dynalite: each seek reads the head, one index point and one page, wherever it lands', async () => {
    const run = await runSeekByTimeBench(90); // 180 requests 10 s apart: the last 10 minutes hold a third of them
    assert.ok(run.segments >= 45, `segments: ${run.segments}`);
    assert.ok(run.timeIndexPoints >= run.segments - 1, `points: ${run.timeIndexPoints}`);
    assert.deepEqual(run.seeks.map((s) => s.target), ['before the log', '10 %', '50 %', '90 %', '99 %', 'past the end']);
    for (const seek of run.seeks) assert.ok(seek.count.queries <= 3, `${seek.target}: ${JSON.stringify(seek.count)}`);
    assert.equal(run.seeks[0]!.offset, 0n);
    assert.equal(run.seeks[run.seeks.length - 1]!.offset, run.records);
    assert.ok(run.seeks.every((s, i) => i === 0 || s.offset >= run.seeks[i - 1]!.offset));
    assert.equal(run.throughput.truncated, false);
    assert.ok(run.throughput.records > 0 && run.throughput.objectGets < run.segments / 2, `only the segments that reach into the window: ${JSON.stringify(run.throughput)}`);
  });
});
