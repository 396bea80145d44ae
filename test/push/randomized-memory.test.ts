import { describe, it } from 'node:test';
import { memoryBackend } from '../support/backends.ts';
import { runPushSchedule } from './randomized.ts';

const only = process.env.PUSH_SEED ? [Number(process.env.PUSH_SEED)] : undefined;
const seeds = only ?? Array.from({ length: Number(process.env.PUSH_SCHEDULES ?? 60) }, (_, i) => i + 1);

describe('push consumers under random schedules (memory)', { timeout: 300_000 }, () => {
  it(`${seeds.length} schedules: order of first deliveries, no commit past an unhandled record, no fenced commit, all delivered or dead-lettered once`, async () => {
    const totals = { delivered: 0, deadLettered: 0, crashes: 0, zombies: 0 };
    for (const seed of seeds) {
      const result = await runPushSchedule(seed, memoryBackend);
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += result[key];
    }
    // The schedules must exercise what they claim to.
    if (!only) for (const [key, value] of Object.entries(totals)) if (value === 0) throw new Error(`no ${key} in ${seeds.length} schedules`);
  });
});
