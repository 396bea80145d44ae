/**
 * Consumer groups, written once and run against every backend (memory, local, DynamoDB emulator):
 * membership, generations, heartbeats, expiry, static membership, cooperative handover, fencing of
 * stale commits (invariant 5), committed offsets, lag and resets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../lib/log/engine.ts';
import { Groups, type GroupStep, type GroupsOptions } from '../../lib/groups/groups.ts';
import { ConditionFailedError, SluiceError } from '../../lib/errors.ts';
import type { Backend, BackendFactory } from '../support/backends.ts';
import type { MetadataStore } from '../../lib/storage/ports.ts';
import { ManualClock } from '../support/clock.ts';
import { DEFAULTS } from '../../lib/defaults.ts';
import { offsetsPk } from '../../lib/groups/layout.ts';
import { append } from '../log/engine.suite.ts';
import { SimMember, settle } from './sim.ts';

const code = (expected: string) => (e: unknown) => {
  assert.ok(e instanceof SluiceError, `expected a SluiceError ${expected}, got ${String(e)}`);
  assert.equal(e.code, expected, e.message);
  return true;
};

class Crash extends Error {}

/** `store` with its put replaced (a fault at a named write). */
function withPut(store: MetadataStore, put: MetadataStore['put']): MetadataStore {
  return {
    get: (pk, sk) => store.get(pk, sk),
    update: (pk, sk, changes, condition, options) => store.update(pk, sk, changes, condition, options),
    delete: (pk, sk, condition) => store.delete(pk, sk, condition),
    query: (pk, options) => store.query(pk, options),
    put,
  };
}

