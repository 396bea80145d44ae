/**
 * The HTTP application on S3 and DynamoDB, configured from the environment. Built once per Lambda
 * execution environment (outside the handler), so warm invocations reuse clients and caches.
 *
 *   SLUICE_BUCKET                 S3 bucket for objects (required)
 *   SLUICE_INGEST_BUCKET          a second bucket for ingest objects only, an S3 Express One Zone directory
 *                                 bucket (`…--<az-id>--x-s3`; the SDK makes its CreateSession calls) (optional;
 *                                 default: ingest objects in SLUICE_BUCKET). See RoutedObjectStore.
 *   SLUICE_TABLE                  DynamoDB table for metadata (required)
 *   SLUICE_CORS_ORIGINS           comma-separated browser origins allowed to call the API (optional)
 *   SLUICE_DEFAULT_RETENTION_MS   retentionMs of topics created without one; -1 keeps records forever
 *                                 (optional, default DEFAULTS.retentionMs)
 *   SLUICE_STREAM_MAX_MS          live tails end after this long (below the tail function's timeout) (optional)
 *   SLUICE_STREAM_HEARTBEAT_MS    a comment on a quiet live tail at least this often (optional, default 15000)
 *   SLUICE_NOTIFICATIONS_URL      the notification channel's wss URL, named by GET /v1/health (optional)
 *   SLUICE_NOTIFICATIONS_ENDPOINT the channel's Management API (https) URL: the produce function posts append
 *                                 hints there (lambdas/produce.ts, lib/lambda/append-hints.ts) (optional)
 *   SLUICE_HINT_DEADLINE_MS, SLUICE_HINT_SUBSCRIBER_CACHE_MS   the hints' bounds (optional, APPEND_HINT_DEFAULTS)
 *   SLUICE_S3_ENDPOINT, SLUICE_DYNAMODB_ENDPOINT   other endpoints (emulators, LocalStack) (optional)
 */
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { ApiKeys } from '../auth/api-keys.ts';
import type { KmsCalls } from '../push/secrets.ts';
import { pushConsumersFromEnv } from './push.ts';
import type { ApiFunctionName } from '../api/routes.ts';
import { createApp, type AppOptions } from '../http/app.ts';
import type { HttpHandler } from '../http/types.ts';
import type { AppendHints } from '../http/routes/produce.ts';
import { Engine } from '../log/engine.ts';
import type { MaintenanceOptions } from '../log/maintenance.ts';
import { DynamoDbMetadataStore, createDynamoDbClient } from '../storage/dynamodb-metadata-store.ts';
import { RoutedObjectStore } from '../storage/routed-object-store.ts';
import { S3ObjectStore, createS3Client } from '../storage/s3-object-store.ts';

export interface AwsAppOptions {
  /** The function whose routes this serves (least privilege: each function gets the permissions of its routes). @default every route */
  readonly function?: ApiFunctionName;
  /** Where unexpected errors are reported. @default console.error */
  readonly logError?: AppOptions['logError'];
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The produce route's append hints, built on the engine (the produce function's entry point brings the Management API client). @default none */
  readonly appendHints?: (engine: Engine, keys: ApiKeys) => AppendHints | undefined;
}

/**
 * Maintenance with ingest objects in a directory bucket: every pass compacts the whole tail of each
 * partition (entries older than compaction's minimum entry age, abortReservationAfterMs: 60 s), instead of waiting for the tail to be
 * quiet for 5 minutes or to hold 64 entries, which a steady trickle could put off for hours. That bounds
 * how long acknowledged records live in one Availability Zone: one maintenance interval plus 60 s. The
 * cost: a partition's open segment (under segmentBytes / 2) is rewritten on every pass that has new
 * records for it (one more segment and index PUT, and a GET, per such partition and pass).
 */
export const EXPRESS_INGEST_MAINTENANCE = { tailQuietMs: 0 } as const satisfies Partial<MaintenanceOptions>;

/** The engine on S3 and DynamoDB (for handlers without HTTP, such as maintenance). */
export function awsEngineFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): Engine {
  const bucket = required(env, 'SLUICE_BUCKET');
  const tableName = required(env, 'SLUICE_TABLE');
  const s3Endpoint = env.SLUICE_S3_ENDPOINT || undefined;
  const dynamoEndpoint = env.SLUICE_DYNAMODB_ENDPOINT || undefined;
  const s3 = createS3Client(s3Endpoint ? { endpoint: s3Endpoint } : {});
  const standard = new S3ObjectStore({ client: s3, bucket });
  const ingestBucket = env.SLUICE_INGEST_BUCKET || undefined;
  const objects = ingestBucket ? new RoutedObjectStore({ standard, ingest: new S3ObjectStore({ client: s3, bucket: ingestBucket }) }) : standard;
  const metadata = new DynamoDbMetadataStore({ client: createDynamoDbClient(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}), tableName });
  const retentionMs = optionalInteger(env, 'SLUICE_DEFAULT_RETENTION_MS', -1);
  return new Engine({
    objects,
    metadata,
    topicDefaults: retentionMs === undefined ? {} : { retentionMs },
    ...(ingestBucket ? { maintenance: EXPRESS_INGEST_MAINTENANCE } : {}),
  });
}

export function awsAppFromEnv(options: AwsAppOptions = {}): { app: HttpHandler; engine: Engine } {
  const env = options.env ?? process.env;
  const engine = awsEngineFromEnv(env);
  const keys = new ApiKeys(engine.metadata);
  const corsOrigins = env.SLUICE_CORS_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean);
  // Push consumers' secrets are sealed with KMS (SLUICE_PUSH_KEY_ARN, set on the admin function only).
  const consumers = pushConsumersFromEnv(engine, env, lazyKms);
  const streams = { maxStreamMs: optionalInteger(env, 'SLUICE_STREAM_MAX_MS', 0), heartbeatMs: optionalInteger(env, 'SLUICE_STREAM_HEARTBEAT_MS', 1) };
  const notifications = env.SLUICE_NOTIFICATIONS_URL || undefined;
  const app = createApp({ engine, keys, corsOrigins, consumers, streams, notificationsUrl: () => notifications, appendHints: options.appendHints?.(engine, keys), functions: options.function ? [options.function] : undefined, logError: options.logError });
  return { app, engine };
}

let kmsClient: KMSClient | undefined;
/** KMS, created on first use: only the admin function seals secrets. */
function lazyKms(): KmsCalls {
  kmsClient ??= new KMSClient({});
  const client = kmsClient;
  return { encrypt: (input) => client.send(new EncryptCommand(input)), decrypt: (input) => client.send(new DecryptCommand(input)) };
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/** An integer setting ≥ min from the environment; undefined when unset. */
export function optionalInteger(env: Readonly<Record<string, string | undefined>>, name: string, min: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`environment variable ${name} must be an integer ≥ ${min}, got ${text}`);
  return value;
}
