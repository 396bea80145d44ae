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
 * - s3rver does not verify SigV4 signatures: presigned URLs are verified here (sigv4.ts), so a
 *   changed Range gets S3's 403 like on S3.
 * - s3rver ignores suffix ranges and answers `Range: bytes=0-0` with the whole object (a falsy end):
 *   S3ObjectStore cuts the requested bytes out of any wider answer, so that needs no patch.
 * - s3rver sends a broken response for a range of an empty object: rewritten here into S3's 416.
 * - s3rver's ListObjectsV2 lists in directory order and fails past 1,000 keys on Node 17+ (DES
 *   continuation tokens): answered here, sorted and paginated, from s3rver's store.
 * - `directoryBucket: true` makes the bucket list like an S3 Express One Zone directory bucket, as
 *   far as Sluice relies on it: ListObjectsV2 refuses a prefix that does not end in `/` and returns
 *   keys in no lexicographic order (a fixed pseudo-random order here). Nothing else of a directory
 *   bucket is emulated (no CreateSession, no zonal endpoint, no `--x-s3` name).
 * - dynalite has no TransactWriteItems, no TTL and no ReturnValuesOnConditionCheckFailure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import S3rver from 's3rver';
import dynalite from 'dynalite';
import { createS3Client } from '../../lib/storage/s3-object-store.ts';
import { createDynamoDbClient, createTableInput } from '../../lib/storage/dynamodb-metadata-store.ts';
import { verifyPresignedRequest } from './sigv4.ts';

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

export async function startS3rver(options: { bucket?: string; directoryBucket?: boolean } = {}): Promise<S3rverHandle> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-s3rver-'));
  const bucket = options.bucket ?? uniqueName('sluice-test');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  // Koa composes middleware when the server starts listening, so this runs first for every request.
  (server as unknown as { middleware: KoaMiddleware[] }).middleware.unshift(
    enforcePresignedSignatures,
    options.directoryBucket ? listObjectsV2LikeADirectoryBucket : listObjectsV2InKeyOrder,
    answerRangeOnEmptyObjectLikeS3,
  );
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

