/** The history checker finds each kind of anomaly in a synthetic history, and none in a clean one. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { check, type History } from '../../verify/checker.ts';
import { emptyGroupHistory } from '../../verify/group-workload.ts';
import { emptyPushHistory } from '../../verify/push-workload.ts';

function clean(): History {
  const final = new Map([[0, new Map<bigint, string[]>([[0n, ['a']], [1n, ['b']], [3n, ['c']]])]]);
  return {
    acked: new Map([['a', { partition: 0, offset: 0n }], ['b', { partition: 0, offset: 1n }], ['c', { partition: 0, offset: 3n }]]),
    attempted: new Set(['a', 'b', 'c', 'd']),
    observations: [{ partition: 0, offset: 1n, value: 'b' }],
    orderViolations: [],
    final,
    aborted: new Map([[0, [[2n, 3n] as const]]]),
    faults: { definite: 1, ambiguous: 0, throttle: 0, latency: 0, crash: 0, zombie: 0 },
    maintenanceFaults: { definite: 0, ambiguous: 0, throttle: 0, latency: 0, crash: 1, zombie: 0 },
    maintenance: { passes: 0, segmentsWritten: 0, gapsClosed: 0, objectsDeleted: 0 },
    group: emptyGroupHistory(),
    push: emptyPushHistory(),
  };
}

/** A clean history whose run had a push consumer that handled every record. */
function cleanWithPush(): History {
  return { ...clean(), push: { ...emptyPushHistory(), acked: new Map([[0, new Set([0n, 1n, 3n])]]), finalCommitted: new Map([[0, 4n]]) } };
}

