/**
 * ApiKeys.isLive: what a connection that authenticated once (the notification channel) is checked
 * against. The instance that revokes a key knows at once; another one within its cache time
 * (DEFAULTS.apiKeyCacheMs), as for authentication.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { MemoryMetadataStore } from '../../lib/storage/memory.ts';
import { ManualClock } from '../support/clock.ts';

describe('ApiKeys.isLive', () => {
  it('a key is live until revoked: at once where it was revoked, within the cache time elsewhere', async () => {
    const metadata = new MemoryMetadataStore();
    const clock = new ManualClock(Date.UTC(2026, 11, 4));
    const here = new ApiKeys(metadata, { now: clock.now, cacheMs: 10_000 });
    const elsewhere = new ApiKeys(metadata, { now: clock.now, cacheMs: 10_000 });
    const key = await here.create({ name: 'reader', scopes: [{ action: 'consume', topics: ['orders'] }] });
    assert.equal(await here.isLive(key.keyId), true);
    assert.equal(await elsewhere.isLive(key.keyId), true);
    await here.revoke(key.keyId);
    assert.equal(await here.isLive(key.keyId), false);
    assert.equal(await elsewhere.isLive(key.keyId), true, 'cached');
    clock.advance(10_001);
    assert.equal(await elsewhere.isLive(key.keyId), false);
    await assert.rejects(elsewhere.authenticate(`Bearer ${key.key}`), { code: 'UNAUTHORIZED' });
    assert.equal(await new ApiKeys(metadata).isLive('no-such-key'), false);
  });
});
