/** The client's push-target helpers: signatures checked against the dispatcher's signer, and the Lambda wrapper's answers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecordFailure, sluiceHandler, verifyDelivery } from '../../lib/client/index.ts';
import * as browser from '../../lib/client/browser.ts';
import { signatureOf } from '../../lib/push/targets.ts';

const body = JSON.stringify({ consumer: 'c', topic: 't', partition: 0, batchId: 't/0/5-7', attempt: 1, records: [5, 6, 7].map((o) => ({ offset: String(o), timestamp: 1, key: null, value: `v${o}`, headers: {} })) });

describe('verifyDelivery', () => {
  it('accepts the signature the dispatcher sends, for a string or the raw bytes', async () => {
    const header = signatureOf('whsec_secret', body);
    assert.equal(await verifyDelivery('whsec_secret', body, header), true);
    assert.equal(await verifyDelivery('whsec_secret', new TextEncoder().encode(body), header.toUpperCase().replace('SHA256', 'sha256')), true);
    assert.equal(await browser.verifyDelivery('whsec_secret', body, header), true, 'the browser build too');
  });
  it('refuses another secret, a changed body, and malformed headers', async () => {
    const header = signatureOf('whsec_secret', body);
    assert.equal(await verifyDelivery('whsec_other', body, header), false);
    assert.equal(await verifyDelivery('whsec_secret', body.replace('v6', 'v9'), header), false);
    for (const bad of [undefined, null, '', 'sha256=', header.slice(0, -1), `sha1=${header.slice(7)}`, `${header}00`]) {
      assert.equal(await verifyDelivery('whsec_secret', body, bad), false, String(bad));
    }
  });
});

describe('sluiceHandler', () => {
  it('answers no failures when the handler returns, and the failed offsets it returns', async () => {
    assert.deepEqual(await sluiceHandler(async () => {})(JSON.parse(body)), { batchItemFailures: [] });
    assert.deepEqual(await sluiceHandler(async () => ['6'])(JSON.parse(body)), { batchItemFailures: [{ offset: '6' }] });
  });
  it('eachRecord stops at the first record that throws and reports it', async () => {
    const seen: string[] = [];
    const handler = sluiceHandler(async (batch) => {
      await batch.eachRecord(async (record) => {
        if (record.offset === '6') throw new Error('boom');
        seen.push(record.offset);
      });
    });
    assert.deepEqual(await handler(JSON.parse(body)), { batchItemFailures: [{ offset: '6' }] });
    assert.deepEqual(seen, ['5']);
    assert.deepEqual(await sluiceHandler(async () => { throw new RecordFailure('7'); })(body), { batchItemFailures: [{ offset: '7' }] });
  });
  it('lets other errors fail the invocation (the whole batch is retried) and refuses what is not a delivery', async () => {
    await assert.rejects(sluiceHandler(async () => { throw new Error('down'); })(JSON.parse(body)), /down/);
    await assert.rejects(sluiceHandler(async () => {})({ hello: 1 }), /not a Sluice delivery/);
  });
});
