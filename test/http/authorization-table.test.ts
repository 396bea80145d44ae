/**
 * The authorization table: every route of the contract's route table (lib/api/routes.ts) × every
 * scope shape, against one explicit allow/deny table. A route without an entry fails the test, so a
 * new route cannot ship without its authorization being decided here. Each cell runs on a fresh
 * in-process app where the request would succeed if allowed (topic A with a record, group G with a
 * member), so "allowed" means the answer is neither 401 nor 403.
 *
 * Also: IAM callers (lib/lambda/http-adapter.ts) reach, through each grant of the IAM endpoint
 * (lib/cdk/api-routes.ts), exactly what a key with that action on everything may do.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTES, type OperationId } from '../../lib/api/routes.ts';
import type { Scope } from '../../lib/auth/api-keys.ts';
import { API_ROUTES, IAM_GRANTS } from '../../lib/cdk/api-routes.ts';
import { IAM_CALLER_SCOPES } from '../../lib/lambda/http-adapter.ts';
import { matchesIamPattern } from '../cdk/iam-patterns.ts';
import { inProcessApp, type InProcessApp } from '../support/in-process-app.ts';

/** The scope shapes of issue 10, plus the pairs a group consumer and a group admin need. */
const SHAPES = {
  none: null,
  produceA: [{ action: 'produce', topics: ['A'], groups: [] }],
  consumeA: [{ action: 'consume', topics: ['A'], groups: [] }],
  adminA: [{ action: 'admin', topics: ['A'], groups: [] }],
  produceG: [{ action: 'produce', topics: [], groups: ['G'] }],
  consumeG: [{ action: 'consume', topics: [], groups: ['G'] }],
  adminG: [{ action: 'admin', topics: [], groups: ['G'] }],
  produceNothing: [{ action: 'produce', topics: [], groups: [] }],
  consumeNothing: [{ action: 'consume', topics: [], groups: [] }],
  adminNothing: [{ action: 'admin', topics: [], groups: [] }],
  consumeAG: [{ action: 'consume', topics: ['A'], groups: ['G'] }],
  adminAG: [{ action: 'admin', topics: ['A'], groups: ['G'] }],
  produceAll: [{ action: 'produce', topics: ['*'], groups: ['*'] }],
  consumeAll: [{ action: 'consume', topics: ['*'], groups: ['*'] }],
  adminAll: [{ action: 'admin', topics: ['*'], groups: ['*'] }],
} as const satisfies Record<string, readonly Scope[] | null>;

type Shape = keyof typeof SHAPES;
const ALL_SHAPES = Object.keys(SHAPES) as Shape[];
const KEYS: Shape[] = ALL_SHAPES.filter((s) => s !== 'none');

/** Who may: the shapes allowed on each operation. Every other shape is denied. */
const ON_A_PRODUCE: Shape[] = ['produceA', 'adminA', 'adminAG', 'produceAll', 'adminAll'];
const ON_A_CONSUME: Shape[] = ['consumeA', 'adminA', 'consumeAG', 'adminAG', 'consumeAll', 'adminAll'];
const ON_A_EITHER: Shape[] = [...new Set([...ON_A_PRODUCE, ...ON_A_CONSUME])];
const ON_A_ADMIN: Shape[] = ['adminA', 'adminAG', 'adminAll'];
const ON_G_CONSUME: Shape[] = ['consumeG', 'adminG', 'consumeAG', 'adminAG', 'consumeAll', 'adminAll'];
const ON_AG_CONSUME: Shape[] = ['consumeAG', 'adminAG', 'consumeAll', 'adminAll'];
const ON_AG_ADMIN: Shape[] = ['adminAG', 'adminAll'];
const ON_G_ADMIN: Shape[] = ['adminG', 'adminAG', 'adminAll'];
const EVERYTHING_ADMIN: Shape[] = ['adminAll'];

