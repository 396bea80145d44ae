/**
 * Push consumers (docs/api-v1.md, "Push consumers"): create, list, describe, pause, resume, delete.
 * The route table checks the consumer's name (a key's `groups` patterns cover consumers); its topics
 * are not in the path, so these handlers check them: admin on each to change a consumer, consume on
 * each to see one.
 */
import { allows, authorize, type Principal } from '../../auth/api-keys.ts';
import { SluiceError } from '../../errors.ts';
import type { ConsumerConfig } from '../../push/config.ts';
import type { ConsumerDescription, PushConsumers } from '../../push/consumers.ts';
import { json, noContent, type Handlers } from '../router.ts';

type ConsumerHandlers = 'createConsumer' | 'listConsumers' | 'describeConsumer' | 'pauseConsumer' | 'resumeConsumer' | 'deleteConsumer';

export function consumerHandlers(consumers: PushConsumers): Pick<Handlers, ConsumerHandlers> {
  /** Administration of a consumer: admin on its group and on every topic it reads or writes. */
  const authorizeAdmin = (principal: Principal, config: Pick<ConsumerConfig, 'name' | 'topics' | 'deadLetterTopic'>) => {
    for (const topic of [...config.topics, ...(config.deadLetterTopic ? [config.deadLetterTopic] : [])]) authorize(principal, 'admin', { topic, group: config.name });
  };
  const administer = async (principal: Principal, name: string) => authorizeAdmin(principal, (await consumers.get(name)).config);
  const mayRead = (principal: Principal, config: ConsumerConfig) => config.topics.every((topic) => allows(principal, 'consume', { topic, group: config.name }));
  return {
    async createConsumer({ body }) {
      const { config, secret } = await consumers.create(body);
      return json(201, { ...configToJson(config), secret });
    },
    async listConsumers({ visible, principal }) {
      const shown = (await consumers.list()).filter((c) => visible(c.config.name) && mayRead(principal, c.config));
      const described = await Promise.all(shown.map((c) => consumers.describe(c.config.name, c)));
      return json(200, { consumers: described.map((d) => ({ name: d.config.name, topics: d.config.topics, state: d.state })) });
    },
    async describeConsumer({ params, principal }) {
      const stored = await consumers.get(params.name);
      if (!mayRead(principal, stored.config)) throw new SluiceError('FORBIDDEN', `this API key may not consume every topic of push consumer ${params.name}`);
      return json(200, describeToJson(await consumers.describe(params.name, stored)));
    },
    async pauseConsumer({ params, principal }) {
      await administer(principal, params.name);
      await consumers.pause(params.name);
      return json(200, { name: params.name, state: 'paused' });
    },
    async resumeConsumer({ params, principal }) {
      await administer(principal, params.name);
      await consumers.resume(params.name);
      return json(200, { name: params.name, state: 'running' });
    },
    async deleteConsumer({ params, principal }) {
      await administer(principal, params.name);
      await consumers.delete(params.name);
      return noContent();
    },
  };
}

function configToJson(config: ConsumerConfig) {
  return {
    name: config.name,
    topics: config.topics,
    target: config.target,
    batch: config.batch,
    retry: config.retry,
    deadLetterTopic: config.deadLetterTopic,
    startAt: config.startAt,
    maxConcurrency: config.maxConcurrency,
    createdAt: config.createdAt,
  };
}

function describeToJson(d: ConsumerDescription) {
  return {
    ...configToJson(d.config),
    state: d.state,
    partitions: d.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      committedOffset: p.committedOffset?.toString() ?? null,
      endOffset: p.endOffset.toString(),
      lag: p.lag?.toString() ?? null,
      failing: p.failing,
    })),
    delivered: Number(d.delivered),
    failed: Number(d.failed),
    deadLettered: Number(d.deadLettered),
    lastError: d.lastError,
  };
}
