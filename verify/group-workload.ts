/**
 * The consumer-group side of a verification run: members of one group join, consume their
 * partitions, commit, heartbeat and rejoin through the HTTP application, and now and then leave,
 * crash (vanish without leaving) or pause past their session timeout and then try to commit. Every
 * join answer, commit attempt and processed record is recorded for the checker.
 */
import type { HttpHandler, HttpResponse } from '../lib/http/types.ts';
import { sleep } from './faults.ts';

export const GROUP = 'verify-group';
export const SESSION_TIMEOUT_MS = 1000;
/** How soon the run's groups look at the topic again (partitions added mid-run): GroupsOptions.topicCheckMs. */
export const GROUP_TOPIC_CHECK_MS = 300;

export interface MemberOptions {
  /**
   * Partitions at or above this with nothing committed reset to `latest` (the topic's end offset); the
   * others to `earliest`. The server answers a partition added after the group first read the topic
   * with its log start instead of nothing (KAFKA-12478): were it not to, a member resetting so would
   * skip what was written there first, and the checker would find records below the commit that no
   * member processed. Asked at each join. @default never
   */
  readonly latestFrom?: () => number;
}

export interface JoinRecord {
  readonly memberId: string;
  readonly generation: number;
  /** Partitions this member owns in this generation (assigned and revoking). */
  readonly owned: ReadonlySet<number>;
}

export interface CommitRecord {
  readonly memberId: string;
  readonly generation: number;
  readonly partition: number;
  readonly offset: bigint;
  readonly accepted: boolean;
  /** When the commit was sent. */
  readonly sentAt: number;
  /** When the member last had its lease confirmed: a join or heartbeat answered 200. */
  readonly leaseConfirmedAt: number;
  /**
   * When the last call that may have renewed the member's lease was answered: a join or heartbeat
   * answered 200, or answered with an error or not at all — a heartbeat's lease write can land and the
   * call still fail after it (its head read failed, the answer was lost). The server renews a lease to
   * (its clock when it served the call) + session timeout, and served the call before it answered, so
   * the lease lasts at most until this time + session timeout. Only a 404 says it was not renewed.
   */
  readonly leaseMaybeRenewedAt: number;
}

/** One member's reading of one partition from one join: the offsets it processed, in order. */
export interface ReadRun {
  readonly memberId: string;
  readonly generation: number;
  readonly partition: number;
  readonly start: bigint;
  readonly offsets: bigint[];
}

export interface GroupHistory {
  readonly joins: JoinRecord[];
  readonly commits: CommitRecord[];
  readonly runs: ReadRun[];
  /** The group's committed offsets at the end, by partition. */
  readonly finalCommitted: Map<number, bigint>;
  readonly actions: { leaves: number; crashes: number; pauses: number; rejoins: number; resetsToLogStart: number };
}

export function emptyGroupHistory(): GroupHistory {
  return { joins: [], commits: [], runs: [], finalCommitted: new Map(), actions: { leaves: 0, crashes: 0, pauses: 0, rejoins: 0, resetsToLogStart: 0 } };
}

export type Call = (method: string, path: string, query?: string, body?: unknown) => Promise<HttpResponse | undefined>;

/** The members' clock (the server's is the same in a run: one process). */
export type Clock = () => number;

export interface Session {
  memberId: string;
  generation: number;
  assigned: number[];
  revoking: number[];
  runs: Map<number, ReadRun>;
  position: Map<number, bigint>;
  leaseConfirmedAt: number;
  leaseMaybeRenewedAt: number;
}

function bodyOf(response: HttpResponse): any {
  return JSON.parse(String(response.body));
}

/** The log start an OFFSET_OUT_OF_RANGE answer names (records before it were deleted). */
export function logStartOf(response: HttpResponse): bigint | undefined {
  const { error } = bodyOf(response) as { error?: { code?: string; startOffset?: string } };
  return error?.code === 'OFFSET_OUT_OF_RANGE' && error.startOffset !== undefined ? BigInt(error.startOffset) : undefined;
}