const TABLE: Record<OperationId, readonly Shape[]> = {
  getHealth: ALL_SHAPES,
  getOpenApi: ALL_SHAPES,
  createTopic: ON_A_ADMIN,
  listTopics: KEYS,
  describeTopic: ON_A_EITHER,
  alterTopicConfig: ON_A_ADMIN,
  addPartitions: ON_A_ADMIN,
  deleteTopic: ON_A_ADMIN,
  produce: ON_A_PRODUCE,
  fetchRecords: ON_A_CONSUME,
  deleteRecords: ON_A_ADMIN,
  fetchLocations: ON_A_CONSUME,
  waitForRecords: ON_A_CONSUME,
  streamRecords: ON_A_CONSUME,
  offsetForTimestamp: ON_A_CONSUME,
  topicThroughput: ON_A_CONSUME,
  listGroups: KEYS,
  joinGroup: ON_AG_CONSUME,
  heartbeat: ON_G_CONSUME,
  leaveGroup: ON_G_CONSUME,
  commitOffsets: ON_AG_CONSUME,
  resetOffsets: ON_AG_ADMIN,
  deleteGroup: ON_G_ADMIN,
  describeGroup: ON_G_CONSUME,
  // Push consumers: named like groups; the handlers also check the consumer's topics.
  createConsumer: ON_AG_ADMIN,
  listConsumers: KEYS,
  describeConsumer: ON_AG_CONSUME,
  pauseConsumer: ON_AG_ADMIN,
  resumeConsumer: ON_AG_ADMIN,
  deleteConsumer: ON_AG_ADMIN,
  createKey: EVERYTHING_ADMIN,
  listKeys: EVERYTHING_ADMIN,
  revokeKey: EVERYTHING_ADMIN,
  runMaintenance: EVERYTHING_ADMIN,
};

/** What list routes show each shape. */
const LISTED: Partial<Record<OperationId, { field: string; name: string; items: Record<string, readonly Shape[]> }>> = {
  listTopics: { field: 'topics', name: 'name', items: { A: ON_A_EITHER } },
  // the push consumer G runs as the group sluice.push.G: only keys on every group see it
  listGroups: { field: 'groups', name: 'group', items: { G: ON_G_CONSUME, 'sluice.push.G': ['consumeAll', 'adminAll'] } },
};

interface Fixture {
  readonly t: InProcessApp;
  readonly memberId: string;
  readonly generation: number;
  readonly narrowKeyId: string;
}

/** A push consumer named like the group G of the shapes (a push consumer is a consumer group). */
const PUSH_CONSUMER = { name: 'G', topics: ['A'], target: { url: 'https://hooks.example/sluice' } };

