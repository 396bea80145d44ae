/** Consumer groups: membership, heartbeats, offset commits, description, offset resets and deletion. */
import { allows } from '../../auth/api-keys.ts';
import type { GroupDescription, Groups, ResetTarget } from '../../groups/groups.ts';
import { SluiceError } from '../../errors.ts';
import { PUSH_GROUP_PREFIX } from '../../push/layout.ts';
import { json, noContent, type Handlers } from '../router.ts';

type GroupHandlers = 'listGroups' | 'joinGroup' | 'heartbeat' | 'leaveGroup' | 'commitOffsets' | 'resetOffsets' | 'describeGroup' | 'deleteGroup';

export function groupHandlers(groups: Groups): Pick<Handlers, GroupHandlers> {
  return {
    async listGroups({ visible }) {
      const names = (await groups.list()).filter(visible);
      return json(200, { groups: names.map((group) => ({ group })) });
    },
    async joinGroup({ params, body }) {
      if (params.group.startsWith(PUSH_GROUP_PREFIX)) {
        // A push consumer's only member is its dispatcher: another member would take partitions from it.
        throw new SluiceError('FORBIDDEN', `groups named ${PUSH_GROUP_PREFIX}* belong to push consumers; only their dispatcher joins them`);
      }
      const joined = await groups.join(params.group, body!);
      return json(200, {
        memberId: joined.memberId,
        generation: joined.generation,
        assignments: joined.assignments.map((a) => ({ topic: a.topic, partition: a.partition, committedOffset: a.committedOffset?.toString() ?? null })),
        revoking: joined.revoking,
        pending: joined.pending,
      });
    },
    async heartbeat({ params, body }) {
      return json(200, await groups.heartbeat(params.group, params.memberId, body!.generation));
    },
    async leaveGroup({ params }) {
      await groups.leave(params.group, params.memberId);
      return noContent();
    },
    async commitOffsets({ params, body }) {
      const committed = await groups.commit(params.group, {
        memberId: body!.memberId,
        generation: body!.generation,
        offsets: body!.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset) })),
      });
      return json(200, { offsets: committed.map((c) => ({ topic: c.topic, partition: c.partition, committedOffset: c.committedOffset.toString() })) });
    },
    async resetOffsets({ params, body }) {
      const request = body!;
      const target: ResetTarget =
        request.to === 'timestamp'
          ? { to: 'timestamp', timestamp: request.timestamp! }
          : request.to === 'offset'
            ? { to: 'offset', offset: BigInt(request.offset!) }
            : { to: request.to };
      const offsets = await groups.resetOffsets(params.group, { topic: request.topic, partitions: request.partitions, target });
      return json(200, { offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, committedOffset: o.committedOffset.toString() })) });
    },
    async deleteGroup({ params }) {
      await groups.deleteGroup(params.group);
      return noContent();
    },
    async describeGroup({ params, principal }) {
      const description = await groups.describe(params.group);
      return json(200, describeToJson(visibleTo(description, (topic) => allows(principal, 'consume', { topic, group: params.group }))));
    },
  };
}

/** The description with only the topics `visible` allows: other members' subscriptions and offsets of other topics are left out. */
function visibleTo(d: GroupDescription, visible: (topic: string) => boolean): GroupDescription {
  const shown = <T extends { topic: string }>(list: readonly T[]) => list.filter((entry) => visible(entry.topic));
  return {
    ...d,
    members: d.members.map((m) => ({ ...m, topics: m.topics.filter(visible), assignments: shown(m.assignments), revoking: shown(m.revoking) })),
    offsets: shown(d.offsets),
  };
}

function describeToJson(d: GroupDescription): unknown {
  return {
    group: d.group,
    generation: d.generation,
    strategy: d.strategy,
    members: d.members,
    offsets: d.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      committedOffset: o.committedOffset?.toString() ?? null,
      endOffset: o.endOffset.toString(),
      lag: o.lag?.toString() ?? null,
    })),
  };
}
