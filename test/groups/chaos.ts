/**
 * Seeded random schedules against one group: clients join (some static, restarting under the same
 * instanceId), heartbeat and rejoin, process records, commit (on revoke too), leave, crash, pause past
 * their session and wake up to commit as zombies; server-side steps crash at random; commits stall
 * between their checks and their write while the group moves on; operations run concurrently; offsets
 * are reset while the group is empty. After every step:
 *
 *   1. no partition has two owners in one generation (every join answer ever seen, and the state),
 *      and every subscribed partition has one owner in the roster, subscribed to its topic;
 *   2. no commit is accepted from a member that was fenced when it sent it (left, expired, replaced,
 *      behind the group's generation, or not holding the partition in that generation), and no commit
 *      that stalled while another member claimed its partition is accepted;
 *   3. committed offsets never move backwards, except by a reset;
 *   4. at least once: every offset below a committed offset was processed by someone (since the last
 *      reset of that partition).
 * At the end the chaos stops, time runs on, and the surviving clients must converge to one
 * generation that assigns every partition exactly once.
 */
import assert from 'node:assert/strict';
import { Engine } from '../../lib/log/engine.ts';
import { Groups, type GroupStep, type JoinResult } from '../../lib/groups/groups.ts';
import { decodeState } from '../../lib/groups/state.ts';
import { offsetsPks } from '../../lib/groups/layout.ts';
import { ConditionFailedError, SluiceError, StorageError, ThrottledError, UnavailableError } from '../../lib/errors.ts';
import type { Condition, Item, MetadataStore, ObjectStore, QueryOptions, UpdateChanges, UpdateOptions } from '../../lib/storage/ports.ts';
import { ManualClock } from '../support/clock.ts';
import { Rng } from './rng.ts';

class Crash extends Error {}

/**
 * Storage faults on the metadata port: not applied (unavailable, throttled), or applied and then
 * answered with a timeout, or applied and answered with a condition failure (what the SDK reports
 * when it retries a conditional write that had landed).
 */
class FaultyStore implements MetadataStore {
  readonly #inner: MetadataStore;
  readonly #rng: Rng;
  readonly #rate: number;
  healed = false;
  injected = 0;

  constructor(inner: MetadataStore, rng: Rng, rate: number) {
    this.#inner = inner;
    this.#rng = rng;
    this.#rate = rate;
  }

  async #around<T>(conditional: boolean, call: () => Promise<T>): Promise<T> {
    if (this.healed || !this.#rng.chance(this.#rate)) return call();
    this.injected++;
    const kind = this.#rng.pick(['definite', 'throttle', 'ambiguous', 'retried'] as const);
    if (kind === 'definite') throw new UnavailableError('injected failure (not applied)');
    if (kind === 'throttle') throw new ThrottledError('injected throttling');
    await call();
    if (kind === 'retried' && conditional) throw new ConditionFailedError('injected: the retry of an applied write failed its condition');
    throw new UnavailableError('injected timeout (applied)');
  }

  get(pk: string, sk: string): Promise<Item | undefined> {
    return this.#around(false, () => this.#inner.get(pk, sk));
  }
  put(item: Item, condition?: Condition): Promise<void> {
    return this.#around(condition !== undefined, () => this.#inner.put(item, condition));
  }
  update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    return this.#around(condition !== undefined, () => this.#inner.update(pk, sk, changes, condition, options));
  }
  delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.#around(condition !== undefined, () => this.#inner.delete(pk, sk, condition));
  }
  query(pk: string, options?: QueryOptions): Promise<Item[]> {
    return this.#around(false, () => this.#inner.query(pk, options));
  }
}

/** A request that failed in a way its client cannot see through: it may or may not have been applied. */
function failed(error: unknown): boolean {
  return error instanceof Crash || error instanceof StorageError || (error instanceof SluiceError && error.retriable);
}

const STEPS: GroupStep[] = ['lease-written', 'profile-written', 'state-written', 'head-written', 'partitions-claimed', 'share-written', 'member-removed'];

