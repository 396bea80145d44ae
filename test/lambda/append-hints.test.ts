/**
 * Append hints from the produce function (lib/lambda/append-hints.ts): a produce posts the channel's
 * append message to the topic's subscribers itself, before it answers; the stream handler's notifier
 * stays as the fallback.
 *
 * 1. Through the Lambda entry point (lambdas/produce.ts) on the real S3 and DynamoDB adapters against
 *    s3rver and dynalite, with the API Gateway Management API client mocked (aws-sdk-client-mock):
 *    what subscribers get, nothing without subscribers, 410 Gone, another failure.
 * 2. Through the Lambda HTTP adapter over memory stores with a manual clock, a counting metadata store
 *    and held timers: the cost of a produce nobody listens to, and the deadline.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand, type PostToConnectionCommandInput } from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { createApp } from '../../lib/http/app.ts';
import { APPEND_HINT_DEFAULTS, ProduceAppendHints } from '../../lib/lambda/append-hints.ts';
import { awsEngineFromEnv } from '../../lib/lambda/aws-app.ts';
import { lambdaHttpHandler, requestFromEvent, type HttpEventV2, type HttpResultV2 } from '../../lib/lambda/http-adapter.ts';
import { createChannelNotifier, createNotificationsHandler, managementApiPoster, type PostToConnection } from '../../lib/lambda/notifications.ts';
import { createStreamHandler } from '../../lib/lambda/push.ts';
import type { Engine, WaitTimers } from '../../lib/log/engine.ts';
import { Engine as LogEngine } from '../../lib/log/engine.ts';
import { entrySk, partitionPk } from '../../lib/log/layout.ts';
import { ChannelConnections, connectionPk, topicConnectionsPk } from '../../lib/notifications/connections.ts';
import { appendMessage } from '../../lib/notifications/protocol.ts';
import { encodeSluiceBatches } from '../../lib/api/sluice-batches.ts';
import { encodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import type { Item, MetadataStore, QueryOptions } from '../../lib/storage/ports.ts';
import { ManualClock } from '../support/clock.ts';
import { startLambdaEnvironment } from '../support/lambda-env.ts';

const KEY = 'append-hints-test-admin-key-0123456789';

function produceEvent(topic: string, body: string | Uint8Array): HttpEventV2 {
  const binary = body instanceof Uint8Array;
  return {
    rawPath: `/v1/topics/${topic}/records`,
    rawQueryString: '',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': binary ? 'application/vnd.sluice.batches' : 'application/json' },
    body: binary ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: binary,
    requestContext: { http: { method: 'POST' } },
  };
}

const records = (...placed: Array<[partition: number, value: string]>) => JSON.stringify({ records: placed.map(([partition, value]) => ({ partition, value })) });

/** Stream records as DynamoDB Streams delivers them (through the filter) for new log entries. */
function inserted(topicId: string, partition: number, offset: bigint) {
  return { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: partitionPk(topicId, partition) }, sk: { S: entrySk(offset) } }, NewImage: { aborted: { BOOL: false } } } };
}

