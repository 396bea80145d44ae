/**
 * Append hints from the produce function: after a produce's log entries are written and before it
 * answers, the function posts the notification channel's `append` message to the topic's subscribed
 * connections itself, instead of leaving it all to the stream handler's notifier (DynamoDB Streams →
 * Lambda's shard poll → notifier → PostToConnection, ≈ 325 ms p50 before the consumer even reads).
 * The notifier stays as the fallback: it posts the same message a moment later, so a hint this path
 * drops (deadline, throttling, a container that just started) still arrives, and it is the one that
 * deletes the items of connections that are gone.
 *
 * Costs, kept off a produce that nobody listens to:
 *   lookup     the topic's subscribers (one Query of wst#<topicId>), started alongside the append and
 *              cached per container for subscriberCacheMs (1 s, see APPEND_HINT_DEFAULTS): a produce to a
 *              topic without subscribers costs at most that cached Query, and nothing is posted. Once the
 *              list arrives, whether each subscriber's key is still live is asked too (ApiKeys.isLive, one
 *              GetItem per key not in its 10 s cache), so a cold key costs the hint no wait after the commit.
 *   posts      one message per partition of the request (its new end: baseOffset + recordCount, which
 *              is the high watermark once the writes below it are in) per subscriber, all in parallel.
 *   deadline   the answer waits for the lookup and the posts at most deadlineMs after the commit; what
 *              is still in flight then is aborted and left to the notifier. A failure is logged and
 *              never fails the produce: the records are durable, the hint is only a wake-up.
 *
 * A duplicate (this hint, then the notifier's) is harmless: the consumer ignores a hint at or below
 * what it has read (lib/client/consumer/fetcher.ts). A 410 here drops the connection from this
 * container's cache and writes nothing: the produce function never deletes (lib/cdk/access.ts); the
 * notifier gets its own 410 for the same connection and deletes its items.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { WaitTimers } from '../log/engine.ts';
import type { AppendResult } from '../log/produce.ts';
import type { Topic } from '../log/topics.ts';
import type { AppendHintOutcome, AppendHints } from '../http/routes/produce.ts';
import type { ChannelConnections, TopicSubscriber } from '../notifications/connections.ts';
import { appendMessage } from '../notifications/protocol.ts';
import { optionalInteger } from './aws-app.ts';
import { managementApiPoster, postToSubscribers, type KeyLiveness, type PostToConnection } from './notifications.ts';

export const APPEND_HINT_DEFAULTS = {
  /**
   * A topic's subscriber list is reused this long per container. A new subscriber is told by this path
   * at most 1 s after it subscribed (until then by the notifier, and its post-subscribe check finds
   * what came before); a busy container queries at most once a second per topic, whatever the produce
   * rate (≤ 2.6 million Queries a month per container and topic, 1 read unit each: ≤ $0.32).
   */
  subscriberCacheMs: 1_000,
  /**
   * The longest a produce answer waits for its hints, after its log entries are written. The modeled
   * produce ack without a key is p99 70 ms (README, small requests) and its goal p99 100 ms: 30 ms is
   * the room left. A post slower than that (PostToConnection is assumed p50 15 ms, p99 60 ms) is
   * abandoned and its consumer is told by the notifier.
   */
  deadlineMs: 30,
} as const;

export interface AppendHintOptions {
  readonly connections: ChannelConnections;
  readonly post: PostToConnection;
  /** @default APPEND_HINT_DEFAULTS.subscriberCacheMs */
  readonly subscriberCacheMs?: number;
  /** @default APPEND_HINT_DEFAULTS.deadlineMs */
  readonly deadlineMs?: number;
  readonly now?: () => number;
  /** The deadline's timer (tests hold it). @default globalThis */
  readonly timers?: WaitTimers;
  readonly logError?: (message: string, error: unknown) => void;
  /** Connections whose key was revoked are told nothing (and this container forgets them). @default every key is live */
  readonly isLive?: KeyLiveness;
}

/** What the hints did in this container, for tests and logs. */
export interface AppendHintStats {
  /** Subscriber Queries made (cache misses). */
  lookups: number;
  /** Messages posted (one per partition per subscriber). */
  posted: number;
  /** Produces whose hints were cut off by the deadline. */
  late: number;
  /** Posts answered 410 Gone (the connection is dropped from this container's cache). */
  gone: number;
}

interface CachedSubscribers {
  readonly until: number;
  subscribers: Promise<readonly TopicSubscriber[]>;
  /**
   * Whether each subscriber's key is live, asked as soon as the list arrives (while the append is
   * still being written), so the hint after the commit does not wait for a cold key's read.
   */
  readonly liveness: Map<string, Promise<boolean>>;
}

