/**
 * Consumer groups over the metadata port, with single-item conditional writes only and no
 * coordinator: every request is served by a stateless handler, and whoever serves a request that
 * finds the group needing a change (a member joined, left, expired, released its revoking partitions
 * or ran out of time to) makes it, by compare-and-set on the group head. Item layout: layout.ts.
 *
 *  join       a new member writes its lease and profile; then any join rebalances: reads the head and
 *             the state it points to, lists the members (leases and profiles), and if the live roster
 *             differs from the state's, computes the next generation (state.ts), writes it as a new
 *             immutable state item and moves the head to it (condition: generation unchanged). A loser
 *             re-reads; a winner includes every member whose lease it saw, so a crowd joining at once
 *             lands in one generation. Then the member claims its partitions and records its share and
 *             generation (a rejoin that changes nothing else writes only its lease). A new member may
 *             send a joinId: its member id is derived from it, so a retried join finds its first
 *             attempt's member instead of leaving an orphan behind.
 *  release    a member told to give partitions up (revoking) commits them and rejoins: that marks its
 *             lease released. When every member giving partitions up has released them (or one has run
 *             past its rebalance timeout), the next rebalance publishes the generation that hands them
 *             over: one handover round per membership change, as in Kafka's cooperative protocol.
 *  claim      per partition: owner := member, fence := generation, if fence <= generation; returns the
 *             committed offset. The claim raises the fence before the new owner reads the offset, so no
 *             commit of an older owner can land after that read.
 *  heartbeat  one conditional write on the member's own lease (leaseUntil := now + session timeout, if
 *             not yet expired) and a read of the head: `rebalance` when the member is behind the head's
 *             generation or holds revoking partitions. It also looks at one other member's lease (the
 *             next one in the roster), so an expired member is noticed without a coordinator.
 *  commit     reads the head, the member's lease and share: the generation must be current, the lease
 *             alive and the partition in the member's share; then per partition a conditional update
 *             of its offset item: owner = member, fence <= generation, committed offset not above the
 *             new one. A rebalance that moves the partition raises its fence (the new owner's claim),
 *             so a stale commit that passed the reads still fails at the write.
 *  leave      deletes the lease and profile, then rebalances (the leaver's partitions move at once).
 *  reset      only with no members: publishes a generation with no members, then writes offsets with
 *             that generation as their fence, so a member joining meanwhile either claims after the
 *             reset (and reads the reset offset) or makes the reset fail.
 */
import { z } from 'zod';
import { mapConcurrent as mapLimit } from '../concurrency.ts';
import { ConditionFailedError, SluiceError } from '../errors.ts';
import { DEFAULTS, LIMITS } from '../defaults.ts';
import { parseInput } from '../validation.ts';
import type { Engine } from '../log/engine.ts';
import { partitionPk } from '../log/layout.ts';
import type { Topic } from '../log/topics.ts';
import { JoinGroupRequest } from '../api/schemas.ts';
import type { Clause, Item, MetadataStore } from '../storage/ports.ts';
import type { Strategy } from './assignors.ts';
import {
  GROUPS_PK,
  HEAD_SK,
  LEASE_PREFIX,
  PROFILE_PREFIX,
  STATE_PREFIX,
  TOPIC_PREFIX,
  bigintAttr,
  groupPk,
  leaseSk,
  newMemberId,
  numberAttr,
  offsetsPk,
  offsetsPks,
  partitionSk,
  prefixRange,
  profileSk,
  randomNonce,
  sessionTimeoutOf,
  stateSk,
  stringAttr,
  topicSk,
  validateGroupName,
} from './layout.ts';
import {
  decodeState,
  emptyState,
  encodeState,
  memberKey,
  nextState,
  revokeDeadline,
  sameRoster,
  sameTopics,
  shareOf,
  type GroupState,
  type PartitionRef,
  type RosterMember,
  type TopicRef,
} from './state.ts';

/** Named points where tests inject crashes (throw) and pauses (await): the step just completed. */
export type GroupStep =
  | 'lease-written'
  | 'profile-written'
  | 'state-written'
  | 'head-written'
  | 'partitions-claimed'
  | 'share-written'
  | 'released'
  | 'commit-checked'
  | 'member-removed';

export interface GroupsOptions {
  readonly engine: Engine;
  /** The server's clock: leases and revocation deadlines. @default Date.now */
  readonly now?: () => number;
  /** Test hook, called after each step; throwing simulates a crash there. */
  readonly afterStep?: (step: GroupStep, detail: { readonly group: string; readonly memberId?: string }) => void | Promise<void>;
  /** Compare-and-set attempts on the head before giving up with UNAVAILABLE. @default 30 */
  readonly maxAttempts?: number;
}

/** A join request (the contract's JoinGroupRequest). */
export const joinRequestSchema = JoinGroupRequest;

export type JoinRequest = z.input<typeof joinRequestSchema>;

export interface AssignedPartition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume, or null when the group has committed none. */
  readonly committedOffset: bigint | null;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
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

export interface OffsetCommit {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume (last processed + 1). */
  readonly offset: bigint;
}

export interface CommitRequest {
  readonly memberId: string;
  readonly generation: number;
  readonly offsets: readonly OffsetCommit[];
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** The committed offset after this commit: never lower than before (a lower commit changes nothing). */
  readonly committedOffset: bigint;
}