describe('append hints through the produce entry point (lambdas/produce.ts, s3rver + dynalite, Management API mocked)', { timeout: 120_000 }, () => {
  let environment: { stop(): Promise<void> };
  let handler: (event: HttpEventV2) => Promise<HttpResultV2>;
  let engine: Engine;
  let connections: ChannelConnections;
  let ws: (routeKey: string, connectionId: string, body?: unknown) => Promise<unknown>;
  const management = mockClient(ApiGatewayManagementApiClient);
  /** What the mocked Management API accepted, in order. */
  let posted: Array<{ connectionId: string; message: { type: string; topic: string; partition: number; highWatermark: string } }>;
  /** Per connection: how the next posts answer ('gone' → 410, 'fail' → an error once). */
  let answers: Map<string, 'gone' | 'fail'>;

  before(async () => {
    environment = await startLambdaEnvironment(KEY);
    process.env.SLUICE_NOTIFICATIONS_ENDPOINT = 'https://channel.execute-api.us-east-1.amazonaws.com/notifications';
    // The container's subscriber cache outlives every test here: each test subscribes before its topic's first produce.
    process.env.SLUICE_HINT_SUBSCRIBER_CACHE_MS = '600000';
    ({ handler } = await import('../../lambdas/produce.ts'));
    // Other containers: the admin side (topics), the notifications function (subscriptions) and the stream handler.
    engine = awsEngineFromEnv();
    connections = new ChannelConnections(engine.metadata);
    const channel = createNotificationsHandler({ engine, keys: new ApiKeys(engine.metadata), connections });
    ws = async (routeKey, connectionId, body) => {
      const result = await channel({ requestContext: { routeKey, connectionId }, body: body === undefined ? undefined : JSON.stringify(body) });
      return result.body === undefined ? undefined : JSON.parse(result.body);
    };
  });

  after(async () => {
    management.restore();
    delete process.env.SLUICE_NOTIFICATIONS_ENDPOINT;
    delete process.env.SLUICE_HINT_SUBSCRIBER_CACHE_MS;
    await environment.stop();
  });

  beforeEach(() => {
    posted = [];
    answers = new Map();
    management.reset();
    management.on(PostToConnectionCommand).callsFake(async (input: PostToConnectionCommandInput) => {
      const connectionId = input.ConnectionId!;
      const answer = answers.get(connectionId);
      if (answer === 'gone') throw new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } });
      if (answer === 'fail') {
        answers.delete(connectionId);
        throw new Error('throttled');
      }
      posted.push({ connectionId, message: JSON.parse(Buffer.from(input.Data as Uint8Array).toString('utf8')) });
      return {};
    });
  });

  async function subscribe(connectionId: string, topics: string[]) {
    await ws('$connect', connectionId);
    assert.deepEqual(await ws('$default', connectionId, { action: 'auth', apiKey: KEY }), { type: 'authenticated' });
    assert.deepEqual(await ws('$default', connectionId, { action: 'subscribe', topics }), { type: 'subscribed', topics });
  }

  /** A new topic of one partition and its subscribed connections. */
  async function followed(name: string, connectionIds: string[]) {
    await engine.topics.create(name, 1);
    for (const connectionId of connectionIds) await subscribe(connectionId, [name]);
    return engine.topics.get(name);
  }

  /** The stream handler, as deployed, with its notifier posting through the (mocked) Management API. */
  function streamFallback() {
    const post = managementApiPoster(new ApiGatewayManagementApiClient({ endpoint: process.env.SLUICE_NOTIFICATIONS_ENDPOINT }));
    return createStreamHandler([createChannelNotifier({ engine, connections, post })]);
  }

  async function produce(topic: string, body: string | Uint8Array): Promise<unknown> {
    const result = await handler(produceEvent(topic, body));
    assert.equal(result.statusCode, 200, result.body);
    return JSON.parse(result.body);
  }

  it('subscribers get exactly one append message per partition of the request, with its end after the commit, before the produce answers', async () => {
    await engine.topics.create('hinted', 3);
    await engine.topics.create('elsewhere', 1);
    await subscribe('c1', ['hinted']);
    await subscribe('c2', ['hinted', 'elsewhere']);
    await subscribe('bystander', ['elsewhere']);

    // Three records on partition 0, one on partition 2, in one request: one message per partition per subscriber.
    await produce('hinted', records([0, 'a'], [2, 'b'], [0, 'c'], [0, 'd']));
    assert.equal(posted.length, 4, JSON.stringify(posted));
    for (const connectionId of ['c1', 'c2']) {
      const told = posted.filter((p) => p.connectionId === connectionId).map((p) => p.message).sort((a, b) => a.partition - b.partition);
      assert.deepEqual(told, [JSON.parse(appendMessage('hinted', 0, 3n)), JSON.parse(appendMessage('hinted', 2, 1n))]);
    }
    // The hinted high watermark is what a reader sees now.
    assert.equal((await engine.partitionState('hinted', 0)).endOffset, 3n);

    // Binary: one batch of two records on partition 0 → its new end, 5.
    posted = [];
    const batch = encodeRecordBatch(
      [0, 1].map((i) => ({ key: null, value: new Uint8Array([i]), headers: [], timestamp: 1_764_000_000_000 + i })),
      { codec: 'none' },
    );
    await produce('hinted', encodeSluiceBatches([{ partition: 0, batches: [batch] }]));
    assert.deepEqual(
      posted.map((p) => [p.connectionId, p.message]).sort(),
      [['c1', JSON.parse(appendMessage('hinted', 0, 5n))], ['c2', JSON.parse(appendMessage('hinted', 0, 5n))]],
    );
    assert.ok(!posted.some((p) => p.connectionId === 'bystander'));
  });

  it('a topic nobody subscribed to: nothing is posted', async () => {
    await engine.topics.create('quiet', 2);
    await subscribe('listener', ['hinted']);
    await produce('quiet', records([0, 'x'], [1, 'y']));
    await produce('quiet', records([1, 'z']));
    assert.equal(management.commandCalls(PostToConnectionCommand).length, 0);
  });

  it('410 Gone: the produce answers 200 and this container stops posting to it (it deletes nothing); the notifier\'s own 410 deletes its items', async () => {
    const topic = await followed('leaving', ['gone', 'staying']);
    answers.set('gone', 'gone');
    await produce('leaving', records([0, 'a']));
    assert.deepEqual(management.commandCalls(PostToConnectionCommand).map((c) => c.args[0].input.ConnectionId).sort(), ['gone', 'staying']);
    assert.ok(await engine.metadata.get(connectionPk('gone'), 'connection'), 'the produce function deletes nothing');

    management.resetHistory();
    await produce('leaving', records([0, 'b']));
    assert.deepEqual(management.commandCalls(PostToConnectionCommand).map((c) => c.args[0].input.ConnectionId), ['staying']);
    assert.deepEqual(posted.map((p) => p.message.highWatermark), ['1', '2']);

    // The stream handler's notifier posts the same appends a moment later, gets its own 410, and cleans up.
    await streamFallback()({ Records: [inserted(topic.id, 0, 0n), inserted(topic.id, 0, 1n)] });
    assert.equal(await engine.metadata.get(connectionPk('gone'), 'connection'), undefined);
    assert.deepEqual((await connections.subscribers(topic.id)).map((s) => s.connectionId), ['staying']);
    assert.deepEqual(posted.at(-1), { connectionId: 'staying', message: JSON.parse(appendMessage('leaving', 0, 2n)) }, 'the fallback repeats what the hint said');
  });

  it('a key revoked after it subscribed: the produce posts nothing to its connections, and still to the others', async () => {
    const keys = new ApiKeys(engine.metadata); // the admin function, another container
    const revoked = await keys.create({ name: 'revoked-reader', scopes: [{ action: 'consume', topics: ['revoking'] }] });
    await engine.topics.create('revoking', 1);
    for (const [connectionId, key] of [['revoked', revoked.key], ['kept', KEY]] as const) {
      await ws('$connect', connectionId);
      assert.deepEqual(await ws('$default', connectionId, { action: 'auth', apiKey: key }), { type: 'authenticated' });
      assert.deepEqual(await ws('$default', connectionId, { action: 'subscribe', topics: ['revoking'] }), { type: 'subscribed', topics: ['revoking'] });
    }
    await keys.revoke(revoked.keyId);
    await produce('revoking', records([0, 'a']));
    assert.deepEqual(management.commandCalls(PostToConnectionCommand).map((c) => c.args[0].input.ConnectionId), ['kept']);
    assert.ok(await engine.metadata.get(connectionPk('revoked'), 'connection'), 'the produce function deletes nothing (the notifier does)');
  });

  it('another failure: the produce still answers 200, the records are there, and the notifier still tells that subscriber', async () => {
    const topic = await followed('flaky', ['unlucky', 'lucky']);
    answers.set('unlucky', 'fail');
    assert.deepEqual(await produce('flaky', records([0, 'kept'])), { records: [{ partition: 0, offset: '0' }] });
    assert.deepEqual(posted.map((p) => p.connectionId), ['lucky']);
    const fetched = await engine.fetch('flaky', 0, { offset: 0n });
    assert.equal(fetched.highWatermark, 1n);
    assert.equal(fetched.batches.length, 1);

    await streamFallback()({ Records: [inserted(topic.id, 0, 0n)] });
    assert.deepEqual(
      posted.filter((p) => p.connectionId === 'unlucky').map((p) => p.message),
      [JSON.parse(appendMessage('flaky', 0, 1n))],
    );
  });
});

