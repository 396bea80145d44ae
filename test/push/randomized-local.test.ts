import { describe, it } from 'node:test';
import { localBackend } from '../support/backends.ts';
import { runPushSchedule } from './randomized.ts';

describe('push consumers under random schedules (SQLite + files)', { timeout: 300_000 }, () => {
  it('8 schedules', async () => {
    for (let seed = 1001; seed <= 1008; seed++) await runPushSchedule(seed, localBackend);
  });
});
