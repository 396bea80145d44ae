import { startDynalite, startS3rver } from './emulators.ts';
import { DynamoDbMetadataStore } from '../../lib/storage/dynamodb-metadata-store.ts';
import { S3ObjectStore } from '../../lib/storage/s3-object-store.ts';
import { PutItemCommand, UpdateItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';

const d = await startDynalite();
const store = new DynamoDbMetadataStore({ client: d.client, tableName: d.tableName });
await store.put({ pk: 'a', sk: 'b', s: 'm', n: 10n, e: '' });
console.log(await store.get('a', 'b'));
console.log('empty update', await store.update('a', 'c', {}));
for (const where of [[{ attr: 'n', op: '<>', value: '10' }], [{ attr: 's', op: '<', value: 10n }], [{ attr: 'x', op: '<>', value: 'q' }]] as const) {
  try { await store.update('a', 'b', { set: { z: 'ok' } }, { where }); console.log('held', where); } catch (e) { console.log('failed', where, (e as Error).message); }
}
// raw: missing attr <> without attribute_exists
try {
  await d.client.send(new UpdateItemCommand({ TableName: d.tableName, Key: { pk: { S: 'a' }, sk: { S: 'b' } }, UpdateExpression: 'SET z = :z', ConditionExpression: '#x <> :v', ExpressionAttributeNames: { '#x': 'x' }, ExpressionAttributeValues: { ':v': { S: 'q' }, ':z': { S: 'raw' } } }));
  console.log('raw missing <> held');
} catch (e) { console.log('raw missing <> failed', (e as Error).name); }
try {
  await d.client.send(new UpdateItemCommand({ TableName: d.tableName, Key: { pk: { S: 'a' }, sk: { S: 'b' } }, UpdateExpression: 'SET z = :z', ConditionExpression: '#x <> :v', ExpressionAttributeNames: { '#x': 'n' }, ExpressionAttributeValues: { ':v': { S: '10' }, ':z': { S: 'raw' } } }));
  console.log('raw type-mismatch <> held');
} catch (e) { console.log('raw type-mismatch <> failed', (e as Error).name); }
try {
  await d.client.send(new UpdateItemCommand({ TableName: d.tableName, Key: { pk: { S: 'a' }, sk: { S: 'b' } }, UpdateExpression: 'SET z = :z', ConditionExpression: '#x <= :v', ExpressionAttributeNames: { '#x': 'n' }, ExpressionAttributeValues: { ':v': { BOOL: true }, ':z': { S: 'raw' } } }));
  console.log('raw bool <= held');
} catch (e) { console.log('raw bool <= failed', (e as Error).name, (e as Error).message); }
await d.stop();

const s = await startS3rver();
const os = new S3ObjectStore({ client: s.client, bucket: s.bucket });
await os.put('x/y', new Uint8Array([1, 2, 3, 4]));
console.log(await os.get('x/y'), await os.get('x/y', { start: 0, end: 0 }), await os.get('x/y', { start: 2, end: 100 }), await os.get('x/y', { start: 10, end: 100 }));
await os.put('e', new Uint8Array(0));
console.log(await os.get('e'), await os.get('e', { start: 0, end: 5 }));
for await (const i of os.list('')) console.log(i);
await os.delete(['x/y', 'nope']);
for await (const i of os.list('')) console.log(i);
try { await os.get('x/y'); } catch (e) { console.log((e as Error).name, (e as Error).message); }
console.log(await os.presignGet('e', { start: 0, end: 1 }, 60));
await s.stop();
