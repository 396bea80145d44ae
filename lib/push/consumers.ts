/**
 * Push consumers: creation, listing, description, pause, resume and deletion, over the metadata port
 * and the consumer-group facade (lib/groups). A consumer is a configuration item plus a consumer
 * group, `sluice.push.<name>`, whose member is the dispatcher (dispatcher.ts).
 *
 *  create   checks the topics, writes the consumer (condition: none of that name), clears any
 *           delivery state a consumer of that name left behind, then sets the group's offsets to
 *           `startAt` (the group has no member yet), so `latest` means "from now", not "from when the
 *           dispatcher first runs"
 *  delete   removes the consumer, makes the dispatcher's members leave the group (a dispatcher still
 *           running finds its membership gone and stops) and removes the delivery state
 */
import { ConditionFailedError, SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import type { Groups, ResetTarget } from '../groups/groups.ts';
import type { Engine } from '../log/engine.ts';
import type { MetadataStore } from '../storage/ports.ts';
import { checkTargetUrl, isUrlTarget, parseCreateConsumer, type ConsumerConfig, type UrlPolicy } from './config.ts';
import { CONSUMERS_PK, EMPTY_STATE, consumerFromItem, consumerGroup, consumerToItem, inForce, stateFromItem, statePks, type DeliveryState, type StoredConsumer } from './layout.ts';
import { newDeliverySecret, type SecretBox } from './secrets.ts';

export type ConsumerState = 'running' | 'paused' | 'failing';

export interface ConsumerSummary {
  readonly name: string;
  readonly topics: readonly string[];
  readonly state: ConsumerState;
}

export interface PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: bigint | null;
  readonly endOffset: bigint;
  readonly lag: bigint | null;
  /** This partition waits until the consumer is resumed (out of attempts, no dead-letter topic). */
  readonly failing: boolean;
}

export interface ConsumerDescription {
  readonly config: ConsumerConfig;
  readonly state: ConsumerState;
  readonly partitions: PartitionProgress[];
  readonly delivered: bigint;
  readonly failed: bigint;
  readonly deadLettered: bigint;
  readonly lastError: { readonly at: number; readonly message: string } | null;
}

export interface PushConsumersOptions {
  readonly engine: Engine;
  readonly groups: Groups;
  readonly secrets: SecretBox;
  /** Which URL targets this deployment accepts. */
  readonly urlPolicy: UrlPolicy;
  /** Whether function targets ({"functionArn"}) can be delivered here (AWS). @default false */
  readonly functionTargets?: boolean;
  /** Told when a consumer may have work again (created, resumed): the local dispatcher runs it. */
  readonly onChange?: (name: string) => void;
  readonly now?: () => number;
}

export class PushConsumers {
  readonly #engine: Engine;
  readonly #metadata: MetadataStore;
  readonly #groups: Groups;
  readonly #options: PushConsumersOptions;
  readonly #now: () => number;
  readonly #opened = new Map<string, Promise<string>>();

  constructor(options: PushConsumersOptions) {
    this.#engine = options.engine;
    this.#metadata = options.engine.metadata;
    this.#groups = options.groups;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get groups(): Groups {
    return this.#groups;
  }

