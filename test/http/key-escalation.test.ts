/**
 * Issue 10, fault 1: a key can never grant or revoke more than it has, and key management and
 * maintenance need admin over every topic and group (docs/api-v1.md, "Keys").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_SCOPES } from '../../lib/auth/api-keys.ts';
import { inProcessApp } from '../support/in-process-app.ts';

describe('keys cannot escalate', { timeout: 30_000 }, () => {
  const narrowAdmins = [
    { name: 'admin on topic A and group G', scopes: [{ action: 'admin' as const, topics: ['A'], groups: ['G'] }] },
    { name: 'admin on no topics and no groups', scopes: [{ action: 'admin' as const, topics: [], groups: [] }] },
    { name: 'admin on every topic, no group', scopes: [{ action: 'admin' as const, topics: ['*'], groups: [] }] },
    { name: 'admin on logs.*, every group', scopes: [{ action: 'admin' as const, topics: ['logs.*'], groups: ['*'] }] },
  ];

  for (const { name, scopes } of narrowAdmins) {
    it(`a key with ${name} cannot mint, list, revoke or run maintenance`, async () => {
      const t = await inProcessApp();
      const narrow = await t.keyWith(scopes);
      const minted = await t.call('POST', '/v1/keys', { key: narrow, body: { name: 'escalated', scopes: [{ action: 'admin' }] } });
      assert.equal(minted.status, 403, JSON.stringify(minted.body));
      assert.equal(minted.body.error.code, 'FORBIDDEN');
      // not even a key inside its own scopes: key management needs admin over everything
      assert.equal((await t.call('POST', '/v1/keys', { key: narrow, body: { name: 'same', scopes } })).status, 403);
      assert.equal((await t.call('GET', '/v1/keys', { key: narrow })).status, 403);
      const bootstrap = (await t.keys.list()).find((k) => k.name === 'bootstrap')!;
      assert.equal((await t.call('DELETE', `/v1/keys/${bootstrap.keyId}`, { key: narrow })).status, 403);
      assert.equal((await t.call('POST', '/v1/admin/maintenance', { key: narrow })).status, 403);
      // nothing changed: still only the bootstrap key and this one
      assert.deepEqual((await t.keys.list()).map((k) => k.name).sort(), ['bootstrap', 'test']);
    });
  }

  it('an admin over everything manages keys and runs maintenance', async () => {
    const t = await inProcessApp();
    const second = await t.keyWith(ADMIN_SCOPES);
    const created = await t.call('POST', '/v1/keys', { key: second, body: { name: 'orders', scopes: [{ action: 'produce', topics: ['orders'] }] } });
    assert.equal(created.status, 201);
    assert.equal((await t.call('GET', '/v1/keys', { key: second })).status, 200);
    assert.equal((await t.call('POST', '/v1/admin/maintenance', { key: second })).status, 200);
    assert.equal((await t.call('DELETE', `/v1/keys/${created.body.id}`, { key: second })).status, 204);
    // revoking an equally broad key (the bootstrap key) is allowed: that is how it is replaced
    const bootstrap = (await t.keys.list()).find((k) => k.name === 'bootstrap')!;
    assert.equal((await t.call('DELETE', `/v1/keys/${bootstrap.keyId}`, { key: second })).status, 204);
  });

  it('admin split over two scopes (topics in one, groups in the other) is not admin over everything', async () => {
    const t = await inProcessApp();
    const split = await t.keyWith([
      { action: 'admin', topics: ['*'], groups: [] },
      { action: 'admin', topics: [], groups: ['*'] },
    ]);
    // admin on (every topic, no group) and (no topic, every group) do not grant admin on a topic and a
    // group together (a group's offsets of a topic): not everything
    assert.equal((await t.call('GET', '/v1/keys', { key: split })).status, 403);
    const whole = await t.keyWith([{ action: 'admin', topics: ['*'], groups: ['*'] }, { action: 'consume', topics: ['x'], groups: [] }]);
    assert.equal((await t.call('GET', '/v1/keys', { key: whole })).status, 200);
  });
});
