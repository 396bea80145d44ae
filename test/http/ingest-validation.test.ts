/**
 * Issue 10, faults 2 and 3: binary produce validates what a Kafka broker validates (every record
 * decodes, counts, lengths, deltas, bounded decompression) and refuses with 400 CORRUPT_BATCH before
 * anything is written; stored bytes that do not decode are answered with CORRUPT_DATA naming the
 * offset, never 500; decompression is bounded on every read path and a JSON fetch answer is bounded
 * by maxBytes of decompressed record data.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS } from '../../lib/defaults.ts';
import { encodeSluiceBatches as frameSections } from '../../lib/api/sluice-batches.ts';
import { encodeRecordBatch, encodeRecordsSection, readBatchHeader, type ProducerRecord } from '../../lib/protocol/record-batch.ts';
import { batchAround, corruptBatches, zstdBomb } from '../support/bad-batches.ts';
import { compress } from '../../lib/protocol/compression.ts';
import { ingestBudget, validateIngestBatches } from '../../lib/protocol/ingest-validation.ts';
import { INGEST_LIMITS } from '../../lib/http/sluice-batches.ts';
import { prng, randomBytes } from '../protocol/helpers.ts';
import { inProcessApp, storeDigest, type InProcessApp } from '../support/in-process-app.ts';

const BINARY = { 'content-type': 'application/vnd.sluice.batches' };
const enc = new TextEncoder();
const record = (value: string, timestamp = 1_764_000_000_000): ProducerRecord => ({ key: null, value: enc.encode(value), headers: [], timestamp });

async function withTopic(): Promise<InProcessApp> {
  const t = await inProcessApp();
  assert.equal((await t.call('POST', '/v1/topics', { body: { name: 'events', partitions: 2 } })).status, 201);
  return t;
}

describe('binary produce validation', { timeout: 120_000 }, () => {
  it('refuses batches with a valid CRC but corrupt records with 400 CORRUPT_BATCH, writing nothing', async () => {
    const t = await withTopic();
    const before = await storeDigest(t);
    for (const [what, batch] of corruptBatches()) {
      const res = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [batch] }]), headers: BINARY });
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'CORRUPT_BATCH', what);
      assert.match(res.body.error.message, /^partition 0: /, what);
    }
    // also when the bad batch follows a good one, or sits in another partition's section
    const good = encodeRecordBatch([record('fine')], { codec: 'zstd' });
    const mixed = await t.call('POST', '/v1/topics/events/records', {
      body: frameSections([{ partition: 0, batches: [good] }, { partition: 1, batches: [good, corruptBatches()[1][1]] }]),
      headers: BINARY,
    });
    assert.equal(mixed.body.error.code, 'CORRUPT_BATCH');
    assert.equal(await storeDigest(t), before, 'nothing was written');
    assert.deepEqual(t.unexpected, []);
    // the partition still serves JSON
    assert.equal((await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [good] }]), headers: BINARY })).status, 200);
    assert.equal((await t.call('GET', '/v1/topics/events/partitions/0/records?offset=0')).body.records[0].value, 'fine');
  });

  it('refuses a 4 KB zstd batch that inflates to 128 MiB, and any request inflating past the limit', async () => {
    const t = await withTopic();
    const before = await storeDigest(t);
    const bomb = zstdBomb();
    assert.ok(bomb.length < 8192, `bomb is ${bomb.length} bytes`);
    const res = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [bomb] }]), headers: BINARY });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'CORRUPT_BATCH');
    assert.match(res.body.error.message, new RegExp(`inflate past ${LIMITS.maxDecompressedBytes} bytes, the limit for a request`));
    // two batches of 5 MiB each (records of 512 KiB): each under the limit, together over it
    const half = encodeRecordBatch(Array.from({ length: 10 }, () => ({ key: null, value: new Uint8Array(512 * 1024), headers: [], timestamp: 1 })), { codec: 'zstd' });
    const pair = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [half] }, { partition: 1, batches: [half] }]), headers: BINARY });
    assert.equal(pair.body.error.code, 'CORRUPT_BATCH');
    assert.equal(await storeDigest(t), before);
  });

  it('validates large batches as strictly: a large bomb, corrupt records, a wrong count, all refused, nothing written', async () => {
    const t = await withTopic();
    const before = await storeDigest(t);
    // ~100 KiB of incompressible bytes then 16 MiB of zeros: a large compressed section, past the limit inflated
    const noise = new Uint8Array(randomBytes(prng(7), 100 * 1024));
    const bomb = encodeRecordBatch([{ key: null, value: noise, headers: [], timestamp: 1 }, ...Array.from({ length: 16 }, () => ({ key: null, value: new Uint8Array(1024 * 1024), headers: [], timestamp: 1 }))], { codec: 'zstd' });
    assert.ok(bomb.length > 64 * 1024, `bomb is ${bomb.length} bytes`);
    const refused = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [bomb] }]), headers: BINARY });
    assert.equal(refused.body.error.code, 'CORRUPT_BATCH');
    assert.match(refused.body.error.message, new RegExp(`inflate past ${LIMITS.maxDecompressedBytes} bytes`));
    // large sections (zstd, > 64 KiB compressed) that are not what their header says
    const TS = 1_764_000_000_000;
    const records = Array.from({ length: 200 }, (_, i) => ({ key: null, value: noise.subarray(i * 500, i * 500 + 500), headers: [], timestamp: TS }));
    const section = encodeRecordsSection(records, TS);
    const packed = compress('zstd', section);
    assert.ok(packed.length > 64 * 1024);
    const large: Array<[string, Uint8Array]> = [
      ['a count of 201 holding 200 records', batchAround(packed, { count: 201, codec: 'zstd' })],
      ['a count of 199 holding 200 records', batchAround(packed, { count: 199, codec: 'zstd' })],
      ['zstd data that is not a records section', batchAround(compress('zstd', noise), { count: 1, codec: 'zstd' })],
      ['a truncated zstd frame', batchAround(packed.subarray(0, packed.length - 50), { count: 200, codec: 'zstd' })],
      ['gzip bit on zstd data', batchAround(packed, { count: 200, codec: 'gzip' })],
    ];
    for (const [what, batch] of large) {
      const res = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 1, batches: [batch] }]), headers: BINARY });
      assert.equal(res.status, 400, what);
      assert.equal(res.body.error.code, 'CORRUPT_BATCH', what);
    }
    const valid = batchAround(packed, { count: 200, codec: 'zstd' });
    assert.equal(await storeDigest(t), before);
    const ok = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [valid] }]), headers: BINARY });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.partitions[0].recordCount, 200);
  });

  it('applies the JSON limits to binary records: records per request, bytes per record, headers', async () => {
    const t = await withTopic();
    const many = encodeRecordBatch(Array.from({ length: LIMITS.maxRecordsPerRequest + 1 }, () => record('')), { codec: 'zstd' });
    const tooMany = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [many] }]), headers: BINARY });
    assert.equal(tooMany.status, 413);
    const big = encodeRecordBatch([{ key: null, value: new Uint8Array(LIMITS.maxRecordBytes + 1), headers: [], timestamp: 1 }], { codec: 'zstd' });
    assert.equal((await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [big] }]), headers: BINARY })).status, 413);
    const headers = Array.from({ length: LIMITS.maxHeadersPerRecord + 1 }, (_, i) => ({ key: `h${i}`, value: null }));
    const headered = encodeRecordBatch([{ key: null, value: null, headers, timestamp: 1 }]);
    assert.equal((await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [headered] }]), headers: BINARY })).status, 400);
    // the counts in the answer come from the records
    const ok = encodeRecordBatch([record('a', 5), record('b', 9), record('c', 7)], { codec: 'gzip' });
    const res = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 1, batches: [ok, ok] }]), headers: BINARY });
    assert.deepEqual(res.body.partitions, [{ partition: 1, baseOffset: '0', recordCount: 6 }]);
  });
});

describe('stored batches that do not decode', { timeout: 120_000 }, () => {
  /** Stores `data` as partition 0's next entry, bypassing the HTTP validation (an old or damaged object). */
  async function storeRaw(t: InProcessApp, data: Uint8Array, recordCount = 1, maxTimestamp = 1_764_000_000_000) {
    await t.engine.produce('events', [{ partition: 0, data, recordCount, maxTimestamp }]);
  }

  it('answer JSON fetch and offsets by time with CORRUPT_DATA naming the offset, never 500; raw reads still work', async () => {
    const t = await withTopic();
    await t.call('POST', '/v1/topics/events/records', { body: { records: [{ value: 'before', partition: 0, timestamp: 1 }] } });
    for (const [, batch] of corruptBatches()) await storeRaw(t, batch, readBatchHeader(batch).recordCount);
    const fetched = await t.call('GET', '/v1/topics/events/partitions/0/records?offset=1');
    assert.equal(fetched.status, 422, JSON.stringify(fetched.body));
    assert.equal(fetched.body.error.code, 'CORRUPT_DATA');
    assert.equal(fetched.body.error.offset, '1');
    assert.equal(fetched.body.error.nextOffset, '2');
    assert.match(fetched.body.error.message, /offset 1 cannot be decoded/);
    // a reader can skip the batch it names and reach the next
    const next = await t.call('GET', `/v1/topics/events/partitions/0/records?offset=${fetched.body.error.nextOffset}`);
    assert.equal(next.body.error.code, 'CORRUPT_DATA');
    assert.equal(next.body.error.offset, '2');
    // before the bad batch, records are served (the fetch stops before it)
    assert.equal((await t.call('GET', '/v1/topics/events/partitions/0/records?offset=0&maxBytes=1')).body.records[0].value, 'before');
    const byTime = await t.call('GET', '/v1/topics/events/partitions/0/offsets?timestamp=2');
    assert.equal(byTime.status, 422);
    assert.equal(byTime.body.error.code, 'CORRUPT_DATA');
    const raw = await t.call('GET', '/v1/topics/events/partitions/0/records?offset=1', { headers: { accept: 'application/vnd.kafka.record-batches' } });
    assert.equal(raw.status, 200);
    assert.deepEqual(t.unexpected, []);
  });

  it('a stored bomb is not inflated by a JSON fetch, even with maxBytes=1', async () => {
    const t = await withTopic();
    await storeRaw(t, zstdBomb());
    const res = await t.call('GET', '/v1/topics/events/partitions/0/records?offset=0&maxBytes=1');
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'CORRUPT_DATA');
    assert.ok(res.bytes.length < 1024, `${res.bytes.length} bytes`);
    assert.equal((await t.call('GET', '/v1/topics/events/partitions/0/offsets?timestamp=0')).body.error.code, 'CORRUPT_DATA');
  });

  it('a JSON answer holds at most maxBytes of decompressed record data (or one batch)', async () => {
    const t = await withTopic();
    // 20 batches of 100 KiB that compress to almost nothing: stored bytes say "all of them", record data does not
    const value = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 20; i++) {
      const batch = encodeRecordBatch([record(value)], { codec: 'zstd' });
      const res = await t.call('POST', '/v1/topics/events/records', { body: frameSections([{ partition: 0, batches: [batch] }]), headers: BINARY });
      assert.equal(res.status, 200);
    }
    const res = await t.call('GET', `/v1/topics/events/partitions/0/records?offset=0&maxBytes=${300 * 1024}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.records.length, 3);
    assert.equal(res.body.nextOffset, '3');
    assert.equal(res.headers['sluice-next-offset'], '3');
    const one = await t.call('GET', '/v1/topics/events/partitions/0/records?offset=5&maxBytes=1');
    assert.deepEqual([one.body.records.length, one.body.nextOffset], [1, '6']);
  });
});

describe('validation frees what it inflated, and nothing else', () => {
  it('leaves the request bytes, Node pool slices and other views intact, on every codec and size', async () => {
    const limits = INGEST_LIMITS;
    const random = prng(7);
    // counts the sections validation detaches, to show the large ones really are freed
    const transfer = ArrayBuffer.prototype.transfer;
    let detached = 0;
    ArrayBuffer.prototype.transfer = function (this: ArrayBuffer, length?: number) {
      detached += 1;
      return transfer.call(this, length);
    };
    try {
      for (const codec of ['gzip', 'zstd', 'none'] as const) {
        for (const count of [1, 30, 3_000]) {
          const records = Array.from({ length: count }, (_, i) => record(`{"n":${i},"pad":"${'x'.repeat((random() >>> 0) % 300)}"}`, 1_764_000_000_000 + i));
          const batch = encodeRecordBatch(records, { codec });
          // the batch inside a larger buffer (as a request body holds it), and a small pooled Buffer beside it
          const body = new Uint8Array(batch.length + 32);
          body.set(batch, 16);
          const view = body.subarray(16, 16 + batch.length);
          const pooled = Buffer.from('still here');
          const copy = Uint8Array.from(view);
          const before = detached;
          const result = validateIngestBatches(view, limits, ingestBudget(limits));
          assert.equal(detached - before, codec !== 'none' && count === 3_000 ? 1 : 0, `${codec} × ${count}: only a large inflated section is freed`);
          assert.equal(result.recordCount, count, `${codec} × ${count}`);
          assert.equal(body.buffer.detached, false, `${codec} × ${count}: the request body stays attached`);
          assert.deepEqual(Uint8Array.from(view), copy, `${codec} × ${count}: the request bytes are unchanged`);
          assert.equal(pooled.toString(), 'still here', `${codec} × ${count}: pooled buffers are untouched`);
        }
      }
    } finally {
      ArrayBuffer.prototype.transfer = transfer;
    }
  });
});
