/**
 * Push consumers in AWS: the stream handler (DynamoDB Streams → "partitions advanced" → the
 * dispatcher, invoked asynchronously), the dispatcher function's setup from the environment, and the
 * deploy-time custom resource of SluiceStreams.addFunctionConsumer.
 *
 *   SLUICE_PUSH_KEY_ARN                the KMS key that seals delivery secrets (admin encrypts, dispatcher decrypts)
 *   SLUICE_PUSH_ALLOW_PRIVATE_URLS     `true`: URL targets may be http and resolve to private addresses
 *   SLUICE_DISPATCHER_FUNCTION         (stream handler) the dispatcher to invoke
 *   plus the engine's SLUICE_BUCKET, SLUICE_TABLE, … (aws-app.ts)
 */
import { Groups } from '../groups/groups.ts';
import type { Engine } from '../log/engine.ts';
import { AWS_URL_POLICY, LOCAL_URL_POLICY, type UrlPolicy } from '../push/config.ts';
import { PushConsumers } from '../push/consumers.ts';
import { Dispatcher } from '../push/dispatcher.ts';
import { KmsSecretBox, type KmsCalls, type SecretBox } from '../push/secrets.ts';
import { targetFactory, type InvokeFunction } from '../push/targets.ts';
import { NO_SECRET_BOX } from '../push/consumers.ts';
import { AppendFanout, advancedFromStreamRecords, type AdvancedPartition, type StreamRecord } from '../trigger/append-trigger.ts';
import { respond, type CustomResourceEvent, type RespondOptions } from './custom-resource.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * What the dispatcher is invoked with: by the stream handler (partitions advanced), by a delayed
 * wake-up (wake-ups.ts: consumers whose retry or batching window fell due), by the maintenance
 * schedule (anything else: every consumer).
 */
export type DispatcherEvent =
  | { readonly advanced: readonly AdvancedPartition[] }
  | { readonly consumers: readonly string[] }
  | { readonly due: true }
  | { readonly source?: string };

export function urlPolicyFromEnv(env: Env): UrlPolicy {
  return env.SLUICE_PUSH_ALLOW_PRIVATE_URLS === 'true' ? { ...LOCAL_URL_POLICY, requireHttps: false } : AWS_URL_POLICY;
}

export function secretBoxFromEnv(env: Env, kms: () => KmsCalls): SecretBox {
  return env.SLUICE_PUSH_KEY_ARN ? new KmsSecretBox(kms(), env.SLUICE_PUSH_KEY_ARN) : NO_SECRET_BOX;
}

/** Push consumers' configuration over an engine, as the admin function and the custom resource use it. */
export function pushConsumersFromEnv(engine: Engine, env: Env, kms: () => KmsCalls, groups = new Groups({ engine })): PushConsumers {
  return new PushConsumers({ engine, groups, secrets: secretBoxFromEnv(env, kms), urlPolicy: urlPolicyFromEnv(env), functionTargets: true });
}

/**
 * The stream handler: the partitions a batch of stream records advanced, fanned out to subscribers.
 * Today one subscriber: an asynchronous invocation of the dispatcher (the stream's shard is not held
 * while targets answer; Lambda queues and retries async invocations). The live-tail notifier
 * subscribes to the same fan-out.
 */
export function createStreamHandler(subscribers: ReadonlyArray<(advanced: readonly AdvancedPartition[]) => Promise<void>>) {
  return async (event: { Records?: readonly StreamRecord[] }): Promise<{ advanced: number }> => {
    const advanced = advancedFromStreamRecords(event.Records ?? []);
    // A failing subscriber fails the invocation: the event source mapping retries the records.
    const errors: unknown[] = [];
    const fanout = new AppendFanout((error) => errors.push(error));
    for (const subscriber of subscribers) fanout.subscribe(subscriber);
    await fanout.publish(advanced);
    if (errors.length > 0) throw errors[0];
    return { advanced: advanced.length };
  };
}

/** The dispatcher of the dispatcher function. */
export function createAwsDispatcher(
  engine: Engine,
  env: Env,
  calls: { kms: () => KmsCalls; invoke: InvokeFunction },
  deadline?: () => number,
  logError?: (m: string, e: unknown) => void,
  scheduleWake?: (consumer: string, at: number) => void,
): Dispatcher {
  const groups = new Groups({ engine });
  const consumers = pushConsumersFromEnv(engine, env, calls.kms, groups);
  return new Dispatcher({
    engine,
    groups,
    consumers,
    targets: targetFactory({ urlPolicy: urlPolicyFromEnv(env), invoke: calls.invoke }),
    deadline,
    logError,
    scheduleWake,
  });
}

/**
 * The lag of every consumer, for its metric and alarm (the scheduled pass publishes it). A consumer
 * with no lag publishes nothing: an idle consumer costs no custom-metric hours.
 */
export async function consumerLags(consumers: PushConsumers): Promise<Array<{ consumer: string; lag: number }>> {
  const out: Array<{ consumer: string; lag: number }> = [];
  for (const stored of await consumers.list()) {
    const described = await consumers.describe(stored.config.name, stored);
    const lag = described.partitions.reduce((n, p) => n + Number(p.lag ?? 0n), 0);
    if (lag > 0) out.push({ consumer: stored.config.name, lag });
  }
  return out;
}

/** One dispatcher invocation: the partitions the stream handler saw advance, or every consumer (the schedule's safety net for retries falling due). */
export async function handleDispatcherEvent(dispatcher: Dispatcher, event: DispatcherEvent | undefined): Promise<{ woke: string }> {
  if (event && 'advanced' in event && Array.isArray(event.advanced)) {
    await dispatcher.wake(event.advanced);
    return { woke: `${event.advanced.length} partitions` };
  }
  if (event && 'consumers' in event && Array.isArray(event.consumers)) {
    const names = event.consumers.filter((name): name is string => typeof name === 'string');
    await Promise.all(names.map((name) => dispatcher.run(name)));
    return { woke: `${names.length} consumers` };
  }
  await dispatcher.runAll();
  return { woke: 'every consumer' };
}

/** The custom resource's properties: the create request of POST /v1/consumers, as JSON text (CloudFormation turns numbers into strings). */
export interface PushConsumerProperties {
  readonly Consumer: string;
}

/** Create and Update make the consumer be as the stack says (upsert); Delete removes it. */
export async function handlePushConsumerEvent(event: CustomResourceEvent, consumers: PushConsumers, options: RespondOptions = {}): Promise<void> {
  await respond(
    event,
    async () => {
      const text = event.ResourceProperties.Consumer;
      if (typeof text !== 'string') throw new Error('the Consumer property (JSON) is required');
      const request = JSON.parse(text) as { name: string };
      if (event.RequestType === 'Delete') {
        await consumers.delete(event.PhysicalResourceId ?? request.name).catch((error: unknown) => {
          if ((error as { code?: string }).code !== 'CONSUMER_NOT_FOUND') throw error;
        });
        return event.PhysicalResourceId ?? request.name;
      }
      // A renamed consumer is a new resource: CloudFormation deletes the old one after this succeeds.
      await consumers.upsert(request);
      return request.name;
    },
    options,
  );
}
