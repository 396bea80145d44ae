/**
 * createNodeServer's request signal: aborted when the client leaves before its answer (a long poll
 * ends at once), left alone once the answer is sent (nothing listens; aborting only cost an
 * AbortError per request).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { closeNodeServer, createNodeServer } from '../../lib/server/node-http.ts';
import { waitFor } from '../client/support/wait.ts';

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
