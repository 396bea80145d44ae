/**
 * The embedded backend: the same engine and HTTP API as in AWS, on the local filesystem (objects) and
 * SQLite (metadata), in one folder that survives restarts.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApiKeys } from '../auth/api-keys.ts';
import { createApp } from '../http/app.ts';
import { withConsole } from './console-files.ts';
import type { StreamOptions } from '../http/routes/stream.ts';
import { NOTIFICATIONS_PATH, NotificationHub, type NotificationOptions } from './notifications.ts';
import { ObjectUrlSigner } from '../http/object-urls.ts';
import { Engine, type EngineOptions } from '../log/engine.ts';
import type { MaintenanceReport } from '../log/maintenance.ts';
import { FsObjectStore, type FsObjectStoreStats } from '../storage/fs-object-store.ts';
import { SqliteMetadataStore, type SqliteWriteStats } from '../storage/sqlite-metadata-store.ts';
import { closeNodeServer, createNodeServer, type RequestLogEntry } from './node-http.ts';
import { DEFAULTS } from '../defaults.ts';
import { Groups } from '../groups/groups.ts';
import { LOCAL_URL_POLICY } from '../push/config.ts';
import { PushConsumers } from '../push/consumers.ts';
import { LocalPush } from '../push/local.ts';
import { AesGcmSecretBox, localSecretKey } from '../push/secrets.ts';
import { targetFactory } from '../push/targets.ts';

export interface LocalServerOptions {
  readonly dataDir: string;
  /** @default 8787; 0 picks a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The bootstrap admin key. When absent and none exists yet, one is generated and returned once. */
  readonly apiKey?: string;
  readonly corsOrigins?: readonly string[];
  /** How often to run a maintenance pass (compaction, retention, cleanup); 0 turns the timer off. @default 60000 */
  readonly maintenanceIntervalMs?: number;
  readonly engine?: Partial<Omit<EngineOptions, 'objects' | 'metadata'>>;
  /**
   * Where the key that seals push consumers' secrets lives: a file of its own, apart from the SQLite
   * file (SLUICE_SECRET_KEY, base64, wins when set). @default <dataDir>/secret.key
   */
  readonly secretKeyFile?: string;
  /** Push consumers' dispatcher settings (tests shorten the session). */
  readonly push?: { readonly sessionTimeoutMs?: number };
  /** Where the request log (a line per request) and a line per maintenance pass go. @default nowhere */
  readonly log?: (line: string) => void;
  /** Live tails (SSE): heartbeat interval and longest stream. @default a comment every 15 s, no limit */
  readonly streams?: StreamOptions;
  /** The notification channel (a WebSocket at /v1/notifications). */
  readonly notifications?: NotificationOptions;
  /** How long close() lets running requests finish; long polls end at once. @default 10000 */
  readonly shutdownGraceMs?: number;
}

export interface LocalServer {
  readonly url: string;
  readonly engine: Engine;
  readonly keys: ApiKeys;
  /** Push consumers and their in-process dispatcher. */
  readonly push: LocalPush;
  /** The notification channel: ws://…/v1/notifications. */
  readonly notifications: NotificationHub;
  readonly notificationsUrl: string;
  /** Set only when this start generated the bootstrap admin key. */
  readonly generatedApiKey?: string;
  /** Storage work counted since start: SQLite write transactions, writes and WAL fsyncs; object file and directory fsyncs. */
  storageStats(): SqliteWriteStats & FsObjectStoreStats;
  /** Stops accepting requests, ends long polls, lets running requests finish, waits for a running maintenance pass, closes the store. */
  close(): Promise<void>;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  await mkdir(options.dataDir, { recursive: true });
  const metadata = new SqliteMetadataStore({ path: join(options.dataDir, 'metadata.sqlite') });
  let url = '';
  const signer = new ObjectUrlSigner({ baseUrl: () => url });
  const fsObjects = new FsObjectStore({ directory: join(options.dataDir, 'objects') });
  const objects = signer.wrap(fsObjects);
  const engine = new Engine({ inlineMaxBytes: DEFAULTS.localInlineMaxBytes, ...options.engine, objects, metadata });
  const keys = new ApiKeys(metadata);
  const groups = new Groups({ engine });
  const secrets = new AesGcmSecretBox(await localSecretKey(options.secretKeyFile ?? join(options.dataDir, 'secret.key')));
  let push: LocalPush | undefined;
  const consumers = new PushConsumers({ engine, groups, secrets, urlPolicy: LOCAL_URL_POLICY, onChange: (name) => push?.changed(name) });
  push = new LocalPush({ engine, groups, consumers, targets: targetFactory({ urlPolicy: LOCAL_URL_POLICY }), dispatcher: options.push });

