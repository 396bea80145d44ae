/**
 * The consumer-group items as typed values, each with its encoding and the conditions written
 * against it (keys: layout.ts). The protocol (membership.ts, generations.ts, offsets.ts) reads and
 * writes these; attribute names appear nowhere else.
 *
 *   head        generation, state (sk of the state item), strategy, revokeDeadline, members, updatedAt
 *   state       state (the generation's JSON, state.ts), generation
 *   lease       leaseUntil, generation, revoking, watch
 *   profile     topics (JSON), rebalanceTimeoutMs, strategy, instanceId?, joinedAt, share (JSON)
 *   topic index topicId, partitions
 *   offset      owner, fence, topic, partition, committedOffset, committedAt
 *   listing     createdAt
 */
import type { Clause, Item, Scalar } from '../storage/ports.ts';
import type { Strategy } from './assignors.ts';
import type { PartitionRef } from './state.ts';
import { GROUPS_PK, HEAD_SK, LEASE_PREFIX, PROFILE_PREFIX, TOPIC_PREFIX, groupPk, leaseSk, offsetsPk, partitionSk, profileSk, topicSk } from './layout.ts';

function big(item: Item | undefined, name: string): bigint | undefined {
  const value = item?.[name];
  return typeof value === 'bigint' ? value : undefined;
}

function num(item: Item | undefined, name: string): number | undefined {
  const value = big(item, name);
  return value === undefined ? undefined : Number(value);
}

function str(item: Item | undefined, name: string): string | undefined {
  const value = item?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Sets only the fields given, as bigint where the store keeps integers. */
function changes(fields: Readonly<Record<string, string | number | bigint | boolean | undefined>>): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) out[name] = typeof value === 'number' ? BigInt(value) : value;
  }
  return out;
}

// ── head: g#<group> / head ─────────────────────────────────────────────────────────────────────────

/** The small item every heartbeat reads; moved only by compare-and-set on its generation. */
export interface GroupHead {
  readonly generation: number;
  /** The sort key of the state item this generation published. */
  readonly stateSk: string;
  readonly strategy: Strategy;
  /** When the members giving partitions up must have released them (epoch ms); 0: nothing revoking. */
  readonly revokeDeadline: number;
  readonly members: number;
  readonly updatedAt: number;
  /** When a rebalance last found the group's topics as its generation has them (0: not since it was published). */
  readonly topicsCheckedAt: number;
}

export const groupHead = {
  decode(item: Item | undefined): GroupHead | undefined {
    if (!item) return undefined;
    return {
      generation: num(item, 'generation') ?? 0,
      stateSk: str(item, 'state') ?? '',
      strategy: str(item, 'strategy') as Strategy,
      revokeDeadline: num(item, 'revokeDeadline') ?? 0,
      members: num(item, 'members') ?? 0,
      updatedAt: num(item, 'updatedAt') ?? 0,
      topicsCheckedAt: num(item, 'topicsCheckedAt') ?? 0,
    };
  },
  encode(group: string, head: GroupHead): Item {
    return {
      pk: groupPk(group),
      sk: HEAD_SK,
      ...changes({
        generation: head.generation,
        state: head.stateSk,
        strategy: head.strategy,
        revokeDeadline: head.revokeDeadline,
        members: head.members,
        updatedAt: head.updatedAt,
        topicsCheckedAt: head.topicsCheckedAt || undefined,
      }),
    };
  },
  /** When the group's topics were last looked at: published, or checked since. */
  topicsLookedAt(head: GroupHead): number {
    return Math.max(head.updatedAt, head.topicsCheckedAt);
  },
  /** The head still names this generation. */
  atGeneration(generation: number): Clause {
    return { attr: 'generation', op: '=', value: BigInt(generation) };
  },
};

// ── state: g#<group> / s#<generation>#<nonce> ──────────────────────────────────────────────────────

export const generationState = {
  encode(group: string, sk: string, generation: number, state: string): Item {
    return { pk: groupPk(group), sk, state, generation: BigInt(generation) };
  },
  /** The state's JSON text (state.ts decodes it). */
  decode(item: Item): string {
    return str(item, 'state') ?? '';
  },
};

// ── lease: g#<group> / m#<memberId> ───────────────────────────────────────────────────────────────

/** A member's lease: rewritten by every heartbeat, so kept to one write unit. */
export interface MemberLease {
  readonly memberId: string;
  /** Epoch ms; deliberately not the stores' `expiresAt` TTL attribute. */
  readonly leaseUntil: number;
  /** The generation it last joined. */
  readonly generation: number;
  /** Holds partitions to give up; false once released. */
  readonly revoking: boolean;
  /** The member whose lease this one checks on heartbeats ('' when alone). */
  readonly watch: string;
}

