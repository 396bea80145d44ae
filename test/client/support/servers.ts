/** Servers for the client tests: the local server (fs + SQLite), and a memory one that cannot presign. */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys } from '../../../lib/auth/api-keys.ts';
import { createApp } from '../../../lib/http/app.ts';
import { DEFAULTS } from '../../../lib/defaults.ts';
import { Engine } from '../../../lib/log/engine.ts';
import { createNodeServer } from '../../../lib/server/node-http.ts';
import { startLocalServer, type LocalServer } from '../../../lib/server/local.ts';
import type { NotificationOptions } from '../../../lib/server/notifications.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../../lib/storage/memory.ts';

export const API_KEY = 'test-admin-key-0123456789';

export interface TestServer {
  readonly url: string;
  readonly engine: Engine;
  close(): Promise<void>;
}

/** startLocalServer in a fresh temporary folder; close() removes it. */
export async function localServer(options: { corsOrigins?: string[]; notifications?: NotificationOptions } = {}): Promise<TestServer & { local: LocalServer }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-client-'));
  // The AWS inline bound (4 KiB), not the local server's 64 KiB: these tests read batches of a few KiB
  // through presigned GETs of objects as well as inline, as clients of a deployment do.
  const local = await startLocalServer({
    dataDir: dir,
    port: 0,
    apiKey: API_KEY,
    corsOrigins: options.corsOrigins,
    notifications: options.notifications,
    engine: { inlineMaxBytes: DEFAULTS.inlineMaxBytes },
  });
  return {
    url: local.url,
    engine: local.engine,
    local,
    async close() {
      await local.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Memory stores whose object store cannot presign: the locations route answers 400. */
export async function serverWithoutPresign(): Promise<TestServer> {
  const metadata = new MemoryMetadataStore();
  const engine = new Engine({ objects: new MemoryObjectStore(), metadata });
  const keys = new ApiKeys(metadata);
  await keys.ensure(API_KEY, 'bootstrap');
  const server = createNodeServer(createApp({ engine, keys }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    engine,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