interface Client {
  readonly n: number;
  readonly instanceId?: string;
  readonly sessionTimeoutMs: number;
  status: 'active' | 'paused' | 'crashed' | 'left';
  wakeAt: number;
  memberId?: string;
  generation: number;
  /** Partition key → owned as assignment (true) or revoking (false), from the last join answer. */
  owned: Map<string, boolean>;
  /** Next offset to process, per partition it consumes. */
  position: Map<string, bigint>;
  /** Joins afresh with a joinId, kept until a fresh join succeeds (a retry after a lost answer). */
  readonly usesJoinId: boolean;
  joinId?: string;
}

interface MemberFacts {
  lastRenew: number;
  sessionTimeoutMs: number;
  fenced?: string;
  generation: number;
  share: Set<string>;
}

export interface ScheduleStats {
  steps: number;
  joins: number;
  commitsAccepted: number;
  commitsRejected: number;
  generations: number;
  crashes: number;
  /** Commits sent by members fenced at the time (all must be rejected). */
  fencedCommits: number;
  /** Commits stalled between checks and write while another member claimed their partition. */
  stalledTakeovers: number;
  /** Storage faults injected. */
  storageFaults: number;
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;

export async function runSchedule(seed: number, stores: { metadata: MetadataStore; objects: ObjectStore }, steps = 60): Promise<ScheduleStats> {
  const rng = new Rng(seed);
  const clock = new ManualClock();
  // Half the schedules run over a store that fails 3% of calls (see FaultyStore).
  const faulty = new FaultyStore(stores.metadata, new Rng(seed ^ 0x7a17), seed % 2 === 0 ? 0.03 : 0);
  const engine = new Engine({ ...stores, now: clock.now, topicCacheMs: 0 });
  const groupsEngine = new Engine({ objects: stores.objects, metadata: faulty, now: clock.now, topicCacheMs: 0 });
  let armed: GroupStep | undefined;
  let stall: { gate: Promise<void>; reached: () => void } | undefined;
  const groups = new Groups({
    engine: groupsEngine,
    now: clock.now,
    afterStep: async (step) => {
      if (step === armed) {
        armed = undefined;
        stats.crashes++;
        throw new Crash(step);
      }
      if (step === 'commit-checked' && stall) {
        const s = stall;
        stall = undefined;
        s.reached();
        await s.gate;
      }
    },
  });
  const group = `chaos-${seed}`;
  const topics = [`t${seed}-a`, `t${seed}-b`].slice(0, rng.int(1, 2));
  const partitions = new Map<string, number>();
  for (const t of topics) {
    partitions.set(t, rng.int(1, 8));
    await engine.topics.create(t, partitions.get(t)!);
  }
  const strategy = rng.pick(['cooperative-sticky', 'cooperative-sticky', 'range', 'roundrobin'] as const);
  const allKeys = topics.flatMap((t) => Array.from({ length: partitions.get(t)! }, (_, p) => key(t, p)));
  const stats: ScheduleStats = { steps: 0, joins: 0, commitsAccepted: 0, commitsRejected: 0, generations: 0, crashes: 0, fencedCommits: 0, stalledTakeovers: 0, storageFaults: 0 };
  const clients: Client[] = [];
  const facts = new Map<string, MemberFacts>();
  /** generation → partition → member that a join answer gave it to. */
  const ownersSeen = new Map<number, Map<string, string>>();
  const processed = new Map<string, Set<bigint>>(allKeys.map((k) => [k, new Set()]));
  const base = new Map<string, bigint>(allKeys.map((k) => [k, 0n]));
  let committed = new Map<string, bigint>();
  let resetKeys = new Set<string>();
  let stalled: { client: Client; member: string; generation: number; keys: string[]; claimedMeanwhile: Set<string>; done: Promise<unknown>; release: () => void; steps: number } | undefined;
  const trace: string[] = [];
  const fail = (message: string): never => {
    throw new Error(`seed ${seed}: ${message}\n  trace:\n    ${trace.slice(-25).join('\n    ')}`);
  };

  const metadata = stores.metadata;
  const head = async () => metadata.get(`g#${group}`, 'head');

  function recordJoin(client: Client, result: JoinResult): void {
    stats.joins++;
    const before = new Set(client.owned.keys());
    client.memberId = result.memberId;
    client.generation = result.generation;
    client.owned = new Map([...result.assignments.map((a) => [key(a.topic, a.partition), true] as const), ...result.revoking.map((r) => [key(r.topic, r.partition), false] as const)]);
    for (const a of result.assignments) {
      const k = key(a.topic, a.partition);
      // A partition this client was not consuming (new, or only seen as revoking) starts at the committed offset.
      if (!before.has(k) || !client.position.has(k)) client.position.set(k, a.committedOffset ?? base.get(k)!);
    }
    for (const k of [...client.position.keys()]) if (!client.owned.has(k)) client.position.delete(k);
    const f = facts.get(result.memberId) ?? { lastRenew: clock.now(), sessionTimeoutMs: client.sessionTimeoutMs, generation: 0, share: new Set<string>() };
    f.lastRenew = clock.now();
    f.generation = result.generation;
    f.share = new Set(client.owned.keys());
    facts.set(result.memberId, f);
    let seen = ownersSeen.get(result.generation);
    if (!seen) ownersSeen.set(result.generation, (seen = new Map()));
    for (const k of client.owned.keys()) {
      const other = seen.get(k);
      if (other !== undefined && other !== result.memberId) fail(`${k} has two owners in generation ${result.generation}: ${other} and ${result.memberId}`);
      seen.set(k, result.memberId);
    }
    if (stalled) for (const a of result.assignments) if (result.memberId !== stalled.member && result.generation > stalled.generation) stalled.claimedMeanwhile.add(key(a.topic, a.partition));
  }

  async function join(client: Client): Promise<void> {
    const memberId = client.memberId;
    if (!memberId && client.usesJoinId) client.joinId ??= `join-${seed}-${client.n}-${rng.int(0, 1e9)}`.padEnd(16, '0');
    try {
      const result = await groups.join(group, {
        ...(!memberId && client.joinId ? { joinId: client.joinId } : {}),
        topics,
        sessionTimeoutMs: client.sessionTimeoutMs,
        rebalanceTimeoutMs: client.sessionTimeoutMs,
        strategy,
        ...(memberId ? { memberId } : {}),
        ...(client.instanceId ? { instanceId: client.instanceId } : {}),
      });
      if (!memberId && client.instanceId) {
        for (const [id, f] of facts) if (id !== result.memberId && f.fenced === undefined && clients.some((c) => c.instanceId === client.instanceId && c.memberId === id)) f.fenced = 'replaced';
      }
      client.joinId = undefined;
      recordJoin(client, result);
      trace.push(`c${client.n} joined ${result.memberId.slice(0, 4)} g${result.generation} a=[${[...client.owned].filter(([, a]) => a).map(([k]) => k)}] r=[${[...client.owned].filter(([, a]) => !a).map(([k]) => k)}]`);
    } catch (error) {
      if (failed(error)) {
        // The request may have renewed the lease before failing.
        if (memberId && facts.has(memberId)) facts.get(memberId)!.lastRenew = clock.now();
        trace.push(`c${client.n} join failed: ${(error as Error).message}`);
        return;
      }
      if (error instanceof SluiceError && error.code === 'UNKNOWN_MEMBER') {
        trace.push(`c${client.n} join: unknown member, joins afresh`);
        forget(client);
        return;
      }
      throw error;
    }
  }

  function forget(client: Client): void {
    client.memberId = undefined;
    client.joinId = undefined; // its member is gone: a new join, a new joinId
    client.generation = -1;
    client.owned = new Map();
    client.position = new Map();
  }

  /** Heartbeat; rejoin when told; commit revoking partitions and release them (mostly). */
  async function sync(client: Client, eager = false): Promise<void> {
    if (!client.memberId) return join(client);
    let rebalance: boolean;
    const f = facts.get(client.memberId);
    const fenced = !f || f.fenced !== undefined || clock.now() >= f.lastRenew + f.sessionTimeoutMs;
    try {
      const hb = await groups.heartbeat(group, client.memberId, client.generation);
      if (fenced) fail(`heartbeat accepted from ${client.memberId}, which had expired or been fenced`);
      facts.get(client.memberId)!.lastRenew = clock.now();
      rebalance = hb.rebalance;
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'UNKNOWN_MEMBER') {
        trace.push(`c${client.n} heartbeat: unknown member`);
        forget(client);
        return join(client);
      }
      if (failed(error)) {
        facts.get(client.memberId)!.lastRenew = clock.now(); // it may have renewed
        return;
      }
      throw error;
    }
    if (!rebalance) return;
    await join(client);
    if (![...client.owned.values()].includes(false)) return;
    if (eager || rng.chance(0.8)) await commit(client, [...client.owned].filter(([, a]) => !a).map(([k]) => k));
    if (eager || rng.chance(0.85)) await join(client);
  }

