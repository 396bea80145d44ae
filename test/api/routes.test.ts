/**
 * The route table is well formed, and the router built from it enforces it: every route needs a key
 * unless public, a key without the route's scope is refused before any work, body resources (a join's
 * topics, a commit's topics) are checked too, list routes show only what a key may see, and parameters,
 * queries, headers, media types and bodies are validated by the route's schemas.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as z from 'zod';
import { ERROR_TABLE } from '../../lib/errors.ts';
import { ROUTES, pathPattern, type RouteSpec } from '../../lib/api/routes.ts';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { createApp } from '../../lib/http/app.ts';
import type { HttpHandler, HttpResponse } from '../../lib/http/types.ts';
import { Engine } from '../../lib/log/engine.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { SLUICE_VERSION } from '../../lib/version.ts';

const ADMIN_KEY = 'routes-test-admin-key-0123456789';
const SAMPLE_PARAMS: Record<string, string> = { topic: 'orders', partition: '0', group: 'workers', memberId: 'member-1', id: 'key-1' };
const samplePath = (route: RouteSpec) => route.path.replace(/\{(\w+)\}/g, (_, name: string) => SAMPLE_PARAMS[name]);

describe('the route table', () => {
  it('names each operation once, each method and path once, and only known error codes', () => {
    assert.equal(new Set(ROUTES.map((r) => r.operationId)).size, ROUTES.length);
    assert.equal(new Set(ROUTES.map((r) => `${r.method} ${r.path}`)).size, ROUTES.length);
    for (const route of ROUTES as readonly RouteSpec[]) for (const code of route.errors) assert.ok(code in ERROR_TABLE, `${route.operationId}: ${code}`);
  });

  it('declares a schema for every path parameter, and scope references point at parameters or body fields', () => {
    for (const route of ROUTES as readonly RouteSpec[]) {
      const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(Object.keys(route.request?.params?.shape ?? {}).sort(), inPath, route.operationId);
      if (route.scope === 'public') continue;
      for (const check of route.scope.checks) {
        for (const ref of [check.topic, check.group]) {
          if (ref === undefined) continue;
          if (ref.startsWith('{')) assert.ok(inPath.includes(ref.slice(1, -1)), `${route.operationId}: ${ref}`);
          else {
            const field = ref.slice('body.'.length).split(/[.[]/)[0];
            const body = route.request?.body as z.ZodObject | undefined;
            assert.ok(body?.shape && field in body.shape, `${route.operationId}: ${ref} is a field of the body`);
          }
        }
      }
    }
  });

  it('has the contract’s public routes and no others', () => {
    assert.deepEqual(ROUTES.filter((r) => r.scope === 'public').map((r) => `${r.method} ${r.path}`), ['GET /v1/health', 'GET /v1/openapi.json']);
  });

  it('matches path parameters one segment each', () => {
    const pattern = pathPattern('/v1/topics/{topic}/partitions/{partition}/records');
    assert.deepEqual({ ...pattern.exec('/v1/topics/a.b/partitions/3/records')?.groups }, { topic: 'a.b', partition: '3' });
    assert.equal(pattern.exec('/v1/topics/a/b/partitions/3/records'), null);
    assert.equal(pathPattern('/v1/openapi.json').test('/v1/openapiXjson'), false);
  });
});

describe('the router enforces the table', () => {
  let app: HttpHandler;
  let keys: ApiKeys;
  const call = async (method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const [pathname, query = ''] = path.split('?');
    const response: HttpResponse = await app({
      method,
      path: pathname,
      query: new URLSearchParams(query),
      headers: { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), 'content-type': 'application/json', ...options.headers },
      body: options.body === undefined ? new Uint8Array(0) : new TextEncoder().encode(typeof options.body === 'string' ? options.body : JSON.stringify(options.body)),
    });
    const text = typeof response.body === 'string' ? response.body : new TextDecoder().decode(response.body ?? new Uint8Array(0));
    return { ...response, json: response.headers['content-type']?.includes('json') && text ? JSON.parse(text) : undefined };
  };

  before(async () => {
    const metadata = new MemoryMetadataStore();
    const engine = new Engine({ objects: new MemoryObjectStore(), metadata });
    keys = new ApiKeys(metadata);
    await keys.ensure(ADMIN_KEY, 'bootstrap');
    app = createApp({ engine, keys, logError: (error) => assert.fail(`unexpected error: ${String(error)}`) });
    for (const name of ['orders', 'payments', 'secret']) assert.equal((await call('POST', '/v1/topics', { key: ADMIN_KEY, body: { name, partitions: 2 } })).status, 201);
  });

  it('answers the public routes without a key, and they reveal no data', async () => {
    const health = await call('GET', '/v1/health');
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok', version: SLUICE_VERSION });
    const openapi = await call('GET', '/v1/openapi.json');
    assert.equal(openapi.status, 200);
    assert.equal(openapi.json.openapi, '3.1.0');
    assert.ok(!JSON.stringify(openapi.json).includes('payments'), 'no topic names');
  });

  it('refuses every other route without a key (401) and with a key that lacks its scope (403)', async () => {
    const outsider = await keys.create({
      name: 'outsider',
      scopes: [
        { action: 'produce', topics: ['elsewhere'], groups: ['elsewhere'] },
        { action: 'consume', topics: ['elsewhere'], groups: ['elsewhere'] },
      ],
    });
    for (const route of ROUTES as readonly RouteSpec[]) {
      if (route.scope === 'public') continue;
      const path = samplePath(route);
      assert.equal((await call(route.method, path)).status, 401, `${route.operationId} without a key`);
      const refused = await call(route.method, path, { key: outsider.key });
      if (route.scope.checks.length === 0) assert.equal(refused.status, 200, `${route.operationId} is a list for any key`);
      else assert.equal(refused.json?.error.code, 'FORBIDDEN', `${route.operationId}: ${JSON.stringify(refused.json)}`);
    }
  });

  it('checks resources named in the body: a join’s topics, a commit’s topics, a new topic’s name', async () => {
    const worker = await keys.create({ name: 'worker', scopes: [{ action: 'consume', topics: ['orders'], groups: ['workers'] }, { action: 'admin', topics: ['scratch.*'] }] });
    const join = await call('POST', '/v1/groups/workers/members', { key: worker.key, body: { topics: ['orders', 'secret'] } });
    assert.equal(join.json.error.code, 'FORBIDDEN');
    assert.match(join.json.error.message, /secret/);
    const joined = await call('POST', '/v1/groups/workers/members', { key: worker.key, body: { topics: ['orders'] } });
    assert.equal(joined.status, 200);
    const commit = (topic: string) =>
      call('POST', '/v1/groups/workers/offsets', { key: worker.key, body: { memberId: joined.json.memberId, generation: joined.json.generation, offsets: [{ topic, partition: 0, offset: '0' }] } });
    assert.equal((await commit('secret')).json.error.code, 'FORBIDDEN');
    assert.equal((await commit('orders')).status, 200);
    assert.equal((await call('POST', '/v1/topics', { key: worker.key, body: { name: 'orders2', partitions: 1 } })).json.error.code, 'FORBIDDEN');
    assert.equal((await call('POST', '/v1/topics', { key: worker.key, body: { name: 'scratch.a', partitions: 1 } })).status, 201);
  });

  it('lists only what the key may see', async () => {
    const reader = await keys.create({ name: 'reader', scopes: [{ action: 'consume', topics: ['orders'], groups: ['workers'] }] });
    assert.deepEqual((await call('GET', '/v1/topics', { key: reader.key })).json.topics.map((t: { name: string }) => t.name), ['orders']);
    assert.deepEqual((await call('GET', '/v1/groups', { key: reader.key })).json.groups, [{ group: 'workers' }]);
  });

  it('validates parameters, queries, headers, media types and bodies with the route’s schemas, naming the field', async () => {
    const cases: Array<[string, string, unknown, Record<string, string>, number, RegExp]> = [
      ['GET', '/v1/topics/bad%20name', undefined, {}, 400, /^topic: /],
      ['GET', '/v1/topics/orders/partitions/x/records?offset=0', undefined, {}, 400, /^partition: /],
      ['GET', '/v1/topics/orders/partitions/0/records', undefined, {}, 400, /^offset: /],
      ['GET', '/v1/topics/orders/partitions/0/records?offset=0&maxBytes=0', undefined, {}, 400, /^maxBytes: /],
      ['POST', '/v1/topics/orders/records', { records: [{ value: 'x' }] }, { 'idempotency-key': '' }, 400, /^idempotency-key: /],
      ['POST', '/v1/topics/orders/records', 'x', { 'content-type': 'text/plain' }, 415, /application\/json or application\/vnd\.sluice\.batches/],
      ['POST', '/v1/topics/orders/records', '{"records": [', {}, 400, /not valid JSON/],
      ['POST', '/v1/topics/orders/records', { records: [{ value: 'x' }, { partition: -1 }] }, {}, 400, /^records\[1\]\.partition: /],
      ['POST', '/v1/groups/workers/members/m/heartbeat', { generation: 'one' }, {}, 400, /^generation: /],
      ['POST', '/v1/keys', { name: 'k' }, {}, 400, /^scopes: /],
    ];
    for (const [method, path, body, headers, status, message] of cases) {
      const answer = await call(method, path, { key: ADMIN_KEY, body, headers });
      assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.json)}`);
      assert.match(answer.json.error.message, message, `${method} ${path}`);
    }
  });

  it('checks array limits before validating the body, with the limit’s own error', async () => {
    const answer = await call('POST', '/v1/topics/orders/records', { key: ADMIN_KEY, body: { records: Array.from({ length: 10_001 }, () => ({ bogus: true })) } });
    assert.equal(answer.status, 413);
    assert.deepEqual([answer.json.error.code, answer.json.error.field, answer.json.error.limit], ['PAYLOAD_TOO_LARGE', 'records', 10_000]);
  });

  it('tells observability the route, topic, error code, lag and whether the request long-polled', async () => {
    await call('POST', '/v1/topics/orders/records', { key: ADMIN_KEY, body: { records: [{ value: 'a', partition: 1 }, { value: 'b', partition: 1 }] } });
    const fetched = await call('GET', '/v1/topics/orders/partitions/1/records?offset=1&maxWaitMs=0', { key: ADMIN_KEY });
    assert.deepEqual(fetched.observed, {
      route: 'GET /v1/topics/{topic}/partitions/{partition}/records',
      operationId: 'fetchRecords',
      topic: 'orders',
      longPoll: false,
      lag: 0,
    });
    const missing = await call('GET', '/v1/topics/nope/partitions/0/records?offset=0&maxWaitMs=10', { key: ADMIN_KEY });
    assert.deepEqual(missing.observed, { route: 'GET /v1/topics/{topic}/partitions/{partition}/records', operationId: 'fetchRecords', topic: 'nope', longPoll: true, errorCode: 'TOPIC_NOT_FOUND' });
    assert.equal((await call('GET', '/v1/nowhere', { key: ADMIN_KEY })).observed?.errorCode, 'NOT_FOUND');
  });
});
