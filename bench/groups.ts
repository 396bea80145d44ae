/**
 * Consumer-group cost on the DynamoDB adapter, measured: `npm run bench:groups [-- --quick]`.
 *
 * A group of 100 members over a 1,000-partition topic (--quick: 20 over 200) on dynalite, through the
 * real DynamoDbMetadataStore. Every request is counted below the SDK's retries, with the capacity
 * units DynamoDB reports (ConsumedCapacity; a refused conditional write is charged 1 unit). Phases:
 *
 *   join      every member joins at once and the group settles (cooperative handover included)
 *   minute    one minute of steady state: each member heartbeats every 10 s (session 30 s / 3) and
 *             commits its partitions every 5 s (Kafka's auto-commit interval)
 *   rebalance one more member joins and the group settles again
 *
 * Prints write and read units per member per minute, and per phase by item kind. Time is simulated
 * (an injected clock), so the numbers do not depend on how fast the emulator is.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Engine } from '../lib/log/engine.ts';
import { Groups } from '../lib/groups/groups.ts';
import { DynamoDbMetadataStore } from '../lib/storage/dynamodb-metadata-store.ts';
import { MemoryObjectStore } from '../lib/storage/memory.ts';
import { startDynalite } from '../test/support/emulators.ts';
import { ManualClock } from '../test/support/clock.ts';
import { SimMember, settle } from '../test/groups/sim.ts';
import { RequestCounter, type OperationCount } from './request-counter.ts';

const quick = process.argv.includes('--quick');
const MEMBERS = quick ? 20 : 100;
const PARTITIONS = quick ? 200 : 1000;
const PRICE_PER_MILLION_WRITES = 0.625;
const PRICE_PER_MILLION_READS = 0.125;

interface Phase {
  readonly name: string;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly requests: number;
  readonly byTarget: Array<{ operation: string; target: string; requests: number; failed: number; capacityUnits: number }>;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

function phase(name: string, counts: OperationCount[]): Phase {
  const dynamo = counts.filter((c) => c.service === 'DynamoDB');
  return {
    name,
    writeUnits: dynamo.filter((c) => WRITES.has(c.operation)).reduce((n, c) => n + c.capacityUnits, 0),
    readUnits: dynamo.filter((c) => !WRITES.has(c.operation)).reduce((n, c) => n + c.capacityUnits, 0),
    requests: dynamo.reduce((n, c) => n + c.requests, 0),
    byTarget: dynamo.map(({ operation, target, requests, failed, capacityUnits }) => ({ operation, target, requests, failed, capacityUnits })),
  };
}

async function main(): Promise<void> {
  const dynamo = await startDynalite();
  try {
    const counter = new RequestCounter();
    counter.countDynamoDb(dynamo.client);
    const clock = new ManualClock();
    const metadata = new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName });
    const engine = new Engine({ objects: new MemoryObjectStore(), metadata, now: clock.now });
    const groups = new Groups({ engine, now: clock.now });
    await engine.topics.create('bench', PARTITIONS);
    const progress = new Map<number, bigint>();
    const commitRevoking = async (m: SimMember) => {
      await m.commit(m.revoking.map((r) => ({ ...r, offset: progress.get(r.partition) ?? 0n })));
    };
    const members = Array.from({ length: MEMBERS }, () => new SimMember(groups, 'bench-group', { topics: ['bench'], sessionTimeoutMs: 30_000 }));

    counter.reset();
    console.error(`groups bench: ${MEMBERS} members joining a ${PARTITIONS}-partition topic...`);
    await Promise.all(members.map((m) => m.join()));
    await settle(members, commitRevoking);
    const join = phase('join', counter.snapshot());

    counter.reset();
    console.error('groups bench: one steady minute...');
    for (let second = 1; second <= 60; second++) {
      clock.advance(1000);
      if (second % 5 === 0) {
        await Promise.all(
          members.map((m) => {
            for (const p of m.partitions()) progress.set(p, (progress.get(p) ?? 0n) + 100n);
            return m.commit(m.partitions().map((partition) => ({ topic: 'bench', partition, offset: progress.get(partition)! })));
          }),
        );
      }
      if (second % 10 === 0) await Promise.all(members.map((m) => m.heartbeat()));
    }
    const minute = phase('minute', counter.snapshot());

    counter.reset();
    console.error('groups bench: one more member...');
    const newcomer = new SimMember(groups, 'bench-group', { topics: ['bench'], sessionTimeoutMs: 30_000 });
    await newcomer.join();
    const { heartbeats } = await settle([...members, newcomer], commitRevoking);
    const rebalance = phase('rebalance', counter.snapshot());

    const perMemberMinute = { writeUnits: minute.writeUnits / MEMBERS, readUnits: minute.readUnits / MEMBERS };
    const dollarsPerMemberMonth = ((perMemberMinute.writeUnits * PRICE_PER_MILLION_WRITES + perMemberMinute.readUnits * PRICE_PER_MILLION_READS) * 60 * 24 * 30) / 1e6;
    const lines = [
      `Consumer groups on DynamoDB (dynalite, ConsumedCapacity): ${MEMBERS} members, ${PARTITIONS} partitions, ${PARTITIONS / MEMBERS} per member`,
      `  per member per minute (heartbeat/10 s, commit of its partitions/5 s): ${perMemberMinute.writeUnits} WCU, ${perMemberMinute.readUnits} RCU ≈ $${dollarsPerMemberMonth.toFixed(2)} per member-month on demand`,
      ...[join, minute, rebalance].map((p) =>
        [
          `  ${p.name}: ${p.requests} requests, ${p.writeUnits} WCU, ${p.readUnits} RCU${p.name === 'rebalance' ? ` (including ${heartbeats} heartbeats)` : ''}`,
          ...p.byTarget
            .sort((a, b) => b.capacityUnits - a.capacityUnits)
            .map((t) => `      ${t.operation.padEnd(10)} ${t.target.padEnd(18)} ${String(t.requests).padStart(6)} requests ${String(t.failed).padStart(5)} refused ${String(t.capacityUnits).padStart(8)} units`),
        ].join('\n'),
      ),
    ];
    console.log(lines.join('\n'));
    const results = new URL('./results/', import.meta.url);
    await mkdir(results, { recursive: true });
    await writeFile(new URL('groups.json', results), JSON.stringify({ members: MEMBERS, partitions: PARTITIONS, perMemberMinute, dollarsPerMemberMonth, phases: [join, minute, rebalance] }, null, 2));
  } finally {
    await dynamo.stop();
  }
}

await main();
