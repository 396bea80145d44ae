/**
 * Section 4: the client SDK end to end through the local server: a producer sends keyed JSON events
 * (~1 KiB) as fast as its backpressure lets it, while a consumer (started first, reading straight from
 * the object store) receives them; the clock runs from the first send() to the last record consumed.
 * Repeated for several lingerMs values, each on a fresh topic. Server, producer and consumer share this
 * process (and its one JavaScript thread), so the rates are lower bounds of what separate machines do.
 *
 * Also counted, through the client's own HTTP exchange (the Node runtime's node:http one, which a
 * client without a `fetch` option uses): produce requests (body bytes, raw record bytes and
 * partitions per request), locations calls and ranged GETs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys } from '../lib/auth/api-keys.ts';
import { nodeRuntime } from '../lib/client/node-runtime.ts';
import type { RequestFunction } from '../lib/client/network/http.ts';
import { SluiceClient } from '../lib/client/sluice.ts';
import { decodeSluiceBatches } from '../lib/api/sluice-batches.ts';
import { startLocalServer } from '../lib/server/local.ts';
import { timed, type Timing } from './measure.ts';
import { eventRecords } from './workload.ts';

export interface ClientE2ESettings {
  readonly partitions: number;
  readonly records: number;
  /** Distinct events generated, then reused round robin. */
  readonly distinctRecords: number;
  readonly messagesPerSend: number;
  /** send() calls not yet acknowledged before the loop waits for the oldest. */
  readonly outstandingSends: number;
  readonly lingerValues: readonly number[];
  /** Runs per lingerMs value (alternating between the values); every run is returned (repeats.ts takes medians). */
  readonly repeats: number;
}

export interface ClientE2ERun {
  readonly lingerMs: number;
  readonly records: number;
  /** Keys and values. */
  readonly recordBytes: number;
  /** First send() to last record consumed. */
  readonly endToEnd: Timing;
  /** First send() to last send() acknowledged. */
  readonly produceSeconds: number;
  readonly produceRequests: number;
  readonly produceBodyBytes: number;
  readonly partitionsPerRequest: number;
  readonly locationsCalls: number;
  readonly rangeGets: number;
}

const MEDIA_BATCHES = 'application/vnd.sluice.batches';

