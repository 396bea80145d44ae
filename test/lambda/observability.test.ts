/**
 * The Lambda glue: one EMF line per request with the metrics the construct's alarms and dashboard
 * read, IAM-authorized callers, per-function route groups and the deployment's default retention.
 */
import { describe, it, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { ROUTES } from '../../lib/api/routes.ts';
import { createApp } from '../../lib/http/app.ts';
import { Engine } from '../../lib/log/engine.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { API_FUNCTION_NAMES, routesOf } from '../../lib/lambda/functions.ts';
import { awsAppFromEnv } from '../../lib/lambda/aws-app.ts';
import type { HttpResponse, ObservedRequest } from '../../lib/http/types.ts';
import { lambdaHttpHandler, type HttpEventV2 } from '../../lib/lambda/http-adapter.ts';
import { API_METRICS, createPowertools, observedHttpHandler, recordMaintenancePass, type LambdaContext } from '../../lib/lambda/observability.ts';

const CONTEXT: LambdaContext = {
  awsRequestId: 'req-1',
  functionName: 'sluice-fetch',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sluice-fetch',
  memoryLimitInMB: '1024',
};

function event(method: string, path: string, options: Partial<HttpEventV2> = {}): HttpEventV2 {
  return { rawPath: path, rawQueryString: '', headers: {}, requestContext: { http: { method } }, ...options };
}

/** An application response, with what the router tells observability about it. */
function response(status: number, observed: ObservedRequest = {}, body = '{}'): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body, observed };
}

