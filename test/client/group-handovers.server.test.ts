/**
 * Consumer-group handovers at the interleavings that used to lose progress or process records twice,
 * each placed exactly (network gates on one member's requests, a handler held mid-record, the
 * consumer's own events) rather than left to a loaded machine:
 *
 *   - a handler still running when its partition is revoked: the record it finishes is committed on
 *     revoke, so the next owner starts after it;
 *   - a periodic commit refused in the middle of a handover does not take the commit on revoke with it;
 *   - a member that disconnects while a rebalance it has not heard of yet is under way commits what it
 *     processed (it catches up with the group first), so the next run does not read it all again;
 *   - a final commit that cannot land is surfaced: an error log and a commit_offsets_failed event;
 *   - disconnect() while run() is still joining ends run() cleanly, and the member it created leaves;
 *   - a member waiting for partitions takes them as soon as their owner lets go, not at its next
 *     scheduled heartbeat.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Sluice, type InstrumentationEvent, type KafkaMessage } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import type { Logger } from '../../lib/client/types.ts';
import { pendingHeartbeatMs } from '../../lib/client/consumer/group.ts';
import { API_KEY, localServer, type TestServer } from './support/servers.ts';
import { NetworkGates } from './support/network-gates.ts';
import { Resources } from '../support/resources.ts';
import { waitFor as waitForCondition } from './support/wait.ts';

const FAST_RETRY = { retries: 3, initialRetryMs: 1, maxRetryMs: 20 };

const waitFor = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) => waitForCondition(condition, what, timeoutMs, 10);

/** Offsets processed per partition, by every member together. */
class Processed {
  readonly seen = new Map<number, string[]>();
  record(partition: number, message: KafkaMessage): void {
    if (!this.seen.has(partition)) this.seen.set(partition, []);
    this.seen.get(partition)!.push(message.offset);
  }
  duplicates(): number {
    return [...this.seen.values()].reduce((n, offsets) => n + offsets.length - new Set(offsets).size, 0);
  }
  count(): number {
    return [...this.seen.values()].reduce((n, offsets) => n + offsets.length, 0);
  }
}

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { ...silentLogger, errors, error: (message) => void errors.push(message) };
}