async function fixture(): Promise<Fixture> {
  const t = await inProcessApp();
  const ok = (res: { status: number; body: unknown }, what: string) => assert.ok(res.status < 300, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  ok(await t.call('POST', '/v1/topics', { body: { name: 'A', partitions: 1 } }), 'topic A');
  ok(await t.call('POST', '/v1/topics/A/records', { body: { records: [{ value: 'a', timestamp: 5 }] } }), 'record');
  ok(await t.call('POST', '/v1/consumers', { body: PUSH_CONSUMER }), 'push consumer P');
  const joined = await t.call('POST', '/v1/groups/G/members', { body: { topics: ['A'] } });
  ok(joined, 'join G');
  const narrow = await t.keys.create({ name: 'narrow', scopes: [{ action: 'consume', topics: ['A'], groups: [] }] });
  return { t, memberId: joined.body.memberId, generation: joined.body.generation, narrowKeyId: narrow.keyId };
}

/** A request for each operation that succeeds when the caller is allowed. */
function requestFor(operationId: string, path: string, f: Fixture): { path: string; body?: unknown } {
  const filled = path
    .replace('{topic}', 'A')
    .replace('{partition}', '0')
    .replace('{group}', 'G')
    .replace('{memberId}', encodeURIComponent(f.memberId))
    .replace('{id}', f.narrowKeyId)
    .replace('{name}', 'G')
    .replace(/\{\w+\}/g, 'x');
  const query: Record<string, string> = { fetchRecords: '?offset=0', fetchLocations: '?offset=0', waitForRecords: '?partitions=0:0', streamRecords: '?offset=0', offsetForTimestamp: '?timestamp=0', deleteRecords: '?before=0' };
  const bodies: Record<string, unknown> = {
    createTopic: { name: 'A', partitions: 1 },
    alterTopicConfig: { config: { retentionMs: 3_600_000 } },
    addPartitions: { count: 2 },
    produce: { records: [{ value: 'v' }] },
    joinGroup: { topics: ['A'] },
    heartbeat: { generation: f.generation },
    commitOffsets: { memberId: f.memberId, generation: f.generation, offsets: [{ topic: 'A', partition: 0, offset: '1' }] },
    resetOffsets: { topic: 'A', to: 'earliest' },
    createKey: { name: 'new', scopes: [{ action: 'consume', topics: ['A'], groups: [] }] },
    createConsumer: PUSH_CONSUMER,
  };
  return { path: filled + (query[operationId] ?? ''), body: bodies[operationId] };
}

async function decide(route: (typeof ROUTES)[number], shape: Shape | { principalScopes: readonly Scope[] }) {
  const f = await fixture();
  const { path, body } = requestFor(route.operationId, route.path, f);
  let key: string | null = null;
  let principal;
  if (typeof shape === 'object') principal = { keyId: 'iam:test', name: 'iam', scopes: shape.principalScopes };
  else if (SHAPES[shape] !== null) key = await f.t.keyWith(SHAPES[shape].map((s) => ({ ...s, topics: [...s.topics], groups: [...s.groups] })));
  const res = await f.t.call(route.method, path, { key, body, principal });
  assert.ok(res.status < 500, `${route.operationId} as ${JSON.stringify(shape)}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.deepEqual(f.t.unexpected, []);
  return { allowed: res.status !== 401 && res.status !== 403, res };
}

describe('authorization table', { timeout: 300_000 }, () => {
  it('has an entry for every route of the route table, and no entry for a route that does not exist', () => {
    const ids = ROUTES.map((r) => r.operationId as string);
    for (const id of ids) assert.ok(Object.hasOwn(TABLE, id), `route ${id} has no entry in the authorization table: decide who may call it`);
    for (const id of Object.keys(TABLE)) assert.ok(ids.includes(id), `the table names ${id}, which is not a route`);
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.path} (${route.operationId})`, async () => {
      const allowedShapes = TABLE[route.operationId as OperationId] ?? [];
      for (const shape of ALL_SHAPES) {
        const { allowed, res } = await decide(route, shape);
        const expected = allowedShapes.includes(shape);
        assert.equal(allowed, expected, `${route.operationId} as ${shape}: expected ${expected ? 'allow' : 'deny'}, got ${res.status} ${JSON.stringify(res.body)}`);
        if (!expected) assert.equal(res.status, shape === 'none' ? 401 : 403, `${route.operationId} as ${shape}`);
        const listed = LISTED[route.operationId as OperationId];
        if (listed && allowed) {
          const names = (res.body[listed.field] as Array<Record<string, string>>).map((item) => item[listed.name]);
          const expected = Object.entries(listed.items).filter(([, shapes]) => shapes.includes(shape)).map(([item]) => item);
          assert.deepEqual(names.sort(), expected.sort(), `${route.operationId} as ${shape} lists ${names}`);
        }
      }
    });
  }

  it('an IAM caller reaches through each IAM grant exactly what a key with that action on everything may do', async () => {
    let checked = 0;
    for (const [grant, patterns] of Object.entries(IAM_GRANTS) as Array<[keyof typeof IAM_GRANTS, readonly string[]]>) {
      for (const route of ROUTES) {
        const gateway = API_ROUTES.find((r) => r.method === route.method && r.path === route.path)!;
        const sample = route.path.replace(/\{\w+\}/g, 'x1');
        // routes without an API Gateway route (the live tail: its own Function URL) are not on the IAM endpoint
        if (!gateway?.iam || !patterns.some((p) => matchesIamPattern(p, `${route.method}${sample}`))) continue;
        const asIam = await decide(route, { principalScopes: IAM_CALLER_SCOPES });
        const asKey = await decide(route, grant === 'produce' ? 'produceAll' : 'consumeAll');
        assert.equal(asIam.allowed, asKey.allowed, `${grant} grant, ${route.operationId}: IAM ${asIam.res.status}, key ${asKey.res.status}`);
        assert.ok(!EVERYTHING_ADMIN.every((s) => TABLE[route.operationId as OperationId].includes(s)) || TABLE[route.operationId as OperationId].length > 1, `${route.operationId} needs admin over everything yet is on the IAM endpoint`);
        checked++;
      }
    }
    assert.ok(checked >= 10, `checked ${checked} IAM route grants`);
  });
});
