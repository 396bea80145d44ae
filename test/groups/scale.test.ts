/**
 * Scale and cost: 100 members over 1,000 partitions. Checks the assignment, the item sizes (DynamoDB
 * items are at most 400 KB; a heartbeat must stay one write unit), and counts the writes of one minute
 * of steady state (heartbeat every 10 s = session timeout / 3; commit of all ten partitions every 5 s,
 * Kafka's auto-commit interval) per member and per item (DynamoDB takes ~1,000 writes/s per item). It
 * prints the numbers the README quotes.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../lib/log/engine.ts';
import { Groups } from '../../lib/groups/groups.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { ManualClock } from '../support/clock.ts';
import { CountingStore, type ItemKind } from './counting-store.ts';
import { SimMember, settle } from './sim.ts';

const MEMBERS = 100;
const PARTITIONS = 1000;

it(`${MEMBERS} members over ${PARTITIONS} partitions: balanced, small items, and the writes of a steady minute`, async () => {
  const clock = new ManualClock();
  const store = new CountingStore(new MemoryMetadataStore());
  const engine = new Engine({ objects: new MemoryObjectStore(), metadata: store, now: clock.now });
  const groups = new Groups({ engine, now: clock.now });
  await engine.topics.create('big', PARTITIONS);
  const members = Array.from({ length: MEMBERS }, () => new SimMember(groups, 'big-group', { topics: ['big'], sessionTimeoutMs: 30_000 }));
  await Promise.all(members.map((m) => m.join())); // a crowd joining at once
  const progress = new Map<number, bigint>();
  await settle(members, async (m) => {
    await m.commit(m.revoking.map((r) => ({ ...r, offset: progress.get(r.partition) ?? 0n })));
  });
  const joinWrites = new Map(store.byKind);

  const owned = members.flatMap((m) => m.partitions()).sort((a, b) => a - b);
  assert.deepEqual(owned, Array.from({ length: PARTITIONS }, (_, p) => p), 'every partition once');
  for (const m of members) assert.equal(m.partitions().length, PARTITIONS / MEMBERS);
  assert.equal(new Set(members.map((m) => m.generation)).size, 1);

  // One steady minute.
  store.reset();
  for (let second = 1; second <= 60; second++) {
    clock.advance(1000);
    if (second % 5 === 0) {
      await Promise.all(
        members.map((m) => {
          for (const p of m.partitions()) progress.set(p, (progress.get(p) ?? 0n) + 7n);
          return m.commit(m.partitions().map((partition) => ({ topic: 'big', partition, offset: progress.get(partition)! })));
        }),
      );
    }
    if (second % 10 === 0) {
      for (const { rebalance } of await Promise.all(members.map((m) => m.heartbeat()))) assert.equal(rebalance, false);
    }
  }
  const minute = new Map(store.byKind);
  const perMember = (kind: ItemKind) => (minute.get(kind)?.writes ?? 0) / MEMBERS;
  const unitsPerMember = (kind: ItemKind) => (minute.get(kind)?.writeUnits ?? 0) / MEMBERS;
  assert.equal(perMember('member lease'), 6, 'a heartbeat is one write, to its own lease');
  assert.equal(unitsPerMember('member lease'), 6, 'of one write unit');
  assert.equal(perMember('partition offset'), 120, 'a commit is one write per partition');
  assert.equal(unitsPerMember('partition offset'), 120, 'of one write unit');
  for (const kind of ['group head', 'group state', 'member profile'] as ItemKind[]) assert.equal(minute.get(kind)?.writes ?? 0, 0, `steady state never writes the ${kind}`);
  const hottest = Math.max(...store.perItem.values());
  assert.equal(hottest, 12, 'the hottest item (a partition offset) takes 12 writes a minute');
  const hottestKey = Math.max(...store.perKey.values());
  assert.equal(hottestKey, 1200, 'the hottest partition key (100 partitions of offsets) takes 20 writes/s');
  const described = await groups.describe('big-group');
  assert.equal(described.offsets.length, PARTITIONS);
  for (const o of described.offsets) assert.equal(o.committedOffset, progress.get(o.partition));

  // One member more: what a rebalance costs.
  store.reset();
  const newcomer = new SimMember(groups, 'big-group', { topics: ['big'], sessionTimeoutMs: 30_000 });
  await newcomer.join();
  const all = [...members, newcomer];
  const { heartbeats } = await settle(all, async (m) => {
    await m.commit(m.revoking.map((r) => ({ ...r, offset: progress.get(r.partition) ?? 0n })));
  });
  assert.equal(newcomer.partitions().length, 9);
  const rebalance = new Map(store.byKind);
  // The heartbeats settle sent would have been sent anyway; what the change itself costs:
  const lease = rebalance.get('member lease')!;
  rebalance.set('member lease', { ...lease, writes: lease.writes - heartbeats, writeUnits: lease.writeUnits - heartbeats });
  const generations = rebalance.get('group head')!.writes - rebalance.get('group head')!.failed;
  assert.equal(generations, 2, 'one generation for the join, one for the handover of every moving partition');
  const changeWrites = [...rebalance.values()].reduce((n, c) => n + c.writes, 0);
  assert.ok(changeWrites <= 3 * (MEMBERS + 1) + 40, `a join costs about two lease writes per member (${changeWrites} writes)`);

  const stateBytes = joinWrites.get('group state')!.maxItemBytes;
  assert.ok(stateBytes < 400 * 1024 && stateBytes < 20_000, `state item ${stateBytes} bytes`);
  assert.ok(joinWrites.get('member lease')!.maxItemBytes < 1024, 'a lease stays under 1 KB');
  assert.ok(joinWrites.get('partition offset')!.maxItemBytes < 1024);

  const table = (counts: Map<ItemKind, { writes: number; failed: number; writeUnits: number; maxItemBytes: number }>) =>
    [...counts].map(([kind, c]) => `    ${kind.padEnd(17)} ${String(c.writes).padStart(6)} writes (${c.failed} refused), ${String(c.writeUnits).padStart(6)} WCU, largest item ${c.maxItemBytes} B`).join('\n');
  console.log(
    [
      `groups at scale: ${MEMBERS} members, ${PARTITIONS} partitions`,
      `  joining at once and settling:\n${table(joinWrites)}`,
      `  one steady minute (heartbeat/10 s, commit of 10 partitions/5 s), per member: ${perMember('member lease')} lease + ${perMember('partition offset')} offset writes = ${unitsPerMember('member lease') + unitsPerMember('partition offset')} WCU; hottest item ${hottest} writes/min, hottest partition key ${hottestKey / 60} writes/s`,
      `  the 101st member joining (${generations} generations, ${changeWrites} writes besides heartbeats):\n${table(rebalance)}`,
    ].join('\n'),
  );
});