  /** Is `member` fenced for a commit of `k` at `generation`, by the facts as they stand before the commit? */
  async function fencedFor(member: string, generation: number, k: string): Promise<string | undefined> {
    const f = facts.get(member);
    if (!f) return 'unknown member';
    if (f.fenced) return f.fenced;
    if (clock.now() >= f.lastRenew + f.sessionTimeoutMs) return 'expired';
    const current = Number((await head())?.generation ?? 0n);
    if (generation !== current) return `stale generation ${generation} (group at ${current})`;
    if (f.generation !== generation) return 'not joined in this generation';
    if (!f.share.has(k)) return 'partition not held';
    return undefined;
  }

  async function commit(client: Client, keys: string[]): Promise<void> {
    const member = client.memberId;
    if (!member || keys.length === 0) return;
    const offsets = keys.map((k) => {
      const [topic, p] = k.split('/');
      return { topic, partition: Number(p), offset: client.position.get(k) ?? base.get(k)! };
    });
    const fenced = await Promise.all(keys.map((k) => fencedFor(member, client.generation, k)));
    if (fenced.some((reason) => reason !== undefined)) stats.fencedCommits++;
    try {
      await groups.commit(group, { memberId: member, generation: client.generation, offsets });
      stats.commitsAccepted++;
      fenced.forEach((reason, i) => reason && fail(`commit of ${keys[i]} accepted from fenced member ${member} (${reason})`));
      trace.push(`c${client.n} committed ${offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`)}`);
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'ILLEGAL_GENERATION') {
        stats.commitsRejected++;
        trace.push(`c${client.n} commit rejected: ${error.message.slice(0, 60)}`);
        return;
      }
      if (failed(error)) return;
      throw error;
    }
  }

  function process(client: Client): void {
    const consuming = [...client.owned].filter(([, a]) => a).map(([k]) => k);
    if (consuming.length === 0) return;
    const k = rng.pick(consuming);
    const from = client.position.get(k)!;
    const count = BigInt(rng.int(1, 5));
    for (let o = from; o < from + count; o++) processed.get(k)!.add(o);
    client.position.set(k, from + count);
  }

  async function check(): Promise<void> {
    // 3. never backwards, except by a reset; 4. at least once
    const now = new Map<string, bigint>();
    for (const t of topics) {
      const topic = await engine.topics.get(t);
      for (const item of (await Promise.all(offsetsPks(group, topic.id, topic.partitions).map((pk) => metadata.query(pk)))).flat()) {
        if (typeof item.committedOffset === 'bigint') now.set(key(t, Number(item.partition)), item.committedOffset);
      }
    }
    for (const [k, offset] of now) {
      const before = committed.get(k);
      if (before !== undefined && offset < before && !resetKeys.has(k)) fail(`${k} moved backwards from ${before} to ${offset}`);
      for (let o = base.get(k)!; o < offset; o++) if (!processed.get(k)!.has(o)) fail(`${k} committed at ${offset} but offset ${o} was never processed`);
    }
    committed = now;
    resetKeys = new Set();
    // 1. the stored state: one owner per partition, in the roster and subscribed
    const h = await head();
    if (!h) return;
    const stateItem = await metadata.get(`g#${group}`, String(h.state));
    if (!stateItem) fail('the head points to a missing state');
    const state = decodeState(String(stateItem!.state));
    if (state.generation !== Number(h.generation)) fail('head and state disagree on the generation');
    stats.generations = Math.max(stats.generations, state.generation);
    state.topics.forEach((topic, t) => {
      const subscribed = state.members.some((m) => m.topics.includes(topic.name));
      state.owned[t].forEach((owner, p) => {
        if (!subscribed) return;
        if (owner < 0 || owner >= state.members.length) fail(`${topic.name}/${p} has no owner in generation ${state.generation}`);
        if (!state.members[owner].topics.includes(topic.name)) fail(`${topic.name}/${p} owned by a member not subscribed to it`);
      });
    });
  }

