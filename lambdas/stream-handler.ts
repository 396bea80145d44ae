/**
 * DynamoDB Streams on the table, filtered to the insertion of log entries (lib/trigger): which
 * partitions advanced, fanned out — to the push dispatcher (an asynchronous invocation), and later to
 * the live-tail notifier.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createStreamHandler } from '../lib/lambda/push.ts';

const lambda = new LambdaClient({});
const dispatcher = process.env.SLUICE_DISPATCHER_FUNCTION!;

export const handler = createStreamHandler([
  async (advanced) => {
    await lambda.send(new InvokeCommand({ FunctionName: dispatcher, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ advanced })) }));
  },
]);
