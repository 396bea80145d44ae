/** The random schedules of chaos.ts on the DynamoDB adapter on dynalite backend (fewer than on memory: each step is real I/O). */
import { it, before, after } from 'node:test';
import { awsEmulatorBackend, type Backend } from '../support/backends.ts';
import { runSchedule } from './chaos.ts';

let backend: Backend;
before(async () => {
  backend = await awsEmulatorBackend();
});
after(async () => backend.teardown());

const count = Number(process.env.GROUP_SCHEDULES_SLOW ?? 6);

it(`${count} random schedules on DynamoDB adapter on dynalite keep invariant 5`, { timeout: 1_800_000 }, async () => {
  for (let seed = 100_001; seed <= 100_000 + count; seed++) {
    await runSchedule(seed, backend).catch((error: Error) => {
      throw error.message.startsWith('seed ') ? error : new Error(`seed ${seed}: ${error.stack}`);
    });
  }
});