  async function act(client: Client | undefined, action: string): Promise<void> {
    switch (action) {
      case 'join': {
        const restart = clients.find((c) => c.instanceId && (c.status === 'crashed' || c.status === 'paused') && rng.chance(0.5));
        const c: Client = {
          n: clients.length,
          instanceId: restart ? restart.instanceId : rng.chance(0.3) ? `pod-${rng.int(0, 2)}` : undefined,
          sessionTimeoutMs: rng.int(3, 8) * 1000,
          status: 'active',
          wakeAt: 0,
          generation: -1,
          owned: new Map(),
          position: new Map(),
          usesJoinId: rng.chance(0.5),
        };
        // One live process per instanceId (two would keep fencing each other, as in Kafka): a restart replaces a dead or paused one.
        if (c.instanceId && clients.some((o) => o !== restart && o.instanceId === c.instanceId && (o.status === 'active' || o.status === 'paused'))) return;
        if (restart) restart.status = 'crashed';
        clients.push(c);
        trace.push(`c${c.n} starts${c.instanceId ? ` as ${c.instanceId}` : ''}`);
        return join(c);
      }
      case 'sync':
        return sync(client!);
      case 'process':
        return process(client!);
      case 'commit':
        return commit(client!, [...client!.owned.keys()].filter(() => rng.chance(0.8)));
      case 'leave':
        if (rng.chance(0.7)) await commit(client!, [...client!.owned.keys()]);
        client!.status = 'left';
        trace.push(`c${client!.n} leaves`);
        if (client!.memberId) {
          try {
            await groups.leave(group, client!.memberId);
          } catch (error) {
            if (!failed(error)) throw error;
            trace.push(`c${client!.n} leave failed: ${(error as Error).message}`);
            return; // it may or may not be gone: the model does not count it as fenced
          }
          if (facts.has(client!.memberId)) facts.get(client!.memberId)!.fenced = 'left';
        }
        return;
      case 'crash':
        client!.status = 'crashed';
        trace.push(`c${client!.n} crashes`);
        return;
      case 'pause':
        client!.status = 'paused';
        client!.wakeAt = clock.now() + rng.int(2, 12) * 1000;
        trace.push(`c${client!.n} pauses until +${client!.wakeAt - clock.now()}`);
        return;
    }
  }

