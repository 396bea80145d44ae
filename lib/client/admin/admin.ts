/** Topic and consumer-group administration, end offsets and offsets by time (KafkaJS admin names). */
import type { ClientContext } from '../context.ts';
import { invalidArgument, SluiceClientError } from '../errors.ts';
import type {
  CreatedKey,
  CreatedPushConsumer,
  GroupDescription,
  KeyScopeInput,
  KeySummary,
  PushConsumerDescription,
  PushConsumerState,
  PushConsumerSummary,
  PushConsumerToCreate,
  TopicConfig,
  TopicConfigChange,
  TopicDescription,
} from '../protocol/api.ts';
import { withRetry } from '../retry/retry.ts';
import { alterRequests, configEntries, describeRequests, type AlterConfigResponse, type ConfigResource, type DescribeConfigResponse } from './kafka-configs.ts';

export interface TopicToCreate {
  readonly topic: string;
  readonly numPartitions: number;
  readonly config?: TopicConfig;
}

export interface TopicInfo {
  readonly name: string;
  /** Every setting, the server's defaults filled in. */
  readonly config: TopicDescription['config'];
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly startOffset: string; readonly endOffset: string }>;
}

/** KafkaJS's fetchTopicOffsets shape: offset = high = the end offset (high watermark), low = the log start. */
export interface PartitionOffset {
  readonly partition: number;
  readonly offset: string;
  readonly high: string;
  readonly low: string;
}

export class Admin {
  readonly #context: ClientContext;

  constructor(context: ClientContext) {
    this.#context = context;
  }

  /** Nothing to open; checks the endpoint and the API key. */
  async connect(): Promise<void> {
    await this.#context.api.listTopics();
  }

  async disconnect(): Promise<void> {}

