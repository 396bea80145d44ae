/**
 * Membership: joining, heartbeats, leaving.
 *
 *  join       a new member writes its lease and profile; then any join rebalances (generations.ts) and
 *             the member claims its partitions (offsets.ts) and records its share and generation (a
 *             rejoin that changes nothing else writes only its lease). A new member may send a joinId:
 *             its member id is derived from it, so a retried join finds its first attempt's member
 *             instead of leaving an orphan behind.
 *  release    a member told to give partitions up (revoking) commits them and rejoins: that marks its
 *             lease released. When every member giving partitions up has released them (or one has run
 *             past its rebalance timeout), the next rebalance publishes the generation that hands them
 *             over: one handover round per membership change, as in Kafka's cooperative protocol.
 *  heartbeat  one conditional write on the member's own lease (leaseUntil := now + session timeout, if
 *             not yet expired) and a read of the head: `rebalance` when the member is behind the head's
 *             generation or holds revoking partitions. It also looks at one other member's lease (the
 *             next one in the roster), so an expired member is noticed without a coordinator, and
 *             rebalances when the group's topics were last looked at groupTopicCheckMs ago (partitions
 *             added to a topic come in then: generations.ts).
 *  leave      deletes the lease and profile, then rebalances (the leaver's partitions move at once).
 */
