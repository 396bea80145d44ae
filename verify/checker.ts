/**
 * Checks a recorded history, Jepsen style: acknowledged records lost, values duplicated, offsets
 * holding two values, offset gaps not explained by aborted ranges, records read out of order.
 */
import type { FaultKind } from './faults.ts';
import { SESSION_TIMEOUT_MS, type GroupHistory } from './group-workload.ts';
import type { PushHistory } from './push-workload.ts';
import type { DirectReadHistory } from './direct-reader.ts';

export interface History {
  /** value → where its produce was acknowledged */
  readonly acked: Map<string, { partition: number; offset: bigint }>;
  /** every value any producer sent (acknowledged or not) */
  readonly attempted: Set<string>;
  /** what readers saw while the run was going on */
  readonly observations: Array<{ partition: number; offset: bigint; value: string }>;
  readonly orderViolations: Array<{ partition: number; expectedAtLeast: bigint; got: bigint }>;
  /** the catch-up read after healing: partition → offset → values there */
  readonly final: Map<number, Map<bigint, string[]>>;
  /** partition → aborted ranges [start, end) */
  readonly aborted: Map<number, ReadonlyArray<readonly [bigint, bigint]>>;
  readonly faults: Record<FaultKind, number>;
  /** Faults injected into the maintenance process. */
  readonly maintenanceFaults: Record<FaultKind, number>;
  /** What maintenance did during the run (compaction under faults is part of what is checked). */
  readonly maintenance: { passes: number; segmentsWritten: number; gapsClosed: number; objectsDeleted: number };
  /**
   * Log entries the producers wrote, by where their batches went: inline in the entry, or a range of
   * an ingest object. A run must exercise both (payload sizes straddle DEFAULTS.inlineMaxBytes).
   */
  readonly storage?: { inlineEntries: number; objectEntries: number };
  readonly group: GroupHistory;
  readonly push: PushHistory;
  /** When the topic became LogAppendTime (PATCH through the faulted app, mid-run): how many records were acknowledged before. */
  timestampSwitch?: { ackedBefore: number };
  /** Searches by time checked against a scan of the final log (harness.ts checkSeeks); each wrong answer is an inconsistency. */
  seeks?: { checked: number; points: number; wrong: string[] };
  /** Partitions added to the topic mid-run through the faulted API (from → to; answered 200: it landed). */
  growth?: { readonly from: number; readonly to: number; answered: boolean; ackedBefore?: number };
  /** The SDK consumer reading straight from the object store (direct-reader.ts); absent in older histories. */
  readonly direct?: DirectReadHistory;
  /** A partition's records before `before`, deleted mid-run through the faulted API (deleteRecords). */
  deletion?: Deletion;
}

export interface Deletion {
  readonly partition: number;
  readonly before: bigint;
  /**
   * The partition's records below `before` as a healthy reader read them just before the delete was
   * sent: a committed prefix never changes, so this stands in for the final read there.
   */
  readonly prefix: Map<bigint, string[]>;
  /** The aborted ranges [start, end) below `before` at that time, which explain the prefix's gaps. */
  readonly prefixAborted: ReadonlyArray<readonly [bigint, bigint]>;
  /** Tailing readers that were answered OFFSET_OUT_OF_RANGE below the new start and went on from it. */
  readersMovedOn: number;
  /** Records of keyed retries refused because the records where their first attempt was placed were deleted (not acknowledged, so not owed). */
  retriesRefused: number;
  /** The DELETE was answered 200 (it was retried until it was; an unanswered one may have landed). */
  answered: boolean;
  /** After healing and maintenance: the partition's log start (must be `before` once answered). */
  finalStart?: bigint;
  /** A healthy read just below `before` was answered with records instead of OFFSET_OUT_OF_RANGE. */
  readableBelowStart?: boolean;
  /** Log entries wholly below the log start left after the healed maintenance passes (must be 0). */
  entriesLeftBelowStart?: number;
}

/** The final log with a deleted prefix put back: what each offset held, whether or not it is still readable. */
function wholeLogs(history: History): Map<number, Map<bigint, string[]>> {
  const deletion = history.deletion;
  if (!deletion) return history.final;
  const logs = new Map(history.final);
  logs.set(deletion.partition, new Map([...deletion.prefix, ...(history.final.get(deletion.partition) ?? [])]));
  return logs;
}

/** The records a consumer may never have seen because they were deleted first (Kafka's semantics too). */
function deletedBeforeSeen(history: History): (partition: number, offset: bigint) => boolean {
  const deletion = history.deletion;
  return (partition, offset) => deletion !== undefined && partition === deletion.partition && offset < deletion.before;
}

