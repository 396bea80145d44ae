/** The assignment strategies and the generation transition, as pure functions. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assign, type Assignment, type AssignorMember, type AssignorTopic, type Strategy } from '../../lib/groups/assignors.ts';
import { decodeState, emptyState, encodeState, memberKey, nextState, shareOf, type RosterMember, type TopicRef } from '../../lib/groups/state.ts';
import { Rng } from './rng.ts';

const members = (...specs: Array<[string, string[]]>): AssignorMember[] => specs.map(([key, topics]) => ({ key, topics }));
const topics = (...specs: Array<[string, number]>): AssignorTopic[] => specs.map(([name, partitions]) => ({ name, partitions }));

/** member index → ["t0p1", ...] */
function byMember(assignment: Assignment, ts: AssignorTopic[], count: number): string[][] {
  const out: string[][] = Array.from({ length: count }, () => []);
  assignment.forEach((row, t) => row.forEach((m, p) => m >= 0 && out[m].push(`${ts[t].name}p${p}`)));
  return out;
}

function counts(assignment: Assignment, count: number): number[] {
  const out = new Array<number>(count).fill(0);
  for (const row of assignment) for (const m of row) if (m >= 0) out[m]++;
  return out;
}

/** Every partition of a subscribed topic has exactly one owner, and the owner subscribes to it. */
function assertValid(assignment: Assignment, ms: AssignorMember[], ts: AssignorTopic[]): void {
  ts.forEach((topic, t) => {
    const subscribed = ms.some((m) => m.topics.includes(topic.name));
    assert.equal(assignment[t].length, topic.partitions);
    for (const owner of assignment[t]) {
      if (!subscribed) assert.equal(owner, -1);
      else assert.ok(owner >= 0 && ms[owner].topics.includes(topic.name), `${topic.name} owned by a subscriber`);
    }
  });
}