  let generatedApiKey: string | undefined;
  if (options.apiKey) {
    await keys.ensure(options.apiKey, 'bootstrap');
  } else if (!(await keys.list()).some((key) => key.name === 'bootstrap')) {
    generatedApiKey = ApiKeys.generate();
    await keys.ensure(generatedApiKey, 'bootstrap');
  }

  const log = options.log;
  const notifications = new NotificationHub(engine, keys, options.notifications);
  const notificationsUrl = () => `${url.replace(/^http/, 'ws')}${NOTIFICATIONS_PATH}`;
  const app = createApp({ engine, keys, groups, consumers, objectUrls: signer, corsOrigins: options.corsOrigins, streams: options.streams, notificationsUrl });
  const server = createNodeServer(withConsole(app), { onResponse: log ? (entry) => log(requestLine(entry)) : undefined });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname === NOTIFICATIONS_PATH) return notifications.upgrade(req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve());
  });
  const stopMaintenance = scheduleMaintenance(engine, options.maintenanceIntervalMs ?? DEFAULTS.maintenanceIntervalMs, log);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;
  await push.start();

  return {
    url,
    engine,
    keys,
    push,
    notifications,
    notificationsUrl: notificationsUrl(),
    generatedApiKey,
    storageStats: () => ({ ...metadata.stats(), ...fsObjects.stats() }),
    async close() {
      notifications.close();
      await closeNodeServer(server, { graceMs: options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs });
      await stopMaintenance();
      await push.close();
      metadata.close();
    },
  };
}

/** `GET /v1/topics 200 3 ms`, after an ISO timestamp. */
export function requestLine(entry: RequestLogEntry): string {
  return `${new Date().toISOString()} ${entry.method} ${entry.path} ${entry.status} ${Math.round(entry.durationMs)} ms`;
}

/** What a maintenance pass did, in one line: the counts that are not zero. */
export function maintenanceLine(report: MaintenanceReport, durationMs: number): string {
  const done = [
    [report.segmentsWritten, 'segments written', `(${report.segmentBytes} bytes)`],
    [report.entriesCompacted, 'entries compacted'],
    [report.gapsClosed, 'gaps closed'],
    [report.entriesExpired, 'entries expired'],
    [report.objectsDeleted, 'objects deleted'],
    [report.leftoversDeleted, 'leftovers deleted'],
    [report.deletedTopicsPurged, 'deleted topics purged'],
    [report.expiredItemsDeleted, 'expired items deleted'],
  ]
    .filter(([count]) => Number(count) > 0)
    .map(([count, what, extra]) => `${count} ${what}${extra ? ` ${extra}` : ''}`);
  if (report.offsetsTrimmed !== '0') done.push(`${report.offsetsTrimmed} records trimmed by retention`);
  const errors = report.errors > 0 ? `; ${report.errors} errors (first: ${report.firstError})` : '';
  return `${new Date().toISOString()} maintenance: ${report.topics} topics, ${report.partitions} partitions: ${done.join(', ') || 'nothing to do'}${errors} (${Math.round(durationMs)} ms)`;
}

/** Runs a pass every interval, never two at once; returns a stop function that waits for a running pass. */
function scheduleMaintenance(engine: Engine, intervalMs: number, log: ((line: string) => void) | undefined): () => Promise<void> {
  if (intervalMs <= 0) return async () => {};
  let running: Promise<unknown> = Promise.resolve();
  const pass = async () => {
    const started = performance.now();
    try {
      const report = await engine.maintain();
      log?.(maintenanceLine(report, performance.now() - started));
    } catch (error) {
      console.error('sluice: maintenance pass failed', error);
    }
  };
  const timer = setInterval(() => {
    running = running.then(pass);
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
