/** Custom resource: registers the hash of the bootstrap admin key from Secrets Manager (lib/lambda/bootstrap-key.ts). */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { handleBootstrapKeyEvent } from '../lib/lambda/bootstrap-key.ts';
import type { CustomResourceEvent } from '../lib/lambda/custom-resource.ts';
import { DynamoDbMetadataStore, createDynamoDbClient } from '../lib/storage/dynamodb-metadata-store.ts';

const secrets = new SecretsManagerClient({});
const dynamodb = createDynamoDbClient();
const logger = new Logger();

export async function handler(event: CustomResourceEvent): Promise<void> {
  await handleBootstrapKeyEvent(event, {
    async readSecret(secretArn) {
      const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
      if (!SecretString) throw new Error('the bootstrap key secret has no string value');
      return SecretString;
    },
    metadataFor: (tableName) => new DynamoDbMetadataStore({ client: dynamodb, tableName }),
    logError: (message, error) => logger.error(message, { error: error as Error }),
  });
}
