/**
 * `npm run verify [-- --long] [--seed N] [--backend memory|local|aws]`: fault-injecting runs checked
 * by the history checker. Ends with exactly one summary line; exits non-zero on any anomaly.
 */
import { awsEmulatorBackend, localBackend, memoryBackend, type BackendFactory } from '../test/support/backends.ts';
import { anomalies, check, summaryLine, type Verdict } from './checker.ts';
import { runOnce, type RunConfig } from './harness.ts';

const BACKENDS: Record<string, BackendFactory> = { memory: memoryBackend, local: localBackend, aws: awsEmulatorBackend };

const SHORT = { producers: 4, clientProducers: 2, groupMembers: 3, requestsPerProducer: 25, recordsPerRequest: 4 };
const LONG = { producers: 8, clientProducers: 4, groupMembers: 4, requestsPerProducer: 280, recordsPerRequest: 8 };

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const long = process.argv.includes('--long');
  const firstSeed = Number(argument('--seed') ?? 1);
  const seeds = argument('--seed') ? [firstSeed] : long ? [1, 2, 3, 4] : [1, 2];
  const backends = argument('--backend') ? [argument('--backend')!] : ['memory', 'local', 'aws'];
  const size = long ? LONG : SHORT;
  const total: Verdict = {
    acked: 0, lost: 0, duplicated: 0, inconsistent: 0, gaps: 0, orderViolations: 0, fencedCommitsAccepted: 0, faults: 0,
    faultsByKind: { definite: 0, ambiguous: 0, throttle: 0, latency: 0, crash: 0, zombie: 0 },
    group: { commitsAccepted: 0, fencedCommitsAccepted: 0, twoOwners: 0, skipsOrRewinds: 0, unprocessedBelowCommit: 0, renewedByUnansweredHeartbeat: 0 },
    push: { deliveries: 0, acknowledged: 0, deadLettered: 0, unhandled: 0, deadLetteredTwice: 0, orderViolations: 0, committedPastUnhandled: 0 },
    direct: { seen: 0, unseen: 0 },
    examples: [],
  };
  let unexercised = 0;
  for (const backend of backends) {
    for (const seed of seeds) {
      const config: RunConfig = { seed, partitions: 4, readersPerPartition: 1, faults: { storage: 0.04, points: 0.05, zombieMs: 400 }, ...size };
      const started = Date.now();
      const history = await runOnce(config, BACKENDS[backend]);
      const verdict = check(history);
      console.error(`  ${backend} seed ${seed}: ${summaryLine(verdict)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      console.error(`    faults ${JSON.stringify(verdict.faultsByKind)}; maintenance ${JSON.stringify(history.maintenance)}; entries ${JSON.stringify(history.storage)}`);
      // Payload sizes straddle the inline threshold: a run that wrote only one kind of entry checked half the log.
      if (!history.storage || history.storage.inlineEntries === 0 || history.storage.objectEntries === 0) {
        console.error(`    the run did not write both inline and object entries: ${JSON.stringify(history.storage)}`);
        unexercised++;
      }
      console.error(`    seeks by time: ${history.seeks?.checked ?? 0} checked against a scan of the log, ${history.seeks?.points ?? 0} time index points`);
      if (!history.seeks?.checked) unexercised++;
      console.error(`    timestamps: ${history.timestampSwitch ? `LogAppendTime from ${history.timestampSwitch.ackedBefore} acknowledged records on` : 'the switch to LogAppendTime never landed'}`);
      if (!history.timestampSwitch) unexercised++;
      const growth = history.growth;
      const added = growth ? [...history.final].filter(([partition, log]) => partition >= growth.from && log.size > 0).length : 0;
      const groupOnAdded = growth ? [...history.group.finalCommitted.keys()].filter((partition) => partition >= growth.from).length : 0;
      console.error(
        growth?.answered
          ? `    partitions: ${growth.from} → ${growth.to} from ${growth.ackedBefore} acknowledged records on; ${added} added partitions hold records, the group committed on ${groupOnAdded}`
          : `    partitions: ${growth ? 'adding them was never answered' : 'never added'}`,
      );
      if (!growth?.answered || added === 0 || groupOnAdded === 0) unexercised++;
      const deletion = history.deletion;
      console.error(
        deletion?.answered
          ? `    deleteRecords: partition ${deletion.partition} before ${deletion.before} (${deletion.prefix.size} records deleted mid-run); log start ${deletion.finalStart} after maintenance, ${deletion.entriesLeftBelowStart} entries left below it; ${deletion.readersMovedOn} tail reads moved on from it; ${deletion.retriesRefused} records of keyed retries refused (their first attempt's records deleted)`
          : `    deleteRecords: ${deletion ? `before ${deletion.before} was never answered` : 'never sent (partition 0 had fewer than 2 records)'}`,
      );
      if (!deletion?.answered) unexercised++;
      console.error(`    group ${JSON.stringify(verdict.group)}; member actions ${JSON.stringify(history.group.actions)}, ${history.group.joins.length} joins`);
      console.error(`    push ${JSON.stringify(verdict.push)}; ${history.push.dispatchersReplaced} dispatchers replaced after crashes`);
      const direct = history.direct;
      console.error(`    SDK consumer: ${verdict.direct.seen} records handed, ${verdict.direct.unseen} never; reads ${JSON.stringify(direct?.stats)}${direct?.crashed ? `; crashed: ${direct.crashed}` : ''}`);
      // The point is the direct path: a run whose reads all went through the API did not check it.
      if (!direct?.caughtUp || !direct.stats || direct.stats.rangeGets + direct.stats.inlineRanges === 0) unexercised++;
      for (const example of verdict.examples) console.error(`    ${example}`);
      for (const key of ['acked', 'lost', 'duplicated', 'inconsistent', 'gaps', 'orderViolations', 'fencedCommitsAccepted', 'faults'] as const) total[key] += verdict[key];
    }
  }
  console.log(summaryLine(total));
  if (anomalies(total) > 0 || unexercised > 0) process.exitCode = 1;
}

await main();
