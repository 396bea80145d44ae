/**
 * The push dispatcher (lib/push/dispatcher.ts): woken by the stream handler with the partitions that
 * advanced, by its own delayed wake-ups (EventBridge Scheduler, lib/lambda/wake-ups.ts) when a retry or
 * a batching window falls due, and by the maintenance schedule as a safety net (and to publish lag).
 * Reserved concurrency 1: one dispatcher at a time, which the consumer groups' static membership expects.
 */
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { awsEngineFromEnv } from '../lib/lambda/aws-app.ts';
import { createPowertools, type LambdaContext } from '../lib/lambda/observability.ts';
import { PUSH_METRICS } from '../lib/lambda/metric-names.ts';
import { consumerLags, createAwsDispatcher, handleDispatcherEvent, pushConsumersFromEnv, type DispatcherEvent } from '../lib/lambda/push.ts';
import { wakeUpsFromEnv } from '../lib/lambda/wake-ups.ts';

const powertools = createPowertools('dispatcher');
const engine = awsEngineFromEnv();
const kmsClient = new KMSClient({});
const kms = () => ({ encrypt: (input: never) => kmsClient.send(new EncryptCommand(input)), decrypt: (input: never) => kmsClient.send(new DecryptCommand(input)) });
const lambda = new LambdaClient({});
/** Stop starting batches this long before the function's timeout. */
const MARGIN_MS = 30_000;
let remaining: () => number = () => Number.POSITIVE_INFINITY;
let ownArn = '';
const logError = (message: string, error: unknown) => powertools.logger.error(message, { error: error as Error });
const wakeUps = wakeUpsFromEnv(
  process.env,
  () => {
    const scheduler = new SchedulerClient({});
    return (input) => scheduler.send(new CreateScheduleCommand(input));
  },
  () => ownArn,
  logError,
);
const dispatcher = createAwsDispatcher(
  engine,
  process.env,
  { kms, invoke: (input, signal) => lambda.send(new InvokeCommand(input), { abortSignal: signal }) },
  () => Date.now() + remaining() - MARGIN_MS,
  logError,
  wakeUps ? (consumer, at) => wakeUps.wake(consumer, at) : undefined,
);

export async function handler(event: DispatcherEvent | undefined, context?: LambdaContext & { getRemainingTimeInMillis?: () => number; invokedFunctionArn?: string }) {
  const started = Date.now();
  ownArn = context?.invokedFunctionArn ?? ownArn;
  remaining = () => (context?.getRemainingTimeInMillis ? context.getRemainingTimeInMillis() - (Date.now() - started) : Number.POSITIVE_INFINITY);
  const result = await handleDispatcherEvent(dispatcher, event);
  await wakeUps?.settled();
  if (!(event && ('advanced' in event || 'consumers' in event))) {
    for (const { consumer, lag } of await consumerLags(pushConsumersFromEnv(engine, process.env, kms))) {
      const metrics = powertools.metrics.singleMetric();
      metrics.addDimension(PUSH_METRICS.consumerDimension, consumer);
      metrics.addMetric(PUSH_METRICS.lag, MetricUnit.Count, lag);
    }
  }
  powertools.logger.info('dispatched', result);
  return result;
}