describe('history checker', () => {
  it('passes a clean history (an aborted range explains its gap) and counts faults', () => {
    const v = check(clean());
    assert.deepEqual([v.acked, v.lost, v.duplicated, v.inconsistent, v.gaps, v.orderViolations, v.fencedCommitsAccepted, v.faults], [3, 0, 0, 0, 0, 0, 0, 2]);
  });

  it('finds lost, duplicated, inconsistent values and unexplained gaps', () => {
    const h = clean();
    h.acked.set('d', { partition: 0, offset: 4n }); // acknowledged, never in the log
    h.final.get(0)!.set(5n, ['a']); // a duplicate of a, and 4 is an unexplained gap
    h.final.get(0)!.set(6n, ['x', 'y']); // two values at one offset, neither sent
    const v = check(h);
    assert.equal(v.lost, 1);
    assert.equal(v.duplicated, 1);
    assert.equal(v.gaps, 1);
    assert.ok(v.inconsistent >= 3);
  });

  it('counts reads out of order, double owners, fenced commits, skips and unprocessed committed records', () => {
    const h = clean();
    h.orderViolations.push({ partition: 0, expectedAtLeast: 3n, got: 1n });
    h.group.joins.push({ memberId: 'm1', generation: 2, owned: new Set([0]) }, { memberId: 'm2', generation: 2, owned: new Set([0]) });
    h.group.commits.push({ memberId: 'm3', generation: 2, partition: 0, offset: 1n, accepted: true, sentAt: 10, leaseConfirmedAt: 5, leaseMaybeRenewedAt: 5 }); // not its partition
    h.group.commits.push({ memberId: 'm1', generation: 2, partition: 0, offset: 1n, accepted: true, sentAt: 5000, leaseConfirmedAt: 5, leaseMaybeRenewedAt: 5 }); // lease expired
    h.group.commits.push({ memberId: 'm1', generation: 2, partition: 0, offset: 1n, accepted: false, sentAt: 5000, leaseConfirmedAt: 5, leaseMaybeRenewedAt: 5 }); // refused: fine
    // renewed by a heartbeat at 4500 that failed after its lease write: accepted, and rightly so
    h.group.commits.push({ memberId: 'm1', generation: 2, partition: 0, offset: 1n, accepted: true, sentAt: 5000, leaseConfirmedAt: 5, leaseMaybeRenewedAt: 4500 });
    h.group.runs.push({ memberId: 'm1', generation: 2, partition: 0, start: 0n, offsets: [0n, 3n] }); // skipped 1
    h.group.finalCommitted.set(0, 4n); // 1 and 3... 1 was never processed
    const v = check(h);
    assert.equal(v.group.twoOwners, 1);
    assert.equal(v.group.fencedCommitsAccepted, 2);
    assert.equal(v.group.renewedByUnansweredHeartbeat, 1, 'the commit after an unanswered renewal is not counted as fenced');
    assert.equal(v.group.skipsOrRewinds, 1);
    assert.equal(v.group.unprocessedBelowCommit, 2, 'offsets 1 and 3 (the skip stopped the run)');
    assert.equal(v.fencedCommitsAccepted, 3);
    assert.equal(v.orderViolations, 1 + 1 + 2);
  });

  it('holds a deleted prefix to the same rules, excuses what was deleted before a consumer saw it, and checks the deletion itself', () => {
    // Offsets 0 and 1 (a, b) deleted mid-run: the final read starts at 3 (2 is aborted, 4 was written after).
    const deleted = (): History => {
      const h = cleanWithPush();
      h.final.set(0, new Map([[3n, ['c']], [4n, ['d']]]));
      h.acked.set('d', { partition: 0, offset: 4n });
      h.aborted.set(0, []); // maintenance cleared the aborted entry with the rest
      h.deletion = { partition: 0, before: 3n, prefix: new Map([[0n, ['a']], [1n, ['b']]]), prefixAborted: [[2n, 3n]], answered: true, readersMovedOn: 0, retriesRefused: 0, finalStart: 3n, readableBelowStart: false, entriesLeftBelowStart: 0 };
      h.push.acked.set(0, new Set([0n, 3n, 4n])); // 1 was deleted before it was delivered
      h.push.finalCommitted.set(0, 5n);
      h.group.runs.push({ memberId: 'm1', generation: 1, partition: 0, start: 0n, offsets: [0n] }, { memberId: 'm1', generation: 1, partition: 0, start: 3n, offsets: [3n, 4n] });
      h.group.finalCommitted.set(0, 5n);
      return h;
    };
    const v = check(deleted());
    assert.deepEqual([v.lost, v.duplicated, v.inconsistent, v.gaps, v.orderViolations, v.push.unhandled], [0, 0, 0, 0, 0, 0], v.examples.join('\n'));

    const lostInPrefix = deleted();
    lostInPrefix.deletion!.prefix.delete(1n);
    assert.equal(check(lostInPrefix).lost, 1, 'an acknowledged record missing from the deleted prefix is lost');
    assert.equal(check(lostInPrefix).gaps, 1);
    const seenElsewhere = deleted();
    seenElsewhere.observations.push({ partition: 0, offset: 0n, value: 'b' });
    assert.equal(check(seenElsewhere).inconsistent, 1, 'a reader is checked against the prefix too');
    const startMoved = deleted();
    startMoved.deletion!.finalStart = 4n;
    assert.equal(check(startMoved).inconsistent, 1, 'the log starts where it was asked to, no further');
    const readable = deleted();
    readable.deletion!.readableBelowStart = true;
    assert.equal(check(readable).inconsistent, 1);
    const leftBehind = deleted();
    leftBehind.deletion!.entriesLeftBelowStart = 2;
    assert.equal(check(leftBehind).inconsistent, 1);
    const unansweredElsewhere = deleted();
    unansweredElsewhere.deletion!.answered = false;
    unansweredElsewhere.deletion!.finalStart = 0n;
    assert.equal(check(unansweredElsewhere).inconsistent, 0, 'an unanswered delete may or may not have landed');
    const skipAfterTheStart = deleted();
    skipAfterTheStart.push.acked.get(0)!.delete(4n);
    assert.equal(check(skipAfterTheStart).push.unhandled, 1, 'only records below the deletion are excused');
  });

  it('wants every record of the final log handed to the SDK consumer (from the log start), and counts those it never was', () => {
    const h = clean();
    (h as { direct?: History['direct'] }).direct = { seen: new Map([[0, [0n, 1n, 3n]]]), caughtUp: true };
    assert.deepEqual(check(h).direct, { seen: 3, unseen: 0 });
    h.direct!.seen.set(0, [0n, 3n]);
    const v = check(h);
    assert.deepEqual(v.direct, { seen: 2, unseen: 1 });
    assert.equal(v.orderViolations, 1);
    assert.match(v.examples.join('\n'), /never handed 0@1/);
  });

  it('finds push-consumer anomalies: a record never handled (committed past it), a dead letter twice, first deliveries out of order', () => {
    assert.equal(check(cleanWithPush()).push.unhandled, 0);
    const history = cleanWithPush();
    history.push.acked.get(0)!.delete(1n);
    history.push.deadLetters.push('0/3', '0/3');
    history.push.orderViolations = 1;
    const v = check(history);
    assert.equal(v.push.unhandled, 1);
    assert.equal(v.push.committedPastUnhandled, 1);
    assert.equal(v.push.deadLetteredTwice, 1);
    assert.equal(v.lost, 1);
    assert.equal(v.inconsistent, 1);
    assert.equal(v.duplicated, 1);
    assert.equal(v.orderViolations, 1);
  });
});
