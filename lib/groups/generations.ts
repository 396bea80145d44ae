/**
 * Generations: bringing a group's published generation up to date with its live members, by
 * compare-and-set on the head. Whoever serves a request that finds the group needing a change makes
 * it (there is no coordinator); a loser re-reads, and a winner includes every member whose lease it
 * saw, so a crowd joining at once lands in one generation.
 */
import { ConditionFailedError, SluiceError } from '../errors.ts';
import { DEFAULTS, LIMITS } from '../defaults.ts';
import type { Strategy } from './assignors.ts';
import { changingTooFast, GroupTooLargeError, type GroupsContext } from './context.ts';
import { generationState, groupHead, groupListing, memberLease, memberProfile, topicIndex, type GroupHead, type MemberLease } from './items.ts';
import { HEAD_SK, LEASE_PREFIX, PROFILE_PREFIX, STATE_PREFIX, groupPk, leaseSk, prefixRange, profileSk, randomNonce, stateSk } from './layout.ts';
import { decodeState, emptyState, encodeState, memberKey, nextState, revokeDeadline, sameRoster, sameTopics, type GroupState, type RosterMember, type TopicRef } from './state.ts';

/** The published generation as read: its state, and the head it came from (absent for a new group). */
export interface Loaded {
  readonly generation: number;
  readonly state: GroupState;
  readonly head?: GroupHead;
}

/** The members as their leases and profiles say, at one moment. */
export interface MemberView {
  /** Live members, by key. */
  readonly members: RosterMember[];
  /** The strategy of the earliest live member (a group with no members takes it). */
  readonly firstStrategy?: Strategy;
  readonly expired: string[];
  /** Older members with the instanceId of a newer one (static members restarted). */
  readonly replaced: string[];
  /** Profiles without a lease (a member half deleted). */
  readonly orphans: string[];
  readonly leases: Map<string, MemberLease>;
}

export class Generations {
  readonly #ctx: GroupsContext;

  constructor(ctx: GroupsContext) {
    this.#ctx = ctx;
  }

