/**
 * Issue 10, fault 7: start-up mistakes print one clear line on stderr and exit non-zero, with no stack
 * trace; the settings check (parseLocalSettings) is a function the CLI reuses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStartupError, parseLocalSettings } from '../../lib/server/settings.ts';

const MAIN = fileURLToPath(new URL('../../lib/server/main.ts', import.meta.url));

/** Runs `npm start`'s entry point with env; resolves with its exit code and output, killing it after 20 s. */
function start(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function assertOneLine(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(result.code, 0, 'exits non-zero');
  assert.notEqual(result.code, null, 'exits by itself');
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

describe('start-up errors', { timeout: 120_000 }, () => {
  it('parseLocalSettings names the variable and what it must be', () => {
    assert.deepEqual(parseLocalSettings({ PORT: '9100', SLUICE_DATA_DIR: '/tmp/x', SLUICE_API_KEY: 'k'.repeat(16), SLUICE_CORS_ORIGINS: 'https://a.example, *' }), {
      dataDir: '/tmp/x',
      port: 9100,
      host: '127.0.0.1',
      apiKey: 'k'.repeat(16),
      corsOrigins: ['https://a.example', '*'],
      quiet: false,
    });
    assert.equal(parseLocalSettings({}).port, 8787);
    for (const [env, pattern] of [
      [{ PORT: 'abc' }, /^PORT must be a port number from 0 to 65535, got "abc"$/],
      [{ PORT: '70000' }, /^PORT must be/],
      [{ PORT: '-1' }, /^PORT must be/],
      [{ PORT: '80.5' }, /^PORT must be/],
      [{ SLUICE_API_KEY: 'short' }, /^SLUICE_API_KEY must be at least 16 characters without spaces \(it has 5\)/],
      [{ SLUICE_API_KEY: 'has spaces in it, sixteen+' }, /^SLUICE_API_KEY must be/],
      [{ SLUICE_CORS_ORIGINS: 'app.example.com' }, /^SLUICE_CORS_ORIGINS: "app.example.com" is not an origin/],
      [{ SLUICE_CORS_ORIGINS: 'https://a.example/path' }, /^SLUICE_CORS_ORIGINS/],
      [{ SLUICE_QUIET: 'yes' }, /^SLUICE_QUIET must be 1 or 0/],
    ] as const) {
      assert.throws(() => parseLocalSettings(env), { name: 'SettingsError', message: pattern }, JSON.stringify(env));
    }
    const settings = { port: 8787, host: '127.0.0.1', dataDir: '/d' };
    assert.match(describeStartupError(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }), settings), /^port 8787 on 127.0.0.1 is in use/);
    assert.match(describeStartupError(Object.assign(new Error('x'), { code: 'EACCES', syscall: 'listen' }), settings), /^no permission to listen/);
    assert.match(describeStartupError(Object.assign(new Error('EACCES: permission denied, mkdir'), { code: 'EACCES', syscall: 'mkdir' }), settings), /^cannot use the data folder \/d/);
  });

  it('npm start with PORT=abc, a short SLUICE_API_KEY, or a port in use: one line, non-zero exit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-startup-'));
    const blocker = createServer();
    try {
      assertOneLine(await start({ PORT: 'abc', SLUICE_DATA_DIR: dir }), /^sluice: PORT must be a port number from 0 to 65535, got "abc"$/);
      assertOneLine(await start({ PORT: '0', SLUICE_API_KEY: 'short', SLUICE_DATA_DIR: dir }), /^sluice: SLUICE_API_KEY must be at least 16 characters/);
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
      const port = (blocker.address() as AddressInfo).port;
      const inUse = await start({ PORT: String(port), SLUICE_DATA_DIR: dir, SLUICE_API_KEY: 'startup-test-key-0123456789' });
      assertOneLine(inUse, new RegExp(`^sluice: port ${port} on 127.0.0.1 is in use`));
      assert.equal(inUse.code, 1);
    } finally {
      await new Promise<void>((resolve) => (blocker.listening ? blocker.close(() => resolve()) : resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
