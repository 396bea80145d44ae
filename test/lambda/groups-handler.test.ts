/**
 * Consumer groups through the Lambda entry point (lambdas/api.ts) on the DynamoDB adapter (dynalite):
 * the default AWS application serves the group routes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLambdaEnvironment } from '../support/lambda-env.ts';
import type { HttpEventV2, HttpResultV2 } from '../../lib/lambda/http-adapter.ts';

const KEY = 'lambda-groups-admin-key-0123456789';

function event(method: string, path: string, body?: unknown): HttpEventV2 {
  return {
    rawPath: path,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    requestContext: { http: { method } },
  };
}

describe('consumer groups through the Lambda API handler on DynamoDB (emulated)', () => {
  let environment: { stop(): Promise<void> };
  let handler: (event: HttpEventV2) => Promise<HttpResultV2>;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await handler(event(method, path, body));
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  };

  before(async () => {
    environment = await startLambdaEnvironment(KEY);
    ({ handler } = await import('../../lambdas/api.ts'));
  });
  after(async () => {
    await environment.stop();
  });

  it('joins, heartbeats, commits, describes and leaves', async () => {
    assert.equal((await call('POST', '/v1/topics', { name: 'events', partitions: 3 })).status, 201);
    const joined = await call('POST', '/v1/groups/lambda-workers/members', { topics: ['events'] });
    assert.equal(joined.status, 200);
    assert.equal(joined.body.assignments.length, 3);
    const { memberId, generation } = joined.body;
    const member = `/v1/groups/lambda-workers/members/${memberId}`;
    assert.deepEqual((await call('POST', `${member}/heartbeat`, { generation })).body, { generation, rebalance: false });
    const committed = await call('POST', '/v1/groups/lambda-workers/offsets', { memberId, generation, offsets: [{ topic: 'events', partition: 2, offset: '0' }] });
    assert.equal(committed.status, 200);
    const described = await call('GET', '/v1/groups/lambda-workers');
    assert.equal(described.body.offsets.find((o: { partition: number }) => o.partition === 2).committedOffset, '0');
    assert.equal((await call('DELETE', member)).status, 204);
    assert.equal((await call('POST', '/v1/groups/lambda-workers/offsets', { memberId, generation, offsets: [{ topic: 'events', partition: 2, offset: '1' }] })).status, 409);
  });
});