export function groupsSuite(name: string, factory: BackendFactory): void {
  describe(`consumer groups on ${name}`, () => {
    let backend: Backend;
    let clock: ManualClock;
    let seq = 0;

    before(async () => {
      backend = await factory();
      clock = new ManualClock();
    });
    after(async () => backend.teardown());

    async function setup(partitions = 4, options: Partial<GroupsOptions> = {}) {
      const engine = new Engine({ objects: backend.objects, metadata: backend.metadata, now: clock.now, topicCacheMs: 0 });
      const groups = new Groups({ engine, now: clock.now, ...options });
      const topic = `topic${++seq}`;
      await engine.topics.create(topic, partitions);
      const group = `group${seq}`;
      const member = (extra: Partial<SimMember['request']> = {}) => new SimMember(groups, group, { topics: [topic], sessionTimeoutMs: 10_000, ...extra });
      const committed = async () => {
        const d = await groups.describe(group);
        return Object.fromEntries(d.offsets.filter((o) => o.topic === topic).map((o) => [o.partition, o.committedOffset]));
      };
      return { engine, groups, topic, group, member, committed };
    }

    /** No partition owned by two of them, and together they own every partition. */
    function assertPartitioned(members: SimMember[], partitions: number): void {
      const all = members.flatMap((m) => m.partitions()).sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: partitions }, (_, p) => p));
      const generations = new Set(members.map((m) => m.generation));
      assert.equal(generations.size, 1, 'settled members share one generation');
    }

    it('the first member gets every partition; the next gets its share once the first has committed and released it', async () => {
      const { topic, member, committed, groups, group } = await setup(4);
      const a = member();
      const b = member();
      const first = await a.join();
      assert.equal(first.generation, 1);
      assert.deepEqual(first.assignments, [0, 1, 2, 3].map((partition) => ({ topic, partition, committedOffset: null })));
      assert.match(first.memberId, /^[A-Za-z0-9_-]{16}\.10000$/);

      const joined = await b.join();
      assert.equal(joined.generation, 2);
      assert.deepEqual(joined.assignments, [], 'nothing until the current owner lets go');
      assert.equal(joined.pending.length, 2, 'but it knows two partitions are on their way');
      assert.deepEqual(await b.heartbeat(), { generation: 2, rebalance: false });
      assert.deepEqual(await a.heartbeat(), { generation: 2, rebalance: true });

      await a.join();
      assert.equal(a.generation, 2);
      assert.equal(a.assignments.length, 2);
      assert.equal(a.revoking.length, 2);
      assert.equal((await a.heartbeat()).rebalance, true, 'told to rejoin while it holds revoking partitions');
      // commit on revoke: still the owner in this generation
      await a.commit(a.revoking.map((r) => ({ ...r, offset: 7n })));
      await a.join(); // releases
      assert.equal(a.generation, 3);
      assert.deepEqual(a.revoking, []);

      assert.deepEqual(await b.heartbeat(), { generation: 3, rebalance: true });
      const handed = await b.join();
      assert.equal(b.assignments.length, 2);
      assert.deepEqual(handed.pending, []);
      for (const assignment of b.assignments) assert.equal(assignment.committedOffset, 7n, 'the new owner starts where the old one committed');
      assertPartitioned([a, b], 4);
      assert.deepEqual(await a.heartbeat(), { generation: 3, rebalance: false });

      const d = await groups.describe(group);
      assert.equal(d.generation, 3);
      assert.deepEqual(
        d.members.map((m) => m.assignments.map((p) => p.partition)).sort(),
        [a.partitions(), b.partitions()].sort(),
      );
      assert.deepEqual(Object.values(await committed()).filter((v) => v !== null), [7n, 7n]);
    });

    it('heartbeats keep a member; one that misses its session timeout expires and another member notices', async () => {
      const { member } = await setup(4);
      const a = member();
      const b = member();
      await a.join();
      await b.join();
      await settle([a, b]);
      assertPartitioned([a, b], 4);
      for (let i = 0; i < 3; i++) {
        clock.advance(6_000);
        assert.equal((await a.heartbeat()).rebalance, false);
        assert.equal((await b.heartbeat()).rebalance, false);
      }
      clock.advance(6_000);
      assert.equal((await b.heartbeat()).rebalance, false, 'a has 4 s left');
      clock.advance(5_000); // a's last heartbeat was 11 s ago
      assert.equal((await b.heartbeat()).rebalance, true, 'b watches a: the group noticed');
      await b.join();
      assert.deepEqual(b.partitions(), [0, 1, 2, 3]);
      assert.deepEqual(b.revoking, [], 'an expired owner is not waited for');
      await assert.rejects(a.heartbeat(), code('UNKNOWN_MEMBER'));
      await assert.rejects(a.join(), code('UNKNOWN_MEMBER'));
      await assert.rejects(a.commit([{ topic: a.assignments[0]!.topic, partition: a.assignments[0]!.partition, offset: 1n }]), code('ILLEGAL_GENERATION'));
    });

    it('partitions added to a topic: a heartbeat after groupTopicCheckMs rebalances, and the new partitions start at their log start', async () => {
      const { engine, topic, member, groups, group } = await setup(2);
      const a = member({ sessionTimeoutMs: 30 * 60_000 });
      await a.join();
      assert.deepEqual(a.partitions(), [0, 1]);
      await a.commit([{ topic, partition: 0, offset: 0n }]);
      await engine.topics.addPartitions(topic, 4);
      // records written to the new partitions before the group notices them
      await engine.produce(topic, [append(2, ['early'])]);
      await engine.produce(topic, [append(3, ['x', 'y'])]);
      assert.equal((await a.heartbeat()).rebalance, false, 'not looked at again yet');
      clock.advance(DEFAULTS.groupTopicCheckMs - 1);
      assert.equal((await a.heartbeat()).rebalance, false);
      clock.advance(1);
      assert.equal((await a.heartbeat()).rebalance, true, 'the look found 4 partitions');
      await a.join();
      assert.deepEqual(a.partitions(), [0, 1, 2, 3]);
      const start = Object.fromEntries(a.assignments.map((x) => [x.partition, x.committedOffset]));
      assert.deepEqual(start, { 0: 0n, 1: null, 2: 0n, 3: 0n }, 'new partitions at their log start; an old one with no commit stays the member\'s choice');
      assert.deepEqual((await groups.describe(group)).offsets.map((o) => [o.partition, o.committedOffset]), [[0, 0n], [1, null], [2, null], [3, null]], 'nothing was committed for them');
      // an unchanged group looks again only an interval later: no rebalance meanwhile
      clock.advance(DEFAULTS.groupTopicCheckMs - 1);
      assert.equal((await a.heartbeat()).rebalance, false);
      clock.advance(1);
      assert.equal((await a.heartbeat()).rebalance, false, 'looked, found nothing new');
      clock.advance(DEFAULTS.groupTopicCheckMs / 2);
      assert.equal((await a.heartbeat()).rebalance, false);
    });

    it('a group that first reads a topic after partitions were added treats every partition alike', async () => {
      const { engine, topic, member } = await setup(2);
      await engine.topics.addPartitions(topic, 3);
      const a = member();
      await a.join();
      assert.deepEqual(a.assignments.map((x) => [x.partition, x.committedOffset]).sort(), [[0, null], [1, null], [2, null]]);
    });

    it('a group emptied before partitions were added: the next member still starts them at their log start', async () => {
      const { engine, topic, member } = await setup(2);
      const a = member();
      await a.join();
      await a.commit([{ topic, partition: 0, offset: 0n }]);
      await a.leave();
      await engine.topics.addPartitions(topic, 4);
      await engine.produce(topic, [append(3, ['early'])]);
      // the new generation records its topics again; the count first seen (2) must stay
      const b = member();
      await b.join();
      assert.deepEqual(
        Object.fromEntries(b.assignments.map((x) => [x.partition, x.committedOffset])),
        { 0: 0n, 1: null, 2: 0n, 3: 0n },
        'partitions 2 and 3 came after the group first read the topic',
      );
    });

    it('an offsets reset of some partitions keeps the count the group first read: partitions added before it still start at their log start', async () => {
      const { engine, topic, member, groups, group } = await setup(2);
      const a = member();
      await a.join();
      await a.leave();
      await engine.topics.addPartitions(topic, 4);
      await engine.produce(topic, [append(3, ['early'])]);
      await groups.resetOffsets(group, { topic, partitions: [0], target: { to: 'earliest' } });
      const b = member();
      await b.join();
      assert.deepEqual(Object.fromEntries(b.assignments.map((x) => [x.partition, x.committedOffset])), { 0: 0n, 1: null, 2: 0n, 3: 0n });
    });

    it('a failed write of the topic index fails the rebalance, so that partitions added later still start at their log start', async () => {
      const { engine, topic, group } = await setup(2);
      const store = backend.metadata;
      let failIndex = true;
      const flakyIndex = withPut(store, async (item, condition) => {
        if (failIndex && item.pk === `g#${group}` && item.sk.startsWith('t#')) {
          failIndex = false;
          throw new SluiceError('UNAVAILABLE', 'the store did not answer');
        }
        await store.put(item, condition);
      });
      const groups = new Groups({ engine: new Engine({ objects: backend.objects, metadata: flakyIndex, now: clock.now, topicCacheMs: 0 }), now: clock.now });
      const a = new SimMember(groups, group, { topics: [topic], sessionTimeoutMs: 30 * 60_000, joinId: 'join-index-write-fails' });
      await assert.rejects(a.join(), code('UNAVAILABLE'));
      await a.join(); // the member retries (the same joinId: the same member)
      assert.deepEqual(a.partitions(), [0, 1]);
      await engine.topics.addPartitions(topic, 3);
      await engine.produce(topic, [append(2, ['early'])]);
      clock.advance(DEFAULTS.groupTopicCheckMs);
      assert.equal((await a.heartbeat()).rebalance, true);
      await a.join();
      assert.deepEqual(Object.fromEntries(a.assignments.map((x) => [x.partition, x.committedOffset])), { 0: null, 1: null, 2: 0n });
    });

    it('a failed read of the topic while an added partition is claimed fails the join instead of leaving it to the member\'s reset', async () => {
      const { engine, topic, member, group } = await setup(2);
      const a = member({ sessionTimeoutMs: 30 * 60_000 });
      await a.join();
      await engine.topics.addPartitions(topic, 3);
      await a.leave();
      let failNextTopicRead = false;
      const port: GroupsOptions['engine'] = {
        metadata: engine.metadata,
        topics: {
          get: async (name: string) => {
            if (!failNextTopicRead) return engine.topics.get(name);
            failNextTopicRead = false;
            throw new SluiceError('UNAVAILABLE', 'the store did not answer');
          },
        },
        partitionBounds: (t, p) => engine.partitionBounds(t, p),
        offsetForTimestamp: (t, p, ts) => engine.offsetForTimestamp(t, p, ts),
      };
      // After the new generation is published, the next read of the topic is the claim's, for partition 2.
      let armed = true;
      const flaky = new Groups({ engine: port, now: clock.now, afterStep: (step) => void (step === 'head-written' && armed && ((armed = false), (failNextTopicRead = true))) });
      const b = new SimMember(flaky, group, { topics: [topic], sessionTimeoutMs: 30 * 60_000, joinId: 'join-topic-read-fails' });
      await assert.rejects(b.join(), code('UNAVAILABLE'));
      assert.equal(failNextTopicRead, false, 'the claim read the topic');
      await b.join();
      assert.deepEqual(Object.fromEntries(b.assignments.map((x) => [x.partition, x.committedOffset])), { 0: null, 1: null, 2: 0n });
    });

    it('deleting a group deletes the offsets of partitions added after it first read the topic, past its first offset bucket', async () => {
      const { engine, topic, member, groups, group } = await setup(60);
      const a = member({ sessionTimeoutMs: 30 * 60_000 });
      await a.join();
      await engine.topics.addPartitions(topic, 120);
      clock.advance(DEFAULTS.groupTopicCheckMs);
      assert.equal((await a.heartbeat()).rebalance, true);
      await a.join();
      assert.equal(a.assignments.length, 120);
      await a.commit([{ topic, partition: 0, offset: 0n }, { topic, partition: 110, offset: 0n }]);
      await a.leave();
      await groups.deleteGroup(group);
      const topicId = (await engine.topics.get(topic)).id;
      for (const partition of [0, 110]) {
        assert.deepEqual(await backend.metadata.query(offsetsPk(group, topicId, partition)), [], `the offsets bucket of partition ${partition} is empty`);
      }
      const b = member();
      await b.join();
      assert.equal(b.assignments.find((x) => x.partition === 110)?.committedOffset, null, 'a new group: nothing committed');
    });

    it('fencing: a stale generation, another member\'s partition or an unknown member gets ILLEGAL_GENERATION and changes nothing', async () => {
      const { topic, member, committed } = await setup(4);
      const a = member();
      const b = member();
      await a.join();
      await b.join();
      await settle([a, b]);
      const [mine] = a.partitions();
      const [theirs] = b.partitions();
      await a.commit([{ topic, partition: mine, offset: 5n }]);
      const before = await committed();
      assert.equal(before[mine], 5n);

      await assert.rejects(
        a.groups.commit(a.group, { memberId: a.memberId!, generation: a.generation - 1, offsets: [{ topic, partition: mine, offset: 9n }] }),
        code('ILLEGAL_GENERATION'),
      );
      await assert.rejects(
        a.groups.commit(a.group, { memberId: a.memberId!, generation: a.generation + 1, offsets: [{ topic, partition: mine, offset: 9n }] }),
        code('ILLEGAL_GENERATION'),
      );
      await assert.rejects(a.commit([{ topic, partition: mine, offset: 9n }, { topic, partition: theirs, offset: 9n }]), code('ILLEGAL_GENERATION'));
      await assert.rejects(a.groups.commit(a.group, { memberId: 'AAAAAAAAAAAAAAAA.10000', generation: a.generation, offsets: [{ topic, partition: mine, offset: 9n }] }), code('ILLEGAL_GENERATION'));
      // a generation that is current for the group but not yet joined by this member
      const c = member();
      await c.join();
      await assert.rejects(
        a.groups.commit(a.group, { memberId: a.memberId!, generation: c.generation, offsets: [{ topic, partition: mine, offset: 9n }] }),
        code('ILLEGAL_GENERATION'),
      );
      assert.deepEqual(await committed(), before);
    });

    it('a paused member that wakes after its session expired cannot commit, even if nobody noticed', async () => {
      const { topic, member, committed } = await setup(2);
      const a = member();
      await a.join();
      await a.commit([{ topic, partition: 0, offset: 3n }]);
      clock.advance(10_001); // nobody heartbeats, nobody looks
      await assert.rejects(a.commit([{ topic, partition: 0, offset: 4n }]), code('ILLEGAL_GENERATION'));
      await assert.rejects(a.heartbeat(), code('UNKNOWN_MEMBER'));
      assert.equal((await committed())[0], 3n);
    });

    it('a commit that passed its checks just before its partition moved is refused at the write', async () => {
      let pause: { reached: () => void; gate: Promise<void> } | undefined;
      const { topic, member, committed, groups, group } = await setup(2, {
        afterStep: async (step: GroupStep) => {
          if (step === 'commit-checked' && pause) {
            const p = pause;
            pause = undefined;
            p.reached();
            await p.gate;
          }
        },
      });
      const a = member();
      const b = member();
      await a.join();
      await b.join();
      await settle([a, b]);
      const [partition] = a.partitions();
      await a.commit([{ topic, partition, offset: 2n }]);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const reached = new Promise<void>((resolve) => (pause = { reached: resolve, gate }));
      const stale = a.commit([{ topic, partition, offset: 50n }]);
      await reached;
      // a stalls past its session while b stays alive; b takes the partition over from the committed offset
      clock.advance(6_000);
      await b.heartbeat();
      clock.advance(4_500);
      await groups.describe(group); // anyone's request makes the group notice
      await b.join();
      const takeover = b.assignments.find((x) => x.partition === partition);
      assert.equal(takeover?.committedOffset, 2n);
      release();
      await assert.rejects(stale, code('ILLEGAL_GENERATION'));
      assert.equal((await committed())[partition], 2n, 'the stale commit landed nowhere');
    });

    it('committed offsets never move backwards: a late, lower commit changes nothing', async () => {
      const { topic, member, committed } = await setup(1);
      const a = member();
      await a.join();
      assert.deepEqual(await a.commit([{ topic, partition: 0, offset: 10n }]), [{ topic, partition: 0, committedOffset: 10n }]);
      assert.deepEqual(await a.commit([{ topic, partition: 0, offset: 4n }]), [{ topic, partition: 0, committedOffset: 10n }]);
      assert.deepEqual(await a.commit([{ topic, partition: 0, offset: 10n }]), [{ topic, partition: 0, committedOffset: 10n }]);
      assert.equal((await committed())[0], 10n);
    });

    it('a member that leaves hands its partitions over at once', async () => {
      const { topic, member } = await setup(6);
      const [a, b, c] = [member(), member(), member()];
      for (const m of [a, b, c]) await m.join();
      await settle([a, b, c]);
      assertPartitioned([a, b, c], 6);
      await b.commit(b.partitions().map((partition) => ({ topic, partition, offset: 11n })));
      const keptByA = a.partitions();
      await b.leave();
      await b.leave(); // twice is fine
      await settle([a, c]);
      assertPartitioned([a, c], 6);
      for (const p of keptByA) assert.ok(a.partitions().includes(p), 'cooperative-sticky moves only the leaver\'s partitions');
      const inherited = [...a.assignments, ...c.assignments].filter((x) => x.committedOffset === 11n);
      assert.equal(inherited.length, 2);
      await assert.rejects(b.heartbeat(), code('UNKNOWN_MEMBER'));
      await assert.rejects(b.commit([{ topic, partition: 0, offset: 99n }]), code('ILLEGAL_GENERATION'));
    });

    it('static membership: a restart with the same instanceId keeps the assignment at once and fences the old member id', async () => {
      const { topic, member } = await setup(6);
      const a = member({ instanceId: 'pod-a' });
      const b = member({ instanceId: 'pod-b' });
      await a.join();
      await b.join();
      await settle([a, b]);
      const mine = a.partitions();
      const theirs = b.partitions();
      // a crashes without leaving and comes back as a new process
      const restarted = member({ instanceId: 'pod-a' });
      await restarted.join();
      assert.deepEqual(restarted.partitions(), mine);
      assert.deepEqual(restarted.revoking, []);
      await assert.rejects(a.heartbeat(), code('UNKNOWN_MEMBER'));
      await assert.rejects(a.commit([{ topic, partition: mine[0], offset: 1n }]), code('ILLEGAL_GENERATION'));
      await settle([restarted, b]);
      assert.deepEqual(b.partitions(), theirs, 'nothing moved for the others');
      assert.deepEqual(restarted.partitions(), mine);
      await restarted.commit([{ topic, partition: mine[0], offset: 1n }]);
    });

    it('a member that does not release its revoking partitions within its rebalance timeout loses them', async () => {
      const { topic, member } = await setup(4);
      const a = member({ rebalanceTimeoutMs: 5_000 });
      await a.join();
      const b = member({ rebalanceTimeoutMs: 5_000 });
      await b.join();
      await a.join();
      const moving = a.revoking.map((r) => r.partition);
      assert.equal(moving.length, 2);
      clock.advance(4_000);
      assert.equal((await b.heartbeat()).rebalance, false);
      clock.advance(2_000); // past the deadline; a is alive but stuck
      assert.equal((await b.heartbeat()).rebalance, true);
      await b.join();
      assert.deepEqual(b.partitions(), moving);
      await assert.rejects(a.commit(moving.map((partition) => ({ topic, partition, offset: 1n }))), code('ILLEGAL_GENERATION'));
      await settle([a, b]);
      assertPartitioned([a, b], 4);
    });

    it('range and roundrobin strategies; the first member picks, a different one is refused', async () => {
      for (const strategy of ['range', 'roundrobin'] as const) {
        const { member } = await setup(5);
        const ms = [member({ strategy }), member({ strategy }), member({ strategy })];
        for (const m of ms) await m.join();
        await settle(ms);
        assertPartitioned(ms, 5);
        const sizes = ms.map((m) => m.partitions().length).sort();
        assert.deepEqual(sizes, [1, 2, 2]);
        await assert.rejects(member({ strategy: 'cooperative-sticky' }).join(), code('INVALID_REQUEST'));
      }
    });

    it('describe reports members, committed offsets and lag; an unknown group is GROUP_NOT_FOUND', async () => {
      const { engine, topic, member, groups, group } = await setup(2);
      await engine.produce(topic, [append(0, ['a', 'b', 'c', 'd', 'e'])]);
      await engine.produce(topic, [append(1, ['x', 'y'])]);
      const a = member();
      await a.join();
      await a.commit([{ topic, partition: 0, offset: 3n }]);
      const d = await groups.describe(group);
      assert.equal(d.group, group);
      assert.equal(d.members.length, 1);
      assert.equal(d.members[0].memberId, a.memberId);
      assert.deepEqual(d.offsets, [
        { topic, partition: 0, committedOffset: 3n, endOffset: 5n, lag: 2n },
        { topic, partition: 1, committedOffset: null, endOffset: 2n, lag: null },
      ]);
      await assert.rejects(groups.describe('never-joined'), code('GROUP_NOT_FOUND'));
      // after everybody left, the group and its offsets remain
      await a.leave();
      const empty = await groups.describe(group);
      assert.deepEqual(empty.members, []);
      assert.deepEqual(empty.offsets, [{ topic, partition: 0, committedOffset: 3n, endOffset: 5n, lag: 2n }]);
      assert.ok((await groups.list()).includes(group));
    });

    it('offsets are reset only while the group is empty: earliest, latest, by timestamp, explicit; the next member starts there', async () => {
      const { engine, topic, member, groups, group, committed } = await setup(2);
      await engine.produce(topic, [append(0, ['a', 'b', 'c'], 1000)]);
      await engine.produce(topic, [append(0, ['d', 'e'], 2000)]);
      const a = member();
      await a.join();
      await a.commit([{ topic, partition: 0, offset: 4n }]);
      await assert.rejects(groups.resetOffsets(group, { topic, target: { to: 'earliest' } }), code('GROUP_NOT_EMPTY'));
      await a.leave();
      assert.deepEqual(await groups.resetOffsets(group, { topic, partitions: [0], target: { to: 'earliest' } }), [{ topic, partition: 0, committedOffset: 0n }]);
      assert.equal((await committed())[0], 0n, 'a reset may move backwards');
      assert.deepEqual((await groups.resetOffsets(group, { topic, target: { to: 'latest' } })).map((o) => o.committedOffset), [5n, 0n]);
      assert.deepEqual((await groups.resetOffsets(group, { topic, partitions: [0], target: { to: 'timestamp', timestamp: 2000 } }))[0].committedOffset, 3n);
      assert.deepEqual((await groups.resetOffsets(group, { topic, partitions: [0], target: { to: 'offset', offset: 99n } }))[0].committedOffset, 5n, 'clamped to the end');
      assert.deepEqual((await groups.resetOffsets(group, { topic, partitions: [0], target: { to: 'offset', offset: 2n } }))[0].committedOffset, 2n);
      await assert.rejects(groups.resetOffsets(group, { topic, partitions: [7], target: { to: 'earliest' } }), code('INVALID_REQUEST'));
      const b = member();
      await b.join();
      assert.deepEqual(b.assignments.map((x) => x.committedOffset), [2n, 0n]);
      // a reset of a group that never had members creates it
      assert.equal((await groups.resetOffsets(`${group}-fresh`, { topic, target: { to: 'latest' } })).length, 2);
      assert.equal((await groups.describe(`${group}-fresh`)).offsets[0].committedOffset, 5n);
    });

    it('a group is deleted only while it has no members, offsets and all; an unknown group is GROUP_NOT_FOUND', async () => {
      const { engine, topic, member, groups, group } = await setup(2);
      await engine.produce(topic, [append(0, ['a', 'b', 'c'])]);
      await assert.rejects(groups.deleteGroup('never-joined'), code('GROUP_NOT_FOUND'));
      const a = member();
      await a.join();
      await a.commit([{ topic, partition: 0, offset: 3n }]);
      await assert.rejects(groups.deleteGroup(group), code('GROUP_NOT_EMPTY'));
      clock.advance(11_000); // a's session runs out: an expired member does not keep the group alive
      await groups.deleteGroup(group);
      await assert.rejects(groups.describe(group), code('GROUP_NOT_FOUND'));
      assert.ok(!(await groups.list()).includes(group));
      await assert.rejects(groups.deleteGroup(group), code('GROUP_NOT_FOUND'), 'deleting twice');
      const items = [
        ...(await backend.metadata.query(`g#${group}`)),
        ...(await backend.metadata.query('groups', { gte: group, lt: `${group}~` })).filter((item) => item.sk === group),
      ];
      assert.deepEqual(items, [], 'nothing of the group is left');
      // joined again, it is a new group: nothing committed
      const b = member();
      await b.join();
      assert.equal(b.generation, 1);
      assert.deepEqual(b.assignments.map((x) => x.committedOffset), [null, null]);
      await b.leave();
      // a group reset while empty (so it has offsets but never had members) is deleted too
      await groups.resetOffsets(`${group}-reset`, { topic, target: { to: 'latest' } });
      await groups.deleteGroup(`${group}-reset`);
      await assert.rejects(groups.describe(`${group}-reset`), code('GROUP_NOT_FOUND'));
    });

    it('a member joining while its group is being deleted stops the deletion and keeps its claims', async () => {
      let joiner: SimMember | undefined;
      let armed = false;
      const { member, groups, group, topic } = await setup(2, {
        afterStep: async (step) => {
          // the deletion has just published its memberless generation: now a member joins
          if (step === 'head-written' && armed) {
            armed = false;
            await joiner!.join();
          }
        },
      });
      const a = member();
      await a.join();
      await a.commit([{ topic, partition: 1, offset: 0n }]);
      await a.leave();
      joiner = member();
      armed = true;
      await assert.rejects(groups.deleteGroup(group), code('GROUP_NOT_EMPTY'));
      assert.equal(joiner.assignments.length, 2, 'the joiner got every partition');
      await joiner.commit(joiner.assignments.map((x) => ({ topic, partition: x.partition, offset: 1n })));
      const d = await groups.describe(group);
      assert.deepEqual(d.members.map((m) => m.memberId), [joiner.memberId]);
      assert.deepEqual(d.offsets.map((o) => o.committedOffset), [1n, 1n]);
    });

    it('a member that changes its subscription starts a new generation', async () => {
      const { engine, topic, member } = await setup(2);
      const other = `${topic}-other`;
      await engine.topics.create(other, 3);
      const a = member();
      await a.join();
      const g = a.generation;
      const resubscribed = new SimMember(a.groups, a.group, { topics: [topic, other], sessionTimeoutMs: 10_000 });
      resubscribed.memberId = a.memberId;
      await resubscribed.join();
      assert.equal(resubscribed.generation, g + 1);
      assert.deepEqual(resubscribed.assignments.map((x) => `${x.topic}/${x.partition}`).sort(), [`${other}/0`, `${other}/1`, `${other}/2`, `${topic}/0`, `${topic}/1`]);
      await resubscribed.join();
      assert.equal(resubscribed.generation, g + 1, 'rejoining with no change changes nothing');
    });

    it('many members joining at once end in one generation with every partition owned once', async () => {
      const { member } = await setup(24);
      const ms = Array.from({ length: 12 }, () => member());
      await Promise.all(ms.map((m) => m.join()));
      await settle(ms);
      assertPartitioned(ms, 24);
      for (const m of ms) assert.equal(m.partitions().length, 2);
    });

    for (const step of ['lease-written', 'profile-written', 'state-written', 'head-written', 'partitions-claimed', 'share-written'] as GroupStep[]) {
      it(`a member that crashes during its join after ${step} leaves the group working`, async () => {
        let armed = false;
        const { engine, topic, member, groups, group } = await setup(4, {
          afterStep: (s) => {
            if (armed && s === step) {
              armed = false;
              throw new Crash(s);
            }
          },
        });
        const a = member();
        await a.join();
        await a.commit([{ topic, partition: 0, offset: 1n }]);
        armed = true;
        const crashing = member();
        await assert.rejects(crashing.join(), Crash);
        await settle([a]);
        // the crashed member may be in the roster holding partitions until it expires
        for (let i = 0; i < 4; i++) {
          clock.advance(3_000);
          await a.heartbeat();
        }
        await groups.describe(group);
        await settle([a]);
        assert.deepEqual(a.partitions(), [0, 1, 2, 3]);
        const d = await groups.describe(group);
        assert.equal(d.members.length, 1);
        assert.equal(d.offsets[0].committedOffset, 1n);
        for (const prefix of ['a#', 'm#']) {
          const left = await backend.metadata.query(`g#${group}`, { gte: prefix, lt: `${prefix}~` });
          assert.deepEqual(left.map((i) => i.sk.slice(2)), [a.memberId], 'the crashed member left no items');
        }
        // A state written by a crashed rebalance is removed by the next rebalance (before it, a publisher
        // may be about to point the head at a state like it, so nobody else may delete it).
        const c = member();
        await c.join();
        assert.equal((await backend.metadata.query(`g#${group}`, { gte: 's#', lt: 's#~' })).length, 1, 'old states removed');
        void engine;
      });
    }

    it('a topic deleted and created again starts with no committed offsets', async () => {
      const { engine, topic, member, groups, group } = await setup(2);
      const a = member();
      await a.join();
      await a.commit([{ topic, partition: 0, offset: 1n }]);
      await a.leave();
      await engine.topics.delete(topic);
      await engine.topics.create(topic, 2);
      const b = member();
      await b.join();
      assert.deepEqual(b.assignments.map((x) => x.committedOffset), [null, null]);
      assert.deepEqual((await groups.describe(group)).offsets.map((o) => o.committedOffset), [null, null]);
    });

    it('a member whose subscription would not fit in one state item is refused and leaves nothing behind', async () => {
      const { engine, topic, member, groups, group } = await setup(2);
      const a = member();
      await a.join();
      const huge = Array.from({ length: 40 }, (_, i) => `${topic}-huge${i}`);
      for (const name of huge) await engine.topics.create(name, 10_000);
      const greedy = new SimMember(groups, group, { topics: [topic, ...huge], sessionTimeoutMs: 10_000 });
      await assert.rejects(greedy.join(), code('INVALID_REQUEST'));
      assert.deepEqual((await groups.describe(group)).members.map((m) => m.memberId), [a.memberId]);
      const b = member();
      await b.join();
      await settle([a, b]);
      assertPartitioned([a, b], 2);
    });

    it('members keep working when one of their topics is deleted', async () => {
      const { engine, topic, groups, group } = await setup(2);
      const other = `${topic}-doomed`;
      await engine.topics.create(other, 2);
      const a = new SimMember(groups, group, { topics: [topic, other], sessionTimeoutMs: 10_000 });
      await a.join();
      assert.equal(a.assignments.length, 4);
      await engine.topics.delete(other);
      await a.join();
      assert.deepEqual(a.assignments.map((x) => `${x.topic}/${x.partition}`), [`${topic}/0`, `${topic}/1`]);
      assert.equal((await a.heartbeat()).rebalance, false);
      await assert.rejects(new SimMember(groups, group, { topics: [other], sessionTimeoutMs: 10_000 }).join(), code('TOPIC_NOT_FOUND'));
    });

    it('a generation whose head write landed but was answered as failed (an SDK retry) is kept, not deleted', async () => {
      const { engine, topic, member, groups, group } = await setup(2);
      const a = member();
      await a.join();
      let trip = true;
      const store = backend.metadata;
      const retrying = withPut(store, async (item, condition) => {
        await store.put(item, condition);
        if (trip && item.pk === `g#${group}` && item.sk === 'head') {
          trip = false;
          // the first attempt landed; the SDK's retry of it fails its condition
          throw new ConditionFailedError('conditional request failed (retry of an applied write)');
        }
      });
      const flaky = new Groups({ engine: new Engine({ objects: backend.objects, metadata: retrying, now: clock.now, topicCacheMs: 0 }), now: clock.now });
      const b = new SimMember(flaky, group, { topics: [topic], sessionTimeoutMs: 10_000 });
      await b.join();
      assert.equal(trip, false);
      await settle([a, b]);
      assertPartitioned([a, b], 2);
      assert.equal((await groups.describe(group)).members.length, 2);
      void engine;
    });

    it('a new member retrying its join with the same joinId (the answer was lost) is one member, not two', async () => {
      let crash = true;
      const { topic, groups, group } = await setup(2, {
        afterStep: (step) => {
          if (crash && step === 'share-written') {
            crash = false;
            throw new Crash('the answer is lost');
          }
        },
      });
      const request = { topics: [topic], sessionTimeoutMs: 10_000, joinId: 'join-0123456789abcdef' };
      await assert.rejects(groups.join(group, request), Crash);
      const retried = await groups.join(group, request);
      const again = await groups.join(group, request);
      assert.equal(again.memberId, retried.memberId);
      assert.equal(retried.assignments.length, 2);
      assert.deepEqual((await groups.describe(group)).members.map((m) => m.memberId), [retried.memberId]);
      const other = await groups.join(group, { ...request, joinId: 'join-fedcba9876543210' });
      assert.notEqual(other.memberId, retried.memberId);
      await assert.rejects(groups.join(group, { ...request, joinId: 'short' }), code('INVALID_REQUEST'));
    });

    it('refuses bad requests before writing anything', async () => {
      const { topic, groups, group } = await setup(1);
      await assert.rejects(groups.join('bad group!', { topics: [topic] }), code('INVALID_REQUEST'));
      await assert.rejects(groups.join(group, { topics: [] }), code('INVALID_REQUEST'));
      await assert.rejects(groups.join(group, { topics: ['no-such-topic'] }), code('TOPIC_NOT_FOUND'));
      await assert.rejects(groups.join(group, { topics: [topic], sessionTimeoutMs: 10 }), code('INVALID_REQUEST'));
      await assert.rejects(groups.join(group, { topics: [topic], strategy: 'sticky' as never }), code('INVALID_REQUEST'));
      await assert.rejects(groups.join(group, { topics: [topic], unknown: 1 } as never), code('INVALID_REQUEST'));
      await assert.rejects(groups.join(group, { topics: [topic], memberId: 'AAAAAAAAAAAAAAAA.10000' }), code('UNKNOWN_MEMBER'));
      await assert.rejects(groups.join(group, { topics: [topic], memberId: 'forged' }), code('UNKNOWN_MEMBER'));
      await assert.rejects(groups.heartbeat(group, 'forged', 0), code('UNKNOWN_MEMBER'));
      const offsets = [{ topic, partition: 0, offset: 1n }];
      await assert.rejects(groups.commit(group, { memberId: 'x', generation: 1, offsets: [...offsets, ...offsets] }), code('INVALID_REQUEST'));
      await assert.rejects(groups.commit(group, { memberId: 'x', generation: 1, offsets: [] }), code('INVALID_REQUEST'));
      assert.deepEqual(await backend.metadata.query(`g#${group}`), [], 'nothing was written');
    });
  });
}
