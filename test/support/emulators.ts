/**
 * Real-protocol emulators on loopback for tests and benchmarks: s3rver (S3) and dynalite (DynamoDB).
 *
 * Each call starts its own server on 127.0.0.1, port 0, with a fresh bucket or table. Both start in a
 * few milliseconds, and a private server per caller means parallel test files never share state and
 * stop() can tear everything down without waiting on anyone else. Clients use static fake credentials
 * (s3rver only accepts its built-in S3RVER key pair) and region us-east-1, and never touch the
 * network beyond loopback.
 *
 * Known gaps, worked around here or in the adapters (see design.md):
 * - s3rver stores aws-chunked framing verbatim unless the client computes checksums only when
 *   required: createS3Client does that.
 * - s3rver does not verify SigV4 signatures (so it cannot enforce a presigned Range), ignores suffix
 *   ranges, and answers `Range: bytes=0-0` with the whole object (S3ObjectStore cuts the answer).
 * - dynalite has no TransactWriteItems, no TTL and no ReturnValuesOnConditionCheckFailure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import S3rver from 's3rver';
import dynalite from 'dynalite';
import { createS3Client } from '../../lib/storage/s3-object-store.ts';
import { createDynamoDbClient, createTableInput } from '../../lib/storage/dynamodb-metadata-store.ts';

export const EMULATOR_REGION = 'us-east-1';

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly bucket: string;
  /** Configured with createS3Client (path style, checksums only when required). */
  readonly client: S3Client;
  /** Destroys the client, stops the server and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface DynaliteHandle {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

/** s3rver's hard-coded key pair: any other access key id is refused with InvalidAccessKeyId. */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** dynalite accepts any credentials; these only have to look plausible to the SDK. */
const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-for-dynalite' };

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export async function startS3rver(options: { bucket?: string } = {}): Promise<S3rverHandle> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-s3rver-'));
  const bucket = options.bucket ?? uniqueName('sluice-test');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  let address;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = createS3Client({ endpoint, region: EMULATOR_REGION, credentials: S3RVER_CREDENTIALS });
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    client,
    stop() {
      stopping ??= (async () => {
        client.destroy();
        await closeServer(server.httpServer);
        await rm(directory, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

export async function startDynalite(options: { tableName?: string } = {}): Promise<DynaliteHandle> {
  // In memory (no `path`): nothing to clean up on disk, and faster than LevelDB files. Tables become
  // ACTIVE at once instead of after dynalite's default 500 ms.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const tableName = options.tableName ?? uniqueName('sluice-test');
  const client = createDynamoDbClient({ endpoint, region: EMULATOR_REGION, credentials: FAKE_CREDENTIALS });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      client.destroy();
      await closeServer(server);
    })();
    return stopping;
  };
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    await waitForActiveTable(client, tableName);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, tableName, client, stop };
}

async function waitForActiveTable(client: DynamoDBClient, tableName: string): Promise<void> {
  // The SDK's waiter polls every 20 s at first; the table is ACTIVE within a tick here.
  for (let attempt = 0; attempt < 500; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

/** close() waits for keep-alive sockets to go idle; drop them so stop() never hangs on a client. */
async function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeAllConnections();
  await closed;
}
