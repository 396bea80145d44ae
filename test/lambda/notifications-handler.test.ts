/**
 * The notification channel in AWS, in process: the WebSocket routes' handler and the stream handler's
 * notifier over the memory metadata store, with a fake API Gateway Management API client. The
 * protocol is the local server's (lib/notifications/protocol.ts); here, what AWS adds: connections
 * and subscriptions as table items, posting after appends, coalescing per stream batch, 410 cleanup.
 */
import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { GoneException, type PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { LIMITS } from '../../lib/defaults.ts';
import { awsAppFromEnv } from '../../lib/lambda/aws-app.ts';
import { createChannelNotifier, createNotificationsHandler, managementApiPoster } from '../../lib/lambda/notifications.ts';
import { createStreamHandler } from '../../lib/lambda/push.ts';
import { Engine } from '../../lib/log/engine.ts';
import { append } from '../log/engine.suite.ts';
import { entrySk, partitionPk } from '../../lib/log/layout.ts';
import { ChannelConnections, CONNECTION_TTL_SECONDS, connectionPk, topicConnectionsPk } from '../../lib/notifications/connections.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { EXPIRES_AT } from '../../lib/storage/ports.ts';

/** The Management API client's `send`, recording what was posted; connections in `gone` answer 410. */
class FakeManagementApi {
  readonly posted: Array<{ connectionId: string; message: any }> = [];
  readonly gone = new Set<string>();
  failing = new Set<string>();
  async send(command: PostToConnectionCommand): Promise<unknown> {
    const connectionId = command.input.ConnectionId!;
    if (this.gone.has(connectionId)) throw new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } });
    if (this.failing.has(connectionId)) throw new Error('throttled');
    this.posted.push({ connectionId, message: JSON.parse(Buffer.from(command.input.Data as Uint8Array).toString('utf8')) });
    return {};
  }
}

/** Stream records as DynamoDB Streams delivers them (through the filter) for new log entries. */
function inserted(topicId: string, partition: number, offset: bigint) {
  return { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: partitionPk(topicId, partition) }, sk: { S: entrySk(offset) } }, NewImage: { aborted: { BOOL: false } } } };
}

