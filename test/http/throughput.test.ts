/** The throughput route (GET /v1/topics/{topic}/throughput) through the HTTP application: answers and bounds. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inProcessApp } from '../support/in-process-app.ts';

const T0 = 1_764_000_000_000;

describe('GET /v1/topics/{topic}/throughput', () => {
  it('answers records and bytes per bucket, for the topic and for one partition', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'tp', partitions: 2 } });
    await t.call('POST', '/v1/topics/tp/records', { body: { records: [{ partition: 0, value: 'a', timestamp: T0 }, { partition: 0, value: 'b', timestamp: T0 + 1 }] } });
    await t.call('POST', '/v1/topics/tp/records', { body: { records: [{ partition: 1, value: 'c', timestamp: T0 + 2500 }] } });
    const all = await t.call('GET', `/v1/topics/tp/throughput?bucketMs=1000&from=${T0}&to=${T0 + 3000}`);
    assert.equal(all.status, 200);
    assert.equal(all.body.topic, 'tp');
    assert.equal(all.body.partition, undefined);
    assert.equal(all.body.truncated, false);
    assert.deepEqual(all.body.buckets.map((b: { startMs: number; records: number }) => [b.startMs - T0, b.records]), [[0, 2], [1000, 0], [2000, 1]]);
    const one = await t.call('GET', `/v1/topics/tp/throughput?partition=1&bucketMs=1000&from=${T0}&to=${T0 + 3000}`);
    assert.equal(one.body.partition, 1);
    assert.deepEqual(one.body.buckets.map((b: { records: number }) => b.records), [0, 0, 1]);
    assert.ok(one.body.buckets[2].bytes > 0);
    // Defaults: 60 one-minute buckets up to now.
    const recent = await t.call('GET', '/v1/topics/tp/throughput');
    assert.equal(recent.body.bucketMs, 60_000);
    assert.ok(recent.body.buckets.length >= 60 && recent.body.buckets.length <= 61);
    assert.deepEqual(t.unexpected, []);
  });

  it('refuses more than 1,000 buckets, an empty window and bad numbers; unknown topics and partitions', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'tp', partitions: 2 } });
    for (const query of [`bucketMs=1&from=${T0}&to=${T0 + 1001}`, `from=${T0}&to=${T0}`, 'bucketMs=0', 'bucketMs=-5', 'from=abc', 'partition=x']) {
      const res = await t.call('GET', `/v1/topics/tp/throughput?${query}`);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'INVALID_REQUEST');
    }
    assert.equal((await t.call('GET', `/v1/topics/tp/throughput?bucketMs=1&from=${T0}&to=${T0 + 1000}`)).body.buckets.length, 1000);
    assert.equal((await t.call('GET', '/v1/topics/tp/throughput?partition=2')).status, 400);
    assert.equal((await t.call('GET', '/v1/topics/nope/throughput')).body.error.code, 'TOPIC_NOT_FOUND');
  });
});
