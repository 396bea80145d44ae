/** Topic administration and description, and deleting a partition's records before an offset. */
import type { Engine } from '../../log/engine.ts';
import { json, noContent, type Handlers } from '../router.ts';

export function topicHandlers(engine: Engine): Pick<Handlers, 'createTopic' | 'listTopics' | 'describeTopic' | 'alterTopicConfig' | 'addPartitions' | 'deleteTopic' | 'deleteRecords'> {
  return {
    async createTopic({ body }) {
      const { name, partitions, config } = body!;
      const topic = await engine.topics.create(name, partitions, config ?? {});
      return json(201, { name: topic.name, partitions: topic.partitions, config: topic.config });
    },
    async listTopics({ visible }) {
      const topics = (await engine.topics.list()).filter((t) => visible(t.name));
      return json(200, { topics: topics.map((t) => ({ name: t.name, partitions: t.partitions })) });
    },
    async describeTopic({ params }) {
      const { topic, partitions } = await engine.describeTopic(params.topic);
      return json(200, {
        name: topic.name,
        config: topic.config,
        partitions: partitions.map((p) => ({ partition: p.partition, startOffset: p.startOffset.toString(), endOffset: p.endOffset.toString() })),
      });
    },
    async alterTopicConfig({ params, body }) {
      const topic = await engine.topics.alterConfig(params.topic, body!.config);
      return json(200, { name: topic.name, partitions: topic.partitions, config: topic.config });
    },
    async addPartitions({ params, body }) {
      const topic = await engine.topics.addPartitions(params.topic, body!.count);
      return json(200, { name: topic.name, partitions: topic.partitions, config: topic.config });
    },
    async deleteRecords({ params, query }) {
      const state = await engine.deleteRecords(params.topic, Number(params.partition), query.before === '-1' ? 'end' : BigInt(query.before));
      return json(200, { partition: state.partition, startOffset: state.startOffset.toString(), endOffset: state.endOffset.toString() });
    },
    async deleteTopic({ params }) {
      await engine.topics.delete(params.topic);
      return noContent();
    },
  };
}