  for (let step = 0; step < steps; step++) {
    stats.steps++;
    const active = clients.filter((c) => c.status === 'active');
    // wake paused clients whose time has come: first a zombie commit with what they believed, then back to work
    for (const c of clients.filter((c) => c.status === 'paused' && c.wakeAt <= clock.now())) {
      trace.push(`c${c.n} wakes`);
      c.status = 'active';
      await commit(c, [...c.owned.keys()]);
      await sync(c);
    }
    const roll = rng.next();
    if (stalled && (stalled.steps++ > 2 || roll < 0.1)) {
      const s = stalled;
      stalled = undefined;
      s.release();
      const outcome = await s.done;
      const moved = s.keys.filter((k) => s.claimedMeanwhile.has(k));
      if (moved.length > 0) stats.stalledTakeovers++;
      if (outcome === 'accepted' && moved.length > 0) fail(`a stalled commit by ${s.member} was accepted after ${moved} had been claimed by another member`);
      trace.push(`stalled commit by c${s.client.n} ${outcome}`);
    } else if (roll < 0.15) {
      const ms = rng.int(100, 4000);
      clock.advance(ms);
      trace.push(`clock +${ms}`);
    } else if (roll < 0.2 || active.length === 0) {
      if (clients.filter((c) => c.status === 'active').length < 6) await act(undefined, 'join');
    } else if (roll < 0.25) {
      armed = rng.pick(STEPS);
      trace.push(`armed crash after ${armed}`);
    } else if (roll < 0.3 && !stalled) {
      const c = rng.pick(active);
      const keys = [...c.owned.keys()];
      if (c.memberId && keys.length > 0) {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const reached = new Promise<void>((resolve) => (stall = { gate, reached: resolve }));
        const offsets = keys.map((k) => ({ topic: k.split('/')[0], partition: Number(k.split('/')[1]), offset: c.position.get(k) ?? base.get(k)! }));
        const done = groups.commit(group, { memberId: c.memberId, generation: c.generation, offsets }).then(
          () => 'accepted',
          (e) => (e instanceof SluiceError && e.code === 'ILLEGAL_GENERATION' ? 'rejected' : failed(e) ? 'failed' : Promise.reject(e)),
        );
        const outcome = await Promise.race([reached.then(() => 'stalled'), done]);
        stall = undefined;
        if (outcome === 'stalled') {
          stalled = { client: c, member: c.memberId, generation: c.generation, keys, claimedMeanwhile: new Set(), done, release, steps: 0 };
          trace.push(`c${c.n} commit stalls after its checks`);
        }
      }
    } else if (roll < 0.35) {
      const d = await groups.describe(group).catch((e) => (failed(e) || (e instanceof SluiceError && e.code === 'GROUP_NOT_FOUND') ? undefined : Promise.reject(e)));
      if (d && d.members.length === 0 && !stalled) {
        const t = rng.pick(topics);
        try {
          const reset = await groups.resetOffsets(group, { topic: t, target: rng.pick([{ to: 'earliest' }, { to: 'latest' }, { to: 'offset', offset: 0n }] as const) });
          for (const r of reset) {
            const k = key(r.topic, r.partition);
            resetKeys.add(k);
            base.set(k, r.committedOffset);
          }
          trace.push(`reset ${t}`);
        } catch (error) {
          if (!(failed(error) || (error instanceof SluiceError && error.code === 'GROUP_NOT_EMPTY'))) throw error;
          // Some partitions may have been reset (to 0: nothing is produced in these schedules).
          for (let p = 0; p < partitions.get(t)!; p++) {
            resetKeys.add(key(t, p));
            base.set(key(t, p), 0n);
          }
        }
      }
    } else if (roll < 0.42 && active.length >= 2) {
      // a few clients at once
      const chosen = active.filter(() => rng.chance(0.6)).slice(0, 3);
      trace.push(`concurrently: ${chosen.map((c) => `c${c.n}`)}`);
      await Promise.all(chosen.map((c) => act(c, rng.pick(['sync', 'sync', 'commit', 'leave']))));
    } else {
      const c = rng.pick(active);
      await act(c, rng.pick(['sync', 'sync', 'sync', 'process', 'process', 'process', 'commit', 'commit', 'leave', 'crash', 'pause']));
    }
    await check();
  }

