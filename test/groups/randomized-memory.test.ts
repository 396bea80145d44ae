/**
 * Invariant 5 under random schedules (see chaos.ts): 1,000 seeded schedules on the memory backend.
 * Replay one with GROUP_SEED=<seed>; run more with GROUP_SCHEDULES=<n>.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { runSchedule, type ScheduleStats } from './chaos.ts';

const only = process.env.GROUP_SEED ? [Number(process.env.GROUP_SEED)] : undefined;
const count = Number(process.env.GROUP_SCHEDULES ?? 1000);

it(`${only ? `schedule ${only[0]}` : `${count} random schedules`} of joins, leaves, crashes, pauses and commits keep invariant 5`, async () => {
  const total: ScheduleStats = { steps: 0, joins: 0, commitsAccepted: 0, commitsRejected: 0, generations: 0, crashes: 0, fencedCommits: 0, stalledTakeovers: 0, storageFaults: 0 };
  for (const seed of only ?? Array.from({ length: count }, (_, i) => i + 1)) {
    const stats = await runSchedule(seed, { metadata: new MemoryMetadataStore(), objects: new MemoryObjectStore() }).catch((error: Error) => {
      throw error.message.startsWith('seed ') ? error : new Error(`seed ${seed}: ${error.stack}`);
    });
    for (const k of Object.keys(total) as Array<keyof ScheduleStats>) total[k] += stats[k];
  }
  // the schedules exercised what they claim to
  if (!only) assert.ok(total.commitsAccepted > 0 && total.fencedCommits > 0 && total.stalledTakeovers > 0 && total.crashes > 0 && total.storageFaults > 0, JSON.stringify(total));
  console.log(`randomized groups: ${JSON.stringify(total)}`);
});
