/**
 * Consumer-group membership for the consumer: an AssignmentSource (assignment.ts) over the /v1/groups
 * routes (../../../README.md, "Consumer groups").
 *
 *   start      join; hand the assignment to the consumer (each partition from its committed offset)
 *   heartbeat  in the background every heartbeatIntervalMs (sessionTimeoutMs / 3), independent of
 *              processing, and often (pendingHeartbeatMs) while partitions are on their way to this member
 *              (a handover it waits for: the join answer's `pending`); `rebalance` → rejoin and reconcile:
 *                revoking   still ours in this generation but moving to another member: the consumer
 *                           stops them, waits for their handlers and commits them (commit on revoke),
 *                           then a rejoin releases them; onPartitionsRevoked
 *                gone       no longer ours at all (a handover that did not wait for us): dropped
 *                           without a commit, which would be refused; onPartitionsLost
 *                new        read from their committed offsets; onPartitionsAssigned
 *              404 UNKNOWN_MEMBER (the session expired: the process stalled): every partition is
 *              lost, and the consumer joins again as a new member
 *   commit     with the member id and generation; 409 ILLEGAL_GENERATION (fenced) makes the loop check
 *              for a rebalance at once. A final commit (on revoke, on stop) that is refused because the
 *              generation moved on meanwhile catches up first: it rejoins (which releases nothing, the
 *              member being behind the group), and commits again in the current generation, where the
 *              partitions it still holds are still its own
 *   stop       the consumer's final commit, then leave the group, so the partitions move at once; a static
 *              member (instanceId) does not leave: started again within its session timeout it takes its
 *              partitions back directly
 *
 * Every call that joins runs under one lock, so joins, heartbeats and catch-ups never overlap.
 */
import { API_DEFAULTS, LIMITS, NAME_PATTERN } from '../../api/limits.ts';
import type { ClientContext } from '../context.ts';
import { invalidArgument, isAbort, isRetriable, SluiceClientError } from '../errors.ts';
import type { AssignmentStrategy, GroupPartition, JoinGroupAnswer } from '../protocol/api.ts';
import { retryPolicy, withRetry, type RetryPolicy } from '../retry/retry.ts';
import { randomId, Semaphore, Signal } from '../util/async.ts';
import type { TopicPartition, TopicPartitionOffset } from '../types.ts';
import {
  partitionKey,
  type AssignmentContext,
  type AssignmentHandler,
  type AssignmentSource,
  type CommitOptions,
  type CommitReceipt,
  type FinalCommit,
} from './assignment.ts';
import { byTopic, ConsumerEvents } from './events.ts';

