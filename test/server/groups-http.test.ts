/**
 * The consumer-group routes of the contract (docs/api-v1.md, "Consumer groups") through the local
 * server over real HTTP: shapes, status codes, error bodies and scopes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';
import { apiClient } from '../support/http-client.ts';

const ADMIN_KEY = 'test-admin-key-groups-0123456789';

describe('consumer group routes over HTTP', () => {
  let dir: string;
  let server: LocalServer;
  let admin: ReturnType<typeof apiClient>;
  let worker: ReturnType<typeof apiClient>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-groups-http-'));
    server = await startLocalServer({ dataDir: dir, port: 0, apiKey: ADMIN_KEY, maintenanceIntervalMs: 0 });
    admin = apiClient(server.url, ADMIN_KEY);
    assert.equal((await admin('POST', '/v1/topics', { name: 'orders', partitions: 2 })).status, 201);
    assert.equal((await admin('POST', '/v1/topics', { name: 'secret', partitions: 1 })).status, 201);
    const key = await admin('POST', '/v1/keys', { name: 'worker', scopes: [{ action: 'consume', topics: ['orders'], groups: ['workers.*'] }] });
    worker = apiClient(server.url, key.body.key);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('join, heartbeat, commit, describe, leave: as the contract says', async () => {
    await admin('POST', '/v1/topics/orders/records', { records: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }] });
    const joined = await worker('POST', '/v1/groups/workers.a/members', { topics: ['orders'], sessionTimeoutMs: 30000 });
    assert.equal(joined.status, 200);
    assert.deepEqual(Object.keys(joined.body).sort(), ['assignments', 'generation', 'memberId', 'pending', 'revoking']);
    assert.equal(joined.body.generation, 1);
    assert.deepEqual(joined.body.assignments, [
      { topic: 'orders', partition: 0, committedOffset: null },
      { topic: 'orders', partition: 1, committedOffset: null },
    ]);
    const memberId: string = joined.body.memberId;
    const member = `/v1/groups/workers.a/members/${encodeURIComponent(memberId)}`;

    const beat = await worker('POST', `${member}/heartbeat`, { generation: 1 });
    assert.equal(beat.status, 200);
    assert.deepEqual(beat.body, { generation: 1, rebalance: false });

    const committed = await worker('POST', '/v1/groups/workers.a/offsets', { memberId, generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: '1' }] });
    assert.equal(committed.status, 200);
    assert.deepEqual(committed.body, { offsets: [{ topic: 'orders', partition: 0, committedOffset: '1' }] });

    const stale = await worker('POST', '/v1/groups/workers.a/offsets', { memberId, generation: 0, offsets: [{ topic: 'orders', partition: 0, offset: '2' }] });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'ILLEGAL_GENERATION');
    assert.equal(typeof stale.body.error.message, 'string');

    const described = await worker('GET', '/v1/groups/workers.a');
    assert.equal(described.status, 200);
    assert.equal(described.body.group, 'workers.a');
    assert.equal(described.body.generation, 1);
    assert.deepEqual(described.body.members.map((m: { memberId: string; assignments: unknown[] }) => [m.memberId, m.assignments.length]), [[memberId, 2]]);
    assert.deepEqual(described.body.offsets, [
      { topic: 'orders', partition: 0, committedOffset: '1', endOffset: '2', lag: '1' },
      { topic: 'orders', partition: 1, committedOffset: null, endOffset: '1', lag: null },
    ]);

    // a second member: the first is told to rebalance, and gives partition 1 up cooperatively
    const second = await worker('POST', '/v1/groups/workers.a/members', { topics: ['orders'] });
    assert.equal(second.body.generation, 2);
    assert.deepEqual((await worker('POST', `${member}/heartbeat`, { generation: 1 })).body, { generation: 2, rebalance: true });
    const rejoined = await worker('POST', '/v1/groups/workers.a/members', { topics: ['orders'], memberId, sessionTimeoutMs: 30000 });
    assert.equal(rejoined.body.generation, 2);
    assert.equal(rejoined.body.assignments.length + rejoined.body.revoking.length, 2);

    assert.equal((await worker('DELETE', member)).status, 204);
    const gone = await worker('POST', `${member}/heartbeat`, { generation: 2 });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'UNKNOWN_MEMBER');
    assert.equal((await worker('DELETE', `/v1/groups/workers.a/members/${encodeURIComponent(second.body.memberId)}`)).status, 204);
    assert.deepEqual((await worker('GET', '/v1/groups')).body, { groups: [{ group: 'workers.a' }] });
  });

  it('resets offsets (admin, empty group only) and lists groups by scope', async () => {
    const joined = await worker('POST', '/v1/groups/workers.b/members', { topics: ['orders'] });
    const busy = await admin('POST', '/v1/groups/workers.b/offsets/reset', { topic: 'orders', to: 'earliest' });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'GROUP_NOT_EMPTY');
    await worker('DELETE', `/v1/groups/workers.b/members/${encodeURIComponent(joined.body.memberId)}`);
    assert.equal((await worker('POST', '/v1/groups/workers.b/offsets/reset', { topic: 'orders', to: 'latest' })).status, 403);
    const reset = await admin('POST', '/v1/groups/workers.b/offsets/reset', { topic: 'orders', partitions: [1], to: 'offset', offset: '0' });
    assert.equal(reset.status, 200);
    assert.deepEqual(reset.body, { offsets: [{ topic: 'orders', partition: 1, committedOffset: '0' }] });
    assert.equal((await admin('POST', '/v1/groups/workers.b/offsets/reset', { topic: 'orders', to: 'timestamp' })).status, 400);
    await admin('POST', '/v1/groups/admins-only/offsets/reset', { topic: 'orders', to: 'earliest' });
    const names = (await worker('GET', '/v1/groups')).body.groups.map((g: { group: string }) => g.group);
    assert.ok(names.includes('workers.b') && !names.includes('admins-only'));
  });

  it('DELETE /v1/groups/{group}: 204 when empty, 409 GROUP_NOT_EMPTY with members, 404 GROUP_NOT_FOUND, admin only', async () => {
    const joined = await worker('POST', '/v1/groups/workers.del/members', { topics: ['orders'], sessionTimeoutMs: 30000 });
    assert.equal(joined.status, 200);
    const commit = await worker('POST', '/v1/groups/workers.del/offsets', { memberId: joined.body.memberId, generation: joined.body.generation, offsets: [{ topic: 'orders', partition: 0, offset: '1' }] });
    assert.equal(commit.status, 200);
    const busy = await admin('DELETE', '/v1/groups/workers.del');
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'GROUP_NOT_EMPTY');
    assert.equal((await worker('DELETE', `/v1/groups/workers.del/members/${joined.body.memberId}`)).status, 204);
    const forbidden = await worker('DELETE', '/v1/groups/workers.del');
    assert.equal(forbidden.status, 403, 'consume is not enough to delete a group and its offsets');
    const deleted = await admin('DELETE', '/v1/groups/workers.del');
    assert.equal(deleted.status, 204);
    assert.equal((await admin('GET', '/v1/groups/workers.del')).body.error.code, 'GROUP_NOT_FOUND');
    const again = await admin('DELETE', '/v1/groups/workers.del');
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, 'GROUP_NOT_FOUND');
    assert.equal((await admin('DELETE', '/v1/groups/bad%20name')).status, 400);
  });

  it('checks scopes, bodies and names', async () => {
    const forbiddenGroup = await worker('POST', '/v1/groups/other/members', { topics: ['orders'] });
    assert.equal(forbiddenGroup.status, 403);
    assert.equal(forbiddenGroup.body.error.code, 'FORBIDDEN');
    assert.equal((await worker('POST', '/v1/groups/workers.c/members', { topics: ['secret'] })).status, 403);
    assert.equal((await worker('GET', '/v1/groups/other')).status, 403);
    assert.equal((await worker('POST', '/v1/groups/workers.c/members', { topics: 'orders' })).status, 400);
    assert.equal((await worker('POST', '/v1/groups/workers.c/members', { topics: ['orders'], sessionTimeoutMs: 1 })).status, 400);
    const missing = await worker('POST', '/v1/groups/workers.c/members', { topics: ['orders', 'nope'] });
    assert.equal(missing.status, 403, 'the key may not consume a topic outside its scope, existing or not');
    assert.equal((await admin('POST', '/v1/groups/workers.c/members', { topics: ['nope'] })).body.error.code, 'TOPIC_NOT_FOUND');
    assert.equal((await worker('POST', '/v1/groups/workers.c/members/x/heartbeat', {})).status, 400);
    assert.equal((await worker('POST', '/v1/groups/workers.c/members/x/heartbeat', { generation: 1 })).status, 404);
    const badOffset = await worker('POST', '/v1/groups/workers.c/offsets', { memberId: 'x', generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: 'ten' }] });
    assert.equal(badOffset.status, 400);
    const unknown = await worker('POST', '/v1/groups/workers.c/offsets', { memberId: 'AAAAAAAAAAAAAAAA.30000', generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: 1 }] });
    assert.equal(unknown.status, 409);
    const notFound = await worker('GET', '/v1/groups/workers.none');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.error.code, 'GROUP_NOT_FOUND');
    assert.equal((await admin('GET', '/v1/groups/bad%20name')).status, 400);
    assert.equal((await apiClient(server.url)('GET', '/v1/groups/workers.a')).status, 401);
  });
});