describe('observedHttpHandler: EMF metrics per request', () => {
  const saved = { ...process.env };
  let lines: Array<Record<string, unknown>>;

  before(() => {
    // Dev mode makes Powertools write through the global console, which the test captures (and would
    // turn metrics off unless they are explicitly enabled).
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    process.env.POWERTOOLS_SERVICE_NAME = 'sluice-test';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'SluiceTest';
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  });
  after(() => {
    process.env = saved;
  });

  async function observe(answer: HttpResponse | Error, request: HttpEventV2): Promise<Array<Record<string, unknown>>> {
    lines = [];
    const log = mock.method(console, 'log', (text: string) => lines.push(JSON.parse(text)));
    const warn = mock.method(console, 'warn', () => {});
    try {
      const handler = observedHttpHandler(async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      }, createPowertools('fetch'));
      await handler(request, CONTEXT).then(
        () => assert.ok(!(answer instanceof Error), 'the handler error is rethrown'),
        (error: unknown) => assert.equal(error, answer),
      );
    } finally {
      log.mock.restore();
      warn.mock.restore();
    }
    return lines.filter((line) => Array.isArray((line._aws as { CloudWatchMetrics?: unknown })?.CloudWatchMetrics));
  }

  function requestLine(emf: Array<Record<string, unknown>>): Record<string, unknown> {
    const line = emf.find((l) => API_METRICS.requests in l);
    assert.ok(line, 'a request metrics line');
    return line;
  }

  it('publishes requests, errors, latency, bytes and consumer lag under service and Operation', async () => {
    const emf = await observe(
      response(200, { route: 'GET /v1/topics/{topic}/partitions/{partition}/records', topic: 'orders', lag: 60, longPoll: false }, '{"records":[]}'),
      event('GET', '/v1/topics/orders/partitions/3/records', { rawQueryString: 'offset=0' }),
    );
    const line = requestLine(emf);
    const [directive] = (line._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> }).CloudWatchMetrics;
    assert.equal(directive.Namespace, 'SluiceTest');
    assert.deepEqual(directive.Dimensions, [['service', 'Operation']]);
    assert.equal(line.service, 'sluice-test');
    assert.equal(line.Operation, 'fetch');
    assert.equal(line.Requests, 1);
    assert.equal(line.ClientErrors, 0);
    assert.equal(line.ServerErrors, 0);
    assert.equal(typeof line.Latency, 'number');
    assert.equal(line.RequestBytes, 0);
    assert.equal(line.ResponseBytes, '{"records":[]}'.length);
    assert.equal(line.ConsumerLag, 60);
    assert.equal(line.route, 'GET /v1/topics/{topic}/partitions/{partition}/records');
    assert.equal(line.status, '200');
    assert.equal(line.topic, 'orders');
    assert.equal(line.requestId, 'req-1');
    assert.equal(line.AppendHintsPosted, undefined, 'a fetch has no append hints');
  });

  it('publishes what a produce\'s append hints did', async () => {
    const emf = await observe(
      response(200, { route: 'POST /v1/topics/{topic}/records', topic: 'orders', appendHintsPosted: 3, appendHintsLate: 1, appendHintsGone: 2 }),
      event('POST', '/v1/topics/orders/records', { body: '{"records":[]}' }),
    );
    const line = requestLine(emf);
    assert.equal(line.AppendHintsPosted, 3);
    assert.equal(line.AppendHintsLate, 1);
    assert.equal(line.AppendHintsGone, 2);
  });

  it('leaves long polls out of latency, counts 4xx and 5xx, and counts decoded body bytes', async () => {
    const longPoll = requestLine(await observe(response(200, { longPoll: true }), event('GET', '/v1/topics/t/partitions/0/records', { rawQueryString: 'offset=0&maxWaitMs=5000' })));
    assert.equal(longPoll.Latency, undefined);
    const forbidden = requestLine(await observe(response(403, { route: 'GET /v1/keys', errorCode: 'FORBIDDEN' }), event('GET', '/v1/keys')));
    assert.deepEqual([forbidden.ClientErrors, forbidden.ServerErrors], [1, 0]);
    assert.equal(forbidden.route, 'GET /v1/keys');
    assert.equal(forbidden.errorCode, 'FORBIDDEN');
    const unavailable = requestLine(await observe(response(503, { errorCode: 'UNAVAILABLE' }), event('POST', '/v1/topics/t/records')));
    assert.deepEqual([unavailable.ClientErrors, unavailable.ServerErrors], [0, 1]);
    assert.equal(unavailable.route, 'POST /v1/topics/t/records', 'a request no route took is named by its method and path');
    const binary = requestLine(await observe(response(200), event('POST', '/v1/topics/t/records', { body: Buffer.alloc(300).toString('base64'), isBase64Encoded: true })));
    assert.equal(binary.RequestBytes, 300);
  });

  it('publishes a maintenance pass as counts, and its report as a log line', async () => {
    const logged: unknown[] = [];
    const log = mock.method(console, 'log', (text: string) => logged.push(JSON.parse(text)));
    const info = mock.method(console, 'info', (text: string) => logged.push(JSON.parse(text)));
    const warn = mock.method(console, 'warn', (text: string) => logged.push(JSON.parse(text)));
    try {
      const report = {
        topics: 2, partitions: 8, gapsClosed: 1, segmentsWritten: 3, segmentBytes: 1000, entriesCompacted: 40, leftoversDeleted: 0,
        offsetsTrimmed: '0', entriesExpired: 0, timeIndexPointsWritten: 0, objectsDeleted: 12, deletedTopicsPurged: 0, expiredItemsDeleted: 0, partitionsSkipped: 5, collectionsSkipped: 1,
        errors: 1, firstError: 'boom',
      };
      recordMaintenancePass(createPowertools('maintenance'), report, 1234);
    } finally {
      log.mock.restore();
      info.mock.restore();
      warn.mock.restore();
    }
    const emf = logged.find((l) => typeof l === 'object' && l !== null && '_aws' in l) as Record<string, unknown>;
    assert.deepEqual(
      [emf.Operation, emf.MaintenanceErrors, emf.GapsClosed, emf.SegmentsWritten, emf.EntriesCompacted, emf.ObjectsDeleted, emf.Latency],
      ['maintenance', 1, 1, 3, 40, 12, 1234],
    );
    const line = logged.find((l) => (l as { message?: string }).message === 'maintenance pass had errors') as Record<string, unknown>;
    assert.equal(line.firstError, 'boom');
  });

  it('publishes no metrics for an idle maintenance pass (custom metrics cost by the hour), only its log line', () => {
    const logged: Array<Record<string, unknown>> = [];
    const capture = (text: string) => logged.push(JSON.parse(text));
    const mocks = [mock.method(console, 'log', capture), mock.method(console, 'info', capture), mock.method(console, 'warn', capture)];
    try {
      const idle = {
        topics: 3, partitions: 12, gapsClosed: 0, segmentsWritten: 0, segmentBytes: 0, entriesCompacted: 0, leftoversDeleted: 0,
        offsetsTrimmed: '0', entriesExpired: 0, timeIndexPointsWritten: 0, objectsDeleted: 0, deletedTopicsPurged: 0, expiredItemsDeleted: 0, partitionsSkipped: 12, collectionsSkipped: 3,
        errors: 0,
      };
      recordMaintenancePass(createPowertools('maintenance'), idle, 80);
    } finally {
      for (const m of mocks) m.mock.restore();
    }
    assert.equal(logged.filter((l) => '_aws' in l).length, 0);
    assert.equal(logged.filter((l) => l.message === 'maintenance pass').length, 1);
  });

  it('takes route, topic, lag and long poll from what the application tells, for a real fetch', async () => {
    const metadata = new MemoryMetadataStore();
    const keys = new ApiKeys(metadata);
    await keys.ensure('observability-test-key-0123', 'bootstrap');
    const engine = new Engine({ objects: new MemoryObjectStore(), metadata });
    await engine.topics.create('orders', 1);
    const app = createApp({ engine, keys });
    const headers = { authorization: 'Bearer observability-test-key-0123', 'content-type': 'application/json' };
    await app({ method: 'POST', path: '/v1/topics/orders/records', query: new URLSearchParams(), headers, body: Buffer.from('{"records":[{"value":"a"},{"value":"b"},{"value":"c"}]}') });
    lines = [];
    const log = mock.method(console, 'log', (text: string) => lines.push(JSON.parse(text)));
    try {
      await observedHttpHandler(app, createPowertools('fetch'))(event('GET', '/v1/topics/orders/partitions/0/records', { headers, rawQueryString: 'offset=1&maxBytes=1' }), CONTEXT);
    } finally {
      log.mock.restore();
    }
    const line = requestLine(lines.filter((l) => '_aws' in l));
    assert.deepEqual([line.route, line.topic, line.ConsumerLag, typeof line.Latency], ['GET /v1/topics/{topic}/partitions/{partition}/records', 'orders', 0, 'number']);
  });

  it('counts a handler that throws as a server error and rethrows', async () => {
    const line = requestLine(await observe(new Error('bug'), event('GET', '/v1/topics')));
    assert.equal(line.ServerErrors, 1);
    assert.equal(line.status, '500');
  });
});