  /** Creates topics; resolves true when all were created, false when any already existed. */
  async createTopics(options: { topics: readonly TopicToCreate[] }): Promise<boolean> {
    if (!options || !Array.isArray(options.topics)) throw invalidArgument('createTopics() takes { topics: [{ topic, numPartitions }] }');
    let allCreated = true;
    for (const t of options.topics) {
      try {
        await withRetry(this.#context.retry, () => this.#context.api.createTopic(t.topic, t.numPartitions, t.config));
      } catch (error) {
        if (error instanceof SluiceClientError && error.code === 'TOPIC_EXISTS') allCreated = false;
        else throw error;
      }
    }
    return allCreated;
  }

  /** Names of the topics this key may produce to or consume. */
  async listTopics(): Promise<string[]> {
    const topics = await withRetry(this.#context.retry, () => this.#context.api.listTopics());
    return topics.map((t) => t.name);
  }

  async describeTopic(topic: string): Promise<TopicInfo> {
    const d = await withRetry(this.#context.retry, () => this.#context.api.describeTopic(topic));
    return {
      name: d.name,
      config: d.config,
      partitions: d.partitions.map((p) => ({ partition: p.partition, startOffset: p.startOffset.toString(), endOffset: p.endOffset.toString() })),
    };
  }

  /**
   * Changes some of a topic's settings; the others keep their values, null sets one to the
   * deployment's default again. Resolves with every setting after the change. Producers and
   * maintenance see it within about a second; records that retention already deleted stay deleted.
   */
  async alterTopicConfig(options: { topic: string; config: TopicConfigChange }): Promise<{ name: string; partitions: number; config: TopicInfo['config'] }> {
    if (!options || typeof options.topic !== 'string' || typeof options.config !== 'object' || options.config === null) {
      throw invalidArgument('alterTopicConfig() takes { topic, config: { retentionMs?, retentionBytes?, compression?, timestampType? } }');
    }
    const { topic, config } = options;
    return withRetry(this.#context.retry, () => this.#context.api.alterTopicConfig(topic, config));
  }

  /**
   * KafkaJS's createPartitions: raises each topic's partition count to `count` (never lowers it; the
   * count it has already is not an error). Producers of this client use the new partitions once they
   * look at the topic again (metadataMaxAgeMs), groups within DEFAULTS.groupTopicCheckMs; a partition
   * added after a group first read the topic starts at its log start for that group. Keys map to
   * partitions by the count, so keyed records move: order per key holds only from then on.
   */
  async createPartitions(options: { topicPartitions: ReadonlyArray<{ topic: string; count: number }>; validateOnly?: boolean }): Promise<boolean> {
    if (!options || !Array.isArray(options.topicPartitions)) throw invalidArgument('createPartitions() takes { topicPartitions: [{ topic, count }] }');
    for (const { topic, count } of options.topicPartitions) {
      if (typeof topic !== 'string' || !Number.isInteger(count) || count < 1) throw invalidArgument(`createPartitions(): topic ${JSON.stringify(topic)}: count must be a positive integer, got ${JSON.stringify(count)}`);
    }
    if (options.validateOnly) return true;
    for (const { topic, count } of options.topicPartitions) await withRetry(this.#context.retry, () => this.#context.api.addPartitions(topic, count));
    return true;
  }

  /**
   * KafkaJS's describeConfigs for topics: Kafka's names for the four settings (`retention.ms`,
   * `retention.bytes`, `compression.type`, `message.timestamp.type`), all of them unless `configNames`.
   */
  async describeConfigs(options: { resources: readonly ConfigResource[]; includeSynonyms?: boolean }): Promise<DescribeConfigResponse> {
    const requests = describeRequests(options?.resources);
    const resources = await Promise.all(
      requests.map(async ({ resource, names }) => {
        const described = await withRetry(this.#context.retry, () => this.#context.api.describeTopic(resource.name));
        return { errorCode: 0 as const, errorMessage: null, resourceName: resource.name, resourceType: resource.type, configEntries: configEntries(described.config, names) };
      }),
    );
    return { resources, throttleTime: 0 };
  }

  /**
   * KafkaJS's alterConfigs for topics, with Kafka's config names. Unlike Kafka's AlterConfigs, the
   * settings not named keep their values (kafka-configs.ts). `validateOnly` checks the names and values
   * here and changes nothing. Every resource is checked before the first is changed.
   */
  async alterConfigs(options: { resources: readonly ConfigResource[]; validateOnly?: boolean }): Promise<AlterConfigResponse> {
    const requests = alterRequests(options?.resources);
    const resources: AlterConfigResponse['resources'] = [];
    for (const { resource, change } of requests) {
      if (!options.validateOnly) await this.alterTopicConfig({ topic: resource.name, config: change });
      resources.push({ errorCode: 0, errorMessage: null, resourceName: resource.name, resourceType: resource.type });
    }
    return { resources, throttleTime: 0 };
  }

  /** Deletes topics; a topic that does not exist is an error (TOPIC_NOT_FOUND). */
  async deleteTopics(options: { topics: readonly string[] }): Promise<void> {
    if (!options || !Array.isArray(options.topics)) throw invalidArgument('deleteTopics() takes { topics: [names] }');
    for (const topic of options.topics) await withRetry(this.#context.retry, () => this.#context.api.deleteTopic(topic));
  }

  /** Start and end offsets of every partition. */
  async fetchTopicOffsets(topic: string): Promise<PartitionOffset[]> {
    const d = await withRetry(this.#context.retry, () => this.#context.api.describeTopic(topic));
    return d.partitions.map((p) => ({ partition: p.partition, offset: p.endOffset.toString(), high: p.endOffset.toString(), low: p.startOffset.toString() }));
  }

  /**
   * KafkaJS's deleteTopicRecords (Kafka's DeleteRecords): for each partition named, the records
   * before `offset` become unreadable — its log start moves there (`'-1'`: to the high watermark) —
   * and maintenance deletes them at its next pass. Every entry is checked before any request; an
   * offset past a partition's high watermark fails with OFFSET_OUT_OF_RANGE (the partitions before it
   * in the list are changed already, as in Kafka, where each partition succeeds or fails alone).
   * Answers each partition's log start and end after the change.
   */
  async deleteTopicRecords(options: { topic: string; partitions: ReadonlyArray<{ partition: number; offset: string }> }): Promise<PartitionOffset[]> {
    if (!options || typeof options.topic !== 'string' || !Array.isArray(options.partitions)) throw invalidArgument('deleteTopicRecords() takes { topic, partitions: [{ partition, offset }] }');
    const targets = options.partitions.map(({ partition, offset }) => {
      if (!Number.isInteger(partition) || partition < 0) throw invalidArgument(`deleteTopicRecords(): partition must be a non-negative integer, got ${JSON.stringify(partition)}`);
      if (typeof offset !== 'string' || !/^(?:-1|\d{1,19})$/.test(offset)) throw invalidArgument(`deleteTopicRecords(): partition ${partition}: offset must be a decimal string or '-1', got ${JSON.stringify(offset)}`);
      return { partition, before: offset === '-1' ? ('end' as const) : BigInt(offset) };
    });
    const answers: PartitionOffset[] = [];
    for (const { partition, before } of targets) {
      const state = await withRetry(this.#context.retry, () => this.#context.api.deleteRecords(options.topic, partition, before));
      answers.push({ partition, offset: state.endOffset.toString(), high: state.endOffset.toString(), low: state.startOffset.toString() });
    }
    return answers;
  }

  /** Per partition, the first offset with a timestamp at or after `timestamp` (ms), or the end offset. */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: string }>> {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw invalidArgument('timestamp must be a non-negative integer (ms)');
    const d = await withRetry(this.#context.retry, () => this.#context.api.describeTopic(topic));
    return Promise.all(
      d.partitions.map(async ({ partition }) => ({
        partition,
        offset: (await withRetry(this.#context.retry, () => this.#context.api.offsetForTimestamp(topic, partition, timestamp))).toString(),
      })),
    );
  }

  /** Consumer groups this key may consume. */
  async listGroups(): Promise<{ groups: Array<{ groupId: string }> }> {
    const names = await withRetry(this.#context.retry, () => this.#context.api.listGroups());
    return { groups: names.map((groupId) => ({ groupId })) };
  }

  /** Members with their partitions, and per partition the committed offset, end offset and lag. GROUP_NOT_FOUND for an unknown group. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    return withRetry(this.#context.retry, () => this.#context.api.describeGroup(groupId));
  }

  /** Committed offsets of a group (KafkaJS shape; offset '-1' where nothing is committed). */
  async fetchOffsets(options: { groupId: string; topics?: readonly string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string; lag: string | null }> }>> {
    if (!options || typeof options.groupId !== 'string') throw invalidArgument('fetchOffsets() takes { groupId, topics? }');
    const d = await this.describeGroup(options.groupId);
    const byTopic = new Map<string, Array<{ partition: number; offset: string; lag: string | null }>>();
    for (const o of d.offsets) {
      if (options.topics && !options.topics.includes(o.topic)) continue;
      if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
      byTopic.get(o.topic)!.push({ partition: o.partition, offset: o.committedOffset ?? '-1', lag: o.lag });
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  /**
   * Moves a group's offsets of a topic (all its partitions, or the given ones) to their start
   * (earliest: true), their end (the default), or the first offset at or after `timestamp` (ms since
   * the epoch; the end where nothing is that new); only while the group has no members
   * (GROUP_NOT_EMPTY). Resolves with the offsets now committed.
   */
  async resetOffsets(options: {
    groupId: string;
    topic: string;
    earliest?: boolean;
    timestamp?: number;
    partitions?: readonly number[];
  }): Promise<Array<{ topic: string; partition: number; offset: string }>> {
    if (!options || typeof options.groupId !== 'string' || typeof options.topic !== 'string') throw invalidArgument('resetOffsets() takes { groupId, topic, earliest?, timestamp?, partitions? }');
    if (options.timestamp !== undefined && (!Number.isSafeInteger(options.timestamp) || options.timestamp < 0)) throw invalidArgument('timestamp must be a non-negative integer (ms)');
    if (options.timestamp !== undefined && options.earliest) throw invalidArgument('give earliest or timestamp, not both');
    const partitions = options.partitions === undefined ? {} : { partitions: [...options.partitions] };
    const request =
      options.timestamp !== undefined
        ? { topic: options.topic, ...partitions, to: 'timestamp' as const, timestamp: options.timestamp }
        : { topic: options.topic, ...partitions, to: options.earliest ? ('earliest' as const) : ('latest' as const) };
    const offsets = await withRetry(this.#context.retry, () => this.#context.api.resetGroupOffsets(options.groupId, request));
    return offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.committedOffset }));
  }

  /**
   * Deletes consumer groups that have no members, with their committed offsets (KafkaJS's
   * deleteGroups). Resolves with `[{ groupId, errorCode: 'NONE' }]`; when any group could not be
   * deleted (GROUP_NOT_EMPTY, GROUP_NOT_FOUND, ...) the others are still deleted and the call rejects
   * with the first failure, its `details.groups` listing every group's outcome.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<Array<{ groupId: string; errorCode: string }>> {
    if (!Array.isArray(groupIds) || groupIds.some((g) => typeof g !== 'string')) throw invalidArgument('deleteGroups() takes an array of group ids');
    const outcomes = await Promise.all(
      groupIds.map(async (groupId) => {
        try {
          await withRetry(this.#context.retry, () => this.#context.api.deleteGroup(groupId));
          return { groupId, errorCode: 'NONE', error: undefined };
        } catch (error) {
          return { groupId, errorCode: error instanceof SluiceClientError ? String(error.code) : 'UNKNOWN', error };
        }
      }),
    );
    const groups = outcomes.map(({ groupId, errorCode }) => ({ groupId, errorCode }));
    const failed = outcomes.find((o) => o.error !== undefined);
    if (failed) {
      const first = failed.error instanceof SluiceClientError ? failed.error : undefined;
      throw new SluiceClientError(first?.code ?? 'BAD_RESPONSE', `deleting group ${failed.groupId} failed: ${String(failed.error instanceof Error ? failed.error.message : failed.error)}`, {
        status: first?.status,
        details: { groups },
        cause: failed.error,
      });
    }
    return groups;
  }

  /** Sets a group's offsets: per partition an offset (moved into the log's range); only while the group has no members. */
  async setOffsets(options: { groupId: string; topic: string; partitions: ReadonlyArray<{ partition: number; offset: string }> }): Promise<void> {
    if (!options || typeof options.groupId !== 'string' || !Array.isArray(options.partitions)) throw invalidArgument('setOffsets() takes { groupId, topic, partitions: [{ partition, offset }] }');
    for (const { partition, offset } of options.partitions) {
      if (!/^\d+$/.test(String(offset))) throw invalidArgument(`offset must be a non-negative integer, got ${offset}`);
      await withRetry(this.#context.retry, () => this.#context.api.resetGroupOffsets(options.groupId, { topic: options.topic, partitions: [partition], to: 'offset', offset: String(offset) }));
    }
  }

  // ------------------------------------------------------------------------------------------------
  // API keys (admin over all topics and groups)

  /** Creates an API key; `key` in the answer is the plain key, shown this once. Not retried: a retry could create a second key. */
  async createKey(options: { name: string; scopes: readonly KeyScopeInput[] }): Promise<CreatedKey> {
    if (!options || typeof options.name !== 'string' || !Array.isArray(options.scopes)) throw invalidArgument('createKey() takes { name, scopes: [{ action, topics?, groups? }] }');
    return this.#context.api.createKey(options.name, options.scopes);
  }

  /** The API keys: ids, names, scopes and creation times (never the keys themselves). */
  async listKeys(): Promise<KeySummary[]> {
    return [...(await withRetry(this.#context.retry, () => this.#context.api.listKeys()))];
  }

  /** Revokes a key by id; NOT_FOUND for an unknown id. */
  async revokeKey(id: string): Promise<void> {
    if (typeof id !== 'string' || id.length === 0) throw invalidArgument('revokeKey() takes a key id');
    await withRetry(this.#context.retry, () => this.#context.api.revokeKey(id));
  }

  // ------------------------------------------------------------------------------------------------
  // push consumers

  /** Creates a push consumer; `secret` in the answer signs its deliveries and is shown this once. Not retried (CONSUMER_EXISTS on a second try). */
  async createPushConsumer(consumer: PushConsumerToCreate): Promise<CreatedPushConsumer> {
    if (!consumer || typeof consumer.name !== 'string') throw invalidArgument('createPushConsumer() takes { name, topics, target, ... }');
    return this.#context.api.createConsumer(consumer);
  }

  async listPushConsumers(): Promise<PushConsumerSummary[]> {
    return [...(await withRetry(this.#context.retry, () => this.#context.api.listConsumers()))];
  }

  /** Configuration, state, per-partition progress and counters; CONSUMER_NOT_FOUND for an unknown name. */
  async describePushConsumer(name: string): Promise<PushConsumerDescription> {
    return withRetry(this.#context.retry, () => this.#context.api.describeConsumer(name));
  }

  async pausePushConsumer(name: string): Promise<PushConsumerState> {
    return withRetry(this.#context.retry, () => this.#context.api.pauseConsumer(name));
  }

  async resumePushConsumer(name: string): Promise<PushConsumerState> {
    return withRetry(this.#context.retry, () => this.#context.api.resumeConsumer(name));
  }

  async deletePushConsumer(name: string): Promise<void> {
    await withRetry(this.#context.retry, () => this.#context.api.deleteConsumer(name));
  }
}
