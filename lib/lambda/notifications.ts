/**
 * The notification channel in AWS (docs/api-v1.md "Live tail"): an API Gateway WebSocket API whose
 * $connect, $disconnect and $default routes invoke the notifications function (this handler), and a
 * notifier that the stream handler runs for the partitions new log entries advanced. API Gateway
 * holds idle connections (billed per connection-minute, no Lambda time); the function runs only when
 * a client connects, sends a message or leaves. The produce function posts the same append messages
 * first, before it answers (lib/lambda/append-hints.ts). The protocol is lib/notifications/protocol.ts, shared
 * with the local server; connections and subscriptions are table items (lib/notifications/connections.ts).
 *
 *   $connect      records the connection (not yet authenticated; a browser cannot send headers)
 *   $default      an auth or subscribe message; the answer is the route response (sent to the client)
 *   $disconnect   deletes the connection's items
 */
import { GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ApiKeys } from '../auth/api-keys.ts';
import type { Engine } from '../log/engine.ts';
import { ChannelConnections, type TopicSubscriber } from '../notifications/connections.ts';
import { appendMessage, authenticate, AUTHENTICATED_MESSAGE, checkStillLive, checkSubscription, errorMessage, parseClientMessage, subscribedMessage } from '../notifications/protocol.ts';
import { SluiceError } from '../errors.ts';
import type { AdvancedPartition } from '../trigger/append-trigger.ts';

/** The fields of API Gateway's WebSocket proxy event that are read here. */
export interface WebSocketEvent {
  readonly requestContext: { readonly routeKey: string; readonly connectionId: string };
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

export interface WebSocketResult {
  readonly statusCode: number;
  readonly body?: string;
}

export interface NotificationsDeps {
  readonly engine: Engine;
  readonly keys: ApiKeys;
  readonly connections: ChannelConnections;
  readonly logError?: (message: string, error: unknown) => void;
}

export function createNotificationsHandler(deps: NotificationsDeps) {
  const logError = deps.logError ?? ((message, error) => console.error(message, error));
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const { routeKey, connectionId } = event.requestContext;
    if (routeKey === '$connect') {
      await deps.connections.save({ connectionId, topics: new Map() });
      return { statusCode: 200 };
    }
    if (routeKey === '$disconnect') {
      await deps.connections.remove(connectionId);
      return { statusCode: 200 };
    }
    try {
      const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
      return { statusCode: 200, body: await reply(deps, connectionId, text) };
    } catch (error) {
      const refusal = errorMessage(error);
      if (refusal.unexpected) logError('sluice: notification channel error', error);
      return { statusCode: 200, body: refusal.text };
    }
  };
}

async function reply(deps: NotificationsDeps, connectionId: string, text: string): Promise<string> {
  const message = parseClientMessage(text);
  // A connection whose items expired (or whose $connect never ran) starts over.
  const connection = (await deps.connections.get(connectionId)) ?? { connectionId, topics: new Map<string, string>() };
  if (message.action === 'auth') {
    const principal = await authenticate(deps.keys, message.apiKey);
    await deps.connections.save({ ...connection, principal });
    return AUTHENTICATED_MESSAGE;
  }
  await checkStillLive(deps.keys, connection.principal);
  const names = checkSubscription(connection.principal, message.topics, connection.topics.values());
  const resolved = await Promise.all(names.map(async (name) => [(await deps.engine.topics.get(name)).id, name] as const));
  await deps.connections.subscribe(connection, new Map(resolved));
  return subscribedMessage(names);
}

/**
 * Sends one text frame to a connection; 'gone' when API Gateway answers 410 (the client left). The
 * signal aborts a send its caller stopped waiting for (the produce path's deadline).
 */
export type PostToConnection = (connectionId: string, text: string, signal?: AbortSignal) => Promise<'sent' | 'gone'>;

/** The Management API client's `send`, as far as it is used here (the real client, or a fake in tests). */
export interface ManagementApiClient {
  send(command: PostToConnectionCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** PostToConnection through the API Gateway Management API client (or a fake with its `send`). */
export function managementApiPoster(client: ManagementApiClient): PostToConnection {
  return async (connectionId, text, signal) => {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(text) }), signal ? { abortSignal: signal } : undefined);
      return 'sent';
    } catch (error) {
      if (error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) return 'gone';
      throw error;
    }
  };
}

