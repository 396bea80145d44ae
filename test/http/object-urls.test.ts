/** ObjectUrlSigner: the signature is HMAC-SHA256 of key, range and expiry under the given secret, and verify() checks exactly that. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { ObjectUrlSigner } from '../../lib/http/object-urls.ts';

describe('ObjectUrlSigner', () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef');
  const now = () => 1_764_000_000_000;
  const signer = new ObjectUrlSigner({ baseUrl: () => 'http://127.0.0.1:1', secret, now });

  it('signs with HMAC-SHA256 under its secret, and verifies its own URLs only', () => {
    const url = new URL(signer.sign('t/abc/ingest/o 1', { start: 10, end: 99 }, 60));
    const expires = now() + 60_000;
    const expected = createHmac('sha256', secret).update(`t/abc/ingest/o 1\n10\n99\n${expires}`).digest('hex');
    assert.equal(url.searchParams.get('signature'), expected);
    assert.deepEqual(signer.verify(url.pathname, url.searchParams, 'bytes=10-99'), { key: 't/abc/ingest/o 1', range: { start: 10, end: 99 } });
    // the same secret in another signer (another server start with the same secret) verifies; another secret does not
    assert.ok(new ObjectUrlSigner({ baseUrl: () => '', secret: Buffer.from(secret), now }).verify(url.pathname, url.searchParams, undefined));
    const other = new ObjectUrlSigner({ baseUrl: () => '', secret: Buffer.alloc(32, 7), now });
    assert.throws(() => other.verify(url.pathname, url.searchParams, undefined), { code: 'FORBIDDEN' });
    const tampered = new URLSearchParams(url.searchParams);
    tampered.set('end', '100');
    assert.throws(() => signer.verify(url.pathname, tampered, undefined), { code: 'FORBIDDEN' });
  });
});