import { ConditionFailedError, SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import type { Strategy } from './assignors.ts';
import { changingTooFast, GroupTooLargeError, unknownMember, type GroupsContext } from './context.ts';
import { topicsCheckDue, type Generations, type Loaded } from './generations.ts';
import { encodeShare, groupHead, isAlive, memberLease, memberProfile, sameSettings, withoutRevoking, type MemberSettings } from './items.ts';
import { HEAD_SK, groupPk, leaseSk, newMemberId, profileSk, sessionTimeoutOf } from './layout.ts';
import type { AssignedPartition, Offsets, TopicPartition } from './offsets.ts';
import { shareOf, type PartitionRef } from './state.ts';

/** A join as the contract's JoinGroupRequest has it, after validation. */
export interface ValidJoin {
  readonly topics: readonly string[];
  readonly memberId?: string;
  readonly joinId?: string;
  readonly instanceId?: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs?: number;
  readonly strategy: Strategy;
}

export interface JoinResult {
  readonly memberId: string;
  readonly generation: number;
  /** Consume these, from committedOffset. */
  readonly assignments: AssignedPartition[];
  /** Still this member's in this generation but moving away: commit them, stop, then rejoin to release them. */
  readonly revoking: TopicPartition[];
  /**
   * Moving to this member, still held by their previous owners until they have committed and released
   * them: a generation handing them over follows, so heartbeat soon to rejoin for it.
   */
  readonly pending: TopicPartition[];
}

export interface HeartbeatResult {
  readonly generation: number;
  /** Rejoin: the generation moved on, or this member holds revoking partitions to release. */
  readonly rebalance: boolean;
}

export class Membership {
  readonly #ctx: GroupsContext;
  readonly #generations: Generations;
  readonly #offsets: Offsets;

  constructor(ctx: GroupsContext, generations: Generations, offsets: Offsets) {
    this.#ctx = ctx;
    this.#generations = generations;
    this.#offsets = offsets;
  }

  async join(group: string, req: ValidJoin): Promise<JoinResult> {
    const { metadata } = this.#ctx;
    const topics = [...new Set(req.topics)].sort();
    // A new member's topics must exist (TOPIC_NOT_FOUND before anything is written); a member already in
    // the group keeps working when one of its topics is deleted: it just gets no partitions of it.
    if (req.memberId === undefined) for (const topic of topics) await this.#ctx.engine.topics.get(topic);
    const pk = groupPk(group);
    const head = groupHead.decode(await metadata.get(pk, HEAD_SK));
    if ((head?.members ?? 0) > 0 && head?.strategy !== req.strategy) {
      throw new SluiceError('INVALID_REQUEST', `group ${group} uses the ${head?.strategy} strategy, not ${req.strategy}`, { details: { field: 'strategy' } });
    }
    const headGeneration = head?.generation ?? 0;
    const settings: MemberSettings = { topics, rebalanceTimeoutMs: req.rebalanceTimeoutMs ?? req.sessionTimeoutMs, strategy: req.strategy };
    let memberId: string;
    let timeout: number;
    /** The share as the member's profile holds it, so an unchanged share is not written again. */
    let recordedShare: string | undefined;
    /** Set when this member has released its revoking partitions in that generation. */
    let releasedIn: number | undefined;
    if (req.memberId !== undefined) {
      memberId = req.memberId;
      const fromId = sessionTimeoutOf(memberId);
      if (fromId === undefined) throw unknownMember(memberId);
      timeout = fromId;
      const [lease, stored] = await Promise.all([metadata.get(pk, leaseSk(memberId)).then(memberLease.decode), metadata.get(pk, profileSk(memberId)).then(memberProfile.decode)]);
      const now = this.#ctx.now();
      if (!isAlive(lease, now) || !stored) throw unknownMember(memberId);
      try {
        if (!sameSettings(stored, settings)) await metadata.update(pk, profileSk(memberId), { set: memberProfile.settings(settings) }, { itemExists: true });
        recordedShare = stored.share;
        if (lease.revoking && lease.generation === headGeneration) {
          // A rejoin after seeing revoking partitions releases them: they leave its share now, and move to
          // their new owners in the next generation, published once every member giving some up has
          // released (or its rebalance timeout has passed), so one handover round serves them all.
          recordedShare = withoutRevoking(recordedShare);
          await metadata.update(pk, profileSk(memberId), { set: memberProfile.share(recordedShare) }, { itemExists: true });
          await metadata.update(
            pk,
            leaseSk(memberId),
            { set: memberLease.set({ revoking: false, leaseUntil: now + timeout }) },
            { where: [memberLease.aliveAt(now), memberLease.generationIs(lease.generation)] },
          );
          await this.#ctx.afterStep('released', { group, memberId });
        }
        if (!lease.revoking || lease.generation === headGeneration) releasedIn = lease.generation;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        // Gone or expired; or a write here landed and its retry failed its condition: then carry on.
        const again = memberLease.decode(await metadata.get(pk, leaseSk(memberId)));
        if (!isAlive(again, this.#ctx.now())) throw unknownMember(memberId);
        if (!again.revoking && again.generation === lease.generation) releasedIn = lease.generation;
      }
    } else {
      if ((head?.members ?? 0) >= LIMITS.maxGroupMembers) {
        throw new SluiceError('INVALID_REQUEST', `group ${group} has the maximum of ${LIMITS.maxGroupMembers} members`);
      }
      timeout = req.sessionTimeoutMs;
      memberId = req.joinId === undefined ? newMemberId(timeout) : await memberIdFor(group, req.joinId, timeout);
      const now = this.#ctx.now();
      // Lease before profile (and list profiles before leases): a profile never looks orphaned while its member joins.
      try {
        await metadata.put(memberLease.encode(group, { memberId, leaseUntil: now + timeout, generation: 0, revoking: false, watch: '' }), { itemExists: false });
      } catch (error) {
        if (!(error instanceof ConditionFailedError) || req.joinId === undefined) throw error;
        // A retry of this join: its first attempt created the member. Carry on as that member, if it lives.
        if (!isAlive(memberLease.decode(await metadata.get(pk, leaseSk(memberId))), now)) throw unknownMember(memberId);
      }
      await this.#ctx.afterStep('lease-written', { group, memberId });
      recordedShare = encodeShare([], []);
      try {
        await metadata.put(
          memberProfile.encode(group, { memberId, ...settings, ...(req.instanceId ? { instanceId: req.instanceId } : {}), joinedAt: now, share: recordedShare }),
          { itemExists: false },
        );
      } catch (error) {
        if (!(error instanceof ConditionFailedError) || req.joinId === undefined) throw error;
        recordedShare = undefined; // written by the first attempt, with whatever share it recorded
      }
      await this.#ctx.afterStep('profile-written', { group, memberId });
      if (req.instanceId) await this.#generations.fenceInstance(group, req.instanceId, memberId);
    }

    for (let attempt = 0; attempt < this.#ctx.maxAttempts; attempt++) {
      let loaded: Loaded;
      try {
        loaded = await this.#generations.rebalance(group);
      } catch (error) {
        if (error instanceof GroupTooLargeError) {
          // This member would make the group's state too large for one item: it goes, or every later
          // rebalance would fail the same way.
          await metadata.delete(pk, leaseSk(memberId));
          await metadata.delete(pk, profileSk(memberId));
        }
        throw error;
      }
      const index = loaded.state.members.findIndex((m) => m.id === memberId);
      if (index < 0) {
        if (!isAlive(memberLease.decode(await metadata.get(pk, leaseSk(memberId))), this.#ctx.now())) throw unknownMember(memberId);
        continue; // listed after the rebalance that just ran looked: the next one takes it in
      }
      const generation = loaded.generation;
      const share = shareOf(loaded.state, index);
      // Released in this generation: the handover is pending, they are no longer this member's.
      const revoking = releasedIn === generation ? [] : share.revoking;
      const assignments = await this.#offsets.claim(group, memberId, generation, share.assignments);
      if (assignments === 'stale') continue;
      await this.#ctx.afterStep('partitions-claimed', { group, memberId });
      const members = loaded.state.members;
      const watch = members.length > 1 ? members[(index + 1) % members.length].id : '';
      const encoded = encodeShare(share.assignments, revoking);
      try {
        // Share before generation: a commit checks the lease's generation, then the share, so a share
        // newer than the lease's generation is never used (that generation is not current yet for it).
        if (encoded !== recordedShare) {
          await metadata.update(pk, profileSk(memberId), { set: memberProfile.share(encoded) }, { itemExists: true });
          recordedShare = encoded;
        }
        const now = this.#ctx.now();
        await metadata.update(
          pk,
          leaseSk(memberId),
          { set: memberLease.set({ generation, revoking: revoking.length > 0, watch, leaseUntil: now + timeout }) },
          { where: [memberLease.aliveAt(now), memberLease.generationAtMost(generation)] },
        );
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        if (!isAlive(memberLease.decode(await metadata.get(pk, leaseSk(memberId))), this.#ctx.now())) throw unknownMember(memberId);
        continue; // a concurrent join of this member recorded a newer generation
      }
      await this.#ctx.afterStep('share-written', { group, memberId });
      const plain = (refs: readonly PartitionRef[]) => refs.map(({ topic, partition }) => ({ topic, partition }));
      return { memberId, generation, assignments, revoking: plain(revoking), pending: plain(share.pending) };
    }
    throw changingTooFast(group, 'join again');
  }

  async heartbeat(group: string, memberId: string, generation: number): Promise<HeartbeatResult> {
    const { metadata } = this.#ctx;
    const timeout = sessionTimeoutOf(memberId);
    if (timeout === undefined) throw unknownMember(memberId);
    const pk = groupPk(group);
    const now = this.#ctx.now();
    const [lease, head] = await Promise.all([
      metadata
        .update(pk, leaseSk(memberId), { set: memberLease.set({ leaseUntil: now + timeout }) }, { where: [memberLease.aliveAt(now)] })
        .then(memberLease.decode)
        .catch(async (error: unknown) => {
          if (!(error instanceof ConditionFailedError)) throw error;
          // Expired or unknown; or this very write landed and the SDK's retry of it failed its condition.
          const lease = memberLease.decode(await metadata.get(pk, leaseSk(memberId)));
          return isAlive(lease, now) ? lease : undefined;
        }),
      metadata.get(pk, HEAD_SK).then(groupHead.decode),
    ]);
    if (!lease) {
      // Unknown or expired. If it expired unnoticed, let the group notice now.
      await this.#generations.rebalance(group).catch(() => {});
      throw unknownMember(memberId);
    }
    let current = head?.generation ?? 0;
    const deadline = head?.revokeDeadline ?? 0;
    // Past its revoke deadline, or time to look at its topics again (partitions added: generations.ts).
    let maintain = (deadline > 0 && deadline <= now) || (head !== undefined && topicsCheckDue(head, now, this.#ctx.topicCheckMs));
    if (!maintain && lease.watch) {
      // The watched member expired, or its lease is gone while this member is current (it was in this
      // generation's roster: it left or was replaced, and the rebalance after that did not happen).
      const watched = memberLease.decode(await metadata.get(pk, leaseSk(lease.watch)));
      maintain = watched ? watched.leaseUntil <= now : lease.generation === current;
    }
    if (maintain) {
      try {
        current = (await this.#generations.rebalance(group)).generation;
      } catch {
        // Someone else will do it; this member's lease is renewed either way.
      }
    }
    return { generation: current, rebalance: generation !== current || lease.generation !== current || lease.revoking };
  }

  /** Leaves the group; its partitions move to the other members at once. Leaving twice is not an error. */
  async leave(group: string, memberId: string): Promise<void> {
    const pk = groupPk(group);
    await this.#ctx.metadata.delete(pk, leaseSk(memberId));
    await this.#ctx.afterStep('member-removed', { group, memberId });
    await this.#ctx.metadata.delete(pk, profileSk(memberId));
    await this.#generations.rebalance(group);
  }
}

/** The member id a joinId stands for: the same for every retry of one join, unguessable without the joinId. */
async function memberIdFor(group: string, joinId: string, sessionTimeoutMs: number): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${group}\n${joinId}`));
  return `${Buffer.from(digest).toString('base64url').slice(0, 16)}.${sessionTimeoutMs}`;
}
