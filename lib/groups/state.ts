/**
 * The state of one group generation, and how the next generation follows from it. Pure functions:
 * the protocol (groups.ts) stores the result, immutable, and points the group head at it.
 *
 * Each generation holds two assignments:
 *   target  where the strategy wants every partition (assignors.ts);
 *   owned   who holds it in this generation, the only member that may consume and commit it.
 * They differ while a partition is being handed over between two live members: the old owner keeps
 * it, marked revoking, until it has committed and released it (by rejoining), or until its
 * rebalance timeout passes; the new owner gets it in the generation after that. So no partition has
 * two owners in one generation, and the old owner can commit its progress on revoke (Kafka's
 * incremental cooperative rebalancing). A partition whose owner left or expired goes straight to
 * its target.
 */
import { assign, type Assignment, type Strategy } from './assignors.ts';

export interface TopicRef {
  readonly name: string;
  /** The topic's incarnation: offsets are kept per id. */
  readonly id: string;
  readonly partitions: number;
}

export interface RosterMember {
  readonly id: string;
  /** Identity across restarts: `i:<instanceId>` for static members, else `m:<memberId>`. Sort order. */
  readonly key: string;
  readonly instanceId?: string;
  /** Subscribed topic names, sorted. */
  readonly topics: readonly string[];
  readonly rebalanceTimeoutMs: number;
}

export interface GroupState {
  readonly generation: number;
  readonly strategy: Strategy;
  /** Every topic some member subscribes to (and that exists), sorted by name. */
  readonly topics: readonly TopicRef[];
  /** Sorted by key. Indexes into this list are what the assignments hold. */
  readonly members: readonly RosterMember[];
  readonly target: Assignment;
  readonly owned: Assignment;
  /** Member key → the time by which it must release its revoking partitions. */
  readonly revokeBy: Readonly<Record<string, number>>;
  readonly createdAt: number;
}

export interface PartitionRef {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
}

export interface Share {
  /** Owned and not revoking: consume these. */
  readonly assignments: PartitionRef[];
  /** Owned in this generation but moving away: commit, stop, rejoin. */
  readonly revoking: PartitionRef[];
  /** Moving to this member, still held by their previous owner until it has committed and released them. */
  readonly pending: PartitionRef[];
}

export function memberKey(memberId: string, instanceId?: string): string {
  return instanceId ? `i:${instanceId}` : `m:${memberId}`;
}

export function emptyState(strategy: Strategy): GroupState {
  return { generation: 0, strategy, topics: [], members: [], target: [], owned: [], revokeBy: {}, createdAt: 0 };
}

export interface NextInput {
  readonly strategy: Strategy;
  readonly topics: readonly TopicRef[];
  readonly members: readonly RosterMember[];
  /** Keys of members whose revoking partitions go to their targets now (released, timed out, replaced). */
  readonly released: ReadonlySet<string>;
  readonly now: number;
}

export function nextState(previous: GroupState, input: NextInput): GroupState {
  const members = [...input.members].sort((a, b) => compare(a.key, b.key));
  const topics = [...input.topics].sort((a, b) => compare(a.name, b.name));
  const index = new Map(members.map((member, i) => [member.key, i]));
  const previousTopic = new Map(previous.topics.map((topic, t) => [topic.name, { topic, t }]));
  /** The previous assignment `of`, in the new member indexes, for a topic of the same incarnation. */
  const carried = (of: Assignment): Assignment =>
    topics.map((topic) => {
      const before = previousTopic.get(topic.name);
      return Array.from({ length: topic.partitions }, (_, p) => {
        if (!before || before.topic.id !== topic.id) return -1;
        const owner = of[before.t]?.[p] ?? -1;
        return owner < 0 ? -1 : (index.get(previous.members[owner]?.key ?? '') ?? -1);
      });
    });
  const target = assign(input.strategy, members, topics, carried(previous.target));
  const before = carried(previous.owned);
  const owned = topics.map((topic, t) =>
    target[t].map((to, p) => {
      const holder = before[t][p];
      const keeps = holder >= 0 && holder !== to && members[holder].topics.includes(topic.name) && !input.released.has(members[holder].key);
      return keeps ? holder : to;
    }),
  );
  const revokeBy: Record<string, number> = {};
  owned.forEach((row, t) =>
    row.forEach((holder, p) => {
      if (holder < 0 || holder === target[t][p]) return;
      const { key, rebalanceTimeoutMs } = members[holder];
      revokeBy[key] ??= input.released.has(key) ? input.now + rebalanceTimeoutMs : (previous.revokeBy[key] ?? input.now + rebalanceTimeoutMs);
    }),
  );
  return { generation: previous.generation + 1, strategy: input.strategy, topics, members, target, owned, revokeBy, createdAt: input.now };
}