/** Whether a key still exists (ApiKeys.isLive): a connection it authenticated is told nothing once it is revoked. */
export type KeyLiveness = (keyId: string) => Promise<boolean>;

/**
 * One text frame to each of a topic's subscribers, all at once. A connection that answers 410 is
 * handed to `onGone`, and so is one whose key was revoked (checked once per key and call through
 * `isLive`, cached by ApiKeys: it is told nothing); any other failure is logged and not retried (a
 * message is a wake-up: clients keep a slow safety poll). Never throws. Shared by the stream
 * handler's notifier and the produce function's append hints (lib/lambda/append-hints.ts).
 */
export async function postToSubscribers(
  subscribers: readonly TopicSubscriber[],
  text: string,
  deps: {
    readonly post: PostToConnection;
    readonly onGone: (connectionId: string) => Promise<void> | void;
    readonly logError: (message: string, error: unknown) => void;
    readonly signal?: AbortSignal;
    readonly isLive?: KeyLiveness;
  },
): Promise<void> {
  const liveness = new Map<string, Promise<boolean>>();
  const live = (keyId: string | undefined) => {
    if (!keyId || !deps.isLive) return true;
    if (!liveness.has(keyId)) liveness.set(keyId, deps.isLive(keyId));
    return liveness.get(keyId)!;
  };
  await Promise.all(
    subscribers.map(async ({ connectionId, keyId }) => {
      try {
        if (!(await live(keyId)) || (await deps.post(connectionId, text, deps.signal)) === 'gone') await deps.onGone(connectionId);
      } catch (error) {
        if (!deps.signal?.aborted) deps.logError('sluice: a notification was not sent', error);
      }
    }),
  );
}

export interface ChannelNotifierDeps {
  readonly engine: Engine;
  readonly connections: ChannelConnections;
  readonly post: PostToConnection;
  /** Connections whose key was revoked are told nothing and forgotten. @default every key is live */
  readonly isLive?: KeyLiveness;
  readonly logError?: (message: string, error: unknown) => void;
}

/**
 * The stream handler's second subscriber, and the fallback of the produce function's append hints
 * (lib/lambda/append-hints.ts: those arrive first; this repeats them ≈ 300 ms later, which a consumer
 * ignores, and tells what a hint missed). For the partitions one batch of stream records advanced
 * (each once, however many entries the burst wrote: that is the coalescing), one head read and one
 * append message per subscribed connection. A connection that is gone loses its items; a failed send
 * is logged, not retried (the message is a wake-up; clients keep a slow safety poll), so it does not
 * make the event source mapping replay the batch to the dispatcher too.
 */
export function createChannelNotifier(deps: ChannelNotifierDeps): (advanced: readonly AdvancedPartition[]) => Promise<void> {
  const logError = deps.logError ?? ((message, error) => console.error(message, error));
  return async (advanced) => {
    const byTopic = new Map<string, number[]>();
    for (const { topicId, partition } of advanced) byTopic.set(topicId, [...(byTopic.get(topicId) ?? []), partition]);
    await Promise.all(
      [...byTopic].map(async ([topicId, partitions]) => {
        const subscribers = await deps.connections.subscribers(topicId);
        if (subscribers.length === 0) return;
        const topic = subscribers[0].topic;
        for (const partition of partitions) {
          let highWatermark: bigint;
          try {
            // A topic deleted (or deleted and created again under its name) meanwhile: nothing to tell.
            if ((await deps.engine.topics.get(topic)).id !== topicId) return;
            highWatermark = (await deps.engine.partitionState(topic, partition)).endOffset;
          } catch (error) {
            if (error instanceof SluiceError && error.code === 'TOPIC_NOT_FOUND') return;
            throw error;
          }
          await postToSubscribers(subscribers, appendMessage(topic, partition, highWatermark), {
            post: deps.post,
            onGone: (connectionId) => deps.connections.remove(connectionId),
            logError,
            isLive: deps.isLive,
          });
        }
      }),
    );
  };
}