export interface Verdict {
  acked: number;
  lost: number;
  duplicated: number;
  inconsistent: number;
  gaps: number;
  orderViolations: number;
  fencedCommitsAccepted: number;
  faults: number;
  faultsByKind: Record<FaultKind, number>;
  /** The group checks, counted into the summary: fenced commits and double owners into F, skips and rewinds into O. */
  group: {
    commitsAccepted: number;
    fencedCommitsAccepted: number;
    twoOwners: number;
    skipsOrRewinds: number;
    unprocessedBelowCommit: number;
    /**
     * Not an anomaly: accepted commits sent over a session after the last heartbeat answered 200, whose
     * lease a later heartbeat renewed although it was answered with an error (its lease write landed,
     * then it failed). Counting only confirmed renewals, an earlier checker took these for fenced commits.
     */
    renewedByUnansweredHeartbeat: number;
  };
  /** The push-consumer checks, counted into the summary: records never handled into L, dead letters twice into D, order into O, commits past unhandled records into I. */
  push: { deliveries: number; acknowledged: number; deadLettered: number; unhandled: number; deadLetteredTwice: number; orderViolations: number; committedPastUnhandled: number };
  /** The SDK consumer's direct reads: records of the final log it was handed, and those it never was (counted into O). */
  direct: { seen: number; unseen: number };
  /** A few examples of each anomaly, for the report. */
  examples: string[];
}

export function check(history: History): Verdict {
  const examples: string[] = [];
  const note = (text: string) => examples.length < 20 && examples.push(text);
  const located = new Map<string, Array<{ partition: number; offset: bigint }>>();
  let inconsistent = 0;
  let gaps = 0;
  const logs = wholeLogs(history);

  for (const [partition, offsets] of logs) {
    const sorted = [...offsets.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [offset, values] of offsets) {
      if (values.length > 1) {
        inconsistent++;
        note(`offset ${partition}/${offset} holds ${values.length} values`);
      }
      for (const value of values) {
        if (!history.attempted.has(value)) {
          inconsistent++;
          note(`offset ${partition}/${offset} holds ${value}, which nobody sent`);
        }
        const places = located.get(value) ?? [];
        places.push({ partition, offset });
        located.set(value, places);
      }
    }
    const aborted = [...(history.aborted.get(partition) ?? []), ...(partition === history.deletion?.partition ? history.deletion.prefixAborted : [])];
    const explained = (offset: bigint) => aborted.some(([start, end]) => offset >= start && offset < end);
    if (sorted.length > 0) {
      for (let offset = sorted[0]; offset < sorted[sorted.length - 1]; offset++) {
        if (!offsets.has(offset) && !explained(offset)) {
          gaps++;
          note(`gap at ${partition}/${offset}`);
        }
      }
    }
  }

  let lost = 0;
  for (const [value, ack] of history.acked) {
    const places = located.get(value) ?? [];
    if (!places.some((p) => p.partition === ack.partition && p.offset === ack.offset)) {
      if (places.length === 0) {
        lost++;
        note(`acknowledged ${value} at ${ack.partition}/${ack.offset} is lost`);
      } else {
        inconsistent++;
        note(`acknowledged ${value} at ${ack.partition}/${ack.offset} is at ${places.map((p) => `${p.partition}/${p.offset}`).join(', ')}`);
      }
    }
  }
  let duplicated = 0;
  for (const [value, places] of located) {
    if (places.length > 1) {
      duplicated++;
      note(`${value.slice(0, 40)} appears ${places.length} times: at ${places.map((p) => `${p.partition}/${p.offset}`).join(', ')}${history.acked.has(value) ? `; acknowledged at ${history.acked.get(value)!.partition}/${history.acked.get(value)!.offset}` : ''}`);
    }
  }
  for (const seen of history.observations) {
    const final = logs.get(seen.partition)?.get(seen.offset);
    if (!final?.includes(seen.value)) {
      inconsistent++;
      note(`a reader saw ${seen.value} at ${seen.partition}/${seen.offset}; the log holds ${final?.join(',') ?? 'nothing'} there`);
    }
  }
  for (const wrong of history.seeks?.wrong ?? []) {
    inconsistent++;
    note(wrong);
  }
  inconsistent += checkDeletion(history.deletion, note);
  for (const v of history.orderViolations) note(`order: partition ${v.partition} went back to ${v.got} after ${v.expectedAtLeast}`);

  const group = checkGroup(history, logs, note);
  const push = checkPush(history, logs, note);
  const direct = checkDirect(history, note);
  const faultsByKind = { ...history.faults };
  for (const [kind, count] of Object.entries(history.maintenanceFaults)) faultsByKind[kind as FaultKind] += count;
  const faults = Object.values(faultsByKind).reduce((a, b) => a + b, 0);
  return {
    acked: history.acked.size,
    lost: lost + push.unhandled,
    duplicated: duplicated + push.deadLetteredTwice,
    inconsistent: inconsistent + push.committedPastUnhandled,
    gaps,
    orderViolations: history.orderViolations.length + group.skipsOrRewinds + group.unprocessedBelowCommit + push.orderViolations + direct.unseen,
    fencedCommitsAccepted: group.fencedCommitsAccepted + group.twoOwners,
    group,
    push,
    direct,
    faults,
    faultsByKind,
    examples,
  };
}

