/**
 * Least privilege, proved by behaviour: every route runs in the function that serves it in AWS,
 * against stores that record each call as the IAM action it needs and the key it touches. Each
 * function must stay inside its grant in lib/cdk/access.ts (the table the construct turns into IAM
 * policies), and use every action it is granted (a grant nobody uses is a grant too many).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { ACCESS, POST_TO_CONNECTION_ACTION, TOPIC_OBJECTS, placeObjectAccess, type AccessName, type ExpressSessionMode, type FunctionAccess, type IngestStorage } from '../../lib/cdk/access.ts';
import { ROUTES, pathPattern } from '../../lib/api/routes.ts';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../lib/http/app.ts';
import { Groups } from '../../lib/groups/groups.ts';
import { AWS_URL_POLICY } from '../../lib/push/config.ts';
import { PushConsumers } from '../../lib/push/consumers.ts';
import { AesGcmSecretBox } from '../../lib/push/secrets.ts';
import { Dispatcher } from '../../lib/push/dispatcher.ts';
import { handlePushConsumerEvent } from '../../lib/lambda/push.ts';
import { createChannelNotifier, createNotificationsHandler, type PostToConnection } from '../../lib/lambda/notifications.ts';
import { ProduceAppendHints } from '../../lib/lambda/append-hints.ts';
import { ChannelConnections } from '../../lib/notifications/connections.ts';
import { encodeSluiceBatches } from '../../lib/api/sluice-batches.ts';
import { API_FUNCTION_NAMES, type ApiFunctionName } from '../../lib/lambda/functions.ts';
import { handleBootstrapKeyEvent } from '../../lib/lambda/bootstrap-key.ts';
import { lambdaHttpHandler, type HttpEventV2, type HttpResultV2 } from '../../lib/lambda/http-adapter.ts';
import { streamingHttpHandler } from '../../lib/lambda/streaming.ts';
import type { HttpHandler } from '../../lib/http/types.ts';
import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../../lib/defaults.ts';
import { Engine } from '../../lib/log/engine.ts';
import { EXPIRES_AT } from '../../lib/storage/ports.ts';
import { encodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import type { ByteRange, Condition, Item, MetadataStore, ObjectStore, QueryOptions, UpdateChanges, UpdateOptions } from '../../lib/storage/ports.ts';
import { matchesIamPattern } from './iam-patterns.ts';
import { RoutedObjectStore } from '../../lib/storage/routed-object-store.ts';

const ADMIN_KEY = 'bootstrap-admin-key-from-secrets-manager-0123456789';

interface Call {
  readonly action: string;
  /** Partition key, or object key. */
  readonly key: string;
  readonly item?: Item;
  /** Which bucket an object call reached. */
  readonly bucket?: 'standard' | 'express';
}

class RecordingMetadataStore implements MetadataStore {
  readonly calls: Call[] = [];
  readonly #inner: MetadataStore;
  constructor(inner: MetadataStore) {
    this.#inner = inner;
  }
  get(pk: string, sk: string) {
    this.calls.push({ action: 'dynamodb:GetItem', key: pk });
    return this.#inner.get(pk, sk);
  }
  put(item: Item, condition?: Condition) {
    this.calls.push({ action: 'dynamodb:PutItem', key: item.pk, item });
    return this.#inner.put(item, condition);
  }
  update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions) {
    this.calls.push({ action: 'dynamodb:UpdateItem', key: pk });
    return this.#inner.update(pk, sk, changes, condition, options);
  }
  delete(pk: string, sk: string, condition?: Condition) {
    this.calls.push({ action: 'dynamodb:DeleteItem', key: pk });
    return this.#inner.delete(pk, sk, condition);
  }
  query(pk: string, options?: QueryOptions) {
    this.calls.push({ action: 'dynamodb:Query', key: pk });
    return this.#inner.query(pk, options);
  }
}