export function shareOf(state: GroupState, memberIndex: number): Share {
  const assignments: PartitionRef[] = [];
  const revoking: PartitionRef[] = [];
  const pending: PartitionRef[] = [];
  state.owned.forEach((row, t) =>
    row.forEach((holder, partition) => {
      const targeted = state.target[t][partition] === memberIndex;
      if (holder !== memberIndex && !targeted) return;
      const ref = { topic: state.topics[t].name, topicId: state.topics[t].id, partition };
      (holder !== memberIndex ? pending : targeted ? assignments : revoking).push(ref);
    }),
  );
  return { assignments, revoking, pending };
}

/** The earliest revocation deadline, or 0 when nothing is being handed over. */
export function revokeDeadline(state: GroupState): number {
  const deadlines = Object.values(state.revokeBy);
  return deadlines.length === 0 ? 0 : Math.min(...deadlines);
}

export function sameRoster(a: readonly RosterMember[], b: readonly RosterMember[]): boolean {
  return (
    a.length === b.length &&
    a.every((m, i) => m.id === b[i].id && m.key === b[i].key && m.rebalanceTimeoutMs === b[i].rebalanceTimeoutMs && m.topics.join('\n') === b[i].topics.join('\n'))
  );
}

export function sameTopics(a: readonly TopicRef[], b: readonly TopicRef[]): boolean {
  return a.length === b.length && a.every((t, i) => t.name === b[i].name && t.id === b[i].id && t.partitions === b[i].partitions);
}

/**
 * Compact JSON: subscriptions are shared between members, and `owned` is stored as its differences
 * from `target` (usually none). 100 members over 1,000 partitions take about 9 KB.
 */
export function encodeState(state: GroupState): string {
  const subscriptions: string[] = [];
  const subscriptionIndex = new Map<string, number>();
  const members = state.members.map((m) => {
    const text = m.topics.join('\n');
    let s = subscriptionIndex.get(text);
    if (s === undefined) {
      s = subscriptions.length;
      subscriptions.push(text);
      subscriptionIndex.set(text, s);
    }
    return [m.id, m.instanceId ?? null, s, m.rebalanceTimeoutMs];
  });
  const handovers: Array<[number, number, number]> = [];
  state.owned.forEach((row, t) => row.forEach((holder, p) => holder !== state.target[t][p] && handovers.push([t, p, holder])));
  return JSON.stringify({
    v: 1,
    g: state.generation,
    s: state.strategy,
    c: state.createdAt,
    t: state.topics.map((t) => [t.name, t.id, t.partitions]),
    subs: subscriptions.map((text) => (text === '' ? [] : text.split('\n'))),
    m: members,
    a: state.target,
    h: handovers,
    r: state.revokeBy,
  });
}

export function decodeState(text: string): GroupState {
  const raw = JSON.parse(text) as {
    g: number;
    s: Strategy;
    c: number;
    t: Array<[string, string, number]>;
    subs: string[][];
    m: Array<[string, string | null, number, number]>;
    a: Assignment;
    h: Array<[number, number, number]>;
    r: Record<string, number>;
  };
  const owned = raw.a.map((row) => [...row]);
  for (const [t, p, holder] of raw.h) owned[t][p] = holder;
  return {
    generation: raw.g,
    strategy: raw.s,
    createdAt: raw.c,
    topics: raw.t.map(([name, id, partitions]) => ({ name, id, partitions })),
    members: raw.m.map(([id, instanceId, s, rebalanceTimeoutMs]) => ({
      id,
      key: memberKey(id, instanceId ?? undefined),
      ...(instanceId ? { instanceId } : {}),
      topics: raw.subs[s],
      rebalanceTimeoutMs,
    })),
    target: raw.a,
    owned,
    revokeBy: raw.r,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
