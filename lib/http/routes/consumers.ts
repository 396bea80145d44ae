/** Push consumers (../shared/api-v1.md, "Push consumers"): create, list, describe, pause, resume, delete. */
import { allows, authorize, type Principal } from '../../auth/api-keys.ts';
import { SluiceError } from '../../errors.ts';
import type { ConsumerConfig } from '../../push/config.ts';
import type { ConsumerDescription, PushConsumers } from '../../push/consumers.ts';
import { consumerGroup } from '../../push/layout.ts';
import { json, jsonBody, noContent, route, type Route } from '../router.ts';

export function consumerRoutes(consumers: PushConsumers): Route[] {
  const mayRead = (principal: Principal, config: ConsumerConfig) =>
    config.topics.every((topic) => allows(principal, 'consume', { topic, group: consumerGroup(config.name) }));
  /** Administration of a consumer: admin on its group and on every topic it reads or writes. */
  const authorizeAdmin = (principal: Principal, name: string, topics: readonly unknown[]) => {
    authorize(principal, 'admin', { group: consumerGroup(name) });
    for (const topic of topics) if (typeof topic === 'string') authorize(principal, 'admin', { topic, group: consumerGroup(name) });
  };
  const administer = async (principal: Principal, name: string) => {
    const { config } = await consumers.get(name);
    authorizeAdmin(principal, name, [...config.topics, config.deadLetterTopic]);
  };
  return [
    route('POST', '/v1/consumers', async ({ request, principal }) => {
      // A push consumer reads its topics with the service's own rights and writes its dead letters:
      // creating one is administration of every topic it touches.
      const body = jsonBody(request) as { name?: unknown; topics?: unknown; deadLetterTopic?: unknown };
      authorizeAdmin(principal, typeof body?.name === 'string' ? body.name : '', [...(Array.isArray(body?.topics) ? body.topics : []), body?.deadLetterTopic]);
      const { config, secret } = await consumers.create(body);
      return json(201, { ...configToJson(config), secret });
    }),
    route('GET', '/v1/consumers', async ({ principal }) => {
      const visible = (await consumers.list()).filter((c) => mayRead(principal, c.config));
      const described = await Promise.all(visible.map((c) => consumers.describe(c.config.name, c)));
      return json(200, { consumers: described.map((d) => ({ name: d.config.name, topics: d.config.topics, state: d.state })) });
    }),
    route('GET', '/v1/consumers/:name', async ({ params, principal }) => {
      const stored = await consumers.get(params.name);
      if (!mayRead(principal, stored.config)) throw new SluiceError('FORBIDDEN', `this API key may not consume every topic of push consumer ${params.name}`);
      return json(200, describeToJson(await consumers.describe(params.name, stored)));
    }),
    route('POST', '/v1/consumers/:name/pause', async ({ params, principal }) => {
      await administer(principal, params.name);
      await consumers.pause(params.name);
      return json(200, { name: params.name, state: 'paused' });
    }),
    route('POST', '/v1/consumers/:name/resume', async ({ params, principal }) => {
      await administer(principal, params.name);
      await consumers.resume(params.name);
      return json(200, { name: params.name, state: 'running' });
    }),
    route('DELETE', '/v1/consumers/:name', async ({ params, principal }) => {
      await administer(principal, params.name);
      await consumers.delete(params.name);
      return noContent();
    }),
  ];
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