class RecordingObjectStore implements ObjectStore {
  readonly calls: Call[];
  readonly #inner: ObjectStore;
  readonly #bucket: 'standard' | 'express';
  constructor(inner: ObjectStore, calls: Call[] = [], bucket: 'standard' | 'express' = 'standard') {
    this.#inner = inner;
    this.calls = calls;
    this.#bucket = bucket;
  }
  #record(action: string, key: string) {
    this.calls.push({ action, key, bucket: this.#bucket });
  }
  put(key: string, body: Uint8Array) {
    this.#record('s3:PutObject', key);
    return this.#inner.put(key, body);
  }
  get(key: string, range?: ByteRange) {
    this.#record('s3:GetObject', key);
    return this.#inner.get(key, range);
  }
  delete(keys: readonly string[]) {
    for (const key of keys) this.#record('s3:DeleteObject', key);
    return this.#inner.delete(keys);
  }
  list(prefix: string) {
    this.#record('s3:ListBucket', prefix);
    return this.#inner.list(prefix);
  }
  /** A presigned URL is signed with the function's credentials: it needs s3:GetObject on the key. */
  async presignGet(key: string, range: ByteRange) {
    this.#record('s3:GetObject', key);
    return `https://bucket.s3.example/${key}?range=${range.start}-${range.end}`;
  }
}

/** The object stores of one function: the bucket alone, or the bucket and the directory bucket behind a RoutedObjectStore. */
function recordedObjects(storage: IngestStorage, standard: ObjectStore, express: ObjectStore): { store: ObjectStore; calls: Call[] } {
  const calls: Call[] = [];
  const recordedStandard = new RecordingObjectStore(standard, calls, 'standard');
  if (storage === 'standard') return { store: recordedStandard, calls };
  return { store: new RoutedObjectStore({ standard: recordedStandard, ingest: new RecordingObjectStore(express, calls, 'express') }), calls };
}

function event(method: string, path: string, options: { body?: string | Uint8Array; query?: string; headers?: Record<string, string> } = {}): HttpEventV2 {
  const binary = options.body instanceof Uint8Array;
  return {
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...options.headers },
    body: options.body === undefined ? undefined : binary ? Buffer.from(options.body as Uint8Array).toString('base64') : (options.body as string),
    isBase64Encoded: binary,
    requestContext: { http: { method } },
  };
}

const sealing = new AesGcmSecretBox(randomBytes(32));