describe('consumer-group handovers at exact interleavings (local server)', () => {
  let server: TestServer;
  let seq = 0;
  const resources = new Resources();

  before(async () => {
    server = await localServer();
  });
  afterEach(() => resources.close());
  after(() => server.close());

  /** A client of its own (its own network gates), and a consumer on it, stopped when the test ends. */
  function client(options: { logger?: Logger } = {}) {
    const gates = new NetworkGates();
    resources.defer(gates, 'network gates', (g) => g.releaseAll()); // released before the consumers stop (newest first)
    const sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: options.logger ?? silentLogger, fetch: gates.fetch });
    return { gates, sluice };
  }

  async function topic(partitions: number, perPartition: number): Promise<{ name: string; ends: number[] }> {
    const name = `h${++seq}`;
    const { sluice } = client();
    await sluice.admin().createTopics({ topics: [{ topic: name, numPartitions: partitions }] });
    const producer = resources.add(sluice.producer({ lingerMs: 0 }), 'producer');
    const messages = [];
    for (let p = 0; p < partitions; p++) for (let i = 0; i < perPartition; i++) messages.push({ value: `p${p}-${i}`, partition: p });
    await producer.send({ topic: name, messages });
    return { name, ends: new Array<number>(partitions).fill(perPartition) };
  }

  async function committed(group: string): Promise<Record<number, string>> {
    const { sluice } = client();
    const offsets = await sluice.admin().fetchOffsets({ groupId: group });
    return Object.fromEntries(offsets.flatMap((t) => t.partitions.map((p) => [p.partition, p.offset])));
  }

  it('a record whose handler is still running when its partition is revoked is committed on revoke: the next owner starts after it', { timeout: 60_000 }, async () => {
    const { name } = await topic(2, 4);
    const group = `inflight-${seq}`;
    const processed = new Processed();
    const gate = Promise.withResolvers<void>();
    let holding = 0;
    const a = resources.add(client().sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 6000, heartbeatIntervalMs: 50 }), 'a');
    const rebalancing = Promise.withResolvers<InstrumentationEvent<'consumer.rebalancing'>>();
    a.on(a.events.REBALANCING, (event) => rebalancing.resolve(event));
    await a.subscribe({ topic: name, fromBeginning: true });
    await a.run({
      partitionsConsumedConcurrently: 2,
      autoCommitIntervalMs: 60_000, // the commit on revoke is the only one
      eachMessage: async ({ partition, message }) => {
        if (message.offset === '1') {
          holding++;
          await gate.promise; // both partitions' handlers are in the middle of offset 1 when the revoke comes
        }
        processed.record(partition, message);
      },
    });
    await waitFor(() => holding === 2, 'both handlers held at offset 1');

    const b = resources.add(client().sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 6000, heartbeatIntervalMs: 50 }), 'b');
    await b.subscribe({ topic: name, fromBeginning: true });
    await b.run({ eachMessage: async ({ partition, message }) => processed.record(partition, message) });
    const { payload } = await rebalancing.promise; // a was told to give one partition up, and has stopped reading it
    const moving = Object.values(payload.revoking).flat();
    assert.equal(moving.length, 1, JSON.stringify(payload));
    gate.resolve(); // now the held handlers finish offset 1
    await waitFor(() => b.assignment().length === 1, 'b has its partition');
    await waitFor(() => processed.count() >= 8, 'every record processed');
    assert.equal(b.assignment()[0].partition, moving[0]);
    assert.equal(processed.duplicates(), 0, `nothing processed twice: ${JSON.stringify([...processed.seen])}`);
    assert.deepEqual(processed.seen.get(moving[0]), ['0', '1', '2', '3'], 'a processed 0 and 1 (the held one), b went on from 2');
  });

  it('a periodic commit refused in the middle of a handover does not take the commit on revoke with it', { timeout: 60_000 }, async () => {
    const { name } = await topic(2, 20);
    const group = `refused-${seq}`;
    const processed = new Processed();
    const { sluice, gates } = client();
    const commit = gates.hold('POST', /\/offsets$/); // a's first periodic commit is held on its way, as if the network were slow
    const a = resources.add(sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 6000, heartbeatIntervalMs: 50 }), 'a');
    const rebalancing = Promise.withResolvers<void>();
    a.on(a.events.REBALANCING, () => rebalancing.resolve());
    const failures: Array<InstrumentationEvent<'consumer.commit_offsets_failed'>> = [];
    a.on(a.events.COMMIT_OFFSETS_FAILED, (event) => failures.push(event));
    await a.subscribe({ topic: name, fromBeginning: true });
    await a.run({ autoCommitIntervalMs: 20, eachMessage: async ({ partition, message }) => processed.record(partition, message) });
    await commit.reached;
    await waitFor(() => processed.count() === 40, 'a processed everything');
    const b = resources.add(client().sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 6000, heartbeatIntervalMs: 50 }), 'b');
    await b.subscribe({ topic: name, fromBeginning: true });
    await b.run({ eachMessage: async ({ partition, message }) => processed.record(partition, message) });
    await rebalancing.promise; // a rejoined in the new generation and is committing on revoke, behind the held commit
    commit.release(); // the held commit (of the old generation) arrives and is refused
    await waitFor(() => b.assignment().length === 1, 'b has its partition');
    await new Promise((resolve) => setTimeout(resolve, 200)); // a duplicate would show up now
    assert.equal(processed.duplicates(), 0, 'b starts where a stopped');
    assert.ok(failures.some((f) => !f.payload.final && (f.payload.error as { code?: string }).code === 'ILLEGAL_GENERATION'), 'the refusal was surfaced, as one a later commit makes good');
    assert.ok(!failures.some((f) => f.payload.final), 'no final commit failed');
  });

  it('members that disconnect while a rebalance is under way commit what they processed, so nothing is read again', { timeout: 60_000 }, async () => {
    const { name, ends } = await topic(2, 50);
    const group = `leave-${seq}`;
    const processed = new Processed();
    const first = client();
    const a = resources.add(first.sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 30_000, heartbeatIntervalMs: 50 }), 'a');
    const commits: Array<InstrumentationEvent<'consumer.commit_offsets'>> = [];
    a.on(a.events.COMMIT_OFFSETS, (event) => commits.push(event));
    const joins: number[] = [];
    a.on(a.events.GROUP_JOIN, (event) => joins.push(event.payload.generation));
    await a.subscribe({ topic: name, fromBeginning: true });
    await a.run({ autoCommitIntervalMs: 60_000, eachMessage: async ({ partition, message }) => processed.record(partition, message) });
    await waitFor(() => processed.count() === 100, 'a processed everything');
    first.gates.hold('POST', /\/heartbeat$/); // a hears of the next rebalance only after it has disconnected

    const b = resources.add(client().sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 6000, heartbeatIntervalMs: 50 }), 'b');
    await b.subscribe({ topic: name, fromBeginning: true });
    await b.run({ eachMessage: async ({ partition, message }) => processed.record(partition, message) });
    const admin = client().sluice.admin();
    assert.deepEqual(joins, [1], 'a knows generation 1 only');
    assert.equal((await admin.describeGroup(group)).generation, 2, 'the group is in generation 2: a handover to b waits for a');

    await a.disconnect(); // its final commit is of generation 1, refused: it catches up, commits in the current one, then leaves
    await b.disconnect();
    assert.deepEqual(await committed(group), Object.fromEntries(ends.map((end, p) => [p, String(end)])), 'every processed record committed');
    assert.equal(commits.length, 1);
    assert.ok(commits[0].payload.generation > 1, `committed in the current generation: ${JSON.stringify(commits[0].payload)}`);
    assert.deepEqual(commits[0].payload.topics, [{ topic: name, partitions: ends.map((end, partition) => ({ partition, offset: String(end) })) }]);
    assert.equal(processed.duplicates(), 0);
  });

  it('a final commit that cannot land is surfaced: logged as an error by default and told as an event', { timeout: 60_000 }, async () => {
    const { name } = await topic(1, 5);
    const group = `surfaced-${seq}`;
    const logger = recordingLogger();
    const { sluice, gates } = client({ logger });
    const a = resources.add(sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 1000, heartbeatIntervalMs: 100 }), 'a');
    const failures: Array<InstrumentationEvent<'consumer.commit_offsets_failed'>> = [];
    a.on(a.events.COMMIT_OFFSETS_FAILED, (event) => failures.push(event));
    let processed = 0;
    await a.subscribe({ topic: name, fromBeginning: true });
    await a.run({ autoCommitIntervalMs: 60_000, eachMessage: async () => void processed++ });
    await waitFor(() => processed === 5, 'a processed everything');
    gates.hold('POST', /\/heartbeat$/); // a stalls: no heartbeat reaches the group ...
    const admin = client().sluice.admin();
    await waitFor(async () => (await admin.describeGroup(group)).members.length === 0, 'a expired'); // ... until its session has run out
    await a.disconnect();
    const final = failures.filter((f) => f.payload.final);
    assert.equal(final.length, 1, JSON.stringify(failures.map((f) => f.payload)));
    assert.deepEqual(final[0].payload.topics, [{ topic: name, partitions: [{ partition: 0, offset: '5' }] }]);
    assert.equal((final[0].payload.error as { code?: string }).code, 'ILLEGAL_GENERATION');
    assert.ok(logger.errors.some((m) => m.includes(`${name}/0@5`)), logger.errors.join('\n'));
  });

  it('disconnect() while run() is still joining ends run() cleanly, and the member the join created leaves', { timeout: 60_000 }, async () => {
    const { name } = await topic(2, 1);
    const group = `early-${seq}`;
    const { sluice, gates } = client();
    const join = gates.hold('POST', /\/members$/, { where: 'answer' }); // the server has created the member; its answer is on its way
    const a = resources.add(sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 6000 }), 'a');
    await a.subscribe({ topic: name, fromBeginning: true });
    const running = a.run({ eachMessage: async () => {} });
    await join.reached;
    const disconnected = a.disconnect();
    join.release();
    await running; // resolves: stopped, not failed
    await disconnected;
    const described = await client().sluice.admin().describeGroup(group);
    assert.equal(described.members.length, 0, 'the member left');
    assert.deepEqual(a.assignment(), []);
  });

  it('a member waiting for partitions takes them as soon as their owner lets go, not at its next scheduled heartbeat', { timeout: 60_000 }, async () => {
    const { name } = await topic(2, 3);
    const group = `quick-${seq}`;
    const a = resources.add(client().sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 6000, heartbeatIntervalMs: 50 }), 'a');
    await a.subscribe({ topic: name, fromBeginning: true });
    await a.run({ eachMessage: async () => {} });
    // b's own heartbeats are a minute apart: only the quick beats of a member waiting for partitions bring them in time
    const b = resources.add(client().sluice.consumer({ groupId: group, maxWaitMs: 50, sessionTimeoutMs: 180_000, heartbeatIntervalMs: 60_000 }), 'b');
    const joins: Array<InstrumentationEvent<'consumer.group_join'>> = [];
    b.on(b.events.GROUP_JOIN, (event) => joins.push(event));
    await b.subscribe({ topic: name, fromBeginning: true });
    await b.run({ eachMessage: async () => {} });
    assert.equal(Object.values(joins[0].payload.pending).flat().length, 1, 'b knows one partition is on its way');
    await waitFor(() => b.assignment().length === 1, 'b has its partition', 30_000);
    assert.ok(joins.length >= 2 && Object.values(joins.at(-1)!.payload.pending).flat().length === 0);
    assert.equal(pendingHeartbeatMs(60_000), 250);
    assert.equal(pendingHeartbeatMs(1000), 50);
    assert.equal(pendingHeartbeatMs(150), 25);
  });
});