describe('lambdaHttpHandler: callers authorized by IAM', () => {
  const metadata = new MemoryMetadataStore();
  const engine = new Engine({ objects: new MemoryObjectStore(), metadata });
  const handler = lambdaHttpHandler(createApp({ engine, keys: new ApiKeys(metadata) }));
  const iam = { authorizer: { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/consumer/session', accountId: '123456789012' } } };

  before(async () => {
    await engine.topics.create('orders', 1);
  });

  it('serves produce and consume without an API key, with the SigV4 Authorization header ignored', async () => {
    const headers = { authorization: 'AWS4-HMAC-SHA256 Credential=...', 'content-type': 'application/json' };
    const produced = await handler(event('POST', '/v1/topics/orders/records', { headers, body: '{"records":[{"value":"v"}]}', requestContext: { http: { method: 'POST' }, ...iam } }));
    assert.equal(produced.statusCode, 200, produced.body);
    const fetched = await handler(event('GET', '/v1/topics/orders/partitions/0/records', { headers, rawQueryString: 'offset=0', requestContext: { http: { method: 'GET' }, ...iam } }));
    assert.equal(JSON.parse(fetched.body).records[0].value, 'v');
  });

  it('never grants administration to an IAM caller', async () => {
    const created = await handler(event('POST', '/v1/topics', { body: '{"name":"x","partitions":1}', headers: { 'content-type': 'application/json' }, requestContext: { http: { method: 'POST' }, ...iam } }));
    assert.equal(created.statusCode, 403);
    const keys = await handler(event('GET', '/v1/keys', { requestContext: { http: { method: 'GET' }, ...iam } }));
    assert.equal(keys.statusCode, 403);
  });

  it('still requires an API key when API Gateway did not authorize with IAM', async () => {
    const anonymous = await handler(event('GET', '/v1/topics/orders/partitions/0/records', { rawQueryString: 'offset=0' }));
    assert.equal(anonymous.statusCode, 401);
  });
});

describe('per-function route groups and deployment settings', () => {
  const env = { SLUICE_BUCKET: 'b', SLUICE_TABLE: 't', AWS_REGION: 'us-east-1' };

  it('every route is served by exactly one API function', () => {
    const served = API_FUNCTION_NAMES.flatMap((fn) => routesOf(fn)).map((route) => route.operationId).sort();
    assert.deepEqual(served, ROUTES.map((route) => route.operationId).sort());
  });

  it('a function serves only its routes', async () => {
    const metadata = new MemoryMetadataStore();
    const keys = new ApiKeys(metadata);
    await keys.ensure('function-test-admin-key-0123', 'bootstrap');
    const engine = new Engine({ objects: new MemoryObjectStore(), metadata });
    const fetchOnly = lambdaHttpHandler(createApp({ engine, keys, functions: ['fetch'] }));
    const headers = { authorization: 'Bearer function-test-admin-key-0123', 'content-type': 'application/json' };
    const produce = await fetchOnly(event('POST', '/v1/topics/orders/records', { headers, body: '{"records":[]}' }));
    assert.equal(produce.statusCode, 404);
    const fetch = await fetchOnly(event('GET', '/v1/topics/orders/partitions/0/records', { headers, rawQueryString: 'offset=0' }));
    assert.equal(JSON.parse(fetch.body).error.code, 'TOPIC_NOT_FOUND');
  });

  it('reads the default topic retention from SLUICE_DEFAULT_RETENTION_MS', async () => {
    assert.throws(() => awsAppFromEnv({ env: { ...env, SLUICE_DEFAULT_RETENTION_MS: 'soon' } }), /SLUICE_DEFAULT_RETENTION_MS/);
    const metadata = new MemoryMetadataStore();
    const engine = new Engine({ objects: new MemoryObjectStore(), metadata, topicDefaults: { retentionMs: 3_600_000 } });
    assert.equal((await engine.topics.create('a', 1)).config.retentionMs, 3_600_000);
    assert.equal((await engine.topics.create('b', 1, { retentionMs: -1 })).config.retentionMs, -1);
    await assert.rejects(engine.topics.create('c', 1, 'nonsense'), /config: expected an object/);
  });
});