export const memberLease = {
  decode(item: Item | undefined): MemberLease | undefined {
    if (!item) return undefined;
    return {
      memberId: item.sk.startsWith(LEASE_PREFIX) ? item.sk.slice(LEASE_PREFIX.length) : item.sk,
      leaseUntil: num(item, 'leaseUntil') ?? 0,
      generation: num(item, 'generation') ?? 0,
      revoking: item.revoking === true,
      watch: str(item, 'watch') ?? '',
    };
  },
  encode(group: string, lease: MemberLease): Item {
    return { pk: groupPk(group), sk: leaseSk(lease.memberId), ...memberLease.set(lease) };
  },
  set(fields: Partial<Omit<MemberLease, 'memberId'>>): Record<string, Scalar> {
    return changes({ leaseUntil: fields.leaseUntil, generation: fields.generation, revoking: fields.revoking, watch: fields.watch });
  },
  aliveAt(now: number): Clause {
    return { attr: 'leaseUntil', op: '>', value: BigInt(now) };
  },
  expiredBy(now: number): Clause {
    return { attr: 'leaseUntil', op: '<=', value: BigInt(now) };
  },
  generationIs(generation: number): Clause {
    return { attr: 'generation', op: '=', value: BigInt(generation) };
  },
  generationAtMost(generation: number): Clause {
    return { attr: 'generation', op: '<=', value: BigInt(generation) };
  },
};

/** Alive at `now`: present and not yet expired. */
export function isAlive(lease: MemberLease | undefined, now: number): lease is MemberLease {
  return lease !== undefined && lease.leaseUntil > now;
}

// ── profile: g#<group> / a#<memberId> ─────────────────────────────────────────────────────────────

/** What a member asked for when it joined; rewritten only when that changes. */
export interface MemberSettings {
  readonly topics: readonly string[];
  readonly rebalanceTimeoutMs: number;
  readonly strategy: Strategy;
}

export interface MemberProfile extends MemberSettings {
  readonly memberId: string;
  readonly instanceId?: string;
  readonly joinedAt: number;
  /** The partitions it may commit (owned and revoking), as encodeShare wrote them; absent before its first share. */
  readonly share?: string;
}

export const memberProfile = {
  decode(item: Item | undefined): MemberProfile | undefined {
    if (!item) return undefined;
    const instanceId = str(item, 'instanceId');
    const share = str(item, 'share');
    return {
      memberId: item.sk.startsWith(PROFILE_PREFIX) ? item.sk.slice(PROFILE_PREFIX.length) : item.sk,
      topics: JSON.parse(str(item, 'topics') ?? '[]') as string[],
      rebalanceTimeoutMs: num(item, 'rebalanceTimeoutMs') ?? 0,
      strategy: str(item, 'strategy') as Strategy,
      ...(instanceId ? { instanceId } : {}),
      joinedAt: num(item, 'joinedAt') ?? 0,
      ...(share !== undefined ? { share } : {}),
    };
  },
  encode(group: string, profile: MemberProfile): Item {
    return {
      pk: groupPk(group),
      sk: profileSk(profile.memberId),
      ...memberProfile.settings(profile),
      ...(profile.instanceId ? { instanceId: profile.instanceId } : {}),
      joinedAt: BigInt(profile.joinedAt),
      ...(profile.share !== undefined ? { share: profile.share } : {}),
    };
  },
  settings(settings: MemberSettings): Record<string, Scalar> {
    return { topics: JSON.stringify(settings.topics), rebalanceTimeoutMs: BigInt(settings.rebalanceTimeoutMs), strategy: settings.strategy };
  },
  share(share: string): Record<string, Scalar> {
    return { share };
  },
};

export function sameSettings(a: MemberSettings, b: MemberSettings): boolean {
  return JSON.stringify(a.topics) === JSON.stringify(b.topics) && a.rebalanceTimeoutMs === b.rebalanceTimeoutMs && a.strategy === b.strategy;
}

/** A member's share as its profile stores it: the partitions it may commit, by topic. */
export function encodeShare(assignments: readonly PartitionRef[], revoking: readonly PartitionRef[]): string {
  const byTopic = (refs: readonly PartitionRef[]) => {
    const topics = new Map<string, [string, string, number[]]>();
    for (const ref of refs) {
      let entry = topics.get(ref.topic);
      if (!entry) topics.set(ref.topic, (entry = [ref.topic, ref.topicId, []]));
      entry[2].push(ref.partition);
    }
    return [...topics.values()];
  };
  return JSON.stringify({ owned: byTopic(assignments), revoking: byTopic(revoking) });
}

type StoredShare = { owned?: Array<[string, string, number[]]>; revoking?: Array<[string, string, number[]]> };

