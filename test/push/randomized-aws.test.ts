import { describe, it } from 'node:test';
import { awsEmulatorBackend } from '../support/backends.ts';
import { runPushSchedule } from './randomized.ts';

describe('push consumers under random schedules (DynamoDB and S3 emulators)', { timeout: 300_000 }, () => {
  it('3 schedules', async () => {
    for (let seed = 2001; seed <= 2003; seed++) await runPushSchedule(seed, awsEmulatorBackend, 30);
  });
});
