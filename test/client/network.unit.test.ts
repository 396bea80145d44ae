/** Retry policy and the HTTP transport, with fake fetch functions (no network). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceClientError, isRetriable } from '../../lib/client/errors.ts';
import { HttpTransport, type FetchFunction } from '../../lib/client/network/http.ts';
import { backoffMs, DEFAULT_RETRY, retryPolicy, withRetry } from '../../lib/client/retry/retry.ts';
import { ERROR_TABLE } from '../../lib/errors.ts';

const error = (code: string, extra: ConstructorParameters<typeof SluiceClientError>[2] = {}) => new SluiceClientError(code as never, code, extra);

describe('retry', () => {
  it("takes retriable from the server's error table", () => {
    for (const [code, entry] of Object.entries(ERROR_TABLE)) assert.equal(error(code).retriable, entry.retriable, code);
    assert.equal(error('NETWORK_ERROR').retriable, true);
    assert.equal(error('REQUEST_TIMEOUT').retriable, true);
    assert.equal(error('CORRUPT_DATA').retriable, false);
    assert.equal(error('HTTP_502', { status: 502 }).retriable, true, 'unknown codes: by status');
    assert.equal(error('HTTP_418', { status: 418 }).retriable, false);
    assert.equal(isRetriable(new Error('plain')), false);
  });

  it('backs off exponentially with jitter between half and all of the ceiling, capped', () => {
    const policy = retryPolicy({ initialRetryMs: 100, maxRetryMs: 1000, multiplier: 2 });
    for (let retry = 0; retry < 8; retry++) {
      const ceiling = Math.min(1000, 100 * 2 ** retry);
      assert.equal(backoffMs(policy, retry, undefined, () => 0), ceiling / 2);
      assert.equal(backoffMs(policy, retry, undefined, () => 0.999999) > ceiling * 0.99, true);
    }
    const spread = new Set(Array.from({ length: 50 }, () => Math.round(backoffMs(policy, 3))));
    assert.ok(spread.size > 10, 'jitter spreads the delays');
  });

  it('waits at least Retry-After, capped at maxRetryMs', () => {
    const policy = retryPolicy({ initialRetryMs: 10, maxRetryMs: 3000 });
    assert.equal(backoffMs(policy, 0, error('THROTTLED', { retryAfterSeconds: 2 }), () => 0), 2000);
    assert.equal(backoffMs(policy, 0, error('THROTTLED', { retryAfterSeconds: 60 }), () => 0), 3000);
  });

  it('retries retriable errors only, and stops after the retries', async () => {
    const policy = retryPolicy({ retries: 3, initialRetryMs: 1, maxRetryMs: 1 });
    let calls = 0;
    await assert.rejects(withRetry(policy, async () => { calls++; throw error('UNAVAILABLE'); }), { code: 'UNAVAILABLE' });
    assert.equal(calls, 4);
    calls = 0;
    await assert.rejects(withRetry(policy, async () => { calls++; throw error('FORBIDDEN'); }), { code: 'FORBIDDEN' });
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(withRetry(policy, async () => { calls++; throw new TypeError('bug'); }), TypeError);
    assert.equal(calls, 1);
    calls = 0;
    assert.equal(await withRetry(policy, async () => (++calls < 3 ? Promise.reject(error('THROTTLED')) : 'ok')), 'ok');
    calls = 0;
    assert.equal(await withRetry(retryPolicy({ retries: 0, initialRetryMs: 1, maxRetryMs: 1 }), async () => (++calls < 6 ? Promise.reject(error('INTERNAL')) : 'ok'), { forever: true }), 'ok');
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const waiting = withRetry(retryPolicy({ initialRetryMs: 60_000, maxRetryMs: 60_000 }), async () => { throw error('UNAVAILABLE'); }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await assert.rejects(waiting, { name: 'AbortError' });
  });

  it('validates its options', () => {
    assert.deepEqual(retryPolicy(undefined), DEFAULT_RETRY);
    assert.throws(() => retryPolicy({ retries: -1 }), RangeError);
    assert.throws(() => retryPolicy({ maxRetryMs: Number.NaN }), RangeError);
  });
});

describe('HTTP transport', () => {
  function transport(fetch: FetchFunction, requestTimeoutMs = 1000) {
    return new HttpTransport({ endpoint: 'https://api.example/', apiKey: 'sluice_k', fetch, requestTimeoutMs });
  }

  it('sends the API key, the query and the body, and parses JSON', async () => {
    let seen: { url: string; init: RequestInit } | undefined;
    const http = transport(async (url, init) => {
      seen = { url, init };
      return new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
    });
    assert.deepEqual(await http.json('POST', '/v1/x', { json: { a: 1 }, query: { offset: 5n, skip: undefined, t: 'a b' } }), { ok: true });
    assert.equal(seen!.url, 'https://api.example/v1/x?offset=5&t=a%20b');
    const headers = seen!.init.headers as Record<string, string>;
    assert.equal(headers.authorization, 'Bearer sluice_k');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(seen!.init.body, '{"a":1}');
  });

  it('turns error bodies into typed errors with details and Retry-After', async () => {
    const http = transport(async () =>
      new Response(JSON.stringify({ error: { code: 'OFFSET_OUT_OF_RANGE', message: 'nope', startOffset: '3', endOffset: '9' } }), {
        status: 416,
        headers: { 'content-type': 'application/json', 'retry-after': '2' },
      }),
    );
    await assert.rejects(http.request('GET', '/v1/y'), (e: SluiceClientError) => {
      assert.equal(e.code, 'OFFSET_OUT_OF_RANGE');
      assert.equal(e.status, 416);
      assert.equal(e.retriable, false);
      assert.deepEqual(e.details, { startOffset: '3', endOffset: '9' });
      assert.equal(e.retryAfterSeconds, 2);
      return true;
    });
  });

  it('maps answers that are not the API’s by status: a proxy’s 503 page is retriable, a 404 page is not', async () => {
    await assert.rejects(transport(async () => new Response('<html>busy</html>', { status: 503 })).request('GET', '/'), { code: 'UNAVAILABLE', retriable: true });
    await assert.rejects(transport(async () => new Response('<html>gone</html>', { status: 404 })).request('GET', '/'), { code: 'HTTP_404', retriable: false });
  });

  it('reports network errors and timeouts as retriable, and aborts as aborts', async () => {
    await assert.rejects(transport(async () => { throw new TypeError('fetch failed'); }).request('GET', '/'), { code: 'NETWORK_ERROR', retriable: true });
    const hanging: FetchFunction = (_url, init) =>
      new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    await assert.rejects(transport(hanging, 20).request('GET', '/'), { code: 'REQUEST_TIMEOUT', retriable: true });
    const controller = new AbortController();
    const pending = transport(hanging, 60_000).request('GET', '/', { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
  });

  it('reads a presigned range with exactly its Range header and no API key', async () => {
    let headers: Record<string, string> = {};
    const http = transport(async (_url, init) => {
      headers = init.headers as Record<string, string>;
      return new Response(new Uint8Array(11), { status: 206 });
    });
    assert.equal((await http.getRange('https://bucket.s3/obj?X-Amz-Signature=s', { start: 100, end: 110 })).length, 11);
    assert.deepEqual(headers, { range: 'bytes=100-110' });
    const short = transport(async () => new Response(new Uint8Array(3), { status: 200 }));
    await assert.rejects(short.getRange('https://bucket.s3/obj', { start: 0, end: 9 }), { code: 'BAD_RESPONSE' });
    const denied = transport(async () => new Response('<Error>AccessDenied</Error>', { status: 403 }));
    await assert.rejects(denied.getRange('https://bucket.s3/obj?X-Amz-Signature=secret', { start: 0, end: 9 }), (e: Error) => {
      assert.ok(!e.message.includes('secret'), 'presigned query strings stay out of messages');
      return true;
    });
  });
});