export interface GroupDescription {
  readonly group: string;
  readonly generation: number;
  readonly strategy: Strategy;
  readonly members: Array<{
    readonly memberId: string;
    readonly instanceId?: string;
    readonly topics: readonly string[];
    readonly assignments: TopicPartition[];
    readonly revoking: TopicPartition[];
  }>;
  readonly offsets: Array<{
    readonly topic: string;
    readonly partition: number;
    readonly committedOffset: bigint | null;
    readonly endOffset: bigint;
    /** endOffset - committedOffset (0 when the commit is ahead), null when nothing is committed. */
    readonly lag: bigint | null;
  }>;
}

export type ResetTarget =
  | { readonly to: 'earliest' }
  | { readonly to: 'latest' }
  | { readonly to: 'timestamp'; readonly timestamp: number }
  | { readonly to: 'offset'; readonly offset: bigint };

export interface ResetRequest {
  readonly topic: string;
  /** @default every partition of the topic */
  readonly partitions?: readonly number[];
  readonly target: ResetTarget;
}

interface Loaded {
  readonly generation: number;
  readonly state: GroupState;
  /** Absent before the group's first generation. */
  readonly head?: Item;
}

/** The members as their items say, at one moment. */
interface MemberView {
  /** Live members with a profile, sorted by key (at most maxGroupMembers, the earliest joined). */
  readonly members: RosterMember[];
  /** The strategy the earliest live member asked for (used when the group starts from no members). */
  readonly firstStrategy?: Strategy;
  /** Members whose lease has expired (their items are deleted after the next generation is published). */
  readonly expired: string[];
  /** Static members replaced by a newer member with the same instanceId. */
  readonly replaced: string[];
  /** Profiles whose lease is gone. */
  readonly orphans: string[];
  /** Every lease, by member id. */
  readonly leases: ReadonlyMap<string, Item>;
}

const CLAIM_CONCURRENCY = 16;

export class Groups {
  readonly #engine: Engine;
  readonly #metadata: MetadataStore;
  readonly #now: () => number;
  readonly #afterStep: NonNullable<GroupsOptions['afterStep']>;
  readonly #maxAttempts: number;

  constructor(options: GroupsOptions) {
    this.#engine = options.engine;
    this.#metadata = options.engine.metadata;
    this.#now = options.now ?? Date.now;
    this.#afterStep = options.afterStep ?? (() => {});
    this.#maxAttempts = options.maxAttempts ?? 30;
  }

