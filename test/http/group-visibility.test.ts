/**
 * Issue 10, fault 5: GET /v1/groups/{group} shows only the topics the key may consume
 * (../shared/api-v1.md, "Consumer groups, more").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inProcessApp } from '../support/in-process-app.ts';

describe('group description visibility', { timeout: 30_000 }, () => {
  it('a key allowed to consume topic A and group G sees nothing of topic B', async () => {
    const t = await inProcessApp();
    for (const name of ['A', 'B']) assert.equal((await t.call('POST', '/v1/topics', { body: { name, partitions: 2 } })).status, 201);
    await t.call('POST', '/v1/topics/B/records', { body: { records: [{ value: 'secret', partition: 0 }] } });
    const other = await t.call('POST', '/v1/groups/G/members', { body: { topics: ['A', 'B'] } });
    assert.equal(other.status, 200);
    const commit = await t.call('POST', '/v1/groups/G/offsets', {
      body: { memberId: other.body.memberId, generation: other.body.generation, offsets: [{ topic: 'B', partition: 0, offset: '1' }] },
    });
    assert.equal(commit.status, 200, JSON.stringify(commit.body));

    const scoped = await t.keyWith([{ action: 'consume', topics: ['A'], groups: ['G'] }]);
    const res = await t.call('GET', '/v1/groups/G', { key: scoped });
    assert.equal(res.status, 200);
    assert.ok(!JSON.stringify(res.body).includes('"B"'), JSON.stringify(res.body));
    assert.deepEqual(res.body.members[0].topics, ['A']);
    assert.ok(res.body.members[0].assignments.every((a: { topic: string }) => a.topic === 'A'));
    assert.deepEqual([...new Set(res.body.offsets.map((o: { topic: string }) => o.topic))], ['A']);
    // the admin key still sees both
    const full = await t.call('GET', '/v1/groups/G');
    assert.deepEqual([...new Set(full.body.offsets.map((o: { topic: string }) => o.topic))].sort(), ['A', 'B']);
  });
});