/** Told what the group does with this consumer's partitions. Errors thrown here are logged, not fatal. */
export interface RebalanceListener {
  /** The consumer starts reading these (from their committed offsets). */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** The consumer stopped reading these in a rebalance, after their handlers finished and their positions were committed. */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** These went to other members without a last commit (this consumer was fenced: its session expired). */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** How a consumer takes part in its group; the consumer's options carry the same fields. */
export interface GroupMembershipOptions {
  /** Without a heartbeat for this long the member is expired and its partitions move. Server range 1000-1800000. @default 30000 */
  readonly sessionTimeoutMs?: number;
  /** @default sessionTimeoutMs / 3 */
  readonly heartbeatIntervalMs?: number;
  /** How long this member may take to commit and release partitions moving away from it. @default sessionTimeoutMs */
  readonly rebalanceTimeoutMs?: number;
  /** Static membership: a restart with the same instanceId within the session timeout keeps the assignment (and disconnect() does not leave). */
  readonly instanceId?: string;
  /** Chosen by the group's first member; the others must ask for the same. @default 'cooperative-sticky' */
  readonly assignmentStrategy?: AssignmentStrategy;
  /** Told of partitions assigned, revoked (after their last commit) and lost. */
  readonly rebalanceListener?: RebalanceListener;
}

export interface GroupOptions extends GroupMembershipOptions {
  readonly groupId: string;
  readonly retry?: RetryPolicy;
  /** Where group join, heartbeat and rebalancing events go (the consumer's). */
  readonly events?: ConsumerEvents;
}

export const GROUP_DEFAULTS = { sessionTimeoutMs: API_DEFAULTS.groupSessionTimeoutMs, assignmentStrategy: API_DEFAULTS.groupStrategy } as const;

/**
 * While partitions are on their way to this member, it heartbeats every heartbeatIntervalMs / 20
 * (25-250 ms), so it takes them within moments of their previous owner releasing them rather than at its
 * next scheduled heartbeat. A handover lasts at most the owner's next heartbeat plus its commit (or its
 * rebalance timeout), so this costs a few dozen heartbeats per handover at most.
 */
export function pendingHeartbeatMs(heartbeatIntervalMs: number): number {
  return Math.min(250, Math.max(25, Math.floor(heartbeatIntervalMs / 20)));
}
/** Catch-ups a final commit may make when the generation keeps moving under it. */
const MAX_CATCH_UPS = 3;
/** Rejoins in a row (revoke, release, a member gone) before the loop's next turn. */
const MAX_JOIN_DEPTH = 5;

export class GroupAssignment implements AssignmentSource {
  readonly #context: ClientContext;
  readonly #groupId: string;
  readonly #sessionTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #pendingHeartbeatMs: number;
  readonly #rebalanceTimeoutMs?: number;
  readonly #instanceId?: string;
  readonly #strategy: AssignmentStrategy;
  readonly #listener: RebalanceListener;
  readonly #retry: RetryPolicy;
  readonly #events: ConsumerEvents;
  /** Rejoins, heartbeats and catch-ups never overlap. */
  readonly #lock = new Semaphore(1);
  readonly #wake = new Signal();
  #handler: AssignmentHandler | null = null;
  #topics: readonly string[] = [];
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #memberId: string | undefined;
  #generation = -1;
  /** The last join answer; a catch-up replaces it while an older one is being reconciled. */
  #answer: JoinGroupAnswer | undefined;
  /** Partitions the consumer reads, by partitionKey. */
  readonly #owned = new Map<string, TopicPartition>();
  /** Partitions being dropped without a commit (lost): their commits are skipped. */
  readonly #dropping = new Set<string>();
  #lastHeartbeat = 0;
  /** When the last heartbeat or join was sent. */
  #lastBeatAt = 0;
  /** Partitions are on their way to this member: heartbeat often until they arrive. */
  #pending = false;

  constructor(context: ClientContext, options: GroupOptions) {
    if (typeof options.groupId !== 'string' || !NAME_PATTERN.test(options.groupId)) throw invalidArgument(`groupId must be 1-249 characters of [a-zA-Z0-9._-], got ${String(options.groupId)}`);
    if (options.instanceId !== undefined && !NAME_PATTERN.test(options.instanceId)) throw invalidArgument('instanceId must be 1-249 characters of [a-zA-Z0-9._-]');
    const session = options.sessionTimeoutMs ?? GROUP_DEFAULTS.sessionTimeoutMs;
    const { minSessionTimeoutMs: min, maxSessionTimeoutMs: max } = LIMITS;
    if (!Number.isInteger(session) || session < min || session > max) throw invalidArgument(`sessionTimeoutMs must be an integer from ${min} to ${max}, got ${session}`);
    const interval = options.heartbeatIntervalMs ?? Math.floor(session / 3);
    if (!Number.isInteger(interval) || interval < 1 || interval >= session) throw invalidArgument(`heartbeatIntervalMs must be a positive integer below sessionTimeoutMs, got ${interval}`);
    if (options.rebalanceTimeoutMs !== undefined && (!Number.isInteger(options.rebalanceTimeoutMs) || options.rebalanceTimeoutMs < min || options.rebalanceTimeoutMs > max)) {
      throw invalidArgument(`rebalanceTimeoutMs must be an integer from ${min} to ${max}`);
    }
    this.#context = context;
    this.#groupId = options.groupId;
    this.#sessionTimeoutMs = session;
    this.#heartbeatIntervalMs = interval;
    this.#pendingHeartbeatMs = Math.min(interval, pendingHeartbeatMs(interval));
    this.#rebalanceTimeoutMs = options.rebalanceTimeoutMs;
    this.#instanceId = options.instanceId;
    this.#strategy = options.assignmentStrategy ?? GROUP_DEFAULTS.assignmentStrategy;
    this.#listener = options.rebalanceListener ?? {};
    this.#retry = options.retry ?? retryPolicy(undefined, context.retry);
    this.#events = options.events ?? new ConsumerEvents(context.logger);
  }

