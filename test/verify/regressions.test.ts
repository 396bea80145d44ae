/**
 * Seeds that once found a bug, kept as regression tests (the full suite is `npm run verify`).
 * - memory seed 2: a fetch whose first range read failed left later range reads rejecting unhandled,
 *   which killed the process (fixed in lib/log/read.ts).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { memoryBackend } from '../support/backends.ts';
import { anomalies, check, summaryLine } from '../../verify/checker.ts';
import { runOnce } from '../../verify/harness.ts';

for (const seed of [2]) {
  it(`verify seed ${seed} on memory: no anomalies`, async () => {
    const history = await runOnce(
      { seed, partitions: 4, producers: 4, clientProducers: 2, groupMembers: 3, requestsPerProducer: 25, recordsPerRequest: 4, readersPerPartition: 1, faults: { storage: 0.04, points: 0.05, zombieMs: 400 } },
      memoryBackend,
    );
    const verdict = check(history);
    assert.equal(anomalies(verdict), 0, `${summaryLine(verdict)}\n${verdict.examples.join('\n')}`);
    assert.equal(verdict.acked + (history.deletion?.retriesRefused ?? 0), 600, 'every record acknowledged, but those of retries refused after deleteRecords');
    assert.ok(verdict.faults > 100);
    assert.ok(verdict.group.commitsAccepted > 0 && history.group.joins.length > 3, 'the group took part: its checks are not vacuous');
    assert.ok(history.timestampSwitch && history.timestampSwitch.ackedBefore > 0 && history.timestampSwitch.ackedBefore < verdict.acked, `the topic became LogAppendTime mid-run: ${JSON.stringify(history.timestampSwitch)}`);
    assert.ok(history.seeks && history.seeks.checked > 0 && history.seeks.wrong.length === 0, JSON.stringify(history.seeks));
    assert.ok(history.growth?.answered && history.final.size === history.growth.to, 'partitions were added mid-run');
    assert.ok([...history.group.finalCommitted.keys()].some((partition) => partition >= history.growth!.from), 'the group took the added partitions in');
    assert.ok(history.direct?.caughtUp && verdict.direct.seen > 0 && history.direct.stats!.rangeGets + history.direct.stats!.inlineRanges > 0, `the SDK consumer read the log straight from the store: ${JSON.stringify(history.direct?.stats)}`);
    const deletion = history.deletion;
    assert.ok(deletion?.answered && deletion.prefix.size > 0, 'records were deleted mid-run through the API');
    assert.equal(deletion.finalStart, deletion.before);
    assert.equal(deletion.entriesLeftBelowStart, 0);
  });
}
