/**
 * A loopback TCP proxy in front of a server whose connections a test can kill (a dropped network)
 * or freeze (a half-dead connection: nothing more reaches the client), and whose requests it can
 * read (the request line and headers of each connection's first bytes).
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  readonly url: string;
  /** The head (request line and headers) of each request seen, lower case. */
  readonly requests: string[];
  /** Destroys every open connection, both sides. */
  killAll(): void;
  /** Stops relaying the server's bytes on every open connection (new connections relay normally). */
  freezeAll(): void;
  readonly openConnections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const upstream = new URL(target);
  const pairs = new Set<{ client: Socket; server: Socket; frozen: boolean }>();
  const requests: string[] = [];
  const proxy = createServer((client) => {
    const server = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    const pair = { client, server, frozen: false };
    pairs.add(pair);
    let head = '';
    client.on('data', (chunk: Buffer) => {
      {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          requests.push(head.slice(0, end).toLowerCase());
          head = '';
        }
      }
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!pair.frozen) client.write(chunk);
    });
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('close', drop);
    server.on('close', drop);
    client.on('error', drop);
    server.on('error', drop);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  const killAll = () => {
    for (const { client, server } of [...pairs]) {
      client.destroy();
      server.destroy();
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    killAll,
    freezeAll() {
      for (const pair of pairs) pair.frozen = true;
    },
    get openConnections() {
      return pairs.size;
    },
    async close() {
      killAll();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
