/** Topic administration, end offsets and offsets by time (KafkaJS admin names). */
import type { ClientContext } from '../context.ts';
import { invalidArgument, SluiceClientError } from '../errors.ts';
import type { TopicConfig } from '../protocol/api.ts';
import { withRetry } from '../retry/retry.ts';

export interface TopicToCreate {
  readonly topic: string;
  readonly numPartitions: number;
  readonly config?: TopicConfig;
}

export interface TopicInfo {
  readonly name: string;
  readonly config: TopicConfig;
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
}