export async function runClientE2EBench(settings: ClientE2ESettings): Promise<ClientE2ERun[]> {
  const workDir = await mkdtemp(join(tmpdir(), 'sluice-bench-client-'));
  const apiKey = ApiKeys.generate();
  const server = await startLocalServer({ dataDir: join(workDir, 'sluice'), port: 0, apiKey });
  try {
    const events = eventRecords(settings.distinctRecords, 21).map((r) => ({ key: r.key!, value: r.value!, timestamp: r.timestamp }));
    // warm-up (JIT, file system, connection pool), not reported
    await runOnce(server.url, apiKey, { ...settings, records: Math.min(settings.records, 20_000) }, events, settings.lingerValues[0], 'warmup');
    const runs: ClientE2ERun[] = [];
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (const lingerMs of settings.lingerValues) runs.push(await runOnce(server.url, apiKey, settings, events, lingerMs, String(repeat)));
    }
    return runs;
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function runOnce(
  url: string,
  apiKey: string,
  settings: ClientE2ESettings,
  events: ReadonlyArray<{ key: Uint8Array; value: Uint8Array; timestamp: number }>,
  lingerMs: number,
  tag: string,
): Promise<ClientE2ERun> {
  const counts = { produceRequests: 0, produceBodyBytes: 0, partitions: 0, locationsCalls: 0, rangeGets: 0 };
  const request = nodeRuntime.request!;
  const counting: RequestFunction = (input, init) => {
    const headers = init.headers;
    if (init.method === 'POST' && headers['content-type'] === MEDIA_BATCHES) {
      const body = init.body as Uint8Array;
      counts.produceRequests++;
      counts.produceBodyBytes += body.length;
      // The framing only: the server's parseSluiceBatches would validate (inflate and decode) every
      // record a second time on this shared thread, a cost of the instrument, not of the SDK.
      counts.partitions += decodeSluiceBatches(body).length;
    } else if (input.includes('/locations?')) {
      counts.locationsCalls++;
    } else if (headers.range) {
      counts.rangeGets++;
    }
    return request(input, init);
  };
  // The Node entry point's client (index.ts's Sluice) with its exchange wrapped to count requests.
  const sluice = new SluiceClient({ endpoint: url, apiKey }, { ...nodeRuntime, request: counting });
  const topic = `client-e2e-linger-${lingerMs}-${tag}`;
  const { recordBytes, produceSeconds, timing } = await produceAndConsume(sluice, topic, settings, events, lingerMs);
  return {
    lingerMs,
    records: settings.records,
    recordBytes,
    endToEnd: timing,
    produceSeconds,
    produceRequests: counts.produceRequests,
    produceBodyBytes: counts.produceBodyBytes,
    partitionsPerRequest: counts.partitions / counts.produceRequests,
    locationsCalls: counts.locationsCalls,
    rangeGets: counts.rangeGets,
  };
}

/**
 * The workload on a fresh topic: a consumer (started first) reads every record the producer sends,
 * `messagesPerSend` at a time with `outstandingSends` unacknowledged; timed from the first send() to
 * the last record consumed (topic and consumer set up before); resolves once both are stopped.
 * Only the client's public calls, so bench/e2e-baseline.ts drives an older commit's client with it too.
 */
export async function produceAndConsume(
  sluice: Pick<SluiceClient, 'admin' | 'consumer' | 'producer'>,
  topic: string,
  settings: Pick<ClientE2ESettings, 'partitions' | 'records' | 'messagesPerSend' | 'outstandingSends'>,
  events: ReadonlyArray<{ key: Uint8Array; value: Uint8Array; timestamp: number }>,
  lingerMs: number,
): Promise<{ recordBytes: number; produceSeconds: number; timing: Timing }> {
  // Retention off: the events carry fixed, old timestamps, and the server runs maintenance on a timer.
  await sluice.admin().createTopics({ topics: [{ topic, numPartitions: settings.partitions, config: { retentionMs: -1 } }] });
  const consumer = sluice.consumer({ maxWaitMs: 1000 });
  await consumer.subscribe({ topic, fromBeginning: true });
  let consumed = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((resolve) => (allConsumed = resolve));
  await consumer.run({
    partitionsConsumedConcurrently: settings.partitions,
    eachBatch: async ({ batch }) => {
      consumed += batch.messages.length;
      if (consumed >= settings.records) allConsumed();
    },
  });
  const producer = sluice.producer({ lingerMs });
  let recordBytes = 0;
  let produceSeconds = 0;
  const { timing } = await timed(async () => {
    const started = performance.now();
    const outstanding: Promise<unknown>[] = [];
    for (let sent = 0; sent < settings.records; sent += settings.messagesPerSend) {
      const messages = [];
      for (let i = sent; i < Math.min(sent + settings.messagesPerSend, settings.records); i++) {
        const event = events[i % events.length];
        recordBytes += event.key.length + event.value.length;
        messages.push(event);
      }
      outstanding.push(producer.send({ topic, messages }));
      if (outstanding.length >= settings.outstandingSends) await outstanding.shift();
    }
    await Promise.all(outstanding);
    produceSeconds = (performance.now() - started) / 1000;
    await done;
  });
  await producer.disconnect();
  await consumer.disconnect();
  if (consumed !== settings.records) throw new Error(`consumed ${consumed} records, produced ${settings.records}`);
  return { recordBytes, produceSeconds, timing };
}

if (import.meta.main) {
  const runs = await runClientE2EBench({ partitions: 8, records: 100_000, distinctRecords: 20_000, messagesPerSend: 100, outstandingSends: 64, lingerValues: [0, 5, 50], repeats: 2 });
  for (const r of runs) {
    console.log(
      `linger ${r.lingerMs}: ${Math.round(r.records / r.endToEnd.wallSeconds)} rec/s, ${(r.recordBytes / 1048576 / r.endToEnd.wallSeconds).toFixed(1)} MiB/s, ` +
        `produce ${r.produceSeconds.toFixed(2)} s, ${r.produceRequests} requests, ${(r.produceBodyBytes / r.produceRequests / 1024).toFixed(0)} KiB/request, ` +
        `${(r.recordBytes / r.produceRequests / 1024).toFixed(0)} KiB raw/request, ${r.partitionsPerRequest.toFixed(1)} partitions/request, ${r.locationsCalls} locations, ${r.rangeGets} GETs, cpu ${r.endToEnd.cpuSeconds.toFixed(2)}`,
    );
  }
}
