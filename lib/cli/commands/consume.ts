/**
 * `sluice consume <topic>`: prints records through the client's consumer (presigned ranged reads,
 * prefetch; with --group, a member of the consumer group that commits what was printed).
 *
 * Without --follow it reads to the end the topic had when the command started and exits 0: the end
 * offsets come from one describe at the start, each partition pauses once its position reaches its
 * end, and the command stops when all have (as a group member: all the partitions the group gave it,
 * none when other members hold them all). --max N stops after N records: the partitions pause inside
 * the handler, so the group's commit covers exactly the records printed.
 */
import type { Command } from 'commander';
import { StaticAssignment } from '../../client/consumer/assignment.ts';
import type { SeekTarget } from '../../client/consumer/consumer.ts';
import { action } from '../context.ts';
import { UsageError } from '../errors.ts';
import { recordFormatter } from '../format.ts';
import { parseNonNegativeInteger, parsePositiveInteger, parseStartPosition, type StartPosition } from '../parse.ts';

interface ConsumeOptions {
  group?: string;
  from?: string;
  follow?: boolean;
  max?: string;
  format?: string;
  partition: string[];
}

/** How often the end of a non-following read is checked (positions also move without records: past compacted or aborted offsets). */
const END_CHECK_MS = 50;

export function registerConsume(program: Command): void {
  program
    .command('consume <topic>')
    .description('Print records of a topic: to its current end, or --follow for new ones')
    .option('-g, --group <group>', 'consume as a member of this consumer group (commits what was printed)')
    .option('--from <position>', 'earliest, latest, an offset, or an ISO-8601 time (default: the group\'s committed offset, else earliest)')
    .option('-f, --follow', 'keep waiting for new records (stop with Ctrl-C)')
    .option('-n, --max <n>', 'stop after n records')
    .option('--format <format>', 'value, json, or a template with %t %p %o %T %k %v %K %S %h (default value; json with --output json)')
    .option('-p, --partition <n>', 'only this partition (repeatable; not with --group)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .addHelpText(
      'after',
      `
Examples:
  sluice consume orders --from earliest --max 10
  sluice consume orders --group billing --follow --format '%p/%o %k=%v'
  sluice consume orders --from 2026-12-01T10:00:00Z --format json`,
    )
    .action(
      action(async (context, topic: string, options: ConsumeOptions) => {
        const format = recordFormatter(options.format ?? (context.output.json ? 'json' : 'value'));
        const from: StartPosition | undefined = options.from === undefined ? undefined : parseStartPosition(options.from);
        const max = options.max === undefined ? undefined : parsePositiveInteger(options.max, '--max');
        const only = options.partition.map((p) => parseNonNegativeInteger(p, '--partition'));
        if (only.length > 0 && options.group !== undefined) throw new UsageError('--partition reads without a group; a group assigns its partitions itself');
        const follow = options.follow === true;

        const described = await context.admin().describeTopic(topic);
        for (const p of only) if (!described.partitions.some((x) => x.partition === p)) throw new UsageError(`--partition ${p}: topic ${topic} has partitions 0-${described.partitions.length - 1}`);
        const ends = new Map(described.partitions.map((p) => [p.partition, BigInt(p.endOffset)]));

        const consumer = context.client().consumer({
          ...(options.group === undefined ? {} : { groupId: options.group }),
          ...(only.length > 0 ? { assignmentSource: new StaticAssignment(only.map((partition) => ({ topic, partition }))) } : {}),
          maxWaitMs: follow ? 5000 : 500,
        });
        await consumer.subscribe({ topic, fromBeginning: true });
        if (from) for (const { partition } of described.partitions) await consumer.seek(seekTarget(topic, partition, from));

        let printed = 0;
        let finish!: () => void;
        let fail!: (error: unknown) => void;
        const finished = new Promise<void>((resolve, reject) => {
          finish = resolve;
          fail = reject;
        });
        consumer.on('crash', (event) => fail(event.error));
        const onSignal = () => finish();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);

        let timer: ReturnType<typeof setInterval> | undefined;
        try {
          await consumer.run({
            eachMessage: async ({ partition, message, pause }) => {
              await context.output.write(format({ topic, partition, message }));
              printed++;
              if (max !== undefined && printed >= max) {
                // the consumer hands out no record of a paused topic: the position (and the commit) stays right after this one
                consumer.pause([{ topic }]);
                finish();
              } else if (!follow && BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) {
                pause();
              }
            },
          });
          if (!follow) {
            const atEnd = () => consumer.assignment().every((p) => BigInt(p.position) >= (ends.get(p.partition) ?? 0n));
            if (atEnd()) finish();
            timer = setInterval(() => atEnd() && finish(), END_CHECK_MS);
          }
          await finished;
        } finally {
          clearInterval(timer);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await consumer.disconnect();
        }
        context.output.note(`Consumed ${printed} records from ${topic}${options.group ? ` as group ${options.group}` : ''}`);
      }),
    );
}

function seekTarget(topic: string, partition: number, from: StartPosition): SeekTarget {
  switch (from.kind) {
    case 'timestamp':
      return { topic, partition, timestamp: from.timestamp };
    case 'offset':
      return { topic, partition, offset: from.offset };
    default:
      return { topic, partition, offset: from.kind };
  }
}
