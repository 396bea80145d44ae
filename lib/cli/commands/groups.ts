/** `sluice groups list | describe | delete | reset`, through the client's admin. */
import type { Command } from 'commander';
import { action, commandGroup } from '../context.ts';
import { UsageError } from '../errors.ts';
import { parseStartPosition } from '../parse.ts';

export function registerGroups(program: Command): void {
  const groups = commandGroup(program, 'groups', 'Consumer groups: list, describe (lag per partition), delete, reset offsets');

  groups
    .command('list')
    .description('The consumer groups this key may consume')
    .action(
      action(async (context) => {
        const { groups: list } = await context.admin().listGroups();
        context.output.result({ groups: list.map((g) => g.groupId) }, () => {
          if (list.length === 0) context.output.note('No consumer groups yet: sluice consume <topic> --group <name> makes one');
          for (const g of list) context.output.line(g.groupId);
        });
      }),
    );

  groups
    .command('describe <group>')
    .description("A group's members and assignments, and per partition its committed offset, end offset and lag")
    .action(
      action(async (context, group: string) => {
        const d = await context.admin().describeGroup(group);
        const owner = new Map<string, string>();
        for (const m of d.members) for (const a of m.assignments) owner.set(`${a.topic}/${a.partition}`, m.instanceId ?? m.memberId);
        const totalLag = d.offsets.reduce((n, o) => n + BigInt(o.lag ?? 0), 0n);
        context.output.result({ ...d, totalLag: totalLag.toString() }, () => {
          const out = context.output;
          out.line(`Group:      ${d.group}`);
          out.line(`Generation: ${d.generation} (${d.strategy})`);
          out.line(`Members:    ${d.members.length}${d.members.length === 0 ? ' (offsets can be reset or the group deleted)' : ''}`);
          out.line(`Total lag:  ${totalLag}`);
          if (d.members.length > 0) {
            out.line();
            out.table(
              ['MEMBER', 'TOPICS', 'ASSIGNED', 'REVOKING'],
              d.members.map((m) => [m.instanceId ?? m.memberId, m.topics.join(','), partitionList(m.assignments), partitionList(m.revoking) || '-']),
            );
          }
          out.line();
          out.table(
            ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'MEMBER'],
            d.offsets.map((o) => [o.topic, o.partition, o.committedOffset, o.endOffset, o.lag, owner.get(`${o.topic}/${o.partition}`)]),
          );
        });
      }),
    );

  groups
    .command('delete <group>')
    .description('Delete a group that has no members, with its committed offsets')
    .action(
      action(async (context, group: string) => {
        await context.admin().deleteGroups([group]);
        context.output.result({ deleted: group }, () => context.output.line(`Deleted group ${group}`));
      }),
    );

  groups
    .command('reset <group>')
    .description("Move a group's committed offsets (only while it has no members)")
    .requiredOption('--to <position>', 'earliest, latest, an offset, or an ISO-8601 time (the first offset at or after it)')
    .option('-t, --topic <topic>', 'the topic to reset (repeatable; default: every topic the group has offsets for)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(
      action(async (context, group: string, options: { to: string; topic: string[] }) => {
        const to = parseStartPosition(options.to, '--to');
        const admin = context.admin();
        let topics = options.topic;
        if (topics.length === 0) {
          topics = [...new Set((await admin.describeGroup(group)).offsets.map((o) => o.topic))];
          if (topics.length === 0) throw new UsageError(`group ${group} has no committed offsets: name the topic with --topic`);
        }
        const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
        for (const topic of topics) {
          if (to.kind === 'offset') {
            const partitions = (await admin.describeTopic(topic)).partitions.map((p) => ({ partition: p.partition, offset: to.offset }));
            await admin.setOffsets({ groupId: group, topic, partitions });
            // the server moves an offset outside the log into its range: show what it committed
            const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
            for (const t of committed) for (const p of t.partitions) offsets.push({ topic: t.topic, partition: p.partition, offset: p.offset });
          } else {
            offsets.push(
              ...(await admin.resetOffsets({
                groupId: group,
                topic,
                ...(to.kind === 'timestamp' ? { timestamp: to.timestamp } : { earliest: to.kind === 'earliest' }),
              })),
            );
          }
        }
        context.output.result({ group, offsets }, () => {
          context.output.line(`Reset group ${group} to ${options.to}:`);
          context.output.table(['TOPIC', 'PARTITION', 'COMMITTED'], offsets.map((o) => [o.topic, o.partition, o.offset]));
        });
      }),
    );
}

function partitionList(partitions: ReadonlyArray<{ topic: string; partition: number }>): string {
  return partitions.map((p) => `${p.topic}/${p.partition}`).join(',');
}