describe('notification channel in AWS (WebSocket routes, notifier)', { timeout: 60_000 }, () => {
  let metadata: MemoryMetadataStore;
  let engine: Engine;
  let keys: ApiKeys;
  let now: number;
  let connections: ChannelConnections;
  let management: FakeManagementApi;
  let ws: (routeKey: string, connectionId: string, body?: unknown) => Promise<any>;
  let streamHandler: (event: { Records?: any[] }) => Promise<{ advanced: number }>;
  let ordersKey: string;
  let ordersKeyId: string;
  let adminKey: string;
  let errors: unknown[];

  beforeEach(async () => {
    metadata = new MemoryMetadataStore();
    engine = new Engine({ objects: new MemoryObjectStore(), metadata });
    now = Date.now();
    keys = new ApiKeys(metadata, { cacheMs: 0 });
    connections = new ChannelConnections(metadata, { now: () => now });
    management = new FakeManagementApi();
    errors = [];
    const handler = createNotificationsHandler({ engine, keys, connections, logError: (_m, e) => errors.push(e) });
    ws = async (routeKey, connectionId, body) => {
      const result = await handler({ requestContext: { routeKey, connectionId }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      assert.equal(result.statusCode, 200);
      return result.body === undefined ? undefined : JSON.parse(result.body);
    };
    const notifier = createChannelNotifier({ engine, connections, post: managementApiPoster(management), logError: (_m, e) => errors.push(e), isLive: (keyId) => keys.isLive(keyId) });
    streamHandler = createStreamHandler([notifier]);
    await engine.topics.create('orders', 2);
    await engine.topics.create('payments', 1);
    const ordersReader = await keys.create({ name: 'orders-reader', scopes: [{ action: 'consume', topics: ['orders'] }] });
    ordersKey = ordersReader.key;
    ordersKeyId = ordersReader.keyId;
    adminKey = (await keys.create({ name: 'admin', scopes: [{ action: 'admin', topics: ['*'], groups: ['*'] }] })).key;
  });

  async function produce(topic: string, partition: number, values: string[]) {
    await engine.produce(topic, [append(partition, values)]);
  }

  it('connect records an unauthenticated connection; a good key authenticates it; subscribe within scope writes both sides', async () => {
    assert.equal(await ws('$connect', 'c1'), undefined);
    const item = await metadata.get(connectionPk('c1'), 'connection');
    assert.ok(item && item.principal === undefined);
    const ttl = Number(item[EXPIRES_AT]) - now / 1000;
    assert.ok(ttl > CONNECTION_TTL_SECONDS - 2 && ttl <= CONNECTION_TTL_SECONDS, `TTL in ${ttl} s`);
    assert.deepEqual(await ws('$default', 'c1', { action: 'auth', apiKey: ordersKey }), { type: 'authenticated' });
    assert.deepEqual(await ws('$default', 'c1', { action: 'subscribe', topics: ['orders', 'orders'] }), { type: 'subscribed', topics: ['orders'] });
    const orders = await engine.topics.get('orders');
    assert.deepEqual(await connections.subscribers(orders.id), [{ connectionId: 'c1', topic: 'orders', keyId: ordersKeyId }]);
    assert.deepEqual([...(await connections.get('c1'))!.topics], [[orders.id, 'orders']]);
  });

  it('a bad key, a subscribe before auth, a malformed message: refusals with the contract codes, nothing written', async () => {
    await ws('$connect', 'c1');
    const bad = await ws('$default', 'c1', { action: 'auth', apiKey: 'sluice_not-a-key-at-all-000000000' });
    assert.equal(bad.type, 'error');
    assert.equal(bad.code, 'UNAUTHORIZED');
    assert.equal((await connections.get('c1'))!.principal, undefined);
    assert.equal((await ws('$default', 'c1', { action: 'subscribe', topics: ['orders'] })).code, 'UNAUTHORIZED');
    assert.equal((await ws('$default', 'c1', 'not json')).code, 'INVALID_REQUEST');
    assert.equal((await ws('$default', 'c1', { action: 'dance' })).code, 'INVALID_REQUEST');
    assert.equal((await ws('$default', 'c1', { action: 'subscribe', topics: [] })).code, 'INVALID_REQUEST');
    assert.deepEqual(await metadata.query(topicConnectionsPk((await engine.topics.get('orders')).id)), []);
    assert.deepEqual(errors, []);
  });

  it('subscribe outside the consume scope is refused all or nothing; an unknown topic is TOPIC_NOT_FOUND', async () => {
    await ws('$connect', 'c1');
    await ws('$default', 'c1', { action: 'auth', apiKey: ordersKey });
    const refused = await ws('$default', 'c1', { action: 'subscribe', topics: ['orders', 'payments'] });
    assert.equal(refused.code, 'FORBIDDEN');
    assert.equal(refused.topic, 'payments');
    assert.deepEqual(await connections.subscribers((await engine.topics.get('orders')).id), [], 'orders was not subscribed either');
    assert.equal((await connections.get('c1'))!.topics.size, 0);
    await ws('$connect', 'c2');
    await ws('$default', 'c2', { action: 'auth', apiKey: adminKey });
    assert.equal((await ws('$default', 'c2', { action: 'subscribe', topics: ['nope'] })).code, 'TOPIC_NOT_FOUND');
  });

  it(`at most LIMITS.maxSubscribedTopics topics per connection; re-sending a subscribe does not count twice`, async () => {
    const names = Array.from({ length: LIMITS.maxSubscribedTopics }, (_, i) => `t${i}`);
    for (const name of names) await engine.topics.create(name, 1);
    await ws('$connect', 'c1');
    await ws('$default', 'c1', { action: 'auth', apiKey: adminKey });
    assert.equal((await ws('$default', 'c1', { action: 'subscribe', topics: names })).type, 'subscribed');
    assert.equal((await ws('$default', 'c1', { action: 'subscribe', topics: names.slice(0, 10) })).type, 'subscribed');
    const refused = await ws('$default', 'c1', { action: 'subscribe', topics: ['orders'] });
    assert.equal(refused.code, 'INVALID_REQUEST');
    assert.equal(refused.limit, LIMITS.maxSubscribedTopics);
    assert.equal((await connections.get('c1'))!.topics.size, LIMITS.maxSubscribedTopics);
    assert.deepEqual(await connections.subscribers((await engine.topics.get('orders')).id), []);
  });

  it('an append reaches subscribers through the stream handler; a burst in one batch is one message per partition with the latest high watermark', async () => {
    const orders = await engine.topics.get('orders');
    for (const id of ['c1', 'c2']) {
      await ws('$connect', id);
      await ws('$default', id, { action: 'auth', apiKey: ordersKey });
      await ws('$default', id, { action: 'subscribe', topics: ['orders'] });
    }
    await ws('$connect', 'other');
    await ws('$default', 'other', { action: 'auth', apiKey: adminKey });
    await ws('$default', 'other', { action: 'subscribe', topics: ['payments'] });

    await produce('orders', 0, ['a']);
    await streamHandler({ Records: [inserted(orders.id, 0, 0n)] });
    assert.deepEqual(management.posted.map((p) => p.connectionId).sort(), ['c1', 'c2']);
    assert.deepEqual(management.posted[0].message, { type: 'append', topic: 'orders', partition: 0, highWatermark: '1' });

    // Three entries on partition 0 and one on partition 1 in one batch: one message per partition per subscriber.
    management.posted.length = 0;
    await produce('orders', 0, ['b']);
    await produce('orders', 0, ['c', 'd']);
    await produce('orders', 1, ['e']);
    await streamHandler({ Records: [inserted(orders.id, 0, 1n), inserted(orders.id, 0, 2n), inserted(orders.id, 1, 0n), inserted(orders.id, 0, 3n)] });
    assert.equal(management.posted.length, 4);
    const toC1 = management.posted.filter((p) => p.connectionId === 'c1').map((p) => p.message).sort((a, b) => a.partition - b.partition);
    assert.deepEqual(toC1, [
      { type: 'append', topic: 'orders', partition: 0, highWatermark: '4' },
      { type: 'append', topic: 'orders', partition: 1, highWatermark: '1' },
    ]);
    assert.ok(!management.posted.some((p) => p.connectionId === 'other'));
  });

  it('table reads per notification do not grow with subscribers: one Query per topic, one head read per partition (whatever the subscribers)', async () => {
    const orders = await engine.topics.get('orders');
    const counted: string[] = [];
    const counting = new Proxy(metadata, {
      get: (target, name) => {
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? (...args: unknown[]) => (counted.push(`${String(name)} ${String(args[0]).split('#')[0]}`), value.apply(target, args)) : value;
      },
    });
    const countingEngine = new Engine({ objects: new MemoryObjectStore(), metadata: counting });
    const notify = createChannelNotifier({ engine: countingEngine, connections: new ChannelConnections(counting, { now: () => now }), post: managementApiPoster(management) });
    const readsFor = async (subscribers: number) => {
      for (let i = 0; i < subscribers; i++) {
        await ws('$connect', `s${subscribers}-${i}`);
        await ws('$default', `s${subscribers}-${i}`, { action: 'auth', apiKey: ordersKey });
        await ws('$default', `s${subscribers}-${i}`, { action: 'subscribe', topics: ['orders'] });
      }
      await produce('orders', 0, ['x']);
      counted.length = 0;
      management.posted.length = 0;
      await notify([{ topicId: orders.id, partition: 0 }, { topicId: orders.id, partition: 1 }]);
      return { reads: [...counted], posted: management.posted.length };
    };
    const one = await readsFor(1);
    const many = await readsFor(9);
    assert.equal(one.posted, 2);
    assert.equal(many.posted, 20);
    // The second round finds the topic in the engine's cache: compare the table reads that remain.
    const withoutTopics = (reads: string[]) => reads.filter((r) => r !== 'get topics');
    assert.deepEqual(withoutTopics(many.reads), withoutTopics(one.reads));
    // Per partition one query for the head and its watermark item (and, on the partition with records, one of the entries
    // past the stored watermark: PartitionLog.readableHead).
    assert.deepEqual(withoutTopics(one.reads).sort(), ['query p', 'query p', 'query p', 'query wst'], JSON.stringify(one.reads));
  });

  it('disconnect deletes the connection and its subscriptions: nothing is posted to it', async () => {
    const orders = await engine.topics.get('orders');
    await ws('$connect', 'c1');
    await ws('$default', 'c1', { action: 'auth', apiKey: adminKey });
    await ws('$default', 'c1', { action: 'subscribe', topics: ['orders', 'payments'] });
    await ws('$disconnect', 'c1');
    assert.equal(await metadata.get(connectionPk('c1'), 'connection'), undefined);
    assert.deepEqual(await metadata.query(topicConnectionsPk(orders.id)), []);
    assert.deepEqual(await metadata.query(topicConnectionsPk((await engine.topics.get('payments')).id)), []);
    await produce('orders', 0, ['a']);
    await streamHandler({ Records: [inserted(orders.id, 0, 0n)] });
    assert.deepEqual(management.posted, []);
  });

  it('410 Gone from PostToConnection deletes the connection items; another failure is logged, not retried, and others still get theirs', async () => {
    const orders = await engine.topics.get('orders');
    for (const id of ['gone', 'flaky', 'ok']) {
      await ws('$connect', id);
      await ws('$default', id, { action: 'auth', apiKey: ordersKey });
      await ws('$default', id, { action: 'subscribe', topics: ['orders'] });
    }
    management.gone.add('gone');
    management.failing.add('flaky');
    await produce('orders', 0, ['a']);
    assert.deepEqual(await streamHandler({ Records: [inserted(orders.id, 0, 0n)] }), { advanced: 1 });
    assert.deepEqual(management.posted.map((p) => p.connectionId), ['ok']);
    assert.equal(await metadata.get(connectionPk('gone'), 'connection'), undefined);
    assert.deepEqual((await connections.subscribers(orders.id)).map((s) => s.connectionId).sort(), ['flaky', 'ok']);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /throttled/);
  });

  it('a key revoked after it subscribed: its connections are told nothing and forgotten, others still get theirs', async () => {
    const orders = await engine.topics.get('orders');
    const other = await keys.create({ name: 'other-reader', scopes: [{ action: 'consume', topics: ['orders'] }] });
    for (const [id, key] of [['revoked-1', ordersKey], ['revoked-2', ordersKey], ['kept', other.key]] as const) {
      await ws('$connect', id);
      await ws('$default', id, { action: 'auth', apiKey: key });
      await ws('$default', id, { action: 'subscribe', topics: ['orders'] });
    }
    await keys.revoke(ordersKeyId);
    const refused = await ws('$default', 'revoked-1', { action: 'subscribe', topics: ['orders'] });
    assert.equal(refused.code, 'UNAUTHORIZED', 'no new subscription either');
    assert.match(refused.message, /revoked/);
    await produce('orders', 0, ['a']);
    await streamHandler({ Records: [inserted(orders.id, 0, 0n)] });
    assert.deepEqual(management.posted.map((p) => p.connectionId), ['kept']);
    assert.deepEqual((await connections.subscribers(orders.id)).map((s) => s.connectionId), ['kept']);
    assert.equal(await metadata.get(connectionPk('revoked-1'), 'connection'), undefined);
    assert.deepEqual(errors, []);
  });

  it('items past their TTL are skipped before DynamoDB removes them (a lost $disconnect)', async () => {
    const orders = await engine.topics.get('orders');
    await ws('$connect', 'c1');
    await ws('$default', 'c1', { action: 'auth', apiKey: ordersKey });
    await ws('$default', 'c1', { action: 'subscribe', topics: ['orders'] });
    now += (CONNECTION_TTL_SECONDS + 1) * 1000;
    assert.deepEqual(await connections.subscribers(orders.id), []);
    assert.equal(await connections.get('c1'), undefined);
    // Its next message starts over: unauthenticated.
    assert.equal((await ws('$default', 'c1', { action: 'subscribe', topics: ['orders'] })).code, 'UNAUTHORIZED');
  });
});

describe('GET /v1/health in AWS names the channel', () => {
  const request = { method: 'GET', path: '/v1/health', query: new URLSearchParams(), headers: {}, body: new Uint8Array() };
  const env = { SLUICE_BUCKET: 'bucket', SLUICE_TABLE: 'table', AWS_REGION: 'us-east-1' };

  it('notifications: the stage wss URL from SLUICE_NOTIFICATIONS_URL', async () => {
    const { app } = awsAppFromEnv({ function: 'admin', env: { ...env, SLUICE_NOTIFICATIONS_URL: 'wss://abc.execute-api.us-east-1.amazonaws.com/notifications' } });
    const response = await app(request);
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(String(response.body)).notifications, 'wss://abc.execute-api.us-east-1.amazonaws.com/notifications');
  });

  it('no channel configured: no notifications field', async () => {
    const { app } = awsAppFromEnv({ function: 'admin', env });
    assert.equal(JSON.parse(String((await app(request)).body)).notifications, undefined);
  });
});
