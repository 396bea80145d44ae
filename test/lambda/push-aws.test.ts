/**
 * Push consumers on the AWS adapters (S3 and DynamoDB emulators). dynalite has no streams, so the
 * stream records the table writes would produce are built from the real writes (every put and update
 * the engine makes), passed through the event source mapping's filter as Lambda applies it, and fed
 * to the stream handler; the dispatcher it invokes delivers to a Lambda target written with the
 * client's sluiceHandler. The consumer is created by the deploy-time custom resource.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sluiceHandler } from '../../lib/client/index.ts';
import { Engine } from '../../lib/log/engine.ts';
import { createAwsDispatcher, createStreamHandler, handleDispatcherEvent, handlePushConsumerEvent, pushConsumersFromEnv, type DispatcherEvent } from '../../lib/lambda/push.ts';
import { LOG_ENTRY_STREAM_FILTER, type StreamRecord } from '../../lib/trigger/append-trigger.ts';
import type { KmsCalls } from '../../lib/push/secrets.ts';
import type { InvokeFunction } from '../../lib/push/targets.ts';
import type { Condition, Item, MetadataStore, QueryOptions, UpdateChanges, UpdateOptions } from '../../lib/storage/ports.ts';
import { awsEmulatorBackend, type Backend } from '../support/backends.ts';
import { produceValues } from '../push/support.ts';

/** The metadata store, emitting the stream record DynamoDB would for each write (keys and the new image's scalars). */
class StreamingStore implements MetadataStore {
  readonly records: StreamRecord[] = [];
  readonly inner: MetadataStore;
  constructor(inner: MetadataStore) {
    this.inner = inner;
  }
  get(pk: string, sk: string) {
    return this.inner.get(pk, sk);
  }
  async put(item: Item, condition?: Condition) {
    const existed = (await this.inner.get(item.pk, item.sk)) !== undefined;
    await this.inner.put(item, condition);
    this.#emit(existed ? 'MODIFY' : 'INSERT', item);
  }
  async update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions) {
    const existed = (await this.inner.get(pk, sk)) !== undefined;
    const result = await this.inner.update(pk, sk, changes, condition, options);
    this.#emit(existed ? 'MODIFY' : 'INSERT', (await this.inner.get(pk, sk))!);
    return result;
  }
  async delete(pk: string, sk: string, condition?: Condition) {
    await this.inner.delete(pk, sk, condition);
    this.records.push({ eventName: 'REMOVE', dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } } } });
  }
  query(pk: string, options?: QueryOptions) {
    return this.inner.query(pk, options);
  }
  #emit(eventName: string, item: Item) {
    const image: Record<string, { S?: string; BOOL?: boolean; N?: string }> = {};
    for (const [name, value] of Object.entries(item)) image[name] = typeof value === 'string' ? { S: value } : typeof value === 'boolean' ? { BOOL: value } : { N: value.toString() };
    this.records.push({ eventName, dynamodb: { Keys: { pk: { S: item.pk }, sk: { S: item.sk } }, NewImage: image } });
  }
}

/** Lambda's filter rules, for the patterns the filter uses: exact values and `prefix`. */
function matchesFilter(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((p) => (typeof p === 'object' && p !== null && 'prefix' in p ? typeof value === 'string' && value.startsWith((p as { prefix: string }).prefix) : p === value));
  }
  if (typeof pattern === 'object' && pattern !== null) {
    return Object.entries(pattern).every(([key, inner]) => value !== null && typeof value === 'object' && matchesFilter(inner, (value as Record<string, unknown>)[key]));
  }
  return false;
}

/** A KMS stand-in: AES-GCM under a key of its own, refusing a ciphertext under another encryption context. */
function fakeKms(): KmsCalls & { calls: string[] } {
  const key = randomBytes(32);
  const calls: string[] = [];
  return {
    calls,
    async encrypt({ Plaintext, EncryptionContext }) {
      calls.push(`encrypt ${EncryptionContext.consumer}`);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(JSON.stringify(EncryptionContext)));
      return { CiphertextBlob: Buffer.concat([iv, c.update(Plaintext), c.final(), c.getAuthTag()]) };
    },
    async decrypt({ CiphertextBlob, EncryptionContext }) {
      calls.push(`decrypt ${EncryptionContext.consumer}`);
      const blob = Buffer.from(CiphertextBlob);
      const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12)).setAAD(Buffer.from(JSON.stringify(EncryptionContext)));
      d.setAuthTag(blob.subarray(blob.length - 16));
      return { Plaintext: Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]) };
    },
  };
}

