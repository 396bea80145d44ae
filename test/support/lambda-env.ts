/**
 * The environment a Lambda entry point reads, pointed at fresh s3rver and dynalite emulators, with an
 * admin key registered (as the deploy-time custom resource does). Entry points build their app when
 * first imported, so set this up before importing them.
 */
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { DynamoDbMetadataStore } from '../../lib/storage/dynamodb-metadata-store.ts';
import { startDynalite, startS3rver, type DynaliteHandle, type S3rverHandle } from './emulators.ts';

/** The variables the Lambda entry points read to reach these emulators (lib/lambda/aws-app.ts). */
export function emulatorEnv(s3: S3rverHandle, dynamo: DynaliteHandle): Record<string, string> {
  return {
    SLUICE_BUCKET: s3.bucket,
    SLUICE_TABLE: dynamo.tableName,
    SLUICE_S3_ENDPOINT: s3.endpoint,
    SLUICE_DYNAMODB_ENDPOINT: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

export async function startLambdaEnvironment(adminKey: string): Promise<{ stop(): Promise<void> }> {
  const [s3, dynamo] = await Promise.all([startS3rver(), startDynalite()]);
  Object.assign(process.env, {
    ...emulatorEnv(s3, dynamo),
    // EMF lines on stdout would bury the test report (test/lambda/observability.test.ts covers them).
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  await new ApiKeys(new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName })).ensure(adminKey, 'bootstrap');
  return {
    async stop() {
      await Promise.all([s3.stop(), dynamo.stop()]);
    },
  };
}
