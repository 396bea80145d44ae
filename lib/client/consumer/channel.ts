/**
 * The consumer's side of the notification channel (docs/api-v1.md "Live tail"): one WebSocket per
 * consumer to the URL that `GET /v1/health` names (`notifications`), so that partitions at the end of
 * the log wait for a message instead of a long poll. In AWS a waiting long poll bills the fetch
 * Lambda for the whole wait; an open API Gateway WebSocket bills connection-minutes ($0.25 per
 * million) and nothing runs while nothing is produced.
 *
 *   connect      GET /v1/health → new WebSocket(notifications) → {"action":"auth","apiKey"}
 *                → {"type":"authenticated"} → {"action":"subscribe","topics":[…]} → {"type":"subscribed"}
 *   notified     {"type":"append","topic","partition","highWatermark"} → onAppend
 *   keep-alive   the subscribe is sent again every keepAliveMs (API Gateway closes a connection idle
 *                for 10 minutes; a repeated subscribe is harmless by the protocol; a browser cannot
 *                send WebSocket pings)
 *   lost         close or error → every topic is unfollowed at once (the fetcher falls back to its
 *                shared long polls) → reconnect after a backoff (reconnectMinMs doubling to
 *                reconnectMaxMs, with jitter), reset by a subscribe that worked
 *   refused      UNAUTHORIZED: the channel is given up (long polls from then on); FORBIDDEN for a
 *                topic: that topic is never asked again, the others still are
 *
 * What was appended while the channel was not subscribed is not sent again: onSubscribed lets the
 * fetcher check its idle partitions once (a wait with maxWaitMs 0) after every subscribe.
 *
 * Hand-written rather than a library: the platform's WebSocket (browsers, Node ≥ 22) is the whole
 * transport; what is left is this small state machine.
 */
import type { ClientContext } from '../context.ts';

export interface ChannelOptions {
  /** Re-send the subscribe this often so that an idle connection is not closed (API Gateway: after 10 minutes). @default 540000 */
  readonly keepAliveMs?: number;
  /** First reconnect delay after a lost connection. @default 500 */
  readonly reconnectMinMs?: number;
  /** Longest reconnect delay. @default 30000 */
  readonly reconnectMaxMs?: number;
  /** A connection that is not authenticated within this time is dropped and tried again. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** The WebSocket constructor. @default globalThis.WebSocket */
  readonly WebSocket?: typeof WebSocket;
}

/** keepAliveMs: under API Gateway's 10-minute idle timeout for WebSocket connections. */
export const CHANNEL_DEFAULTS = { keepAliveMs: 540_000, reconnectMinMs: 500, reconnectMaxMs: 30_000, connectTimeoutMs: 10_000 } as const;

export interface ChannelHandlers {
  /** A partition's high watermark moved. */
  onAppend(topic: string, partition: number, highWatermark: bigint): void;
  /** These topics are followed from now on (after every subscribe, reconnects too). */
  onSubscribed(topics: readonly string[]): void;
  /** Nothing is followed any more (the connection was lost or closed). */
  onLost(): void;
}

export interface ChannelStats {
  /** Connections opened. */
  connects: number;
  /** Append messages received. */
  appends: number;
  /** Connections lost (not counting stop). */
  losses: number;
}

type ServerMessage =
  | { type: 'authenticated' }
  | { type: 'subscribed'; topics: string[] }
  | { type: 'append'; topic: string; partition: number; highWatermark: string }
  | { type: 'error'; code: string; message: string; topic?: string };

export class NotificationChannel {
  readonly #context: ClientContext;
  readonly #handlers: ChannelHandlers;
  readonly #options: Required<Omit<ChannelOptions, 'WebSocket'>>;
  readonly #WebSocket: typeof WebSocket | undefined;
  /** Topics the consumer wants followed. */
  readonly #wanted = new Set<string>();
  /** Topics the server confirmed on the current connection. */
  readonly #followed = new Set<string>();
  /** Topics the key may not consume: never asked again. */
  readonly #refused = new Set<string>();
  #url: string | undefined;
  #socket: WebSocket | undefined;
  #authenticated = false;
  #stopped = true;
  #givenUp = false;
  #failures = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  readonly stats: ChannelStats = { connects: 0, appends: 0, losses: 0 };

  constructor(context: ClientContext, handlers: ChannelHandlers, options: ChannelOptions = {}) {
    this.#context = context;
    this.#handlers = handlers;
    const { WebSocket: _constructor, ...timing } = options;
    this.#options = { ...CHANNEL_DEFAULTS, ...withoutUndefined(timing) };
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
  }

  /** Whether appends to this topic are being told (so its idle partitions need no long poll). */
  follows(topic: string): boolean {
    return this.#followed.has(topic);
  }

