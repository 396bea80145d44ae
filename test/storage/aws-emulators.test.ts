/**
 * The S3 and DynamoDB adapters against real-protocol emulators on loopback (s3rver, dynalite): the
 * same contract suites as every other adapter, plus what only these adapters do (presigned URLs, key
 * prefixes, DynamoDB paging).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDbMetadataStore } from '../../lib/storage/dynamodb-metadata-store.ts';
import { S3ObjectStore } from '../../lib/storage/s3-object-store.ts';
import { startDynalite, startS3rver, type DynaliteHandle, type S3rverHandle } from '../support/emulators.ts';
import { metadataStoreContract } from './metadata-store.contract.ts';
import { assertBytes, objectStoreContract, testBytes } from './object-store.contract.ts';

objectStoreContract('S3 over s3rver', async () => {
  const s3 = await startS3rver();
  return { store: new S3ObjectStore({ client: s3.client, bucket: s3.bucket }), teardown: s3.stop };
}, { presigns: true });

objectStoreContract('S3 over s3rver, with a key prefix', async () => {
  const s3 = await startS3rver();
  return { store: new S3ObjectStore({ client: s3.client, bucket: s3.bucket, prefix: 'tenant/a/' }), teardown: s3.stop };
}, { presigns: true });

/** Query pages that ended with a LastEvaluatedKey, across the DynamoDB contract run. */
let continuedQueryPages = 0;

metadataStoreContract('DynamoDB over dynalite', async () => {
  const dynamo = await startDynalite();
  dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = result.output as { LastEvaluatedKey?: unknown };
      if (context.commandName === 'QueryCommand' && output.LastEvaluatedKey) continuedQueryPages++;
      return result;
    },
    { step: 'initialize', name: 'countContinuedQueryPages' },
  );
  return { store: new DynamoDbMetadataStore({ client: dynamo.client, tableName: dynamo.tableName }), teardown: dynamo.stop };
});

describe('DynamoDbMetadataStore over dynalite', () => {
  it('followed LastEvaluatedKey in the contract run (pages past 1 MB)', () => {
    assert.ok(continuedQueryPages > 0, 'no query needed a second page: the pagination tests did not exercise paging');
  });

  let dynamo: DynaliteHandle;
  before(async () => {
    dynamo = await startDynalite();
  });
  after(async () => {
    await dynamo?.stop();
  });

  it('gives every emulator call its own table and stops cleanly twice', async () => {
    const other = await startDynalite();
    assert.notEqual(other.tableName, dynamo.tableName);
    assert.notEqual(other.endpoint, dynamo.endpoint);
    await other.stop();
    await other.stop();
  });
});

describe('S3ObjectStore over s3rver', () => {
  let s3: S3rverHandle;
  let store: S3ObjectStore;
  before(async () => {
    s3 = await startS3rver();
    store = new S3ObjectStore({ client: s3.client, bucket: s3.bucket });
  });
  after(async () => {
    await s3?.stop();
  });

  it('presigns a URL scoped to its Range: the range is signed and another range is refused', async () => {
    const body = testBytes(500, 9);
    await store.put('presign/object', body);
    const url = await store.presignGet('presign/object', { start: 100, end: 199 }, 300);
    const query = new URL(url).searchParams;
    assert.deepEqual(query.get('X-Amz-SignedHeaders')?.split(';').sort(), ['host', 'range']);
    assert.equal(query.get('X-Amz-Expires'), '300');

    const exact = await fetch(url, { headers: { Range: 'bytes=100-199' } });
    assert.equal(exact.status, 206);
    assertBytes(new Uint8Array(await exact.arrayBuffer()), body.subarray(100, 200));

    const otherRanges: Record<string, string>[] = [{ Range: 'bytes=0-499' }, { Range: 'bytes=100-200' }, {}];
    for (const headers of otherRanges) {
      const widened = await fetch(url, { headers });
      assert.equal(widened.status, 403, `Range ${JSON.stringify(headers)} must be refused`);
      assert.match(await widened.text(), /SignatureDoesNotMatch/);
    }
  });

  it('keeps prefixed stores apart from each other and from unprefixed keys', async () => {
    const tenantA = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, prefix: 'prefixes/a/' });
    const tenantB = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, prefix: 'prefixes/b/' });
    await tenantA.put('x', testBytes(3, 1));
    await tenantB.put('x', testBytes(4, 2));
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'prefixes/c', Body: new Uint8Array(1) }));
    assertBytes(await tenantA.get('x'), testBytes(3, 1));
    assertBytes(await tenantB.get('x'), testBytes(4, 2));
    const listed = [];
    for await (const info of tenantA.list('')) listed.push(info);
    assert.deepEqual(listed.map(({ key, size }) => ({ key, size })), [{ key: 'x', size: 3 }]);
    const raw = [];
    for await (const info of store.list('prefixes/')) raw.push(info.key);
    assert.deepEqual(raw, ['prefixes/a/x', 'prefixes/b/x', 'prefixes/c']);
  });

  it('stores the bytes sent, without aws-chunked framing', async () => {
    const body = testBytes(70_000, 4);
    await store.put('framing/object', body);
    const listed = [];
    for await (const info of store.list('framing/')) listed.push(info.size);
    assert.deepEqual(listed, [70_000]);
    const raw = await fetch(`${s3.endpoint}/${s3.bucket}/framing/object`);
    assertBytes(new Uint8Array(await raw.arrayBuffer()), body);
  });
});