describe('assignors', () => {
  it('range: contiguous ranges per topic, extras to the first members (Kafka RangeAssignor)', () => {
    const ms = members(['C0', ['t0', 't1']], ['C1', ['t0', 't1']]);
    const ts = topics(['t0', 3], ['t1', 3]);
    assert.deepEqual(byMember(assign('range', ms, ts), ts, 2), [['t0p0', 't0p1', 't1p0', 't1p1'], ['t0p2', 't1p2']]);
  });

  it('roundrobin: partitions in order to the next subscribed member (Kafka RoundRobinAssignor)', () => {
    const ms = members(['C0', ['t0', 't1']], ['C1', ['t0', 't1']]);
    const ts = topics(['t0', 3], ['t1', 3]);
    assert.deepEqual(byMember(assign('roundrobin', ms, ts), ts, 2), [['t0p0', 't0p2', 't1p1'], ['t0p1', 't1p0', 't1p2']]);
    // Kafka's documented example with different subscriptions
    const ms2 = members(['C0', ['t0']], ['C1', ['t0', 't1']], ['C2', ['t0', 't1', 't2']]);
    const ts2 = topics(['t0', 1], ['t1', 2], ['t2', 3]);
    assert.deepEqual(byMember(assign('roundrobin', ms2, ts2), ts2, 3), [['t0p0'], ['t1p0'], ['t1p1', 't2p0', 't2p1', 't2p2']]);
  });

  it('cooperative-sticky: balanced, and a joining member takes only the excess of the others', () => {
    const ts = topics(['a', 7], ['b', 5]);
    const three = members(['m1', ['a', 'b']], ['m2', ['a', 'b']], ['m3', ['a', 'b']]);
    const first = assign('cooperative-sticky', three, ts);
    assertValid(first, three, ts);
    assert.deepEqual(counts(first, 3).sort(), [4, 4, 4]);
    const four = [...three, { key: 'm4', topics: ['a', 'b'] }];
    const second = assign('cooperative-sticky', four, ts, first);
    assertValid(second, four, ts);
    assert.deepEqual(counts(second, 4).sort(), [3, 3, 3, 3]);
    let moved = 0;
    second.forEach((row, t) => row.forEach((m, p) => m !== first[t][p] && moved++));
    assert.equal(moved, 3, 'exactly the new member share moves');
    // the same inputs again change nothing (a rebalance with no membership change moves nothing)
    assert.deepEqual(assign('cooperative-sticky', four, ts, second), second);
  });

  it('cooperative-sticky: the partitions of a leaving member are the only ones that move', () => {
    const ts = topics(['a', 12]);
    const four = members(['m1', ['a']], ['m2', ['a']], ['m3', ['a']], ['m4', ['a']]);
    const before = assign('cooperative-sticky', four, ts);
    const leaver = 2;
    const remaining = four.filter((_, i) => i !== leaver);
    const carried = before.map((row) => row.map((m) => (m === leaver ? -1 : m > leaver ? m - 1 : m)));
    const after = assign('cooperative-sticky', remaining, ts, carried);
    assert.deepEqual(counts(after, 3), [4, 4, 4]);
    before[0].forEach((m, p) => {
      if (m !== leaver) assert.equal(remaining[after[0][p]].key, four[m].key, `partition ${p} stayed`);
    });
  });

  it('every strategy: valid and deterministic on random inputs; sticky within one of even where subscriptions are equal', () => {
    const rng = new Rng(7);
    for (let round = 0; round < 300; round++) {
      const ts = Array.from({ length: rng.int(1, 4) }, (_, i) => ({ name: `t${i}`, partitions: rng.int(1, 40) }));
      const uniform = rng.chance(0.5);
      const ms = Array.from({ length: rng.int(1, 12) }, (_, i) => ({
        key: `m${String(i).padStart(2, '0')}`,
        topics: uniform ? ts.map((t) => t.name) : ts.filter(() => rng.chance(0.6)).map((t) => t.name),
      }));
      const previous = ts.map((t) => Array.from({ length: t.partitions }, () => rng.int(-1, ms.length - 1)));
      for (const strategy of ['range', 'roundrobin', 'cooperative-sticky'] as Strategy[]) {
        const result = assign(strategy, ms, ts, previous);
        assertValid(result, ms, ts);
        assert.deepEqual(assign(strategy, ms, ts, previous), result, 'deterministic');
      }
      const sticky = assign('cooperative-sticky', ms, ts, previous);
      const c = counts(sticky, ms.length);
      if (uniform) assert.ok(Math.max(...c) - Math.min(...c) <= 1, `balanced: ${c}`);
      else {
        // nobody could take a partition from someone with two more
        sticky.forEach((row, t) =>
          row.forEach((owner) => {
            for (let m = 0; m < ms.length; m++) if (ms[m].topics.includes(ts[t].name)) assert.ok(c[m] + 1 >= c[owner]);
          }),
        );
      }
    }
  });

  it('100 members over 1,000 partitions: ten each; a 101st takes one from nine of them', () => {
    const ts = topics(['big', 1000]);
    const ms = Array.from({ length: 100 }, (_, i) => ({ key: `m${String(i).padStart(3, '0')}`, topics: ['big'] }));
    const result = assign('cooperative-sticky', ms, ts);
    const moreMembers = [...ms, { key: 'm999', topics: ['big'] }];
    const after = assign('cooperative-sticky', moreMembers, ts, result);
    assert.deepEqual(new Set(counts(result, 100)), new Set([10]));
    assert.deepEqual(new Set(counts(after, 101)), new Set([9, 10]));
    let moved = 0;
    after[0].forEach((m, p) => m !== result[0][p] && moved++);
    assert.equal(moved, 9);
  });
});

