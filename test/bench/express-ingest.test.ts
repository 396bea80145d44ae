/**
 * Section 8 of the bench (bench/express-ingest.ts): S3 Express One Zone pricing of counted requests,
 * its bench-results.json keys, and a small live run on the emulators: produce PUTs reach the second
 * bucket only, compaction writes segments to the first, and the same 64 KiB requests cost less.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runAwsCase, type AwsSettings } from '../../bench/aws-requests.ts';
import { expressCases, formatExpressIngest, runExpressIngestBench, type ExpressIngestResult } from '../../bench/express-ingest.ts';
import { PRICES_USD, costOf, usageOf } from '../../bench/pricing.ts';
import type { OperationCount } from '../../bench/request-counter.ts';
import { benchResults, checkResults } from '../../bench/results.ts';
import type { BenchReport } from '../../bench/report.ts';
import type { ContentionRun } from '../../bench/contention.ts';
import type { SmallRequestCase } from '../../bench/small-requests.ts';
import { summarizeAws } from '../../bench/summary.ts';
import { KIB, MIB } from '../../bench/workload.ts';

const count = (service: OperationCount['service'], operation: string, requests: number, bytes: { requestBytes?: number; responseBytes?: number } = {}): OperationCount => ({
  service,
  operation,
  target: 'ingest',
  requests,
  failed: 0,
  capacityUnits: 0,
  requestBytes: bytes.requestBytes ?? 0,
  responseBytes: bytes.responseBytes ?? 0,
});

describe('S3 Express One Zone prices (bench/pricing.ts)', () => {
  it('PUTs and GETs at their rates, upload and retrieval per GiB of the bytes carried, deletes free; S3 Standard unchanged', () => {
    const usage = usageOf(
      [
        count('S3Express', 'PutObject', 1000, { requestBytes: 2 ** 30 }),
        count('S3Express', 'GetObject', 2000, { responseBytes: 2 ** 29 }),
        count('S3Express', 'DeleteObjects', 5),
        count('S3', 'PutObject', 10),
        count('S3', 'DeleteObjects', 3),
      ],
      { invocations: 0, secondsEach: 0, payloadBytes: [] },
    );
    const cost = costOf(usage);
    const express = 1000 * PRICES_USD.s3ExpressPutRequest + 2000 * PRICES_USD.s3ExpressGetRequest + PRICES_USD.s3ExpressUploadPerGiB + 0.5 * PRICES_USD.s3ExpressRetrievalPerGiB;
    assert.ok(Math.abs(cost.s3ExpressUsd - express) < 1e-12);
    assert.ok(Math.abs(cost.s3ExpressUsd - (0.00113 + 0.00006 + 0.0032 + 0.0003)) < 1e-12, 'the list prices');
    assert.ok(Math.abs(cost.s3Usd - (express + 10 * PRICES_USD.s3PutRequest)) < 1e-12);
    assert.equal(usage.s3PutRequests, 10);
    assert.throws(() => usageOf([count('S3Express', 'RestoreObject', 1)], { invocations: 0, secondsEach: 0, payloadBytes: [] }), /no price class/);
  });
});

describe('bench-results.json with S3 Express figures', () => {
  it('adds produceUsdPerGiBExpressIngest and produceSmallUsdPerMillionExpressIngest, with units, and keeps every required key', () => {
    const phase = (name: string, totalUsd: number) => ({ name, costPerGiBRaw: { totalUsd } });
    const spread = (median: number) => ({ median, min: median / 2, max: median * 2 });
    const ratio = (wall: number) => ({ wall: spread(wall), cpu: spread(wall) });
    const report = {
      profile: 'quick',
      startedAt: '2026-12-02T00:00:00.000Z',
      repeats: 1,
      settings: { aws: { cases: [{ name: 'A', requestRawBytes: MIB, partitionsPerRequest: 1, idempotent: false }, { name: 'C', requestRawBytes: 64 * KIB, partitionsPerRequest: 1, idempotent: false }] } },
      local: { ratios: { produceVsRawWrite: ratio(0.1), produceVsDurableWrite: ratio(0.2), fetchVsRawRead: ratio(0.5) } },
      aws: [{ name: 'A', phases: [phase('produce', 0.01)] }, { name: 'C', phases: [phase('produce', 0.159)] }],
      client: [{ lingerMs: 5, recordsPerSecond: spread(2000) }],
      codec: [{ name: 'events', recordBytes: 1015, encode: { ratio: spread(6) }, decode: { ratio: spread(3) } }],
    } as unknown as BenchReport;
    const small = (idempotent: boolean, totalUsd: number) =>
      ({ idempotent, costPerMillion: { totalUsd, apiGatewayUsd: 1 }, functionUrlUsdPerMillion: totalUsd - 1, latency: { sequentialRoundTrips: 4, p50Ms: 55, p99Ms: 190, path: [] }, latencyFunctionUrl: { p50Ms: 52, p99Ms: 185 } }) as unknown as SmallRequestCase;
    const contention = [{ producers: 16, appends: 80, headWrites: 80, headConditionsFailed: 0, metadataReads: 100, headWritesPerAppend: 1, failedConditionsPerAppend: 0 }] as unknown as ContentionRun[];
    const express = {
      produce: [
        { requestRawBytes: MIB, caseName: 'A', usdPerGiB: 0.007, functionUrlUsdPerGiB: 0.006, s3ExpressUsdPerGiB: 0.002, storageUsdPerGiB: 0.00002, compactionUsdPerGiB: 0.0025 },
        { requestRawBytes: 64 * KIB, caseName: 'C', usdPerGiB: 0.097, functionUrlUsdPerGiB: 0.081, s3ExpressUsdPerGiB: 0.019, storageUsdPerGiB: 0.00002, compactionUsdPerGiB: 0.024 },
      ],
      cases: [],
      small: [small(false, 2.5), small(true, 5.25)],
    } as unknown as ExpressIngestResult;
    const results = benchResults(report, [small(false, 2.8), small(true, 5.3)], contention, express);
    checkResults(JSON.parse(JSON.stringify(results)));
    assert.deepEqual(results.produceUsdPerGiB, { '1MiB': 0.01, '64KiB': 0.159 }, 'the S3 Standard key is unchanged');
    assert.deepEqual(results.produceUsdPerGiBExpressIngest, { '1MiB': 0.007, '64KiB': 0.097, functionUrl1MiB: 0.006, functionUrl64KiB: 0.081, storage64KiB: 0.00002 });
    assert.deepEqual(results.produceSmallUsdPerMillionExpressIngest, { withoutIdempotencyKey: 2.5, withIdempotencyKey: 5.25, functionUrlWithoutIdempotencyKey: 1.5, functionUrlWithIdempotencyKey: 4.25 });
    assert.match(results.units.produceUsdPerGiBExpressIngest, /S3 Express One Zone/);
    assert.match(results.units.produceSmallUsdPerMillionExpressIngest, /S3 Express One Zone/);
    assert.equal(benchResults(report, [small(false, 2.8), small(true, 5.3)], contention).produceUsdPerGiBExpressIngest, undefined);
  });
});

describe('bench section 8 on the emulators (small run)', () => {
  it('produce PUTs go to the directory bucket only, compaction writes segments to the bucket, and 64 KiB requests cost less than on S3 Standard', async () => {
    const settings: AwsSettings = {
      partitions: 2,
      fetchMaxBytes: MIB,
      distinctRawBytes: MIB,
      cases: [
        { name: 'A', description: '1 MiB requests', totalRawBytes: 2 * MIB, requestRawBytes: MIB, partitionsPerRequest: 1, idempotent: false },
        { name: 'C', description: '64 KiB requests', totalRawBytes: MIB, requestRawBytes: 64 * KIB, partitionsPerRequest: 1, idempotent: false },
      ],
    };
    const express = await runExpressIngestBench(settings, { requests: 6, partitions: 2 });
    const standard = [];
    for (const awsCase of expressCases(settings)) standard.push(summarizeAws(await runAwsCase(awsCase, settings)));
    for (const summary of express.cases) {
      const produce = summary.phases.find((p) => p.name === 'produce')!;
      assert.ok(produce.counts.some((c) => c.service === 'S3Express' && c.operation === 'PutObject'), `${summary.name}: PUTs to the directory bucket`);
      assert.ok(!produce.counts.some((c) => c.service === 'S3'), `${summary.name}: nothing to the bucket on produce`);
      const compaction = summary.phases.find((p) => p.name === 'compaction')!;
      assert.ok(compaction.counts.some((c) => c.service === 'S3' && c.operation === 'PutObject' && c.target === 'segments'), 'segments in the bucket');
      assert.ok(compaction.counts.some((c) => c.service === 'S3Express' && c.operation === 'GetObject'), 'compaction reads the directory bucket');
    }
    // Priced as Lambda runs produce, one request per invocation: one ingest object each, never shared
    // (lib/log/ingest-writer.ts), although the bench sends to 8 partitions at once from one process.
    const wide = { ...settings, partitions: 8 };
    for (const summary of [summarizeAws(await runAwsCase(settings.cases[1], wide))]) {
      const produce = summary.phases.find((p) => p.name === 'produce')!;
      const puts = produce.counts.filter((count) => count.service === 'S3' && count.operation === 'PutObject').reduce((n, count) => n + count.requests, 0);
      assert.equal(puts, produce.apiCalls, `${summary.name}: one PUT per produce request`);
    }
    const c = express.produce.find((f) => f.requestRawBytes === 64 * KIB)!;
    const onStandard = standard.find((s) => s.name === 'C')!.phases.find((p) => p.name === 'produce')!.costPerGiBRaw;
    assert.ok(c.usdPerGiB < onStandard.totalUsd, `64 KiB: ${c.usdPerGiB} on S3 Express vs ${onStandard.totalUsd}`);
    assert.ok(c.functionUrlUsdPerGiB < c.usdPerGiB);
    assert.ok(c.s3ExpressUsdPerGiB > 0 && c.storageUsdPerGiB > 0);
    // 1-record requests are inline: nothing in either bucket.
    for (const small of express.small) assert.equal(small.costPerMillion.s3ExpressUsd, 0);
    assert.match(formatExpressIngest(express, standard), /64 KiB requests/);
  });
});