interface KoaContext {
  method: string;
  url: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  store: S3rverStore;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
  response: { get(field: string): string; remove(field: string): void };
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/**
 * s3rver accepts any SigV4 signature. S3 checks that a presigned URL's signature covers the request as
 * sent (method, path, query and every signed header, Range included), so do that here: a client that
 * changes the Range of a range-scoped URL gets S3's 403 SignatureDoesNotMatch. SDK calls signed in the
 * Authorization header are left to s3rver.
 */
async function enforcePresignedSignatures(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  if (/[?&]X-Amz-Signature=/.test(ctx.url)) {
    const verdict = verifyPresignedRequest({ method: ctx.method, pathAndQuery: ctx.url, headers: ctx.headers }, S3RVER_CREDENTIALS.secretAccessKey);
    if (!verdict.valid) {
      ctx.status = 403;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
        `<Message>The request signature we calculated does not match the signature you provided (${verdict.reason}).</Message></Error>`;
      return;
    }
  }
  await next();
}

/** The part of s3rver's FilesystemStore the listing below uses. */
interface S3rverStore {
  getBucket(bucket: string): Promise<unknown>;
  listObjects(
    bucket: string,
    options: { prefix?: string },
  ): Promise<{ objects: { key: string; size: number; lastModifiedDate: Date; metadata: Record<string, string> }[] }>;
}

const LIST_PAGE_SIZE = 1000;

/**
 * s3rver's ListObjectsV2 is unusable past one page on current Node: it returns keys in directory-walk
 * order rather than S3's UTF-8 byte order, and it encrypts continuation tokens with DES, which
 * OpenSSL 3 no longer offers (every truncated listing fails with 500 InternalError). Answer
 * ListObjectsV2 here from s3rver's own store instead, the way S3 does: sorted, at most 1,000 keys per
 * page, resumable with an opaque continuation token. Delimiters and URL encoding are left to s3rver.
 */
async function listObjectsV2InKeyOrder(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  return listObjectsV2(ctx, next, 'key');
}

/** ListObjectsV2 as a directory bucket answers it: prefixes must end in `/`, keys come in no lexicographic order. */
async function listObjectsV2LikeADirectoryBucket(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  return listObjectsV2(ctx, next, 'directory');
}

/** A fixed order unrelated to key order: by a hash of the key, then the key. */
function scrambledSortKey(key: string): Buffer {
  return Buffer.concat([createHash('sha256').update(key).digest().subarray(0, 8), Buffer.from(key, 'utf8')]);
}

async function listObjectsV2(ctx: KoaContext, next: () => Promise<void>, order: 'key' | 'directory'): Promise<void> {
  const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
  const query = (name: string) => {
    const value = ctx.query[name];
    return Array.isArray(value) ? value[0] : value;
  };
  if (
    ctx.method !== 'GET' ||
    !bucket ||
    query('list-type') !== '2' ||
    query('delimiter') ||
    query('encoding-type') ||
    !(await ctx.store.getBucket(bucket))
  ) {
    return next();
  }
  const prefix = query('prefix') ?? '';
  if (order === 'directory' && prefix !== '' && !prefix.endsWith('/')) {
    ctx.status = 400;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code>' +
      '<Message>Prefixes of directory buckets must end in the delimiter /</Message></Error>';
    return;
  }
  const token = query('continuation-token');
  const maxKeys = Math.min(LIST_PAGE_SIZE, Number(query('max-keys') ?? LIST_PAGE_SIZE));
  const sortKey = order === 'key' ? (key: string) => Buffer.from(key, 'utf8') : scrambledSortKey;
  // The token is the sort key of the last key sent (start-after is a key, in key order only).
  const startAfter = query('start-after');
  const after = token ? Buffer.from(token, 'base64url') : startAfter ? sortKey(startAfter) : Buffer.alloc(0);
  const { objects } = await ctx.store.listObjects(bucket, { prefix });
  const remaining = objects
    .filter((object) => object.key.startsWith(prefix) && Buffer.compare(sortKey(object.key), after) > 0)
    .sort((a, b) => Buffer.compare(sortKey(a.key), sortKey(b.key)));
  const page = remaining.slice(0, maxKeys);
  const truncated = remaining.length > page.length;
  const element = (name: string, value: string | number) => `<${name}>${escapeXml(String(value))}</${name}>`;
  ctx.type = 'application/xml';
  ctx.body = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    element('Name', bucket),
    element('Prefix', prefix),
    element('KeyCount', page.length),
    element('MaxKeys', maxKeys),
    element('IsTruncated', String(truncated)),
    token ? element('ContinuationToken', token) : '',
    truncated ? element('NextContinuationToken', sortKey(page[page.length - 1].key).toString('base64url')) : '',
    ...page.map(
      (object) =>
        `<Contents>${element('Key', object.key)}${element('LastModified', object.lastModifiedDate.toISOString())}` +
        `${element('ETag', object.metadata['etag'] ?? '')}${element('Size', object.size)}${element('StorageClass', 'STANDARD')}</Contents>`,
    ),
    '</ListBucketResult>',
  ].join('');
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/**
 * s3rver answers any range of an empty object with `206`, `Content-Length: 1` and no body, and the
 * client sees the connection reset. S3 answers 416 InvalidRange (no byte is satisfiable), which is what
 * the adapter is written against, so rewrite the broken answer into that.
 */
async function answerRangeOnEmptyObjectLikeS3(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  await next();
  if (ctx.method !== 'GET' || ctx.status !== 206 || !/\/0$/.test(ctx.response.get('Content-Range'))) return;
  (ctx.body as { destroy?: () => void } | undefined)?.destroy?.();
  ctx.response.remove('Content-Range');
  ctx.status = 416;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code>' +
    '<Message>The requested range is not satisfiable</Message></Error>';
}

/** close() waits for keep-alive sockets to go idle; drop them so stop() never hangs on a client. */
async function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeAllConnections();
  await closed;
}