describe('generation transition', () => {
  const ref = (name: string, partitions: number): TopicRef => ({ name, id: `${name}-id`, partitions });
  const member = (id: string, topicNames: string[], instanceId?: string): RosterMember => ({
    id,
    key: memberKey(id, instanceId),
    ...(instanceId ? { instanceId } : {}),
    topics: topicNames,
    rebalanceTimeoutMs: 10_000,
  });

  it('keeps a moving partition with its old owner (revoking) until released, then hands it over', () => {
    const t = [ref('a', 4)];
    const g1 = nextState(emptyState('cooperative-sticky'), { strategy: 'cooperative-sticky', topics: t, members: [member('x', ['a'])], released: new Set(), now: 1000 });
    assert.deepEqual(shareOf(g1, 0).assignments.map((r) => r.partition), [0, 1, 2, 3]);
    const two = [member('x', ['a']), member('y', ['a'])];
    const g2 = nextState(g1, { strategy: 'cooperative-sticky', topics: t, members: two, released: new Set(), now: 2000 });
    const x = g2.members.findIndex((m) => m.id === 'x');
    const y = 1 - x;
    assert.equal(shareOf(g2, x).assignments.length, 2);
    assert.equal(shareOf(g2, x).revoking.length, 2);
    assert.equal(shareOf(g2, y).assignments.length, 0, 'nothing for the newcomer until x lets go');
    assert.deepEqual(g2.revokeBy, { 'm:x': 12_000 });
    // an unrelated rebalance keeps the original deadline
    const g3 = nextState(g2, { strategy: 'cooperative-sticky', topics: t, members: two, released: new Set(), now: 5000 });
    assert.deepEqual(g3.revokeBy, { 'm:x': 12_000 });
    const g4 = nextState(g3, { strategy: 'cooperative-sticky', topics: t, members: two, released: new Set(['m:x']), now: 6000 });
    assert.equal(shareOf(g4, y).assignments.length, 2);
    assert.equal(shareOf(g4, x).revoking.length, 0);
    assert.deepEqual(g4.revokeBy, {});
    // an owner that leaves hands over at once
    const g5 = nextState(g4, { strategy: 'cooperative-sticky', topics: t, members: [member('y', ['a'])], released: new Set(), now: 7000 });
    assert.equal(shareOf(g5, 0).assignments.length, 4);
  });

  it('a static member that restarts keeps its assignment under its new id', () => {
    const t = [ref('a', 6)];
    const g1 = nextState(emptyState('range'), { strategy: 'range', topics: t, members: [member('x1', ['a'], 'inst-x'), member('y', ['a'])], released: new Set(), now: 0 });
    const before = shareOf(g1, g1.members.findIndex((m) => m.id === 'x1')).assignments.map((r) => r.partition);
    const g2 = nextState(g1, { strategy: 'range', topics: t, members: [member('x2', ['a'], 'inst-x'), member('y', ['a'])], released: new Set(['i:inst-x']), now: 0 });
    const after = shareOf(g2, g2.members.findIndex((m) => m.id === 'x2'));
    assert.deepEqual(after.assignments.map((r) => r.partition), before);
    assert.equal(after.revoking.length, 0);
  });

  it('a topic created again under the same name starts a fresh assignment', () => {
    const g1 = nextState(emptyState('cooperative-sticky'), { strategy: 'cooperative-sticky', topics: [ref('a', 2)], members: [member('x', ['a']), member('y', ['a'])], released: new Set(), now: 0 });
    const recreated = { name: 'a', id: 'a-id-2', partitions: 2 };
    const g2 = nextState(g1, { strategy: 'cooperative-sticky', topics: [recreated], members: [member('x', ['a']), member('y', ['a'])], released: new Set(), now: 0 });
    assert.deepEqual(g2.revokeBy, {}, 'no handover of the old incarnation');
  });

  it('encodes compactly and round-trips: 100 members over 1,000 partitions in well under 400 KB', () => {
    const t = [ref('big', 1000)];
    let state = emptyState('cooperative-sticky');
    const roster = Array.from({ length: 100 }, (_, i) => member(`member-${String(i).padStart(3, '0')}-xxxxxxxxxx.30000`, ['big']));
    state = nextState(state, { strategy: 'cooperative-sticky', topics: t, members: roster.slice(0, 50), released: new Set(), now: 1 });
    state = nextState(state, { strategy: 'cooperative-sticky', topics: t, members: roster, released: new Set(), now: 2 });
    const text = encodeState(state);
    assert.deepEqual(decodeState(text), state);
    assert.ok(Buffer.byteLength(text) < 20_000, `${Buffer.byteLength(text)} bytes`);
  });
});
