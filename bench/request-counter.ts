/**
 * Counts the HTTP requests an AWS SDK v3 client really sends, by operation and by what they touched.
 *
 * The counting middleware sits in the deserialize step, below the retry middleware (finalizeRequest),
 * so it sees every attempt, retries included, and the raw HTTP answer. Presigning short-circuits the
 * stack before signing, so a presigned URL is never counted as a request (it is not one).
 *
 * For DynamoDB a second middleware asks for ReturnConsumedCapacity=TOTAL and adds up the capacity
 * units the server reports (dynalite applies DynamoDB's item-size rules: writes 1 unit per KB,
 * strongly consistent reads 1 unit per 4 KB, a query summed over the items it read). A write refused by
 * its condition reports nothing but is still billed; it is charged 1 unit here, the minimum, which is
 * exact for the small items Sluice writes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DeserializeMiddleware, InitializeMiddleware, MetadataBearer, MiddlewareStack } from '@smithy/types';
import { HEAD_SK, INTENT_SK, TOPICS_PK, WATERMARK_SK } from '../lib/log/layout.ts';
import { DynamoDbMetadataStore } from '../lib/storage/dynamodb-metadata-store.ts';
import { RoutedObjectStore } from '../lib/storage/routed-object-store.ts';
import { S3ObjectStore } from '../lib/storage/s3-object-store.ts';
import { startDynalite, startS3rver } from '../test/support/emulators.ts';

/** S3Express: a second S3 endpoint standing in for a directory bucket (priced at S3 Express One Zone rates). */
export type Service = 'S3' | 'S3Express' | 'DynamoDB';

export interface OperationCount {
  readonly service: Service;
  /** SDK operation: PutObject, GetItem, ... */
  readonly operation: string;
  /** What the request touched: an object kind or a metadata item kind (see targetOf*). */
  readonly target: string;
  requests: number;
  /** Answers other than 2xx (a failed conditional write is one, and is still billed). */
  failed: number;
  /** DynamoDB only: read or write capacity units consumed. */
  capacityUnits: number;
  requestBytes: number;
  responseBytes: number;
}

const ENTRY_SK_PREFIX = 'e#'; // layout.ts entrySk()
const CONDITION_FAILED = 'ConditionalCheckFailedException';

export class RequestCounter {
  readonly #counts = new Map<string, OperationCount>();

  countS3(client: S3Client, service: 'S3' | 'S3Express' = 'S3'): void {
    this.#countSends(client.middlewareStack, service);
  }

  countDynamoDb(client: DynamoDBClient): void {
    this.#countSends(client.middlewareStack, 'DynamoDB');
    this.#countCapacity(client.middlewareStack);
  }

  /** The counts since the last reset, largest first. */
  snapshot(): OperationCount[] {
    return [...this.#counts.values()].map((count) => ({ ...count })).sort((a, b) => b.requests - a.requests);
  }

  reset(): void {
    this.#counts.clear();
  }

  #tally(service: Service, operation: string, input: Record<string, unknown>): OperationCount {
    const target = service === 'DynamoDB' ? targetOfItem(operation, input) : targetOfObject(input);
    const id = `${service} ${operation} ${target}`;
    let count = this.#counts.get(id);
    if (!count) {
      count = { service, operation, target, requests: 0, failed: 0, capacityUnits: 0, requestBytes: 0, responseBytes: 0 };
      this.#counts.set(id, count);
    }
    return count;
  }

  #countSends<I extends object, O extends MetadataBearer>(stack: MiddlewareStack<I, O>, service: Service): void {
    const middleware: DeserializeMiddleware<I, O> = (next, context) => async (args) => {
      const count = this.#tally(service, operationOf(context.commandName), args.input as Record<string, unknown>);
      count.requests++;
      count.requestBytes += byteLength((args.request as { body?: unknown }).body);
      try {
        const result = await next(args);
        const response = result.response as { statusCode?: number; headers?: Record<string, string> };
        if ((response.statusCode ?? 0) >= 300) count.failed++;
        count.responseBytes += Number(response.headers?.['content-length'] ?? 0);
        return result;
      } catch (error) {
        count.failed++;
        throw error;
      }
    };
    stack.add(middleware, { step: 'deserialize', priority: 'low', name: 'benchRequestCounter' });
  }

  #countCapacity<I extends object, O extends MetadataBearer>(stack: MiddlewareStack<I, O>): void {
    const middleware: InitializeMiddleware<I, O> = (next, context) => async (args) => {
      const input = { ...args.input, ReturnConsumedCapacity: 'TOTAL' };
      const count = this.#tally('DynamoDB', operationOf(context.commandName), input);
      try {
        const result = await next({ ...args, input });
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
        count.capacityUnits += consumed?.CapacityUnits ?? 0;
        return result;
      } catch (error) {
        if ((error as Error).name === CONDITION_FAILED) count.capacityUnits += 1;
        throw error;
      }
    };
    stack.add(middleware, { step: 'initialize', name: 'benchCapacityCounter' });
  }
}