/** Counts Queries of a topic's subscriber items (wst#…) and holds them when asked. */
class SubscriberQueryCounter implements MetadataStore {
  readonly #inner: MetadataStore;
  subscriberQueries = 0;
  otherCalls: string[] = [];
  /** While set, subscriber Queries never answer (a lookup that hangs). */
  hang = false;
  constructor(inner: MetadataStore) {
    this.#inner = inner;
  }
  get(pk: string, sk: string) {
    this.otherCalls.push(`get ${pk.split('#')[0]}`);
    return this.#inner.get(pk, sk);
  }
  put(item: Item, condition?: Parameters<MetadataStore['put']>[1]) {
    this.otherCalls.push(`put ${item.pk.split('#')[0]}`);
    return this.#inner.put(item, condition);
  }
  update(...args: Parameters<MetadataStore['update']>) {
    this.otherCalls.push(`update ${args[0].split('#')[0]}`);
    return this.#inner.update(...args);
  }
  delete(...args: Parameters<MetadataStore['delete']>) {
    this.otherCalls.push(`delete ${args[0].split('#')[0]}`);
    return this.#inner.delete(...args);
  }
  query(pk: string, options?: QueryOptions) {
    if (pk.startsWith('wst#')) {
      this.subscriberQueries++;
      if (this.hang) return new Promise<Item[]>(() => {});
    } else {
      this.otherCalls.push(`query ${pk.split('#')[0]}`);
    }
    return this.#inner.query(pk, options);
  }
}

