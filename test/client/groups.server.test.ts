/**
 * The consumer in a consumer group, through the local server: members share the partitions, hand them
 * over cooperatively (commit on revoke: nothing processed twice in a clean handover), leave on
 * disconnect, are fenced when their session expires (partitions lost, then rejoin), and keep their
 * partitions across a quick restart with an instanceId. Every record is processed at least once.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Sluice, type KafkaMessage, type SluiceClientError, type TopicPartition } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import type { FetchFunction } from '../../lib/client/network/http.ts';
import { API_KEY, localServer, type TestServer } from './support/servers.ts';
import { randomFaults, startChaosProxy } from './support/chaos-proxy.ts';
import { Resources } from '../support/resources.ts';
import { waitFor as waitForCondition } from './support/wait.ts';

const FAST_RETRY = { retries: 3, initialRetryMs: 1, maxRetryMs: 20 };

/** Group changes take a session or two: a longer wait, polled less often. */
const waitFor = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) => waitForCondition(condition, what, timeoutMs, 20);

/** What the members of one group processed: per partition, offset → how many times. */
class Ledger {
  readonly seen = new Map<number, Map<string, number>>();
  /** Partitions being processed right now, by whom: a partition must never be in two handlers at once. */
  readonly active = new Map<number, string>();
  overlaps = 0;

  handler(name: string) {
    return async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
      const other = this.active.get(partition);
      if (other !== undefined && other !== name) this.overlaps++;
      this.active.set(partition, name);
      await new Promise((resolve) => setImmediate(resolve));
      if (!this.seen.has(partition)) this.seen.set(partition, new Map());
      const offsets = this.seen.get(partition)!;
      offsets.set(message.offset, (offsets.get(message.offset) ?? 0) + 1);
      if (this.active.get(partition) === name) this.active.delete(partition);
    };
  }

  count(): number {
    return [...this.seen.values()].reduce((n, m) => n + m.size, 0);
  }

  duplicates(): number {
    return [...this.seen.values()].reduce((n, m) => n + [...m.values()].reduce((d, c) => d + c - 1, 0), 0);
  }

  /** Every offset below `ends[p]` of every partition was processed. */
  complete(ends: readonly number[]): boolean {
    return ends.every((end, p) => {
      const offsets = this.seen.get(p);
      for (let o = 0; o < end; o++) if (!offsets?.has(String(o))) return false;
      return true;
    });
  }
}