describe('push consumers on the AWS adapters, triggered by stream records', { timeout: 120_000 }, () => {
  let backend: Backend;
  before(async () => {
    backend = await awsEmulatorBackend();
  });
  after(async () => backend.teardown());

  it('the filter passes exactly the insertion of log entries; the handler fans out to the dispatcher, which invokes the function target', async () => {
    const metadata = new StreamingStore(backend.metadata);
    const engine = new Engine({ objects: backend.objects, metadata, topicCacheMs: 0 });
    const env = { SLUICE_PUSH_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/test' };
    const kms = fakeKms();
    await engine.topics.create('orders', 2);
    await engine.topics.create('orders-dlq', 1);

    // Deploy time: the custom resource creates the consumer.
    const functionArn = 'arn:aws:lambda:us-east-1:123456789012:function:billing';
    const answers: string[] = [];
    await handlePushConsumerEvent(
      {
        RequestType: 'Create',
        ResponseURL: 'https://cloudformation.example/response',
        StackId: 'stack',
        RequestId: 'r1',
        LogicalResourceId: 'Billing',
        ResourceProperties: { Consumer: JSON.stringify({ name: 'billing', topics: ['orders'], target: { functionArn }, startAt: 'earliest', deadLetterTopic: 'orders-dlq', retry: { maxAttempts: 1, minBackoffMs: 0, maxBackoffMs: 0 } }) },
      },
      pushConsumersFromEnv(engine, env, () => kms),
      { fetch: (async (_url: string, init: RequestInit) => (answers.push(String(init.body)), new Response(null))) as unknown as typeof fetch },
    );
    assert.equal(JSON.parse(answers[0]).Status, 'SUCCESS', answers[0]);
    assert.deepEqual(kms.calls, ['encrypt billing']);

    // The target: a Lambda function written with the client's helper; the record 'poison' fails.
    const seen: Array<{ batchId: string; values: string[] }> = [];
    const target = sluiceHandler(async (batch) => {
      seen.push({ batchId: batch.batchId, values: batch.records.map((r) => r.value!) });
      await batch.eachRecord((record) => {
        if (record.value === 'poison') throw new Error('cannot bill poison');
      });
    });
    const invoked: string[] = [];
    const invoke: InvokeFunction = async (input) => {
      invoked.push(input.FunctionName);
      return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(await target(JSON.parse(Buffer.from(input.Payload).toString())))) };
    };

    metadata.records.length = 0;
    await produceValues(engine, 'orders', 0, ['a', 'b'], Date.now());
    await produceValues(engine, 'orders', 1, ['c', 'poison', 'd'], Date.now());
    const writes = metadata.records.splice(0);
    const passed = writes.filter((r) => matchesFilter(LOG_ENTRY_STREAM_FILTER, r));
    assert.ok(writes.length > passed.length, 'heads and other items are written too');
    assert.deepEqual(passed.map((r) => r.dynamodb?.Keys?.sk?.S?.slice(0, 2)), ['e#', 'e#']);

    const sent: DispatcherEvent[] = [];
    const streamHandler = createStreamHandler([async (advanced) => void sent.push({ advanced })]);
    assert.deepEqual(await streamHandler({ Records: passed }), { advanced: 2 });
    const dispatcher = createAwsDispatcher(engine, env, { kms: () => kms, invoke });
    for (const event of sent) await handleDispatcherEvent(dispatcher, JSON.parse(JSON.stringify(event)));

    assert.ok(invoked.every((arn) => arn === functionArn));
    // One attempt each: the partial failure at 'poison' leaves no attempts, so poison and d go to the dead-letter topic.
    assert.deepEqual(seen.map((s) => s.values.join()).sort(), ['a,b', 'c,poison,d']);
    const consumers = pushConsumersFromEnv(engine, env, () => kms);
    const described = await consumers.describe('billing');
    assert.deepEqual(described.partitions.map((p) => p.committedOffset), [2n, 3n]);
    assert.equal(described.deadLettered, 2n, 'poison and d: out of attempts after the partial failure');
    assert.equal(kms.calls.filter((c) => c.startsWith('decrypt')).length, 1, 'the secret is opened once per process');

    // Compaction rewrites entries (MODIFY) and gap closing writes aborted ones: neither passes the filter.
    const compacted = writes.map((r) => ({ ...r, eventName: 'MODIFY' }));
    assert.equal(compacted.filter((r) => matchesFilter(LOG_ENTRY_STREAM_FILTER, r)).length, 0);
    const aborted = { eventName: 'INSERT', dynamodb: { Keys: passed[0].dynamodb!.Keys, NewImage: { aborted: { BOOL: true } } } };
    assert.equal(matchesFilter(LOG_ENTRY_STREAM_FILTER, aborted), false);
    // Deleting the stack deletes the consumer.
    await handlePushConsumerEvent(
      { RequestType: 'Delete', ResponseURL: 'https://cloudformation.example/response', StackId: 'stack', RequestId: 'r2', LogicalResourceId: 'Billing', PhysicalResourceId: 'billing', ResourceProperties: { Consumer: '{"name":"billing"}' } },
      consumers,
      { fetch: (async () => new Response(null)) as unknown as typeof fetch },
    );
    await assert.rejects(consumers.get('billing'), /does not exist/);
  });
});