/**
 * One member process: runs sessions (join → consume/commit/heartbeat) until `done()` says the group
 * has caught up; random leave, crash and pause actions end a session early.
 */
export async function runMember(call: Call, topic: string, history: GroupHistory, random: () => number, done: () => boolean, now: Clock = Date.now, options: MemberOptions = {}): Promise<void> {
  let memberId: string | undefined;
  while (!done()) {
    const session = await join(call, topic, history, memberId, now, options);
    if (session === 'gone') memberId = undefined; // expired (or never created): come back as a new member
    if (session === undefined || session === 'gone') {
      await sleep(10);
      continue;
    }
    memberId = session.memberId;
    const ended = await consume(call, topic, session, history, random, done, now);
    if (ended === 'crash') memberId = undefined; // a restarted process comes back as a new member
    if (ended === 'leave') {
      await call('DELETE', `/v1/groups/${GROUP}/members/${session.memberId}`);
      memberId = undefined;
    }
  }
  if (memberId) await call('DELETE', `/v1/groups/${GROUP}/members/${memberId}`);
}

/** One join (a rejoin with `memberId`): a session when answered 200, 'gone' when the member is unknown (404). */
export async function join(call: Call, topic: string, history: GroupHistory, memberId: string | undefined, now: Clock = Date.now, options: MemberOptions = {}): Promise<Session | 'gone' | undefined> {
  const response = await call('POST', `/v1/groups/${GROUP}/members`, '', { topics: [topic], sessionTimeoutMs: SESSION_TIMEOUT_MS, ...(memberId ? { memberId } : {}) });
  if (response?.status === 404) return 'gone';
  if (response?.status !== 200) return undefined;
  const answeredAt = now();
  const answer = bodyOf(response) as {
    memberId: string;
    generation: number;
    assignments: Array<{ partition: number; committedOffset: string | null }>;
    revoking: Array<{ partition: number }>;
  };
  if (memberId) history.actions.rejoins++;
  const session: Session = {
    memberId: answer.memberId,
    generation: answer.generation,
    assigned: answer.assignments.map((a) => a.partition),
    revoking: answer.revoking.map((r) => r.partition),
    runs: new Map(),
    position: new Map(),
    leaseConfirmedAt: answeredAt,
    leaseMaybeRenewedAt: answeredAt,
  };
  history.joins.push({ memberId: session.memberId, generation: session.generation, owned: new Set([...session.assigned, ...session.revoking]) });
  const latestFrom = options.latestFrom?.() ?? Number.POSITIVE_INFINITY;
  const resetToLatest = answer.assignments.some((a) => a.committedOffset === null && a.partition >= latestFrom);
  const described = resetToLatest ? await call('GET', `/v1/topics/${topic}`) : undefined;
  const ends = described?.status === 200 ? (bodyOf(described) as { partitions: Array<{ endOffset: string }> }).partitions.map((p) => BigInt(p.endOffset)) : [];
  for (const a of answer.assignments) {
    const latest = a.committedOffset === null && a.partition >= latestFrom;
    // Without the end offset (the describe failed), start where nothing can be skipped: the reading is checked the same way.
    const start = a.committedOffset !== null ? BigInt(a.committedOffset) : latest ? (ends[a.partition] ?? 0n) : 0n;
    session.position.set(a.partition, start);
    const run: ReadRun = { memberId: session.memberId, generation: session.generation, partition: a.partition, start, offsets: [] };
    session.runs.set(a.partition, run);
    history.runs.push(run);
  }
  return session;
}

