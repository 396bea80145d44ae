/**
 * The S3 and DynamoDB adapters against aws-sdk-client-mock: the exact requests they send (shapes,
 * expression text, placeholders) and how every kind of SDK failure maps onto ../errors.ts. Behaviour
 * against a real protocol is covered by aws-emulators.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  RequestLimitExceeded,
  ThrottlingException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ConditionFailedError, ObjectNotFoundError, StorageError, ThrottledError, UnavailableError } from '../../lib/errors.ts';
import { classifyAwsError } from '../../lib/storage/aws-errors.ts';
import { DynamoDbMetadataStore, createDynamoDbClient, createTableInput } from '../../lib/storage/dynamodb-metadata-store.ts';
import { S3ObjectStore, createS3Client } from '../../lib/storage/s3-object-store.ts';
import { verifyPresignedRequest } from '../support/sigv4.ts';
import { assertBytes, testBytes } from './object-store.contract.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function s3Setup(prefix?: string) {
  const client = createS3Client({ region: 'us-east-1', credentials });
  const mock = mockClient(client);
  const store = new S3ObjectStore({ client, bucket: 'the-bucket', prefix });
  return { client, mock, store };
}

function dynamoSetup() {
  const client = createDynamoDbClient({ region: 'us-east-1', credentials });
  const mock = mockClient(client);
  const store = new DynamoDbMetadataStore({ client, tableName: 'the-table' });
  return { client, mock, store };
}

/** Just the part of a GetObject Body the adapter uses. */
function body(bytes: Uint8Array) {
  return { transformToByteArray: async () => bytes };
}

function s3Error(name: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
  return new S3ServiceException({ name, $fault: fault, message: `${name} from the mock`, $metadata: { httpStatusCode: status } });
}

function dynamoError(name: string, status: number) {
  return new DynamoDBServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message: `${name} from the mock`, $metadata: { httpStatusCode: status } });
}

function networkError(code: string) {
  return Object.assign(new Error(`socket trouble: ${code}`), { code, $metadata: {} });
}

function timeoutError() {
  return Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError', $metadata: {} });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** Asserts the adapter raised `type` (and not a more specific subclass of StorageError) with the SDK error as cause. */
async function assertMapped(promise: Promise<unknown>, type: typeof StorageError, cause?: unknown): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    if (type === StorageError) {
      for (const specific of [ConditionFailedError, ObjectNotFoundError, ThrottledError, UnavailableError]) {
        assert.ok(!(error instanceof specific), `expected a plain StorageError, got ${(error as Error).name}`);
      }
    }
    if (cause !== undefined) assert.equal((error as Error).cause, cause);
    return true;
  });
}

