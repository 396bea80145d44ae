/**
 * The HTTP contract (docs/api-v1.md) end to end through the local server over real HTTP:
 * auth, every route, errors, limits, idempotency, binary forms, presigned reads, restarts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../../lib/protocol/record-batch.ts';
import { partitionForKey } from '../../lib/protocol/murmur2.ts';
import { encodeSluiceBatches } from '../../lib/api/sluice-batches.ts';
import { LIMITS } from '../../lib/defaults.ts';
import { apiClient } from '../support/http-client.ts';

const ADMIN_KEY = 'test-admin-key-0123456789';

describe('local server HTTP API', () => {
  let dir: string;
  let server: LocalServer;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-server-'));
    server = await startLocalServer({ dataDir: dir, port: 0, apiKey: ADMIN_KEY, corsOrigins: ['https://app.example'] });
    api = apiClient(server.url, ADMIN_KEY);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('requires a known key on every route (401) and checks scopes (403)', async () => {
    const anonymous = apiClient(server.url);
    for (const [method, path] of [['GET', '/v1/topics'], ['POST', '/v1/topics'], ['GET', '/v1/topics/x/partitions/0/records?offset=0'], ['GET', '/v1/nope']]) {
      const res = await anonymous(method, path);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.error.code, 'UNAUTHORIZED');
    }
    assert.equal((await apiClient(server.url, 'sluice_not-a-real-key')('GET', '/v1/topics')).status, 401);

    await api('POST', '/v1/topics', { name: 'scoped.orders', partitions: 1 });
    await api('POST', '/v1/topics', { name: 'secret', partitions: 1 });
    const created = await api('POST', '/v1/keys', { name: 'orders-producer', scopes: [{ action: 'produce', topics: ['scoped.*'] }] });
    assert.equal(created.status, 201);
    assert.match(created.body.key, /^sluice_/);
    const producer = apiClient(server.url, created.body.key);
    assert.equal((await producer('POST', '/v1/topics/scoped.orders/records', { records: [{ value: 'ok' }] })).status, 200);
    const denied = await producer('POST', '/v1/topics/secret/records', { records: [{ value: 'no' }] });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'FORBIDDEN');
    assert.equal((await producer('GET', '/v1/topics/scoped.orders/partitions/0/records?offset=0')).status, 403);
    assert.equal((await producer('POST', '/v1/topics', { name: 'scoped.new', partitions: 1 })).status, 403);
    assert.deepEqual((await producer('GET', '/v1/topics')).body.topics.map((t: { name: string }) => t.name), ['scoped.orders']);
    // keys are listed without secrets, and revoked keys stop working
    const listed = await api('GET', '/v1/keys');
    assert.ok(listed.body.keys.every((k: Record<string, unknown>) => !('key' in k) && !('hash' in k)));
    assert.equal((await api('DELETE', `/v1/keys/${created.body.id}`)).status, 204);
    assert.equal((await producer('GET', '/v1/topics')).status, 401);
  });

  it('refuses a request on its headers before reading its body: no key, an unknown key, a key without the right', async () => {
    await api('POST', '/v1/topics', { name: 'guarded', partitions: 1 });
    const consumerKey = (await api('POST', '/v1/keys', { name: 'guarded-reader', scopes: [{ action: 'consume', topics: ['guarded'] }] })).body.key as string;
    const declared = LIMITS.maxRequestBytes;
    const body = new Uint8Array(declared);
    const bodyBuffers: number[] = [];
    const allocUnsafe = Buffer.allocUnsafe;
    Buffer.allocUnsafe = (size: number) => {
      if (size === declared) bodyBuffers.push(size);
      return allocUnsafe(size);
    };
    try {
      for (const [authorization, status, code] of [
        [undefined, 401, 'UNAUTHORIZED'],
        ['Bearer sluice_not-a-real-key', 401, 'UNAUTHORIZED'],
        [`Bearer ${consumerKey}`, 403, 'FORBIDDEN'],
      ] as const) {
        const headers: Record<string, string> = { 'content-type': 'application/json', origin: 'https://app.example', ...(authorization ? { authorization } : {}) };
        const res = await fetch(`${server.url}/v1/topics/guarded/records`, { method: 'POST', headers, body });
        assert.equal(res.status, status, `${authorization ?? 'no key'}`);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
        assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example', 'a browser can read the refusal');
      }
      assert.deepEqual(bodyBuffers, [], 'none of the refused bodies was buffered');
      // a public route takes no body: an anonymous caller's is dropped too, and the route answers
      const health = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/v1/health`, { method: 'GET', headers: { 'content-length': String(declared) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(health, 200);
      assert.deepEqual(bodyBuffers, [], 'nor the body sent to a public route');
      // the same body with the admin key is read (and refused for what it is: not JSON records)
      const read = await fetch(`${server.url}/v1/topics/guarded/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body });
      assert.equal(read.status, 400);
      assert.deepEqual(bodyBuffers, [declared], 'an admitted body is read');
    } finally {
      Buffer.allocUnsafe = allocUnsafe;
    }
    assert.deepEqual((await api('GET', '/v1/topics/guarded/partitions/0/records?offset=0')).body.records, [], 'nothing was written');
  });

  it('stores keys hashed, never in plain text', async () => {
    const created = await api('POST', '/v1/keys', { name: 'hash-check', scopes: [{ action: 'consume' }] });
    const items = await server.engine.metadata.query('apikeys');
    const all = JSON.stringify(items, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    assert.ok(!all.includes(created.body.key));
    assert.ok(!all.includes(ADMIN_KEY));
  });

  it('serves the topics routes as the contract says', async () => {
    const created = await api('POST', '/v1/topics', { name: 'orders', partitions: 4, config: { retentionMs: 604800000 } });
    assert.equal(created.status, 201);
    assert.deepEqual([created.body.name, created.body.partitions, created.body.config.retentionMs], ['orders', 4, 604800000]);
    assert.equal((await api('POST', '/v1/topics', { name: 'orders', partitions: 4 })).body.error.code, 'TOPIC_EXISTS');
    assert.equal((await api('POST', '/v1/topics', { name: 'orders', partitions: 4 })).status, 409);
    assert.equal((await api('POST', '/v1/topics', { name: 'bad/name', partitions: 1 })).status, 400);
    assert.equal((await api('POST', '/v1/topics', { name: 'nopart' })).status, 400);
    assert.equal((await api('POST', '/v1/topics', '{not json')).status, 400);
    const list = await api('GET', '/v1/topics');
    assert.ok(list.body.topics.some((t: { name: string; partitions: number }) => t.name === 'orders' && t.partitions === 4));
    const described = await api('GET', '/v1/topics/orders');
    assert.equal(described.status, 200);
    assert.deepEqual(described.body.partitions[0], { partition: 0, startOffset: '0', endOffset: '0' });
    assert.equal((await api('GET', '/v1/topics/nope')).body.error.code, 'TOPIC_NOT_FOUND');
    await api('POST', '/v1/topics', { name: 'doomed', partitions: 1 });
    assert.equal((await api('DELETE', '/v1/topics/doomed')).status, 204);
    assert.equal((await api('GET', '/v1/topics/doomed')).status, 404);
    assert.equal((await api('DELETE', '/v1/topics/doomed')).status, 404);
  });

  it('alters a topic’s settings with PATCH; JSON records are encoded with the new codec from then on', async () => {
    assert.equal((await api('POST', '/v1/topics', { name: 'altered', partitions: 1, config: { compression: 'gzip', retentionBytes: 1_000_000 } })).status, 201);
    const codecs = async () => {
      const kafka = await api('GET', '/v1/topics/altered/partitions/0/records?offset=0', undefined, { accept: 'application/vnd.kafka.record-batches' });
      return [...iterateBatches(kafka.bytes, { verify: true })].map((b) => b.header.codec);
    };
    assert.equal((await api('POST', '/v1/topics/altered/records', { records: [{ value: 'before' }] })).status, 200);
    const altered = await api('PATCH', '/v1/topics/altered', { config: { compression: 'none', retentionMs: 3_600_000 } });
    assert.equal(altered.status, 200, JSON.stringify(altered.body));
    assert.deepEqual(altered.body, { name: 'altered', partitions: 1, config: { retentionMs: 3_600_000, retentionBytes: 1_000_000, compression: 'none', timestampType: 'CreateTime' } });
    assert.deepEqual((await api('GET', '/v1/topics/altered')).body.config, altered.body.config);
    assert.equal((await api('POST', '/v1/topics/altered/records', { records: [{ value: 'after' }] })).status, 200);
    assert.deepEqual(await codecs(), ['gzip', 'none']);
    for (const bad of [{}, { config: {} }, { config: { retentionMs: -5 } }, { config: { partitions: 2 } }, { config: { compression: 'lz4' } }, { partitions: 2, config: { retentionMs: 1 } }]) {
      const refused = await api('PATCH', '/v1/topics/altered', bad);
      assert.equal(refused.status, 400, JSON.stringify(bad));
      assert.equal(refused.body.error.code, 'INVALID_REQUEST');
    }
    assert.match((await api('PATCH', '/v1/topics/altered', { config: {} })).body.error.message, /config: expected at least one of retentionMs, retentionBytes, compression, timestampType/);
    assert.deepEqual((await api('GET', '/v1/topics/altered')).body.config, altered.body.config, 'refused changes change nothing');
    const reset = await api('PATCH', '/v1/topics/altered', { config: { compression: null, retentionMs: null } });
    assert.deepEqual(reset.body.config, { retentionMs: 604_800_000, retentionBytes: 1_000_000, compression: 'zstd', timestampType: 'CreateTime' });
    assert.equal((await api('PATCH', '/v1/topics/nope', { config: { retentionMs: 1 } })).body.error.code, 'TOPIC_NOT_FOUND');
    const preflight = await fetch(`${server.url}/v1/topics/altered`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PATCH' } });
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /\bPATCH\b/);
  });

  it('adds partitions with POST …/partitions; keyed JSON records spread over the new count at once', async () => {
    await api('POST', '/v1/topics', { name: 'widening', partitions: 1 });
    const grown = await api('POST', '/v1/topics/widening/partitions', { count: 8 });
    assert.equal(grown.status, 200, JSON.stringify(grown.body));
    assert.deepEqual([grown.body.name, grown.body.partitions], ['widening', 8]);
    assert.equal((await api('POST', '/v1/topics/widening/partitions', { count: 8 })).status, 200, 'the same count: a retry');
    for (const bad of [{ count: 4 }, { count: 0 }, {}, { count: 9, partitions: 9 }, { count: 10_001 }]) assert.equal((await api('POST', '/v1/topics/widening/partitions', bad)).status, 400, JSON.stringify(bad));
    assert.equal((await api('POST', '/v1/topics/nope/partitions', { count: 2 })).body.error.code, 'TOPIC_NOT_FOUND');
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const produced = await api('POST', '/v1/topics/widening/records', { records: keys.map((key) => ({ key, value: key })) });
    const used = new Set(produced.body.records.map((r: { partition: number }) => r.partition));
    assert.deepEqual([...used].sort(), [...new Set(keys.map((k) => partitionForKey(new TextEncoder().encode(k), 8)))].sort());
    assert.ok(used.size > 1);
    assert.equal((await api('GET', '/v1/topics/widening')).body.partitions.length, 8);
  });

  it('a LogAppendTime topic: JSON and binary records carry the server’s time; a keyed retry of the same body appends once', async () => {
    assert.equal((await api('POST', '/v1/topics', { name: 'stamped', partitions: 1, config: { timestampType: 'LogAppendTime' } })).body.config.timestampType, 'LogAppendTime');
    const before = Date.now();
    assert.equal((await api('POST', '/v1/topics/stamped/records', { records: [{ value: 'json', timestamp: 1 }] })).status, 200);
    const batch = encodeRecordBatch([{ key: null, value: new TextEncoder().encode('binary'), headers: [], timestamp: 4_000_000_000_000 }], { codec: 'zstd' });
    const body = encodeSluiceBatches([{ partition: 0, batches: [batch] }]);
    const headers = { 'content-type': 'application/vnd.sluice.batches', 'idempotency-key': 'stamped-1' };
    const first = await api('POST', '/v1/topics/stamped/records', body, headers);
    const retry = await api('POST', '/v1/topics/stamped/records', body, { ...headers, 'sluice-attempt': '2' });
    assert.deepEqual([first.status, retry.status], [200, 200]);
    assert.deepEqual(retry.body, first.body, 'the fingerprint is of the body as sent, not as stamped');
    const after = Date.now();
    const fetched = await api('GET', '/v1/topics/stamped/partitions/0/records?offset=0');
    assert.deepEqual(fetched.body.records.map((r: { value: string }) => r.value), ['json', 'binary']);
    for (const record of fetched.body.records) assert.ok(record.timestamp >= before && record.timestamp <= after, `stamped ${record.timestamp}`);
    const kafka = await api('GET', '/v1/topics/stamped/partitions/0/records?offset=0', undefined, { accept: 'application/vnd.kafka.record-batches' });
    const stored = [...iterateBatches(kafka.bytes, { verify: true })];
    assert.deepEqual(stored.map((b) => b.header.timestampType), ['logAppend', 'logAppend']);
    // the producer's bytes but for base offset, attributes, MaxTimestamp and CRC (Kafka's broker does the same)
    assert.deepEqual(kafka.bytes.subarray(stored[1].position + 61), batch.subarray(61));
    assert.equal((await api('GET', '/v1/topics/stamped')).body.partitions[0].endOffset, '2');
  });

  it('produces JSON records and fetches them back as JSON', async () => {
    await api('POST', '/v1/topics', { name: 'json', partitions: 4 });
    const produced = await api('POST', '/v1/topics/json/records', {
      records: [
        { key: 'user-1', value: 'any UTF-8 text ✓', headers: { h: 'v' } },
        { key: 'user-2', value: { any: 'JSON' }, partition: 3, timestamp: 1764000000000 },
        { valueBase64: '/wA=', partition: 3 },
        { key: null, value: null, partition: 3 },
      ],
    });
    assert.equal(produced.status, 200);
    const expectedPartition = partitionForKey(new TextEncoder().encode('user-1'), 4);
    assert.deepEqual(produced.body.records, [
      { partition: expectedPartition, offset: '0' },
      { partition: 3, offset: expectedPartition === 3 ? '1' : '0' },
      { partition: 3, offset: expectedPartition === 3 ? '2' : '1' },
      { partition: 3, offset: expectedPartition === 3 ? '3' : '2' },
    ]);
    const fetched = await api('GET', `/v1/topics/json/partitions/3/records?offset=${produced.body.records[1].offset}`);
    assert.equal(fetched.status, 200);
    const [json, binary, tombstone] = fetched.body.records;
    assert.deepEqual(json, { offset: produced.body.records[1].offset, timestamp: 1764000000000, key: 'user-2', value: '{"any":"JSON"}', headers: {} });
    assert.equal(binary.key, null);
    assert.equal(binary.valueBase64, '/wA=', 'bytes that are not UTF-8 come back as base64');
    assert.equal(binary.value, undefined);
    assert.equal(tombstone.value, null);
    assert.equal(fetched.body.highWatermark, fetched.body.nextOffset);
    const first = await api('GET', `/v1/topics/json/partitions/${expectedPartition}/records?offset=0`);
    assert.equal(first.body.records[0].value, 'any UTF-8 text ✓');
    assert.deepEqual(first.body.records[0].headers, { h: 'v' });
  });

  it('spreads unkeyed records across partitions', async () => {
    await api('POST', '/v1/topics', { name: 'spread', partitions: 4 });
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const res = await api('POST', '/v1/topics/spread/records', { records: [{ value: `v${i}` }, { value: `w${i}` }] });
      seen.add(res.body.records[0].partition);
      assert.equal(res.body.records[0].partition, res.body.records[1].partition, 'one request, one partition (sticky)');
    }
    assert.equal(seen.size, 4);
  });

  it('rejects bad produce input with typed errors and writes nothing', async () => {
    await api('POST', '/v1/topics', { name: 'strict', partitions: 2 });
    const cases: Array<[unknown, number, string]> = [
      [{ records: [] }, 400, 'INVALID_REQUEST'],
      [{ records: [{ value: 'x', partition: 2 }] }, 400, 'INVALID_REQUEST'],
      [{ records: [{ value: 'x', valueBase64: 'AA==' }] }, 400, 'INVALID_REQUEST'],
      [{ records: [{ valueBase64: '!!' }] }, 400, 'INVALID_REQUEST'],
      [{ records: [{ value: 'x', extra: 1 }] }, 400, 'INVALID_REQUEST'],
      [{ records: [{ value: 'x'.repeat(LIMITS.maxRecordBytes + 1) }] }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ records: Array.from({ length: LIMITS.maxRecordsPerRequest + 1 }, () => ({ value: 1 })) }, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await api('POST', '/v1/topics/strict/records', body);
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.error.code, code);
    }
    const huge = await api('POST', '/v1/topics/strict/records', 'x'.repeat(LIMITS.maxRequestBytes + 10));
    assert.equal(huge.status, 413);
    assert.equal((await api('POST', '/v1/topics/strict/records', { records: [{ value: 1 }] }, { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await api('POST', '/v1/topics/missing/records', { records: [{ value: 1 }] })).status, 404);
    const described = await api('GET', '/v1/topics/strict');
    assert.ok(described.body.partitions.every((p: { endOffset: string }) => p.endOffset === '0'), 'nothing was written');
    const { id } = await server.engine.topics.get('strict');
    for await (const object of server.engine.objects.list(`t/${id}/`)) assert.fail(`unexpected object ${object.key}`);
  });

  it('deduplicates produce retries by Idempotency-Key', async () => {
    await api('POST', '/v1/topics', { name: 'idem', partitions: 3 });
    const body = { records: [{ value: 'a' }, { key: 'k', value: 'b' }] };
    const first = await api('POST', '/v1/topics/idem/records', body, { 'idempotency-key': 'order-42' });
    const second = await api('POST', '/v1/topics/idem/records', body, { 'idempotency-key': 'order-42' });
    assert.deepEqual(second.body, first.body);
    const endsNow = async () => (await api('GET', '/v1/topics/idem')).body.partitions.map((p: { endOffset: string }) => p.endOffset);
    const before = await endsNow();
    const told = await api('POST', '/v1/topics/idem/records', body, { 'idempotency-key': 'order-42', 'sluice-attempt': '3' });
    assert.deepEqual(told.body, first.body);
    assert.deepEqual(await endsNow(), before, 'a retry that says so reserves nothing');
    for (const bad of ['0', 'two', '10000', '-1']) {
      const refused = await api('POST', '/v1/topics/idem/records', body, { 'idempotency-key': 'order-42', 'sluice-attempt': bad });
      assert.equal(refused.status, 400, bad);
      assert.equal(refused.body.error.code, 'INVALID_REQUEST', bad);
    }
    const reused = await api('POST', '/v1/topics/idem/records', { records: [{ value: 'other' }] }, { 'idempotency-key': 'order-42' });
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
    // each record once (a retry's own reservation is fenced: it may move endOffset, never add a record)
    const read = await Promise.all([0, 1, 2].map(async (p) => (await api('GET', `/v1/topics/idem/partitions/${p}/records?offset=0`)).body.records.map((r: { value: string }) => r.value)));
    assert.deepEqual(read.flat().sort(), ['a', 'b']);
  });

  it('a JSON retry after partitions were added is placed as its first attempt was: answered with its offsets, nothing appended twice', async () => {
    for (const timestampType of ['CreateTime', 'LogAppendTime']) {
      const topic = `grown-${timestampType.toLowerCase()}`;
      await api('POST', '/v1/topics', { name: topic, partitions: 2, config: { timestampType } });
      // Keys that hash to other partitions over 8 than over 2, and an unkeyed record placed by the key's digest.
      const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`).filter((key) => partitionForKey(new TextEncoder().encode(key), 2) !== partitionForKey(new TextEncoder().encode(key), 8)).slice(0, 3);
      assert.equal(keys.length, 3);
      const body = { records: [...keys.map((key) => ({ key, value: key })), { value: 'unkeyed' }] };
      const headers = { 'idempotency-key': `${topic}-1` };
      const first = await api('POST', `/v1/topics/${topic}/records`, body, headers);
      assert.equal(first.status, 200);
      assert.equal((await api('POST', `/v1/topics/${topic}/partitions`, { count: 8 })).status, 200);
      const ends = async () => (await api('GET', `/v1/topics/${topic}`)).body.partitions.map((p: { endOffset: string }) => p.endOffset);
      const before = await ends();
      // A retry that says so finds the first attempt before it reserves: nothing moves.
      for (const attempt of ['2', undefined]) {
        const retry = await api('POST', `/v1/topics/${topic}/records`, body, { ...headers, ...(attempt ? { 'sluice-attempt': attempt } : {}) });
        assert.equal(retry.status, 200, `${timestampType} attempt ${attempt}: ${JSON.stringify(retry.body)}`);
        assert.deepEqual(retry.body, first.body, 'the first attempt\'s placement and offsets');
        if (attempt) assert.deepEqual(await ends(), before);
      }
      const read = await Promise.all([0, 1].map(async (p) => (await api('GET', `/v1/topics/${topic}/partitions/${p}/records?offset=0`)).body.records.map((r: { value: string }) => r.value)));
      assert.deepEqual(read.flat().sort(), [...keys, 'unkeyed'].sort(), 'each record once');
    }
  });

  it('accepts binary batches unchanged and serves Kafka record batches with real offsets', async () => {
    await api('POST', '/v1/topics', { name: 'binary', partitions: 2 });
    const records = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ key: null, value: new TextEncoder().encode(`${tag}${i}`), headers: [], timestamp: 1000 + i }));
    const b1 = encodeRecordBatch(records(3, 'x'), { codec: 'zstd' });
    const b2 = encodeRecordBatch(records(2, 'y'), { codec: 'gzip' });
    const res = await api('POST', '/v1/topics/binary/records', encodeSluiceBatches([{ partition: 1, batches: [b1, b2] }]), {
      'content-type': 'application/vnd.sluice.batches',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.partitions, [{ partition: 1, baseOffset: '0', recordCount: 5 }]);
    const kafka = await api('GET', '/v1/topics/binary/partitions/1/records?offset=0', undefined, { accept: 'application/vnd.kafka.record-batches' });
    assert.equal(kafka.headers.get('content-type'), 'application/vnd.kafka.record-batches');
    assert.equal(kafka.headers.get('sluice-next-offset'), '5');
    const batches = [...iterateBatches(kafka.bytes, { verify: true })];
    assert.deepEqual(batches.map((b) => b.header.baseOffset), [0n, 3n]);
    // the stored bytes are the producer's bytes: identical except the stamped base offset
    assert.deepEqual(kafka.bytes.subarray(8, b1.length), b1.subarray(8));
    assert.deepEqual(kafka.bytes.subarray(b1.length + 8), b2.subarray(8));
    const decoded = decodeRecordBatch(kafka.bytes, batches[1].position);
    assert.deepEqual(decoded.records.map((r) => r.offset), [3n, 4n]);

    const corrupt = b1.slice();
    corrupt[corrupt.length - 1] ^= 0xff;
    const bad = await api('POST', '/v1/topics/binary/records', encodeSluiceBatches([{ partition: 0, batches: [corrupt] }]), {
      'content-type': 'application/vnd.sluice.batches',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'CORRUPT_BATCH');
    assert.equal((await api('GET', '/v1/topics/binary')).body.partitions[0].endOffset, '0');
  });

  it('returns presigned, range-scoped, expiring locations that the server serves, and small inline batches as bytes', async () => {
    await api('POST', '/v1/topics', { name: 'direct', partitions: 1 });
    // incompressible and over 64 KiB together (the local server's inline bound): stored in an ingest object
    const [one, two] = ['one', 'two'].map((v) => `${v}-${randomBytes(40_000).toString('base64')}`);
    await api('POST', '/v1/topics/direct/records', { records: [{ value: one }, { value: two }] });
    // ~10 KiB stored: above the AWS default of 4 KiB, inline on the local server (DEFAULTS.localInlineMaxBytes)
    const three = `three-${randomBytes(7500).toString('base64')}`;
    await api('POST', '/v1/topics/direct/records', { records: [{ value: three }] });
    const located = await api('GET', '/v1/topics/direct/partitions/0/locations?offset=0');
    assert.equal(located.status, 200);
    assert.equal(located.body.locations.length, 2);
    assert.equal(located.body.nextOffset, '3');
    const [loc, inline] = located.body.locations;
    assert.deepEqual([inline.baseOffset, inline.lastOffset, inline.url], ['2', '2', undefined]);
    assert.deepEqual(decodeRecordBatch(Buffer.from(inline.batchesBase64, 'base64')).records.map((r) => new TextDecoder().decode(r.value!)), [three]);
    assert.deepEqual([loc.baseOffset, loc.lastOffset], ['0', '1']);
    const ranged = await fetch(loc.url, { headers: { range: `bytes=${loc.range.start}-${loc.range.end}` } });
    assert.equal(ranged.status, 206);
    const bytes = new Uint8Array(await ranged.arrayBuffer());
    assert.equal(bytes.length, loc.range.end - loc.range.start + 1);
    assert.deepEqual(decodeRecordBatch(bytes).records.map((r) => new TextDecoder().decode(r.value!)), [one, two]);
    // another range, a tampered URL or another key with the same signature are refused
    assert.equal((await fetch(loc.url, { headers: { range: `bytes=0-${loc.range.end + 10}` } })).status, 403);
    assert.equal((await fetch(loc.url.replace(/end=\d+/, 'end=999999'))).status, 403);
    assert.equal((await fetch(loc.url.replace('/ingest/', '/ingest/x'))).status, 403);
  });

  it('finds offsets by timestamp', async () => {
    await api('POST', '/v1/topics', { name: 'timed', partitions: 1 });
    await api('POST', '/v1/topics/timed/records', { records: [1000, 2000, 3000].map((t) => ({ value: `${t}`, timestamp: t })) });
    assert.deepEqual((await api('GET', '/v1/topics/timed/partitions/0/offsets?timestamp=1500')).body, { offset: '1' });
    assert.deepEqual((await api('GET', '/v1/topics/timed/partitions/0/offsets?timestamp=5000')).body, { offset: '3' });
    assert.equal((await api('GET', '/v1/topics/timed/partitions/0/offsets')).status, 400);
  });

  it('validates fetch parameters and answers out-of-range offsets with 416', async () => {
    await api('POST', '/v1/topics', { name: 'ranges', partitions: 1 });
    await api('POST', '/v1/topics/ranges/records', { records: [{ value: 'a' }] });
    const beyond = await api('GET', '/v1/topics/ranges/partitions/0/records?offset=2');
    assert.equal(beyond.status, 416);
    assert.deepEqual([beyond.body.error.code, beyond.body.error.startOffset, beyond.body.error.endOffset], ['OFFSET_OUT_OF_RANGE', '0', '1']);
    const atEnd = await api('GET', '/v1/topics/ranges/partitions/0/records?offset=1&maxWaitMs=0');
    assert.deepEqual(atEnd.body, { records: [], nextOffset: '1', highWatermark: '1' });
    for (const query of ['offset=-1', 'offset=abc', '', 'offset=0&maxBytes=0', 'offset=0&maxWaitMs=x']) {
      assert.equal((await api('GET', `/v1/topics/ranges/partitions/0/records?${query}`)).status, 400, query);
    }
    assert.equal((await api('GET', '/v1/topics/ranges/partitions/7/records?offset=0')).status, 400);
  });

  it('long-polls until records arrive', async () => {
    await api('POST', '/v1/topics', { name: 'tail', partitions: 1 });
    const waiting = api('GET', '/v1/topics/tail/partitions/0/records?offset=0&maxWaitMs=10000');
    await new Promise((r) => setTimeout(r, 50));
    await api('POST', '/v1/topics/tail/records', { records: [{ value: 'wake' }] });
    const res = await waiting;
    assert.equal(res.body.records[0].value, 'wake');
  });

  it('answers CORS preflight for configured origins only', async () => {
    const allowed = await fetch(`${server.url}/v1/topics`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
    const other = await fetch(`${server.url}/v1/topics`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('runs a maintenance pass on demand (admin only) and reports it', async () => {
    const res = await api('POST', '/v1/admin/maintenance');
    assert.equal(res.status, 200);
    assert.ok(res.body.topics >= 1);
    for (const field of ['segmentsWritten', 'segmentBytes', 'objectsDeleted', 'offsetsTrimmed', 'gapsClosed']) assert.ok(field in res.body, field);
    const consumer = await api('POST', '/v1/keys', { name: 'consumer', scopes: [{ action: 'consume' }] });
    assert.equal((await apiClient(server.url, consumer.body.key)('POST', '/v1/admin/maintenance')).status, 403);
  });

  it('keeps data across a restart', async () => {
    await api('POST', '/v1/topics', { name: 'durable', partitions: 1 });
    await api('POST', '/v1/topics/durable/records', { records: [{ value: 'kept' }] });
    await server.close();
    server = await startLocalServer({ dataDir: dir, port: 0 });
    assert.equal(server.generatedApiKey, undefined, 'no new bootstrap key when one exists');
    api = apiClient(server.url, ADMIN_KEY);
    const res = await api('GET', '/v1/topics/durable/partitions/0/records?offset=0');
    assert.equal(res.body.records[0].value, 'kept');
  });
});
