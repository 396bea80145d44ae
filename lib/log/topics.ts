/** Topics: names, partition counts and config, one metadata item each. */
import * as z from 'zod';
import { SluiceError, ConditionFailedError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { isValidName } from '../api/limits.ts';
import { TopicConfig as TopicConfigSchema } from '../api/schemas.ts';
import type { MetadataStore } from '../storage/ports.ts';
import { DELETED_TOPICS_PK, TOPICS_PK, bigintAttr, stringAttr } from './layout.ts';

/** A topic's config (the contract's TopicConfig): retention and the codec of JSON-encoded batches. */
export const topicConfigSchema = TopicConfigSchema;

export type TopicConfig = z.infer<typeof topicConfigSchema>;

export interface Topic {
  readonly name: string;
  /** Unique per incarnation: a topic deleted and created again gets a new id and an empty log. */
  readonly id: string;
  readonly partitions: number;
  readonly config: TopicConfig;
  readonly createdAt: number;
}

export function validateTopicName(name: string): void {
  if (!isValidName(name)) {
    throw new SluiceError('INVALID_REQUEST', `invalid topic name: must be 1-${LIMITS.maxTopicNameLength} characters of [a-zA-Z0-9._-]`, {
      details: { field: 'name' },
    });
  }
}

export class Topics {
  readonly #metadata: MetadataStore;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { topic: Topic; until: number }>();
  readonly #defaults: Partial<TopicConfig>;

  /** `defaults`: config for what a create request leaves out (a deployment's default retention). */
  constructor(metadata: MetadataStore, options: { now?: () => number; cacheMs?: number; defaults?: Partial<TopicConfig> } = {}) {
    this.#metadata = metadata;
    this.#now = options.now ?? Date.now;
    this.#cacheMs = options.cacheMs ?? 1000;
    this.#defaults = options.defaults ?? {};
  }

  async create(name: string, partitions: number, config: unknown = {}): Promise<Topic> {
    validateTopicName(name);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > LIMITS.maxPartitions) {
      throw new SluiceError('INVALID_REQUEST', `partitions must be an integer from 1 to ${LIMITS.maxPartitions}`, {
        details: { field: 'partitions' },
      });
    }
    const given = config ?? {};
    const isObject = typeof given === 'object' && !Array.isArray(given);
    const parsed = topicConfigSchema.safeParse(isObject ? { ...this.#defaults, ...given } : given);
    if (!parsed.success) {
      throw new SluiceError('INVALID_REQUEST', `invalid topic config: ${z.prettifyError(parsed.error)}`, { details: { field: 'config' } });
    }
    const topic: Topic = { name, id: crypto.randomUUID(), partitions, config: parsed.data, createdAt: this.#now() };
    try {
      await this.#metadata.put(
        {
          pk: TOPICS_PK,
          sk: name,
          id: topic.id,
          partitions: BigInt(partitions),
          config: JSON.stringify(topic.config),
          createdAt: BigInt(topic.createdAt),
        },
        { itemExists: false },
      );
    } catch (error) {
      if (error instanceof ConditionFailedError) throw new SluiceError('TOPIC_EXISTS', `topic ${name} already exists`, { cause: error });
      throw error;
    }
    return topic;
  }

  /** Reads through a short cache: a warm handler does not re-read the topic on every request. */
  async get(name: string): Promise<Topic> {
    const cached = this.#cache.get(name);
    if (cached && cached.until > this.#now()) return cached.topic;
    const item = await this.#metadata.get(TOPICS_PK, name);
    if (!item) throw new SluiceError('TOPIC_NOT_FOUND', `topic ${name} does not exist`, { details: { topic: name } });
    const topic = topicFromItem(item);
    this.#cache.set(name, { topic, until: this.#now() + this.#cacheMs });
    return topic;
  }

  async list(): Promise<Topic[]> {
    const topics: Topic[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.#metadata.query(TOPICS_PK, { gt: after, limit: 500 });
      topics.push(...page.map(topicFromItem));
      if (page.length < 500) return topics;
      after = page[page.length - 1].sk;
    }
  }

  /** Removes the topic at once; its data is garbage-collected later from the tombstone. */
  async delete(name: string): Promise<Topic> {
    const topic = await this.get(name);
    await this.#metadata.put({ pk: DELETED_TOPICS_PK, sk: topic.id, name, partitions: BigInt(topic.partitions), deletedAt: BigInt(this.#now()) });
    try {
      await this.#metadata.delete(TOPICS_PK, name, { where: [{ attr: 'id', op: '=', value: topic.id }] });
    } catch (error) {
      if (error instanceof ConditionFailedError) throw new SluiceError('TOPIC_NOT_FOUND', `topic ${name} does not exist`, { cause: error });
      throw error;
    } finally {
      this.#cache.delete(name);
    }
    return topic;
  }
}

function topicFromItem(item: Record<string, unknown> & { sk: string }): Topic {
  return {
    name: item.sk,
    id: stringAttr(item as never, 'id') ?? '',
    partitions: Number(bigintAttr(item as never, 'partitions')),
    config: topicConfigSchema.parse(JSON.parse(stringAttr(item as never, 'config') ?? '{}')),
    createdAt: Number(bigintAttr(item as never, 'createdAt')),
  };
}