  /**
   * Brings the group's generation up to date with its members: drops expired and departed members,
   * takes in joined ones, releases revoking partitions (released by a rejoin, or past their
   * deadline), follows topics deleted or created again. Returns the current generation.
   */
  async rebalance(group: string): Promise<Loaded> {
    for (let attempt = 0; attempt < this.#ctx.maxAttempts; attempt++) {
      const now = this.#ctx.now();
      const loaded = await this.load(group);
      const view = await this.#view(group, now);
      const { state } = loaded;
      // Revoking partitions move on when their holder has released them (rejoined in this generation
      // after seeing them), or when its rebalance timeout has passed; a new generation is published for
      // that once every holder has released, or at once when one has run out of time.
      const revokers = Object.keys(state.revokeBy);
      const forced = revokers.filter((key) => state.revokeBy[key] <= now);
      const releasedKeys = revokers.filter((key) => {
        const lease = view.leases.get(state.members.find((m) => m.key === key)?.id ?? '');
        return lease !== undefined && lease.generation === loaded.generation && !lease.revoking;
      });
      const released = new Set([...forced, ...releasedKeys]);
      for (const member of view.members) {
        const before = state.members.find((m) => m.key === member.key);
        if (before && before.id !== member.id) released.add(member.key); // a static member restarted: nothing to wait for
      }
      const handover = forced.length > 0 || (revokers.length > 0 && revokers.every((key) => released.has(key)));
      const topics = await this.#resolveTopics(view.members);
      const unchanged = sameRoster(state.members, view.members) && sameTopics(state.topics, topics) && !handover;
      if (unchanged) {
        await this.#sweep(group, view, now);
        if (loaded.head && topicsCheckDue(loaded.head, now, this.#ctx.topicCheckMs)) await this.#recordTopicsChecked(group, loaded, now);
        return loaded;
      }
      const strategy = state.members.length > 0 ? state.strategy : (view.firstStrategy ?? state.strategy);
      const next = nextState(state, { strategy, topics, members: view.members, released, now });
      await this.#indexNewTopics(group, loaded, next);
      const published = await this.publish(group, loaded, next);
      if (published) {
        await this.afterPublish(group, loaded, next, published, view, now);
        return { generation: next.generation, state: next };
      }
      await backoff(attempt);
    }
    throw changingTooFast(group);
  }

  /** A generation with no members: a member joining from then on claims its partitions with a higher fence. */
  emptied(loaded: Loaded, now: number): GroupState {
    return nextState(loaded.state, { strategy: loaded.state.strategy, topics: [], members: [], released: new Set(), now });
  }

  async load(group: string): Promise<Loaded> {
    const pk = groupPk(group);
    for (let attempt = 0; attempt < 10; attempt++) {
      const head = groupHead.decode(await this.#ctx.metadata.get(pk, HEAD_SK));
      if (!head) return { generation: 0, state: emptyState(DEFAULTS.groupStrategy) };
      const item = await this.#ctx.metadata.get(pk, head.stateSk);
      if (item) return { generation: head.generation, state: decodeState(generationState.decode(item)), head };
      // A newer generation replaced that state between the two reads: read the head again.
    }
    throw changingTooFast(group);
  }

  /** Writes the state item, then moves the head to it. Returns the state's key, or undefined when another generation won. */
  async publish(group: string, loaded: Loaded, next: GroupState): Promise<string | undefined> {
    const pk = groupPk(group);
    const text = encodeState(next);
    if (Buffer.byteLength(text) > LIMITS.maxGroupStateBytes) throw new GroupTooLargeError(group, Buffer.byteLength(text));
    const sk = stateSk(next.generation, randomNonce());
    await this.#ctx.metadata.put(generationState.encode(group, sk, next.generation, text), { itemExists: false });
    await this.#ctx.afterStep('state-written', { group });
    try {
      await this.#ctx.metadata.put(
        groupHead.encode(group, {
          generation: next.generation,
          stateSk: sk,
          strategy: next.strategy,
          revokeDeadline: revokeDeadline(next),
          members: next.members.length,
          updatedAt: next.createdAt,
          topicsCheckedAt: 0,
        }),
        loaded.head ? { where: [groupHead.atGeneration(loaded.generation)] } : { itemExists: false },
      );
    } catch (error) {
      // The write may have been applied all the same: answered with a timeout, or retried by the SDK
      // after it landed (the retry then fails its condition). The head says who won.
      const head = groupHead.decode(await this.#ctx.metadata.get(pk, HEAD_SK).catch(() => undefined));
      if (head?.stateSk === sk) {
        await this.#ctx.afterStep('head-written', { group });
        return sk;
      }
      // Ours is garbage only once the head has moved past its generation: until then a write of ours
      // still on its way could land. Otherwise the next generation's publisher removes it.
      if (head && head.generation >= next.generation) await this.#ctx.metadata.delete(pk, sk).catch(() => {});
      if (!(error instanceof ConditionFailedError)) throw error;
      return undefined;
    }
    await this.#ctx.afterStep('head-written', { group });
    return sk;
  }

  /**
   * Records the partition count of each topic the next generation reads first, before it is published:
   * a partition above it with nothing committed is answered at its log start (Offsets.claim). Not
   * housekeeping that a later rebalance redoes — later generations know the topic and write nothing —
   * so a failure here fails the rebalance. The index keeps the count the group first read (a group
   * emptied and read again, or a count written by an attempt that did not publish, stays at or below
   * what the group read first).
   */
  async #indexNewTopics(group: string, loaded: Loaded, next: GroupState): Promise<void> {
    const known = new Set(loaded.state.topics.map((t) => `${t.name}\n${t.id}`));
    for (const topic of next.topics) if (!known.has(`${topic.name}\n${topic.id}`)) await this.indexTopic(group, topic);
  }

  /** Records the topic in the group's index with its partition count now, unless this incarnation of it is there already (that count stays). */
  async indexTopic(group: string, topic: TopicRef): Promise<void> {
    await this.#ctx.metadata.put(topicIndex.encode(group, { name: topic.name, topicId: topic.id, partitions: topic.partitions }), { where: [topicIndex.notYetFor(topic.id)] }).catch((error: unknown) => {
      if (!(error instanceof ConditionFailedError)) throw error; // recorded when the group first read this topic: keep that count
    });
  }

  /** Housekeeping after a new generation; every step is safe to repeat or to miss (the next rebalance redoes it). */
  async afterPublish(group: string, loaded: Loaded, next: GroupState, stateKey: string, view: MemberView | undefined, now: number): Promise<void> {
    const pk = groupPk(group);
    if (!loaded.head) await this.#ctx.metadata.put(groupListing.encode(group, now));
    // Older generations, and states of this generation that lost the race or whose writer crashed.
    for (const old of await this.#ctx.metadata.query(pk, { gte: STATE_PREFIX, lt: stateSk(next.generation + 1, '') })) {
      if (old.sk !== stateKey) await this.#ctx.metadata.delete(pk, old.sk);
    }
    if (view) await this.#sweep(group, view, now);
  }