/** Timers that only fire when the test says so. */
class HeldTimers implements WaitTimers {
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 0;
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { callback, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const { callback } of due) callback();
  }
}

/** Lets queued promise callbacks and I/O callbacks run (no clock involved). */
const settle = async (turns = 20) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('append hints: what they cost and how long they may take (Lambda HTTP adapter, memory stores, manual clock, held timers)', { timeout: 60_000 }, () => {
  let clock: ManualClock;
  let counter: SubscriberQueryCounter;
  let engine: LogEngine;
  let timers: HeldTimers;
  let errors: unknown[];

  beforeEach(async () => {
    clock = new ManualClock();
    counter = new SubscriberQueryCounter(new MemoryMetadataStore());
    engine = new LogEngine({ objects: new MemoryObjectStore(), metadata: counter, now: clock.now, topicCacheMs: 3_600_000 });
    await new ApiKeys(counter).ensure(KEY, 'bootstrap');
    await engine.topics.create('orders', 2);
    timers = new HeldTimers();
    errors = [];
  });

  function lambdaApp(post: PostToConnection, appendHints = true) {
    const hints = new ProduceAppendHints({ connections: new ChannelConnections(counter, { now: clock.now }), post, now: clock.now, timers, logError: (_m, e) => errors.push(e) });
    const app = createApp({ engine, keys: new ApiKeys(counter, { now: clock.now }), functions: ['produce'], now: clock.now, appendHints: appendHints ? hints : undefined });
    return { hints, handler: lambdaHttpHandler(app), app };
  }

  async function subscribe(connectionId: string) {
    const topic = await engine.topics.get('orders');
    await new ChannelConnections(counter, { now: clock.now }).subscribe({ connectionId, topics: new Map() }, new Map([[topic.id, 'orders']]));
  }

  it(`no subscribers: nothing posted, and one Query of the topic's subscribers per ${APPEND_HINT_DEFAULTS.subscriberCacheMs} ms per container, whatever the produce rate`, async () => {
    let posts = 0;
    const { hints, handler } = lambdaApp(async () => (posts++, 'sent'));
    for (let i = 0; i < 10; i++) assert.equal((await handler(produceEvent('orders', records([i % 2, `r${i}`])))).statusCode, 200);
    assert.equal(counter.subscriberQueries, 1);
    assert.equal(hints.stats.lookups, 1);
    clock.advance(APPEND_HINT_DEFAULTS.subscriberCacheMs - 1);
    await handler(produceEvent('orders', records([0, 'still cached'])));
    assert.equal(counter.subscriberQueries, 1);
    clock.advance(1);
    await handler(produceEvent('orders', records([0, 'looked up again'])));
    assert.equal(counter.subscriberQueries, 2);
    assert.equal(posts, 0);
    assert.equal(timers.pending.size, 0, 'no deadline left running');

    // Beyond that cached Query, a produce costs what it costs without hints (both containers warm).
    const plain = lambdaApp(async () => 'sent', false).handler;
    await plain(produceEvent('orders', records([1, 'warming up'])));
    counter.otherCalls = [];
    await handler(produceEvent('orders', records([1, 'with hints'])));
    const withHints = counter.otherCalls;
    counter.otherCalls = [];
    await plain(produceEvent('orders', records([1, 'without hints'])));
    assert.deepEqual(withHints, counter.otherCalls);
    assert.ok(withHints.length > 0);
    assert.deepEqual(errors, []);
  });

  it('a subscriber arriving is posted to once the cache expires; a failed post is logged and the produce answers 200', async () => {
    const sent: string[] = [];
    const { handler } = lambdaApp(async (connectionId, text) => {
      if (connectionId === 'broken') throw new Error('throttled');
      sent.push(`${connectionId} ${text}`);
      return 'sent';
    });
    await handler(produceEvent('orders', records([0, 'before anyone listened'])));
    await subscribe('late');
    await subscribe('broken');
    await handler(produceEvent('orders', records([0, 'within the cache'])));
    assert.deepEqual(sent, [], 'the cached empty list is used until it expires (the notifier tells them meanwhile)');
    clock.advance(APPEND_HINT_DEFAULTS.subscriberCacheMs);
    const answered = await handler(produceEvent('orders', records([0, 'told'])));
    assert.equal(answered.statusCode, 200);
    assert.deepEqual(sent, [`late ${appendMessage('orders', 0, 3n)}`]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /throttled/);
  });

  it('the deadline: a post that never answers is aborted when the deadline fires, and the produce answers 200 then', async () => {
    await subscribe('c1');
    const signals: AbortSignal[] = [];
    const { hints, handler } = lambdaApp((_connectionId, _text, signal) => {
      signals.push(signal!);
      return new Promise(() => {}); // PostToConnection hanging (aws-sdk-js-v3 #6896, #7632: requestTimeout is not always honoured)
    });
    let answered: HttpResultV2 | undefined;
    const request = handler(produceEvent('orders', records([0, 'a'], [1, 'b']))).then((result) => (answered = result));
    for (let i = 0; i < 100 && signals.length < 2; i++) await settle(1);
    assert.equal(signals.length, 2, 'one post per partition, both in flight');
    await settle();
    assert.equal(answered, undefined, 'the answer waits for the hints until the deadline');
    assert.deepEqual([...timers.pending.values()].map((t) => t.ms), [APPEND_HINT_DEFAULTS.deadlineMs]);
    timers.fireAll();
    await request;
    assert.equal(answered!.statusCode, 200);
    assert.ok(signals.every((signal) => signal.aborted), 'the posts in flight are aborted');
    assert.equal(hints.stats.late, 1);
    assert.deepEqual(errors, [], 'an abandoned post is not an error to log');
    // The records are there, whatever happened to the hint.
    assert.equal((await engine.partitionState('orders', 0)).endOffset, 1n);
  });

  it('the produce answer tells observability what its hints did (AppendHintsPosted, AppendHintsLate, AppendHintsGone metrics)', async () => {
    await subscribe('c1');
    await subscribe('c2');
    const answering = lambdaApp(async () => 'sent').app;
    const told = await answering(requestFromEvent(produceEvent('orders', records([0, 'a'], [1, 'b']))));
    assert.equal(told.status, 200);
    assert.deepEqual([told.observed?.appendHintsPosted, told.observed?.appendHintsLate, told.observed?.appendHintsGone], [4, 0, 0], '2 partitions × 2 subscribers, in time');
    const { app: halfGone, hints: halfGoneHints } = lambdaApp(async (connectionId) => (connectionId === 'c1' ? 'gone' : 'sent'));
    const found = await halfGone(requestFromEvent(produceEvent('orders', records([0, 'x'], [1, 'y']))));
    assert.deepEqual([found.observed?.appendHintsPosted, found.observed?.appendHintsGone], [2, 2], 'c1 answered 410 for each partition’s message');
    assert.equal(halfGoneHints.stats.gone, 2);
    const again = await halfGone(requestFromEvent(produceEvent('orders', records([0, 'z']))));
    assert.deepEqual([again.observed?.appendHintsPosted, again.observed?.appendHintsGone], [1, 0], 'this container no longer posts to it');
    const { app: hanging } = lambdaApp(() => new Promise(() => {}));
    const late = hanging(requestFromEvent(produceEvent('orders', records([0, 'c']))));
    for (let i = 0; i < 100 && timers.pending.size === 0; i++) await settle(1);
    timers.fireAll();
    const cutOff = await late;
    assert.deepEqual([cutOff.observed?.appendHintsPosted, cutOff.observed?.appendHintsLate], [0, 1], 'cut off by the deadline');
    const { app: withoutHints } = lambdaApp(async () => 'sent', false);
    const plain = await withoutHints(requestFromEvent(produceEvent('orders', records([0, 'd']))));
    assert.equal(plain.observed?.appendHintsPosted, undefined, 'no hints, no hint metrics');
  });

  it('subscribers\' keys are checked while the append is written: the hint after the commit waits for no key read, and a failed check tells that key\'s connections nothing', async () => {
    const asked: string[] = [];
    const answers = new Map<string, { resolve: (live: boolean) => void; reject: (error: Error) => void }>();
    const isLive = (keyId: string) => {
      asked.push(keyId);
      return new Promise<boolean>((resolve, reject) => answers.set(keyId, { resolve, reject }));
    };
    const subscribers = [
      { connectionId: 'c1', topic: 'orders', keyId: 'live' },
      { connectionId: 'c2', topic: 'orders', keyId: 'live' },
      { connectionId: 'c3', topic: 'orders', keyId: 'revoked' },
      { connectionId: 'c4', topic: 'orders', keyId: 'unreadable' },
      { connectionId: 'c5', topic: 'orders' },
    ];
    const posts: string[] = [];
    const hints = new ProduceAppendHints({
      connections: { subscribers: async () => subscribers } as unknown as ChannelConnections,
      post: async (connectionId) => (posts.push(connectionId), 'sent'),
      isLive,
      now: clock.now,
      timers,
      logError: (_m, e) => errors.push(e),
    });
    const topic = await engine.topics.get('orders');
    const hint = hints.begin(topic); // the produce route calls this before it appends
    await settle();
    assert.deepEqual(asked, ['live', 'revoked', 'unreadable'], 'each key asked once, before the append is done');
    answers.get('live')!.resolve(true);
    answers.get('revoked')!.resolve(false);
    answers.get('unreadable')!.reject(new Error('throttled'));
    await settle(); // the failed check is not an unhandled rejection while no hint awaits it
    const outcome = await hint([{ partition: 0, baseOffset: 0n, recordCount: 1 }]);
    assert.deepEqual(outcome, { posted: 3, late: false, gone: 0 });
    assert.deepEqual(posts.sort(), ['c1', 'c2', 'c5']);
    assert.deepEqual(asked, ['live', 'revoked', 'unreadable'], 'the hint asked nothing more');
    assert.equal(errors.length, 1, 'the unreadable key is logged');
    // the next produce inside the cache time reuses the answers
    await hints.begin(topic)([{ partition: 1, baseOffset: 0n, recordCount: 1 }]);
    assert.equal(asked.length, 3);
    assert.equal(posts.length, 6);
  });

  it('the deadline also bounds a subscriber lookup that hangs', async () => {
    counter.hang = true;
    let posts = 0;
    const { hints, handler } = lambdaApp(async () => (posts++, 'sent'));
    let answered: HttpResultV2 | undefined;
    const request = handler(produceEvent('orders', records([0, 'a']))).then((result) => (answered = result));
    for (let i = 0; i < 100 && timers.pending.size === 0; i++) await settle(1);
    await settle();
    assert.equal(answered, undefined);
    timers.fireAll();
    await request;
    assert.equal(answered!.statusCode, 200);
    assert.equal(posts, 0);
    assert.equal(hints.stats.late, 1);
  });
});