for (const storage of ['standard', 'express'] as const satisfies readonly IngestStorage[]) describe(`each function stays within its IAM grant (lib/cdk/access.ts), ingest objects on ${storage === 'standard' ? 'S3 Standard' : 'S3 Express (a second bucket)'}`, () => {
  const standardObjects = new MemoryObjectStore();
  const expressObjects = new MemoryObjectStore();
  const objects: ObjectStore = storage === 'standard' ? standardObjects : new RoutedObjectStore({ standard: standardObjects, ingest: expressObjects });
  const metadata = new MemoryMetadataStore();
  const recorders = {} as Record<AccessName, { metadata: RecordingMetadataStore; objects: ObjectStore; objectCalls: Call[]; connections: Call[] }>;
  /** PostToConnection as the function's role would call it: execute-api:ManageConnections on POST @connections/<id>. */
  const recordingPoster = (name: AccessName, answer: 'sent' | 'gone', posted: string[]): PostToConnection => async (connectionId, text) => {
    recorders[name].connections.push({ action: POST_TO_CONNECTION_ACTION, key: `POST/@connections/${connectionId}` });
    posted.push(`${connectionId} ${text}`);
    return answer;
  };
  const hinted: string[] = [];
  const handlers = {} as Record<ApiFunctionName, (event: HttpEventV2) => Promise<HttpResultV2>>;
  const engines = {} as Record<ApiFunctionName, Engine>;
  const apps = {} as Record<ApiFunctionName, HttpHandler>;
  for (const name of Object.keys(ACCESS) as AccessName[]) {
    const recorded = recordedObjects(storage, standardObjects, expressObjects);
    recorders[name] = { metadata: new RecordingMetadataStore(metadata), objects: recorded.store, objectCalls: recorded.calls, connections: [] };
  }
  for (const name of API_FUNCTION_NAMES) {
    // Every function is its own execution environment: own engine, caches and key cache.
    const engine = new Engine({
      objects: recorders[name].objects,
      metadata: recorders[name].metadata,
      abortReservationAfterMs: 0,
      reservationTimeoutMs: 60_000,
      // Maintenance does everything at once: compact any tail, collect any unreferenced object.
      maintenance: { minEntryAgeMs: 0, tailQuietMs: 0, gcGraceMs: 0, minObjectAgeMs: 0 },
    });
    engines[name] = engine;
    // Push consumers' secrets are sealed with KMS in AWS (a grant outside the stores, checked in sluice-streams.test.ts).
    const groups = new Groups({ engine });
    const consumers = new PushConsumers({ engine, groups, secrets: new AesGcmSecretBox(randomBytes(32)), urlPolicy: AWS_URL_POLICY, functionTargets: true });
    // The produce function posts append hints (lib/lambda/append-hints.ts); no subscriber cache, so the scenario's later subscriber is seen at once.
    const appendHints = name === 'produce' ? new ProduceAppendHints({ connections: new ChannelConnections(recorders.produce.metadata), post: recordingPoster('produce', 'sent', hinted), subscriberCacheMs: 0 }) : undefined;
    apps[name] = createApp({ engine, keys: new ApiKeys(recorders[name].metadata), groups, consumers, functions: [name], appendHints });
    handlers[name] = lambdaHttpHandler(apps[name]);
  }
  const streamingApp = apps.tail;

  const served: Array<{ fn: ApiFunctionName; method: string; path: string }> = [];

  async function call(fn: ApiFunctionName, request: HttpEventV2, expectedStatus: number): Promise<any> {
    served.push({ fn, method: request.requestContext.http.method, path: request.rawPath });
    const result = await handlers[fn](request);
    assert.equal(result.statusCode, expectedStatus, `${fn}: ${request.requestContext.http.method} ${request.rawPath} → ${result.body}`);
    return result.body && !result.isBase64Encoded && result.headers['content-type']?.includes('json') ? JSON.parse(result.body) : result.body;
  }

  before(async () => {
    // Deploy time: the custom resource registers the key.
    await handleBootstrapKeyEvent(
      {
        RequestType: 'Create',
        ResponseURL: 'https://example/response',
        StackId: 'stack',
        RequestId: 'r',
        LogicalResourceId: 'BootstrapKey',
        ResourceProperties: { SecretArn: 'arn:secret', TableName: 'table' },
      },
      { readSecret: async () => ADMIN_KEY, metadataFor: () => recorders.bootstrapKey.metadata, fetch: (async () => new Response(null)) as unknown as typeof fetch },
    );

    // The public routes.
    await call('admin', event('GET', '/v1/health', { headers: { authorization: '' } }), 200);
    await call('admin', event('GET', '/v1/openapi.json', { headers: { authorization: '' } }), 200);

    // Administration.
    await call('admin', event('POST', '/v1/topics', { body: JSON.stringify({ name: 'orders', partitions: 2 }) }), 201);
    await call('admin', event('POST', '/v1/topics', { body: JSON.stringify({ name: 'scratch', partitions: 1 }) }), 201);
    await call('admin', event('POST', '/v1/topics', { body: JSON.stringify({ name: 'brief', partitions: 1 }) }), 201);
    // retention shortened after creation: maintenance below expires its record by the changed setting
    await call('admin', event('PATCH', '/v1/topics/brief', { body: JSON.stringify({ config: { retentionMs: 1 } }) }), 200);
    await call('produce', event('POST', '/v1/topics/scratch/records', { body: JSON.stringify({ records: [{ value: 'gone soon' }] }) }), 200);
    await call('admin', event('GET', '/v1/topics'), 200);
    const key = await call('admin', event('POST', '/v1/keys', { body: JSON.stringify({ name: 'reader', scopes: [{ action: 'consume' }] }) }), 201);
    await call('admin', event('GET', '/v1/keys'), 200);
    await call('admin', event('DELETE', `/v1/keys/${key.id}`), 204);

    // Produce: JSON, idempotent (and its retry), binary, several partitions in one request.
    const records = JSON.stringify({ records: [{ key: 'a', value: 'x' }, { value: 'y', partition: 0 }, { value: 'z', partition: 1 }] });
    await call('produce', event('POST', '/v1/topics/orders/records', { body: records }), 200);
    await call('produce', event('POST', '/v1/topics/orders/records', { body: records, headers: { 'idempotency-key': 'k-1' } }), 200);
    await call('produce', event('POST', '/v1/topics/orders/records', { body: records, headers: { 'idempotency-key': 'k-1' } }), 200);
    const batch = encodeRecordBatch([{ key: null, value: new Uint8Array([1, 2, 3]), headers: [], timestamp: 5 }], { codec: 'none' });
    await call('produce', event('POST', '/v1/topics/orders/records', { body: encodeSluiceBatches([{ partition: 0, batches: [batch] }]), headers: { 'content-type': 'application/vnd.sluice.batches' } }), 200);
    // Batches above the inline threshold (compressed) go to an ingest object; the small ones above stay in their log entries.
    const large = JSON.stringify({ records: [{ value: randomBytes(2 * DEFAULTS.inlineMaxBytes).toString('base64'), partition: 0 }] });
    await call('produce', event('POST', '/v1/topics/orders/records', { body: large }), 200);
    // Read before compaction: from the ingest object (in the directory bucket with express storage).
    await call('fetch', event('GET', '/v1/topics/orders/partitions/0/records', { query: 'offset=0' }), 200);
    // A reservation whose writer died: the next produce finds the gap and, since it is stale, closes it.
    await metadata.update(`p#${(await new Engine({ objects, metadata }).topics.get('orders')).id}#1`, 'head', { add: { nextOffset: 2n } });
    await call('produce', event('POST', '/v1/topics/orders/records', { body: JSON.stringify({ records: [{ value: 'after the gap', partition: 1 }] }) }), 200);
    // The first record of partition 1 deleted by request: maintenance below deletes the entry below the new start.
    await call('admin', event('DELETE', '/v1/topics/orders/partitions/1/records', { query: 'before=1' }), 200);

    await call('produce', event('POST', '/v1/topics/brief/records', { body: JSON.stringify({ records: [{ value: 'expires at once', timestamp: 1 }] }) }), 200);
    await call('admin', event('POST', '/v1/topics/scratch/partitions', { body: JSON.stringify({ count: 2 }) }), 200);
    await call('admin', event('DELETE', '/v1/topics/scratch'), 204);

    // Maintenance: on demand, then scheduled passes (GC marks objects on one pass, deletes on the next).
    const onDemand = await call('maintenance', event('POST', '/v1/admin/maintenance'), 200);
    assert.ok(onDemand.segmentsWritten > 0 && onDemand.entriesExpired > 0 && onDemand.deletedTopicsPurged === 1, JSON.stringify(onDemand));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const scheduled = await engines.maintenance.maintain();
    assert.ok(scheduled.objectsDeleted > 0 && scheduled.errors === 0, JSON.stringify(scheduled));

    // Reads, now from compacted segments and their indexes.
    await call('admin', event('GET', '/v1/topics/orders'), 200);
    await call('fetch', event('GET', '/v1/topics/orders/partitions/0/records', { query: 'offset=0' }), 200);
    await call('fetch', event('GET', '/v1/topics/orders/partitions/1/records', { query: 'offset=1', headers: { accept: 'application/vnd.kafka.record-batches' } }), 200);
    await call('fetch', event('GET', '/v1/topics/orders/partitions/0/locations', { query: 'offset=0' }), 200);
    await call('fetch', event('GET', '/v1/topics/orders/partitions/0/offsets', { query: 'timestamp=0' }), 200);
    await call('fetch', event('GET', '/v1/topics/orders/throughput', { query: 'bucketMs=60000' }), 200);
    await call('fetch', event('GET', '/v1/topics/orders/wait', { query: 'partitions=0:0,1:0' }), 200);
    // The live tail, through its streaming transport: the client leaves after the first records event.
    served.push({ fn: 'tail', method: 'GET', path: '/v1/topics/orders/partitions/0/stream' });
    const tail = new EventEmitter() as EventEmitter & { write(chunk: string): boolean; end(): void; text: string; status?: number };
    tail.text = '';
    tail.write = (chunk) => {
      tail.text += chunk;
      if (tail.text.includes('event: records')) tail.emit('close');
      return true;
    };
    tail.end = () => {};
    await streamingHttpHandler(streamingApp, { from: (stream, prelude) => ((tail.status = prelude.statusCode), stream) })(
      event('GET', '/v1/topics/orders/partitions/0/stream', { query: 'offset=0' }),
      tail,
    );
    assert.equal(tail.status, 200);
    assert.match(tail.text, /event: records/);

    // Consumer groups (served by the admin function): join, heartbeat, commit, describe, list, leave,
    // a reset to a timestamp, which reads records, and the deletion of the empty group.
    const joined = await call('admin', event('POST', '/v1/groups/workers/members', { body: JSON.stringify({ topics: ['orders'] }) }), 200);
    const member = `/v1/groups/workers/members/${joined.memberId}`;
    await call('admin', event('POST', `${member}/heartbeat`, { body: JSON.stringify({ generation: joined.generation }) }), 200);
    const offsets = [{ topic: 'orders', partition: 0, offset: '1' }];
    await call('admin', event('POST', '/v1/groups/workers/offsets', { body: JSON.stringify({ memberId: joined.memberId, generation: joined.generation, offsets }) }), 200);
    await call('admin', event('GET', '/v1/groups/workers'), 200);
    await call('admin', event('GET', '/v1/groups'), 200);
    await call('admin', event('DELETE', member), 204);
    await call('admin', event('POST', '/v1/groups/workers/offsets/reset', { body: JSON.stringify({ topic: 'orders', to: 'timestamp', timestamp: 0 }) }), 200);
    await call('admin', event('DELETE', '/v1/groups/workers'), 204);

    // The notification channel: connect, auth, subscribe, a second client leaving; then the stream
    // handler notifies the subscriber, which turns out to be gone (410: its items are deleted).
    const channelEngine = new Engine({ objects: recorders.notifications.objects, metadata: recorders.notifications.metadata });
    const channel = createNotificationsHandler({ engine: channelEngine, keys: new ApiKeys(recorders.notifications.metadata), connections: new ChannelConnections(recorders.notifications.metadata) });
    const ws = (routeKey: string, connectionId: string, body?: object) => channel({ requestContext: { routeKey, connectionId }, body: body && JSON.stringify(body) });
    await ws('$connect', 'c1');
    assert.match((await ws('$default', 'c1', { action: 'auth', apiKey: ADMIN_KEY })).body!, /authenticated/);
    assert.match((await ws('$default', 'c1', { action: 'subscribe', topics: ['orders'] })).body!, /subscribed/);
    await ws('$connect', 'c2');
    await ws('$disconnect', 'c2');
    // A produce to the subscribed topic posts the append hint itself, before it answers: one message per partition.
    assert.deepEqual(hinted, []);
    await call('produce', event('POST', '/v1/topics/orders/records', { body: JSON.stringify({ records: [{ value: 'hinted', partition: 1 }] }) }), 200);
    assert.equal(hinted.length, 1);
    assert.match(hinted[0], /^c1 \{"type":"append","topic":"orders","partition":1,/);
    const notifierEngine = new Engine({ objects: recorders.notifier.objects, metadata: recorders.notifier.metadata });
    const posted: string[] = [];
    const notify = createChannelNotifier({
      engine: notifierEngine,
      connections: new ChannelConnections(recorders.notifier.metadata),
      post: recordingPoster('notifier', 'gone', posted),
    });
    await notify([{ topicId: (await notifierEngine.topics.get('orders')).id, partition: 0 }]);
    assert.equal(posted.length, 1);

    // Push consumers (served by the admin function; delivery is the dispatcher's).
    const consumer = { name: 'billing', topics: ['orders'], target: { url: 'https://203.0.113.7/hook' }, startAt: { timestamp: 0 } };
    await call('admin', event('POST', '/v1/consumers', { body: JSON.stringify(consumer) }), 201);
    await call('admin', event('GET', '/v1/consumers'), 200);
    await call('admin', event('GET', '/v1/consumers/billing'), 200);
    await call('admin', event('POST', '/v1/consumers/billing/pause'), 200);
    await call('admin', event('POST', '/v1/consumers/billing/resume'), 200);
    await call('admin', event('DELETE', '/v1/consumers/billing'), 204);

    // A deploy-time consumer (custom resource), delivered by the dispatcher: a target that fails, so the
    // records go to the dead-letter topic; a second dispatcher replaces the first (deleting its lease).
    await call('admin', event('POST', '/v1/topics', { body: JSON.stringify({ name: 'orders-dlq', partitions: 1 }) }), 201);
    const resourceEngine = new Engine({ objects: recorders.pushConsumer.objects, metadata: recorders.pushConsumer.metadata });
    const resourceConsumers = new PushConsumers({ engine: resourceEngine, groups: new Groups({ engine: resourceEngine }), secrets: sealing, urlPolicy: AWS_URL_POLICY, functionTargets: true });
    const consumerEvent = (RequestType: 'Create' | 'Delete') => ({
      RequestType,
      ResponseURL: 'https://example/response',
      StackId: 'stack',
      RequestId: RequestType,
      LogicalResourceId: 'Billing',
      PhysicalResourceId: 'deployed',
      ResourceProperties: {
        Consumer: JSON.stringify({ name: 'deployed', topics: ['orders'], target: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' }, startAt: { timestamp: 1 }, deadLetterTopic: 'orders-dlq', retry: { maxAttempts: 1 } }),
      },
    });
    const cloudformation = { fetch: (async () => new Response(null)) as unknown as typeof fetch };
    await handlePushConsumerEvent(consumerEvent('Create'), resourceConsumers, cloudformation);
    const dispatchEngine = new Engine({ objects: recorders.dispatcher.objects, metadata: recorders.dispatcher.metadata });
    const dispatchGroups = new Groups({ engine: dispatchEngine });
    const dispatchConsumers = new PushConsumers({ engine: dispatchEngine, groups: dispatchGroups, secrets: sealing, urlPolicy: AWS_URL_POLICY, functionTargets: true });
    const failing = { deliver: async () => ({ kind: 'failure' as const, error: 'down' }) };
    await new Dispatcher({ engine: dispatchEngine, groups: dispatchGroups, consumers: dispatchConsumers, targets: () => failing }).runAll();
    assert.ok((await dispatchConsumers.describe('deployed')).deadLettered > 0n, 'dead letters were appended');
    await call('produce', event('POST', '/v1/topics/orders/records', { body: JSON.stringify({ records: [{ value: 'later', partition: 0 }] }) }), 200);
    await new Dispatcher({ engine: dispatchEngine, groups: dispatchGroups, consumers: dispatchConsumers, targets: () => failing }).runAll();
    await handlePushConsumerEvent(consumerEvent('Delete'), resourceConsumers, cloudformation);

    // A last pass: compaction merges the open (small) segment with what came after it, reading it back.
    const last = await engines.maintenance.maintain();
    assert.ok(last.segmentsWritten > 0 && last.errors === 0, JSON.stringify(last));
  });

  for (const name of Object.keys(ACCESS) as AccessName[]) {
    it(`${name}: only granted actions, on granted keys, and every grant used`, () => {
      const access: FunctionAccess = ACCESS[name];
      const calls = [...recorders[name].metadata.calls, ...recorders[name].objectCalls, ...recorders[name].connections];
      assert.ok(calls.length > 0, `the scenario exercises ${name}`);
      const used = new Set<string>();
      for (const { action, key } of calls) {
        used.add(action);
        if (action.startsWith('dynamodb:')) {
          const isRead = (access.metadataReads as readonly string[]).includes(action);
          const isWrite = (access.metadataWrites as readonly string[]).includes(action);
          assert.ok(isRead || isWrite, `${name} calls ${action}, which it is not granted`);
          if (!isRead) assert.ok(access.writableKeys.some((pattern) => matchesIamPattern(pattern, key)), `${name} ${action} on ${key} is outside ${access.writableKeys.join(', ')}`);
        } else if (action === POST_TO_CONNECTION_ACTION) {
          assert.ok(access.postsToConnections === true, `${name} posts to the channel's connections, which it is not granted`);
          assert.match(key, /^POST\/@connections\//, `${name}: only POST on @connections`);
        } else if (action === 's3:ListBucket') {
          assert.ok(access.listPrefixes.some((pattern) => matchesIamPattern(pattern, key)), `${name} lists ${key}, outside ${access.listPrefixes.join(', ') || 'nothing'}`);
        } else {
          const grants = access.objectGrants.filter((grant) => (grant.actions as readonly string[]).includes(action));
          assert.ok(grants.length > 0, `${name} calls ${action}, which it is not granted`);
          const keys = grants.flatMap((grant) => grant.keys);
          assert.ok(keys.some((pattern) => matchesIamPattern(pattern, key)), `${name} ${action} on ${key} is outside ${keys.join(', ')}`);
        }
      }
      const granted = [...access.metadataReads, ...access.metadataWrites, ...new Set(access.objectGrants.flatMap((grant) => grant.actions)), ...(access.listPrefixes.length > 0 ? ['s3:ListBucket'] : []), ...(access.postsToConnections ? [POST_TO_CONNECTION_ACTION] : [])];
      assert.deepEqual(granted.filter((action) => !used.has(action)), [], `${name} is granted actions it never uses`);
      const writtenKeys = calls.filter((c) => (access.metadataWrites as readonly string[]).includes(c.action)).map((c) => c.key);
      const unusedKeyPatterns = access.writableKeys.filter((pattern) => pattern !== '*' && !writtenKeys.some((key) => matchesIamPattern(pattern, key)));
      assert.deepEqual(unusedKeyPatterns, [], `${name} may write keys it never writes`);
      const unusedObjectGrants = access.objectGrants.flatMap((grant) =>
        grant.actions.flatMap((action) => grant.keys.filter((pattern) => !calls.some((c) => c.action === action && matchesIamPattern(pattern, c.key))).map((pattern) => `${action} ${pattern}`)),
      );
      assert.deepEqual(unusedObjectGrants, [], `${name} is granted object actions on keys it never uses them on`);
    });
  }

  if (storage === 'express') {
    for (const name of Object.keys(ACCESS) as AccessName[]) {
      it(`${name}: on each bucket only what placeObjectAccess grants there, and every placed grant used`, () => {
        const placed = placeObjectAccess(ACCESS[name], 'express');
        const calls = recorders[name].objectCalls;
        const onStandard = calls.filter((c) => c.bucket === 'standard');
        const onExpress = calls.filter((c) => c.bucket === 'express');
        for (const { action, key } of onStandard) {
          if (action === 's3:ListBucket') {
            assert.ok(placed.standardListPrefixes.some((pattern) => matchesIamPattern(pattern, key)), `${name} lists ${key} in the bucket`);
            continue;
          }
          const keys = placed.standard.filter((grant) => (grant.actions as readonly string[]).includes(action)).flatMap((grant) => grant.keys);
          assert.ok(keys.some((pattern) => matchesIamPattern(pattern, key)), `${name} ${action} on ${key} in the bucket is outside ${keys.join(', ') || 'nothing'}`);
        }
        const needed = (action: string): ExpressSessionMode => (action === 's3:GetObject' ? 'ReadOnly' : 'ReadWrite');
        for (const { action, key } of onExpress) {
          const mode = needed(action);
          assert.ok(placed.expressSession === 'ReadWrite' || placed.expressSession === mode, `${name} ${action} on ${key} in the directory bucket needs a ${mode} session, has ${placed.expressSession ?? 'none'}`);
        }
        const unused = placed.standard.flatMap((grant) =>
          grant.actions.flatMap((action) => grant.keys.filter((pattern) => !onStandard.some((c) => c.action === action && matchesIamPattern(pattern, c.key))).map((pattern) => `${action} ${pattern}`)),
        );
        if (placed.standardListPrefixes.length > 0 && !onStandard.some((c) => c.action === 's3:ListBucket')) unused.push('s3:ListBucket');
        assert.deepEqual(unused, [], `${name} is granted on the bucket what it never uses there`);
        if (placed.expressSession === 'ReadWrite') {
          assert.ok(onExpress.some((c) => needed(c.action) === 'ReadWrite'), `${name}: a ReadWrite session that never writes`);
        } else if (placed.expressSession === 'ReadOnly') {
          // Whether a read meets the ingest object or its segment depends only on whether compaction
          // ran yet, so reading topic objects at all is what a ReadOnly session is for.
          assert.ok(calls.some((c) => c.action === 's3:GetObject' && matchesIamPattern(TOPIC_OBJECTS, c.key)), `${name}: a ReadOnly session and no read of topic objects`);
        } else {
          assert.deepEqual(onExpress, [], `${name}: no session, no call`);
        }
      });
    }

    it('the scenario reads records from the directory bucket (before compaction) and from segments in the bucket (after)', () => {
      const reads = recorders.fetch.objectCalls.filter((c) => c.action === 's3:GetObject');
      assert.ok(reads.some((c) => c.bucket === 'express' && c.key.includes('/ingest/')));
      assert.ok(reads.some((c) => c.bucket === 'standard' && c.key.includes('/segments/')));
      assert.ok(!recorders.produce.objectCalls.some((c) => c.bucket === 'standard'), 'produce never reaches the bucket');
    });
  }

  it('the scenario calls every route of the application, in the function that serves it', () => {
    // A new route (consumer groups, say) fails here until the scenario calls it, and then the grant
    // checks above show whether its function's IAM policy allows what it does.
    const uncovered: string[] = [];
    for (const route of ROUTES) {
      const pattern = pathPattern(route.path);
      if (!served.some((s) => s.fn === route.function && s.method === route.method && pattern.test(s.path))) uncovered.push(`${route.method} ${route.path}`);
    }
    assert.deepEqual(uncovered, []);
  });

  it('the scenario covers a gap closed by a writer', () => {
    assert.ok(recorders.produce.metadata.calls.some((c) => c.action === 'dynamodb:PutItem' && c.item?.aborted === true));
  });

  it('fetch never writes and produce never deletes', () => {
    const fetchActions = new Set([...recorders.fetch.metadata.calls, ...recorders.fetch.objectCalls].map((c) => c.action));
    assert.deepEqual([...fetchActions].sort(), ['dynamodb:GetItem', 'dynamodb:Query', 's3:GetObject']);
    const produceActions = [...recorders.produce.metadata.calls, ...recorders.produce.objectCalls].map((c) => c.action);
    assert.ok(!produceActions.some((action) => /Delete/.test(action)));
  });

  it(`idempotency intents carry the table's TTL attribute (${EXPIRES_AT}, epoch seconds)`, () => {
    const intent = recorders.produce.metadata.calls.find((c) => c.action === 'dynamodb:PutItem' && c.key.startsWith('idem#'));
    assert.ok(intent?.item, 'an intent was written');
    const expiresAt = intent.item[EXPIRES_AT];
    assert.equal(typeof expiresAt, 'bigint');
    const inSeconds = Number(expiresAt) - Date.now() / 1000;
    assert.ok(inSeconds > 23 * 3600 && inSeconds <= 24 * 3600 + 1, `expires in ${inSeconds} s`);
  });
});
