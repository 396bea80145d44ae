/**
 * WAL checkpoints of the SQLite store run on a worker thread (lib/storage/sqlite-checkpointer.ts),
 * never inside a COMMIT on the store's thread: the database file grows only when the worker has
 * checkpointed; a store whose worker falls behind checkpoints between two transactions itself; a
 * process killed while its worker checkpoints loses no acknowledged write and leaves a sound file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { WalCheckpointer } from '../../lib/storage/sqlite-checkpointer.ts';
import { SqliteMetadataStore } from '../../lib/storage/sqlite-metadata-store.ts';
import { waitFor } from '../client/support/wait.ts';

async function withTempDirectory<T>(body: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-checkpoints-'));
  try {
    return await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** `count` items of ~4 KiB under partition `pk`, 16 per group commit, each group awaited. */
async function writeItems(store: SqliteMetadataStore, pk: string, count: number): Promise<void> {
  const value = 'x'.repeat(4096);
  for (let i = 0; i < count; i += 16) {
    const group = [];
    for (let j = i; j < Math.min(i + 16, count); j++) group.push(store.put({ pk, sk: String(j).padStart(5, '0'), value }));
    await Promise.all(group);
  }
}

const fileSize = async (file: string) => (await stat(file)).size;

describe('SQLite WAL checkpoints', { timeout: 60_000 }, () => {
  it('never checkpoint inside a COMMIT: the database file stays as it was until the worker runs', async () => {
    await withTempDirectory(async (directory) => {
      const file = path.join(directory, 'metadata.sqlite');
      // a threshold never reached: no checkpoint from the worker either
      const store = new SqliteMetadataStore({ path: file, checkpointAfterBytes: Number.MAX_SAFE_INTEGER });
      try {
        await writeItems(store, 'p', 16);
        const before = await fileSize(file);
        await writeItems(store, 'p', 2_500); // ~10 MiB: SQLite itself would have checkpointed twice (1,000 pages each)
        assert.equal(await fileSize(file), before, 'the database file did not grow: no checkpoint ran');
        assert.ok((await fileSize(`${file}-wal`)) > 8 * 1024 * 1024, 'everything is in the WAL');
        assert.deepEqual([store.stats().checkpoints, store.stats().checkpointsHere], [0, 0]);
      } finally {
        store.close();
      }
    });
  });

  it('checkpoint on the worker once the threshold is written, and every item stays readable', async () => {
    await withTempDirectory(async (directory) => {
      const file = path.join(directory, 'metadata.sqlite');
      const store = new SqliteMetadataStore({ path: file, checkpointAfterBytes: 256 * 1024 });
      try {
        await writeItems(store, 'p', 16);
        const before = await fileSize(file);
        await writeItems(store, 'p', 600); // ~2.4 MiB: about nine checkpoints asked for
        await waitFor(() => store.stats().checkpoints >= 1, 'the worker checkpointed', 20_000);
        await waitFor(async () => (await fileSize(file)) > before + 1024 * 1024, 'the WAL reached the database file', 20_000);
        assert.equal(store.stats().checkpointsHere, 0, 'none on the store thread');
        assert.equal((await store.query('p')).length, 600);
      } finally {
        store.close();
      }
      const reopened = new SqliteMetadataStore({ path: file });
      try {
        assert.equal((await reopened.query('p')).length, 600);
      } finally {
        reopened.close();
      }
    });
  });

  it('checkpoint on the store thread, between transactions, when the worker leaves more than the bound', async () => {
    await withTempDirectory(async (directory) => {
      const file = path.join(directory, 'metadata.sqlite');
      // a bound below zero: every worker checkpoint counts as fallen behind
      const store = new SqliteMetadataStore({ path: file, checkpointAfterBytes: 256 * 1024, maxPendingWalFrames: -1 });
      try {
        await writeItems(store, 'p', 200);
        await waitFor(() => store.stats().checkpointsHere >= 1, 'the store checkpointed itself', 20_000);
        await writeItems(store, 'q', 100);
        assert.deepEqual([(await store.query('p')).length, (await store.query('q')).length], [200, 100]);
      } finally {
        store.close();
      }
    });
  });

  it('leave a process free to exit with its store still open (the worker never keeps it alive)', async () => {
    await withTempDirectory(async (directory) => {
      const file = path.join(directory, 'metadata.sqlite');
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `
          import { SqliteMetadataStore } from ${JSON.stringify(new URL('../../lib/storage/sqlite-metadata-store.ts', import.meta.url).href)};
          const store = new SqliteMetadataStore({ path: ${JSON.stringify(file)}, checkpointAfterBytes: 16 * 1024 });
          for (let i = 0; i < 64; i++) await store.put({ pk: 'p', sk: String(i), value: 'z'.repeat(4096) });
          while (store.stats().checkpoints === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          console.log('checkpointed');
          `,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      try {
        const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
        assert.deepEqual({ code, signal, output: output.trim() }, { code: 0, signal: null, output: 'checkpointed' }, 'exited by itself once its work was done');
      } finally {
        clearTimeout(timer);
        child.kill('SIGKILL');
      }
    });
  });

  it('report a worker that cannot checkpoint, and stop', async () => {
    await withTempDirectory(async (directory) => {
      const failures: Error[] = [];
      // a directory is no database: the worker's open fails
      const checkpointer = new WalCheckpointer({ path: directory, onResult: () => assert.fail('no result expected'), onFailure: (error) => failures.push(error) });
      try {
        checkpointer.request();
        await waitFor(() => failures.length === 1, 'the failure is reported', 20_000);
        assert.equal(checkpointer.busy, false);
        checkpointer.request(); // stopped: does nothing
        assert.equal(checkpointer.busy, false);
      } finally {
        checkpointer.stop();
      }
    });
  });

  it('lose no acknowledged write when the process is killed while its worker checkpoints', async () => {
    await withTempDirectory(async (directory) => {
      const file = path.join(directory, 'metadata.sqlite');
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `
          import { writeSync } from 'node:fs';
          // stdout is a non-blocking pipe: a parent slow to read (a loaded machine) makes writeSync throw EAGAIN
          const say = (text) => {
            const bytes = Buffer.from(text);
            for (let at = 0; at < bytes.length; ) {
              try { at += writeSync(1, bytes, at); } catch (error) { if (error.code !== 'EAGAIN') throw error; }
            }
          };
          import { SqliteMetadataStore } from ${JSON.stringify(new URL('../../lib/storage/sqlite-metadata-store.ts', import.meta.url).href)};
          const store = new SqliteMetadataStore({ path: ${JSON.stringify(file)}, checkpointAfterBytes: 64 * 1024 });
          const value = 'y'.repeat(4096);
          let acknowledged = 0;
          // writes until killed; past 4,000 (a slow worker on a loaded machine) more slowly, and never past 20,000
          for (let i = 0; i < 20000; i++) {
            store.put({ pk: 'acked', sk: String(i).padStart(5, '0'), value }).then(() => {
              say(i + '\\n'); // synchronous: written before the kill below
              // killed once the worker has checkpointed a few times (and is likely in the middle of one)
              if (++acknowledged >= 400 && store.stats().checkpoints >= 3) {
                say('checkpoints ' + store.stats().checkpoints + '\\n');
                process.kill(process.pid, 'SIGKILL');
              }
            });
            if (i % 16 === 15) await new Promise((resolve) => (i < 4000 ? setImmediate(resolve) : setTimeout(resolve, 5)));
          }
          `,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      try {
        const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, sig) => resolve([c, sig])));
        assert.equal(signal, 'SIGKILL', `the child was killed mid-stream, not ended with code ${code}: …${output.slice(-40).replaceAll('\n', ' ')}`);
      } finally {
        child.kill('SIGKILL');
      }
      const lines = output.split('\n').filter(Boolean);
      assert.match(lines.at(-1)!, /^checkpoints \d+$/);
      const acknowledged = lines.filter((line) => /^\d+$/.test(line)).map(Number);
      const integrity = new DatabaseSync(file);
      try {
        assert.equal(integrity.prepare('PRAGMA integrity_check').get()?.integrity_check, 'ok');
      } finally {
        integrity.close();
      }
      const reopened = new SqliteMetadataStore({ path: file });
      try {
        const stored = new Set((await reopened.query('acked')).map((item) => Number(item.sk)));
        for (const i of acknowledged) assert.ok(stored.has(i), `acknowledged write ${i} survived`);
      } finally {
        reopened.close();
      }
    });
  });
});
