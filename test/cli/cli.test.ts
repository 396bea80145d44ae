/**
 * The `sluice` CLI as a user runs it: the real launcher (bin/sluice.js) as a subprocess, against a real
 * local server started in this process on port 0 with a temporary data folder. Every subprocess is
 * killed in `finally` if it is still running; every test has a timeout.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';

const LAUNCHER = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));
const ADMIN_KEY = 'cli-test-admin-key-0123456789';
const TEST_TIMEOUT = { timeout: 120_000 };

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let work: string;
let server: LocalServer;

/** The environment of every run: this server and key, a config file of the test's own, nothing from the user's home. */
function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: work,
    SLUICE_CONFIG: join(work, 'no-config.json'),
    SLUICE_URL: server.url,
    SLUICE_API_KEY: ADMIN_KEY,
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Runs `sluice <args>`; resolves with its exit code and output. Killed after timeoutMs, and in any case before returning. */
async function sluice(args: readonly string[], options: { input?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<Result> {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: baseEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    return await collect(child, options.input, options.timeoutMs ?? 60_000);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function collect(child: ChildProcess, input: string | undefined, timeoutMs: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`)), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin?.on('error', () => {}); // a CLI that exits before reading all of stdin
    child.stdin?.end(input ?? '');
  });
}

function ok(result: Result): Result {
  assert.equal(result.code, 0, `exit 0 expected; stderr: ${result.stderr}`);
  return result;
}

/** A failure as the CLI must print it: one line on stderr, no stack trace, a non-zero exit status. */
function failedWithOneLine(result: Result, pattern: RegExp, code = 1): void {
  assert.equal(result.code, code, `exit ${code} expected; stdout: ${result.stdout} stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0], /^sluice: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

const json = (result: Result) => JSON.parse(ok(result).stdout);

describe('sluice CLI', { timeout: 600_000 }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    server = await startLocalServer({ dataDir: join(work, 'data'), port: 0, apiKey: ADMIN_KEY, maintenanceIntervalMs: 0 });
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('every command has --help', TEST_TIMEOUT, async () => {
    const commands = [
      [],
      ['dev'],
      ['topics'],
      ['topics', 'list'],
      ['topics', 'create'],
      ['topics', 'describe'],
      ['topics', 'alter'],
      ['topics', 'delete-records'],
      ['topics', 'delete'],
      ['produce'],
      ['consume'],
      ['groups'],
      ['groups', 'list'],
      ['groups', 'describe'],
      ['groups', 'delete'],
      ['groups', 'reset'],
      ['keys'],
      ['keys', 'list'],
      ['keys', 'create'],
      ['keys', 'revoke'],
      ['consumers'],
      ['consumers', 'list'],
      ['consumers', 'describe'],
      ['consumers', 'create'],
      ['consumers', 'pause'],
      ['consumers', 'resume'],
      ['consumers', 'delete'],
    ];
    for (const command of commands) {
      const { stdout, stderr } = ok(await sluice([...command, '--help']));
      assert.match(stdout, new RegExp(`^Usage: sluice${command.length ? ` ${command.join(' ')}` : ''} `), command.join(' '));
      assert.equal(stderr, '');
    }
    const dev = ok(await sluice(['dev', '--help'])).stdout;
    for (const option of ['--port <port>', '--data-dir <dir>', '--host <host>', '--quiet']) assert.ok(dev.includes(option), `dev --help names ${option}`);
  });

  it('topics create, list, describe, delete; --output json', TEST_TIMEOUT, async () => {
    const created = ok(await sluice(['topics', 'create', 'cli-orders', '--partitions', '3', '--retention', '7d']));
    assert.match(created.stdout, /^Created topic cli-orders: 3 partitions, retention 7d, zstd\n$/);
    failedWithOneLine(await sluice(['topics', 'create', 'cli-orders', '--partitions', '3']), /topic cli-orders already exists/);
    ok(await sluice(['topics', 'create', 'cli-orders', '--partitions', '3', '--if-not-exists']));

    const list = ok(await sluice(['topics', 'list'])).stdout;
    assert.match(list, /^TOPIC\s+PARTITIONS\s+RECORDS$/m);
    assert.match(list, /^cli-orders\s+3\s+0$/m);
    assert.deepEqual(json(await sluice(['topics', 'list', '--output', 'json'])).topics.find((t: { name: string }) => t.name === 'cli-orders'), {
      name: 'cli-orders',
      partitions: 3,
      records: '0',
    });

    const described = json(await sluice(['-o', 'json', 'topics', 'describe', 'cli-orders']));
    assert.equal(described.config.retentionMs, 7 * 86_400_000);
    assert.deepEqual(
      described.partitions.map((p: { partition: number }) => p.partition),
      [0, 1, 2],
    );
    const text = ok(await sluice(['topics', 'describe', 'cli-orders'])).stdout;
    assert.match(text, /^Retention:\s+7d$/m);
    assert.match(text, /^PARTITION\s+START\s+END\s+RECORDS$/m);

    const altered = ok(await sluice(['topics', 'alter', 'cli-orders', '--retention', '12h', '--retention-bytes', '1048576', '--compression', 'gzip', '--timestamp-type', 'LogAppendTime']));
    assert.match(altered.stdout, /^Altered topic cli-orders: 3 partitions, retention 12h or 1.0 MB per partition, gzip, stamped at append\n$/);
    assert.match(ok(await sluice(['topics', 'describe', 'cli-orders'])).stdout, /^Timestamps:\s+LogAppendTime$/m);
    const reset = json(await sluice(['topics', 'alter', 'cli-orders', '--compression', 'default', '--retention-bytes', 'default', '--timestamp-type', 'default', '-o', 'json']));
    assert.deepEqual(reset.config, { retentionMs: 12 * 3_600_000, retentionBytes: -1, compression: 'zstd', timestampType: 'CreateTime' });
    failedWithOneLine(await sluice(['topics', 'alter', 'cli-orders']), /nothing to change/);
    assert.match(ok(await sluice(['topics', 'alter', 'cli-orders', '--partitions', '5'])).stdout, /^Altered topic cli-orders: 5 partitions, retention 12h, zstd\n$/);
    assert.equal(json(await sluice(['topics', 'describe', 'cli-orders', '-o', 'json'])).partitions.length, 5);
    failedWithOneLine(await sluice(['topics', 'alter', 'cli-orders', '--partitions', '2']), /has 5 partitions; a count cannot go down/);
    failedWithOneLine(await sluice(['topics', 'alter', 'cli-nope', '--retention', '1d']), /cli-nope/);

    assert.match(ok(await sluice(['topics', 'delete', 'cli-orders'])).stdout, /^Deleted topic cli-orders$/m);
    assert.ok(!json(await sluice(['topics', 'list', '-o', 'json'])).topics.some((t: { name: string }) => t.name === 'cli-orders'));
  });

  it('topics delete-records moves a partition\'s log start; consume then starts there', TEST_TIMEOUT, async () => {
    ok(await sluice(['topics', 'create', 'cli-purge', '--partitions', '2']));
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ n: i }));
    ok(await sluice(['produce', 'cli-purge', '--partition', '0'], { input: `${lines.join('\n')}\n` }));
    const moved = json(await sluice(['topics', 'delete-records', 'cli-purge', '--partition', '0', '--before', '3', '-o', 'json']));
    assert.deepEqual(moved.partitions, [{ partition: 0, startOffset: '3', endOffset: '5' }]);
    const left = ok(await sluice(['consume', 'cli-purge', '--format', 'json'])).stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(left.map((r) => [r.offset, JSON.parse(r.value).n]), [['3', 3], ['4', 4]]);
    assert.match(ok(await sluice(['topics', 'delete-records', 'cli-purge', '--before', 'end'])).stdout, /^PARTITION\s+START\s+END\n\s+0\s+5\s+5\n\s+1\s+0\s+0\n$/);
    failedWithOneLine(await sluice(['topics', 'delete-records', 'cli-purge', '--before', '3']), /--partition is needed/);
    failedWithOneLine(await sluice(['topics', 'delete-records', 'cli-purge', '--partition', '0', '--before', '9']), /outside the log/);
    failedWithOneLine(await sluice(['topics', 'delete-records', 'cli-purge', '--partition', '0', '--before', 'soon']), /--before/, 2);
  });

  it('produce from stdin with --key-field and --json; consume with --max and a --format template; to the end without --follow', TEST_TIMEOUT, async () => {
    ok(await sluice(['topics', 'create', 'cli-events', '--partitions', '4']));
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ user: { id: `u${i % 5}` }, n: i }));
    const produced = ok(await sluice(['produce', 'cli-events', '--key-field', 'user.id', '-H', 'source=test', '-H', 'source=cli', '--output', 'json'], { input: `${lines.join('\n')}\n\n` }));
    const summary = JSON.parse(produced.stdout);
    assert.equal(summary.records, 40);
    assert.equal(summary.skippedEmptyLines, 1);
    assert.equal(produced.stderr, '', 'piped: no bar, no notes');

    // every record, to the end the topic had at the start, then exit 0
    const all = ok(await sluice(['consume', 'cli-events', '--format', 'json']))
      .stdout.trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(all.length, 40);
    assert.deepEqual(all.map((r) => JSON.parse(r.value).n).sort((a, b) => a - b), [...Array(40).keys()]);
    const partitionOfKey = new Map<string, number>();
    for (const record of all) {
      assert.equal(record.key, JSON.parse(record.value).user.id, 'the key is the --key-field');
      assert.deepEqual(record.headers, { source: ['test', 'cli'] });
      assert.equal(partitionOfKey.get(record.key) ?? record.partition, record.partition, 'one key, one partition');
      partitionOfKey.set(record.key, record.partition);
    }

    const limited = ok(await sluice(['consume', 'cli-events', '--max', '7', '--format', '%t|%p|%o|%k|%v|%T']));
    const rows = limited.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 7);
    for (const row of rows) {
      const [topic, partition, offset, key, value, timestamp] = row.split('|');
      assert.equal(topic, 'cli-events');
      assert.equal(partitionOfKey.get(key), Number(partition));
      assert.match(offset, /^\d+$/);
      assert.equal(JSON.parse(value).user.id, key);
      assert.ok(Math.abs(Number(timestamp) - Date.now()) < 600_000, 'a timestamp in ms');
    }

    // --json refuses a line that is not JSON, naming it, after what came before it was produced
    failedWithOneLine(await sluice(['produce', 'cli-events', '--json'], { input: '{"a":1}\n{"b":2}\nnot json\n{"c":3}\n' }), /line 3 is not JSON .*; 2 records before it were produced/);
    failedWithOneLine(await sluice(['produce', 'cli-events', '--key-field', 'id'], { input: '{"id":1}\n{"other":2}\n' }), /line 2 has no field "id"/);

    // plain lines with one --key and --partition, then read back from an offset of that partition
    ok(await sluice(['produce', 'cli-events', '--key', 'fixed', '--partition', '2'], { input: 'a\nb\nc\n' }));
    const fromOffset = json(await sluice(['topics', 'describe', 'cli-events', '-o', 'json'])).partitions[2].endOffset;
    const tail = ok(await sluice(['consume', 'cli-events', '--partition', '2', '--from', String(Number(fromOffset) - 3), '--format', '%k=%v']));
    assert.equal(tail.stdout, 'fixed=a\nfixed=b\nfixed=c\n');
    // --from latest without --follow: nothing, exit 0
    assert.equal(ok(await sluice(['consume', 'cli-events', '--from', 'latest'])).stdout, '');
  });

  it('consume --follow waits for new records and exits 0 after --max; --output json prints JSON lines', TEST_TIMEOUT, async () => {
    ok(await sluice(['topics', 'create', 'cli-follow', '--partitions', '2']));
    const child = spawn(process.execPath, [LAUNCHER, 'consume', 'cli-follow', '--follow', '--max', '3', '-o', 'json'], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const following = collect(child, undefined, 60_000);
      // records produced while it waits, in two runs: it keeps following after the first
      ok(await sluice(['produce', 'cli-follow', '--key', 'a'], { input: 'one\n' }));
      ok(await sluice(['produce', 'cli-follow', '--key', 'b'], { input: 'two\nthree\nfour\n' }));
      const result = await following;
      assert.equal(result.code, 0, result.stderr);
      const records = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
      assert.equal(records.length, 3, 'exactly --max records');
      assert.ok(records.every((r) => r.topic === 'cli-follow' && typeof r.offset === 'string'));
      assert.ok(records.some((r) => r.value === 'one'));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('groups: consume as a group commits what it printed; describe shows the lag per partition; reset; delete', TEST_TIMEOUT, async () => {
    ok(await sluice(['topics', 'create', 'cli-lag', '--partitions', '2']));
    ok(await sluice(['produce', 'cli-lag'], { input: Array.from({ length: 30 }, (_, i) => `r${i}`).join('\n') }));
    const consumed = ok(await sluice(['consume', 'cli-lag', '--group', 'cli-billing', '--max', '12']));
    assert.equal(consumed.stdout.trimEnd().split('\n').length, 12);

    const group = json(await sluice(['groups', 'describe', 'cli-billing', '-o', 'json']));
    assert.equal(group.members.length, 0, 'the CLI left the group');
    const committed = group.offsets.reduce((n: number, o: { committedOffset: string | null }) => n + Number(o.committedOffset ?? 0), 0);
    assert.equal(committed, 12, 'the commit covers exactly the printed records');
    assert.equal(group.totalLag, '18');
    const table = ok(await sluice(['groups', 'describe', 'cli-billing'])).stdout;
    assert.match(table, /^Total lag:\s+18$/m);
    assert.match(table, /^TOPIC\s+PARTITION\s+COMMITTED\s+END\s+LAG\s+MEMBER$/m);
    for (const o of group.offsets) assert.match(table, new RegExp(`^cli-lag\\s+${o.partition}\\s+${o.committedOffset ?? '-'}\\s+${o.endOffset}\\s+${o.lag ?? '-'}\\s+-$`, 'm'));

    // the rest, as the same group: where it left off
    const rest = ok(await sluice(['consume', 'cli-lag', '--group', 'cli-billing']));
    assert.equal(rest.stdout.trimEnd().split('\n').length, 18);
    assert.equal(json(await sluice(['groups', 'describe', 'cli-billing', '-o', 'json'])).totalLag, '0');

    assert.ok(json(await sluice(['groups', 'list', '-o', 'json'])).groups.includes('cli-billing'));
    const reset = json(await sluice(['groups', 'reset', 'cli-billing', '--to', 'earliest', '-o', 'json']));
    assert.deepEqual(reset.offsets.map((o: { offset: string }) => o.offset), ['0', '0']);
    assert.equal(json(await sluice(['groups', 'describe', 'cli-billing', '-o', 'json'])).totalLag, '30');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    ok(await sluice(['groups', 'reset', 'cli-billing', '--to', future]));
    assert.equal(json(await sluice(['groups', 'describe', 'cli-billing', '-o', 'json'])).totalLag, '0', 'a time after every record: the end');
    ok(await sluice(['groups', 'reset', 'cli-billing', '--to', '5', '--topic', 'cli-lag']));
    // offset 5, moved into each partition's range by the server (records without keys may all be in one partition)
    const atFive = json(await sluice(['groups', 'describe', 'cli-billing', '-o', 'json'])).offsets;
    assert.deepEqual(
      atFive.map((o: { committedOffset: string }) => o.committedOffset),
      atFive.map((o: { endOffset: string }) => String(Math.min(5, Number(o.endOffset)))),
    );
    failedWithOneLine(await sluice(['groups', 'reset', 'cli-billing', '--to', 'yesterday']), /--to takes earliest, latest, an offset or an ISO-8601 time/, 2);

    assert.match(ok(await sluice(['groups', 'delete', 'cli-billing'])).stdout, /^Deleted group cli-billing$/m);
    failedWithOneLine(await sluice(['groups', 'describe', 'cli-billing']), /GROUP_NOT_FOUND/);
  });

  it('keys create, list, revoke; a scoped key is refused what its scopes do not allow', TEST_TIMEOUT, async () => {
    ok(await sluice(['topics', 'create', 'cli-scoped', '--partitions', '1']));
    const created = json(await sluice(['keys', 'create', '--name', 'cli-reader', '--scope', 'consume:cli-scoped*', '-o', 'json']));
    assert.match(created.key, /^sluice_/);
    assert.deepEqual(created.scopes, [{ action: 'consume', topics: ['cli-scoped*'], groups: ['*'] }]);

    const text = ok(await sluice(['keys', 'list'])).stdout;
    assert.match(text, new RegExp(`^${created.id}\\s+cli-reader\\s+\\S+\\s+consume:cli-scoped\\*:\\*$`, 'm'));
    assert.ok(!text.includes(created.key), 'keys list never shows a key');

    // the new key reads, and is refused deleting the topic: one line, non-zero
    const asReader = { SLUICE_API_KEY: created.key };
    assert.deepEqual(json(await sluice(['topics', 'list', '-o', 'json'], { env: asReader })).topics.map((t: { name: string }) => t.name), ['cli-scoped']);
    failedWithOneLine(await sluice(['topics', 'delete', 'cli-scoped'], { env: asReader }), /403 FORBIDDEN/);

    assert.match(ok(await sluice(['keys', 'revoke', created.id])).stdout, /^Revoked key /);
    assert.ok(!json(await sluice(['keys', 'list', '-o', 'json'])).keys.some((k: { id: string }) => k.id === created.id));
    failedWithOneLine(await sluice(['topics', 'list'], { env: asReader }), /401 UNAUTHORIZED.*check --api-key/);
    failedWithOneLine(await sluice(['keys', 'create', '--name', 'x', '--scope', 'read:orders']), /--scope takes <action>:<topic patterns>/, 2);
  });

  it('push consumers: create, list, pause, resume, describe, delete', TEST_TIMEOUT, async () => {
    const target: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
      ok(await sluice(['topics', 'create', 'cli-push', '--partitions', '1']));
      const created = ok(await sluice(['consumers', 'create', 'cli-hook', '--topic', 'cli-push', '--target-url', url, '--start-at', 'earliest', '--max-records', '10']));
      assert.match(created.stdout, /^\S{16,}\n$/, 'the secret, alone on stdout');
      assert.match(ok(await sluice(['consumers', 'list'])).stdout, /^cli-hook\s+running\s+cli-push$/m);
      assert.match(ok(await sluice(['consumers', 'pause', 'cli-hook'])).stdout, /^Push consumer cli-hook: paused$/m);
      assert.equal(json(await sluice(['consumers', 'describe', 'cli-hook', '-o', 'json'])).state, 'paused');
      assert.match(ok(await sluice(['consumers', 'resume', 'cli-hook'])).stdout, /: running$/m);
      const described = ok(await sluice(['consumers', 'describe', 'cli-hook'])).stdout;
      assert.match(described, new RegExp(`^Target:\\s+${url.replace(/[.]/g, '\\.')} \\(timeout 30000 ms\\)$`, 'm'));
      assert.match(described, /^Batches:\s+up to 10 records/m);
      ok(await sluice(['consumers', 'delete', 'cli-hook']));
      failedWithOneLine(await sluice(['consumers', 'describe', 'cli-hook']), /CONSUMER_NOT_FOUND/);
      failedWithOneLine(await sluice(['consumers', 'create', 'x', '--topic', 'cli-push']), /needs --target-url or --function-arn/, 2);
    } finally {
      await new Promise((resolve) => target.close(resolve));
    }
  });

  it('errors: one line on stderr and a non-zero exit status', TEST_TIMEOUT, async () => {
    failedWithOneLine(await sluice(['topics', 'describe', 'cli-nope']), /404 TOPIC_NOT_FOUND: topic cli-nope does not exist/);
    failedWithOneLine(await sluice(['consume', 'cli-nope']), /TOPIC_NOT_FOUND/);
    failedWithOneLine(await sluice(['topics', 'create', 'x', '--partitions', 'three']), /--partitions takes a whole number/, 2);
    failedWithOneLine(await sluice(['topics', 'create', 'x']), /required option '-p, --partitions <n>' not specified/, 2);
    failedWithOneLine(await sluice(['topics', 'create', 'x', '--partitions', '1', '--retention', 'a week']), /--retention takes a duration/, 2);
    failedWithOneLine(await sluice(['consume', 'x', '--format', '%q']), /unknown placeholder "%q"/, 2);
    failedWithOneLine(await sluice(['tpoics', 'list']), /unknown command 'tpoics'/, 2);
    failedWithOneLine(await sluice(['topics', 'lst']), /unknown command 'lst' for sluice topics \(commands: list, create, describe, alter, delete-records, delete\)/, 2);
    failedWithOneLine(await sluice(['topics', 'list', '--bogus']), /unknown option '--bogus'/, 2);
    failedWithOneLine(await sluice(['topics', 'list'], { env: { SLUICE_API_KEY: undefined } }), /no API key: pass --api-key, set SLUICE_API_KEY/, 2);
    // nothing listening: the network error, with the address and a hint, after a few quick retries
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    failedWithOneLine(await sluice(['topics', 'list', '--url', `http://127.0.0.1:${port}`]), new RegExp(`ECONNREFUSED.*is Sluice running at http://127\\.0\\.0\\.1:${port}\\?`));
  });

  it('connection: flag over environment over profile; the profile from --profile, SLUICE_PROFILE or "default"', TEST_TIMEOUT, async () => {
    const config = join(work, 'config.json');
    await writeFile(config, JSON.stringify({ profiles: { default: { url: server.url, apiKey: ADMIN_KEY }, wrong: { url: server.url, apiKey: 'not-a-valid-key-at-all' } } }));
    const onlyConfig = { SLUICE_CONFIG: config, SLUICE_URL: undefined, SLUICE_API_KEY: undefined };
    ok(await sluice(['topics', 'list'], { env: onlyConfig }));
    failedWithOneLine(await sluice(['topics', 'list', '--profile', 'wrong'], { env: onlyConfig }), /UNAUTHORIZED/);
    failedWithOneLine(await sluice(['topics', 'list'], { env: { ...onlyConfig, SLUICE_PROFILE: 'wrong' } }), /UNAUTHORIZED/);
    ok(await sluice(['topics', 'list', '--profile', 'wrong'], { env: { ...onlyConfig, SLUICE_API_KEY: ADMIN_KEY } }));
    failedWithOneLine(await sluice(['topics', 'list'], { env: { ...onlyConfig, SLUICE_API_KEY: 'env-key-that-is-wrong' } }), /UNAUTHORIZED/);
    ok(await sluice(['topics', 'list', '--api-key', ADMIN_KEY], { env: { ...onlyConfig, SLUICE_API_KEY: 'env-key-that-is-wrong' } }));
    failedWithOneLine(await sluice(['topics', 'list', '--profile', 'missing'], { env: onlyConfig }), /no profile "missing" in .*config\.json \(it has default, wrong\)/, 2);
    const verbose = ok(await sluice(['topics', 'list', '-v', '--profile', 'wrong', '--api-key', ADMIN_KEY], { env: onlyConfig }));
    assert.match(verbose.stderr, /URL from profile, key from flag, profile wrong/);
    await writeFile(config, '{ not json');
    failedWithOneLine(await sluice(['topics', 'list'], { env: onlyConfig }), /the config file .* is not JSON/);
  });

  it('produce shows a progress bar and a summary on a terminal (script), and nothing when piped', TEST_TIMEOUT, async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('script (util-linux) is not installed');
    ok(await sluice(['topics', 'create', 'cli-bar', '--partitions', '2']));
    const file = join(work, 'lines.txt');
    await writeFile(file, Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n'));
    const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, LAUNCHER, 'produce', 'cli-bar', '--file', file].map(quote).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: baseEnv({ COLUMNS: '120', LINES: '40' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let terminal: Result;
    try {
      terminal = await collect(child, undefined, 60_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    assert.equal(terminal.code, 0, terminal.stdout + terminal.stderr);
    const screen = terminal.stdout;
    assert.match(screen, /100% \| 3000 records \| 0\.03 MB \| \d+ records\/s/, `the bar's last state; got ${JSON.stringify(screen)}`);
    assert.match(screen, /Produced 3000 records \(0\.03 MB\) to cli-bar in \d+\.\d\d s: \d+ records\/s, \d partitions?/);

    const piped = ok(await sluice(['produce', 'cli-bar', '--file', file]));
    assert.equal(piped.stdout, '');
    assert.equal(piped.stderr, '', 'no bar and no summary when piped');
    assert.equal(json(await sluice(['topics', 'describe', 'cli-bar', '-o', 'json'])).records, '6000');
  });

  it('dev: serves the local service until SIGTERM; a bad --port is one line', TEST_TIMEOUT, async () => {
    failedWithOneLine(await sluice(['dev', '--port', 'abc']), /--port takes a port number from 0 to 65535, got "abc"/, 2);
    failedWithOneLine(await sluice(['dev', '--port', '0', '--api-key', 'short']), /SLUICE_API_KEY must be at least 16 characters/, 2);
    const dataDir = join(work, 'dev-data');
    const child = spawn(process.execPath, [LAUNCHER, 'dev', '--port', '0', '--data-dir', dataDir, '--quiet'], { env: baseEnv({ SLUICE_API_KEY: ADMIN_KEY }), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 30_000);
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const match = /listening on (http:\/\/\S+)\n[^]*^Data: .*$/m.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
        child.once('exit', (code) => reject(new Error(`dev exited (${code}): ${out}`)));
      });
      assert.match(out, new RegExp(`^Data: ${dataDir.replace(/[.]/g, '\\.')}$`, 'm'));
      assert.match(out, new RegExp(`^Console: ${url.replace(/[.]/g, '\\.')}/console/$`, 'm'), 'the banner names the web console');
      assert.equal((await fetch(`${url}/console/`)).status, 200, 'and it is there');
      // the CLI against the server it started
      ok(await sluice(['topics', 'create', 'on-dev', '--partitions', '1'], { env: { SLUICE_URL: url } }));
      assert.match(ok(await sluice(['topics', 'list'], { env: { SLUICE_URL: url } })).stdout, /^on-dev\s+1\s+0$/m);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(out, /Sluice stopped/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
