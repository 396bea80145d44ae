/** Consumer groups: membership, heartbeats, offset commits, description, offset resets and deletion. */
import { z } from 'zod';
import { allows, authorize } from '../../auth/api-keys.ts';
import { SluiceError } from '../../errors.ts';
import { LIMITS } from '../../defaults.ts';
import type { GroupDescription, Groups, JoinRequest, ResetTarget } from '../../groups/groups.ts';
import { json, jsonBody, noContent, route, type Route } from '../router.ts';

const offsetValue = z.union([
  z.string().regex(/^\d{1,19}$/, 'a non-negative decimal integer'),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);

const heartbeatSchema = z.object({ generation: z.number().int().min(0) }).strict();

const commitSchema = z
  .object({
    memberId: z.string().min(1).max(64),
    generation: z.number().int().min(0),
    offsets: z
      .array(z.object({ topic: z.string().min(1).max(249), partition: z.number().int().min(0).max(LIMITS.maxPartitions), offset: offsetValue }).strict())
      .min(1)
      .max(LIMITS.maxCommitOffsets),
  })
  .strict();

const resetSchema = z
  .object({
    topic: z.string().min(1).max(249),
    partitions: z.array(z.number().int().min(0)).max(LIMITS.maxPartitions).optional(),
    to: z.enum(['earliest', 'latest', 'timestamp', 'offset']),
    timestamp: z.number().int().min(0).optional(),
    offset: offsetValue.optional(),
  })
  .strict()
  .refine((r) => (r.to === 'timestamp') === (r.timestamp !== undefined), { message: 'timestamp is required with "to": "timestamp" (and only then)' })
  .refine((r) => (r.to === 'offset') === (r.offset !== undefined), { message: 'offset is required with "to": "offset" (and only then)' });

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new SluiceError('INVALID_REQUEST', `invalid ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function groupRoutes(groups: Groups): Route[] {
  return [
    route('GET', '/v1/groups', async ({ principal }) => {
      const names = (await groups.list()).filter((group) => allows(principal, 'consume', { group }));
      return json(200, { groups: names.map((group) => ({ group })) });
    }),
    route('POST', '/v1/groups/:group/members', async ({ request, params, principal }) => {
      const group = params.group;
      authorize(principal, 'consume', { group });
      const body = jsonBody(request) as { topics?: unknown };
      if (Array.isArray(body?.topics)) for (const topic of body.topics) if (typeof topic === 'string') authorize(principal, 'consume', { topic, group });
      const joined = await groups.join(group, body as JoinRequest);
      return json(200, {
        memberId: joined.memberId,
        generation: joined.generation,
        assignments: joined.assignments.map((a) => ({ topic: a.topic, partition: a.partition, committedOffset: a.committedOffset?.toString() ?? null })),
        revoking: joined.revoking,
        pending: joined.pending,
      });
    }),
    route('POST', '/v1/groups/:group/members/:memberId/heartbeat', async ({ request, params, principal }) => {
      authorize(principal, 'consume', { group: params.group });
      const { generation } = parse(heartbeatSchema, jsonBody(request), 'heartbeat');
      return json(200, await groups.heartbeat(params.group, params.memberId, generation));
    }),
    route('DELETE', '/v1/groups/:group/members/:memberId', async ({ params, principal }) => {
      authorize(principal, 'consume', { group: params.group });
      await groups.leave(params.group, params.memberId);
      return noContent();
    }),
    route('POST', '/v1/groups/:group/offsets', async ({ request, params, principal }) => {
      const group = params.group;
      authorize(principal, 'consume', { group });
      const body = parse(commitSchema, jsonBody(request), 'offset commit');
      for (const topic of new Set(body.offsets.map((o) => o.topic))) authorize(principal, 'consume', { topic, group });
      const committed = await groups.commit(group, {
        memberId: body.memberId,
        generation: body.generation,
        offsets: body.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset) })),
      });
      return json(200, { offsets: committed.map((c) => ({ topic: c.topic, partition: c.partition, committedOffset: c.committedOffset.toString() })) });
    }),
    route('POST', '/v1/groups/:group/offsets/reset', async ({ request, params, principal }) => {
      const group = params.group;
      const body = parse(resetSchema, jsonBody(request), 'offset reset');
      authorize(principal, 'admin', { topic: body.topic, group });
      const target: ResetTarget =
        body.to === 'timestamp'
          ? { to: 'timestamp', timestamp: body.timestamp! }
          : body.to === 'offset'
            ? { to: 'offset', offset: BigInt(body.offset!) }
            : { to: body.to };
      const offsets = await groups.resetOffsets(group, { topic: body.topic, partitions: body.partitions, target });
      return json(200, { offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, committedOffset: o.committedOffset.toString() })) });
    }),
    route('DELETE', '/v1/groups/:group', async ({ params, principal }) => {
      // Destroys the group's committed offsets: admin, as resetting them is.
      authorize(principal, 'admin', { group: params.group });
      await groups.deleteGroup(params.group);
      return noContent();
    }),
    route('GET', '/v1/groups/:group', async ({ params, principal }) => {
      authorize(principal, 'consume', { group: params.group });
      return json(200, describeToJson(await groups.describe(params.group)));
    }),
  ];
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