function operationOf(commandName: string | undefined): string {
  return (commandName ?? 'Unknown').replace(/Command$/, '');
}

function byteLength(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return 0;
}

/** `t/<topicId>/<kind>/...` (layout.ts) → the kind, e.g. `ingest`. */
function targetOfObject(input: Record<string, unknown>): string {
  const key = typeof input.Key === 'string' ? input.Key : '';
  return /^t\/[^/]+\/([^/]+)\//.exec(key)?.[1] ?? 'object';
}

/** The kind of metadata item (layout.ts) a DynamoDB request reads or writes. */
function targetOfItem(operation: string, input: Record<string, unknown>): string {
  const { pk, sk } = operation === 'Query' ? { pk: queryPartitionKey(input), sk: undefined } : itemKey(input);
  if (pk === TOPICS_PK) return 'topic';
  if (pk.startsWith('p#')) {
    // PartitionLog.readHead: one Query for the head and its watermark item (BETWEEN head AND head#watermark).
    if (operation === 'Query') return queryValues(input).includes(HEAD_SK) ? 'partition head' : 'log entries';
    if (sk === HEAD_SK) return 'partition head';
    if (sk === WATERMARK_SK) return 'partition watermark';
    if (sk?.startsWith(ENTRY_SK_PREFIX)) return 'log entry';
  }
  if (pk.startsWith('idem#') && (sk === undefined || sk === INTENT_SK)) return 'idempotency intent';
  if (pk.startsWith('apikey')) return 'api key';
  // consumer groups (lib/groups/layout.ts)
  if (pk === 'groups') return 'group list';
  if (pk.startsWith('go#')) return operation === 'Query' ? 'partition offsets' : 'partition offset';
  if (pk.startsWith('g#')) {
    if (operation === 'Query') return 'group items';
    if (sk === 'head') return 'group head';
    if (sk?.startsWith('s#')) return 'group state';
    if (sk?.startsWith('m#')) return 'member lease';
    if (sk?.startsWith('a#')) return 'member profile';
    if (sk?.startsWith('t#')) return 'group topic';
  }
  return 'other';
}

type AttributeMap = Record<string, { S?: string } | undefined>;

function itemKey(input: Record<string, unknown>): { pk: string; sk: string | undefined } {
  const key = (input.Key ?? input.Item) as AttributeMap | undefined;
  return { pk: key?.pk?.S ?? '', sk: key?.sk?.S };
}

/** The string values a request's expressions compare with. */
function queryValues(input: Record<string, unknown>): string[] {
  return Object.values((input.ExpressionAttributeValues ?? {}) as AttributeMap).flatMap((value) => (value?.S === undefined ? [] : [value.S]));
}

/** The value compared with `pk` in a KeyConditionExpression such as `#n0 = :v0 AND ...`. */
function queryPartitionKey(input: Record<string, unknown>): string {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as AttributeMap;
  for (const match of String(input.KeyConditionExpression ?? '').matchAll(/(#\w+)\s*=\s*(:\w+)/g)) {
    if (names[match[1]] === 'pk') return values[match[2]]?.S ?? '';
  }
  return '';
}

/** The S3 and DynamoDB adapters on fresh emulators, every SDK request they send counted. */
export async function countedEmulatorStores(): Promise<{ counter: RequestCounter; objects: S3ObjectStore; metadata: DynamoDbMetadataStore; stop(): Promise<void> }> {
  const [s3, dynamo] = await Promise.all([startS3rver(), startDynalite()]);
  const counter = new RequestCounter();
  counter.countS3(s3.client);
  counter.countDynamoDb(dynamo.client);
  return {
    counter,
    objects: new S3ObjectStore({ client: s3.client, bucket: s3.bucket }),
    metadata: new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName }),
    stop: async () => void (await Promise.all([s3.stop(), dynamo.stop()])),
  };
}

/**
 * The same with ingest objects in a second bucket (RoutedObjectStore), as with `ingestObjects:
 * { storage: 'express' }`: its s3rver lists like a directory bucket, and its requests are counted as
 * S3Express. The emulator counts requests the same way as S3; only the prices differ. Not counted:
 * CreateSession (one per execution environment and bucket about every 5 minutes; s3rver has none).
 */
export async function countedExpressEmulatorStores(): Promise<{ counter: RequestCounter; objects: RoutedObjectStore; metadata: DynamoDbMetadataStore; stop(): Promise<void> }> {
  const [s3, express, dynamo] = await Promise.all([startS3rver(), startS3rver({ directoryBucket: true }), startDynalite()]);
  const counter = new RequestCounter();
  counter.countS3(s3.client);
  counter.countS3(express.client, 'S3Express');
  counter.countDynamoDb(dynamo.client);
  return {
    counter,
    objects: new RoutedObjectStore({
      standard: new S3ObjectStore({ client: s3.client, bucket: s3.bucket }),
      ingest: new S3ObjectStore({ client: express.client, bucket: express.bucket }),
    }),
    metadata: new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName }),
    stop: async () => void (await Promise.all([s3.stop(), express.stop(), dynamo.stop()])),
  };
}