  /** Starts connecting (in the background: until it is subscribed, the fetcher long-polls). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (!this.#WebSocket) {
      this.#giveUp('this runtime has no WebSocket; idle partitions long-poll');
      return;
    }
    void this.#connect();
  }

  /** Asks to follow these topics too (sent at once when connected, else on the next connect). */
  want(topics: Iterable<string>): void {
    const added: string[] = [];
    for (const topic of topics) {
      if (this.#wanted.has(topic) || this.#refused.has(topic)) continue;
      this.#wanted.add(topic);
      added.push(topic);
    }
    if (added.length > 0 && this.#authenticated) this.#subscribe(added);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.#drop(1000, 'the consumer stopped');
  }

  async #connect(): Promise<void> {
    if (this.#stopped || this.#givenUp) return;
    try {
      if (this.#url === undefined) {
        const health = await this.#context.api.health();
        if (this.#stopped) return;
        if (!health.notifications) {
          this.#giveUp('the server names no notification channel; idle partitions long-poll');
          return;
        }
        this.#url = health.notifications;
      }
      const socket = new this.#WebSocket!(this.#url);
      this.#socket = socket;
      this.stats.connects++;
      this.#connectTimer = setTimeout(() => this.#lost(socket, 'not authenticated within the connect timeout'), this.#options.connectTimeoutMs);
      socket.onopen = () => socket.send(JSON.stringify({ action: 'auth', apiKey: this.#context.api.http.apiKey ?? '' }));
      socket.onmessage = (event) => this.#received(socket, event.data);
      socket.onclose = (event) => this.#lost(socket, `closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
      socket.onerror = () => this.#lost(socket, 'a connection error');
    } catch (error) {
      this.#context.logger.warn('the notification channel could not be reached; retrying', { error: String(error) });
      this.#scheduleReconnect();
    }
  }

  #received(socket: WebSocket, data: unknown): void {
    if (socket !== this.#socket || typeof data !== 'string') return;
    let message: ServerMessage;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not ours to fail on: a hint channel ignores what it cannot read
    }
    switch (message.type) {
      case 'authenticated':
        // the connection answers: no more connect timeout (a member with no partitions yet subscribes to nothing)
        clearTimeout(this.#connectTimer);
        this.#authenticated = true;
        if (this.#wanted.size > 0) this.#subscribe([...this.#wanted]);
        clearInterval(this.#keepAliveTimer);
        this.#keepAliveTimer = setInterval(() => {
          if (this.#followed.size > 0) this.#subscribe([...this.#followed]);
        }, this.#options.keepAliveMs);
        return;
      case 'subscribed': {
        this.#failures = 0; // the backoff starts over only once the channel works end to end
        const fresh = message.topics.filter((topic) => !this.#followed.has(topic));
        for (const topic of fresh) this.#followed.add(topic);
        if (fresh.length > 0) this.#handlers.onSubscribed(fresh);
        return;
      }
      case 'append':
        this.stats.appends++;
        if (this.#followed.has(message.topic)) this.#handlers.onAppend(message.topic, message.partition, BigInt(message.highWatermark));
        return;
      case 'error':
        if (message.code === 'UNAUTHORIZED') {
          this.#giveUp(`the notification channel refused the API key (${message.message}); idle partitions long-poll`);
        } else if (message.code === 'FORBIDDEN' && message.topic) {
          // all or nothing: nothing of that subscribe was followed; ask again without the refused topic
          this.#refused.add(message.topic);
          this.#wanted.delete(message.topic);
          this.#context.logger.warn('the notification channel refused a topic; its idle partitions long-poll', { topic: message.topic });
          const rest = [...this.#wanted].filter((topic) => !this.#followed.has(topic));
          if (rest.length > 0) this.#subscribe(rest);
        } else {
          this.#context.logger.warn('the notification channel answered an error', { code: message.code, message: message.message });
        }
        return;
    }
  }

  #subscribe(topics: readonly string[]): void {
    if (this.#socket?.readyState === 1) this.#socket.send(JSON.stringify({ action: 'subscribe', topics }));
  }

  #lost(socket: WebSocket, why: string): void {
    if (socket !== this.#socket) return;
    this.stats.losses++;
    this.#context.logger.info('the notification channel was lost; idle partitions long-poll until it is back', { why });
    this.#drop(4000, why);
    this.#scheduleReconnect();
  }

  /** Closes the current connection, if any, and tells the fetcher that nothing is followed. */
  #drop(code: number, reason: string): void {
    clearTimeout(this.#connectTimer);
    clearInterval(this.#keepAliveTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    this.#authenticated = false;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(code, reason.slice(0, 120));
      } catch {
        // already closed
      }
    }
    if (this.#followed.size > 0) {
      this.#followed.clear();
      this.#handlers.onLost();
    }
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#givenUp) return;
    const ceiling = Math.min(this.#options.reconnectMaxMs, this.#options.reconnectMinMs * 2 ** this.#failures);
    this.#failures++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => void this.#connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  #giveUp(why: string): void {
    this.#givenUp = true;
    this.#context.logger.info(why);
    this.#drop(1000, 'given up');
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
