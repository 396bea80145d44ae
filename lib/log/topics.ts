/** Topics: names, partition counts and config, one metadata item each. */
import * as z from 'zod';
import { SluiceError, ConditionFailedError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { isValidName } from '../api/limits.ts';
import { TopicConfig as TopicConfigSchema, TopicConfigChange as TopicConfigChangeSchema } from '../api/schemas.ts';
import { describeValue, parseInput } from '../validation.ts';
import type { MetadataStore, Scalar } from '../storage/ports.ts';
import { DELETED_TOPICS_PK, TOPICS_PK, bigintAttr, stringAttr } from './layout.ts';

/** A topic's config (the contract's TopicConfig): retention, the codec of JSON-encoded batches, how batches are stamped. */
export const topicConfigSchema = TopicConfigSchema;

/**
 * A stored config is read leniently: a setting added by a later version is ignored rather than making
 * every request on the topic fail, as strict parsing would while a deployment rolls forward or back.
 */
const storedConfigSchema = z.object(TopicConfigSchema.shape);

/**
 * Settings that came after the first version, left out of the stored item while they have their
 * default, so functions of that version (strict about the config they read) keep working on those
 * topics during a rolling deploy or a rollback.
 */
const STORED_ONLY_IF_SET: Partial<TopicConfig> = { timestampType: 'CreateTime' };

/** `kept`: what the stored item held besides (settings of a later version survive this one's changes). */
function storedConfig(config: TopicConfig, kept: Record<string, unknown> = {}): string {
  const stored: Record<string, unknown> = { ...kept, ...config };
  for (const [field, value] of Object.entries(STORED_ONLY_IF_SET)) if (stored[field] === value) delete stored[field];
  return JSON.stringify(stored);
}

export type TopicConfig = z.infer<typeof topicConfigSchema>;

/** Settings to change: a value replaces the current one, null sets the deployment's default again. */
export type TopicConfigChange = z.input<typeof TopicConfigChangeSchema>;

/** Reads and writes of one change before it gives up under concurrent changes of the same topic. */
const ALTER_ATTEMPTS = 8;

/** What one optimistic change writes, the attribute it expects unchanged, and the topic it makes. */
interface TopicChange {
  readonly set: Record<string, Scalar>;
  readonly unchanged: { readonly attr: string; readonly value: Scalar };
  readonly topic: Topic;
}

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
    throw new SluiceError('INVALID_REQUEST', `name: expected 1-${LIMITS.maxTopicNameLength} characters of [a-zA-Z0-9._-] (not . or ..), got ${describeValue(name)}`, {
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
      throw new SluiceError('INVALID_REQUEST', `partitions: expected an integer from 1 to ${LIMITS.maxPartitions}, got ${describeValue(partitions)}`, {
        details: { field: 'partitions' },
      });
    }
    const given = config ?? {};
    const isObject = typeof given === 'object' && !Array.isArray(given);
    const parsedConfig = parseInput(topicConfigSchema, isObject ? { ...this.#defaults, ...given } : given, { field: 'config' });
    const topic: Topic = { name, id: crypto.randomUUID(), partitions, config: parsedConfig, createdAt: this.#now() };
    try {
      await this.#metadata.put(
        {
          pk: TOPICS_PK,
          sk: name,
          id: topic.id,
          partitions: BigInt(partitions),
          config: storedConfig(topic.config),
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

  /**
   * Changes some of a topic's settings and answers the topic as it is after the change. The write
   * holds only while the topic's id and config are the ones read, so two changes at once both land
   * (the loser reads again), and a topic deleted and created again meanwhile gets the change on its
   * own settings, never the old topic's. Other handlers see the change within their topic cache time
   * (cacheMs); maintenance applies new retention at its next pass (the settings are part of its quiet
   * check).
   */
  async alterConfig(name: string, change: unknown): Promise<Topic> {
    validateTopicName(name);
    const parsed = parseInput(TopicConfigChangeSchema, change, { field: 'config' });
    const defaults = topicConfigSchema.parse(this.#defaults);
    return this.#change(name, 'this change was being made', (current, item) => {
      const stored = stringAttr(item as never, 'config') ?? '{}';
      const merged: Record<string, unknown> = { ...current.config };
      for (const [field, value] of Object.entries(parsed)) merged[field] = value === null ? defaults[field as keyof TopicConfig] : value;
      const config = parseInput(topicConfigSchema, merged, { field: 'config' });
      return {
        set: { config: storedConfig(config, JSON.parse(stored)) },
        unchanged: { attr: 'config', value: stored },
        topic: { ...current, config },
      };
    });
  }

  /**
   * Raises a topic's partition count to `count` (Kafka's CreatePartitions; never lowers it). The new
   * partitions need nothing written: a partition's head is created by its first append. Asking for the
   * count the topic has already succeeds (a retry after a lost answer); a smaller one is refused.
   * Keyed records map to partitions by `murmur2(key) % partitions`, so keys move once the count grows.
   */
  async addPartitions(name: string, count: unknown): Promise<Topic> {
    validateTopicName(name);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > LIMITS.maxPartitions) {
      throw new SluiceError('INVALID_REQUEST', `count: expected an integer from 1 to ${LIMITS.maxPartitions}, got ${describeValue(count)}`, { details: { field: 'count' } });
    }
    return this.#change(name, 'its partitions were being added', (current) => {
      if (count < current.partitions) {
        throw new SluiceError('INVALID_REQUEST', `count: topic ${name} has ${current.partitions} partitions; a count cannot go down`, { details: { field: 'count' } });
      }
      if (count === current.partitions) return current;
      return {
        set: { partitions: BigInt(count) },
        unchanged: { attr: 'partitions', value: BigInt(current.partitions) },
        topic: { ...current, partitions: count },
      };
    });
  }

  /**
   * One optimistic change of a topic's item: read it, let `plan` decide (or answer the topic as it is),
   * write only while the item's id and the planned attribute are the ones read, and on a lost race
   * read again, at most ALTER_ATTEMPTS times. The id condition keeps a change from landing on a topic
   * deleted and created again meanwhile.
   */
  async #change(name: string, during: string, plan: (current: Topic, item: Record<string, unknown> & { sk: string }) => TopicChange | Topic): Promise<Topic> {
    for (let attempt = 1; ; attempt++) {
      const item = await this.#metadata.get(TOPICS_PK, name);
      if (!item) throw new SluiceError('TOPIC_NOT_FOUND', `topic ${name} does not exist`, { details: { topic: name } });
      const current = topicFromItem(item);
      const change = plan(current, item);
      if (!('set' in change)) return change;
      try {
        await this.#metadata.update(TOPICS_PK, name, { set: change.set }, {
          itemExists: true,
          where: [
            { attr: 'id', op: '=', value: current.id },
            { attr: change.unchanged.attr, op: '=', value: change.unchanged.value },
          ],
        });
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        if (attempt < ALTER_ATTEMPTS) continue;
        throw new SluiceError('UNAVAILABLE', `topic ${name} changed ${ALTER_ATTEMPTS} times while ${during}; try again`, { cause: error, details: { topic: name } });
      }
      this.#cache.set(name, { topic: change.topic, until: this.#now() + this.#cacheMs });
      return change.topic;
    }
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
    config: storedConfigSchema.parse(JSON.parse(stringAttr(item as never, 'config') ?? '{}')),
    createdAt: Number(bigintAttr(item as never, 'createdAt')),
  };
}
