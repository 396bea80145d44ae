/** Custom resource of SluiceStreams.addFunctionConsumer: the push consumer exists as the stack says (lib/lambda/push.ts). */
import { EncryptCommand, DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import { awsEngineFromEnv } from '../lib/lambda/aws-app.ts';
import type { CustomResourceEvent } from '../lib/lambda/custom-resource.ts';
import { handlePushConsumerEvent, pushConsumersFromEnv } from '../lib/lambda/push.ts';

const kmsClient = new KMSClient({});
const kms = () => ({ encrypt: (input: never) => kmsClient.send(new EncryptCommand(input)), decrypt: (input: never) => kmsClient.send(new DecryptCommand(input)) });
const consumers = pushConsumersFromEnv(awsEngineFromEnv(), process.env, kms);
const logger = new Logger();

export async function handler(event: CustomResourceEvent): Promise<void> {
  await handlePushConsumerEvent(event, consumers, { logError: (message, error) => logger.error(message, { error: error as Error }) });
}
