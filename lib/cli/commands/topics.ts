/** `sluice topics list | create | describe | alter | delete-records | delete`, through the client's admin. */
import type { Command } from 'commander';
import type { TimestampType } from '../../api/limits.ts';
import type { Admin, TopicInfo } from '../../client/admin/admin.ts';
import { Option } from 'commander';
import { action, commandGroup } from '../context.ts';
import { CliError } from '../errors.ts';
import { formatBytes, formatDurationMs } from '../output.ts';
import { parseDurationMs, parseNonNegativeInteger, parsePositiveInteger } from '../parse.ts';

/** The topic as an alteration answers it, for a command that only added partitions. */
async function describedAsAltered(admin: Admin, name: string): Promise<{ name: string; partitions: number; config: TopicInfo['config'] }> {
  const described = await admin.describeTopic(name);
  return { name: described.name, partitions: described.partitions.length, config: described.config };
}

export function registerTopics(program: Command): void {
  const topics = commandGroup(program, 'topics', 'List, create, describe, alter and delete topics, and delete records before an offset');

  topics
    .command('list')
    .description('The topics this key may produce to or consume, with their partition counts')
    .action(
      action(async (context) => {
        const admin = context.admin();
        // the admin client lists names; the partition counts come with one describe per topic
        const names = await admin.listTopics();
        const described = await Promise.all(names.map((name) => admin.describeTopic(name)));
        const rows = described.map((t) => ({
          name: t.name,
          partitions: t.partitions.length,
          records: t.partitions.reduce((n, p) => n + (BigInt(p.endOffset) - BigInt(p.startOffset)), 0n).toString(),
        }));
        context.output.result({ topics: rows }, () => {
          if (rows.length === 0) context.output.note('No topics yet: sluice topics create <name> --partitions 3');
          else context.output.table(['TOPIC', 'PARTITIONS', 'RECORDS'], rows.map((r) => [r.name, r.partitions, r.records]));
        });
      }),
    );

  topics
    .command('create <name>')
    .description('Create a topic')
    .requiredOption('-p, --partitions <n>', 'number of partitions')
    .option('--retention <duration>', 'keep records this long: 30m, 12h, 7d, 2w, or forever (default 7d)')
    .option('--retention-bytes <bytes>', 'bytes kept per partition (default: no bound)')
    .addOption(new Option('--compression <codec>', 'codec of batches the server encodes from JSON records (default zstd)').choices(['zstd', 'gzip', 'none']))
    .addOption(new Option('--timestamp-type <type>', "whose clock stamps records: the producers' (default) or the server's at append").choices(['CreateTime', 'LogAppendTime']))
    .option('--if-not-exists', 'succeed when the topic already exists')
    .action(
      action(async (context, name: string, options: { partitions: string; retention?: string; retentionBytes?: string; compression?: 'zstd' | 'gzip' | 'none'; timestampType?: TimestampType; ifNotExists?: boolean }) => {
        const numPartitions = parsePositiveInteger(options.partitions, '--partitions');
        const config = {
          ...(options.retention === undefined ? {} : { retentionMs: parseDurationMs(options.retention, '--retention') }),
          ...(options.retentionBytes === undefined ? {} : { retentionBytes: options.retentionBytes === '-1' ? -1 : parseNonNegativeInteger(options.retentionBytes, '--retention-bytes') }),
          ...(options.compression === undefined ? {} : { compression: options.compression }),
          ...(options.timestampType === undefined ? {} : { timestampType: options.timestampType }),
        };
        const admin = context.admin();
        const created = await admin.createTopics({ topics: [{ topic: name, numPartitions, ...(Object.keys(config).length ? { config } : {}) }] });
        if (!created && !options.ifNotExists) throw new CliError(`topic ${name} already exists (--if-not-exists to accept that)`);
        const topic = await admin.describeTopic(name);
        context.output.result({ created, ...topic }, () =>
          context.output.line(
            `${created ? 'Created' : 'Exists:'} topic ${name}: ${topic.partitions.length} partitions, retention ${formatDurationMs(topic.config.retentionMs)}${
              topic.config.retentionBytes >= 0 ? ` or ${formatBytes(topic.config.retentionBytes)} per partition` : ''
            }, ${topic.config.compression}${topic.config.timestampType === 'LogAppendTime' ? ', stamped at append' : ''}`,
          ),
        );
      }),
    );

  topics
    .command('describe <name>')
    .description("A topic's settings and, per partition, its start and end offsets")
    .action(
      action(async (context, name: string) => {
        const topic = await context.admin().describeTopic(name);
        const records = topic.partitions.reduce((n, p) => n + (BigInt(p.endOffset) - BigInt(p.startOffset)), 0n);
        context.output.result({ ...topic, records: records.toString() }, () => {
          const c = topic.config;
          context.output.line(`Topic:       ${topic.name}`);
          context.output.line(`Partitions:  ${topic.partitions.length}`);
          context.output.line(`Retention:   ${formatDurationMs(c.retentionMs)}${c.retentionBytes >= 0 ? `, ${formatBytes(c.retentionBytes)} per partition` : ''}`);
          context.output.line(`Compression: ${c.compression}`);
          context.output.line(`Timestamps:  ${c.timestampType}`);
          context.output.line(`Records:     ${records}`);
          context.output.line();
          context.output.table(
            ['PARTITION', 'START', 'END', 'RECORDS'],
            topic.partitions.map((p) => [p.partition, p.startOffset, p.endOffset, (BigInt(p.endOffset) - BigInt(p.startOffset)).toString()]),
          );
        });
      }),
    );

  topics
    .command('alter <name>')
    .description("Change some of a topic's settings, or raise its partition count; the others keep their values ('default' sets one to the deployment's default)")
    .option('-p, --partitions <n>', 'raise the partition count to n (never lowers it; keyed records then map to partitions by the new count)')
    .option('--retention <duration>', 'keep records this long: 30m, 12h, 7d, 2w, forever, or default')
    .option('--retention-bytes <bytes>', 'bytes kept per partition, -1 for no bound, or default')
    .addOption(new Option('--compression <codec>', 'codec of batches the server encodes from JSON records from now on').choices(['zstd', 'gzip', 'none', 'default']))
    .addOption(new Option('--timestamp-type <type>', 'how batches appended from now on are stamped').choices(['CreateTime', 'LogAppendTime', 'default']))
    .action(
      action(async (context, name: string, options: { partitions?: string; retention?: string; retentionBytes?: string; compression?: 'zstd' | 'gzip' | 'none' | 'default'; timestampType?: TimestampType | 'default' }) => {
        const orDefault = <T>(value: string, parse: (value: string) => T): T | null => (value === 'default' ? null : parse(value));
        const config = {
          ...(options.retention === undefined ? {} : { retentionMs: orDefault(options.retention, (v) => parseDurationMs(v, '--retention')) }),
          ...(options.retentionBytes === undefined
            ? {}
            : { retentionBytes: orDefault(options.retentionBytes, (v) => (v === '-1' ? -1 : parseNonNegativeInteger(v, '--retention-bytes'))) }),
          ...(options.compression === undefined ? {} : { compression: orDefault(options.compression, (v) => v as 'zstd' | 'gzip' | 'none') }),
          ...(options.timestampType === undefined ? {} : { timestampType: orDefault(options.timestampType, (v) => v as TimestampType) }),
        };
        const count = options.partitions === undefined ? undefined : parsePositiveInteger(options.partitions, '--partitions');
        if (Object.keys(config).length === 0 && count === undefined) throw new CliError('nothing to change: give --partitions, --retention, --retention-bytes, --compression or --timestamp-type');
        const admin = context.admin();
        if (count !== undefined) {
          // A count that cannot be reached refuses the command before any setting changes.
          const has = (await admin.describeTopic(name)).partitions.length;
          if (count < has) throw new CliError(`--partitions: topic ${name} has ${has} partitions; a count cannot go down`);
        }
        if (Object.keys(config).length > 0) await admin.alterTopicConfig({ topic: name, config });
        if (count !== undefined) await admin.createPartitions({ topicPartitions: [{ topic: name, count }] });
        const topic = await describedAsAltered(admin, name);
        const c = topic.config;
        context.output.result(topic, () =>
          context.output.line(
            `Altered topic ${name}: ${topic.partitions} partitions, retention ${formatDurationMs(c.retentionMs)}${c.retentionBytes >= 0 ? ` or ${formatBytes(c.retentionBytes)} per partition` : ''}, ${c.compression}${c.timestampType === 'LogAppendTime' ? ', stamped at append' : ''}`,
          ),
        );
      }),
    );

  topics
    .command('delete-records <name>')
    .description("Make a partition's records before an offset unreadable (Kafka's kafka-delete-records): its log start moves there; maintenance deletes them")
    .option('-p, --partition <n>', 'the partition (every partition when left out, with --before end only)')
    .requiredOption('--before <offset>', "the first offset kept, or end (every record up to the partition's high watermark)")
    .action(
      action(async (context, name: string, options: { partition?: string; before: string }) => {
        const before = options.before === 'end' ? '-1' : parseNonNegativeInteger(options.before, '--before').toString();
        if (options.partition === undefined && before !== '-1') throw new CliError('--partition is needed with an offset (without it, --before end empties every partition)');
        const admin = context.admin();
        const partitions = options.partition === undefined
          ? (await admin.describeTopic(name)).partitions.map((p) => p.partition)
          : [parseNonNegativeInteger(options.partition, '--partition')];
        const answered = await admin.deleteTopicRecords({ topic: name, partitions: partitions.map((partition) => ({ partition, offset: before })) });
        const rows = answered.map((p) => ({ partition: p.partition, startOffset: p.low, endOffset: p.high }));
        context.output.result({ topic: name, partitions: rows }, () => {
          context.output.table(['PARTITION', 'START', 'END'], rows.map((r) => [r.partition, r.startOffset, r.endOffset]));
          context.output.note('Records below START are no longer readable; maintenance deletes them at its next pass.');
        });
      }),
    );

  topics
    .command('delete <name>')
    .description('Delete a topic and its records')
    .action(
      action(async (context, name: string) => {
        await context.admin().deleteTopics({ topics: [name] });
        context.output.result({ deleted: name }, () => context.output.line(`Deleted topic ${name}`));
      }),
    );
}
