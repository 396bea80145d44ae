/**
 * Live tail benchmark: `npm run bench:live-tail [-- --quick]`.
 *
 * 1. Counted: head reads of an idle long poll (fake timers on a manual clock and a counting metadata
 *    store: deterministic), before (every 250 ms) and now (backoff to 4 s), per single and
 *    multi-partition wait, priced in AWS with the fetch function's Lambda time.
 * 2. Modeled: an idle consumer of 8 partitions in AWS for a month, by way of consuming.
 * 3. Measured on this machine, same run: produce-to-consume latency through the local server for the
 *    SSE live tail, the long-poll fallback and the notification channel (one record at a time;
 *    median, p99, min, max), and for the SDK consumer on the channel vs on long polls.
 * 4. Counted: the requests an idle SDK consumer of 8 partitions sends on the channel and on the
 *    shared long poll over the same window (scaled timings), and the month those counts imply in AWS
 *    at the defaults, with a group member's heartbeats.
 * 5. Modeled: log entries written → record at a parked consumer in AWS, by the produce function's
 *    append hint and by the stream fallback; what the hints add to the produce ack, by deadline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sluice } from '../lib/client/index.ts';
import { silentLogger } from '../lib/client/context.ts';
import { DEFAULTS, DEPLOYMENT } from '../lib/defaults.ts';
import { API_DEFAULTS } from '../lib/api/limits.ts';
import { CONSUMER_DEFAULTS } from '../lib/client/consumer/consumer.ts';
import { CHANNEL_DEFAULTS } from '../lib/client/consumer/channel.ts';
import type { FetchFunction } from '../lib/client/network/http.ts';
import { Engine, type WaitTimers } from '../lib/log/engine.ts';
import { startLocalServer } from '../lib/server/local.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../lib/storage/memory.ts';
import { CountingStore } from '../test/groups/counting-store.ts';
import { ManualClock } from '../test/support/clock.ts';
import { APPEND_HINT_DEFAULTS } from '../lib/lambda/append-hints.ts';
import { PRICES_USD } from './pricing.ts';
import { ackWithAppendHints, chain, CHANNEL_LATENCY_MS, exceedance, latencyModel, mixtureQuantile, PUBLISHED_LATENCY_MS, type ServiceLatency } from './latency-model.ts';
import { recordingStores } from './recording-stores.ts';

const QUICK = process.argv.includes('--quick');
const SAMPLES = QUICK ? 40 : 200;
/** Records sent first on each path and not counted (JIT, connection set-up). */
const WARMUP = 20;
const API_KEY = 'bench-live-tail-key-0123456789';
const MONTH_SECONDS = 30 * 24 * 3600;

/** Fires each timer on the next turn, moving the manual clock by its delay. */
function fakeTimers(clock: ManualClock): WaitTimers {
  return {
    setTimeout(callback, ms) {
      setImmediate(() => {
        clock.advance(ms);
        callback();
      });
      return undefined;
    },
    clearTimeout() {},
  };
}

async function headReadsPerIdleWait(waitMs: number, partitions: number, intervals: { first: number; max: number }): Promise<number> {
  const clock = new ManualClock();
  const metadata = new CountingStore(new MemoryMetadataStore());
  const engine = new Engine({
    objects: new MemoryObjectStore(),
    metadata,
    now: clock.now,
    timers: fakeTimers(clock),
    topicCacheMs: 3_600_000,
    longPollIntervalMs: intervals.first,
    longPollMaxIntervalMs: intervals.max,
  });
  await engine.topics.create('idle', partitions);
  await engine.fetch('idle', 0, { offset: 0n });
  metadata.reset();
  if (partitions === 1) await engine.fetch('idle', 0, { offset: 0n, maxWaitMs: waitMs });
  else await engine.waitForRecords('idle', Array.from({ length: partitions }, (_, partition) => ({ partition, offset: 0n })), { maxWaitMs: waitMs });
  return metadata.reads;
}

/** Dollars of one idle wait in AWS: the fetch function's time, its request, API Gateway, head reads. */
function waitCost(waitMs: number, headReads: number): number {
  const gbSeconds = (DEPLOYMENT.fetchMemoryMb / 1024) * (waitMs / 1000);
  return gbSeconds * PRICES_USD.lambdaGbSecond + PRICES_USD.lambdaRequest + PRICES_USD.apiGatewayRequest + headReads * PRICES_USD.dynamoReadUnit;
}

