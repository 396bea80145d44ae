/**
 * DynamoDB Streams on the table, filtered to the insertion of log entries (lib/trigger): which
 * partitions advanced, fanned out — to the push dispatcher (an asynchronous invocation) and to the
 * notification channel's subscribed connections (PostToConnection on the WebSocket API's stage,
 * SLUICE_NOTIFICATIONS_ENDPOINT), but those a revoked key subscribed.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ApiKeys } from '../lib/auth/api-keys.ts';
import { awsEngineFromEnv } from '../lib/lambda/aws-app.ts';
import { createChannelNotifier, managementApiPoster } from '../lib/lambda/notifications.ts';
import { createStreamHandler } from '../lib/lambda/push.ts';
import { ChannelConnections } from '../lib/notifications/connections.ts';

const lambda = new LambdaClient({});
const dispatcher = process.env.SLUICE_DISPATCHER_FUNCTION!;
const engine = awsEngineFromEnv();
const keys = new ApiKeys(engine.metadata);
const management = new ApiGatewayManagementApiClient({ endpoint: process.env.SLUICE_NOTIFICATIONS_ENDPOINT! });

export const handler = createStreamHandler([
  async (advanced) => {
    await lambda.send(new InvokeCommand({ FunctionName: dispatcher, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ advanced })) }));
  },
  createChannelNotifier({ engine, connections: new ChannelConnections(engine.metadata), post: managementApiPoster(management), isLive: (keyId) => keys.isLive(keyId) }),
]);
