/**
 * The local server's notification channel (WebSocket at /v1/notifications) with Node's own WebSocket
 * client: authentication by the first message, scope-checked subscriptions, a notification after
 * each produce (coalesced in bursts), many subscribers, reconnecting, and nothing left once clients
 * or the server close. GET /v1/health names the channel.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';

const ADMIN_KEY = 'notifications-admin-key-0123456789';

/** A WebSocket client whose messages are read in order, as parsed JSON. */
class Client {
  readonly ws: WebSocket;
  readonly #queue: unknown[] = [];
  #waiter?: (message: unknown) => void;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number }>;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => resolve(), { once: true });
      this.ws.addEventListener('error', () => reject(new Error('websocket error')), { once: true });
    });
    this.closed = new Promise((resolve) => this.ws.addEventListener('close', (event) => resolve({ code: event.code }), { once: true }));
    this.ws.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data));
      if (this.#waiter) {
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter(message);
      } else this.#queue.push(message);
    });
  }
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }
  next(): Promise<any> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    return new Promise((resolve) => (this.#waiter = resolve));
  }
  /** Messages already received and not yet read. */
  get queued(): number {
    return this.#queue.length;
  }
  close(): void {
    this.ws.close();
  }
}

async function eventually(condition: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never: ${what}`);
}

/** Real timers, except while held: then they wait until released (to see a burst coalesce without racing a clock). */
class HoldableTimers {
  #held: Array<() => void> | undefined;
  setTimeout(callback: () => void, ms: number): unknown {
    if (this.#held) {
      this.#held.push(callback);
      return undefined;
    }
    return setTimeout(callback, ms);
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
  hold(): void {
    this.#held = [];
  }
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const callback of held) callback();
  }
}

describe('notification channel (local server WebSocket)', { timeout: 60_000 }, () => {
  const timers = new HoldableTimers();
  let dir: string;
  let server: LocalServer;
  const clients: Client[] = [];
  const connect = async (key: string | null = ADMIN_KEY, topics?: string[]) => {
    const client = new Client(server.notificationsUrl);
    clients.push(client);
    await client.opened;
    if (key !== null) {
      client.send({ action: 'auth', apiKey: key });
      assert.deepEqual(await client.next(), { type: 'authenticated' });
    }
    if (topics) {
      client.send({ action: 'subscribe', topics });
      assert.deepEqual(await client.next(), { type: 'subscribed', topics });
    }
    return client;
  };
  const produce = async (topic: string, partition: number, count = 1) => {
    const res = await fetch(`${server.url}/v1/topics/${topic}/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: Array.from({ length: count }, (_, i) => ({ value: `v${i}`, partition })) }),
    });
    assert.equal(res.status, 200);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-notify-'));
    server = await startLocalServer({ dataDir: dir, port: 0, apiKey: ADMIN_KEY, maintenanceIntervalMs: 0, notifications: { coalesceMs: 20, authTimeoutMs: 300, timers } });
    for (const name of ['orders', 'secret', 'burst', 'fan']) {
      await fetch(`${server.url}/v1/topics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, partitions: 3 }),
      });
    }
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('GET /v1/health names the channel', async () => {
    const health = await (await fetch(`${server.url}/v1/health`)).json();
    assert.equal(health.notifications, server.notificationsUrl);
    assert.match(health.notifications, /^ws:\/\/127\.0\.0\.1:\d+\/v1\/notifications$/);
  });

  it('notifies a subscriber of each append with the partition and its high watermark', async () => {
    const client = await connect(ADMIN_KEY, ['orders']);
    await produce('orders', 2, 3);
    assert.deepEqual(await client.next(), { type: 'append', topic: 'orders', partition: 2, highWatermark: '3' });
    await produce('secret', 0); // not subscribed: nothing comes
    await produce('orders', 0);
    assert.deepEqual(await client.next(), { type: 'append', topic: 'orders', partition: 0, highWatermark: '1' });
    client.close();
  });

  it('refuses subscriptions outside the key’s consume scope, before authenticating, and to unknown topics', async () => {
    await eventually(() => server.notifications.connections === 0, 'the earlier test’s client is gone');
    const narrow = await server.keys.create({ name: 'orders-only', scopes: [{ action: 'consume', topics: ['orders'], groups: [] }] });
    const client = await connect(narrow.key);
    client.send({ action: 'subscribe', topics: ['orders', 'secret'] });
    const refusal = await client.next();
    assert.equal(refusal.type, 'error');
    assert.equal(refusal.code, 'FORBIDDEN');
    assert.equal(refusal.topic, 'secret');
    assert.equal(server.notifications.subscriptions, 0, 'all or nothing: not even orders was subscribed');
    client.send({ action: 'subscribe', topics: ['orders'] });
    assert.deepEqual(await client.next(), { type: 'subscribed', topics: ['orders'] });
    client.send('not json');
    assert.equal((await client.next()).code, 'INVALID_REQUEST');
    client.close();
    const admin = await connect(ADMIN_KEY);
    admin.send({ action: 'subscribe', topics: ['no-such-topic'] });
    assert.equal((await admin.next()).code, 'TOPIC_NOT_FOUND');
    admin.close();

    const anonymous = await connect(null);
    anonymous.send({ action: 'subscribe', topics: ['orders'] });
    assert.equal((await anonymous.next()).code, 'UNAUTHORIZED');
    const wrongKey = await connect(null);
    wrongKey.send({ action: 'auth', apiKey: 'not-a-key-0000000000000' });
    assert.equal((await wrongKey.next()).code, 'UNAUTHORIZED');
    assert.equal((await wrongKey.closed).code, 1008);
    const silent = await connect(null);
    assert.equal((await silent.next()).code, 'UNAUTHORIZED', 'no auth within authTimeoutMs');
    assert.equal((await silent.closed).code, 1008);
    anonymous.close();
  });

  it('coalesces a burst of appends into one notification with the latest high watermark', async () => {
    const client = await connect(ADMIN_KEY, ['burst']);
    const sentBefore = server.notifications.sent;
    timers.hold(); // the burst lands within one coalescing window
    try {
      await Promise.all(Array.from({ length: 10 }, () => produce('burst', 1)));
    } finally {
      timers.release();
    }
    assert.deepEqual(await client.next(), { type: 'append', topic: 'burst', partition: 1, highWatermark: '10' });
    assert.equal(server.notifications.sent - sentBefore, 1, 'one notification for 10 appends');
    client.close();
  });

  it('tells many subscribers, and a client that reconnects gets notifications again', async () => {
    const many = await Promise.all(Array.from({ length: 20 }, () => connect(ADMIN_KEY, ['fan'])));
    await produce('fan', 0);
    for (const client of many) assert.deepEqual(await client.next(), { type: 'append', topic: 'fan', partition: 0, highWatermark: '1' });
    for (const client of many) client.close();
    await eventually(() => server.notifications.connections === 0, 'closed connections are forgotten');
    const again = await connect(ADMIN_KEY, ['fan']);
    await produce('fan', 0);
    assert.deepEqual(await again.next(), { type: 'append', topic: 'fan', partition: 0, highWatermark: '2' });
    again.close();
    await eventually(() => server.notifications.connections === 0, 'nothing left');
  });

  it('a key revoked after it subscribed is told nothing more: its connection ends, others go on', async () => {
    const kept = await server.keys.create({ name: 'kept', scopes: [{ action: 'consume', topics: ['orders'], groups: [] }] });
    const revoked = await server.keys.create({ name: 'revoked', scopes: [{ action: 'consume', topics: ['orders'], groups: [] }] });
    const staying = await connect(kept.key, ['orders']);
    const leaving = await connect(revoked.key, ['orders']);
    const res = await fetch(`${server.url}/v1/keys/${revoked.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(res.status, 204);
    leaving.send({ action: 'subscribe', topics: ['orders'] });
    const refused = await leaving.next();
    assert.equal(refused.code, 'UNAUTHORIZED', 'no new subscription either');
    await produce('orders', 1);
    const told = await staying.next();
    assert.equal(told.type, 'append');
    const refusal = await leaving.next();
    assert.equal(refusal.code, 'UNAUTHORIZED');
    assert.match(refusal.message, /revoked/);
    assert.equal((await leaving.closed).code, 1008);
    assert.equal(leaving.queued, 0, 'no append reached the revoked key');
    staying.close();
  });

  it('answers other upgrade paths 404', async () => {
    const stray = new WebSocket(server.url.replace('http', 'ws') + '/v1/elsewhere');
    const outcome = await new Promise((resolve) => {
      stray.addEventListener('open', () => resolve('open'), { once: true });
      stray.addEventListener('error', () => resolve('refused'), { once: true });
    });
    assert.equal(outcome, 'refused');
  });
});
