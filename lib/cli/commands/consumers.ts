/** `sluice consumers list | describe | create | delete | pause | resume`: push consumers (records delivered to a URL or a Lambda function). */
import type { Command } from 'commander';
import type { PushConsumerToCreate } from '../../client/protocol/api.ts';
import { action, commandGroup } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatTime } from '../output.ts';
import { parseDurationMs, parsePositiveInteger, parseStartPosition } from '../parse.ts';

interface CreateOptions {
  topic: string[];
  targetUrl?: string;
  functionArn?: string;
  timeout?: string;
  maxRecords?: string;
  maxBytes?: string;
  maxWait?: string;
  maxAttempts?: string;
  bisectOnError?: boolean;
  deadLetterTopic?: string;
  startAt?: string;
  concurrency?: string;
}

export function registerConsumers(program: Command): void {
  const consumers = commandGroup(program, 'consumers', 'Push consumers: records delivered to a URL or a Lambda function');

  consumers
    .command('list')
    .description('The push consumers this key may consume, with their state')
    .action(
      action(async (context) => {
        const list = await context.admin().listPushConsumers();
        context.output.result({ consumers: list }, () => {
          if (list.length === 0) context.output.note('No push consumers yet: sluice consumers create <name> --topic <t> --target-url <https://…>');
          else context.output.table(['NAME', 'STATE', 'TOPICS'], list.map((c) => [c.name, c.state, c.topics.join(',')]));
        });
      }),
    );

  consumers
    .command('describe <name>')
    .description("A push consumer's target, state, counters, last error and lag per partition")
    .action(
      action(async (context, name: string) => {
        const d = await context.admin().describePushConsumer(name);
        context.output.result(d, () => {
          const out = context.output;
          out.line(`Consumer:   ${d.name} (${d.state})`);
          out.line(`Topics:     ${d.topics.join(', ')}`);
          out.line(`Target:     ${'url' in d.target ? d.target.url : d.target.functionArn} (timeout ${d.target.timeoutMs} ms)`);
          out.line(`Batches:    up to ${d.batch.maxRecords} records, ${d.batch.maxBytes} bytes, wait ${d.batch.maxWaitMs} ms; ${d.maxConcurrency} partitions at once`);
          out.line(`Retries:    ${d.retry.maxAttempts} attempts${d.retry.bisectOnError ? ', bisect on error' : ''}; dead letters to ${d.deadLetterTopic ?? '(none)'}`);
          out.line(`Counters:   ${d.delivered} delivered, ${d.failed} failed, ${d.deadLettered} dead-lettered`);
          out.line(`Last error: ${d.lastError ? `${formatTime(d.lastError.at)} ${d.lastError.message}` : '-'}`);
          out.line();
          out.table(
            ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'FAILING'],
            d.partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.endOffset, p.lag, p.failing ? 'yes' : 'no']),
          );
        });
      }),
    );

  consumers
    .command('create <name>')
    .description('Create a push consumer; its delivery secret (for Sluice-Signature) is printed once')
    .option('-t, --topic <topic>', 'a topic to deliver (repeatable, at least one)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--target-url <url>', 'deliver by POST to this URL')
    .option('--function-arn <arn>', 'deliver by invoking this Lambda function (AWS only)')
    .option('--timeout <duration>', 'a target that has not answered after this long has failed (default 30s)')
    .option('--max-records <n>', 'records per delivery (default 100)')
    .option('--max-bytes <n>', 'bytes of a delivery body (default 1 MiB)')
    .option('--max-wait <duration>', 'wait this long for a batch to fill (default 0)')
    .option('--max-attempts <n>', 'attempts per batch before dead-lettering or failing (default 5)')
    .option('--bisect-on-error', 'split a failing batch until the failing record is found')
    .option('--dead-letter-topic <topic>', 'where records go after their last attempt')
    .option('--start-at <position>', 'where partitions without a committed offset start: earliest, latest (default) or an ISO-8601 time')
    .option('--concurrency <n>', 'partitions delivered in parallel (default 4)')
    .action(
      action(async (context, name: string, options: CreateOptions) => {
        if (options.topic.length === 0) throw new UsageError('consumers create needs at least one --topic');
        if ((options.targetUrl === undefined) === (options.functionArn === undefined)) throw new UsageError('consumers create needs --target-url or --function-arn (one of them)');
        const timeout = options.timeout === undefined ? {} : { timeoutMs: parseDurationMs(options.timeout, '--timeout') };
        const start = options.startAt === undefined ? undefined : parseStartPosition(options.startAt, '--start-at');
        if (start?.kind === 'offset') throw new UsageError('--start-at takes earliest, latest or an ISO-8601 time');
        const batch = {
          ...(options.maxRecords === undefined ? {} : { maxRecords: parsePositiveInteger(options.maxRecords, '--max-records') }),
          ...(options.maxBytes === undefined ? {} : { maxBytes: parsePositiveInteger(options.maxBytes, '--max-bytes') }),
          ...(options.maxWait === undefined ? {} : { maxWaitMs: parseDurationMs(options.maxWait, '--max-wait') }),
        };
        const retry = {
          ...(options.maxAttempts === undefined ? {} : { maxAttempts: parsePositiveInteger(options.maxAttempts, '--max-attempts') }),
          ...(options.bisectOnError ? { bisectOnError: true } : {}),
        };
        const request: PushConsumerToCreate = {
          name,
          topics: options.topic,
          target: options.targetUrl !== undefined ? { url: options.targetUrl, ...timeout } : { functionArn: options.functionArn!, ...timeout },
          ...(Object.keys(batch).length ? { batch } : {}),
          ...(Object.keys(retry).length ? { retry } : {}),
          ...(options.deadLetterTopic === undefined ? {} : { deadLetterTopic: options.deadLetterTopic }),
          ...(start === undefined ? {} : { startAt: start.kind === 'timestamp' ? { timestamp: start.timestamp } : start.kind }),
          ...(options.concurrency === undefined ? {} : { maxConcurrency: parsePositiveInteger(options.concurrency, '--concurrency') }),
        };
        const created = await context.admin().createPushConsumer(request);
        context.output.result(created, () => {
          context.output.line(created.secret);
          context.output.note(`Created push consumer ${created.name} on ${created.topics.join(', ')}. The secret above signs its deliveries and is shown this once.`);
        });
      }),
    );

  for (const [verb, description] of [
    ['pause', 'Stop delivering (batches in flight finish)'],
    ['resume', 'Deliver again; failing partitions start over'],
  ] as const) {
    consumers
      .command(`${verb} <name>`)
      .description(description)
      .action(
        action(async (context, name: string) => {
          const admin = context.admin();
          const state = verb === 'pause' ? await admin.pausePushConsumer(name) : await admin.resumePushConsumer(name);
          context.output.result(state, () => context.output.line(`Push consumer ${state.name}: ${state.state}`));
        }),
      );
  }

  consumers
    .command('delete <name>')
    .description('Delete a push consumer (its dispatcher leaves its group)')
    .action(
      action(async (context, name: string) => {
        await context.admin().deletePushConsumer(name);
        context.output.result({ deleted: name }, () => context.output.line(`Deleted push consumer ${name}`));
      }),
    );
}
