/**
 * Offsets: claiming partitions, fenced commits, lag, resets. One item per partition holds its owner,
 * its fence (the generation in which the owner claimed it) and its committed offset.
 *
 *  claim   owner := member, fence := generation, if fence <= generation; returns the committed offset.
 *          The claim raises the fence before the new owner reads the offset, so no commit of an older
 *          owner can land after that read.
 *  commit  reads the head, the member's lease and share: the generation must be current, the lease
 *          alive and the partition in the member's share; then per partition a conditional update of
 *          its offset item: owner = member, fence <= generation, committed offset not above the new
 *          one. A rebalance that moves the partition raises its fence (the new owner's claim), so a
 *          stale commit that passed the reads still fails at the write.
 *  reset   only with no members: publishes a generation with no members, then writes offsets with
 *          that generation as their fence, so a member joining meanwhile either claims after the
 *          reset (and reads the reset offset) or makes the reset fail.
 */
import { mapConcurrent } from '../concurrency.ts';
import { ConditionFailedError, SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import type { Topic } from '../log/topics.ts';
import { CLAIM_CONCURRENCY, changingTooFast, illegal, notEmpty, type GroupsContext } from './context.ts';
import type { Generations } from './generations.ts';
import { decodeShare, groupHead, memberLease, memberProfile, partitionOffset, topicIndex } from './items.ts';
import { HEAD_SK, TOPIC_PREFIX, groupPk, leaseSk, offsetsPks, prefixRange, profileSk } from './layout.ts';
import type { PartitionRef } from './state.ts';

export interface AssignedPartition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume, or null when the group has committed nothing for it. */
  readonly committedOffset: bigint | null;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
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
  readonly committedOffset: bigint;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: bigint | null;
  readonly endOffset: bigint;
  readonly lag: bigint | null;
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

export class Offsets {
  readonly #ctx: GroupsContext;
  readonly #generations: Generations;

  constructor(ctx: GroupsContext, generations: Generations) {
    this.#ctx = ctx;
    this.#generations = generations;
  }

  /**
   * Claims partitions for their owner in `generation` and returns their committed offsets, read after
   * the fence is up. 'stale' when a newer generation has already claimed one (rebalance again).
   */
  async claim(group: string, memberId: string, generation: number, refs: readonly PartitionRef[]): Promise<AssignedPartition[] | 'stale'> {
    const claimed = await mapConcurrent(refs, CLAIM_CONCURRENCY, async (ref): Promise<AssignedPartition | undefined> => {
      const { pk, sk } = partitionOffset.key(group, ref.topicId, ref.partition);
      const item = partitionOffset.decode(await this.#ctx.metadata.get(pk, sk));
      if ((item?.fence ?? -1) > generation) return undefined;
      // Already ours since an earlier claim: nobody else can have claimed it in between.
      if (item?.owner === memberId) return { topic: ref.topic, partition: ref.partition, committedOffset: item.committedOffset ?? null };
      try {
        const after = partitionOffset.decode(
          await this.#ctx.metadata.update(pk, sk, { set: partitionOffset.claim(memberId, generation, ref.topic, ref.partition) }, { where: [partitionOffset.fenceAtMost(generation)] }),
        );
        return { topic: ref.topic, partition: ref.partition, committedOffset: after?.committedOffset ?? null };
      } catch (error) {
        if (error instanceof ConditionFailedError) return undefined;
        throw error;
      }
    });
    if (!claimed.every((c) => c !== undefined)) return 'stale';
    return this.#startAddedPartitions(group, refs, claimed as AssignedPartition[]);
  }

  /**
   * A partition added to a topic after the group first read it (above the count its topic index
   * recorded), with nothing committed, starts at its log start: its records were written for this
   * group, and a member resetting to `latest` would skip what arrived before the group noticed the
   * partition (Kafka's KAFKA-12478). Other partitions without a commit are left to the member's reset.
   */
  async #startAddedPartitions(group: string, refs: readonly PartitionRef[], claimed: AssignedPartition[]): Promise<AssignedPartition[]> {
    if (claimed.every((c) => c.committedOffset !== null)) return claimed;
    const indexed = new Map((await this.#ctx.metadata.query(groupPk(group), prefixRange(TOPIC_PREFIX))).map(topicIndex.decode).map((entry) => [entry.topicId, entry.partitions]));
    return mapConcurrent(claimed, CLAIM_CONCURRENCY, async (assigned, i) => {
      const recorded = indexed.get(refs[i].topicId);
      if (assigned.committedOffset !== null || !recorded || refs[i].partition < recorded) return assigned;
      // Only a topic that is gone (or was created again) leaves the partition to the member's reset: any
      // other failure fails the claim, which the member retries, rather than let it skip records.
      const topic = await this.#ctx.engine.topics.get(refs[i].topic).catch((error: unknown) => {
        if (error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND') return undefined;
        throw error;
      });
      if (topic?.id !== refs[i].topicId) return assigned;
      return { ...assigned, committedOffset: (await this.#ctx.engine.partitionBounds(topic, refs[i].partition)).logStartOffset };
    });
  }

  async commit(group: string, request: CommitRequest): Promise<CommittedOffset[]> {
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
    const now = this.#ctx.now();
    const [head, lease, profile] = await Promise.all([
      this.#ctx.metadata.get(pk, HEAD_SK).then(groupHead.decode),
      this.#ctx.metadata.get(pk, leaseSk(memberId)).then(memberLease.decode),
      this.#ctx.metadata.get(pk, profileSk(memberId)).then(memberProfile.decode),
    ]);
    if (!lease || !profile) throw illegal(`member ${memberId} is not in group ${group}`);
    if (lease.leaseUntil <= now) {
      await this.#generations.rebalance(group).catch(() => {});
      throw illegal(`member ${memberId} has expired: its session timed out`);
    }
    const current = head?.generation ?? 0;
    if (generation !== current || lease.generation !== generation) {
      throw illegal(`generation ${generation} is not the current generation ${current} of member ${memberId}: rejoin`, { generation: current });
    }
    const share = decodeShare(profile.share);
    const targets = offsets.map((o) => {
      const topicId = share.get(`${o.topic}\n${o.partition}`);
      if (topicId === undefined) throw illegal(`${o.topic}/${o.partition} is not assigned to member ${memberId} in generation ${generation}`, { topic: o.topic, partition: o.partition });
      return { ...o, topicId };
    });
    await this.#ctx.afterStep('commit-checked', { group, memberId });
    const rejected: TopicPartition[] = [];
    const results = await mapConcurrent(targets, CLAIM_CONCURRENCY, async (o): Promise<CommittedOffset | undefined> => {
      const { pk: opk, sk } = partitionOffset.key(group, o.topicId, o.partition);
      try {
        const after = partitionOffset.decode(
          await this.#ctx.metadata.update(
            opk,
            sk,
            { set: partitionOffset.commit(o.offset, now) },
            { where: [...partitionOffset.ownedBy(memberId, generation), partitionOffset.committedAtMost(o.offset)] },
          ),
        );
        return { topic: o.topic, partition: o.partition, committedOffset: after?.committedOffset ?? o.offset };
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
      const item = partitionOffset.decode(await this.#ctx.metadata.get(opk, sk));
      if (item?.owner === memberId && (item.fence ?? Infinity) <= generation) {
        // Still ours: the commit is below the committed offset (a late retry), which never moves back.
        return { topic: o.topic, partition: o.partition, committedOffset: item.committedOffset ?? o.offset };
      }
      rejected.push({ topic: o.topic, partition: o.partition });
      return undefined;
    });
    if (rejected.length > 0) {
      throw illegal(`a rebalance moved ${rejected.map((r) => `${r.topic}/${r.partition}`).join(', ')} away from member ${memberId}: rejoin`, { rejected });
    }
    return results.filter((r): r is CommittedOffset => r !== undefined);
  }

  /** Committed offsets and lag of a topic: every partition when subscribed, else those with a committed offset. */
  async lag(group: string, topic: Topic, subscribed: boolean): Promise<PartitionLag[]> {
    const items = (await Promise.all(offsetsPks(group, topic.id, topic.partitions).map((opk) => this.#ctx.metadata.query(opk, prefixRange('p#')))))
      .flat()
      .map((item) => partitionOffset.decode(item)!);
    const committed = new Map(items.map((item) => [item.partition ?? 0, item.committedOffset]));
    const partitions = subscribed
      ? Array.from({ length: topic.partitions }, (_, p) => p)
      : [...committed.keys()].filter((p) => committed.get(p) !== undefined).sort((a, b) => a - b);
    const ends = await mapConcurrent(partitions, 32, async (p) => (await this.#ctx.engine.partitionBounds(topic, p)).highWatermark);
    return partitions.map((partition, i) => {
      const committedOffset = committed.get(partition) ?? null;
      const endOffset = ends[i];
      const lag = committedOffset === null ? null : committedOffset >= endOffset ? 0n : endOffset - committedOffset;
      return { topic: topic.name, partition, committedOffset, endOffset, lag };
    });
  }

  /** Moves committed offsets, only while the group has no members (Kafka's rule). Returns the new offsets. */
  async reset(group: string, request: ResetRequest): Promise<CommittedOffset[]> {
    const topic = await this.#ctx.engine.topics.get(request.topic);
    const partitions = request.partitions ? [...new Set(request.partitions)].sort((a, b) => a - b) : Array.from({ length: topic.partitions }, (_, p) => p);
    for (const p of partitions) {
      if (!Number.isInteger(p) || p < 0 || p >= topic.partitions) {
        throw new SluiceError('INVALID_REQUEST', `partition ${p} does not exist in topic ${topic.name} (0-${topic.partitions - 1})`, { details: { field: 'partitions' } });
      }
    }
    for (let attempt = 0; attempt < this.#ctx.maxAttempts; attempt++) {
      const loaded = await this.#generations.rebalance(group);
      if (loaded.state.members.length > 0) throw notEmpty(group, loaded.state.members.length);
      // A generation of its own: a member that joins from here on claims with a higher fence.
      const now = this.#ctx.now();
      const next = this.#generations.emptied(loaded, now);
      const published = await this.#generations.publish(group, loaded, next);
      if (!published) continue;
      await this.#generations.afterPublish(group, loaded, next, published, undefined, now);
      // Indexed so that describe and delete find these offsets; a count recorded earlier stays (partitions added since still count as added).
      await this.#generations.indexTopic(group, topic);
      return mapConcurrent(partitions, CLAIM_CONCURRENCY, async (partition) => {
        const committedOffset = await this.#resetOffset(topic, partition, request.target);
        const { pk, sk } = partitionOffset.key(group, topic.id, partition);
        try {
          await this.#ctx.metadata.update(
            pk,
            sk,
            { set: partitionOffset.reset(committedOffset, now, next.generation, topic.name, partition) },
            { where: [partitionOffset.fenceAtMost(next.generation)] },
          );
        } catch (error) {
          if (!(error instanceof ConditionFailedError)) throw error;
          const item = partitionOffset.decode(await this.#ctx.metadata.get(pk, sk));
          // A member claimed it meanwhile, unless it was this write that landed (and a retry failed).
          if ((item?.fence ?? 0) !== next.generation || item?.owner !== '') throw notEmpty(group);
        }
        return { topic: topic.name, partition, committedOffset };
      });
    }
    throw changingTooFast(group);
  }

  /**
   * Deletes a topic's committed offsets that no member has claimed since generation `fence`.
   * False when one has (a member joined meanwhile): the caller stops.
   */
  async deleteTopic(group: string, topicId: string, partitions: number, fence: number): Promise<boolean> {
    for (const opk of offsetsPks(group, topicId, partitions)) {
      for (const offset of await this.#ctx.metadata.query(opk, prefixRange('p#'))) {
        try {
          await this.#ctx.metadata.delete(opk, offset.sk, { where: [partitionOffset.fenceAtMost(fence)] });
        } catch (error) {
          if (error instanceof ConditionFailedError) return false;
          throw error;
        }
      }
    }
    return true;
  }

  async #resetOffset(topic: Topic, partition: number, target: ResetTarget): Promise<bigint> {
    const head = await this.#ctx.engine.partitionBounds(topic, partition);
    switch (target.to) {
      case 'earliest':
        return head.logStartOffset;
      case 'latest':
        return head.highWatermark;
      case 'timestamp':
        return this.#ctx.engine.offsetForTimestamp(topic.name, partition, target.timestamp);
      case 'offset':
        // As Kafka's tool does: an offset outside the log is moved to its nearest end.
        return target.offset < head.logStartOffset ? head.logStartOffset : target.offset > head.highWatermark ? head.highWatermark : target.offset;
    }
  }
}
