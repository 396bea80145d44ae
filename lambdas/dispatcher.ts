/**
 * The push dispatcher (lib/push/dispatcher.ts): woken by the stream handler with the partitions that
 * advanced, and by the maintenance schedule to run retries that fell due (and publish consumer lag).
 * Reserved concurrency 1: one dispatcher at a time, which the consumer groups' static membership expects.
 */
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { awsEngineFromEnv } from '../lib/lambda/aws-app.ts';
import { createPowertools, type LambdaContext } from '../lib/lambda/observability.ts';
import { PUSH_METRICS } from '../lib/lambda/metric-names.ts';
import { consumerLags, createAwsDispatcher, handleDispatcherEvent, pushConsumersFromEnv, type DispatcherEvent } from '../lib/lambda/push.ts';

const powertools = createPowertools('dispatcher');
const engine = awsEngineFromEnv();
const kmsClient = new KMSClient({});
const kms = () => ({ encrypt: (input: never) => kmsClient.send(new EncryptCommand(input)), decrypt: (input: never) => kmsClient.send(new DecryptCommand(input)) });
const lambda = new LambdaClient({});
/** Stop starting batches this long before the function's timeout. */
const MARGIN_MS = 30_000;
let remaining: () => number = () => Number.POSITIVE_INFINITY;
const dispatcher = createAwsDispatcher(
  engine,
  process.env,
  { kms, invoke: (input, signal) => lambda.send(new InvokeCommand(input), { abortSignal: signal }) },
  () => Date.now() + remaining() - MARGIN_MS,
  (message, error) => powertools.logger.error(message, { error: error as Error }),
);

export async function handler(event: DispatcherEvent | undefined, context?: LambdaContext & { getRemainingTimeInMillis?: () => number }) {
  const started = Date.now();
  remaining = () => (context?.getRemainingTimeInMillis ? context.getRemainingTimeInMillis() - (Date.now() - started) : Number.POSITIVE_INFINITY);
  const result = await handleDispatcherEvent(dispatcher, event);
  if (!(event && 'advanced' in event)) {
    for (const { consumer, lag } of await consumerLags(pushConsumersFromEnv(engine, process.env, kms))) {
      const metrics = powertools.metrics.singleMetric();
      metrics.addDimension(PUSH_METRICS.consumerDimension, consumer);
      metrics.addMetric(PUSH_METRICS.lag, MetricUnit.Count, lag);
    }
  }
  powertools.logger.info('dispatched', result);
  return result;
}