describe('S3ObjectStore requests (mocked)', () => {
  it('puts the body under bucket and prefixed key', async () => {
    const { mock, store } = s3Setup('env/');
    mock.on(PutObjectCommand).resolves({});
    const bytes = testBytes(100);
    await store.put('topics/t/0001', bytes);
    const [call] = mock.commandCalls(PutObjectCommand);
    assert.equal(call.args[0].input.Bucket, 'the-bucket');
    assert.equal(call.args[0].input.Key, 'env/topics/t/0001');
    assert.equal(call.args[0].input.Body, bytes);
    assert.equal(call.args[0].input.ContentLength, 100);
  });

  it('sends an inclusive Range header and returns the bytes', async () => {
    const { mock, store } = s3Setup();
    const bytes = testBytes(10);
    mock.on(GetObjectCommand).resolves({ Body: body(bytes) as never, ContentRange: 'bytes 10-19/100' });
    assertBytes(await store.get('k', { start: 10, end: 19 }), bytes);
    assert.equal(mock.commandCalls(GetObjectCommand)[0].args[0].input.Range, 'bytes=10-19');
    assert.equal(mock.commandCalls(GetObjectCommand)[0].args[0].input.Key, 'k');
  });

  it('sends no Range for a whole-object get', async () => {
    const { mock, store } = s3Setup();
    mock.on(GetObjectCommand).resolves({ Body: body(testBytes(5)) as never });
    assertBytes(await store.get('k'), testBytes(5));
    assert.equal(mock.commandCalls(GetObjectCommand)[0].args[0].input.Range, undefined);
  });

  it('cuts the requested bytes out of a server answer that ignored or widened the range', async () => {
    const { mock, store } = s3Setup();
    const whole = testBytes(100, 3);
    mock.on(GetObjectCommand).resolvesOnce({ Body: body(whole) as never }).resolvesOnce({ Body: body(whole) as never, ContentRange: 'bytes 0-99/100' });
    assertBytes(await store.get('k', { start: 40, end: 49 }), whole.subarray(40, 50), '200 with the whole object');
    assertBytes(await store.get('k', { start: 0, end: 0 }), whole.subarray(0, 1), '206 with more than asked');
  });

  it('answers a range past the end (416 InvalidRange) with empty bytes', async () => {
    const { mock, store } = s3Setup();
    mock.on(GetObjectCommand).rejects(s3Error('InvalidRange', 416));
    assertBytes(await store.get('k', { start: 1000, end: 2000 }), new Uint8Array(0));
  });

  it('deletes in batches of 1,000 quietly', async () => {
    const { mock, store } = s3Setup('p/');
    mock.on(DeleteObjectsCommand).resolves({});
    const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
    await store.delete(keys);
    const calls = mock.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input);
    assert.deepEqual(calls.map((input) => input.Delete?.Objects?.length), [1000, 1000, 500]);
    assert.ok(calls.every((input) => input.Delete?.Quiet === true && input.Bucket === 'the-bucket'));
    assert.equal(calls[2].Delete?.Objects?.[499].Key, 'p/k2499');
    await store.delete([]);
    assert.equal(mock.commandCalls(DeleteObjectsCommand).length, 3, 'no request for an empty key list');
  });

  it('follows continuation tokens when listing and strips the prefix', async () => {
    const { mock, store } = s3Setup('env/');
    const when = new Date('2026-01-02T03:04:05Z');
    mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ IsTruncated: true, NextContinuationToken: 'token-1', Contents: [{ Key: 'env/a/1', Size: 1, LastModified: when }] })
      .resolvesOnce({ IsTruncated: false, Contents: [{ Key: 'env/a/2', Size: 2, LastModified: when }] });
    assert.deepEqual(await collect(store.list('a/')), [
      { key: 'a/1', size: 1, lastModified: when.getTime() },
      { key: 'a/2', size: 2, lastModified: when.getTime() },
    ]);
    const inputs = mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    assert.deepEqual(
      inputs.map(({ Bucket, Prefix, ContinuationToken }) => ({ Bucket, Prefix, ContinuationToken })),
      [
        { Bucket: 'the-bucket', Prefix: 'env/a/', ContinuationToken: undefined },
        { Bucket: 'the-bucket', Prefix: 'env/a/', ContinuationToken: 'token-1' },
      ],
    );
  });

  it('presigns with Range among the signed headers, valid only for that Range', async () => {
    const client = createS3Client({ region: 'eu-west-1', credentials });
    const store = new S3ObjectStore({ client, bucket: 'the-bucket', prefix: 'env/' });
    const url = new URL(await store.presignGet('topics/t/obj 1', { start: 5, end: 14 }, 120));
    assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'host;range');
    assert.equal(url.searchParams.get('X-Amz-Expires'), '120');
    assert.equal(url.searchParams.get('Range'), null, 'the range is a signed header, not a query parameter');
    const request = (range?: string) => ({
      method: 'GET',
      pathAndQuery: url.pathname + url.search,
      headers: { host: url.host, ...(range ? { range } : {}) },
    });
    assert.deepEqual(verifyPresignedRequest(request('bytes=5-14'), credentials.secretAccessKey), { valid: true });
    assert.equal(verifyPresignedRequest(request('bytes=0-14'), credentials.secretAccessKey).valid, false);
    assert.equal(verifyPresignedRequest(request(), credentials.secretAccessKey).valid, false);
    await assert.rejects(store.presignGet('k', { start: 0, end: 1 }, 8 * 24 * 3600), RangeError);
  });

  it('configures clients for emulators and S3 alike', async () => {
    const plain = createS3Client({ region: 'us-east-1', credentials });
    assert.equal(await plain.config.requestChecksumCalculation(), 'WHEN_SUPPORTED', 'S3 keeps its PUT checksums');
    assert.equal(plain.config.forcePathStyle, false);
    const local = createS3Client({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:9' });
    assert.equal(local.config.forcePathStyle, true);
    assert.equal(await local.config.requestChecksumCalculation(), 'WHEN_REQUIRED');
    assert.equal(await local.config.responseChecksumValidation(), 'WHEN_REQUIRED');
    const overridden = createS3Client({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:9', forcePathStyle: false });
    assert.equal(overridden.config.forcePathStyle, false);
  });
});

describe('S3ObjectStore error mapping (mocked)', () => {
  it('maps NoSuchKey to ObjectNotFoundError', async () => {
    const { mock, store } = s3Setup();
    const error = new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    mock.on(GetObjectCommand).rejects(error);
    await assertMapped(store.get('missing'), ObjectNotFoundError, error);
    await assertMapped(store.get('missing', { start: 0, end: 1 }), ObjectNotFoundError, error);
  });

  it('maps SlowDown (503) to ThrottledError', async () => {
    const { mock, store } = s3Setup();
    const error = s3Error('SlowDown', 503);
    mock.on(PutObjectCommand).rejects(error);
    await assertMapped(store.put('k', testBytes(1)), ThrottledError, error);
  });

  it('maps a bare 503 to ThrottledError (S3 only sends 503 to slow callers down)', async () => {
    const { mock, store } = s3Setup();
    mock.on(GetObjectCommand).rejects(s3Error('ServiceUnavailable', 503));
    await assertMapped(store.get('k'), ThrottledError);
  });

  it('maps 500 InternalError to UnavailableError', async () => {
    const { mock, store } = s3Setup();
    const error = s3Error('InternalError', 500);
    mock.on(PutObjectCommand).rejects(error);
    await assertMapped(store.put('k', testBytes(1)), UnavailableError, error);
  });

  it('maps timeouts and broken connections to UnavailableError', async () => {
    const { mock, store } = s3Setup();
    mock.on(PutObjectCommand).rejects(timeoutError());
    await assertMapped(store.put('k', testBytes(1)), UnavailableError);
    mock.on(GetObjectCommand).rejects(networkError('ECONNRESET'));
    await assertMapped(store.get('k'), UnavailableError);
    mock.on(ListObjectsV2Command).rejects(networkError('ECONNREFUSED'));
    await assertMapped(collect(store.list('')), UnavailableError);
  });

  it('maps a body that breaks mid-stream to UnavailableError', async () => {
    const { mock, store } = s3Setup();
    const broken = { transformToByteArray: async () => Promise.reject(networkError('ECONNRESET')) };
    mock.on(GetObjectCommand).resolves({ Body: broken as never });
    await assertMapped(store.get('k'), UnavailableError);
  });

  it('maps AccessDenied to a non-retriable StorageError', async () => {
    const { mock, store } = s3Setup();
    mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    await assertMapped(store.put('k', testBytes(1)), StorageError);
    await assert.rejects(store.put('k', testBytes(1)), (error: StorageError) => error.retriable === false);
  });

  it('maps per-key DeleteObjects failures', async () => {
    const { mock, store } = s3Setup();
    mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'a', Code: 'SlowDown', Message: 'Reduce your request rate.' }] });
    await assertMapped(store.delete(['a', 'b']), ThrottledError);
    mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'a', Code: 'InternalError', Message: 'oops' }] });
    await assertMapped(store.delete(['a']), UnavailableError);
    mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'a', Code: 'AccessDenied', Message: 'no' }] });
    await assertMapped(store.delete(['a']), StorageError);
  });
});