export function summaryLine(v: Verdict): string {
  return (
    `verify: ${v.acked} acked, ${v.lost} lost, ${v.duplicated} duplicated, ${v.inconsistent} inconsistent, ${v.gaps} gaps, ` +
    `${v.orderViolations} order violations, ${v.fencedCommitsAccepted} fenced-commits accepted, ${v.faults} faults injected`
  );
}

export function anomalies(v: Verdict): number {
  return v.lost + v.duplicated + v.inconsistent + v.gaps + v.orderViolations + v.fencedCommitsAccepted;
}

/**
 * The SDK consumer's checks (what it was handed is checked with the readers' observations, and its
 * order per partition as it went): every record of the final log — from the log start, so records
 * deleted before it got there are not owed — was handed to it.
 */
function checkDirect(history: History, note: (text: string) => void): Verdict['direct'] {
  if (!history.direct) return { seen: 0, unseen: 0 };
  let seen = 0;
  let unseen = 0;
  for (const [partition, offsets] of history.final) {
    const handed = new Set(history.direct.seen.get(partition) ?? []);
    for (const offset of offsets.keys()) {
      if (handed.has(offset)) seen++;
      else if (++unseen <= 5) note(`the SDK consumer was never handed ${partition}@${offset}${history.direct.crashed ? ` (it crashed: ${history.direct.crashed})` : ''}`);
    }
  }
  return { seen, unseen };
}

/**
 * deleteRecords checks: once answered, the log starts exactly where it was asked to (nothing else
 * moves it in a run: retention is off), nothing below it is readable, and maintenance left no entry
 * wholly below it.
 */
function checkDeletion(deletion: Deletion | undefined, note: (text: string) => void): number {
  if (!deletion) return 0;
  let inconsistent = 0;
  const where = `partition ${deletion.partition}`;
  if (deletion.answered && deletion.finalStart !== deletion.before) {
    inconsistent++;
    note(`deleteRecords(${where}, before ${deletion.before}) was answered, and the log starts at ${deletion.finalStart}`);
  }
  if (deletion.readableBelowStart) {
    inconsistent++;
    note(`${where}: a read below the log start ${deletion.finalStart} was answered with records`);
  }
  if (deletion.entriesLeftBelowStart) {
    inconsistent++;
    note(`${where}: ${deletion.entriesLeftBelowStart} log entries wholly below the log start outlived maintenance`);
  }
  return inconsistent;
}

/**
 * Consumer-group checks: no partition owned by two members in one generation; no commit accepted
 * from a member that did not own the partition in its generation, or whose lease had certainly
 * expired when it sent the commit; within one member's reading of a partition after a join, no skip
 * and no rewind against the final log; and every record below the group's final committed offset
 * processed by some member (at least once), unless deleteRecords removed it first.
 *
 * "Certainly expired": the server renews a lease to (its clock when serving the call) + session
 * timeout and serves a call before answering it, so a lease lasts at most until the answer of the
 * last call that may have renewed it + the session timeout. That call is any join or heartbeat not
 * answered 404 — including one answered with an error or not at all, whose lease write may have landed
 * before it failed. A commit the server accepts was checked no earlier than it was sent, so one sent at
 * or after that bound was accepted from an expired lease.
 */
