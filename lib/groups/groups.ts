/**
 * Consumer groups over the metadata port, with single-item conditional writes only and no
 * coordinator: every request is served by a stateless handler, and whoever serves a request that
 * finds the group needing a change (a member joined, left, expired, released its revoking partitions
 * or ran out of time to) makes it, by compare-and-set on the group head. This facade validates and
 * delegates by concern:
 *
 *   membership.ts   join, release, heartbeat, leave
 *   generations.ts  rebalancing: the next generation published by compare-and-set on the head
 *   offsets.ts      claims, fenced commits, lag, resets
 *   items.ts        the items as typed values with their encodings; layout.ts: their keys
 *
 * A group with no members can be deleted (Kafka's DeleteGroups) or have its offsets reset.
 */
import { z } from 'zod';
import { ConditionFailedError, SluiceError } from '../errors.ts';
import type { Topic } from '../log/topics.ts';
import { DEFAULTS, LIMITS } from '../defaults.ts';
import { parseInput } from '../validation.ts';
import { JoinGroupRequest } from '../api/schemas.ts';
import type { Strategy } from './assignors.ts';
import { groupNotFound, hasMembers, changingTooFast, type GroupsContext, type GroupsEngine } from './context.ts';
import { Generations } from './generations.ts';
import { groupHead, groupListing, isAlive, memberLease, topicIndex, type TopicIndexEntry } from './items.ts';
import { GROUPS_PK, HEAD_SK, LEASE_PREFIX, TOPIC_PREFIX, groupPk, prefixRange, validateGroupName } from './layout.ts';
import { Membership, type HeartbeatResult, type JoinResult } from './membership.ts';
import { Offsets, type CommitRequest, type CommittedOffset, type PartitionLag, type ResetRequest, type TopicPartition } from './offsets.ts';
import { shareOf, type PartitionRef } from './state.ts';

export type { GroupStep, GroupsEngine } from './context.ts';
export type { HeartbeatResult, JoinResult } from './membership.ts';
export type { AssignedPartition, CommitRequest, CommittedOffset, OffsetCommit, PartitionLag, ResetRequest, ResetTarget, TopicPartition } from './offsets.ts';

export interface GroupsOptions {
  /** Topics, partition bounds and the metadata store (the Engine has them all). */
  readonly engine: GroupsEngine;
  /** The server's clock: leases and revocation deadlines. @default Date.now */
  readonly now?: () => number;
  /** Test hook, called after each step; throwing simulates a crash there. */
  readonly afterStep?: GroupsContext['afterStep'];
  /** Compare-and-set attempts on the head before giving up with UNAVAILABLE. @default 30 */
  readonly maxAttempts?: number;
  /** How long a group with members goes before it looks at its topics again (partitions added). @default DEFAULTS.groupTopicCheckMs */
  readonly topicCheckMs?: number;
}

/** A join request (the contract's JoinGroupRequest). */
export const joinRequestSchema = JoinGroupRequest;

export type JoinRequest = z.input<typeof joinRequestSchema>;

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
  /** Per partition; lag is endOffset - committedOffset (0 when the commit is ahead), null when nothing is committed. */
  readonly offsets: PartitionLag[];
}

export class Groups {
  readonly #ctx: GroupsContext;
  readonly #generations: Generations;
  readonly #offsets: Offsets;
  readonly #membership: Membership;