describe('consumer groups in the client (local server)', () => {
  let server: TestServer;
  let sluice: Sluice;
  let seq = 0;
  /** Every consumer and proxy a test starts: disconnected and closed when it ends, pass or fail. */
  const resources = new Resources();

  before(async () => {
    server = await localServer();
    sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
  });
  afterEach(() => resources.close());
  after(() => server.close());

  async function topicWith(partitions: number, perPartition: number): Promise<{ topic: string; ends: number[]; produce: (n: number) => Promise<void> }> {
    const topic = `g${++seq}`;
    await sluice.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const ends = new Array<number>(partitions).fill(0);
    const producer = resources.add(sluice.producer({ lingerMs: 0 }), 'producer');
    const produce = async (n: number) => {
      const messages = [];
      for (let p = 0; p < partitions; p++) for (let i = 0; i < n; i++) messages.push({ value: `p${p}-${ends[p] + i}`, partition: p });
      await producer.send({ topic, messages });
      for (let p = 0; p < partitions; p++) ends[p] += n;
    };
    await produce(perPartition);
    return { topic, ends, produce };
  }

  const member = (groupId: string, options: Record<string, unknown> = {}, client = sluice) =>
    resources.add(client.consumer({ groupId, maxWaitMs: 100, sessionTimeoutMs: 6000, heartbeatIntervalMs: 150, ...options }), `member of ${groupId}`);

  it('members share the partitions; a handover commits on revoke, so nothing is processed twice; leaving hands back at once', { timeout: 90_000 }, async () => {
    const { topic, ends, produce } = await topicWith(6, 30);
    const group = `shared-${seq}`;
    const ledger = new Ledger();
    const events: string[] = [];
    const listener = (name: string) => ({
      onPartitionsAssigned: (tps: TopicPartition[]) => void events.push(`${name}+${tps.map((t) => t.partition).sort()}`),
      onPartitionsRevoked: (tps: TopicPartition[]) => void events.push(`${name}-${tps.map((t) => t.partition).sort()}`),
      onPartitionsLost: (tps: TopicPartition[]) => void events.push(`${name}!${tps.map((t) => t.partition).sort()}`),
    });
    const a = member(group, { rebalanceListener: listener('a') });
    await a.subscribe({ topic, fromBeginning: true });
    await a.run({ eachMessage: ledger.handler('a'), autoCommitIntervalMs: 250 });
    assert.equal(a.assignment().length, 6, 'the first member gets every partition');
    await waitFor(() => ledger.count() >= 30, 'a has processed some');

    const b = member(group, { rebalanceListener: listener('b') });
    await b.subscribe({ topic, fromBeginning: true });
    await b.run({ eachMessage: ledger.handler('b'), autoCommitIntervalMs: 250 });
    await waitFor(() => a.assignment().length === 3 && b.assignment().length === 3, 'three partitions each');
    await produce(20);
    await waitFor(() => ledger.complete(ends), 'every record processed');
    assert.equal(ledger.duplicates(), 0, 'commit on revoke: the new owner starts where the old one stopped');
    assert.equal(ledger.overlaps, 0, 'never two handlers on one partition');
    const aRevoked = events.find((e) => e.startsWith('a-'));
    const bAssigned = events.find((e) => e.startsWith('b+'));
    assert.ok(aRevoked && bAssigned && aRevoked.slice(2) === bAssigned.slice(2), events.join(' '));

    const admin = sluice.admin();
    await waitFor(async () => (await admin.fetchOffsets({ groupId: group })).every((t) => t.partitions.every((p) => p.lag === '0')), 'everything committed');
    const described = await admin.describeGroup(group);
    assert.equal(described.members.length, 2);
    assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === group));

    await b.disconnect(); // leaves: a gets the partitions back without waiting for b's session to run out
    assert.equal((await admin.describeGroup(group)).members.length, 1, 'b is gone as soon as disconnect() resolves');
    await waitFor(() => a.assignment().length === 6, 'a has every partition again');
    await produce(10);
    await waitFor(() => ledger.complete(ends), 'the new records processed');
    assert.equal(ledger.duplicates(), 0);
    await a.disconnect();
    assert.equal((await admin.describeGroup(group)).members.length, 0);
  });

  it('a member whose session expires loses its partitions to the others without skipping any record, then rejoins', { timeout: 90_000 }, async () => {
    const { topic, ends, produce } = await topicWith(4, 20);
    const group = `expiry-${seq}`;
    const ledger = new Ledger();
    let down = false;
    const flaky: FetchFunction = (input, init) => (down ? Promise.reject(new TypeError('fetch failed: network is down')) : globalThis.fetch(input, init));
    const isolated = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: flaky });
    const lost: number[] = [];
    const c = member(group, { sessionTimeoutMs: 1500, heartbeatIntervalMs: 200, rebalanceListener: { onPartitionsLost: (tps: TopicPartition[]) => void lost.push(...tps.map((t) => t.partition)) } }, isolated);
    const d = member(group, { sessionTimeoutMs: 6000, heartbeatIntervalMs: 100 });
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({ eachMessage: ledger.handler('c') });
    await d.subscribe({ topic, fromBeginning: true });
    await d.run({ eachMessage: ledger.handler('d') });
    await waitFor(() => c.assignment().length === 2 && d.assignment().length === 2, 'two each');
    await waitFor(() => ledger.complete(ends), 'the first records processed');

    down = true; // c's process stalls: no heartbeats, no commits
    await produce(15);
    await waitFor(() => d.assignment().length === 4, 'd takes c\'s partitions once c expired');
    await waitFor(() => ledger.complete(ends), 'every record processed by d');
    down = false; // c wakes up: fenced, it loses its partitions and joins again as a new member
    await waitFor(() => lost.length === 2, 'c is told its partitions were lost');
    await waitFor(() => c.assignment().length === 2 && d.assignment().length === 2, 'c back with a share');
    await produce(5);
    await waitFor(() => ledger.complete(ends), 'the last records processed');
    await c.disconnect();
    await d.disconnect();
  });

  it('a static member restarting with its instanceId gets its partitions back at once', { timeout: 90_000 }, async () => {
    const { topic } = await topicWith(6, 5);
    const group = `static-${seq}`;
    const ledger = new Ledger();
    const first = member(group, { instanceId: 'pod-a' });
    const other = member(group, { instanceId: 'pod-b' });
    for (const [name, consumer] of [['a', first], ['b', other]] as const) {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: ledger.handler(name), autoCommitIntervalMs: 250 });
    }
    await waitFor(() => first.assignment().length === 3 && other.assignment().length === 3, 'three each');
    const mine = first.assignment().map((p) => p.partition).sort();
    const theirs = other.assignment().map((p) => p.partition).sort();
    await first.disconnect(); // a static member does not leave
    const admin = sluice.admin();
    assert.equal((await admin.describeGroup(group)).members.length, 2, 'still a member until its session runs out');
    const restarted = member(group, { instanceId: 'pod-a' });
    await restarted.subscribe({ topic, fromBeginning: true });
    await restarted.run({ eachMessage: ledger.handler('a2') });
    assert.deepEqual(restarted.assignment().map((p) => p.partition).sort(), mine, 'its partitions at once');
    await waitFor(async () => (await admin.describeGroup(group)).members.length === 2, 'the old member id replaced');
    assert.deepEqual(other.assignment().map((p) => p.partition).sort(), theirs, 'nothing moved for the others');
    await restarted.disconnect();
    await other.disconnect();
  });

  it('with 503s, 429s and dropped answers on every call, members come and go and every record is processed', { timeout: 90_000 }, async () => {
    const { topic, ends, produce } = await topicWith(4, 40);
    const group = `chaos-${seq}`;
    const proxy = resources.closes(await startChaosProxy(server.url, randomFaults({ unavailable: 0.03, throttle: 0.03, 'drop-response': 0.03 }, 11)), 'chaos proxy');
    const flaky = new Sluice({ endpoint: proxy.url, apiKey: API_KEY, retry: { retries: 6, initialRetryMs: 2, maxRetryMs: 50 }, logger: silentLogger });
    const ledger = new Ledger();
    const start = async (name: string) => {
      const consumer = member(group, { sessionTimeoutMs: 3000, heartbeatIntervalMs: 150 }, flaky);
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: ledger.handler(name), autoCommitIntervalMs: 250 });
      return consumer;
    };
    const m1 = await start('m1');
    const m2 = await start('m2');
    await waitFor(() => ledger.count() >= 40, 'some processed');
    const m3 = await start('m3');
    await produce(20);
    await m1.disconnect();
    await produce(20);
    await waitFor(() => ledger.complete(ends), 'every record processed');
    const admin = sluice.admin();
    await waitFor(async () => (await admin.fetchOffsets({ groupId: group })).every((t) => t.partitions.every((p) => p.lag === '0')), 'committed to the end');
    assert.ok(proxy.counts.unavailable + proxy.counts.throttle + proxy.counts['drop-response'] > 0, JSON.stringify(proxy.counts));
    await m2.disconnect();
    await m3.disconnect();
  });

  it('admin: offsets of an empty group are reset and set; options are checked', { timeout: 90_000 }, async () => {
    const { topic } = await topicWith(2, 4);
    const group = `admin-${seq}`;
    const admin = sluice.admin();
    await admin.resetOffsets({ groupId: group, topic });
    assert.deepEqual(await admin.fetchOffsets({ groupId: group }), [{ topic, partitions: [{ partition: 0, offset: '4', lag: '0' }, { partition: 1, offset: '4', lag: '0' }] }]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 1, offset: '1' }] });
    await admin.resetOffsets({ groupId: group, topic, earliest: true });
    const consumer = member(group);
    await consumer.subscribe({ topic, fromBeginning: false });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(() => values.length === 8, 'all eight from the reset offsets');
    await assert.rejects(admin.resetOffsets({ groupId: group, topic }), { code: 'GROUP_NOT_EMPTY' });
    await assert.rejects(admin.deleteGroups([group]), (error: SluiceClientError) => {
      assert.equal(error.code, 'GROUP_NOT_EMPTY');
      assert.deepEqual(error.details.groups, [{ groupId: group, errorCode: 'GROUP_NOT_EMPTY' }]);
      return true;
    });
    await consumer.disconnect();
    assert.deepEqual(await admin.deleteGroups([group]), [{ groupId: group, errorCode: 'NONE' }]);
    await assert.rejects(admin.describeGroup(group), { code: 'GROUP_NOT_FOUND' });
    assert.ok(!(await admin.listGroups()).groups.some((g) => g.groupId === group));
    await assert.rejects(admin.deleteGroups([group, 'never-joined']), (error: SluiceClientError) => {
      assert.equal(error.code, 'GROUP_NOT_FOUND');
      assert.deepEqual(error.details.groups, [{ groupId: group, errorCode: 'GROUP_NOT_FOUND' }, { groupId: 'never-joined', errorCode: 'GROUP_NOT_FOUND' }]);
      return true;
    });
    assert.throws(() => sluice.consumer({ groupId: 'bad group!' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sluice.consumer({ groupId: 'g', sessionTimeoutMs: 10 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sluice.consumer({ groupId: 'g', assignmentSource: { start: async () => {}, commit: async () => {}, stop: async () => {} } }), { code: 'INVALID_ARGUMENT' });
  });
});
