/**
 * Produce: POST /v1/topics/{topic}/records. Writes objects and log entries; cannot delete. Where the
 * stack names the notification channel's Management API (SLUICE_NOTIFICATIONS_ENDPOINT), it posts the
 * append hint to the topic's subscribers before it answers (lib/lambda/append-hints.ts); the stream
 * handler's notifier is the fallback.
 */
import { appendHintsFromEnv } from '../lib/lambda/append-hints.ts';
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler } from '../lib/lambda/observability.ts';
import { ChannelConnections } from '../lib/notifications/connections.ts';

// Built once per execution environment: warm invocations reuse the SDK clients and caches.
const powertools = createPowertools('produce');
const logHintFailure = (message: string, error: unknown) => powertools.logger.warn(message, { error: error as Error });
const { app } = awsAppFromEnv({
  function: 'produce',
  logError: logUnexpectedError(powertools.logger),
  appendHints: (engine, keys) => appendHintsFromEnv(process.env, new ChannelConnections(engine.metadata), logHintFailure, undefined, (keyId) => keys.isLive(keyId)),
});

export const handler = observedHttpHandler(app, powertools);