async function consume(
  call: Call,
  topic: string,
  session: Session,
  history: GroupHistory,
  random: () => number,
  done: () => boolean,
  now: Clock,
): Promise<'rejoin' | 'crash' | 'leave' | 'done'> {
  for (let round = 0; !done(); round++) {
    const action = random();
    if (action < 0.01) {
      history.actions.crashes++;
      return 'crash';
    }
    if (action < 0.02) {
      history.actions.leaves++;
      return 'leave';
    }
    if (action < 0.03) {
      // A zombie: it sleeps past its session, then commits as if nothing happened. Must be refused.
      history.actions.pauses++;
      await sleep(SESSION_TIMEOUT_MS * 1.5);
      await commit(call, topic, session, history, now);
      return 'crash';
    }
    for (const partition of session.assigned) {
      const from = session.position.get(partition)!;
      const response = await call('GET', `/v1/topics/${topic}/partitions/${partition}/records`, `offset=${from}&maxBytes=2048&maxWaitMs=0`);
      const startOffset = response?.status === 416 ? logStartOf(response) : undefined;
      if (startOffset !== undefined && startOffset > from) {
        // Deleted before this member read them (deleteRecords): reset to the log start, as
        // auto.offset.reset=earliest does; the reading from there is a new run.
        history.actions.resetsToLogStart++;
        session.position.set(partition, startOffset);
        const run: ReadRun = { memberId: session.memberId, generation: session.generation, partition, start: startOffset, offsets: [] };
        session.runs.set(partition, run);
        history.runs.push(run);
        continue;
      }
      if (response?.status !== 200) continue;
      const body = bodyOf(response) as { records: Array<{ offset: string }>; nextOffset: string };
      const run = session.runs.get(partition)!;
      for (const record of body.records) run.offsets.push(BigInt(record.offset));
      const next = BigInt(body.nextOffset);
      if (next > from) session.position.set(partition, next);
    }
    const committed = await commit(call, topic, session, history, now);
    if (committed === 'fenced') return 'rejoin';
    if (session.revoking.length > 0) return 'rejoin'; // committed what is moving away: rejoin to release it
    const beat = await heartbeat(call, session, now);
    if (beat === 'gone') return 'crash';
    if (beat === 'rebalance') return 'rejoin';
    if (round % 4 === 3) await sleep(20);
  }
  return 'done';
}

/** One heartbeat, recorded on the session: whether the lease was (or may have been) renewed. */
export async function heartbeat(call: Call, session: Session, now: Clock = Date.now): Promise<'ok' | 'rebalance' | 'gone' | 'failed'> {
  const response = await call('POST', `/v1/groups/${GROUP}/members/${session.memberId}/heartbeat`, '', { generation: session.generation });
  const answeredAt = now();
  if (response?.status === 404) return 'gone'; // not renewed: the lease had expired or was gone
  session.leaseMaybeRenewedAt = answeredAt; // answered 200, or failed after its lease write may have landed
  if (response?.status !== 200) return 'failed';
  session.leaseConfirmedAt = answeredAt;
  return (bodyOf(response) as { rebalance: boolean }).rebalance ? 'rebalance' : 'ok';
}

/** One commit of every position of the session, recorded per partition. */
export async function commit(call: Call, topic: string, session: Session, history: GroupHistory, now: Clock = Date.now): Promise<'ok' | 'fenced' | 'failed'> {
  const offsets = [...session.position].map(([partition, offset]) => ({ topic, partition, offset: offset.toString() }));
  if (offsets.length === 0) return 'ok';
  const sentAt = now();
  const response = await call('POST', `/v1/groups/${GROUP}/offsets`, '', { memberId: session.memberId, generation: session.generation, offsets });
  const accepted = response?.status === 200;
  // An unanswered commit may have landed: record it as accepted only when the answer says so.
  for (const [partition, offset] of session.position) {
    history.commits.push({
      memberId: session.memberId,
      generation: session.generation,
      partition,
      offset,
      accepted,
      sentAt,
      leaseConfirmedAt: session.leaseConfirmedAt,
      leaseMaybeRenewedAt: session.leaseMaybeRenewedAt,
    });
  }
  if (accepted) return 'ok';
  return response && (response.status === 409 || response.status === 404) ? 'fenced' : 'failed';
}
