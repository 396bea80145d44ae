/**
 * The notification channel's WebSocket routes ($connect, $disconnect, $default) behind API Gateway
 * (lib/lambda/notifications.ts). Table items of connections only (ws#, wst#): no S3, no sending (answers
 * are route responses; the stream handler posts the append messages).
 */
import { ApiKeys } from '../lib/auth/api-keys.ts';
import { awsEngineFromEnv } from '../lib/lambda/aws-app.ts';
import { createNotificationsHandler } from '../lib/lambda/notifications.ts';
import { ChannelConnections } from '../lib/notifications/connections.ts';

const engine = awsEngineFromEnv();

export const handler = createNotificationsHandler({ engine, keys: new ApiKeys(engine.metadata), connections: new ChannelConnections(engine.metadata) });
