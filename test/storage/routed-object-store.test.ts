/**
 * RoutedObjectStore over two s3rver buckets, the ingest one listing like an S3 Express One Zone
 * directory bucket (prefixes must end in `/`, no key order: see test/support/emulators.ts): the port
 * contract for the keys the standard bucket holds, where each kind of key goes, and the log on top of
 * it: produce, fetch, locations, compaction moving data from the ingest bucket into segments, garbage
 * collection and the deleted-topic purge cleaning both buckets, idempotent retries.
 *
 * What this cannot check: a real directory bucket (CreateSession auth, zonal endpoints, `--x-s3`
 * names, its real list order and error codes). Those are the SDK's and AWS's; see the README.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../lib/defaults.ts';
import { ObjectNotFoundError, StorageError } from '../../lib/errors.ts';
import { Engine, type EngineOptions } from '../../lib/log/engine.ts';
import { ingestObjectKey, partitionPk, segmentObjectKeys, timeOrderedId } from '../../lib/log/layout.ts';
import type { ObjectInfo, ObjectStore } from '../../lib/storage/ports.ts';
import { RoutedObjectStore, isIngestObjectKey } from '../../lib/storage/routed-object-store.ts';
import { S3ObjectStore, createS3Client } from '../../lib/storage/s3-object-store.ts';
import { EXPRESS_INGEST_MAINTENANCE } from '../../lib/lambda/aws-app.ts';
import { Readable } from 'node:stream';
import { expressIngestBackend, type Backend } from '../support/backends.ts';
import { ManualClock } from '../support/clock.ts';
import { CountingObjectStore } from '../support/counting-store.ts';
import { startS3rver, type S3rverHandle } from '../support/emulators.ts';
import { append, readAll } from '../log/engine.suite.ts';
import { objectStoreContract, testBytes } from './object-store.contract.ts';

const MINUTE = 60_000;

async function keysOf(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

const sorted = (keys: readonly string[]) => [...keys].sort();

objectStoreContract('RoutedObjectStore (2 × s3rver), keys outside ingest objects', async () => {
  const { backend } = await expressIngestBackend();
  return { store: backend.objects, teardown: () => backend.teardown() };
}, { presigns: true });

describe('the directory-bucket emulation (test/support/emulators.ts)', () => {
  let express: S3rverHandle;
  before(async () => {
    express = await startS3rver({ directoryBucket: true });
  });
  after(async () => express?.stop());

  it('refuses a prefix that does not end in / and lists keys out of key order, every key once across pages', async () => {
    const store = new S3ObjectStore({ client: express.client, bucket: express.bucket });
    const keys = Array.from({ length: 1_050 }, (_, i) => `d/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, new Uint8Array([1]))));
    await assert.rejects(keysOf(store, 'd/000'), StorageError);
    const listed = await keysOf(store, 'd/');
    assert.equal(listed.length, keys.length, 'two pages, nothing twice, nothing lost');
    assert.deepEqual(sorted(listed), keys);
    assert.notDeepEqual(listed, keys, 'not in key order');
  });
});

describe('the AWS SDK with a directory bucket name (recorded requests, no network)', () => {
  it('makes one CreateSession, then sends data requests with the session token to the zonal endpoint; presigns with the session credentials', async () => {
    const seen: Array<{ method: string; hostname: string; path: string; query: Record<string, unknown>; headers: Record<string, string> }> = [];
    const requestHandler = {
      async handle(request: (typeof seen)[number]) {
        seen.push(request);
        const body = 'session' in (request.query ?? {})
          ? '<?xml version="1.0" encoding="UTF-8"?><CreateSessionResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Credentials>' +
            '<SessionToken>session-token</SessionToken><SecretAccessKey>session-secret</SecretAccessKey><AccessKeyId>session-key</AccessKeyId>' +
            `<Expiration>${new Date(Date.now() + 5 * MINUTE).toISOString()}</Expiration></Credentials></CreateSessionResult>`
          : '';
        return { response: { statusCode: 200, headers: { 'content-type': 'application/xml', etag: '"e"' }, body: Readable.from([Buffer.from(body)]) } };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    };
    const client = createS3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAIAMUSER', secretAccessKey: 'iam-secret' }, requestHandler: requestHandler as never });
    try {
      const bucket = 'sluice-ingest--use1-az4--x-s3';
      const store = new S3ObjectStore({ client, bucket });
      await store.put('t/a/ingest/00/one', new Uint8Array([1]));
      await store.put('t/a/ingest/00/two', new Uint8Array([2]));
      assert.deepEqual(seen.map((r) => `${r.method} ${'session' in (r.query ?? {}) ? '?session' : r.path}`), ['GET ?session', 'PUT /t/a/ingest/00/one', 'PUT /t/a/ingest/00/two']);
      assert.ok(seen.every((r) => r.hostname === `${bucket}.s3express-use1-az4.us-east-1.amazonaws.com`), 'the zonal endpoint');
      assert.equal(seen[1].headers['x-amz-s3session-token'], 'session-token');
      assert.match(seen[1].headers.authorization, /Credential=session-key\//, 'data requests are signed with the session');
      const url = new URL((await store.presignGet('t/a/ingest/00/one', { start: 0, end: 0 }, 300))!);
      assert.equal(url.searchParams.get('X-Amz-S3session-Token'), 'session-token', 'a presigned URL lives no longer than its session');
      assert.match(url.searchParams.get('X-Amz-Credential')!, /^session-key\//);
    } finally {
      client.destroy();
    }
  });
});

describe('RoutedObjectStore: where each key goes', () => {
  let backend: Backend;
  let standard: ObjectStore;
  let ingest: ObjectStore;
  let routed: ObjectStore;
  const topicId = 'topic0000000000000001';
  before(async () => {
    ({ backend, standard, ingest } = await expressIngestBackend());
    routed = backend.objects;
  });
  after(async () => backend?.teardown());

  it('tells ingest keys (lib/log/layout.ts) from segment keys', () => {
    assert.ok(isIngestObjectKey(ingestObjectKey(topicId, timeOrderedId(Date.now()))));
    assert.ok(isIngestObjectKey(`t/${topicId}/ingest/0000abcde-00ff`), 'keys from before the spread');
    const { segment, index } = segmentObjectKeys(topicId, 3, 42n, Date.now());
    assert.ok(!isIngestObjectKey(segment) && !isIngestObjectKey(index));
    assert.ok(!isIngestObjectKey('ingest/x') && !isIngestObjectKey(`t/${topicId}/segments/ingest/x`));
  });

  it('puts ingest objects in the ingest bucket only and segments in the standard bucket only; reads both', async () => {
    const ingestKey = ingestObjectKey(topicId, timeOrderedId(Date.now()));
    const { segment } = segmentObjectKeys(topicId, 0, 0n, Date.now());
    await routed.put(ingestKey, testBytes(100, 1));
    await routed.put(segment, testBytes(100, 2));
    assert.deepEqual(await keysOf(ingest, `t/${topicId}/`), [ingestKey]);
    assert.deepEqual(await keysOf(standard, `t/${topicId}/`), [segment]);
    assert.deepEqual(await routed.get(ingestKey, { start: 10, end: 19 }), testBytes(100, 1).subarray(10, 20));
    assert.deepEqual(await routed.get(segment), testBytes(100, 2));
    await routed.delete([ingestKey, segment]);
    assert.deepEqual(await keysOf(routed, `t/${topicId}/`), []);
  });

  it('reads an ingest object written to the standard bucket before the switch, and deletes it there', async () => {
    const legacy = ingestObjectKey(topicId, timeOrderedId(Date.now()));
    await standard.put(legacy, testBytes(50, 3));
    assert.deepEqual(await routed.get(legacy), testBytes(50, 3));
    assert.deepEqual(await keysOf(routed, `t/${topicId}/`), [legacy], 'listed once, from the standard bucket');
    await routed.delete([legacy]);
    assert.deepEqual(await keysOf(standard, `t/${topicId}/`), []);
    await assert.rejects(routed.get(legacy), ObjectNotFoundError);
  });

  it('lists both buckets under any prefix, a directory bucket only from a prefix ending in /', async () => {
    const ingestKeys = Array.from({ length: 20 }, (_, i) => ingestObjectKey(topicId, timeOrderedId(Date.now() + i)));
    const { segment, index } = segmentObjectKeys(topicId, 1, 7n, Date.now());
    await Promise.all([...ingestKeys, segment, index].map((key) => routed.put(key, new Uint8Array([7]))));
    const all = await keysOf(routed, `t/${topicId}/`);
    assert.deepEqual(sorted(all), sorted([...ingestKeys, segment, index]));
    // Prefixes that end mid-name: cut back to the last / for the directory bucket, filtered here.
    assert.deepEqual(sorted(await keysOf(routed, `t/${topicId}/ing`)), sorted(ingestKeys));
    assert.deepEqual(sorted(await keysOf(routed, `t/${topicId.slice(0, 8)}`)), sorted(all));
    assert.deepEqual(sorted(await keysOf(routed, `t/${topicId}/seg`)), sorted([segment, index]));
    const spread = ingestKeys[0].slice(0, ingestKeys[0].lastIndexOf('/') + 1);
    assert.deepEqual(sorted(await keysOf(routed, spread)), sorted(ingestKeys.filter((key) => key.startsWith(spread))));
    const info: ObjectInfo[] = [];
    for await (const object of routed.list(`t/${topicId}/`)) info.push(object);
    assert.ok(info.every((object) => object.size === 1 && object.lastModified > 0));
    await routed.delete(all);
    assert.deepEqual(await keysOf(routed, `t/${topicId}/`), []);
  });

  it('presigns segment ranges and no ingest range', async () => {
    const ingestKey = ingestObjectKey(topicId, timeOrderedId(Date.now()));
    const { segment } = segmentObjectKeys(topicId, 2, 0n, Date.now());
    await Promise.all([routed.put(ingestKey, testBytes(64, 4)), routed.put(segment, testBytes(64, 5))]);
    assert.equal(await routed.presignGet!(ingestKey, { start: 0, end: 9 }, 60), undefined);
    const url = await routed.presignGet!(segment, { start: 0, end: 9 }, 60);
    assert.ok(url);
    const response = await fetch(url, { headers: { Range: 'bytes=0-9' } });
    assert.equal(response.status, 206);
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), testBytes(64, 5).subarray(0, 10));
    await routed.delete([ingestKey, segment]);
  });

  it('has no presignGet when the standard store has none', () => {
    const memoryLike: ObjectStore = { put: standard.put.bind(standard), get: standard.get.bind(standard), delete: standard.delete.bind(standard), list: standard.list.bind(standard) };
    assert.equal(new RoutedObjectStore({ standard: memoryLike, ingest }).presignGet, undefined);
  });
});

describe('the log over RoutedObjectStore (ingest bucket listing like a directory bucket)', () => {
  let backend: Backend;
  let standard: ObjectStore;
  let ingest: ObjectStore;
  let clock: ManualClock;
  let objects: CountingObjectStore;
  let topicSeq = 0;
  const engineOf = (options: Partial<EngineOptions> = {}) =>
    new Engine({
      objects,
      metadata: backend.metadata,
      now: clock.now,
      topicCacheMs: 0,
      objectCacheBytes: 0,
      // Every batch in an ingest object: this is about where objects go.
      inlineMaxBytes: 0,
      maintenance: { segmentBytes: 32 * 1024, indexIntervalBytes: 2 * 1024, tailQuietMs: 5 * MINUTE, maxTailEntries: 16 },
      ...options,
    });
  const newTopic = async (engine: Engine, partitions = 2) => {
    const topic = `x${++topicSeq}-${Math.random().toString(36).slice(2, 8)}`;
    await engine.topics.create(topic, partitions, { retentionMs: -1 });
    return { topic, id: (await engine.topics.get(topic)).id };
  };
  const produce = async (engine: Engine, topic: string, n: number) => {
    for (let i = 0; i < n; i++) {
      await engine.produce(topic, [append(0, [`p0-${i}-${'a'.repeat(300)}`], clock.now(), 'none'), append(1, [`p1-${i}-${'b'.repeat(300)}`], clock.now(), 'none')]);
      clock.advance(1000);
    }
  };

  before(async () => {
    ({ backend, standard, ingest } = await expressIngestBackend());
    clock = new ManualClock(Date.now());
    objects = new CountingObjectStore(backend.objects, clock.now);
  });
  after(async () => backend?.teardown());

  it('produce writes one object per request to the ingest bucket; fetch and locations read it there', async () => {
    const engine = engineOf();
    const { topic, id } = await newTopic(engine);
    await produce(engine, topic, 5);
    const ingestKeys = await keysOf(ingest, `t/${id}/`);
    assert.equal(ingestKeys.length, 5);
    assert.ok(ingestKeys.every(isIngestObjectKey));
    assert.deepEqual(await keysOf(standard, `t/${id}/`), [], 'nothing in the standard bucket before compaction');
    assert.deepEqual((await readAll(engine, topic, 1)).map(([o, v]) => `${o}:${v.slice(0, 6)}`), [0, 1, 2, 3, 4].map((i) => `${i}:p1-${i}-b`));

    const located = await engine.locations(topic, 0, { offset: 2n });
    assert.equal(located.locations.length, 3, 'the entries from offset 2 (one whole ingest range each)');
    for (const [i, location] of located.locations.entries()) {
      assert.ok('batches' in location, 'an ingest range in the directory bucket comes by value, not as a URL');
      assert.equal(location.baseOffset, BigInt(i + 2));
    }
    assert.equal(located.nextOffset, 5n);
  });

  it('an idempotent retry writes nothing more and answers the same offsets', async () => {
    const engine = engineOf();
    const { topic, id } = await newTopic(engine, 1);
    const request = [append(0, ['once', 'twice'], clock.now(), 'none')];
    const first = await engine.produce(topic, request, { key: 'k-1', fingerprint: 'fp' });
    const again = await engine.produce(topic, request, { key: 'k-1', fingerprint: 'fp' });
    assert.deepEqual(again, first);
    assert.equal((await keysOf(ingest, `t/${id}/`)).length, 1);
    assert.equal((await readAll(engine, topic, 0)).length, 2);
  });

  it('compaction moves the records into segments in the standard bucket; GC then empties the ingest bucket; reads are unchanged', async () => {
    const engine = engineOf();
    const { topic, id } = await newTopic(engine);
    await produce(engine, topic, 30);
    const before = [await readAll(engine, topic, 0), await readAll(engine, topic, 1)];
    clock.advance(6 * MINUTE);
    const compacted = await engine.maintain();
    assert.ok(compacted.segmentsWritten >= 2 && compacted.errors === 0, JSON.stringify(compacted));
    const segments = await keysOf(standard, `t/${id}/`);
    assert.ok(segments.length >= 4 && segments.every((key) => key.includes('/segments/')), segments.join());
    assert.deepEqual([await readAll(engine, topic, 0), await readAll(engine, topic, 1)], before);

    // Old enough to judge: marked on one pass, deleted once unreferenced for the grace period.
    clock.advance(DEFAULTS.gcMinObjectAgeMs);
    assert.equal((await engine.maintain()).objectsDeleted, 0);
    assert.equal((await keysOf(ingest, `t/${id}/`)).length, 30, 'marked, not yet deleted');
    clock.advance(DEFAULTS.gcGraceMs + MINUTE);
    const collected = await engine.maintain();
    assert.equal(collected.errors, 0, collected.firstError);
    assert.ok(collected.objectsDeleted >= 30, `every ingest object of this topic (and the earlier tests' topics): ${collected.objectsDeleted}`);
    assert.deepEqual(await keysOf(ingest, `t/${id}/`), []);
    assert.deepEqual(sorted(await keysOf(standard, `t/${id}/`)), sorted(segments));
    assert.deepEqual([await readAll(engine, topic, 0), await readAll(engine, topic, 1)], before);

    const located = await engine.locations(topic, 0, { offset: 0n });
    assert.ok(located.locations.length > 0 && located.locations.every((location) => 'url' in location), 'segments are presigned');
  });

  it('with the Lambda settings for a directory bucket, one pass moves every record older than the reservation timeout out of it', async () => {
    const engine = engineOf({ maintenance: { segmentBytes: 32 * 1024, indexIntervalBytes: 2 * 1024, ...EXPRESS_INGEST_MAINTENANCE } });
    const { topic, id } = await newTopic(engine, 1);
    // A steady trickle: never quiet for 5 minutes, far from 64 entries.
    for (let i = 0; i < 5; i++) {
      await engine.produce(topic, [append(0, [`t-${i}`], clock.now(), 'none')]);
      clock.advance(30_000);
    }
    clock.advance(DEFAULTS.abortReservationAfterMs);
    await engine.maintain();
    const entries = await backend.metadata.query(partitionPk(id, 0), { gte: 'e#', lt: 'e#~' });
    assert.equal(entries.length, 1, 'one segment entry');
    assert.equal(typeof entries[0].indexKey, 'string');
    assert.deepEqual((await readAll(engine, topic, 0)).map(([, v]) => v), ['t-0', 't-1', 't-2', 't-3', 't-4']);
  });

  it('a deleted topic is purged from both buckets', async () => {
    const engine = engineOf();
    const { topic, id } = await newTopic(engine);
    await produce(engine, topic, 20);
    clock.advance(6 * MINUTE);
    await engine.maintain();
    assert.ok((await keysOf(standard, `t/${id}/`)).length > 0 && (await keysOf(ingest, `t/${id}/`)).length > 0, 'objects in both buckets');
    await engine.topics.delete(topic);
    clock.advance(DEFAULTS.gcGraceMs + MINUTE);
    const report = await engine.maintain();
    assert.equal(report.deletedTopicsPurged, 1, JSON.stringify(report));
    assert.deepEqual(await keysOf(standard, `t/${id}/`), []);
    assert.deepEqual(await keysOf(ingest, `t/${id}/`), []);
  });
});
