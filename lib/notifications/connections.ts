/**
 * The notification channel's connections and subscriptions in AWS, in the metadata table (the local
 * server keeps them in memory). API Gateway holds the WebSocket; these items say who it belongs to and
 * which topics it follows:
 *
 *   pk ws#<connectionId>   sk connection        principal  the authenticated key (JSON Principal; absent before auth)
 *                                               topics     subscribed topics, JSON {topicId: name}
 *                                               expiresAt  TTL (epoch s)
 *   pk wst#<topicId>       sk <connectionId>    topic      the topic's name (the append message names it)
 *                                               keyId      the key that subscribed (a revoked key's connections are told nothing)
 *                                               expiresAt  TTL (epoch s)
 *
 * The notifier queries wst#<topicId> for a partition that advanced; $disconnect (or a 410 Gone from
 * PostToConnection) deletes the connection's wst# items and its ws# item. API Gateway ends every
 * connection after 2 hours, so items live CONNECTION_TTL_SECONDS past their last write: a connection
 * whose $disconnect was lost vanishes by TTL, and readers skip expired items before DynamoDB removes them.
 */
import type { Principal } from '../auth/api-keys.ts';
import { EXPIRES_AT, type Item, type MetadataStore } from '../storage/ports.ts';

export const CONNECTION_PK_PREFIX = 'ws#';
export const TOPIC_CONNECTIONS_PK_PREFIX = 'wst#';
const CONNECTION_SK = 'connection';

/** API Gateway's maximum connection duration (2 h) and a margin. */
export const CONNECTION_TTL_SECONDS = 2 * 3600 + 600;

export interface ChannelConnection {
  readonly connectionId: string;
  readonly principal?: Principal;
  /** Subscribed topics: id → name. */
  readonly topics: ReadonlyMap<string, string>;
}

export interface TopicSubscriber {
  readonly connectionId: string;
  readonly topic: string;
  /** The key the connection authenticated with (absent on items written before it was recorded). */
  readonly keyId?: string;
}

export function connectionPk(connectionId: string): string {
  return `${CONNECTION_PK_PREFIX}${connectionId}`;
}

export function topicConnectionsPk(topicId: string): string {
  return `${TOPIC_CONNECTIONS_PK_PREFIX}${topicId}`;
}

export function encodeConnection(connection: ChannelConnection, expiresAtSeconds: number): Item {
  return {
    pk: connectionPk(connection.connectionId),
    sk: CONNECTION_SK,
    ...(connection.principal ? { principal: JSON.stringify(connection.principal) } : {}),
    topics: JSON.stringify(Object.fromEntries(connection.topics)),
    [EXPIRES_AT]: BigInt(expiresAtSeconds),
  };
}

export function decodeConnection(item: Item): ChannelConnection {
  return {
    connectionId: item.pk.slice(CONNECTION_PK_PREFIX.length),
    principal: typeof item.principal === 'string' ? (JSON.parse(item.principal) as Principal) : undefined,
    topics: new Map(Object.entries(JSON.parse(String(item.topics ?? '{}')) as Record<string, string>)),
  };
}

export function encodeTopicSubscriber(topicId: string, subscriber: TopicSubscriber, expiresAtSeconds: number): Item {
  return {
    pk: topicConnectionsPk(topicId),
    sk: subscriber.connectionId,
    topic: subscriber.topic,
    ...(subscriber.keyId ? { keyId: subscriber.keyId } : {}),
    [EXPIRES_AT]: BigInt(expiresAtSeconds),
  };
}

export function decodeTopicSubscriber(item: Item): TopicSubscriber {
  return { connectionId: item.sk, topic: String(item.topic), ...(typeof item.keyId === 'string' ? { keyId: item.keyId } : {}) };
}

function expired(item: Item, nowSeconds: number): boolean {
  return typeof item[EXPIRES_AT] === 'bigint' && item[EXPIRES_AT] <= BigInt(nowSeconds);
}

/** The items above, read and written through the metadata store. */
export class ChannelConnections {
  readonly #metadata: MetadataStore;
  readonly #now: () => number;

  constructor(metadata: MetadataStore, options: { now?: () => number } = {}) {
    this.#metadata = metadata;
    this.#now = options.now ?? Date.now;
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  #expiresAt(): number {
    return this.#nowSeconds() + CONNECTION_TTL_SECONDS;
  }

  async get(connectionId: string): Promise<ChannelConnection | undefined> {
    const item = await this.#metadata.get(connectionPk(connectionId), CONNECTION_SK);
    return item && !expired(item, this.#nowSeconds()) ? decodeConnection(item) : undefined;
  }

  async save(connection: ChannelConnection): Promise<void> {
    await this.#metadata.put(encodeConnection(connection, this.#expiresAt()));
  }

  /** Subscribes the connection to more topics (id → name): the topics' items first, so a listed topic is always findable from its wst# side. */
  async subscribe(connection: ChannelConnection, topics: ReadonlyMap<string, string>): Promise<ChannelConnection> {
    const expiresAt = this.#expiresAt();
    const keyId = connection.principal?.keyId;
    await Promise.all([...topics].map(([id, topic]) => this.#metadata.put(encodeTopicSubscriber(id, { connectionId: connection.connectionId, topic, keyId }, expiresAt))));
    const updated = { ...connection, topics: new Map([...connection.topics, ...topics]) };
    await this.#metadata.put(encodeConnection(updated, expiresAt));
    return updated;
  }

  /** The connections subscribed to a topic (expired ones skipped). */
  async subscribers(topicId: string): Promise<TopicSubscriber[]> {
    const nowSeconds = this.#nowSeconds();
    const items = await this.#metadata.query(topicConnectionsPk(topicId));
    return items.filter((item) => !expired(item, nowSeconds)).map(decodeTopicSubscriber);
  }

  /** Forgets a connection: its subscriptions, then itself. */
  async remove(connectionId: string): Promise<void> {
    const item = await this.#metadata.get(connectionPk(connectionId), CONNECTION_SK);
    if (!item) return;
    const connection = decodeConnection(item);
    await Promise.all([...connection.topics.keys()].map((topicId) => this.#metadata.delete(topicConnectionsPk(topicId), connectionId)));
    await this.#metadata.delete(connectionPk(connectionId), CONNECTION_SK);
  }
}