  /** Creates a consumer; the answer holds its secret, the only time it is shown. */
  async create(body: unknown): Promise<{ config: ConsumerConfig; secret: string }> {
    const spec = parseCreateConsumer(body);
    if (isUrlTarget(spec.target)) await checkTargetUrl(spec.target.url, this.#options.urlPolicy);
    else if (!this.#options.functionTargets) {
      throw new SluiceError('INVALID_REQUEST', 'target.functionArn: Lambda function targets need the AWS deployment; use target.url here', { details: { field: 'target' } });
    }
    const topics = await Promise.all([...new Set(spec.topics)].map((t) => this.#engine.topics.get(t)));
    if (spec.deadLetterTopic !== null) await this.#engine.topics.get(spec.deadLetterTopic);
    if ((await this.#metadata.query(CONSUMERS_PK, { limit: LIMITS.maxConsumers })).length >= LIMITS.maxConsumers) {
      throw new SluiceError('INVALID_REQUEST', `this deployment has the maximum of ${LIMITS.maxConsumers} push consumers`);
    }
    const config: ConsumerConfig = { ...spec, topics: topics.map((t) => t.name), createdAt: this.#now() };
    const secret = newDeliverySecret();
    const stored: StoredConsumer = { config, sealedSecret: await this.#options.secrets.seal(secret, config.name), paused: false };
    try {
      await this.#metadata.put(consumerToItem(stored), { itemExists: false });
    } catch (error) {
      if (error instanceof ConditionFailedError) throw new SluiceError('CONSUMER_EXISTS', `push consumer ${config.name} already exists`, { cause: error, details: { consumer: config.name } });
      throw error;
    }
    const group = consumerGroup(config.name);
    for (const topic of topics) {
      await this.#clearState(config.name, topic.id, topic.partitions);
      await this.#groups.resetOffsets(group, { topic: topic.name, target: startTarget(config) });
    }
    this.#options.onChange?.(config.name);
    return { config, secret };
  }

  /**
   * Creates the consumer, or changes an existing one's configuration in place: its secret, pause and
   * committed offsets stay; topics it did not read before start at `startAt` (deploy-time consumers:
   * a stack update changes the batch or retry settings without replaying anything).
   */
  async upsert(body: unknown): Promise<ConsumerConfig> {
    const spec = parseCreateConsumer(body);
    const existing = await this.get(spec.name).catch((error: unknown) => {
      if (error instanceof SluiceError && error.code === 'CONSUMER_NOT_FOUND') return undefined;
      throw error;
    });
    if (!existing) return (await this.create(body)).config;
    if (isUrlTarget(spec.target)) await checkTargetUrl(spec.target.url, this.#options.urlPolicy);
    const topics = await Promise.all([...new Set(spec.topics)].map((t) => this.#engine.topics.get(t)));
    if (spec.deadLetterTopic !== null) await this.#engine.topics.get(spec.deadLetterTopic);
    const config: ConsumerConfig = { ...spec, topics: topics.map((t) => t.name), createdAt: existing.config.createdAt };
    await this.#metadata.put(consumerToItem({ ...existing, config }), { itemExists: true });
    const group = consumerGroup(config.name);
    for (const topic of topics) {
      if (existing.config.topics.includes(topic.name)) continue;
      await this.#clearState(config.name, topic.id, topic.partitions);
      await this.#groups.resetOffsets(group, { topic: topic.name, target: startTarget(config) }).catch((error: unknown) => {
        // The dispatcher is a member right now: the new topic's partitions start at startAt when it claims them.
        if (!(error instanceof SluiceError && error.code === 'GROUP_NOT_EMPTY')) throw error;
      });
    }
    this.#options.onChange?.(config.name);
    return config;
  }

  async get(name: string): Promise<StoredConsumer> {
    const item = await this.#metadata.get(CONSUMERS_PK, name);
    if (!item) throw notFound(name);
    return consumerFromItem(item);
  }

  /** The consumer's secret in plain text, for signing (opened once per process and sealed value). */
  secretOf(consumer: StoredConsumer): Promise<string> {
    const key = `${consumer.config.name}\n${consumer.sealedSecret}`;
    let opened = this.#opened.get(key);
    if (!opened) {
      opened = this.#options.secrets.open(consumer.sealedSecret, consumer.config.name);
      opened.catch(() => this.#opened.delete(key));
      this.#opened.set(key, opened);
    }
    return opened;
  }

  async list(): Promise<StoredConsumer[]> {
    return (await this.#metadata.query(CONSUMERS_PK)).map(consumerFromItem);
  }

  async summaries(): Promise<ConsumerSummary[]> {
    return Promise.all(
      (await this.list()).map(async (c) => ({ name: c.config.name, topics: c.config.topics, state: (await this.describe(c.config.name, c)).state })),
    );
  }

  async describe(name: string, known?: StoredConsumer): Promise<ConsumerDescription> {
    const consumer = known ?? (await this.get(name));
    const described = await this.#groups.describe(consumerGroup(name)).catch((error: unknown) => {
      if (error instanceof SluiceError && error.code === 'GROUP_NOT_FOUND') return undefined;
      throw error;
    });
    const committed = new Map((described?.offsets ?? []).map((o) => [`${o.topic}\n${o.partition}`, o]));
    const partitions: PartitionProgress[] = [];
    let delivered = 0n;
    let failed = 0n;
    let deadLettered = 0n;
    let lastError: ConsumerDescription['lastError'] = null;
    for (const name of consumer.config.topics) {
      const topic = await this.#engine.topics.get(name).catch(() => undefined);
      if (!topic) continue;
      const states = await this.#states(consumer.config.name, topic.id, topic.partitions);
      const { partitions: heads } = await this.#engine.describeTopic(name);
      for (const head of heads) {
        const state = states.get(head.partition) ?? EMPTY_STATE;
        const offset = committed.get(`${name}\n${head.partition}`);
        const committedOffset = offset?.committedOffset ?? null;
        delivered += state.delivered;
        failed += state.failed;
        deadLettered += state.deadLettered;
        if (state.lastError && (!lastError || state.lastError.at > lastError.at)) lastError = state.lastError;
        partitions.push({
          topic: name,
          partition: head.partition,
          committedOffset,
          endOffset: head.endOffset,
          lag: committedOffset === null ? null : committedOffset >= head.endOffset ? 0n : head.endOffset - committedOffset,
          failing: committedOffset !== null && state.failing && inForce(state, committedOffset),
        });
      }
    }
    const state: ConsumerState = consumer.paused ? 'paused' : partitions.some((p) => p.failing) ? 'failing' : 'running';
    return { config: consumer.config, state, partitions, delivered, failed, deadLettered, lastError };
  }

  async pause(name: string): Promise<void> {
    await this.#setPaused(name, true);
  }

  /** Resumes a paused consumer, and gives partitions that ran out of attempts a fresh set. */
  async resume(name: string): Promise<void> {
    const consumer = await this.#setPaused(name, false);
    for (const topicName of consumer.config.topics) {
      const topic = await this.#engine.topics.get(topicName).catch(() => undefined);
      if (!topic) continue;
      for (const pk of statePks(name, topic.id, topic.partitions)) {
        for (const item of await this.#metadata.query(pk)) {
          if (item.failing !== true) continue;
          const version = stateFromItem(item).version;
          await this.#metadata
            .update(pk, item.sk, { set: { failing: false, attempts: 0n, nextAttemptAt: 0n }, add: { version: 1n } }, { where: [{ attr: 'version', op: '=', value: version }] })
            .catch((error: unknown) => {
              if (!(error instanceof ConditionFailedError)) throw error; // the dispatcher changed it meanwhile
            });
        }
      }
    }
    this.#options.onChange?.(name);
  }

  async delete(name: string): Promise<void> {
    const consumer = await this.get(name);
    try {
      await this.#metadata.delete(CONSUMERS_PK, name, { itemExists: true });
    } catch (error) {
      if (error instanceof ConditionFailedError) throw notFound(name);
      throw error;
    }
    const group = consumerGroup(name);
    const described = await this.#groups.describe(group).catch(() => undefined);
    for (const member of described?.members ?? []) await this.#groups.leave(group, member.memberId);
    for (const topicName of consumer.config.topics) {
      const topic = await this.#engine.topics.get(topicName).catch(() => undefined);
      if (topic) await this.#clearState(name, topic.id, topic.partitions);
    }
    this.#options.onChange?.(name);
  }

  async #setPaused(name: string, paused: boolean): Promise<StoredConsumer> {
    try {
      await this.#metadata.update(CONSUMERS_PK, name, { set: { paused } }, { itemExists: true });
    } catch (error) {
      if (error instanceof ConditionFailedError) throw notFound(name);
      throw error;
    }
    return this.get(name);
  }

  async #states(name: string, topicId: string, partitions: number): Promise<Map<number, DeliveryState>> {
    const out = new Map<number, DeliveryState>();
    for (const pk of statePks(name, topicId, partitions)) {
      for (const item of await this.#metadata.query(pk)) out.set(Number(item.sk.slice(2)), stateFromItem(item));
    }
    return out;
  }

  async #clearState(name: string, topicId: string, partitions: number): Promise<void> {
    for (const pk of statePks(name, topicId, partitions)) {
      for (const item of await this.#metadata.query(pk)) await this.#metadata.delete(pk, item.sk);
    }
  }
}

function startTarget(config: ConsumerConfig): ResetTarget {
  if (config.startAt === 'earliest') return { to: 'earliest' };
  if (config.startAt === 'latest') return { to: 'latest' };
  return { to: 'timestamp', timestamp: config.startAt.timestamp };
}

function notFound(name: string): SluiceError {
  return new SluiceError('CONSUMER_NOT_FOUND', `push consumer ${name} does not exist`, { details: { consumer: name } });
}

/** A SecretBox for deployments where push consumers are not set up: creating one says so. */
export const NO_SECRET_BOX: SecretBox = {
  seal: async () => {
    throw new SluiceError('INVALID_REQUEST', 'push consumers are not configured in this deployment (no secret key)');
  },
  open: async () => {
    throw new SluiceError('INTERNAL', 'push consumers are not configured in this deployment (no secret key)');
  },
};