function checkGroup(history: History, logs: History['final'], note: (text: string) => void): Verdict['group'] {
  const { joins, commits, runs, finalCommitted } = history.group;
  const owners = new Map<string, string>();
  const owned = new Map<string, ReadonlySet<number>>();
  let twoOwners = 0;
  for (const join of joins) {
    owned.set(`${join.memberId}@${join.generation}`, join.owned);
    for (const partition of join.owned) {
      const key = `${join.generation}/${partition}`;
      const owner = owners.get(key);
      if (owner !== undefined && owner !== join.memberId) {
        twoOwners++;
        note(`generation ${join.generation}: partition ${partition} owned by ${owner} and ${join.memberId}`);
      }
      owners.set(key, join.memberId);
    }
  }
  let fencedCommitsAccepted = 0;
  let commitsAccepted = 0;
  let renewedByUnansweredHeartbeat = 0;
  for (const commit of commits) {
    if (!commit.accepted) continue;
    commitsAccepted++;
    const mine = owned.get(`${commit.memberId}@${commit.generation}`);
    const expired = commit.sentAt >= commit.leaseMaybeRenewedAt + SESSION_TIMEOUT_MS;
    if (!mine?.has(commit.partition) || expired) {
      fencedCommitsAccepted++;
      note(
        `accepted a commit of ${commit.partition}@${commit.offset} from ${commit.memberId} (generation ${commit.generation}, ${expired ? `lease expired: sent ${commit.sentAt - commit.leaseMaybeRenewedAt} ms after its last possible renewal` : 'not its partition'})`,
      );
    } else if (commit.sentAt > commit.leaseConfirmedAt + SESSION_TIMEOUT_MS) {
      renewedByUnansweredHeartbeat++;
    }
  }
  let skipsOrRewinds = 0;
  const processed = new Map<number, Set<bigint>>();
  for (const run of runs) {
    const log = [...(logs.get(run.partition)?.keys() ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let expectedIndex = log.findIndex((offset) => offset >= run.start);
    for (const offset of run.offsets) {
      if (expectedIndex < 0 || log[expectedIndex] !== offset) {
        skipsOrRewinds++;
        note(`${run.memberId} read ${run.partition}@${offset} after a join at ${run.start}; the next record was ${expectedIndex < 0 ? 'none' : log[expectedIndex]}`);
        break;
      }
      expectedIndex = expectedIndex + 1 < log.length ? expectedIndex + 1 : -1;
      let seen = processed.get(run.partition);
      if (!seen) processed.set(run.partition, (seen = new Set()));
      seen.add(offset);
    }
  }
  let unprocessedBelowCommit = 0;
  const deleted = deletedBeforeSeen(history);
  for (const [partition, committed] of finalCommitted) {
    for (const offset of logs.get(partition)?.keys() ?? []) {
      if (offset < committed && !processed.get(partition)?.has(offset) && !deleted(partition, offset)) {
        unprocessedBelowCommit++;
        note(`${partition}@${offset} is below the committed ${committed} but no member processed it`);
      }
    }
  }
  return { commitsAccepted, fencedCommitsAccepted, twoOwners, skipsOrRewinds, unprocessedBelowCommit, renewedByUnansweredHeartbeat };
}

/**
 * Push-consumer checks: every record of the final log was acknowledged by the target or is in the
 * dead-letter topic (when the run had a push consumer), unless deleteRecords removed it first; nothing is there twice; first deliveries came in offset order per partition; no
 * committed offset is past a record that was neither acknowledged nor dead-lettered.
 */
function checkPush(history: History, logs: History['final'], note: (text: string) => void): Verdict['push'] {
  const push = history.push;
  if (push.finalCommitted.size === 0) return { deliveries: 0, acknowledged: 0, deadLettered: 0, unhandled: 0, deadLetteredTwice: 0, orderViolations: push.orderViolations, committedPastUnhandled: 0 };
  for (const example of push.examples) note(example);
  const dead = new Set(push.deadLetters);
  const handled = (partition: number, offset: bigint) => push.acked.get(partition)?.has(offset) === true || dead.has(`${partition}/${offset}`);
  let unhandled = 0;
  let committedPastUnhandled = 0;
  let acknowledged = 0;
  const deleted = deletedBeforeSeen(history);
  for (const [partition, offsets] of logs) {
    const committed = push.finalCommitted.get(partition) ?? 0n;
    for (const offset of offsets.keys()) {
      if (push.acked.get(partition)?.has(offset)) acknowledged++;
      if (handled(partition, offset) || deleted(partition, offset)) continue;
      unhandled++;
      note(`push: ${partition}@${offset} was neither delivered nor dead-lettered`);
      if (offset < committed) {
        committedPastUnhandled++;
        note(`push: committed ${partition}@${committed} past the unhandled ${offset}`);
      }
    }
  }
  const deadLetteredTwice = push.deadLetters.length - dead.size;
  if (deadLetteredTwice > 0) note(`push: ${deadLetteredTwice} records are in the dead-letter topic twice`);
  return { deliveries: push.deliveries, acknowledged, deadLettered: dead.size, unhandled, deadLetteredTwice, orderViolations: push.orderViolations, committedPastUnhandled };
}