  /**
   * A static member restarting: the member that had its instanceId is replaced now, not by comparing
   * join times (handlers' clocks differ). Deleting its lease fences it: its heartbeats find no lease,
   * its commits fail the lease check, and its in-flight commits fail the fence this member raises.
   */
  async fenceInstance(group: string, instanceId: string, memberId: string): Promise<void> {
    const pk = groupPk(group);
    for (const item of await this.#ctx.metadata.query(pk, prefixRange(PROFILE_PREFIX))) {
      const profile = memberProfile.decode(item)!;
      if (profile.memberId === memberId || profile.instanceId !== instanceId) continue;
      await this.#ctx.metadata.delete(pk, leaseSk(profile.memberId));
      await this.#ctx.metadata.delete(pk, profileSk(profile.memberId));
    }
  }

  async #view(group: string, now: number): Promise<MemberView> {
    const pk = groupPk(group);
    // Profiles first: a joiner writes its lease before its profile, so any profile seen here has its lease seen below.
    const profiles = new Map((await this.#ctx.metadata.query(pk, prefixRange(PROFILE_PREFIX))).map((item) => memberProfile.decode(item)!).map((p) => [p.memberId, p]));
    const leases = new Map((await this.#ctx.metadata.query(pk, prefixRange(LEASE_PREFIX))).map((item) => memberLease.decode(item)!).map((l) => [l.memberId, l]));
    const expired: string[] = [];
    const orphans = [...profiles.keys()].filter((id) => !leases.has(id));
    let live: Array<{ member: RosterMember; joinedAt: number; strategy?: Strategy }> = [];
    for (const [id, lease] of leases) {
      if (lease.leaseUntil <= now) {
        expired.push(id);
        continue;
      }
      const profile = profiles.get(id);
      if (!profile) continue; // joining: its profile comes next
      live.push({
        member: {
          id,
          key: memberKey(id, profile.instanceId),
          ...(profile.instanceId ? { instanceId: profile.instanceId } : {}),
          topics: [...profile.topics],
          rebalanceTimeoutMs: profile.rebalanceTimeoutMs || DEFAULTS.groupSessionTimeoutMs,
        },
        joinedAt: profile.joinedAt,
        strategy: profile.strategy,
      });
    }
    // Earliest first; of two live members with one instanceId the newer wins (a restart), the older is fenced.
    live.sort((a, b) => a.joinedAt - b.joinedAt || (a.member.id < b.member.id ? -1 : 1));
    const byKey = new Map<string, (typeof live)[number]>();
    const replaced: string[] = [];
    for (const entry of live) {
      const before = byKey.get(entry.member.key);
      if (before) replaced.push(before.member.id);
      byKey.set(entry.member.key, entry);
    }
    live = [...byKey.values()].sort((a, b) => a.joinedAt - b.joinedAt || (a.member.id < b.member.id ? -1 : 1)).slice(0, LIMITS.maxGroupMembers);
    return {
      members: live.map((entry) => entry.member).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      firstStrategy: live[0]?.strategy,
      expired,
      replaced,
      orphans,
      leases,
    };
  }

  async #resolveTopics(members: readonly RosterMember[]): Promise<TopicRef[]> {
    const names = [...new Set(members.flatMap((m) => m.topics))].sort();
    const topics: TopicRef[] = [];
    for (const name of names) {
      try {
        const topic = await this.#ctx.engine.topics.get(name);
        topics.push({ name, id: topic.id, partitions: topic.partitions });
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND')) throw error;
      }
    }
    return topics;
  }

  /** The topics were found as this generation has them: the next look is due an interval from now (best effort). */
  async #recordTopicsChecked(group: string, loaded: Loaded, now: number): Promise<void> {
    try {
      await this.#ctx.metadata.update(groupPk(group), HEAD_SK, { set: { topicsCheckedAt: BigInt(now) } }, { where: [groupHead.atGeneration(loaded.generation)] });
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error; // a newer generation was published meanwhile: it counts as a look
    }
  }

  /** Deletes the items of expired, replaced and half-deleted members. */
  async #sweep(group: string, view: MemberView, now: number): Promise<void> {
    const pk = groupPk(group);
    for (const id of view.expired) {
      try {
        await this.#ctx.metadata.delete(pk, leaseSk(id), { where: [memberLease.expiredBy(now)] });
      } catch (error) {
        if (error instanceof ConditionFailedError) continue; // renewed by a handler whose clock is behind ours
        throw error;
      }
      await this.#ctx.metadata.delete(pk, profileSk(id));
    }
    for (const id of view.replaced) {
      await this.#ctx.metadata.delete(pk, leaseSk(id));
      await this.#ctx.metadata.delete(pk, profileSk(id));
    }
    for (const id of view.orphans) await this.#ctx.metadata.delete(pk, profileSk(id));
  }
}

/** A group with members whose topics have not been looked at for `checkMs` (partitions added, a topic created again). */
export function topicsCheckDue(head: GroupHead, now: number, checkMs: number): boolean {
  return head.members > 0 && now - groupHead.topicsLookedAt(head) >= checkMs;
}

async function backoff(attempt: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 + attempt * 5)));
}
