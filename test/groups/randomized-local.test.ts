/** The random schedules of chaos.ts on the local filesystem + SQLite backend (fewer than on memory: each step is real I/O). */
import { it, before, after } from 'node:test';
import { localBackend, type Backend } from '../support/backends.ts';
import { runSchedule } from './chaos.ts';

let backend: Backend;
before(async () => {
  backend = await localBackend();
});
after(async () => backend.teardown());

const count = Number(process.env.GROUP_SCHEDULES_SLOW ?? 20);

it(`${count} random schedules on local filesystem + SQLite keep invariant 5`, { timeout: 1_200_000 }, async () => {
  for (let seed = 100_001; seed <= 100_000 + count; seed++) {
    await runSchedule(seed, backend).catch((error: Error) => {
      throw error.message.startsWith('seed ') ? error : new Error(`seed ${seed}: ${error.stack}`);
    });
  }
});