  async join(group: string, request: JoinRequest): Promise<JoinResult> {
    validateGroupName(group);
    const req = parseInput(joinRequestSchema, request);
    const topics = [...new Set(req.topics)].sort();
    // A new member's topics must exist (TOPIC_NOT_FOUND before anything is written); a member already in
    // the group keeps working when one of its topics is deleted: it just gets no partitions of it.
    if (req.memberId === undefined) for (const topic of topics) await this.#engine.topics.get(topic);
    const pk = groupPk(group);
    const head = await this.#metadata.get(pk, HEAD_SK);
    const memberCount = numberAttr(head, 'members');
    if (memberCount > 0 && stringAttr(head, 'strategy') !== req.strategy) {
      throw new SluiceError('INVALID_REQUEST', `group ${group} uses the ${stringAttr(head, 'strategy')} strategy, not ${req.strategy}`, {
        details: { field: 'strategy' },
      });
    }
    const profile = { topics: JSON.stringify(topics), rebalanceTimeoutMs: BigInt(req.rebalanceTimeoutMs ?? req.sessionTimeoutMs), strategy: req.strategy };
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
      const [lease, stored] = await Promise.all([this.#metadata.get(pk, leaseSk(memberId)), this.#metadata.get(pk, profileSk(memberId))]);
      const now = this.#now();
      if (!lease || !stored || numberAttr(lease, 'leaseUntil') <= now) throw unknownMember(memberId);
      const leaseGeneration = numberAttr(lease, 'generation');
      try {
        if (stringAttr(stored, 'topics') !== profile.topics || bigintAttr(stored, 'rebalanceTimeoutMs') !== profile.rebalanceTimeoutMs || stringAttr(stored, 'strategy') !== profile.strategy) {
          await this.#metadata.update(pk, profileSk(memberId), { set: profile }, { itemExists: true });
        }
        recordedShare = stringAttr(stored, 'share');
        if (lease.revoking === true && leaseGeneration === numberAttr(head, 'generation')) {
          // A rejoin after seeing revoking partitions releases them: they leave its share now, and move to
          // their new owners in the next generation, published once every member giving some up has
          // released (or its rebalance timeout has passed), so one handover round serves them all.
          recordedShare = withoutRevoking(recordedShare);
          await this.#metadata.update(pk, profileSk(memberId), { set: { share: recordedShare } }, { itemExists: true });
          await this.#metadata.update(
            pk,
            leaseSk(memberId),
            { set: { revoking: false, leaseUntil: BigInt(now + timeout) } },
            { where: [alive(now), { attr: 'generation', op: '=', value: BigInt(leaseGeneration) }] },
          );
          await this.#afterStep('released', { group, memberId });
        }
        if (lease.revoking !== true || leaseGeneration === numberAttr(head, 'generation')) releasedIn = leaseGeneration;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        // Gone or expired; or a write here landed and its retry failed its condition: then carry on.
        const again = await this.#metadata.get(pk, leaseSk(memberId));
        if (!again || numberAttr(again, 'leaseUntil') <= this.#now()) throw unknownMember(memberId);
        if (again.revoking !== true && numberAttr(again, 'generation') === leaseGeneration) releasedIn = leaseGeneration;
      }
    } else {
      if (memberCount >= LIMITS.maxGroupMembers) {
        throw new SluiceError('INVALID_REQUEST', `group ${group} has the maximum of ${LIMITS.maxGroupMembers} members`);
      }
      timeout = req.sessionTimeoutMs;
      memberId = req.joinId === undefined ? newMemberId(timeout) : await memberIdFor(group, req.joinId, timeout);
      const now = this.#now();
      // Lease before profile (and list profiles before leases): a profile never looks orphaned while its member joins.
      try {
        await this.#metadata.put(
          { pk, sk: leaseSk(memberId), leaseUntil: BigInt(now + timeout), generation: 0n, revoking: false, watch: '' },
          { itemExists: false },
        );
      } catch (error) {
        if (!(error instanceof ConditionFailedError) || req.joinId === undefined) throw error;
        // A retry of this join: its first attempt created the member. Carry on as that member, if it lives.
        const lease = await this.#metadata.get(pk, leaseSk(memberId));
        if (!lease || numberAttr(lease, 'leaseUntil') <= now) throw unknownMember(memberId);
      }
      await this.#afterStep('lease-written', { group, memberId });
      recordedShare = encodeShare([], []);
      try {
        await this.#metadata.put(
          { pk, sk: profileSk(memberId), ...profile, ...(req.instanceId ? { instanceId: req.instanceId } : {}), joinedAt: BigInt(now), share: recordedShare },
          { itemExists: false },
        );
      } catch (error) {
        if (!(error instanceof ConditionFailedError) || req.joinId === undefined) throw error;
        recordedShare = undefined; // written by the first attempt, with whatever share it recorded
      }
      await this.#afterStep('profile-written', { group, memberId });
      if (req.instanceId) await this.#fenceInstance(group, req.instanceId, memberId);
    }

    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      let loaded: Loaded;
      try {
        loaded = await this.#rebalance(group);
      } catch (error) {
        if (error instanceof GroupTooLargeError) {
          // This member would make the group's state too large for one item: it goes, or every later
          // rebalance would fail the same way.
          await this.#metadata.delete(pk, leaseSk(memberId));
          await this.#metadata.delete(pk, profileSk(memberId));
        }
        throw error;
      }
      const index = loaded.state.members.findIndex((m) => m.id === memberId);
      if (index < 0) {
        const lease = await this.#metadata.get(pk, leaseSk(memberId));
        if (!lease || numberAttr(lease, 'leaseUntil') <= this.#now()) throw unknownMember(memberId);
        continue; // listed after the rebalance that just ran looked: the next one takes it in
      }
      const generation = loaded.generation;
      const share = shareOf(loaded.state, index);
      // Released in this generation: the handover is pending, they are no longer this member's.
      const revoking = releasedIn === generation ? [] : share.revoking;
      const assignments = await this.#claim(group, memberId, generation, share.assignments);
      if (assignments === 'stale') continue;
      await this.#afterStep('partitions-claimed', { group, memberId });
      const members = loaded.state.members;
      const watch = members.length > 1 ? members[(index + 1) % members.length].id : '';
      const encoded = encodeShare(share.assignments, revoking);
      try {
        // Share before generation: a commit checks the lease's generation, then the share, so a share
        // newer than the lease's generation is never used (that generation is not current yet for it).
        if (encoded !== recordedShare) {
          await this.#metadata.update(pk, profileSk(memberId), { set: { share: encoded } }, { itemExists: true });
          recordedShare = encoded;
        }
        const now = this.#now();
        await this.#metadata.update(
          pk,
          leaseSk(memberId),
          { set: { generation: BigInt(generation), revoking: revoking.length > 0, watch, leaseUntil: BigInt(now + timeout) } },
          { where: [alive(now), { attr: 'generation', op: '<=', value: BigInt(generation) }] },
        );
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        const lease = await this.#metadata.get(pk, leaseSk(memberId));
        if (!lease || numberAttr(lease, 'leaseUntil') <= this.#now()) throw unknownMember(memberId);
        continue; // a concurrent join of this member recorded a newer generation
      }
      await this.#afterStep('share-written', { group, memberId });
      const plain = (refs: readonly PartitionRef[]) => refs.map(({ topic, partition }) => ({ topic, partition }));
      return { memberId, generation, assignments, revoking: plain(revoking), pending: plain(share.pending) };
    }
    throw new SluiceError('UNAVAILABLE', `group ${group} is changing too fast; join again`);
  }

  async heartbeat(group: string, memberId: string, generation: number): Promise<HeartbeatResult> {
    validateGroupName(group);
    const timeout = sessionTimeoutOf(memberId);
    if (timeout === undefined) throw unknownMember(memberId);
    const pk = groupPk(group);
    const now = this.#now();
    const [lease, head] = await Promise.all([
      this.#metadata.update(pk, leaseSk(memberId), { set: { leaseUntil: BigInt(now + timeout) } }, { where: [alive(now)] }).catch(async (error: unknown) => {
        if (!(error instanceof ConditionFailedError)) throw error;
        // Expired or unknown; or this very write landed and the SDK's retry of it failed its condition.
        const lease = await this.#metadata.get(pk, leaseSk(memberId));
        return lease && numberAttr(lease, 'leaseUntil') > now ? lease : undefined;
      }),
      this.#metadata.get(pk, HEAD_SK),
    ]);
    if (!lease) {
      // Unknown or expired. If it expired unnoticed, let the group notice now.
      await this.#rebalance(group).catch(() => {});
      throw unknownMember(memberId);
    }
    let current = numberAttr(head, 'generation');
    const deadline = numberAttr(head, 'revokeDeadline');
    let maintain = deadline > 0 && deadline <= now;
    const watch = stringAttr(lease, 'watch');
    if (!maintain && watch) {
      // The watched member expired, or its lease is gone while this member is current (it was in this
      // generation's roster: it left or was replaced, and the rebalance after that did not happen).
      const watched = await this.#metadata.get(pk, leaseSk(watch));
      maintain = watched ? numberAttr(watched, 'leaseUntil') <= now : numberAttr(lease, 'generation') === current;
    }
    if (maintain) {
      try {
        current = (await this.#rebalance(group)).generation;
      } catch {
        // Someone else will do it; this member's lease is renewed either way.
      }
    }
    return { generation: current, rebalance: generation !== current || numberAttr(lease, 'generation') !== current || lease.revoking === true };
  }

  /** Leaves the group; its partitions move to the other members at once. Leaving twice is not an error. */
  async leave(group: string, memberId: string): Promise<void> {
    validateGroupName(group);
    const pk = groupPk(group);
    await this.#metadata.delete(pk, leaseSk(memberId));
    await this.#afterStep('member-removed', { group, memberId });
    await this.#metadata.delete(pk, profileSk(memberId));
    await this.#rebalance(group);
  }

  async commit(group: string, request: CommitRequest): Promise<CommittedOffset[]> {
    validateGroupName(group);
    const { memberId, generation, offsets } = request;
    if (offsets.length === 0 || offsets.length > LIMITS.maxCommitOffsets) {
      throw new SluiceError('INVALID_REQUEST', `offsets must hold 1-${LIMITS.maxCommitOffsets} entries`, { details: { field: 'offsets' } });
    }
    const seen = new Set<string>();
    for (const o of offsets) {
      const id = `${o.topic}\n${o.partition}`;
      if (seen.has(id)) throw new SluiceError('INVALID_REQUEST', `${o.topic}/${o.partition} appears twice`, { details: { field: 'offsets' } });
      seen.add(id);
      if (o.offset < 0n) throw new SluiceError('INVALID_REQUEST', 'offsets are not negative', { details: { field: 'offsets' } });
    }
    const pk = groupPk(group);
    const now = this.#now();
    const [head, lease, profile] = await Promise.all([
      this.#metadata.get(pk, HEAD_SK),
      this.#metadata.get(pk, leaseSk(memberId)),
      this.#metadata.get(pk, profileSk(memberId)),
    ]);
    if (!lease || !profile) throw illegal(`member ${memberId} is not in group ${group}`);
    if (numberAttr(lease, 'leaseUntil') <= now) {
      await this.#rebalance(group).catch(() => {});
      throw illegal(`member ${memberId} has expired: its session timed out`);
    }
    const current = numberAttr(head, 'generation');
    if (generation !== current || numberAttr(lease, 'generation') !== generation) {
      throw illegal(`generation ${generation} is not the current generation ${current} of member ${memberId}: rejoin`, { generation: current });
    }
    const share = decodeShare(stringAttr(profile, 'share') ?? '{}');
    const targets = offsets.map((o) => {
      const topicId = share.get(`${o.topic}\n${o.partition}`);
      if (topicId === undefined) throw illegal(`${o.topic}/${o.partition} is not assigned to member ${memberId} in generation ${generation}`, { topic: o.topic, partition: o.partition });
      return { ...o, topicId };
    });
    await this.#afterStep('commit-checked', { group, memberId });
    const rejected: TopicPartition[] = [];
    const results = await mapLimit(targets, CLAIM_CONCURRENCY, async (o): Promise<CommittedOffset | undefined> => {
      const opk = offsetsPk(group, o.topicId, o.partition);
      const sk = partitionSk(o.partition);
      const owned: Clause[] = [
        { attr: 'owner', op: '=', value: memberId },
        { attr: 'fence', op: '<=', value: BigInt(generation) },
      ];
      try {
        const after = await this.#metadata.update(
          opk,
          sk,
          { set: { committedOffset: o.offset, committedAt: BigInt(now) } },
          { where: [...owned, { anyOf: [{ attr: 'committedOffset', op: 'notExists' }, { attr: 'committedOffset', op: '<=', value: o.offset }] }] },
        );
        return { topic: o.topic, partition: o.partition, committedOffset: bigintAttr(after, 'committedOffset') ?? o.offset };
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
      const item = await this.#metadata.get(opk, sk);
      if (item && stringAttr(item, 'owner') === memberId && numberAttr(item, 'fence', Infinity) <= generation) {
        // Still ours: the commit is below the committed offset (a late retry), which never moves back.
        return { topic: o.topic, partition: o.partition, committedOffset: bigintAttr(item, 'committedOffset') ?? o.offset };
      }
      rejected.push({ topic: o.topic, partition: o.partition });
      return undefined;
    });
    if (rejected.length > 0) {
      throw illegal(`a rebalance moved ${rejected.map((r) => `${r.topic}/${r.partition}`).join(', ')} away from member ${memberId}: rejoin`, { rejected });
    }
    return results.filter((r): r is CommittedOffset => r !== undefined);
  }

  async describe(group: string): Promise<GroupDescription> {
    validateGroupName(group);
    const loaded = await this.#rebalance(group);
    const indexed = await this.#metadata.query(groupPk(group), prefixRange(TOPIC_PREFIX));
    if (loaded.generation === 0 && indexed.length === 0) throw new SluiceError('GROUP_NOT_FOUND', `group ${group} does not exist`, { details: { group } });
    const { state } = loaded;
    const members = state.members.map((member, index) => {
      const share = shareOf(state, index);
      const plain = (refs: PartitionRef[]) => refs.map(({ topic, partition }) => ({ topic, partition }));
      return {
        memberId: member.id,
        ...(member.instanceId ? { instanceId: member.instanceId } : {}),
        topics: member.topics,
        assignments: plain(share.assignments),
        revoking: plain(share.revoking),
      };
    });
    const subscribed = new Set(state.topics.map((t) => t.name));
    const names = [...new Set([...subscribed, ...indexed.map((item) => item.sk.slice(TOPIC_PREFIX.length))])].sort();
    const offsets: GroupDescription['offsets'] = [];
    for (const name of names) {
      let topic: Topic;
      try {
        topic = await this.#engine.topics.get(name);
      } catch (error) {
        if (error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND') continue;
        throw error;
      }
      const items = (await Promise.all(offsetsPks(group, topic.id, topic.partitions).map((opk) => this.#metadata.query(opk, prefixRange('p#'))))).flat();
      const committed = new Map(items.map((item) => [numberAttr(item, 'partition'), bigintAttr(item, 'committedOffset')]));
      const partitions = subscribed.has(name)
        ? Array.from({ length: topic.partitions }, (_, p) => p)
        : [...committed.keys()].filter((p) => committed.get(p) !== undefined).sort((a, b) => a - b);
      const ends = await mapLimit(partitions, 32, async (p) => (await this.#engine.log.readableHead(partitionPk(topic.id, p))).highWatermark);
      partitions.forEach((partition, i) => {
        const committedOffset = committed.get(partition) ?? null;
        const endOffset = ends[i];
        const lag = committedOffset === null ? null : committedOffset >= endOffset ? 0n : endOffset - committedOffset;
        offsets.push({ topic: name, partition, committedOffset, endOffset, lag });
      });
    }
    return { group, generation: loaded.generation, strategy: state.strategy, members, offsets };
  }

  /** Moves committed offsets, only while the group has no members (Kafka's rule). Returns the new offsets. */
  async resetOffsets(group: string, request: ResetRequest): Promise<CommittedOffset[]> {
    validateGroupName(group);
    const topic = await this.#engine.topics.get(request.topic);
    const partitions = request.partitions ? [...new Set(request.partitions)].sort((a, b) => a - b) : Array.from({ length: topic.partitions }, (_, p) => p);
    for (const p of partitions) {
      if (!Number.isInteger(p) || p < 0 || p >= topic.partitions) {
        throw new SluiceError('INVALID_REQUEST', `partition ${p} does not exist in topic ${topic.name} (0-${topic.partitions - 1})`, { details: { field: 'partitions' } });
      }
    }
    const pk = groupPk(group);
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const loaded = await this.#rebalance(group);
      if (loaded.state.members.length > 0) throw notEmpty(group, loaded.state.members.length);
      // A generation of its own: a member that joins from here on claims with a higher fence.
      const now = this.#now();
      const next = nextState(loaded.state, { strategy: loaded.state.strategy, topics: [], members: [], released: new Set(), now });
      const published = await this.#publish(group, loaded, next);
      if (!published) continue;
      await this.#afterPublish(group, loaded, next, published, undefined, now);
      await this.#metadata.put({ pk, sk: topicSk(topic.name), topicId: topic.id, partitions: BigInt(topic.partitions) });
      return mapLimit(partitions, CLAIM_CONCURRENCY, async (partition) => {
        const committedOffset = await this.#resetOffset(topic, partition, request.target);
        try {
          await this.#metadata.update(
            offsetsPk(group, topic.id, partition),
            partitionSk(partition),
            { set: { committedOffset, committedAt: BigInt(now), owner: '', fence: BigInt(next.generation), topic: topic.name, partition: BigInt(partition) } },
            { where: [{ anyOf: [{ attr: 'fence', op: 'notExists' }, { attr: 'fence', op: '<=', value: BigInt(next.generation) }] }] },
          );
        } catch (error) {
          if (!(error instanceof ConditionFailedError)) throw error;
          const item = await this.#metadata.get(offsetsPk(group, topic.id, partition), partitionSk(partition));
          // A member claimed it meanwhile, unless it was this write that landed (and a retry failed).
          if (numberAttr(item, 'fence') !== next.generation || stringAttr(item, 'owner') !== '') throw notEmpty(group);
        }
        return { topic: topic.name, partition, committedOffset };
      });
    }
    throw new SluiceError('UNAVAILABLE', `group ${group} is changing too fast; retry`);
  }

  async list(): Promise<string[]> {
    return (await this.#metadata.query(GROUPS_PK)).map((item) => item.sk);
  }

  /**
   * Deletes a group that has no members: its committed offsets, generations, topic index and listing
   * (Kafka's DeleteGroups). GROUP_NOT_FOUND when there is no such group; GROUP_NOT_EMPTY when it has
   * members, or when one joins while it is being deleted (the deletion then stops; retry it later).
   *
   * First a generation of its own, with no members, is published: a member joining from then on claims
   * its partitions with a higher fence, which the offset deletions (conditional on the fence) refuse to
   * remove, and moves the head, which the head deletion (conditional on the generation) refuses to
   * delete. Only items listed before the head is deleted are deleted, so a group created again by a
   * join right after keeps everything it writes.
   */
  async deleteGroup(group: string): Promise<void> {
    validateGroupName(group);
    const pk = groupPk(group);
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const loaded = await this.#rebalance(group);
      const [listing, indexed] = await Promise.all([this.#metadata.get(GROUPS_PK, group), this.#metadata.query(pk, prefixRange(TOPIC_PREFIX))]);
      if (!loaded.head && indexed.length === 0 && !listing) throw new SluiceError('GROUP_NOT_FOUND', `group ${group} does not exist`, { details: { group } });
      if (loaded.state.members.length > 0) throw hasMembers(group, loaded.state.members.length);
      const now = this.#now();
      const joining = (await this.#metadata.query(pk, prefixRange(LEASE_PREFIX))).filter((lease) => numberAttr(lease, 'leaseUntil') > now);
      if (joining.length > 0) throw hasMembers(group, joining.length);
      const next = nextState(loaded.state, { strategy: loaded.state.strategy, topics: [], members: [], released: new Set(), now });
      const published = await this.#publish(group, loaded, next);
      if (!published) continue;
      const fence = BigInt(next.generation);
      const topics = new Map(indexed.map((item) => [stringAttr(item, 'topicId') ?? '', item]));
      for (const topic of loaded.state.topics) topics.set(topic.id, { pk, sk: topicSk(topic.name), topicId: topic.id, partitions: BigInt(topic.partitions) });
      for (const [topicId, item] of topics) {
        if (topicId === '') continue;
        // The topic's partition count, where the index recorded it (or the topic still exists); else every bucket.
        const partitions = numberAttr(item, 'partitions') || LIMITS.maxPartitions;
        for (const opk of offsetsPks(group, topicId, partitions)) {
          for (const offset of await this.#metadata.query(opk, prefixRange('p#'))) {
            try {
              await this.#metadata.delete(opk, offset.sk, { where: [{ anyOf: [{ attr: 'fence', op: 'notExists' }, { attr: 'fence', op: '<=', value: fence }] }] });
            } catch (error) {
              if (error instanceof ConditionFailedError) throw hasMembers(group); // claimed by a member that joined meanwhile
              throw error;
            }
          }
        }
      }
      const items = (await this.#metadata.query(pk)).filter((item) => item.sk !== HEAD_SK);
      try {
        await this.#metadata.delete(pk, HEAD_SK, { where: [{ attr: 'generation', op: '=', value: fence }] });
      } catch (error) {
        if (error instanceof ConditionFailedError) throw hasMembers(group); // a member joined: it moved the head on
        throw error;
      }
      for (const item of items) await this.#metadata.delete(pk, item.sk);
      if (listing) {
        await this.#metadata
          .delete(GROUPS_PK, group, { where: [{ attr: 'createdAt', op: '=', value: bigintAttr(listing, 'createdAt') ?? 0n }] })
          .catch((error: unknown) => {
            if (!(error instanceof ConditionFailedError)) throw error; // listed again by a join that created the group anew
          });
      }
      return;
    }
    throw new SluiceError('UNAVAILABLE', `group ${group} is changing too fast; retry`);
  }

  async #resetOffset(topic: Topic, partition: number, target: ResetTarget): Promise<bigint> {
    const head = await this.#engine.log.readableHead(partitionPk(topic.id, partition));
    switch (target.to) {
      case 'earliest':
        return head.logStartOffset;
      case 'latest':
        return head.highWatermark;
      case 'timestamp':
        return this.#engine.offsetForTimestamp(topic.name, partition, target.timestamp);
      case 'offset':
        // As Kafka's tool does: an offset outside the log is moved to its nearest end.
        return target.offset < head.logStartOffset ? head.logStartOffset : target.offset > head.highWatermark ? head.highWatermark : target.offset;
    }
  }

  /**
   * Brings the group's generation up to date with its members: drops expired and departed members,
   * takes in joined ones, releases revoking partitions (released by `release`, or past their
   * deadline), follows topics deleted or created again. Returns the current generation.
   */
  async #rebalance(group: string): Promise<Loaded> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const now = this.#now();
      const loaded = await this.#load(group);
      const view = await this.#view(group, now);
      const { state } = loaded;
      // Revoking partitions move on when their holder has released them (rejoined in this generation
      // after seeing them), or when its rebalance timeout has passed; a new generation is published for
      // that once every holder has released, or at once when one has run out of time.
      const revokers = Object.keys(state.revokeBy);
      const forced = revokers.filter((key) => state.revokeBy[key] <= now);
      const releasedKeys = revokers.filter((key) => {
        const lease = view.leases.get(state.members.find((m) => m.key === key)?.id ?? '');
        return lease !== undefined && numberAttr(lease, 'generation') === loaded.generation && lease.revoking !== true;
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
        return loaded;
      }
      const strategy = state.members.length > 0 ? state.strategy : (view.firstStrategy ?? state.strategy);
      const next = nextState(state, { strategy, topics, members: view.members, released, now });
      const published = await this.#publish(group, loaded, next);
      if (published) {
        await this.#afterPublish(group, loaded, next, published, view, now);
        return { generation: next.generation, state: next };
      }
      await backoff(attempt);
    }
    throw new SluiceError('UNAVAILABLE', `group ${group} is changing too fast; retry`);
  }

  async #load(group: string): Promise<Loaded> {
    const pk = groupPk(group);
    for (let attempt = 0; attempt < 10; attempt++) {
      const head = await this.#metadata.get(pk, HEAD_SK);
      if (!head) return { generation: 0, state: emptyState(DEFAULTS.groupStrategy) };
      const item = await this.#metadata.get(pk, stringAttr(head, 'state') ?? '');
      if (item) return { generation: numberAttr(head, 'generation'), state: decodeState(stringAttr(item, 'state') ?? ''), head };
      // A newer generation replaced that state between the two reads: read the head again.
    }
    throw new SluiceError('UNAVAILABLE', `group ${group} is changing too fast; retry`);
  }

  async #view(group: string, now: number): Promise<MemberView> {
    const pk = groupPk(group);
    // Profiles first: a joiner writes its lease before its profile, so any profile seen here has its lease seen below.
    const profiles = new Map((await this.#metadata.query(pk, prefixRange(PROFILE_PREFIX))).map((item) => [item.sk.slice(PROFILE_PREFIX.length), item]));
    const leases = new Map((await this.#metadata.query(pk, prefixRange(LEASE_PREFIX))).map((item) => [item.sk.slice(LEASE_PREFIX.length), item]));
    const expired: string[] = [];
    const orphans = [...profiles.keys()].filter((id) => !leases.has(id));
    let live: Array<{ member: RosterMember; joinedAt: number; strategy?: Strategy }> = [];
    for (const [id, lease] of leases) {
      if (numberAttr(lease, 'leaseUntil') <= now) {
        expired.push(id);
        continue;
      }
      const profile = profiles.get(id);
      if (!profile) continue; // joining: its profile comes next
      const instanceId = stringAttr(profile, 'instanceId');
      live.push({
        member: {
          id,
          key: memberKey(id, instanceId),
          ...(instanceId ? { instanceId } : {}),
          topics: JSON.parse(stringAttr(profile, 'topics') ?? '[]') as string[],
          rebalanceTimeoutMs: numberAttr(profile, 'rebalanceTimeoutMs', DEFAULTS.groupSessionTimeoutMs),
        },
        joinedAt: numberAttr(profile, 'joinedAt'),
        strategy: stringAttr(profile, 'strategy') as Strategy | undefined,
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

  /**
   * A static member restarting: the member that had its instanceId is replaced now, not by comparing
   * join times (handlers' clocks differ). Deleting its lease fences it: its heartbeats find no lease,
   * its commits fail the lease check, and its in-flight commits fail the fence this member raises.
   */
  async #fenceInstance(group: string, instanceId: string, memberId: string): Promise<void> {
    const pk = groupPk(group);
    for (const profile of await this.#metadata.query(pk, prefixRange(PROFILE_PREFIX))) {
      const id = profile.sk.slice(PROFILE_PREFIX.length);
      if (id === memberId || stringAttr(profile, 'instanceId') !== instanceId) continue;
      await this.#metadata.delete(pk, leaseSk(id));
      await this.#metadata.delete(pk, profileSk(id));
    }
  }

  async #resolveTopics(members: readonly RosterMember[]): Promise<TopicRef[]> {
    const names = [...new Set(members.flatMap((m) => m.topics))].sort();
    const topics: TopicRef[] = [];
    for (const name of names) {
      try {
        const topic = await this.#engine.topics.get(name);
        topics.push({ name, id: topic.id, partitions: topic.partitions });
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND')) throw error;
      }
    }
    return topics;
  }

  /** Writes the state item, then moves the head to it. Returns the state's key, or undefined when another generation won. */
  async #publish(group: string, loaded: Loaded, next: GroupState): Promise<string | undefined> {
    const pk = groupPk(group);
    const text = encodeState(next);
    if (Buffer.byteLength(text) > LIMITS.maxGroupStateBytes) throw new GroupTooLargeError(group, Buffer.byteLength(text));
    const sk = stateSk(next.generation, randomNonce());
    await this.#metadata.put({ pk, sk, state: text, generation: BigInt(next.generation) }, { itemExists: false });
    await this.#afterStep('state-written', { group });
    try {
      await this.#metadata.put(
        {
          pk,
          sk: HEAD_SK,
          generation: BigInt(next.generation),
          state: sk,
          strategy: next.strategy,
          revokeDeadline: BigInt(revokeDeadline(next)),
          members: BigInt(next.members.length),
          updatedAt: BigInt(next.createdAt),
        },
        loaded.head ? { where: [{ attr: 'generation', op: '=', value: BigInt(loaded.generation) }] } : { itemExists: false },
      );
    } catch (error) {
      // The write may have been applied all the same: answered with a timeout, or retried by the SDK
      // after it landed (the retry then fails its condition). The head says who won.
      const head = await this.#metadata.get(pk, HEAD_SK).catch(() => undefined);
      if (head && stringAttr(head, 'state') === sk) {
        await this.#afterStep('head-written', { group });
        return sk;
      }
      // Ours is garbage only once the head has moved past its generation: until then a write of ours
      // still on its way could land. Otherwise the next generation's publisher removes it.
      if (head && numberAttr(head, 'generation') >= next.generation) await this.#metadata.delete(pk, sk).catch(() => {});
      if (!(error instanceof ConditionFailedError)) throw error;
      return undefined;
    }
    await this.#afterStep('head-written', { group });
    return sk;
  }

  /** Housekeeping after a new generation; every step is safe to repeat or to miss (the next rebalance redoes it). */
  async #afterPublish(group: string, loaded: Loaded, next: GroupState, stateKey: string, view: MemberView | undefined, now: number): Promise<void> {
    const pk = groupPk(group);
    if (!loaded.head) await this.#metadata.put({ pk: GROUPS_PK, sk: group, createdAt: BigInt(now) });
    const known = new Set(loaded.state.topics.map((t) => `${t.name}\n${t.id}`));
    for (const topic of next.topics) {
      if (!known.has(`${topic.name}\n${topic.id}`)) await this.#metadata.put({ pk, sk: topicSk(topic.name), topicId: topic.id, partitions: BigInt(topic.partitions) });
    }
    // Older generations, and states of this generation that lost the race or whose writer crashed.
    for (const old of await this.#metadata.query(pk, { gte: STATE_PREFIX, lt: stateSk(next.generation + 1, '') })) {
      if (old.sk !== stateKey) await this.#metadata.delete(pk, old.sk);
    }
    if (view) await this.#sweep(group, view, now);
  }

  /** Deletes the items of expired, replaced and half-deleted members. */
  async #sweep(group: string, view: MemberView, now: number): Promise<void> {
    const pk = groupPk(group);
    for (const id of view.expired) {
      try {
        await this.#metadata.delete(pk, leaseSk(id), { where: [{ attr: 'leaseUntil', op: '<=', value: BigInt(now) }] });
      } catch (error) {
        if (error instanceof ConditionFailedError) continue; // renewed by a handler whose clock is behind ours
        throw error;
      }
      await this.#metadata.delete(pk, profileSk(id));
    }
    for (const id of view.replaced) {
      await this.#metadata.delete(pk, leaseSk(id));
      await this.#metadata.delete(pk, profileSk(id));
    }
    for (const id of view.orphans) await this.#metadata.delete(pk, profileSk(id));
  }

  /**
   * Claims partitions for their owner in `generation` and returns their committed offsets, read after
   * the fence is up. 'stale' when a newer generation has already claimed one (rebalance again).
   */
  async #claim(group: string, memberId: string, generation: number, refs: readonly PartitionRef[]): Promise<AssignedPartition[] | 'stale'> {
    const claimed = await mapLimit(refs, CLAIM_CONCURRENCY, async (ref): Promise<AssignedPartition | undefined> => {
      const opk = offsetsPk(group, ref.topicId, ref.partition);
      const sk = partitionSk(ref.partition);
      const item = await this.#metadata.get(opk, sk);
      if (numberAttr(item, 'fence', -1) > generation) return undefined;
      // Already ours since an earlier claim: nobody else can have claimed it in between.
      if (item && stringAttr(item, 'owner') === memberId) return { topic: ref.topic, partition: ref.partition, committedOffset: bigintAttr(item, 'committedOffset') ?? null };
      try {
        const after = await this.#metadata.update(
          opk,
          sk,
          { set: { owner: memberId, fence: BigInt(generation), topic: ref.topic, partition: BigInt(ref.partition) } },
          { where: [{ anyOf: [{ attr: 'fence', op: 'notExists' }, { attr: 'fence', op: '<=', value: BigInt(generation) }] }] },
        );
        return { topic: ref.topic, partition: ref.partition, committedOffset: bigintAttr(after, 'committedOffset') ?? null };
      } catch (error) {
        if (error instanceof ConditionFailedError) return undefined;
        throw error;
      }
    });
    return claimed.every((c) => c !== undefined) ? (claimed as AssignedPartition[]) : 'stale';
  }
}

/** A member's share as its profile stores it: the partitions it may commit, by topic. */
function encodeShare(assignments: readonly PartitionRef[], revoking: readonly PartitionRef[]): string {
  const group = (refs: readonly PartitionRef[]) => {
    const byTopic = new Map<string, [string, string, number[]]>();
    for (const ref of refs) {
      let entry = byTopic.get(ref.topic);
      if (!entry) byTopic.set(ref.topic, (entry = [ref.topic, ref.topicId, []]));
      entry[2].push(ref.partition);
    }
    return [...byTopic.values()];
  };
  return JSON.stringify({ owned: group(assignments), revoking: group(revoking) });
}

type StoredShare = { owned?: Array<[string, string, number[]]>; revoking?: Array<[string, string, number[]]> };

/** "topic\npartition" → topic id, for every partition the member may commit. */
function decodeShare(text: string): Map<string, string> {
  const raw = JSON.parse(text) as StoredShare;
  const out = new Map<string, string>();
  for (const [topic, topicId, partitions] of [...(raw.owned ?? []), ...(raw.revoking ?? [])]) for (const p of partitions) out.set(`${topic}\n${p}`, topicId);
  return out;
}

function withoutRevoking(text: string | undefined): string {
  const raw = JSON.parse(text ?? '{}') as StoredShare;
  return JSON.stringify({ owned: raw.owned ?? [], revoking: [] });
}

/** The member id a joinId stands for: the same for every retry of one join, unguessable without the joinId. */
async function memberIdFor(group: string, joinId: string, sessionTimeoutMs: number): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${group}\n${joinId}`));
  return `${Buffer.from(digest).toString('base64url').slice(0, 16)}.${sessionTimeoutMs}`;
}

/** A generation whose state would not fit in one item (DynamoDB: 400 KB). */
class GroupTooLargeError extends SluiceError {
  constructor(group: string, bytes: number) {
    super('INVALID_REQUEST', `group ${group} would need a ${bytes}-byte state (at most ${LIMITS.maxGroupStateBytes}): fewer members, topics or partitions`, {
      details: { field: 'topics' },
    });
  }
}

function alive(now: number): Clause {
  return { attr: 'leaseUntil', op: '>', value: BigInt(now) };
}

function unknownMember(memberId: string): SluiceError {
  return new SluiceError('UNKNOWN_MEMBER', `member ${memberId} is not in the group (it left, expired or was replaced): join again without memberId`, {
    details: { memberId },
  });
}

function illegal(message: string, details: Record<string, unknown> = {}): SluiceError {
  return new SluiceError('ILLEGAL_GENERATION', message, { details });
}

function hasMembers(group: string, members?: number): SluiceError {
  return new SluiceError('GROUP_NOT_EMPTY', `group ${group} can be deleted only while it has no members${members ? ` (it has ${members})` : ' (one joined while it was being deleted)'}`, {
    details: { group },
  });
}

function notEmpty(group: string, members?: number): SluiceError {
  return new SluiceError('GROUP_NOT_EMPTY', `offsets of group ${group} can be reset only while it has no members${members ? ` (it has ${members})` : ''}`);
}

async function backoff(attempt: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 + attempt * 5)));
}

