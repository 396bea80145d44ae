/**
 * Issue 10, faults 4, 6 and 7: deep JSON, loose base64 and unreadable messages. Every refusal is a
 * 400 with one sentence naming the field, and nothing is written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS } from '../../lib/defaults.ts';
import { inProcessApp } from '../support/in-process-app.ts';

async function withTopic() {
  const t = await inProcessApp();
  assert.equal((await t.call('POST', '/v1/topics', { body: { name: 'orders', partitions: 4 } })).status, 201);
  return t;
}

describe('input validation', { timeout: 30_000 }, () => {
  it('refuses JSON nested deeper than the limit with 400, before parsing, and accepts the limit itself', async () => {
    const t = await withTopic();
    const deep = `{"records":[{"value":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
    const refused = await t.call('POST', '/v1/topics/orders/records', { body: deep });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'INVALID_REQUEST');
    assert.match(refused.body.error.message, new RegExp(`deeper than ${LIMITS.maxJsonDepth} levels`));
    // brackets inside strings do not count
    const inString = await t.call('POST', '/v1/topics/orders/records', { body: { records: [{ value: '['.repeat(5000), partition: 0 }] } });
    assert.equal(inString.status, 200);
    // exactly the limit: body object (1), records (2), record (3), then the value's levels
    const value = '['.repeat(LIMITS.maxJsonDepth - 3) + ']'.repeat(LIMITS.maxJsonDepth - 3);
    const atLimit = await t.call('POST', '/v1/topics/orders/records', { body: `{"records":[{"value":${value},"partition":1}]}` });
    assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body));
    const fetched = await t.call('GET', '/v1/topics/orders/partitions/1/records?offset=0');
    assert.equal(fetched.body.records[0].value, value);
    assert.equal((await t.call('POST', '/v1/topics/orders/records', { body: `{"records":[{"value":[${value}]}]}` })).status, 400);
    assert.deepEqual(t.unexpected, []);
  });

  it('accepts only strict, canonical base64', async () => {
    const t = await withTopic();
    for (const bad of ['A', 'AAAAA', 'QUJD=', 'QUJ', 'QR==', 'QUI=x', 'QU I=', 'QUI', '====', 'QUJD\n']) {
      const res = await t.call('POST', '/v1/topics/orders/records', { body: { records: [{ valueBase64: bad, partition: 0 }] } });
      assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, /^records\[0\]\.valueBase64: expected /);
      const key = await t.call('POST', '/v1/topics/orders/records', { body: { records: [{ keyBase64: bad, value: 'v' }] } });
      assert.equal(key.status, 400, `key ${JSON.stringify(bad)}`);
    }
    for (const [good, text] of [['QUJD', 'ABC'], ['QUI=', 'AB'], ['QQ==', 'A'], ['', '']]) {
      const res = await t.call('POST', '/v1/topics/orders/records', { body: { records: [{ valueBase64: good, partition: 2 }] } });
      assert.equal(res.status, 200, good);
      const offset = res.body.records[0].offset;
      const fetched = await t.call('GET', `/v1/topics/orders/partitions/2/records?offset=${offset}`);
      assert.equal(fetched.body.records[0].value, text);
    }
    const described = await t.call('GET', '/v1/topics/orders');
    assert.equal(described.body.partitions[0].endOffset, '0', 'nothing refused was written');
  });

  it('says what is wrong in one sentence naming the field', async () => {
    const t = await withTopic();
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['POST', '/v1/topics/orders/records', { records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }, { value: 'd', partition: -1 }] }, /^records\[3\]\.partition: expected an integer from 0 to 9999, got -1$/],
      ['POST', '/v1/topics/orders/records', { records: [{ value: 'a', partition: 'x' }] }, /^records\[0\]\.partition: expected an integer from 0 to 9999, got the string "x"$/],
      ['POST', '/v1/topics/orders/records', { records: [{ valu: 'a' }] }, /^records\[0\]: unknown field "valu"$/],
      ['POST', '/v1/topics/orders/records', { records: 'x' }, /^records: expected an array, got the string "x"$/],
      ['POST', '/v1/topics/orders/records', { records: [] }, /^records: expected at least 1 items, got 0$/],
      ['POST', '/v1/topics/orders/records', { records: [{ value: 'a', partition: 9 }] }, /^records\[0\]\.partition: partition 9 does not exist/],
      ['POST', '/v1/topics/orders/records', { records: [{ value: 'a', timestamp: 1.5 }] }, /^records\[0\]\.timestamp: expected an integer from 0 to 8640000000000000, got 1.5$/],
      ['POST', '/v1/topics/orders/records', { records: [{ value: 'a', headers: { h: 1 } }] }, /^records\[0\]\.headers\.h: expected a string or an array, got 1$/],
      ['POST', '/v1/topics', { name: 'x', partitions: 0 }, /^partitions: expected an integer from 1 to 10000, got 0$/],
      ['POST', '/v1/topics', { name: 'bad/name', partitions: 1 }, /^name: expected 1-249 characters/],
      ['POST', '/v1/topics', { name: 'y', partitions: 1, config: { retentionMs: 'long' } }, /^config\.retentionMs: expected an integer ≥ -1, got the string "long"$/],
      ['POST', '/v1/topics', { name: 'y', partitions: 1, config: { compression: 'lz4' } }, /^config\.compression: expected "zstd" or "gzip" or "none", got the string "lz4"$/],
      ['POST', '/v1/keys', { name: 'k', scopes: [{ action: 'produce', topic: ['x'] }] }, /^scopes\[0\]: unknown field "topic"$/],
      ['POST', '/v1/keys', { name: 'k', scopes: [{ action: 'write' }] }, /^scopes\[0\]\.action: expected "admin" or "produce" or "consume", got the string "write"$/],
      ['POST', '/v1/keys', { name: 'k', scopes: [{ action: 'consume', topics: ['a/b'] }] }, /^scopes\[0\]\.topics\[0\]: expected a name, a prefix ending in \*, or \*, got the string "a\/b"$/],
      ['POST', '/v1/keys', { scopes: [] }, /^name: required but missing/],
      ['POST', '/v1/groups/g/members', { topics: ['orders'], sessionTimeoutMs: 10 }, /^sessionTimeoutMs: expected an integer from 1000 to 1800000, got 10$/],
      ['POST', '/v1/groups/g/members', { topics: ['bad/topic'] }, /^topics\[0\]: expected 1-249 characters of \[a-zA-Z0-9._-\], got the string "bad\/topic"$/],
      ['POST', '/v1/groups/g/offsets', { memberId: 'm', generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: 'x' }] }, /^offsets\[0\]\.offset: /],
      ['POST', '/v1/groups/g/members/m/heartbeat', { generation: -2 }, /^generation: expected a non-negative integer, got -2$/],
      ['GET', '/v1/topics/orders/partitions/0/records?offset=abc', undefined, /^offset: expected a non-negative decimal integer, got the string "abc"$/],
      ['GET', '/v1/topics/orders/partitions/0/records?offset=9223372036854775808', undefined, /^offset: expected a decimal integer below 2\^63, got the string "9223372036854775808"$/],
      ['GET', '/v1/topics/orders/partitions/x/records?offset=0', undefined, /^partition: expected a non-negative integer, got the string "x"$/],
      ['GET', `/v1/topics/orders/partitions/0/records?offset=0&maxWaitMs=${LIMITS.maxWaitMs + 1}`, undefined, /^maxWaitMs: expected at most 20000 \(a longer wait is refused, not shortened\), got the string "20001"$/],
      ['GET', '/v1/topics/orders/partitions/0/offsets', undefined, /^timestamp: required but missing$/],
    ];
    for (const [method, path, body, pattern] of cases) {
      const res = await t.call(method, path, { body });
      assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'INVALID_REQUEST');
      assert.match(res.body.error.message, pattern, `${method} ${path} ${JSON.stringify(body)}`);
      assert.ok(!res.body.error.message.includes('\n') && !res.body.error.message.includes('✖'), res.body.error.message);
    }
  });
});
