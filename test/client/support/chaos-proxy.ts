/**
 * A loopback HTTP proxy in front of a Sluice server that fails requests the way a real network and a
 * real API gateway do:
 *
 *   unavailable     answers 503 UNAVAILABLE without forwarding (nothing happened)
 *   throttle        answers 429 THROTTLED without forwarding (nothing happened)
 *   drop-response   forwards, waits for the server's whole answer, then cuts the client's connection
 *                   (it happened, but the client cannot know: the ambiguous outcome)
 *   pass            forwards and relays the answer
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ChaosAction = 'pass' | 'unavailable' | 'throttle' | 'drop-response';

export interface ChaosProxy {
  readonly url: string;
  readonly counts: Record<ChaosAction, number>;
  /** The same, for produce requests only (POST .../records). */
  readonly produceCounts: Record<ChaosAction, number>;
  close(): Promise<void>;
}

import { seededRandom } from '../../support/random.ts';

export { seededRandom };

/** Fails each request at the given rates, chosen by a seeded PRNG. */
export function randomFaults(rates: Partial<Record<Exclude<ChaosAction, 'pass'>, number>>, seed = 7): (req: IncomingMessage) => ChaosAction {
  const random = seededRandom(seed);
  return () => {
    let r = random();
    for (const action of ['unavailable', 'throttle', 'drop-response'] as const) {
      const rate = rates[action] ?? 0;
      if (r < rate) return action;
      r -= rate;
    }
    return 'pass';
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startChaosProxy(target: string, decide: (req: IncomingMessage) => ChaosAction): Promise<ChaosProxy> {
  const upstream = new URL(target);
  const counts: Record<ChaosAction, number> = { pass: 0, unavailable: 0, throttle: 0, 'drop-response': 0 };
  const produceCounts: Record<ChaosAction, number> = { pass: 0, unavailable: 0, throttle: 0, 'drop-response': 0 };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const action = req.method === 'OPTIONS' ? 'pass' : decide(req);
    counts[action]++;
    if (req.method === 'POST' && req.url?.endsWith('/records')) produceCounts[action]++;
    if (action === 'unavailable' || action === 'throttle') {
      const [status, code] = action === 'unavailable' ? [503, 'UNAVAILABLE'] : [429, 'THROTTLED'];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code, message: `injected by the chaos proxy` } }));
      return;
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        if (action === 'drop-response') {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    res.on('close', () => forwarded.destroy());
    forwarded.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    produceCounts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