  // Calm: finish any stalled commit, stop the chaos, let time run; the survivors converge.
  armed = undefined;
  faulty.healed = true;
  stats.storageFaults = faulty.injected;
  if (stalled) {
    stalled.release();
    await stalled.done;
    stalled = undefined;
  }
  for (const c of clients.filter((c) => c.status === 'paused')) c.status = 'active';
  const survivors = clients.filter((c) => c.status === 'active');
  for (let round = 0; round < 40; round++) {
    clock.advance(1000);
    for (const c of survivors) await sync(c, true);
    await check();
  }
  if (survivors.length > 0) {
    const generations = new Set(survivors.map((c) => c.generation));
    if (generations.size !== 1) fail(`survivors did not converge: generations ${[...generations]}`);
    const owned = survivors.flatMap((c) => [...c.owned].filter(([, a]) => a).map(([k]) => k)).sort();
    if (owned.join() !== [...allKeys].sort().join()) fail(`every partition should be assigned exactly once at the end, got [${owned}]`);
    for (const c of survivors) {
      const keys = [...c.owned.keys()];
      if (keys.length === 0) continue;
      const before = stats.commitsRejected;
      await commit(c, keys);
      if (stats.commitsRejected !== before) fail(`a settled member's commit was rejected`);
    }
    await check();
  }
  return stats;
}
