/**
 * The notification channel of the local server (docs/api-v1.md "Live tail"): a WebSocket at
 * /v1/notifications that tells subscribed clients when a partition's high watermark moves, so an
 * idle consumer fetches when told instead of long-polling. The first message authenticates with an
 * API key (browsers cannot set headers on a WebSocket), subscriptions are checked against the key's
 * consume scope per topic, and appends come from the engine's append hook (the local form of the
 * DynamoDB Streams trigger), coalesced: a burst of appends to one partition within coalesceMs reads
 * the head once and sends one message per subscriber, with the latest high watermark. The protocol
 * (messages, validation, scope checks) is lib/notifications/protocol.ts, shared with AWS.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiKeys, Principal } from '../auth/api-keys.ts';
import { SluiceError } from '../errors.ts';
import type { Engine, WaitTimers } from '../log/engine.ts';
import {
  appendMessage,
  authenticate,
  AUTHENTICATED_MESSAGE,
  checkSubscription,
  errorMessage,
  MAX_CLIENT_MESSAGE_BYTES,
  NOTIFICATIONS_PATH,
  parseClientMessage,
  REVOKED_KEY_MESSAGE,
  checkStillLive,
  subscribedMessage,
} from '../notifications/protocol.ts';
import { acceptWebSocket, CLOSE, type ServerWebSocket } from './websocket.ts';

export { NOTIFICATIONS_PATH };

export interface NotificationOptions {
  /** Appends to one partition within this window make one notification. @default 10 */
  readonly coalesceMs?: number;
  /** A connection must authenticate within this time. @default 10000 */
  readonly authTimeoutMs?: number;
  /** Pings to find dead connections. @default 30000 */
  readonly pingIntervalMs?: number;
  /** The coalescing timer (tests hold it to see a burst become one notification). @default globalThis */
  readonly timers?: WaitTimers;
}

const GLOBAL_TIMERS: WaitTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Connection {
  readonly ws: ServerWebSocket;
  principal?: Principal;
  /** Subscribed topics, by topic id (an append names the partition by id). */
  readonly topics: Map<string, string>;
  authTimer?: NodeJS.Timeout;
}

export class NotificationHub {
  readonly #engine: Engine;
  readonly #keys: ApiKeys;
  readonly #coalesceMs: number;
  readonly #authTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #connections = new Set<Connection>();
  /** Partitions with appends waiting for their notification, by partition key. */
  readonly #pending = new Map<string, { topicId: string; partition: number }>();
  #flushTimer?: unknown;
  readonly #timers: WaitTimers;
  readonly #unsubscribe: () => void;
  /** Notifications sent (one per subscriber per coalesced burst), for tests and the bench. */
  sent = 0;

  constructor(engine: Engine, keys: ApiKeys, options: NotificationOptions = {}) {
    this.#engine = engine;
    this.#keys = keys;
    this.#coalesceMs = options.coalesceMs ?? 10;
    this.#authTimeoutMs = options.authTimeoutMs ?? 10_000;
    this.#pingIntervalMs = options.pingIntervalMs ?? 30_000;
    this.#timers = options.timers ?? GLOBAL_TIMERS;
    this.#unsubscribe = engine.onAppend((pk) => this.#appended(pk));
  }

  get connections(): number {
    return this.#connections.size;
  }