function stats(samples: number[]): { median: number; p99: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p99: at(0.99), min: sorted[0], max: sorted[sorted.length - 1] };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const usd = (value: number) => `$${value < 0.01 ? value.toPrecision(3) : value.toFixed(2)}`;

async function counted(): Promise<void> {
  console.log('## Head reads of an idle long poll (counted, deterministic)\n');
  console.log('| wait | partitions | before (every 250 ms) | now (250 ms doubling to 4 s) | $ per wait in AWS, now |');
  console.log('|---|---|---|---|---|');
  for (const [waitMs, partitions] of [[1000, 1], [5000, 1], [20_000, 1], [20_000, 8]] as const) {
    const before = await headReadsPerIdleWait(waitMs, partitions, { first: 250, max: 250 });
    const now = await headReadsPerIdleWait(waitMs, partitions, { first: DEFAULTS.longPollIntervalMs, max: DEFAULTS.longPollMaxIntervalMs });
    console.log(`| ${waitMs / 1000} s | ${partitions} | ${before} | ${now} | ${usd(waitCost(waitMs, now))} |`);
  }
}

async function modeled(): Promise<void> {
  console.log('\n## An idle consumer of 8 partitions in AWS, per month (modeled from the counts above)\n');
  const reads5 = await headReadsPerIdleWait(5000, 1, { first: DEFAULTS.longPollIntervalMs, max: DEFAULTS.longPollMaxIntervalMs });
  const reads5Before = await headReadsPerIdleWait(5000, 1, { first: 250, max: 250 });
  const reads20x8 = await headReadsPerIdleWait(20_000, 8, { first: DEFAULTS.longPollIntervalMs, max: DEFAULTS.longPollMaxIntervalMs });
  const perPartitionPolls = (reads: number) => 8 * (MONTH_SECONDS / 5) * waitCost(5000, reads);
  const oneWait = (MONTH_SECONDS / 20) * waitCost(20_000, reads20x8);
  const tailHourly = (DEPLOYMENT.tailMemoryMb / 1024) * 3600 * PRICES_USD.lambdaGbSecond + (3600 / (DEPLOYMENT.tailMaxStreamMs / 1000)) * PRICES_USD.lambdaRequest + 1920 * PRICES_USD.dynamoReadUnit;
  console.log('| how | requests per month | $ per month |');
  console.log('|---|---|---|');
  console.log(`| 8 long polls of 5 s, head every 250 ms (before) | ${(8 * MONTH_SECONDS) / 5} | ${usd(perPartitionPolls(reads5Before))} |`);
  console.log(`| 8 long polls of 5 s, head backing off (now) | ${(8 * MONTH_SECONDS) / 5} | ${usd(perPartitionPolls(reads5))} |`);
  console.log(`| one multi-partition wait of 20 s for all 8 | ${MONTH_SECONDS / 20} | ${usd(oneWait)} |`);
  console.log(`| 8 SSE live tails (one per partition, ${DEPLOYMENT.tailMemoryMb} MB) | ${Math.round((8 * 3600 * 720) / (DEPLOYMENT.tailMaxStreamMs / 1000))} | ${usd(8 * 720 * tailHourly)} |`);
  console.log(`\nOne connected SSE tail: ${usd(tailHourly)} per hour.`);
}

