/**
 * The backends every engine suite runs against. Each factory returns fresh, empty stores.
 * `aws` runs the real S3 and DynamoDB adapters against s3rver and dynalite on loopback.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { FsObjectStore } from '../../lib/storage/fs-object-store.ts';
import { SqliteMetadataStore } from '../../lib/storage/sqlite-metadata-store.ts';
import type { MetadataStore, ObjectStore } from '../../lib/storage/ports.ts';

export interface Backend {
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  teardown(): Promise<void>;
}

export type BackendFactory = () => Promise<Backend>;

export const memoryBackend: BackendFactory = async () => ({
  objects: new MemoryObjectStore(),
  metadata: new MemoryMetadataStore(),
  async teardown() {},
});

export const localBackend: BackendFactory = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-local-'));
  const metadata = new SqliteMetadataStore({ path: join(dir, 'metadata.sqlite') });
  return {
    objects: new FsObjectStore({ directory: join(dir, 'objects') }),
    metadata,
    async teardown() {
      metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
};

/** The real S3 and DynamoDB adapters over s3rver and dynalite on loopback. */
export const awsEmulatorBackend: BackendFactory = async () => {
  const { startS3rver, startDynalite } = await import('./emulators.ts');
  const { S3ObjectStore } = await import('../../lib/storage/s3-object-store.ts');
  const { DynamoDbMetadataStore } = await import('../../lib/storage/dynamodb-metadata-store.ts');
  const [s3, dynamo] = await Promise.all([startS3rver(), startDynalite()]);
  return {
    objects: new S3ObjectStore({ client: s3.client, bucket: s3.bucket }),
    metadata: new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName }),
    async teardown() {
      await Promise.all([s3.stop(), dynamo.stop()]);
    },
  };
};

/**
 * The AWS adapters with ingest objects in a second bucket (RoutedObjectStore), as with
 * `ingestObjects: { storage: 'express' }`: two s3rver buckets, the ingest one listing like an S3
 * Express directory bucket (prefixes ending in `/`, no key order; see emulators.ts), and dynalite.
 * `buckets` exposes both stores so tests can see where each object went.
 */
export const awsEmulatorExpressIngestBackend: BackendFactory = async () => (await expressIngestBackend()).backend;

export async function expressIngestBackend(): Promise<{ backend: Backend; standard: ObjectStore; ingest: ObjectStore }> {
  const { startS3rver, startDynalite } = await import('./emulators.ts');
  const { S3ObjectStore } = await import('../../lib/storage/s3-object-store.ts');
  const { RoutedObjectStore } = await import('../../lib/storage/routed-object-store.ts');
  const { DynamoDbMetadataStore } = await import('../../lib/storage/dynamodb-metadata-store.ts');
  const [s3, express, dynamo] = await Promise.all([startS3rver(), startS3rver({ directoryBucket: true }), startDynalite()]);
  const standard = new S3ObjectStore({ client: s3.client, bucket: s3.bucket });
  const ingest = new S3ObjectStore({ client: express.client, bucket: express.bucket });
  return {
    standard,
    ingest,
    backend: {
      objects: new RoutedObjectStore({ standard, ingest }),
      metadata: new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName }),
      async teardown() {
        await Promise.all([s3.stop(), express.stop(), dynamo.stop()]);
      },
    },
  };
}
