/**
 * Push consumers through the local server over real HTTP: the routes and their errors, delivery to
 * a real HTTP target on loopback (signed, in order), the secret sealed at rest with a key kept apart
 * from the database, and a restart that resumes from the committed offset and the stored backoff.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';
import { apiClient } from '../support/http-client.ts';

const ADMIN_KEY = 'test-admin-key-0123456789';

interface Received {
  readonly body: any;
  readonly raw: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A loopback HTTP target; `answer` decides the status and body of each delivery. */
async function startTarget(answer: (received: Received) => { status: number; body?: string }): Promise<{ url: string; received: Received[]; close(): Promise<void>; next(count: number): Promise<void> }> {
  const received: Received[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const entry = { raw, body: JSON.parse(raw), headers: req.headers };
      received.push(entry);
      const { status, body } = answer(entry);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body ?? '');
      for (const w of [...waiters]) if (received.length >= w.count) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    next: (count) => (received.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('push consumers through the local server', { timeout: 60_000 }, () => {
  let dir: string;
  let server: LocalServer;
  let api: ReturnType<typeof apiClient>;
  const closers: Array<() => Promise<void>> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-push-'));
    server = await startLocalServer({ dataDir: dir, port: 0, apiKey: ADMIN_KEY, maintenanceIntervalMs: 0 });
    api = apiClient(server.url, ADMIN_KEY);
  });
  after(async () => {
    await server.close();
    for (const close of closers) await close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates, lists, describes, pauses, resumes and deletes consumers, with the contract codes', async () => {
    await api('POST', '/v1/topics', { name: 'routes', partitions: 2 });
    const body = { name: 'routes-c', topics: ['routes'], target: { url: 'http://127.0.0.1:9/x' }, retry: { maxAttempts: 3 } };
    const created = await api('POST', '/v1/consumers', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.secret, /^whsec_/);
    assert.deepEqual(created.body.retry, { maxAttempts: 3, bisectOnError: false, maxRecordAgeMs: -1, minBackoffMs: 1000, maxBackoffMs: 60000 });
    assert.equal(created.body.startAt, 'latest');
    assert.equal((await api('POST', '/v1/consumers', body)).body.error.code, 'CONSUMER_EXISTS');
    assert.equal((await api('POST', '/v1/consumers', body)).status, 409);
    const bad = await api('POST', '/v1/consumers', { ...body, name: 'bad name' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_REQUEST');
    assert.deepEqual((await api('GET', '/v1/consumers')).body, { consumers: [{ name: 'routes-c', topics: ['routes'], state: 'running' }] });
    const described = await api('GET', '/v1/consumers/routes-c');
    assert.equal(described.status, 200);
    assert.equal(described.body.secret, undefined, 'the secret is shown only once');
    assert.deepEqual(described.body.partitions.map((p: any) => [p.partition, p.committedOffset, p.lag]), [[0, '0', '0'], [1, '0', '0']]);
    assert.deepEqual([described.body.delivered, described.body.failed, described.body.deadLettered, described.body.lastError], [0, 0, 0, null]);
    assert.equal((await api('POST', '/v1/consumers/routes-c/pause')).status, 200);
    assert.equal((await api('GET', '/v1/consumers/routes-c')).body.state, 'paused');
    assert.equal((await api('POST', '/v1/consumers/routes-c/resume')).status, 200);
    assert.equal((await api('DELETE', '/v1/consumers/routes-c')).status, 204);
    const gone = await api('GET', '/v1/consumers/routes-c');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'CONSUMER_NOT_FOUND');
    assert.equal((await api('POST', '/v1/consumers/routes-c/pause')).status, 404);

    const reader = await api('POST', '/v1/keys', { name: 'reader', scopes: [{ action: 'consume' }] });
    const consumerKey = apiClient(server.url, reader.body.key);
    assert.equal((await consumerKey('POST', '/v1/consumers', { ...body, name: 'by-reader' })).status, 403, 'creating needs admin');
    assert.equal((await consumerKey('GET', '/v1/consumers')).status, 200);
    // The push consumer's group is its dispatcher's alone.
    const join = await api('POST', '/v1/groups/sluice.push.anything/members', { topics: ['routes'] });
    assert.equal(join.status, 403);
  });

  it('delivers to a URL in order with a valid signature, woken by the append hook', async () => {
    const target = await startTarget(() => ({ status: 200 }));
    closers.push(target.close);
    await api('POST', '/v1/topics', { name: 'signed', partitions: 2 });
    const created = await api('POST', '/v1/consumers', { name: 'signed-c', topics: ['signed'], target: { url: target.url }, batch: { maxRecords: 4 } });
    const secret = created.body.secret as string;
    for (let i = 0; i < 10; i++) await api('POST', '/v1/topics/signed/records', { records: [{ value: `v${i}`, partition: i % 2 }, { value: `w${i}`, partition: i % 2 }] });
    await target.next(1);
    // Wait until every record has arrived: 20 records over 2 partitions.
    while (target.received.flatMap((r) => r.body.records).length < 20) await target.next(target.received.length + 1);
    for (const received of target.received) {
      assert.equal(received.headers['sluice-signature'], `sha256=${createHmac('sha256', secret).update(received.raw).digest('hex')}`);
      assert.equal(received.headers['sluice-batch-id'], received.body.batchId);
      assert.ok(received.body.records.length <= 4);
    }
    for (const partition of [0, 1]) {
      const offsets = target.received.filter((r) => r.body.partition === partition).flatMap((r) => r.body.records.map((x: any) => Number(x.offset)));
      assert.deepEqual(offsets, Array.from({ length: 10 }, (_, i) => i));
    }
    // The secret is sealed at rest; its key is a file of its own, readable by its owner only.
    const database = await readFile(join(dir, 'metadata.sqlite'));
    assert.ok(!database.includes(Buffer.from(secret)), 'the SQLite file does not hold the secret');
    assert.equal((await stat(join(dir, 'secret.key'))).mode & 0o777, 0o600);
  });

  it('after a restart, delivery resumes from the committed offset and the stored backoff', async () => {
    let failing = true;
    const target = await startTarget(() => (failing ? { status: 503 } : { status: 200, body: '{"batchItemFailures":[]}' }));
    closers.push(target.close);
    await api('POST', '/v1/topics', { name: 'restart', partitions: 1 });
    await api('POST', '/v1/consumers', { name: 'restart-c', topics: ['restart'], target: { url: target.url }, retry: { minBackoffMs: 200, maxBackoffMs: 200, maxAttempts: 100 } });
    await api('POST', '/v1/topics/restart/records', { records: [{ value: 'a' }, { value: 'b' }] });
    await target.next(1);
    await server.close();
    failing = false;
    const before = target.received.length;
    server = await startLocalServer({ dataDir: dir, port: 0, apiKey: ADMIN_KEY, maintenanceIntervalMs: 0 });
    api = apiClient(server.url, ADMIN_KEY);
    await target.next(before + 1);
    const last = target.received[target.received.length - 1].body;
    assert.equal(last.batchId, 'restart/0/0-1');
    assert.equal(last.attempt, target.received.filter((r) => r.body.batchId === 'restart/0/0-1').length);
    let described;
    do described = (await api('GET', '/v1/consumers/restart-c')).body;
    // The delivered counter is a write of its own after the commit: wait for both.
    while ((described.partitions[0].committedOffset !== '2' || described.delivered !== 2) && (await new Promise((resolve) => setTimeout(resolve, 20)), true));
    assert.equal(described.delivered, 2);
    assert.ok(described.failed >= 1);
  });
});