async function latency(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-tail-'));
  const server = await startLocalServer({ dataDir: dir, port: 0, apiKey: API_KEY, maintenanceIntervalMs: 0, notifications: { coalesceMs: 0 }, log: process.env.DEBUG ? (line) => console.error(line) : undefined });
  const sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, logger: process.env.DEBUG ? (console as never) : silentLogger });
  const producer = sluice.producer({ lingerMs: 0 });
  try {
    await sluice.admin().createTopics({ topics: ['sse', 'poll', 'channel'].map((topic) => ({ topic, numPartitions: 1 })) });
    const results: Array<[string, number[]]> = [];
    for (const transport of ['sse', 'poll'] as const) {
      const records = sluice.tail(transport, 0, { fromOffset: 0, transport });
      const samples: number[] = [];
      try {
        const pending = records.next(); // connected and waiting before the first produce
        await new Promise((resolve) => setTimeout(resolve, 50));
        let next = pending;
        for (let i = 0; i < WARMUP + SAMPLES; i++) {
          const started = performance.now();
          await producer.send({ topic: transport, messages: [{ value: String(i) }] });
          await next;
          if (i >= WARMUP) samples.push(performance.now() - started);
          next = records.next();
        }
      } finally {
        await records.return();
      }
      results.push([transport === 'sse' ? 'SSE live tail' : 'long poll (JSON fetch)', samples]);
    }
    const ws = new WebSocket(server.notificationsUrl);
    const messages: Array<(message: any) => void> = [];
    ws.addEventListener('message', (event) => messages.shift()?.(JSON.parse(String(event.data))));
    await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
    const nextMessage = () => new Promise<any>((resolve) => messages.push(resolve));
    let answer = nextMessage();
    ws.send(JSON.stringify({ action: 'auth', apiKey: API_KEY }));
    await answer;
    answer = nextMessage();
    ws.send(JSON.stringify({ action: 'subscribe', topics: ['channel'] }));
    await answer;
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const started = performance.now();
      const told = nextMessage();
      await producer.send({ topic: 'channel', messages: [{ value: String(i) }] });
      await told;
      if (i >= WARMUP) samples.push(performance.now() - started);
    }
    ws.close();
    results.push(['notification channel (append message)', samples]);
    await sluice.admin().createTopics({ topics: ['sdk-channel', 'sdk-poll'].map((topic) => ({ topic, numPartitions: 1 })) });
    for (const notifications of [true, false]) {
      const topic = notifications ? 'sdk-channel' : 'sdk-poll';
      const consumer = sluice.consumer({ notifications, safetyPollMs: 600_000 });
      let arrived: (() => void) | undefined;
      const sdk: number[] = [];
      try {
        await consumer.subscribe({ topic });
        await consumer.run({ eachMessage: async () => arrived?.() });
        const settled = Date.now() + 30_000;
        while (notifications ? consumer.channelStats?.parked !== 1 : consumer.assignment().length !== 1) {
          if (Date.now() > settled) throw new Error('the consumer did not settle');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        for (let i = 0; i < WARMUP + SAMPLES; i++) {
          const got = new Promise<void>((resolve) => (arrived = resolve));
          const started = performance.now();
          await producer.send({ topic, messages: [{ value: String(i) }] });
          await got;
          if (i >= WARMUP) sdk.push(performance.now() - started);
          // let it go idle again (parked, or back in its long poll) before the next record
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
      } finally {
        await consumer.disconnect();
      }
      results.push([notifications ? 'SDK consumer on the notification channel' : 'SDK consumer on long polls (notifications: false)', sdk]);
    }
    console.log(`\n## Produce-to-consume latency, local server, this machine (${SAMPLES} records each after ${WARMUP} not counted, one at a time)\n`);
    console.log('| path | median | p99 | min | max |');
    console.log('|---|---|---|---|---|');
    for (const [name, values] of results) {
      const s = stats(values);
      console.log(`| ${name} | ${ms(s.median)} | ${ms(s.p99)} | ${ms(s.min)} | ${ms(s.max)} |`);
    }
    console.log('\n(the produce call is inside each sample: it is most of it)');
  } finally {
    await producer.disconnect();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Requests an idle consumer of 8 partitions sends in windowMs, on the channel or on the shared long poll (scaled: both periods are periodMs). */
async function idleRequests(notifications: boolean, periodMs: number, windowMs: number): Promise<{ checks: number; longWaits: number; reads: number; other: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-idle-'));
  const server = await startLocalServer({ dataDir: dir, port: 0, apiKey: API_KEY, maintenanceIntervalMs: 0 });
  const counts = { checks: 0, longWaits: 0, reads: 0, other: 0 };
  let counting = false;
  const fetchCounted: FetchFunction = (input, init) => {
    if (counting) {
      const url = new URL(input);
      if (url.pathname.endsWith('/wait')) counts[url.searchParams.get('maxWaitMs') === '0' ? 'checks' : 'longWaits']++;
      else if (url.pathname.includes('/partitions/')) counts.reads++;
      else counts.other++;
    }
    return fetch(input, init);
  };
  const sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, logger: silentLogger, fetch: fetchCounted });
  const consumer = sluice.consumer({ maxWaitMs: periodMs, safetyPollMs: periodMs, notifications });
  try {
    await sluice.admin().createTopics({ topics: [{ topic: 'idle', numPartitions: 8 }] });
    await consumer.subscribe({ topic: 'idle' });
    await consumer.run({ eachMessage: async () => {} });
    // settled: caught up and, on the channel, parked
    const deadline = Date.now() + 30_000;
    while (notifications ? consumer.channelStats?.parked !== 8 : consumer.assignment().length !== 8) {
      if (Date.now() > deadline) throw new Error('the idle consumer did not settle');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, periodMs));
    counting = true;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    counting = false;
    return counts;
  } finally {
    await consumer.disconnect();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Modeled: per-request prices of what an idle consumer sends, at the defaults, for a month in AWS. */
async function idleConsumerMonth(): Promise<void> {
  const periodMs = 500;
  const windowMs = QUICK ? 5_000 : 10_000;
  const channel = await idleRequests(true, periodMs, windowMs);
  const polls = await idleRequests(false, periodMs, windowMs);
  const periods = windowMs / periodMs;
  console.log(`\n## An idle SDK consumer of 8 partitions: requests counted over ${windowMs / 1000} s (wait and safety poll both ${periodMs} ms, ${periods} periods)\n`);
  console.log('| how | checks (maxWaitMs 0) | long polls | partition reads | other |');
  console.log('|---|---|---|---|---|');
  console.log(`| notification channel | ${channel.checks} | ${channel.longWaits} | ${channel.reads} | ${channel.other} |`);
  console.log(`| shared long poll (notifications: false) | ${polls.checks} | ${polls.longWaits} | ${polls.reads} | ${polls.other} |`);
  const checksPerPeriod = channel.checks / periods;
  const waitsPerPeriod = polls.longWaits / periods;

  const reads5x8 = await headReadsPerIdleWait(CONSUMER_DEFAULTS.maxWaitMs, 8, { first: DEFAULTS.longPollIntervalMs, max: DEFAULTS.longPollMaxIntervalMs });
  const reads0x8 = 8; // a check reads each named partition's head once
  const checkCost = waitCost(20, reads0x8); // a wait that answers at once: ~20 ms of the fetch function
  const safetyPolls = MONTH_SECONDS / (CONSUMER_DEFAULTS.safetyPollMs / 1000);
  const keepAlives = MONTH_SECONDS / (CHANNEL_DEFAULTS.keepAliveMs / 1000);
  // API Gateway WebSocket: $0.25 per million connection-minutes, $1 per million messages (a keep-alive
  // subscribe in, its answer out); each message in invokes the notifications function (~10 ms at its memory).
  const notificationsInvoke = PRICES_USD.lambdaRequest + (DEPLOYMENT.notificationsMemoryMb / 1024) * 0.01 * PRICES_USD.lambdaGbSecond;
  const channelFixed = (MONTH_SECONDS / 60) * (0.25 / 1e6) + keepAlives * (2 * (1 / 1e6) + notificationsInvoke);
  const channelMonth = safetyPolls * checksPerPeriod * checkCost + channelFixed;
  const pollsMonth = (MONTH_SECONDS / (CONSUMER_DEFAULTS.maxWaitMs / 1000)) * waitsPerPeriod * waitCost(CONSUMER_DEFAULTS.maxWaitMs, reads5x8);
  // a group member heartbeats every sessionTimeoutMs / 3: API Gateway, the admin function (~15 ms), one lease read and one write
  const heartbeatsMonth = MONTH_SECONDS / (API_DEFAULTS.groupSessionTimeoutMs / 3 / 1000);
  const heartbeatCost = PRICES_USD.apiGatewayRequest + PRICES_USD.lambdaRequest + (DEPLOYMENT.adminMemoryMb / 1024) * 0.015 * PRICES_USD.lambdaGbSecond + PRICES_USD.dynamoReadUnit + PRICES_USD.dynamoWriteUnit;
  console.log(`\n## …and the month those counts imply in AWS, at the defaults (safetyPollMs ${CONSUMER_DEFAULTS.safetyPollMs}, keep-alive ${CHANNEL_DEFAULTS.keepAliveMs} ms, maxWaitMs ${CONSUMER_DEFAULTS.maxWaitMs}, session ${API_DEFAULTS.groupSessionTimeoutMs} ms)\n`);
  console.log('| idle consumer of 8 partitions | requests per month | $ per month |');
  console.log('|---|---|---|');
  console.log(`| notification channel: checks + connection-minutes + keep-alives | ${Math.round(safetyPolls * checksPerPeriod)} + ${Math.round(keepAlives)} messages | ${usd(channelMonth)} |`);
  console.log(`| shared long poll | ${Math.round((MONTH_SECONDS / (CONSUMER_DEFAULTS.maxWaitMs / 1000)) * waitsPerPeriod)} | ${usd(pollsMonth)} |`);
  console.log(`| a group member's heartbeats (add to either) | ${Math.round(heartbeatsMonth)} | ${usd(heartbeatsMonth * heartbeatCost)} |`);
  console.log(`| group member on the channel, in all | | ${usd(channelMonth + heartbeatsMonth * heartbeatCost)} |`);
  console.log(`| group member on the channel, sessionTimeoutMs 60000 | | ${usd(channelMonth + (heartbeatsMonth / 2) * heartbeatCost)} |`);
}

/**
 * Modeled in AWS: how soon after its log entries are written a record is at a consumer parked on the
 * channel, by the produce function's append hint and by the stream fallback, and what the hint adds to
 * the produce ack (the ack model of latency-model.ts on a recorded 1-record produce).
 */
async function modeledAwsLatency(): Promise<void> {
  const hops = CHANNEL_LATENCY_MS;
  const hint = chain(hops.postToConnection, hops.webSocketDelivery, hops.consumerRead);
  const fallback = chain(hops.streamRecord, hops.shardPoll, hops.notifier, hops.consumerRead);
  const acks = await recordedAcks();
  console.log('\n## Modeled in AWS: log entries written → record at a parked consumer (assumed hop latencies, bench/latency-model.ts CHANNEL_LATENCY_MS)\n');
  console.log('| path | p50 | p99 |');
  console.log('|---|---|---|');
  console.log(`| append hint from the produce function: PostToConnection ${hops.postToConnection.p50Ms}/${hops.postToConnection.p99Ms} + WebSocket delivery ${hops.webSocketDelivery.p50Ms}/${hops.webSocketDelivery.p99Ms} + read ${hops.consumerRead.p50Ms}/${hops.consumerRead.p99Ms} | ${hint.p50Ms} ms | ${hint.p99Ms} ms |`);
  console.log(`| stream fallback: stream record ${hops.streamRecord.p50Ms}/${hops.streamRecord.p99Ms} + shard poll ${hops.shardPoll.p50Ms}/${hops.shardPoll.p99Ms} + notifier ${hops.notifier.p50Ms}/${hops.notifier.p99Ms} + read ${hops.consumerRead.p50Ms}/${hops.consumerRead.p99Ms} | ${fallback.p50Ms} ms | ${fallback.p99Ms} ms |`);
  const hintS3 = chain(hint, PUBLISHED_LATENCY_MS.s3Get);
  const fallbackS3 = chain(fallback, PUBLISHED_LATENCY_MS.s3Get);
  console.log(`| either, batches above the inline threshold (the read adds an S3 Standard GET ${PUBLISHED_LATENCY_MS.s3Get.p50Ms}/${PUBLISHED_LATENCY_MS.s3Get.p99Ms}) | ${hintS3.p50Ms} / ${fallbackS3.p50Ms} ms | ${hintS3.p99Ms} / ${fallbackS3.p99Ms} ms |`);
  console.log('\nThe hint is posted before the produce answers, so the record is at the consumer about when the producer has its ack; the fallback follows ≈ 300 ms later.');
  console.log(`\n## …by the hints' deadline (posts slower than it are abandoned: those consumers get the fallback; share from a log-normal fit of PostToConnection ${hops.postToConnection.p50Ms}/${hops.postToConnection.p99Ms})\n`);
  console.log('| deadline | posts cut off | record at the consumer p50 / p99 (log-normal mixture of the two paths) | produce ack with subscribers, no key: p50 / p99 | with Idempotency-Key |');
  console.log('|---|---|---|---|---|');
  for (const deadlineMs of [APPEND_HINT_DEFAULTS.deadlineMs, hops.postToConnection.p99Ms]) {
    const cutOff = exceedance(hops.postToConnection, deadlineMs);
    // consumers told by the hint, and (the posts cut off) by the fallback
    const told = [{ share: 1 - cutOff, latency: hint }, { share: cutOff, latency: fallback }];
    const [p50, p99] = [mixtureQuantile(told, 0.5), mixtureQuantile(told, 0.99)];
    const plain = ackWithAppendHints(acks.plain, deadlineMs);
    const keyed = ackWithAppendHints(acks.idempotent, deadlineMs);
    const mark = deadlineMs === APPEND_HINT_DEFAULTS.deadlineMs ? ' (default)' : '';
    console.log(`| ${deadlineMs} ms${mark} | ${(cutOff * 100).toFixed(1)} % | ${Math.round(p50)} / ${Math.round(p99)} ms | ${plain.p50Ms} / ${plain.p99Ms} ms | ${keyed.p50Ms} / ${keyed.p99Ms} ms |`);
  }
  console.log(`| no subscribers (a cached Query at most) | | | ${acks.plain.p50Ms} / ${acks.plain.p99Ms} ms | ${acks.idempotent.p50Ms} / ${acks.idempotent.p99Ms} ms |`);
  // per million 1-partition produces with S subscribers: S hint messages (the fallback's S were paid
  // already) and the produce function's wait for the post (its p50), at its memory
  const waitUsd = (DEPLOYMENT.produceMemoryMb / 1024) * (hops.postToConnection.p50Ms / 1000) * PRICES_USD.lambdaGbSecond * 1e6;
  const queryMonthUsd = (MONTH_SECONDS / (APPEND_HINT_DEFAULTS.subscriberCacheMs / 1000)) * PRICES_USD.dynamoReadUnit;
  console.log(`\nWhat the hints cost, per million produces of one partition with S subscribers: S × $1.00 of WebSocket messages (the fallback's S × $1.00 are paid either way) + ${usd(waitUsd)} of produce Lambda time (${hops.postToConnection.p50Ms} ms at ${DEPLOYMENT.produceMemoryMb} MB). The subscriber Query: at most one per ${APPEND_HINT_DEFAULTS.subscriberCacheMs} ms per warm container and topic, ≤ ${usd(queryMonthUsd)} a month each, whatever the produce rate.`);
}

/** The modeled ack of a 1-record produce (inline: no S3 request), without and with an Idempotency-Key. */
async function recordedAcks(): Promise<{ plain: ServiceLatency; idempotent: ServiceLatency }> {
  const recording = recordingStores(new MemoryObjectStore(), new MemoryMetadataStore());
  const engine = new Engine({ objects: recording.objects, metadata: recording.metadata, topicCacheMs: Number.POSITIVE_INFINITY });
  await engine.topics.create('acks', 1);
  await engine.topics.get('acks'); // a warm Lambda: the topic is cached
  const model = async (idempotency?: { key: string; fingerprint: string }) => {
    await engine.produce('acks', [{ partition: 0, data: new Uint8Array(200), recordCount: 1, maxTimestamp: 0 }], idempotency); // not the first: the head exists
    recording.recorder.reset();
    await engine.produce('acks', [{ partition: 0, data: new Uint8Array(200), recordCount: 1, maxTimestamp: 0 }], idempotency && { ...idempotency, key: `${idempotency.key}-2` });
    const { p50Ms, p99Ms } = latencyModel(recording.recorder.calls);
    return { p50Ms, p99Ms };
  };
  return { plain: await model(), idempotent: await model({ key: 'ack', fingerprint: 'f' }) };
}

if (!process.argv.includes("--latency-only")) await counted();
if (!process.argv.includes("--latency-only")) await modeled();
if (!process.argv.includes("--latency-only")) await idleConsumerMonth();
if (!process.argv.includes("--latency-only")) await modeledAwsLatency();
await latency();