describe('DynamoDbMetadataStore requests (mocked)', () => {
  it('gets with ConsistentRead and unmarshals N to bigint', async () => {
    const { mock, store } = dynamoSetup();
    mock.on(GetItemCommand).resolves({ Item: { pk: { S: 'p' }, sk: { S: 's' }, n: { N: '18446744073709551617' }, b: { BOOL: true }, t: { S: 'x' } } });
    assert.deepEqual(await store.get('p', 's'), { pk: 'p', sk: 's', n: 2n ** 64n + 1n, b: true, t: 'x' });
    assert.deepEqual(mock.commandCalls(GetItemCommand)[0].args[0].input, {
      TableName: 'the-table',
      Key: { pk: { S: 'p' }, sk: { S: 's' } },
      ConsistentRead: true,
    });
  });

  it('puts a marshalled item without a condition', async () => {
    const { mock, store } = dynamoSetup();
    mock.on(PutItemCommand).resolves({});
    await store.put({ pk: 'p', sk: 's', n: -5n, b: false, t: '' });
    assert.deepEqual(mock.commandCalls(PutItemCommand)[0].args[0].input, {
      TableName: 'the-table',
      Item: { pk: { S: 'p' }, sk: { S: 's' }, n: { N: '-5' }, b: { BOOL: false }, t: { S: '' } },
      ConditionExpression: undefined,
    });
  });

  it('translates a condition into placeholders only', async () => {
    const { mock, store } = dynamoSetup();
    mock.on(PutItemCommand).resolves({});
    const sneaky = 'version) OR attribute_exists(#n0';
    await store.put(
      { pk: 'p', sk: 's', v: 1n },
      {
        itemExists: true,
        where: [
          { attr: sneaky, op: '=', value: 3n },
          { anyOf: [{ attr: 'owner', op: 'notExists' }, { attr: 'owner', op: '<>', value: 'me' }, { attr: 'lease', op: '<', value: 100n }] },
          { attr: 'flag', op: '>=', value: true },
          { anyOf: [] },
        ],
      },
    );
    const input = mock.commandCalls(PutItemCommand)[0].args[0].input;
    assert.equal(
      input.ConditionExpression,
      'attribute_exists(#n0) AND #n1 = :v0 AND (attribute_not_exists(#n2) OR attribute_exists(#n2) AND #n2 <> :v1 OR #n3 < :v2)' +
        ' AND #n4 = :v3 AND attribute_exists(#n0) AND attribute_not_exists(#n0)',
    );
    assert.deepEqual(input.ExpressionAttributeNames, { '#n0': 'pk', '#n1': sneaky, '#n2': 'owner', '#n3': 'lease', '#n4': 'flag' });
    assert.deepEqual(input.ExpressionAttributeValues, { ':v0': { N: '3' }, ':v1': { S: 'me' }, ':v2': { N: '100' }, ':v3': { BOOL: true } });
  });

  it('translates an update into SET, ADD and REMOVE with ReturnValues ALL_NEW', async () => {
    const { mock, store } = dynamoSetup();
    mock.on(UpdateItemCommand).resolves({ Attributes: { pk: { S: 'p' }, sk: { S: 's' }, next: { N: '9007199254740993' }, state: { S: 'open' } } });
    const result = await store.update(
      'p',
      's',
      { set: { state: 'open', 'odd name': true }, add: { next: 2n ** 53n + 1n }, remove: ['lease'] },
      { where: [{ attr: 'next', op: '>=', value: 0n }] },
    );
    assert.deepEqual(result, { pk: 'p', sk: 's', next: 2n ** 53n + 1n, state: 'open' });
    assert.deepEqual(mock.commandCalls(UpdateItemCommand)[0].args[0].input, {
      TableName: 'the-table',
      Key: { pk: { S: 'p' }, sk: { S: 's' } },
      UpdateExpression: 'SET #n0 = :v0, #n1 = :v1 ADD #n2 :v2 REMOVE #n3',
      ConditionExpression: '#n2 >= :v3',
      ExpressionAttributeNames: { '#n0': 'state', '#n1': 'odd name', '#n2': 'next', '#n3': 'lease' },
      ExpressionAttributeValues: { ':v0': { S: 'open' }, ':v1': { BOOL: true }, ':v2': { N: '9007199254740993' }, ':v3': { N: '0' } },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('deletes with a condition', async () => {
    const { mock, store } = dynamoSetup();
    mock.on(DeleteItemCommand).resolves({});
    await store.delete('p', 's', { where: [{ attr: 'generation', op: '=', value: 7n }] });
    const input = mock.commandCalls(DeleteItemCommand)[0].args[0].input;
    assert.equal(input.ConditionExpression, '#n0 = :v0');
    assert.deepEqual(input.ExpressionAttributeNames, { '#n0': 'generation' });
  });

  it('queries with BETWEEN, drops exclusive endpoints, and pages with ExclusiveStartKey', async () => {
    const { mock, store } = dynamoSetup();
    const item = (sk: string) => ({ pk: { S: 'p' }, sk: { S: sk } });
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('b'), item('c')], LastEvaluatedKey: item('c') })
      .resolvesOnce({ Items: [item('d'), item('e')] });
    const items = await store.query('p', { gt: 'b', lte: 'e', reverse: false, limit: 10 });
    assert.deepEqual(items.map((i) => i.sk), ['c', 'd', 'e']);
    const inputs = mock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    assert.equal(inputs[0].KeyConditionExpression, '#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2');
    assert.deepEqual(inputs[0].ExpressionAttributeNames, { '#n0': 'pk', '#n1': 'sk' });
    assert.deepEqual(inputs[0].ExpressionAttributeValues, { ':v0': { S: 'p' }, ':v1': { S: 'b' }, ':v2': { S: 'e' } });
    assert.equal(inputs[0].ConsistentRead, true);
    assert.equal(inputs[0].ScanIndexForward, true);
    assert.equal(inputs[0].Limit, 11, 'one more than the limit, for the endpoint that is dropped');
    assert.equal(inputs[0].ExclusiveStartKey, undefined);
    assert.deepEqual(inputs[1].ExclusiveStartKey, item('c'));
    assert.equal(inputs[1].Limit, 10);
  });

  it('uses single comparisons for one-sided bounds and ScanIndexForward=false for reverse', async () => {
    const { mock, store } = dynamoSetup();
    mock.on(QueryCommand).resolves({ Items: [] });
    await store.query('p', { lt: 'm', reverse: true, limit: 5 });
    await store.query('p', { gt: 'a' });
    await store.query('p');
    const inputs = mock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    assert.equal(inputs[0].KeyConditionExpression, '#n0 = :v0 AND #n1 < :v1');
    assert.equal(inputs[0].ScanIndexForward, false);
    assert.equal(inputs[0].Limit, 5);
    assert.equal(inputs[1].KeyConditionExpression, '#n0 = :v0 AND #n1 > :v1');
    assert.equal(inputs[1].Limit, undefined);
    assert.equal(inputs[2].KeyConditionExpression, '#n0 = :v0');
    assert.deepEqual(inputs[2].ExpressionAttributeNames, { '#n0': 'pk' });
  });

  it('answers empty ranges and limit 0 without a request', async () => {
    const { mock, store } = dynamoSetup();
    mock.on(QueryCommand).resolves({ Items: [] });
    assert.deepEqual(await store.query('p', { gte: 'z', lte: 'a' }), []);
    assert.deepEqual(await store.query('p', { gt: 'm', lt: 'm' }), []);
    assert.deepEqual(await store.query('p', { limit: 0 }), []);
    assert.equal(mock.commandCalls(QueryCommand).length, 0);
  });

  it('describes the table it expects', () => {
    assert.deepEqual(createTableInput('t'), {
      TableName: 't',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});

describe('DynamoDbMetadataStore error mapping (mocked)', () => {
  const cases: [string, () => unknown, typeof StorageError][] = [
    ['ConditionalCheckFailedException', () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } }), ConditionFailedError],
    ['ThrottlingException', () => new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }), ThrottledError],
    ['ProvisionedThroughputExceededException', () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }), ThrottledError],
    ['RequestLimitExceeded', () => new RequestLimitExceeded({ message: 'account limit', $metadata: { httpStatusCode: 400 } }), ThrottledError],
    ['InternalServerError (500, ambiguous)', () => new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } }), UnavailableError],
    ['ServiceUnavailable (503)', () => dynamoError('ServiceUnavailable', 503), UnavailableError],
    ['a request timeout', timeoutError, UnavailableError],
    ['ECONNRESET', () => networkError('ECONNRESET'), UnavailableError],
    ['ValidationException (a bug, not retriable)', () => dynamoError('ValidationException', 400), StorageError],
    ['ResourceNotFoundException (no table)', () => dynamoError('ResourceNotFoundException', 400), StorageError],
  ];
  for (const [description, makeError, type] of cases) {
    it(`maps ${description} to ${type.name}`, async () => {
      const { mock, store } = dynamoSetup();
      const error = makeError();
      mock.on(UpdateItemCommand).rejects(error as Error);
      mock.on(PutItemCommand).rejects(error as Error);
      mock.on(GetItemCommand).rejects(error as Error);
      mock.on(QueryCommand).rejects(error as Error);
      mock.on(DeleteItemCommand).rejects(error as Error);
      await assertMapped(store.update('p', 's', { add: { n: 1n } }, { itemExists: true }), type, error);
      await assertMapped(store.put({ pk: 'p', sk: 's' }, { itemExists: false }), type, error);
      await assertMapped(store.delete('p', 's'), type, error);
      if (type !== ConditionFailedError) {
        await assertMapped(store.get('p', 's'), type, error);
        await assertMapped(store.query('p'), type, error);
      }
    });
  }

  it('keeps the retriable flag right on every mapped error', async () => {
    assert.equal(new ConditionFailedError().retriable, false);
    assert.equal(new ThrottledError().retriable, true);
    assert.equal(new UnavailableError().retriable, true);
  });

  it('classifies without relying on messages', () => {
    assert.equal(classifyAwsError(undefined), 'unavailable');
    assert.equal(classifyAwsError(new Error('weird')), 'unavailable');
    assert.equal(classifyAwsError({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 400 } }), 'throttled');
    assert.equal(classifyAwsError({ name: 'Whatever', $metadata: { httpStatusCode: 429 } }), 'throttled');
    assert.equal(classifyAwsError({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }), 'unavailable');
    assert.equal(classifyAwsError({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }, { serviceUnavailableMeansThrottled: true }), 'throttled');
    assert.equal(classifyAwsError({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }), 'rejected');
  });
});

describe('DynamoDB client factory', () => {
  it('lets every default be overridden', async () => {
    const client = createDynamoDbClient({ region: 'eu-west-1', credentials, endpoint: 'http://127.0.0.1:9' });
    assert.equal(await client.config.region(), 'eu-west-1');
    client.destroy();
    assert.ok(new DynamoDBClient({}) instanceof DynamoDBClient);
  });
});
