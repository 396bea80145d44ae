/**
 * Record headers in the JSON forms, faithfully: a repeated key is an array of its values in order
 * (JSON produce can send it, JSON fetch gives it back), null values stay null, and a key with a value
 * that is not UTF-8 travels in base64 under headersBase64, all its values together. Binary batches
 * produced with such headers read back the same way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSluiceBatches } from '../../lib/api/sluice-batches.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { inProcessApp } from '../support/in-process-app.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('record headers in JSON', { timeout: 30_000 }, () => {
  it('round-trips repeated keys, nulls and binary values through JSON produce and JSON fetch', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'h', partitions: 1 } });
    const produced = await t.call('POST', '/v1/topics/h/records', {
      body: { records: [{ value: 'x', headers: { trace: ['a', 'b'], empty: null, one: 'v' }, headersBase64: { bin: ['/w==', 'AA=='] } }] },
    });
    assert.equal(produced.status, 200, JSON.stringify(produced.body));

    const kafka = await t.call('GET', '/v1/topics/h/partitions/0/records?offset=0', { headers: { accept: 'application/vnd.kafka.record-batches' } });
    const stored = decodeRecordBatch(kafka.bytes).records[0].headers.map((h) => [h.key, h.value === null ? null : [...h.value]]);
    assert.deepEqual(stored, [['trace', [97]], ['trace', [98]], ['empty', null], ['one', [118]], ['bin', [255]], ['bin', [0]]], 'each value is its own Kafka header, in order');

    const fetched = await t.call('GET', '/v1/topics/h/partitions/0/records?offset=0');
    assert.deepEqual(fetched.body.records[0].headers, { trace: ['a', 'b'], empty: null, one: 'v' });
    assert.deepEqual(fetched.body.records[0].headersBase64, { bin: ['/w==', 'AA=='] });
  });

  it('reads binary batches with mixed text and binary values of one key as base64, in order', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'b', partitions: 1 } });
    const batch = encodeRecordBatch(
      [{ key: null, value: utf8('x'), timestamp: 1, headers: [{ key: 'k', value: utf8('text') }, { key: 'k', value: new Uint8Array([0xff]) }, { key: 'plain', value: utf8('p') }] }],
      { codec: 'none' },
    );
    const body = encodeSluiceBatches([{ partition: 0, batches: [batch] }]);
    assert.equal((await t.call('POST', '/v1/topics/b/records', { body, headers: { 'content-type': 'application/vnd.sluice.batches' } })).status, 200);
    const fetched = await t.call('GET', '/v1/topics/b/partitions/0/records?offset=0');
    assert.deepEqual(fetched.body.records[0].headers, { plain: 'p' });
    assert.deepEqual(fetched.body.records[0].headersBase64, { k: ['dGV4dA==', '/w=='] });
  });

  it('counts every value of a repeated key against the header limit', async () => {
    const t = await inProcessApp();
    await t.call('POST', '/v1/topics', { body: { name: 'l', partitions: 1 } });
    const tooMany = await t.call('POST', '/v1/topics/l/records', { body: { records: [{ value: 'x', headers: { a: Array(40).fill('1'), b: Array(40).fill('2') } }] } });
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.error.message, /^records\[0\]\.headers: expected at most 64 headers, got 80$/);
  });
});
