/**
 * The notification channel's protocol (docs/api-v1.md "Live tail"), once for both transports: the
 * local server's WebSocket (lib/server/notifications.ts) and the API Gateway WebSocket API in AWS
 * (lib/lambda/notifications.ts). Client messages are parsed and validated here, subscriptions are
 * checked against the key's consume scope here (all or nothing), and the server's messages are
 * shaped here; the transports only carry text frames and keep their connections.
 */
import { allows, type ApiKeys, type Principal } from '../auth/api-keys.ts';
import { LIMITS } from '../defaults.ts';
import { SluiceError } from '../errors.ts';

export const NOTIFICATIONS_PATH = '/v1/notifications';

/** Largest client message: an auth or a subscribe with 100 topic names fits easily. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export type ClientMessage = { readonly action: 'auth'; readonly apiKey: string } | { readonly action: 'subscribe'; readonly topics: readonly string[] };

/** A client's text frame, validated: INVALID_REQUEST for anything but an auth or a subscribe. */
export function parseClientMessage(text: string): ClientMessage {
  if (Buffer.byteLength(text) > MAX_CLIENT_MESSAGE_BYTES) throw new SluiceError('INVALID_REQUEST', `messages are at most ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
  let message: { action?: unknown; apiKey?: unknown; topics?: unknown };
  try {
    message = JSON.parse(text);
  } catch {
    throw new SluiceError('INVALID_REQUEST', 'messages are JSON objects with an "action"');
  }
  if (message?.action === 'auth') {
    if (typeof message.apiKey !== 'string') throw new SluiceError('INVALID_REQUEST', 'apiKey: expected a string');
    return { action: 'auth', apiKey: message.apiKey };
  }
  if (message?.action === 'subscribe') {
    const topics = message.topics;
    if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string')) {
      throw new SluiceError('INVALID_REQUEST', 'topics: expected a non-empty array of topic names');
    }
    return { action: 'subscribe', topics: [...new Set(topics as string[])] };
  }
  throw new SluiceError('INVALID_REQUEST', 'action: expected "auth" or "subscribe"');
}

/** The principal of an auth message's key (UNAUTHORIZED for a bad one). */
export function authenticate(keys: ApiKeys, apiKey: string): Promise<Principal> {
  return keys.authenticate(`Bearer ${apiKey}`);
}

/** What a connection whose key was revoked after it authenticated is told, before it is told nothing more. */
export const REVOKED_KEY_MESSAGE = 'the API key of this connection was revoked';

/** Refuses a connection whose key was revoked since it authenticated (ApiKeys.isLive, cached like authentication). */
export async function checkStillLive(keys: Pick<ApiKeys, 'isLive'>, principal: Principal | undefined): Promise<void> {
  if (principal && !(await keys.isLive(principal.keyId))) throw new SluiceError('UNAUTHORIZED', REVOKED_KEY_MESSAGE);
}

/**
 * A subscribe, checked before anything is subscribed: the connection must be authenticated, stay
 * within LIMITS.maxSubscribedTopics (topics it already follows do not count twice, so re-sending a
 * subscribe is harmless), and every topic must lie in the key's consume scope (FORBIDDEN names the
 * first that does not). Returns the topics as asked (deduplicated).
 */
export function checkSubscription(principal: Principal | undefined, topics: readonly string[], subscribed: Iterable<string>): readonly string[] {
  if (!principal) throw new SluiceError('UNAUTHORIZED', 'authenticate first: {"action": "auth", "apiKey": "<key>"}');
  const after = new Set([...subscribed, ...topics]);
  if (after.size > LIMITS.maxSubscribedTopics) {
    throw new SluiceError('INVALID_REQUEST', `topics: at most ${LIMITS.maxSubscribedTopics} per connection`, { details: { limit: LIMITS.maxSubscribedTopics } });
  }
  for (const name of topics) {
    if (!allows(principal, 'consume', { topic: name })) throw new SluiceError('FORBIDDEN', `this API key may not consume topic ${name}`, { details: { topic: name } });
  }
  return topics;
}

export const AUTHENTICATED_MESSAGE = JSON.stringify({ type: 'authenticated' });

export function subscribedMessage(topics: readonly string[]): string {
  return JSON.stringify({ type: 'subscribed', topics });
}

/** What subscribers of a topic are sent when a partition's high watermark moved. */
export function appendMessage(topic: string, partition: number, highWatermark: bigint): string {
  return JSON.stringify({ type: 'append', topic, partition, highWatermark: highWatermark.toString() });
}

/** A refusal: the contract's code and message for a SluiceError, INTERNAL (and `unexpected`, to log) for anything else. */
export function errorMessage(error: unknown): { readonly text: string; readonly unexpected: boolean } {
  const refusal =
    error instanceof SluiceError ? { code: error.code, message: error.message, ...error.details } : { code: 'INTERNAL', message: 'internal error' };
  return { text: JSON.stringify({ type: 'error', ...refusal }), unexpected: !(error instanceof SluiceError) };
}
