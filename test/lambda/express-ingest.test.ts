/**
 * SLUICE_INGEST_BUCKET (set by the construct with `ingestObjects: { storage: 'express', … }`): the
 * Lambda engine routes ingest objects to that bucket and everything else to SLUICE_BUCKET. Against
 * s3rver with two buckets on one endpoint (a directory bucket's own behaviour is tested in
 * test/storage/routed-object-store.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { awsEngineFromEnv } from '../../lib/lambda/aws-app.ts';
import { DEFAULTS } from '../../lib/defaults.ts';
import { RoutedObjectStore } from '../../lib/storage/routed-object-store.ts';
import { S3ObjectStore } from '../../lib/storage/s3-object-store.ts';
import { startDynalite, startS3rver, type DynaliteHandle, type S3rverHandle } from '../support/emulators.ts';
import { emulatorEnv } from '../support/lambda-env.ts';
import { append, readAll } from '../log/engine.suite.ts';

describe('the Lambda engine with SLUICE_INGEST_BUCKET', () => {
  let s3: S3rverHandle;
  let dynamo: DynaliteHandle;
  const ingestBucket = `sluice-ingest-${randomBytes(4).toString('hex')}`;
  let env: Record<string, string>;
  before(async () => {
    [s3, dynamo] = await Promise.all([startS3rver(), startDynalite()]);
    await s3.client.send(new CreateBucketCommand({ Bucket: ingestBucket }));
    env = emulatorEnv(s3, dynamo);
  });
  after(async () => {
    await Promise.all([s3?.stop(), dynamo?.stop()]);
  });

  it('without it, one bucket', () => {
    assert.ok(awsEngineFromEnv(env).objects instanceof S3ObjectStore);
  });

  it('with it, ingest objects go to the ingest bucket and reads find them', async () => {
    // The SDK reads credentials and region from the process environment.
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const engine = awsEngineFromEnv({ ...env, SLUICE_INGEST_BUCKET: ingestBucket });
      assert.ok(engine.objects instanceof RoutedObjectStore);
      await engine.topics.create('orders', 1);
      const big = 'x'.repeat(2 * DEFAULTS.inlineMaxBytes);
      await engine.produce('orders', [append(0, [big], Date.now(), 'none')]);
      const { id } = await engine.topics.get('orders');
      const listed = async (bucket: string) => {
        const keys: string[] = [];
        for await (const info of new S3ObjectStore({ client: s3.client, bucket }).list(`t/${id}/`)) keys.push(info.key);
        return keys;
      };
      assert.equal((await listed(ingestBucket)).length, 1);
      assert.deepEqual(await listed(s3.bucket), []);
      assert.equal((await readAll(engine, 'orders', 0))[0][1], big);
    } finally {
      for (const name of Object.keys(env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});
