/** The printed sections for small requests, the hot partition and the latency model. */
import type { ContentionRun } from './contention.ts';
import { PUBLISHED_LATENCY_MS } from './latency-model.ts';
import { fixed, indent, int, size, spread, table, trimmed } from './report.ts';
import { SMALL_PRODUCE_HANDLER_MS, type SmallRequestCase } from './small-requests.ts';
import { spreadOf } from './stats.ts';

export function formatSmallRequestSections(small: readonly SmallRequestCase[], contention: readonly ContentionRun[]): string {
  return [...smallLines(small), '', ...contentionLines(contention), '', ...latencyLines(small)].join('\n');
}

function smallLines(cases: readonly SmallRequestCase[]): string[] {
  const label = (c: SmallRequestCase) => (c.idempotent ? 'with Idempotency-Key' : 'without key');
  const dollars = (value: number) => `$${value.toFixed(2)}`;
  return [
    '5. Small produce requests on the AWS adapters (s3rver + dynalite): one ~1 KiB JSON event per request, zstd-compressed as the SDK producer sends it, counted',
    ...cases.map(
      (c) =>
        `   ${label(c).padEnd(20)} ${int(c.requests)} requests of ${size(c.bodyBytes)} · per request: ` +
        c.perRequest.map((count) => `${count.label} ${trimmed(count.requests)}${count.failed > 0 ? ` (${trimmed(count.failed)} failed)` : ''}`).join(' · '),
    ),
    '',
    '   $ per million requests, list prices (us-east-1)',
    ...indent(
      table(
        ['', 'S3', 'DynamoDB', 'Lambda', 'API GW', 'HTTP API total', 'Function URL total', 'later: compaction'],
        cases.map((c) => [
          label(c),
          dollars(c.costPerMillion.s3Usd),
          dollars(c.costPerMillion.dynamoUsd),
          dollars(c.costPerMillion.lambdaUsd),
          dollars(c.costPerMillion.apiGatewayUsd),
          dollars(c.costPerMillion.totalUsd),
          dollars(c.functionUrlUsdPerMillion),
          dollars(c.compactionUsdPerMillion),
        ]),
      ),
    ),
    `   Lambda billed for the modeled p50 service time of the request (section 7) + ${SMALL_PRODUCE_HANDLER_MS} ms of its own work, arm64. The Function URL`,
    `   front door has no per-request fee. "later": S3 and DynamoDB requests of the maintenance pass that compacts these`,
    `   requests (per million; it shrinks with more requests per partition between passes), not in the totals.`,
  ];
}

function contentionLines(runs: readonly ContentionRun[]): string[] {
  if (runs.length === 0) return [];
  const per = (value: (run: ContentionRun) => number, digits = 2) => spread(spreadOf(runs.map(value)), (v) => fixed(v, digits));
  return [
    `6. Hot partition: ${runs[0].producers} producers append 1-record batches to ONE partition, one request in flight each (dynalite)`,
    ...indent(
      table(
        ['run', 'appends', 'head writes', 'failed conditions', 'watermark writes', 'head reads', 'all reads', 'ceiling appends/s'],
        runs.map((run, i) => [
          String(i + 1),
          int(run.appends),
          `${int(run.headWrites)} (${fixed(run.headWritesPerAppend, 2)}/append)`,
          `${int(run.headConditionsFailed)} (${fixed(run.failedConditionsPerAppend, 2)}/append)`,
          `${int(run.watermarkWrites)} (${fixed(run.watermarkWritesPerAppend, 4)}/append)`,
          `${int(run.headReads)} (${fixed(run.headReadsPerAppend, 2)}/append)`,
          `${int(run.metadataReads)} (${fixed(run.readsPerAppend, 2)}/append)`,
          int(run.ceilingAppendsPerSecond),
        ]),
      ),
    ),
    `   Per append, median (min–max) over ${runs.length} runs: head writes ${per((run) => run.headWritesPerAppend)}, of them failed conditions ` +
      `${per((run) => run.failedConditionsPerAppend)} (billed), watermark item writes ${per((run) => run.watermarkWritesPerAppend, 4)}, reads ${per((run) => run.readsPerAppend)}.`,
    `   Ceiling on one partition from DynamoDB's 1,000 writes/s per item: ${per((run) => run.ceilingAppendsPerSecond, 0)} appends/s; ` +
      `${per((run) => run.ceilingPartitionKeyAppendsPerSecond, 0)} while head, watermark and log entries (${per((run) => run.partitionKeyWritesPerAppend, 4)} writes per append) share one DynamoDB partition's 1,000 write units/s.`,
    `   Counted port calls (head = p#<topicId>#<partition> / head); the SDK's own count of head writes agreed: ` +
      `${runs.every((run) => run.sdkHeadWrites === undefined || run.sdkHeadWrites === run.headWrites) ? 'yes' : 'NO'}. Offsets checked 0..n-1, each once.`,
  ];
}

function latencyLines(cases: readonly SmallRequestCase[]): string[] {
  const latency = PUBLISHED_LATENCY_MS;
  return [
    '7. Modeled produce-ack latency of a 1-record request: sequential round trips (counted) × published service latencies',
    ...indent(
      table(
        ['', 'round trips', 'S3', 'DynamoDB', 'service p50', 'service p99', 'HTTP API p50', 'p99', 'Function URL p50', 'p99'],
        cases.map((c) => [
          c.idempotent ? 'with Idempotency-Key' : 'without key',
          c.roundTripsMin === c.roundTripsMax ? int(c.latency.sequentialRoundTrips) : `${c.latency.sequentialRoundTrips} (${c.roundTripsMin}–${c.roundTripsMax})`,
          int(c.latency.sequentialObjectCalls),
          int(c.latency.sequentialMetadataCalls),
          `${int(c.latency.serviceP50Ms)} ms`,
          `${int(c.latency.serviceP99Ms)} ms`,
          `${int(c.latency.p50Ms)} ms`,
          `${int(c.latency.p99Ms)} ms`,
          `${int(c.latencyFunctionUrl.p50Ms)} ms`,
          `${int(c.latencyFunctionUrl.p99Ms)} ms`,
        ]),
      ),
    ),
    ...cases.map((c) => `   ${c.idempotent ? 'with key' : 'no key  '}: ${c.latency.path.join(' → ')}`),
    `   Latencies (p50/p99 ms): S3 PUT ${latency.s3Put.p50Ms}/${latency.s3Put.p99Ms}, S3 GET ${latency.s3Get.p50Ms}/${latency.s3Get.p99Ms}, DynamoDB ${latency.dynamoDb.p50Ms}/${latency.dynamoDb.p99Ms}, ` +
      `API Gateway + warm Lambda ${latency.apiGatewayAndWarmLambda.p50Ms}/${latency.apiGatewayAndWarmLambda.p99Ms}, Function URL + warm Lambda ` +
      `${latency.functionUrlAndWarmLambda.p50Ms}/${latency.functionUrlAndWarmLambda.p99Ms} (sources in bench/latency-model.ts).`,
    `   p99 charges every round trip on the path its p99: an upper bound. Calls in flight together count once (the slowest).`,
  ];
}