  get groupId(): string {
    return this.#groupId;
  }

  /** The member id and generation, once joined. */
  get membership(): { memberId: string; generation: number } | undefined {
    return this.#memberId === undefined ? undefined : { memberId: this.#memberId, generation: this.#generation };
  }

  async start(context: AssignmentContext, handler: AssignmentHandler): Promise<void> {
    this.#handler = handler;
    this.#topics = context.topics;
    const abort = new AbortController();
    this.#abort = abort;
    context.signal.addEventListener('abort', () => abort.abort(), { once: true });
    await this.#lock.run(() => this.#join());
    this.#loop = this.#heartbeats(abort.signal);
  }

  /**
   * Commits with this member's id and generation. A refused final commit (options.final: on revoke or
   * on stop, always called under the lock) catches up with the group and commits again.
   */
  async commit(offsets: readonly TopicPartitionOffset[], options: CommitOptions = {}): Promise<CommitReceipt | undefined> {
    let mine = offsets.filter((o) => !this.#dropping.has(partitionKey(o.topic, o.partition)));
    /** Partitions a catch-up found handed over to another member already: their commits cannot land. */
    const gone: TopicPartitionOffset[] = [];
    for (let catchUps = 0; mine.length > 0; catchUps++) {
      const memberId = this.#memberId;
      const generation = this.#generation;
      if (memberId === undefined) throw new SluiceClientError('ILLEGAL_GENERATION', `not a member of group ${this.#groupId} (joining)`);
      try {
        await this.#context.api.commitGroupOffsets(this.#groupId, memberId, generation, mine.map(({ topic, partition, offset }) => ({ topic, partition, offset })), options.signal);
        if (gone.length > 0) break;
        return { groupId: this.#groupId, memberId, generation };
      } catch (error) {
        if (!(error instanceof SluiceClientError && error.code === 'ILLEGAL_GENERATION')) throw error;
        const current = error.details.generation;
        const behind = typeof current === 'number' && current > generation;
        if (!options.final || !behind || catchUps >= MAX_CATCH_UPS) {
          this.#wake.notify(); // look for the rebalance now
          throw error;
        }
        // The group moved on while this member was committing what it gives up. Rejoining catches up
        // (it releases nothing: the member's lease is behind the group); the partitions it still holds
        // in the current generation, assigned or revoking, are still its own to commit.
        const answer = await this.#requestJoin(options.signal);
        const still = new Set([...answer.assignments, ...answer.revoking].map((tp) => partitionKey(tp.topic, tp.partition)));
        gone.push(...mine.filter((o) => !still.has(partitionKey(o.topic, o.partition))));
        mine = mine.filter((o) => still.has(partitionKey(o.topic, o.partition)));
      }
    }
    if (gone.length === 0) return undefined;
    throw new SluiceClientError('ILLEGAL_GENERATION', `group ${this.#groupId} handed ${gone.map((o) => `${o.topic}/${o.partition}`).join(', ')} to another member before this member could commit them`, {
      details: { generation: this.#generation, rejected: gone.map(({ topic, partition }) => ({ topic, partition })) },
    });
  }

  /** eachMessage's and eachBatch's heartbeat(): the background loop beats anyway; this makes an overdue beat happen now. */
  async heartbeat(): Promise<void> {
    if (Date.now() - this.#lastHeartbeat >= this.#heartbeatIntervalMs) this.#wake.notify();
  }

  /** Ends the heartbeats, lets the consumer make its final commit (catching up if need be), then leaves. */
  async stop(finalCommit?: FinalCommit): Promise<void> {
    this.#abort?.abort();
    this.#wake.notify();
    await this.#loop?.catch(() => {});
    this.#loop = null;
    // A join still under way (in start()) ends first, so a member it created is left rather than abandoned.
    await this.#lock.run(async () => {
      // Bounded: once the session has run out the group has dropped this member anyway.
      const signal = AbortSignal.timeout(this.#sessionTimeoutMs);
      if (this.#memberId !== undefined) await finalCommit?.(signal);
      const memberId = this.#memberId;
      this.#memberId = undefined;
      this.#generation = -1;
      this.#answer = undefined;
      this.#pending = false;
      this.#owned.clear();
      this.#dropping.clear();
      if (memberId === undefined || this.#instanceId !== undefined) return;
      await withRetry(this.#retry, () => this.#context.api.leaveGroup(this.#groupId, memberId, signal), { signal }).catch((error) =>
        this.#context.logger.warn(`leaving group ${this.#groupId} failed; its partitions move when the session times out`, { error: String(error) }),
      );
    });
  }

  async #heartbeats(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Beats start an interval apart (the interval counts from the last one's start, not its answer).
      const interval = this.#pending ? this.#pendingHeartbeatMs : this.#heartbeatIntervalMs;
      await this.#wake.wait(Math.max(0, this.#lastBeatAt + interval - Date.now()));
      if (signal.aborted) return;
      try {
        await this.#lock.run(() => this.#beat(signal));
      } catch (error) {
        if (isAbort(error) || signal.aborted) return;
        if (isRetriable(error)) {
          this.#lastBeatAt = Date.now(); // the next try after a whole interval
          this.#context.logger.warn(`group ${this.#groupId}: heartbeat failed, retrying`, { error: String(error) });
          continue;
        }
        this.#handler?.fail(error);
        return;
      }
    }
  }

  async #beat(signal: AbortSignal): Promise<void> {
    if (this.#memberId === undefined) return this.#join();
    let rebalance: boolean;
    this.#lastBeatAt = Date.now();
    try {
      ({ rebalance } = await this.#context.api.heartbeat(this.#groupId, this.#memberId, this.#generation, signal));
      this.#lastHeartbeat = Date.now();
      this.#events.emit('consumer.heartbeat', { groupId: this.#groupId, memberId: this.#memberId, generation: this.#generation });
    } catch (error) {
      if (!(error instanceof SluiceClientError && error.code === 'UNKNOWN_MEMBER')) throw error;
      this.#context.logger.warn(`group ${this.#groupId}: this member's session expired; joining again`, { memberId: this.#memberId });
      await this.#lose([...this.#owned.values()]);
      this.#memberId = undefined;
      return this.#join();
    }
    if (rebalance) await this.#join();
  }

  /** Joins (or rejoins) and brings the consumer's partitions in line with the answer. */
  async #join(depth = 0): Promise<void> {
    let answer: JoinGroupAnswer;
    try {
      answer = await this.#requestJoin(this.#abort?.signal);
    } catch (error) {
      if (!(error instanceof SluiceClientError && error.code === 'UNKNOWN_MEMBER') || depth >= MAX_JOIN_DEPTH) throw error;
      // Our member is gone (expired, or replaced by a newer process with our instanceId), or the member a
      // retried joinId stood for expired meanwhile: join as a new member.
      await this.#lose([...this.#owned.values()]);
      this.#memberId = undefined;
      return this.#join(depth + 1);
    }
    await this.#reconcile(answer, depth);
  }

  /** One join call (a new member's, or a rejoin with the member id); records the answer. */
  async #requestJoin(signal: AbortSignal | undefined): Promise<JoinGroupAnswer> {
    // A new member's join carries a joinId, the same on every retry: a retry after a lost answer finds
    // the member the first attempt created rather than leaving it behind to hold partitions until it expires.
    const joinId = this.#memberId === undefined ? randomId() : undefined;
    // A new member's join is never cut off mid-request (a stop only ends its retries): an answer that never
    // arrives would leave a member nobody can name, holding partitions until its session runs out.
    const requestSignal = joinId === undefined ? signal : undefined;
    const started = Date.now();
    this.#lastBeatAt = started;
    const answer = await withRetry(
      this.#retry,
      () =>
        this.#context.api.joinGroup(
          this.#groupId,
          {
            topics: this.#topics,
            sessionTimeoutMs: this.#sessionTimeoutMs,
            ...(this.#rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeoutMs: this.#rebalanceTimeoutMs }),
            ...(joinId === undefined ? { memberId: this.#memberId } : { joinId }),
            ...(this.#instanceId === undefined ? {} : { instanceId: this.#instanceId }),
            strategy: this.#strategy,
          },
          requestSignal,
        ),
      { signal },
    );
    this.#memberId = answer.memberId;
    this.#generation = answer.generation;
    this.#answer = answer;
    this.#lastHeartbeat = Date.now();
    this.#pending = (answer.pending?.length ?? 0) > 0;
    this.#events.emit('consumer.group_join', {
      groupId: this.#groupId,
      memberId: answer.memberId,
      generation: answer.generation,
      duration: this.#lastHeartbeat - started,
      memberAssignment: byTopic(answer.assignments),
      revoking: byTopic(answer.revoking),
      pending: byTopic(answer.pending ?? []),
    });
    return answer;
  }

  /** Brings the consumer's partitions in line with a join answer. */
  async #reconcile(answer: JoinGroupAnswer, depth: number): Promise<void> {
    const assigned = new Map(answer.assignments.map((a) => [partitionKey(a.topic, a.partition), a]));
    const revoking = new Map(answer.revoking.map((r) => [partitionKey(r.topic, r.partition), r]));
    // No longer ours at all: a handover went ahead without us.
    const gone = [...this.#owned].filter(([key]) => !assigned.has(key) && !revoking.has(key)).map(([, tp]) => tp);
    if (gone.length > 0) await this.#lose(gone);
    if (revoking.size > 0) {
      // Ours in this generation still: stop them and commit them (the consumer does both), then release.
      // (With autoCommit off, the application commits them in onPartitionsRevoked: they are still ours until the rejoin.)
      const giving = [...revoking.values()].map(plain);
      const held = giving.filter((tp) => this.#owned.has(partitionKey(tp.topic, tp.partition)));
      this.#events.emit('consumer.rebalancing', { groupId: this.#groupId, memberId: answer.memberId, generation: answer.generation, revoking: byTopic(giving), lost: {} });
      await this.#handler!.revoke(giving);
      for (const key of revoking.keys()) this.#owned.delete(key);
      if (held.length > 0) await this.#tell('onPartitionsRevoked', held);
      if (depth >= MAX_JOIN_DEPTH) return;
      // The commit on revoke caught up with a newer generation: what it says comes first (it may give up
      // more), and a release only ever follows an answer whose revoking partitions have all been stopped.
      if (this.#answer !== answer && this.#answer !== undefined) return this.#reconcile(this.#answer, depth + 1);
      return this.#join(depth + 1);
    }
    const added = answer.assignments.filter((a) => !this.#owned.has(partitionKey(a.topic, a.partition)));
    if (added.length > 0) {
      await this.#handler!.assign(added.map((a) => ({ topic: a.topic, partition: a.partition, committedOffset: a.committedOffset })));
      for (const a of added) this.#owned.set(partitionKey(a.topic, a.partition), plain(a));
      await this.#tell('onPartitionsAssigned', added.map(plain));
    }
  }

  /** Stops partitions that are no longer ours without committing them (a commit would be refused). */
  async #lose(partitions: TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    this.#events.emit('consumer.rebalancing', { groupId: this.#groupId, memberId: this.#memberId ?? null, generation: this.#generation, revoking: {}, lost: byTopic(partitions) });
    const keys = partitions.map((tp) => partitionKey(tp.topic, tp.partition));
    for (const key of keys) this.#dropping.add(key);
    try {
      await this.#handler!.revoke(partitions);
    } finally {
      for (const key of keys) {
        this.#dropping.delete(key);
        this.#owned.delete(key);
      }
    }
    await this.#tell('onPartitionsLost', partitions);
  }

  async #tell(event: keyof RebalanceListener, partitions: TopicPartition[]): Promise<void> {
    try {
      await this.#listener[event]?.(partitions);
    } catch (error) {
      this.#context.logger.warn(`group ${this.#groupId}: ${event} threw`, { error: String(error) });
    }
  }
}

function plain(tp: GroupPartition): TopicPartition {
  return { topic: tp.topic, partition: tp.partition };
}