  constructor(options: GroupsOptions) {
    this.#ctx = {
      engine: options.engine,
      metadata: options.engine.metadata,
      now: options.now ?? Date.now,
      afterStep: options.afterStep ?? (() => {}),
      maxAttempts: options.maxAttempts ?? 30,
      topicCheckMs: options.topicCheckMs ?? DEFAULTS.groupTopicCheckMs,
    };
    this.#generations = new Generations(this.#ctx);
    this.#offsets = new Offsets(this.#ctx, this.#generations);
    this.#membership = new Membership(this.#ctx, this.#generations, this.#offsets);
  }

  async join(group: string, request: JoinRequest): Promise<JoinResult> {
    validateGroupName(group);
    return this.#membership.join(group, parseInput(joinRequestSchema, request));
  }

  async heartbeat(group: string, memberId: string, generation: number): Promise<HeartbeatResult> {
    validateGroupName(group);
    return this.#membership.heartbeat(group, memberId, generation);
  }

  /** Leaves the group; its partitions move to the other members at once. Leaving twice is not an error. */
  async leave(group: string, memberId: string): Promise<void> {
    validateGroupName(group);
    await this.#membership.leave(group, memberId);
  }

  async commit(group: string, request: CommitRequest): Promise<CommittedOffset[]> {
    validateGroupName(group);
    return this.#offsets.commit(group, request);
  }

  /** Moves committed offsets, only while the group has no members (Kafka's rule). Returns the new offsets. */
  async resetOffsets(group: string, request: ResetRequest): Promise<CommittedOffset[]> {
    validateGroupName(group);
    return this.#offsets.reset(group, request);
  }

  async describe(group: string): Promise<GroupDescription> {
    validateGroupName(group);
    const loaded = await this.#generations.rebalance(group);
    const indexed = (await this.#ctx.metadata.query(groupPk(group), prefixRange(TOPIC_PREFIX))).map(topicIndex.decode);
    if (loaded.generation === 0 && indexed.length === 0) throw groupNotFound(group);
    const { state } = loaded;
    const plain = (refs: PartitionRef[]) => refs.map(({ topic, partition }) => ({ topic, partition }));
    const members = state.members.map((member, index) => {
      const share = shareOf(state, index);
      return {
        memberId: member.id,
        ...(member.instanceId ? { instanceId: member.instanceId } : {}),
        topics: member.topics,
        assignments: plain(share.assignments),
        revoking: plain(share.revoking),
      };
    });
    const subscribed = new Set(state.topics.map((t) => t.name));
    const names = [...new Set([...subscribed, ...indexed.map((entry) => entry.name)])].sort();
    const offsets: PartitionLag[] = [];
    for (const name of names) {
      let topic: Topic;
      try {
        topic = await this.#ctx.engine.topics.get(name);
      } catch (error) {
        if (error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND') continue;
        throw error;
      }
      offsets.push(...(await this.#offsets.lag(group, topic, subscribed.has(name))));
    }
    return { group, generation: loaded.generation, strategy: state.strategy, members, offsets };
  }

  async list(): Promise<string[]> {
    return (await this.#ctx.metadata.query(GROUPS_PK)).map((item) => groupListing.decode(item).group);
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
    const { metadata } = this.#ctx;
    const pk = groupPk(group);
    for (let attempt = 0; attempt < this.#ctx.maxAttempts; attempt++) {
      const loaded = await this.#generations.rebalance(group);
      const [listing, indexed] = await Promise.all([metadata.get(GROUPS_PK, group), metadata.query(pk, prefixRange(TOPIC_PREFIX))]);
      if (!loaded.head && indexed.length === 0 && !listing) throw groupNotFound(group);
      if (loaded.state.members.length > 0) throw hasMembers(group, loaded.state.members.length);
      const now = this.#ctx.now();
      const joining = (await metadata.query(pk, prefixRange(LEASE_PREFIX))).filter((item) => isAlive(memberLease.decode(item), now));
      if (joining.length > 0) throw hasMembers(group, joining.length);
      const next = this.#generations.emptied(loaded, now);
      if (!(await this.#generations.publish(group, loaded, next))) continue;
      const topics = new Map<string, TopicIndexEntry>(indexed.map(topicIndex.decode).map((entry) => [entry.topicId, entry]));
      for (const topic of loaded.state.topics) topics.set(topic.id, { name: topic.name, topicId: topic.id, partitions: topic.partitions });
      for (const [topicId, entry] of topics) {
        if (topicId === '') continue;
        // The topic's partition count now if it still exists (partitions may have been added since the
        // index recorded it), else the index's count; else every bucket.
        const existing = await this.#ctx.engine.topics.get(entry.name).catch(() => undefined);
        const partitions = Math.max(entry.partitions, existing?.id === topicId ? existing.partitions : 0);
        const deleted = await this.#offsets.deleteTopic(group, topicId, partitions || LIMITS.maxPartitions, next.generation);
        if (!deleted) throw hasMembers(group); // claimed by a member that joined meanwhile
      }
      const items = (await metadata.query(pk)).filter((item) => item.sk !== HEAD_SK);
      try {
        await metadata.delete(pk, HEAD_SK, { where: [groupHead.atGeneration(next.generation)] });
      } catch (error) {
        if (error instanceof ConditionFailedError) throw hasMembers(group); // a member joined: it moved the head on
        throw error;
      }
      for (const item of items) await metadata.delete(pk, item.sk);
      if (listing) {
        await metadata.delete(GROUPS_PK, group, { where: [groupListing.createdAt(groupListing.decode(listing).createdAt)] }).catch((error: unknown) => {
          if (!(error instanceof ConditionFailedError)) throw error; // listed again by a join that created the group anew
        });
      }
      return;
    }
    throw changingTooFast(group);
  }
}