  /** Topic subscriptions over all connections. */
  get subscriptions(): number {
    let n = 0;
    for (const connection of this.#connections) n += connection.topics.size;
    return n;
  }

  /** The server's 'upgrade' event for NOTIFICATIONS_PATH. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ws = acceptWebSocket(req, socket, head, { maxMessageBytes: MAX_CLIENT_MESSAGE_BYTES, pingIntervalMs: this.#pingIntervalMs });
    if (!ws) return;
    const connection: Connection = { ws, topics: new Map() };
    this.#connections.add(connection);
    connection.authTimer = setTimeout(() => {
      this.#refuse(connection, new SluiceError('UNAUTHORIZED', `authenticate within ${this.#authTimeoutMs} ms: {"action": "auth", "apiKey": "<key>"}`));
      ws.close(CLOSE.policy, 'not authenticated');
    }, this.#authTimeoutMs);
    ws.onClose = () => {
      clearTimeout(connection.authTimer);
      this.#connections.delete(connection);
    };
    ws.onMessage = (text) => {
      this.#message(connection, text).catch((error: unknown) => this.#refuse(connection, error));
    };
  }

  /** Closes every connection but keeps accepting new ones (clients reconnect): for a restart drill, or after revoking keys. */
  dropConnections(): void {
    for (const connection of [...this.#connections]) connection.ws.close(CLOSE.goingAway, 'connections dropped');
  }

  /** Closes every connection and stops listening to appends. */
  close(): void {
    this.#unsubscribe();
    if (this.#flushTimer !== undefined) this.#timers.clearTimeout(this.#flushTimer);
    for (const connection of [...this.#connections]) connection.ws.close(CLOSE.goingAway, 'the server is shutting down');
  }

  async #message(connection: Connection, text: string): Promise<void> {
    const message = parseClientMessage(text);
    if (message.action === 'auth') {
      let principal: Principal;
      try {
        principal = await authenticate(this.#keys, message.apiKey);
      } catch (error) {
        this.#refuse(connection, error);
        connection.ws.close(CLOSE.policy, 'unauthorized');
        return;
      }
      clearTimeout(connection.authTimer);
      connection.principal = principal;
      connection.ws.send(AUTHENTICATED_MESSAGE);
      return;
    }
    await checkStillLive(this.#keys, connection.principal);
    const names = checkSubscription(connection.principal, message.topics, connection.topics.values());
    const resolved = await Promise.all(names.map(async (name) => ({ name, id: (await this.#engine.topics.get(name)).id })));
    for (const { name, id } of resolved) connection.topics.set(id, name);
    connection.ws.send(subscribedMessage(names));
  }

  #refuse(connection: Connection, error: unknown): void {
    const { text, unexpected } = errorMessage(error);
    if (unexpected) console.error('sluice: notification channel error', error);
    connection.ws.send(text);
  }

  #appended(pk: string): void {
    // p#<topicId>#<partition> (lib/log/layout.ts partitionPk)
    const match = /^p#(.+)#(\d+)$/.exec(pk);
    if (!match || this.#connections.size === 0) return;
    this.#pending.set(pk, { topicId: match[1], partition: Number(match[2]) });
    this.#flushTimer ??= this.#timers.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush().catch((error: unknown) => console.error('sluice: notifications failed', error));
    }, this.#coalesceMs);
  }

  async #flush(): Promise<void> {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    await Promise.all(
      pending.map(async ({ topicId, partition }) => {
        const subscribers = [...this.#connections].filter((c) => c.topics.has(topicId));
        if (subscribers.length === 0) return;
        const topic = subscribers[0].topics.get(topicId)!;
        let highWatermark: bigint;
        try {
          highWatermark = (await this.#engine.partitionState(topic, partition)).endOffset;
        } catch {
          return; // the topic was deleted meanwhile
        }
        const text = appendMessage(topic, partition, highWatermark);
        // A key revoked since it authenticated (checked once per key, cached by ApiKeys) ends its connections.
        const keyIds = [...new Set(subscribers.map((connection) => connection.principal!.keyId))];
        const live = new Map(await Promise.all(keyIds.map(async (keyId) => [keyId, await this.#keys.isLive(keyId)] as const)));
        for (const connection of subscribers) {
          if (connection.ws.closed) continue;
          if (!live.get(connection.principal!.keyId)) {
            this.#refuse(connection, new SluiceError('UNAUTHORIZED', REVOKED_KEY_MESSAGE));
            connection.ws.close(CLOSE.policy, 'API key revoked');
            continue;
          }
          connection.ws.send(text);
          this.sent++;
        }
      }),
    );
  }
}
