/** Topic administration and description. */
import { allows, authorize } from '../../auth/api-keys.ts';
import type { Engine } from '../../log/engine.ts';
import { describeValue } from '../../validation.ts';
import { invalid, json, jsonBody, noContent, route, type Route } from '../router.ts';

export function topicRoutes(engine: Engine): Route[] {
  return [
    route('POST', '/v1/topics', async ({ request, principal }) => {
      const body = jsonBody(request) as { name?: unknown; partitions?: unknown; config?: unknown };
      if (typeof body?.name !== 'string') throw invalid(`name: expected a topic name, got ${describeValue(body?.name)}`, 'name');
      authorize(principal, 'admin', { topic: body.name });
      const topic = await engine.topics.create(body.name, typeof body.partitions === 'number' ? body.partitions : Number.NaN, body.config ?? {});
      return json(201, { name: topic.name, partitions: topic.partitions, config: topic.config });
    }),
    route('GET', '/v1/topics', async ({ principal }) => {
      const topics = (await engine.topics.list()).filter(
        (t) => allows(principal, 'consume', { topic: t.name }) || allows(principal, 'produce', { topic: t.name }),
      );
      return json(200, { topics: topics.map((t) => ({ name: t.name, partitions: t.partitions })) });
    }),
    route('GET', '/v1/topics/:topic', async ({ params, principal }) => {
      if (!allows(principal, 'produce', { topic: params.topic })) authorize(principal, 'consume', { topic: params.topic });
      const { topic, partitions } = await engine.describeTopic(params.topic);
      return json(200, {
        name: topic.name,
        config: topic.config,
        partitions: partitions.map((p) => ({ partition: p.partition, startOffset: p.startOffset.toString(), endOffset: p.endOffset.toString() })),
      });
    }),
    route('DELETE', '/v1/topics/:topic', async ({ params, principal }) => {
      authorize(principal, 'admin', { topic: params.topic });
      await engine.topics.delete(params.topic);
      return noContent();
    }),
  ];
}