const GLOBAL_TIMERS: WaitTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class ProduceAppendHints implements AppendHints {
  readonly #options: AppendHintOptions;
  readonly #now: () => number;
  readonly #timers: WaitTimers;
  readonly #cacheMs: number;
  readonly #deadlineMs: number;
  readonly #logError: (message: string, error: unknown) => void;
  readonly #cache = new Map<string, CachedSubscribers>();
  readonly stats: AppendHintStats = { lookups: 0, posted: 0, late: 0, gone: 0 };

  constructor(options: AppendHintOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? GLOBAL_TIMERS;
    this.#cacheMs = options.subscriberCacheMs ?? APPEND_HINT_DEFAULTS.subscriberCacheMs;
    this.#deadlineMs = options.deadlineMs ?? APPEND_HINT_DEFAULTS.deadlineMs;
    this.#logError = options.logError ?? ((message, error) => console.error(message, error));
  }

  begin(topic: Topic): (results: readonly AppendResult[]) => Promise<AppendHintOutcome> {
    const subscribers = this.#subscribers(topic.id);
    return (results) => this.#hint(topic, subscribers, results);
  }

  async #hint(topic: Topic, lookup: CachedSubscribers, results: readonly AppendResult[]): Promise<AppendHintOutcome> {
    const controller = new AbortController();
    let posted = 0;
    let gone = 0;
    let timer: unknown;
    const deadline = new Promise<'late'>((resolve) => {
      timer = this.#timers.setTimeout(() => resolve('late'), this.#deadlineMs);
    });
    const posting = (async () => {
      const subscribers = await lookup.subscribers;
      if (subscribers.length === 0 || controller.signal.aborted) return 'done' as const;
      // One message per partition of the request (the engine refuses a partition twice in one request).
      await Promise.all(
        results.map((result) =>
          postToSubscribers(subscribers, appendMessage(topic.name, result.partition, result.baseOffset + BigInt(result.recordCount)), {
            post: async (connectionId, text, signal) => {
              const outcome = await this.#options.post(connectionId, text, signal);
              if (outcome === 'sent') {
                this.stats.posted++;
                posted++;
              } else if (outcome === 'gone') {
                this.stats.gone++;
                gone++;
              }
              return outcome;
            },
            onGone: (connectionId) => this.#forget(lookup, connectionId),
            logError: this.#logError,
            signal: controller.signal,
            isLive: this.#options.isLive && ((keyId) => this.#liveness(lookup, keyId)),
          }),
        ),
      );
      return 'done' as const;
    })();
    try {
      if ((await Promise.race([posting, deadline])) === 'late') {
        this.stats.late++;
        controller.abort();
        return { posted, late: true, gone };
      }
      return { posted, late: false, gone };
    } finally {
      this.#timers.clearTimeout(timer);
    }
  }

  /** The topic's subscribers from this container's cache, or one Query started now (never rejects: no hint is worth a failed produce). */
  #subscribers(topicId: string): CachedSubscribers {
    const now = this.#now();
    const cached = this.#cache.get(topicId);
    if (cached && cached.until > now) return cached;
    this.stats.lookups++;
    const entry: CachedSubscribers = {
      until: now + this.#cacheMs,
      subscribers: this.#options.connections.subscribers(topicId).catch((error: unknown) => {
        this.#logError('sluice: the subscribers of a topic could not be read; the stream notifier tells them', error);
        return [];
      }),
      liveness: new Map(),
    };
    if (this.#options.isLive) {
      void entry.subscribers.then((subscribers) => {
        for (const { keyId } of subscribers) if (keyId) this.#liveness(entry, keyId);
      });
    }
    this.#cache.set(topicId, entry);
    if (this.#cache.size > 1_000) this.#evictExpired(now);
    return entry;
  }

  /**
   * Whether a subscriber's key is live, asked once per cached subscriber list. A failed read stays
   * failed for that list: its connections are told nothing (postToSubscribers logs it), as before.
   */
  #liveness(entry: CachedSubscribers, keyId: string): Promise<boolean> {
    let live = entry.liveness.get(keyId);
    if (!live) {
      live = this.#options.isLive!(keyId);
      live.catch(() => {}); // asked ahead of any hint: a rejection nobody awaits yet is not unhandled
      entry.liveness.set(keyId, live);
    }
    return live;
  }

  /** A connection API Gateway says is gone: no more posts to it from this container (the notifier deletes its items). */
  #forget(entry: CachedSubscribers, connectionId: string): void {
    entry.subscribers = entry.subscribers.then((subscribers) => subscribers.filter((s) => s.connectionId !== connectionId));
  }

  #evictExpired(now: number): void {
    for (const [topicId, entry] of this.#cache) if (entry.until <= now) this.#cache.delete(topicId);
  }
}

/**
 * The produce function's hints where the stack names the channel's Management API endpoint
 * (SLUICE_NOTIFICATIONS_ENDPOINT, the stage's https callback URL); none without it. The bounds may be
 * set with SLUICE_HINT_DEADLINE_MS and SLUICE_HINT_SUBSCRIBER_CACHE_MS.
 */
export function appendHintsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  connections: ChannelConnections,
  logError?: (message: string, error: unknown) => void,
  poster: (endpoint: string) => PostToConnection = (endpoint) => managementApiPoster(new ApiGatewayManagementApiClient({ endpoint })),
  isLive?: KeyLiveness,
): ProduceAppendHints | undefined {
  const endpoint = env.SLUICE_NOTIFICATIONS_ENDPOINT;
  if (!endpoint) return undefined;
  return new ProduceAppendHints({
    connections,
    post: poster(endpoint),
    deadlineMs: optionalInteger(env, 'SLUICE_HINT_DEADLINE_MS', 1),
    subscriberCacheMs: optionalInteger(env, 'SLUICE_HINT_SUBSCRIBER_CACHE_MS', 0),
    logError,
    isLive,
  });
}
