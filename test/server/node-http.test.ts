/**
 * createNodeServer's request bodies: the same bytes whether the length is declared (read into one
 * buffer as chunks arrive) or the body comes chunked, however the client splits its writes; over the
 * limit, 413 either way.
 *
 * createNodeServer's refusals on the head (HttpHandler.admit): the body is dropped as it comes, never
 * held, the client (still sending) reads the answer, the connection stays usable, and one that
 * sends more than any request may carry is cut off; a client that asks `Expect: 100-continue` gets
 * "100 Continue" only when it is let through.
 *
 * createNodeServer's request signal: aborted when the client leaves before its answer (a long poll
 * ends at once), left alone once the answer is sent (nothing listens; aborting only cost an
 * AbortError per request).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { LIMITS } from '../../lib/defaults.ts';
import type { Admission, HttpHandler, HttpRequest } from '../../lib/http/types.ts';
import { closeNodeServer, createNodeServer } from '../../lib/server/node-http.ts';
import { waitFor } from '../client/support/wait.ts';

/** A server of `handler` on a free loopback port, counting the body bytes it reads and noting closed sockets. */
async function listening(handler: HttpHandler) {
  const server = createNodeServer(handler);
  const seen = { received: 0, socketClosed: false };
  server.prependListener('request', (req: IncomingMessage) => {
    req.on('data', (chunk: Buffer) => (seen.received += chunk.length));
    req.socket.on('close', () => (seen.socketClosed = true));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** The sizes of Buffer.allocUnsafe calls of at least `minBytes`, until restore(). */
function spyAllocations(minBytes: number): { allocations: number[]; restore: () => void } {
  const allocations: number[] = [];
  const allocUnsafe = Buffer.allocUnsafe;
  Buffer.allocUnsafe = (size: number) => {
    if (size >= minBytes) allocations.push(size);
    return allocUnsafe(size);
  };
  return { allocations, restore: () => void (Buffer.allocUnsafe = allocUnsafe) };
}

describe('node-http request signal', () => {
  it('aborts when the client leaves mid-request, not after an answer', async () => {
    const signals: AbortSignal[] = [];
    const server = createNodeServer(async (req) => {
      signals.push(req.signal!);
      if (req.path === '/hold') {
        // a long poll: answers when its signal aborts
        await new Promise<void>((resolve) => req.signal!.addEventListener('abort', () => resolve(), { once: true }));
      }
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      for (let i = 0; i < 3; i++) {
        const text = await new Promise<string>((resolve, reject) => {
          request({ port, host: '127.0.0.1', path: '/quick' }, (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve(body));
          }).on('error', reject).end();
        });
        assert.equal(text, 'ok');
      }
      // the server has seen each response close by the time the next request is answered
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(signals.map((s) => s.aborted), [false, false, false], 'answered requests are not aborted');

      const held = request({ port, host: '127.0.0.1', path: '/hold' });
      held.on('error', () => {});
      held.end();
      await waitFor(() => signals.length === 4, 'the held request reaches the handler');
      held.destroy();
      await waitFor(() => signals[3].aborted, 'the signal of a request whose client left aborts');
    } finally {
      await closeNodeServer(server, { graceMs: 1000 });
    }
  });
});

describe('node-http request bodies', () => {
  const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

  async function post(port: number, pieces: readonly Uint8Array[], declare: boolean): Promise<{ status: number; text: string }> {
    const length = pieces.reduce((n, p) => n + p.length, 0);
    return new Promise((resolve, reject) => {
      const req = request(
        { port, host: '127.0.0.1', path: '/echo', method: 'POST', headers: declare ? { 'content-length': String(length) } : { 'transfer-encoding': 'chunked' } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on('error', reject);
      // written piece by piece, each on its own turn, so the server sees them as separate chunks
      const write = (i: number): void => {
        if (i === pieces.length) return void req.end();
        req.write(pieces[i], () => setImmediate(() => write(i + 1)));
      };
      write(0);
    });
  }

  it('reads declared and chunked bodies to the same bytes, and refuses one over the limit', async () => {
    const server = createNodeServer(async (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: `${req.body.length} ${digest(req.body)}` }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const whole = randomBytes(300_000);
      const pieces = [whole.subarray(0, 1), whole.subarray(1, 70_000), whole.subarray(70_000, 70_001), whole.subarray(70_001)];
      const expected = `${whole.length} ${digest(whole)}`;
      assert.deepEqual(await post(port, pieces, true), { status: 200, text: expected });
      assert.deepEqual(await post(port, pieces, false), { status: 200, text: expected });
      assert.deepEqual(await post(port, [whole], true), { status: 200, text: expected });
      // a first chunk past a quarter of the body, then more; and a quarter reached only at the last chunk
      const halves = [whole.subarray(0, 100_000), whole.subarray(100_000, 200_000), whole.subarray(200_000)];
      assert.deepEqual(await post(port, halves, true), { status: 200, text: expected });
      const late = [whole.subarray(0, 10), whole.subarray(10, 20), whole.subarray(20)];
      assert.deepEqual(await post(port, late, true), { status: 200, text: expected });
      assert.deepEqual(await post(port, [], true), { status: 200, text: `0 ${digest(new Uint8Array(0))}` });

      const over = new Uint8Array(LIMITS.maxRequestBytes + 1);
      for (const declare of [true, false]) {
        // answered before the rest is read: the response ends the exchange while the client still writes
        const answer = await post(port, [over.subarray(0, LIMITS.maxRequestBytes), over.subarray(LIMITS.maxRequestBytes)], declare);
        assert.equal(answer.status, 413, `over the limit (${declare ? 'declared' : 'chunked'}): ${answer.text}`);
        assert.match(answer.text, /PAYLOAD_TOO_LARGE/);
      }
    } finally {
      await closeNodeServer(server, { graceMs: 1000 });
    }
  });

  it('allocates nothing for a declared length until a quarter of the body has arrived', async () => {
    // A body is read before the key is checked again, and some routes refuse the body itself: headers alone must not cost memory.
    const { server, port, seen } = await listening(async (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: `${req.body.length} ${digest(req.body)}` }));
    const declared = LIMITS.maxRequestBytes;
    const { allocations, restore } = spyAllocations(declared);
    const body = randomBytes(declared);
    const req = request({ port, host: '127.0.0.1', path: '/echo', method: 'POST', headers: { 'content-length': String(declared) } });
    try {
      const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
      });
      answered.catch(() => {}); // when an assertion below fails first, the finally's destroy() rejects it unawaited
      req.write(body.subarray(0, 1024));
      await waitFor(() => seen.received >= 1024, 'the server has the first KiB', 10_000);
      assert.deepEqual(allocations, [], 'headers and 1 KiB of a 5 MiB body: no body buffer yet');
      const quarter = declared / 4;
      req.write(body.subarray(1024, quarter));
      await waitFor(() => seen.received >= quarter, 'the server has a quarter', 10_000);
      assert.deepEqual(allocations, [declared], 'one buffer of the declared length once a quarter is in');
      req.end(body.subarray(quarter));
      assert.deepEqual(await answered, { status: 200, text: `${declared} ${digest(body)}` });
      assert.deepEqual(allocations, [declared], 'and no other');
    } finally {
      restore();
      req.destroy();
      await closeNodeServer(server, { graceMs: 1000 });
    }
  });
});

describe('node-http refusals before the body', () => {
  /** Serves bodies back as their digest, and refuses on the head any request without `authorization: good`. */
  function guarded(served: HttpRequest[]): HttpHandler {
    const handle = async (req: HttpRequest) => {
      served.push(req);
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: `${req.body.length}` };
    };
    const admit = async (head: Omit<HttpRequest, 'body'>): Promise<Admission> => {
      if (head.path === '/no-body') return { body: 'drop' };
      return head.headers.authorization === 'good' ? { body: 'read' } : { refusal: { status: 401, headers: { 'content-type': 'text/plain' }, body: 'refused' } };
    };
    return Object.assign(handle, { admit });
  }

  function answer(req: ClientRequest): Promise<{ status: number; text: string; reused: boolean }> {
    return new Promise((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
  }

  it('drops a refused body as it comes, answers the client that is still sending, and keeps the connection', async () => {
    const served: HttpRequest[] = [];
    const { server, port, seen } = await listening(guarded(served));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const declared = LIMITS.maxRequestBytes;
    const { allocations, restore } = spyAllocations(64 * 1024);
    const body = randomBytes(declared);
    try {
      const refusedReq = request({ agent, port, host: '127.0.0.1', path: '/x', method: 'POST', headers: { 'content-length': String(declared), authorization: 'bad' } });
      const refused = answer(refusedReq);
      refused.catch(() => {}); // awaited below; an earlier failure must not leave it unhandled
      // in pieces, so that most of the body reaches the server after its answer has gone out
      for (let at = 0; at < declared; at += 256 * 1024) {
        await new Promise<void>((resolve) => refusedReq.write(body.subarray(at, at + 256 * 1024), () => resolve()));
      }
      refusedReq.end();
      assert.deepEqual({ ...(await refused), reused: false }, { status: 401, text: 'refused', reused: false });
      await waitFor(() => seen.received === declared, 'the server read (and dropped) the whole refused body', 10_000);
      assert.deepEqual(allocations, [], 'no buffer for the refused body');
      assert.equal(served.length, 0, 'the handler never saw the refused request');

      const accepted = request({ agent, port, host: '127.0.0.1', path: '/x', method: 'POST', headers: { 'content-length': '3', authorization: 'good' } });
      const answered = answer(accepted);
      accepted.end('abc');
      assert.deepEqual(await answered, { status: 200, text: '3', reused: true }, 'the next request on the same connection is served');
    } finally {
      restore();
      agent.destroy();
      await closeNodeServer(server, { graceMs: 1000 });
    }
  });

  it('sends "100 Continue" only to a request it lets through, so a refused client never sends its body', async () => {
    const served: HttpRequest[] = [];
    const { server, port } = await listening(guarded(served));
    const body = randomBytes(1024 * 1024);
    const send = (authorization: string) => {
      const req = request({ port, host: '127.0.0.1', path: '/x', method: 'POST', headers: { 'content-length': String(body.length), expect: '100-continue', authorization } });
      let continued = false;
      // the body goes only after "100 Continue", as curl and node:http clients do
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      return answer(req).then((result) => ({ status: result.status, text: result.text, continued }));
    };
    try {
      assert.deepEqual(await send('bad'), { status: 401, text: 'refused', continued: false });
      assert.equal(served.length, 0);
      assert.deepEqual(await send('good'), { status: 200, text: String(body.length), continued: true });
      assert.equal(served.length, 1);
    } finally {
      await closeNodeServer(server, { graceMs: 1000 });
    }
  });

  it('drops the body of a request to a route that takes none, and serves it with an empty one', async () => {
    const served: HttpRequest[] = [];
    const { server, port, seen } = await listening(guarded(served));
    const { allocations, restore } = spyAllocations(64 * 1024);
    const body = randomBytes(2 * 1024 * 1024);
    try {
      const req = request({ port, host: '127.0.0.1', path: '/no-body', method: 'POST', headers: { 'content-length': String(body.length) } });
      const answered = answer(req);
      req.end(body);
      assert.deepEqual((await answered).status, 200);
      assert.deepEqual(served.map((r) => r.body.length), [0], 'served with an empty body');
      await waitFor(() => seen.received === body.length, 'the server read (and dropped) the body', 10_000);
      assert.deepEqual(allocations, [], 'no buffer for it');
    } finally {
      restore();
      await closeNodeServer(server, { graceMs: 1000 });
    }
  });

  it('cuts off a refused body past the request limit', async () => {
    const { server, port, seen } = await listening(guarded([]));
    // chunked: no declared length to refuse up front, and it would never end
    const req = request({ port, host: '127.0.0.1', path: '/x', method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
    req.on('error', () => {}); // the server drops the connection under it
    const piece = new Uint8Array(64 * 1024);
    let stopped = false;
    const pump = (): void => {
      if (stopped || req.destroyed) return;
      req.write(piece, () => setImmediate(pump));
    };
    try {
      pump();
      await waitFor(() => seen.socketClosed, 'the server closes the connection', 20_000);
      assert.ok(seen.received > LIMITS.maxRequestBytes, `read ${seen.received} bytes, past the limit`);
      assert.ok(seen.received <= LIMITS.maxRequestBytes + 1024 * 1024, `and not much further: ${seen.received}`);
    } finally {
      stopped = true;
      req.destroy();
      await closeNodeServer(server, { graceMs: 1000 });
    }
  });
});
