/**
 * The HTTP application on S3 and DynamoDB, configured from the environment. Built once per Lambda
 * execution environment (outside the handler), so warm invocations reuse clients and caches.
 *
 *   SLUICE_BUCKET         S3 bucket for objects (required)
 *   SLUICE_TABLE          DynamoDB table for metadata (required)
 *   SLUICE_CORS_ORIGINS   comma-separated browser origins allowed to call the API (optional)
 *   SLUICE_S3_ENDPOINT, SLUICE_DYNAMODB_ENDPOINT   other endpoints (emulators, LocalStack) (optional)
 */
import { ApiKeys } from '../auth/api-keys.ts';
import { createApp } from '../http/app.ts';
import type { HttpHandler } from '../http/types.ts';
import { Engine } from '../log/engine.ts';
import { DynamoDbMetadataStore, createDynamoDbClient } from '../storage/dynamodb-metadata-store.ts';
import { S3ObjectStore, createS3Client } from '../storage/s3-object-store.ts';

/** The engine on S3 and DynamoDB (for handlers without HTTP, such as maintenance). */
export function awsEngineFromEnv(env: Record<string, string | undefined> = process.env): Engine {
  const bucket = required(env, 'SLUICE_BUCKET');
  const tableName = required(env, 'SLUICE_TABLE');
  const s3Endpoint = env.SLUICE_S3_ENDPOINT || undefined;
  const dynamoEndpoint = env.SLUICE_DYNAMODB_ENDPOINT || undefined;
  const objects = new S3ObjectStore({ client: createS3Client(s3Endpoint ? { endpoint: s3Endpoint } : {}), bucket });
  const metadata = new DynamoDbMetadataStore({ client: createDynamoDbClient(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}), tableName });
  return new Engine({ objects, metadata });
}

export function awsAppFromEnv(env: Record<string, string | undefined> = process.env): { app: HttpHandler; engine: Engine } {
  const engine = awsEngineFromEnv(env);
  const keys = new ApiKeys(engine.metadata);
  const corsOrigins = env.SLUICE_CORS_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean);
  return { app: createApp({ engine, keys, corsOrigins }), engine };
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}
