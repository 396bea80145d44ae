/**
 * The local service as a person runs it (`npm start`): a line per request and per maintenance pass,
 * and a clean stop on SIGTERM/SIGINT that answers a running long poll instead of cutting it off.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startLocalServer } from '../../lib/server/local.ts';

const MAIN = fileURLToPath(new URL('../../lib/server/main.ts', import.meta.url));
const KEY = 'test-admin-key-0123456789';

/** Collects a child's stdout lines; waitFor resolves with the first line matching. */
function lines(child: ChildProcess) {
  const seen: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      seen.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  return {
    seen,
    waitFor(pattern: RegExp): Promise<string> {
      const found = seen.find((line) => pattern.test(line));
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('local service (npm start)', { timeout: 60_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-service-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`logs each request and stops cleanly on ${signal}, answering a running long poll`, async () => {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, PORT: '0', SLUICE_DATA_DIR: join(dir, signal), SLUICE_API_KEY: KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      try {
        const out = lines(child);
        const url = (await out.waitFor(/listening on/)).split(' ').pop()!;
        assert.match(await out.waitFor(/^Data: /), new RegExp(`${signal}$`));
        const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
        assert.equal((await fetch(`${url}/v1/topics`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'logs', partitions: 1 }) })).status, 201);
        assert.equal((await fetch(`${url}/v1/topics/missing`, { headers: auth })).status, 404);
        assert.match(await out.waitFor(/ POST \/v1\/topics /), /^\d{4}-\d\d-\d\dT[\d:.]+Z POST \/v1\/topics 201 \d+ ms$/);
        assert.match(await out.waitFor(/ GET \/v1\/topics\/missing /), /GET \/v1\/topics\/missing 404 \d+ ms$/);

        // A long poll of 20 s is running when the signal comes: it is answered (empty), not dropped.
        const poll = fetch(`${url}/v1/topics/logs/partitions/0/records?offset=0&maxWaitMs=20000`, { headers: auth });
        await new Promise((resolve) => setTimeout(resolve, 200));
        child.kill(signal);
        const answer = await poll;
        assert.equal(answer.status, 200);
        assert.deepEqual((await answer.json()).records, []);
        assert.equal(await exited(child), 0, stderr);
        assert.ok(out.seen.some((line) => line.startsWith(`${signal}: stopping`)), out.seen.join('\n'));
        assert.equal(out.seen.at(-1), 'Sluice stopped');
        await assert.rejects(fetch(`${url}/v1/topics`, { headers: auth }), 'no longer listening');
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  }

  it('is quiet with SLUICE_QUIET=1 (banner only)', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: '0', SLUICE_DATA_DIR: join(dir, 'quiet'), SLUICE_API_KEY: KEY, SLUICE_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const out = lines(child);
      const url = (await out.waitFor(/listening on/)).split(' ').pop()!;
      assert.equal((await fetch(`${url}/v1/topics`, { headers: { authorization: `Bearer ${KEY}` } })).status, 200);
      child.kill('SIGTERM');
      assert.equal(await exited(child), 0);
      assert.deepEqual(out.seen.filter((line) => / \/v1\//.test(line)), []);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('logs one line per maintenance pass', async () => {
    const logged: string[] = [];
    const server = await startLocalServer({ dataDir: join(dir, 'maintenance'), port: 0, apiKey: KEY, maintenanceIntervalMs: 20, log: (line) => logged.push(line) });
    try {
      const created = await fetch(`${server.url}/v1/topics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'm', partitions: 2 }),
      });
      assert.equal(created.status, 201);
      const passOverTopic = () => logged.find((line) => line.includes('maintenance: 1 topics, 2 partitions'));
      for (let i = 0; i < 250 && !passOverTopic(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(passOverTopic() ?? logged.join('\n'), /^\S+Z maintenance: 1 topics, 2 partitions: nothing to do \(\d+ ms\)$/);
      assert.ok(logged.some((line) => / POST \/v1\/topics 201 \d+ ms$/.test(line)), 'requests are logged too');
    } finally {
      await server.close();
    }
  });
});
