/**
 * The Lambda entry point (lambdas/api.ts) with API Gateway HTTP API v2 events, on the real S3 and
 * DynamoDB adapters against s3rver and dynalite: the same application as the local server.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startLambdaEnvironment } from '../support/lambda-env.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../../lib/protocol/record-batch.ts';
import type { HttpEventV2, HttpResultV2 } from '../../lib/lambda/http-adapter.ts';

const KEY = 'lambda-test-admin-key-0123456789';

function event(method: string, path: string, options: { query?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {}): HttpEventV2 {
  const binary = options.body instanceof Uint8Array;
  return {
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...options.headers },
    body: options.body === undefined ? undefined : binary ? Buffer.from(options.body as Uint8Array).toString('base64') : (options.body as string),
    isBase64Encoded: binary,
    requestContext: { http: { method } },
  };
}

describe('Lambda API handler on S3 + DynamoDB (emulated)', () => {
  let environment: { stop(): Promise<void> };
  let handler: (event: HttpEventV2) => Promise<HttpResultV2>;

  before(async () => {
    environment = await startLambdaEnvironment(KEY);
    ({ handler } = await import('../../lambdas/api.ts'));
  });
  after(async () => {
    await environment.stop();
  });

  it('serves topics, JSON produce and fetch', async () => {
    const created = await handler(event('POST', '/v1/topics', { body: JSON.stringify({ name: 'orders', partitions: 2 }) }));
    assert.equal(created.statusCode, 201);
    const produced = await handler(event('POST', '/v1/topics/orders/records', { body: JSON.stringify({ records: [{ value: 'hi', partition: 1 }] }) }));
    assert.equal(produced.statusCode, 200);
    assert.deepEqual(JSON.parse(produced.body), { records: [{ partition: 1, offset: '0' }] });
    const fetched = await handler(event('GET', '/v1/topics/orders/partitions/1/records', { query: 'offset=0' }));
    assert.equal(JSON.parse(fetched.body).records[0].value, 'hi');
    assert.equal(fetched.isBase64Encoded, false);
  });

  it('takes base64 binary bodies and returns binary fetches base64-encoded', async () => {
    await handler(event('POST', '/v1/topics', { body: JSON.stringify({ name: 'bin', partitions: 1 }) }));
    const batch = encodeRecordBatch([{ key: null, value: new Uint8Array([1, 2, 3]), headers: [], timestamp: 5 }], { codec: 'zstd' });
    const framed = new Uint8Array(8 + batch.length);
    new DataView(framed.buffer).setInt32(4, batch.length);
    framed.set(batch, 8);
    const produced = await handler(event('POST', '/v1/topics/bin/records', { body: framed, headers: { 'content-type': 'application/vnd.sluice.batches' } }));
    assert.equal(produced.statusCode, 200, produced.body);
    const fetched = await handler(event('GET', '/v1/topics/bin/partitions/0/records', { query: 'offset=0', headers: { accept: 'application/vnd.kafka.record-batches' } }));
    assert.equal(fetched.isBase64Encoded, true);
    const bytes = Buffer.from(fetched.body, 'base64');
    assert.equal([...iterateBatches(bytes, { verify: true })].length, 1);
  });

  it('presigns S3 ranged reads for the locations route, and answers small inline batches with their bytes', async () => {
    await handler(event('POST', '/v1/topics/orders/records', { body: JSON.stringify({ records: [{ value: 'direct', partition: 0 }] }) }));
    // incompressible and over 4 KiB: stored in an S3 object, not inline
    const large = randomBytes(6000).toString('base64');
    await handler(event('POST', '/v1/topics/orders/records', { body: JSON.stringify({ records: [{ value: large, partition: 0 }] }) }));
    const located = JSON.parse((await handler(event('GET', '/v1/topics/orders/partitions/0/locations', { query: 'offset=0' }))).body);
    const [inline, location] = located.locations;
    assert.equal(inline.url, undefined);
    const bytes = Buffer.from(inline.batchesBase64, 'base64');
    assert.deepEqual(decodeRecordBatch(bytes).records.map((r) => Buffer.from(r.value!).toString()), ['direct']);
    assert.match(location.url, /X-Amz-Signature=/);
    const res = await fetch(location.url, { headers: { range: `bytes=${location.range.start}-${location.range.end}` } });
    assert.equal(res.status, 206);
    assert.equal((await res.arrayBuffer()).byteLength, location.range.end - location.range.start + 1);
  });

  it('answers 401 without a key and typed errors as JSON', async () => {
    const res = await handler({ ...event('GET', '/v1/topics'), headers: {} });
    assert.equal(res.statusCode, 401);
    assert.equal(JSON.parse(res.body).error.code, 'UNAUTHORIZED');
    const missing = await handler(event('GET', '/v1/topics/nope'));
    assert.equal(missing.statusCode, 404);
  });
});

describe('Lambda maintenance handler on S3 + DynamoDB (emulated)', () => {
  it('runs a pass and reports what it did', async () => {
    const environment = await startLambdaEnvironment(KEY);
    try {
      const { handler } = await import('../../lambdas/maintenance.ts');
      const report = await handler();
      assert.equal(report.topics, 0);
      assert.equal(report.objectsDeleted, 0);
      // The same function serves POST /v1/admin/maintenance through API Gateway, with an admin key.
      const anonymous = await handler({ rawPath: '/v1/admin/maintenance', headers: {}, requestContext: { http: { method: 'POST' } } });
      assert.equal(anonymous.statusCode, 401);
    } finally {
      await environment.stop();
    }
  });
});