/** "topic\npartition" → topic id, for every partition the member may commit. */
export function decodeShare(text: string | undefined): Map<string, string> {
  const raw = JSON.parse(text ?? '{}') as StoredShare;
  const out = new Map<string, string>();
  for (const [topic, topicId, partitions] of [...(raw.owned ?? []), ...(raw.revoking ?? [])]) for (const p of partitions) out.set(`${topic}\n${p}`, topicId);
  return out;
}

/** The share with its revoking partitions released. */
export function withoutRevoking(text: string | undefined): string {
  const raw = JSON.parse(text ?? '{}') as StoredShare;
  return JSON.stringify({ owned: raw.owned ?? [], revoking: [] });
}

// ── topic index: g#<group> / t#<topic> ────────────────────────────────────────────────────────────

/** A topic the group has subscribed to, so describe and delete find offsets no member subscribes to any more. */
export interface TopicIndexEntry {
  readonly name: string;
  readonly topicId: string;
  /** 0 when not recorded. */
  readonly partitions: number;
}

export const topicIndex = {
  decode(item: Item): TopicIndexEntry {
    return { name: item.sk.slice(TOPIC_PREFIX.length), topicId: str(item, 'topicId') ?? '', partitions: num(item, 'partitions') ?? 0 };
  },
  encode(group: string, entry: TopicIndexEntry): Item {
    return { pk: groupPk(group), sk: topicSk(entry.name), topicId: entry.topicId, partitions: BigInt(entry.partitions) };
  },
  /**
   * The item names no entry of this topic incarnation yet: the first generation that reads a topic
   * records its partition count then, and later ones leave it (partitions above it were added since).
   */
  notYetFor(topicId: string): Clause {
    return { anyOf: [{ attr: 'topicId', op: 'notExists' }, { attr: 'topicId', op: '<>', value: topicId }] };
  },
};

// ── offset: go#<group>#<topicId>#<bucket> / p#<partition> ─────────────────────────────────────────

/** A partition's ownership and committed offset. */
export interface PartitionOffset {
  /** The member that claimed it ('' after a reset). */
  readonly owner?: string;
  /** The generation in which the owner claimed it; commits of older generations fail on it. */
  readonly fence?: number;
  readonly partition?: number;
  readonly committedOffset?: bigint;
}

export const partitionOffset = {
  key(group: string, topicId: string, partition: number): { pk: string; sk: string } {
    return { pk: offsetsPk(group, topicId, partition), sk: partitionSk(partition) };
  },
  decode(item: Item | undefined): PartitionOffset | undefined {
    if (!item) return undefined;
    const owner = str(item, 'owner');
    const fence = num(item, 'fence');
    const partition = num(item, 'partition');
    const committedOffset = big(item, 'committedOffset');
    return {
      ...(owner !== undefined ? { owner } : {}),
      ...(fence !== undefined ? { fence } : {}),
      ...(partition !== undefined ? { partition } : {}),
      ...(committedOffset !== undefined ? { committedOffset } : {}),
    };
  },
  claim(memberId: string, generation: number, topic: string, partition: number): Record<string, Scalar> {
    return changes({ owner: memberId, fence: generation, topic, partition });
  },
  commit(offset: bigint, now: number): Record<string, Scalar> {
    return changes({ committedOffset: offset, committedAt: now });
  },
  /** A reset: owned by nobody, fenced at the reset's generation. */
  reset(offset: bigint, now: number, generation: number, topic: string, partition: number): Record<string, Scalar> {
    return changes({ committedOffset: offset, committedAt: now, owner: '', fence: generation, topic, partition });
  },
  /** Never claimed, or claimed in this generation or an older one. */
  fenceAtMost(generation: number): Clause {
    return { anyOf: [{ attr: 'fence', op: 'notExists' }, { attr: 'fence', op: '<=', value: BigInt(generation) }] };
  },
  ownedBy(memberId: string, generation: number): Clause[] {
    return [
      { attr: 'owner', op: '=', value: memberId },
      { attr: 'fence', op: '<=', value: BigInt(generation) },
    ];
  },
  /** Committed offsets never move back. */
  committedAtMost(offset: bigint): Clause {
    return { anyOf: [{ attr: 'committedOffset', op: 'notExists' }, { attr: 'committedOffset', op: '<=', value: offset }] };
  },
};

// ── listing: groups / <group> ─────────────────────────────────────────────────────────────────────

export const groupListing = {
  encode(group: string, createdAt: number): Item {
    return { pk: GROUPS_PK, sk: group, createdAt: BigInt(createdAt) };
  },
  decode(item: Item): { group: string; createdAt: bigint } {
    return { group: item.sk, createdAt: big(item, 'createdAt') ?? 0n };
  },
  /** Still the listing written at createdAt (not one a join wrote anew). */
  createdAt(createdAt: bigint): Clause {
    return { attr: 'createdAt', op: '=', value: createdAt };
  },
};
