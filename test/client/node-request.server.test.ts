/**
 * The Node client's node:http exchange (lib/client/network/node-request.ts) against loopback servers:
 * what it sends and reads, keep-alive, dropped connections, timeouts and aborts through HttpTransport,
 * and which exchange a Sluice client picks (node:http without a `fetch` option, the user's fetch with one).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Sluice } from '../../lib/client/index.ts';
import { HttpTransport } from '../../lib/client/network/http.ts';
import { nodeRequest } from '../../lib/client/network/node-request.ts';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

describe('node:http exchange', () => {
  let server: Server;
  let url: string;
  let handler: Handler = (_req, _body, res) => res.end();
  const sockets = new Set<Socket>();
  let connections = 0;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => handler(req, Buffer.concat(chunks), res));
    });
    server.on('connection', (socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const signal = () => new AbortController().signal;

  it('sends method, headers and body with its length, and reads status, headers and every byte', async () => {
    let seen: { method?: string; headers: IncomingMessage['headers']; body: Buffer } | undefined;
    handler = (req, body, res) => {
      seen = { method: req.method, headers: req.headers, body };
      res.writeHead(201, 'Made', { 'content-type': 'application/x-test', 'x-two': ['a', 'b'] });
      res.end(Buffer.from([1, 2, 3, 250]));
    };
    const body = new Uint8Array([9, 8, 7, 6, 5]);
    const answer = await nodeRequest(`${url}/v1/x?y=1`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', authorization: 'Bearer k' }, body, signal: signal() });
    assert.equal(seen!.method, 'POST');
    assert.equal(seen!.headers['content-length'], '5');
    assert.equal(seen!.headers.authorization, 'Bearer k');
    assert.equal(seen!.headers['accept-encoding'], undefined, 'no compressed answers asked for');
    assert.deepEqual([...seen!.body], [9, 8, 7, 6, 5]);
    assert.equal(answer.status, 201);
    assert.equal(answer.statusText, 'Made');
    assert.equal(answer.headers.get('Content-Type'), 'application/x-test');
    assert.equal(answer.headers.get('x-two'), 'a, b');
    assert.equal(answer.headers.get('x-missing'), null);
    assert.equal(answer.bytes.constructor, Uint8Array, 'a plain Uint8Array, as fetch gave');
    assert.deepEqual([...answer.bytes], [1, 2, 3, 250]);
  });

  it('sends a string body as UTF-8 with its byte length', async () => {
    let received = '';
    let length: string | undefined;
    handler = (req, body, res) => {
      received = body.toString('utf8');
      length = req.headers['content-length'];
      res.end();
    };
    await nodeRequest(url, { method: 'PUT', headers: {}, body: '{"k":"ü"}', signal: signal() });
    assert.equal(received, '{"k":"ü"}');
    assert.equal(length, String(Buffer.byteLength('{"k":"ü"}')));
  });

  it('reads answers without a length (chunked) and large ones in many chunks, byte for byte', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    handler = (req, _body, res) => {
      if (req.url === '/chunked') {
        res.write(big.subarray(0, 1000));
        res.write(big.subarray(1000, 70_000));
        res.end(big.subarray(70_000));
      } else {
        res.setHeader('content-length', big.length);
        res.end(big);
      }
    };
    for (const path of ['/chunked', '/sized']) {
      const answer = await nodeRequest(url + path, { method: 'GET', headers: {}, signal: signal() });
      assert.equal(answer.bytes.length, big.length, path);
      assert.ok(Buffer.from(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.length).equals(big), path);
    }
    handler = (_req, _body, res) => res.end();
    const empty = await nodeRequest(url, { method: 'GET', headers: {}, signal: signal() });
    assert.equal(empty.bytes.length, 0);
  });

  it('keeps the connection open between requests', async () => {
    handler = (_req, _body, res) => res.end('ok');
    await nodeRequest(url, { method: 'GET', headers: {}, signal: signal() });
    const before = connections;
    for (let i = 0; i < 5; i++) await nodeRequest(url, { method: 'GET', headers: {}, signal: signal() });
    assert.equal(connections, before, 'five sequential requests on the open connection');
  });

  it('turns a connection dropped mid-answer into a retriable network error, not a short body', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(10));
      setImmediate(() => res.socket?.destroy());
    };
    // The timeout only bounds the test if the drop went unnoticed (it would then fail as REQUEST_TIMEOUT).
    const http = new HttpTransport({ endpoint: url, requestTimeoutMs: 10_000, request: nodeRequest });
    await assert.rejects(http.request('GET', '/v1/drop'), { code: 'NETWORK_ERROR', retriable: true });
  });

  it('times out a request the server never answers, and honours the caller’s abort', async () => {
    const held: ServerResponse[] = [];
    handler = (_req, _body, res) => void held.push(res);
    const fast = new HttpTransport({ endpoint: url, requestTimeoutMs: 30, request: nodeRequest });
    await assert.rejects(fast.request('GET', '/v1/hang'), { code: 'REQUEST_TIMEOUT', retriable: true });
    const slow = new HttpTransport({ endpoint: url, requestTimeoutMs: 60_000, request: nodeRequest });
    const controller = new AbortController();
    const pending = slow.request('GET', '/v1/hang', { signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(pending, { name: 'AbortError' });
    // headers and part of the body, then nothing: the timeout still ends the wait for the rest
    handler = (_req, _body, res) => {
      held.push(res);
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(10));
    };
    await assert.rejects(fast.request('GET', '/v1/half'), { code: 'REQUEST_TIMEOUT', retriable: true });
    for (const res of held) res.destroy();
  });

  it('reports a refused connection as a retriable network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const http = new HttpTransport({ endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 60_000, request: nodeRequest });
    await assert.rejects(http.request('GET', '/v1/x'), { code: 'NETWORK_ERROR', retriable: true });
  });

  it('is what the Node client uses without a fetch option; a fetch option takes over every request', async () => {
    let served = 0;
    handler = (_req, _body, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"topics":[]}');
    };
    const globalFetch = globalThis.fetch;
    let globalCalls = 0;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      globalCalls++;
      return globalFetch(...args);
    }) as typeof fetch;
    try {
      assert.deepEqual(await new Sluice({ endpoint: url, apiKey: 'sluice_k' }).admin().listTopics(), []);
      assert.equal(served, 1);
      assert.equal(globalCalls, 0, 'node:http, not the global fetch');
      let userCalls = 0;
      const withFetch = new Sluice({ endpoint: url, apiKey: 'sluice_k', fetch: (input, init) => (userCalls++, globalFetch(input, init)) });
      assert.deepEqual(await withFetch.admin().listTopics(), []);
      assert.equal(userCalls, 1);
      assert.equal(served, 2);
    } finally {
      globalThis.fetch = globalFetch;
    }
  });
});
