/** The multi-partition wait route (GET /v1/topics/{topic}/wait) through the HTTP application. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inProcessApp } from '../support/in-process-app.ts';

describe('GET /v1/topics/{topic}/wait', () => {
  it('answers as soon as any named partition has records past its offset', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'w', partitions: 4 } });
    const waiting = t.call('GET', '/v1/topics/w/wait?partitions=0:0,2:0,3:0&maxWaitMs=20000');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const produced = await t.call('POST', '/v1/topics/w/records', { body: { records: [{ partition: 2, value: 'x' }, { partition: 2, value: 'y' }] } });
    assert.equal(produced.status, 200);
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { partitions: [{ partition: 2, highWatermark: '2', logStartOffset: '0' }] });
    assert.equal(t.engine.waitingFetches, 0);
    assert.deepEqual(t.unexpected, []);
  });

  it('answers empty when nothing arrives (maxWaitMs 0: at once) and ends when the client goes away', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'w', partitions: 2 } });
    assert.deepEqual((await t.call('GET', '/v1/topics/w/wait?partitions=0:0,1:0')).body, { partitions: [] });
    const gone = new AbortController();
    const waiting = t.call('GET', '/v1/topics/w/wait?partitions=0:0&maxWaitMs=20000', { signal: gone.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    gone.abort();
    assert.deepEqual((await waiting).body, { partitions: [] });
    assert.equal(t.engine.waitingFetches, 0);
  });

  it('refuses bad lists with INVALID_REQUEST before waiting, and unknown topics with TOPIC_NOT_FOUND', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'w', partitions: 2 } });
    const tooMany = Array.from({ length: 257 }, (_, i) => `${i}:0`).join(',');
    for (const partitions of ['', '0', '0:', 'a:1', '0:1;1:2', '0:1,0:2', '2:0', tooMany, '0:99999999999999999999', '0:9999999999999999999']) {
      const res = await t.call('GET', `/v1/topics/w/wait?partitions=${partitions}&maxWaitMs=20000`);
      assert.equal(res.status, 400, `partitions=${partitions.slice(0, 40)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'INVALID_REQUEST');
    }
    assert.equal((await t.call('GET', '/v1/topics/w/wait?maxWaitMs=10')).status, 400);
    assert.equal((await t.call('GET', '/v1/topics/w/wait?partitions=0:0&maxWaitMs=20001')).status, 400);
    const missing = await t.call('GET', '/v1/topics/nope/wait?partitions=0:0');
    assert.equal(missing.body.error.code, 'TOPIC_NOT_FOUND');
    assert.equal(t.engine.waitingFetches, 0);
  });
});
