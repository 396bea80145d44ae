/**
 * How quickly a member that joins gets to work: `npm run bench:handover [-- --joins 50 --heartbeat-ms 1000]`.
 *
 * Through the local server, member A consumes a 4-partition topic that a producer keeps writing to
 * (one record per partition every 10 ms). Then, again and again, member B joins, and the time from
 * B's run() to the first record B processes is measured; B disconnects, A takes everything back, and
 * the next round starts. Both members heartbeat every --heartbeat-ms (session 10 × that). A learns of
 * each rebalance at its next heartbeat (up to one interval), commits and releases what moves to B
 * (cooperative handover); B, waiting for those partitions, heartbeats every interval / 20 and takes
 * them as soon as they are released, then fetches. So the goal is: p99 within one heartbeat interval
 * plus one fetch. Also reported: when A heard of the rebalance (its consumer.rebalancing event), and
 * B's fetch durations (consumer.fetch events).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sluice } from '../lib/client/index.ts';
import { silentLogger } from '../lib/client/context.ts';
import { startLocalServer } from '../lib/server/local.ts';

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const JOINS = argument('--joins', 50);
const HEARTBEAT_MS = argument('--heartbeat-ms', 1000);
const PARTITIONS = 4;
const API_KEY = 'bench-handover-key-0123456789abcdef';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const summary = (values: readonly number[]) =>
  `p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms, min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)}`;

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-handover-'));
  const server = await startLocalServer({ dataDir: dir, port: 0, apiKey: API_KEY, maintenanceIntervalMs: 0 });
  const sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, logger: silentLogger });
  const member = { groupId: 'handover', sessionTimeoutMs: HEARTBEAT_MS * 10, heartbeatIntervalMs: HEARTBEAT_MS, maxWaitMs: 1000 } as const;
  let producing = true;
  const consumers: Array<{ disconnect(): Promise<void> }> = [];
  try {
    await sluice.admin().createTopics({ topics: [{ topic: 'handover', numPartitions: PARTITIONS, config: { retentionMs: -1 } }] });
    const producer = sluice.producer({ lingerMs: 0 });
    const production = (async () => {
      for (let n = 0; producing; n++) {
        await producer.send({ topic: 'handover', messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ value: `r${n}`, partition })) });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await producer.disconnect();
    })();

    const a = sluice.consumer(member);
    consumers.push(a);
    let heardAt = 0;
    a.on(a.events.REBALANCING, (event) => {
      if (Object.keys(event.payload.revoking).length > 0) heardAt ||= Date.now();
    });
    await a.subscribe({ topic: 'handover' });
    await a.run({ eachMessage: async () => {} });

    const joinToFirst: number[] = [];
    const noticed: number[] = [];
    const fetches: number[] = [];
    for (let round = 0; round < JOINS; round++) {
      await until(() => a.assignment().length === PARTITIONS, 'A holds every partition');
      await new Promise((resolve) => setTimeout(resolve, Math.random() * HEARTBEAT_MS)); // join at a random point of A's heartbeat cycle
      heardAt = 0;
      const b = sluice.consumer(member);
      consumers.push(b);
      b.on(b.events.FETCH, (event) => void fetches.push(event.payload.duration));
      let firstAt = 0;
      const started = Date.now();
      await b.subscribe({ topic: 'handover' });
      await b.run({
        eachMessage: async () => {
          firstAt ||= Date.now();
        },
      });
      await until(() => firstAt > 0, 'B processes a record');
      joinToFirst.push(firstAt - started);
      if (heardAt > 0) noticed.push(heardAt - started);
      await b.disconnect();
      consumers.pop();
    }
    producing = false;
    await production;
    console.log(`group handover, ${JOINS} joins, heartbeat every ${HEARTBEAT_MS} ms, pending heartbeats every ${Math.min(250, Math.max(25, Math.floor(HEARTBEAT_MS / 20)))} ms`);
    console.log(`  join to first record (B):      ${summary(joinToFirst)}`);
    console.log(`  join to A told to give up:     ${summary(noticed)}`);
    console.log(`  B's fetches:                   ${summary(fetches)}`);
    console.log(`  goal (p99 ≤ heartbeat interval + one fetch, p50 fetch): ${(HEARTBEAT_MS + percentile(fetches, 50)).toFixed(0)} ms`);
    console.log(JSON.stringify({ joins: JOINS, heartbeatMs: HEARTBEAT_MS, joinToFirstRecordMs: { p50: percentile(joinToFirst, 50), p99: percentile(joinToFirst, 99), min: Math.min(...joinToFirst), max: Math.max(...joinToFirst) }, fetchMs: { p50: percentile(fetches, 50), p99: percentile(fetches, 99) } }));
  } finally {
    producing = false;
    for (const consumer of consumers.reverse()) await consumer.disconnect().catch(() => {});
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
