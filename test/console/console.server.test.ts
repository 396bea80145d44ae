/**
 * The web console in a real browser: headless Chromium (Debian's package, driven by playwright-core,
 * as test/client/browser.server.test.ts does) opens /console/ on a real local server, types the key,
 * and visits every page: topics (names, record counts, a throughput chart with data), a topic
 * (partition offsets, the record browser by offset and by time, the live tail receiving a record
 * produced during the test), groups (members, lag numbers, the lag chart), push consumers (the last
 * error of a refused delivery, pause and resume) and keys
 * (a key created, its secret shown once, then revoked). Screenshots go to docs/console/ with UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_CSP } from '../../lib/server/console-files.ts';
import { API_KEY, localServer, type TestServer } from '../client/support/servers.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The README's screenshots are refreshed with UPDATE_SCREENSHOTS=1; otherwise a run writes them to a temporary folder (a test run leaves the tree clean). */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/console/', import.meta.url)) : `${mkdtempSync(join(tmpdir(), 'sluice-console-'))}/`;

/** A raw GET, the path sent exactly as written (fetch would normalize `..` away). */
function rawGet(url: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(url), { path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web console (headless Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let memberId = '';
  let generation = 0;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
    server = await localServer();
    await call('POST', '/v1/topics', { name: 'orders', partitions: 3 });
    await call('POST', '/v1/topics', { name: 'payments', partitions: 1 });
    // orders: partition 0 holds 4 records, 1 holds 3, 2 holds 2; payments: 5.
    const orders = [0, 0, 0, 0, 1, 1, 1, 2, 2].map((partition, n) => ({ partition, key: `customer-${n}`, value: { order: n, items: [{ sku: `sku-${n}`, qty: n + 1 }] } }));
    await call('POST', '/v1/topics/orders/records', { records: orders });
    await call('POST', '/v1/topics/payments/records', { records: Array.from({ length: 5 }, (_, n) => ({ value: `payment ${n}` })) });
    const joined = await call('POST', '/v1/groups/billing/members', { topics: ['orders'] });
    memberId = joined.memberId;
    generation = joined.generation;
    // Committed: partition 0 at 1 (lag 3), partition 1 at 3 (lag 0); partition 2 left uncommitted.
    await call('POST', '/v1/groups/billing/offsets', { memberId, generation, offsets: [{ topic: 'orders', partition: 0, offset: '1' }, { topic: 'orders', partition: 1, offset: '3' }] });

    // A push consumer whose target refuses connections (port 9, discard): it fails and says why.
    await call('POST', '/v1/consumers', { name: 'payments-hook', topics: ['payments'], target: { url: 'http://127.0.0.1:9/hook' }, startAt: 'earliest', retry: { maxAttempts: 1000, minBackoffMs: 200, maxBackoffMs: 200 } });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  });

  after(async () => {
    await browser?.close();
    if (server && memberId) await fetch(`${server.url}/v1/groups/billing/members/${memberId}`, { method: 'DELETE', headers: { authorization: `Bearer ${API_KEY}` } }).catch(() => undefined);
    await server?.close();
    if (process.env.UPDATE_SCREENSHOTS !== '1') rmSync(SCREENSHOTS, { recursive: true, force: true });
  });

  it('serves the console publicly with a strict CSP and refuses paths outside it', { timeout: 30_000 }, async () => {
    const index = await rawGet(server.url, '/console/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-security-policy'], CONSOLE_CSP);
    assert.match(index.body, /<script type="module" src="app.js"><\/script>/);
    assert.doesNotMatch(index.body, /<script>|<script type="module">/, 'no inline script');
    const vendor = await rawGet(server.url, '/console/vendor/uPlot.esm.js');
    assert.equal(vendor.status, 200);
    assert.match(String(vendor.headers['content-type']), /javascript/);
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/vendor/../../package.json', '/console/vendor/%2e%2e%2fpackage.json', '/console/..%2f..%2fpackage.json', '/console/.hidden']) {
      const answer = await rawGet(server.url, path);
      assert.notEqual(answer.status, 200, `${path} must not be served`);
      assert.doesNotMatch(answer.body, /"name": "sluice"/, path);
    }
    // The API itself still wants a key.
    assert.equal((await rawGet(server.url, '/v1/topics')).status, 401);
  });

  it('asks for a key, then lists topics with their records and a throughput chart', { timeout: 60_000 }, async () => {
    await page.goto(`${server.url}/console/`);
    await page.getByText('Type an API key above to start.').waitFor();
    await page.fill('#api-key', API_KEY);
    await page.click('#key-form button[type=submit]');
    const orders = page.locator('tr[data-topic=orders]');
    await orders.waitFor();
    assert.deepEqual(await orders.locator('td').allInnerTexts().then((t) => t.slice(0, 3)), ['orders', '3', '9']);
    assert.deepEqual(await page.locator('tr[data-topic=payments] td').allInnerTexts().then((t) => t.slice(0, 3)), ['payments', '1', '5']);
    assert.ok(Number((await orders.locator('td').nth(3).innerText()).replace(/,/g, '')) > 0, 'stored bytes shown');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.apiKey')), API_KEY);
    // Both charts drawn by uPlot, with the records in their data.
    await page.waitForFunction(() => document.querySelectorAll('#topic-charts .chart canvas').length === 2);
    const totals = await page.$$eval('#topic-charts .chart', (charts) => charts.map((c) => ({ total: Number((c as HTMLElement).dataset.total), points: ((c as any).uplot?.data[1] ?? []).filter((v: number) => v > 0).length })));
    assert.deepEqual(totals, [{ total: 9, points: 1 }, { total: 5, points: 1 }]);
    await page.screenshot({ path: `${SCREENSHOTS}topics.png`, fullPage: true });
  });

  it('shows a topic: offsets, throughput, the record browser by offset and by time, and a live tail', { timeout: 60_000 }, async () => {
    await page.goto(`${server.url}/console/#/topics/orders`);
    await page.locator('tr[data-partition="2"]').waitFor();
    assert.deepEqual(await page.locator('tr[data-partition="0"] td').allInnerTexts(), ['0', '0', '4', '4']);
    assert.deepEqual(await page.locator('tr[data-partition="2"] td').allInnerTexts(), ['2', '0', '2', '2']);
    const chartTotal = await page.locator('.chart').first().getAttribute('data-total');
    assert.equal(chartTotal, '9');

    await page.fill('#browse-partition', '0');
    await page.fill('#browse-seek', '2');
    await page.click('#browse-form button[type=submit]');
    await page.locator('#browse-results tr[data-offset="2"]').waitFor();
    assert.deepEqual(await page.locator('#browse-results tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-offset'))), ['2', '3']);
    const pretty = await page.locator('#browse-results tr[data-offset="2"] pre').innerText();
    assert.deepEqual(JSON.parse(pretty), { order: 2, items: [{ sku: 'sku-2', qty: 3 }] });
    assert.match(pretty, /\n {2}"order": 2/, 'pretty-printed');

    // By time: an ISO time before everything finds offset 0.
    await page.fill('#browse-seek', '2020-01-01T00:00:00Z');
    await page.click('#browse-form button[type=submit]');
    await page.locator('#browse-results tr[data-offset="0"]').waitFor();
    assert.equal(await page.locator('#browse-results tbody tr').count(), 4);

    // Settings: only what was edited is sent (PATCH), and the API has it.
    assert.equal(await page.inputValue('#setting-retention-ms'), '604800000');
    await page.fill('#setting-retention-ms', '86400000');
    await page.selectOption('#setting-timestamp-type', 'LogAppendTime');
    await page.click('#settings-form button[type=submit]');
    await page.getByText('saved retentionMs, timestampType').waitFor();
    assert.deepEqual((await call('GET', '/v1/topics/orders')).config, { retentionMs: 86_400_000, retentionBytes: -1, compression: 'zstd', timestampType: 'LogAppendTime' });
    await page.click('#settings-form button[type=submit]');
    await page.getByText('nothing to save').waitFor();

    await page.fill('#tail-partition', '0');
    await page.click('#tail-start');
    await page.getByText('following partition 0 from offset 4').waitFor();
    await call('POST', '/v1/topics/orders/records', { records: [{ partition: 0, key: 'live', value: { live: true, during: 'the test' } }] });
    const tailed = page.locator('#tail-records tr[data-offset="4"]');
    await tailed.waitFor({ timeout: 20_000 });
    assert.deepEqual(JSON.parse(await tailed.locator('pre').innerText()), { live: true, during: 'the test' });
    await page.screenshot({ path: `${SCREENSHOTS}topic.png`, fullPage: true });
  });

  it('deletes a partition\'s records before an offset after a confirmation; the offsets table shows the new start', { timeout: 60_000 }, async () => {
    await call('POST', '/v1/topics', { name: 'purge', partitions: 1 });
    await call('POST', '/v1/topics/purge/records', { records: Array.from({ length: 3 }, (_, n) => ({ value: `old ${n}` })) });
    await page.goto(`${server.url}/console/#/topics/purge`);
    await page.locator('tr[data-partition="0"]').waitFor();
    await page.fill('#delete-partition', '0');
    await page.fill('#delete-before', '2');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click('#delete-records-form button[type=submit]');
    assert.equal((await call('GET', '/v1/topics/purge')).partitions[0].startOffset, '0', 'dismissed: nothing deleted');
    const question: string[] = [];
    page.once('dialog', (dialog) => {
      question.push(dialog.message());
      void dialog.accept();
    });
    await page.click('#delete-records-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('tr[data-partition="0"] td:nth-child(2)')?.textContent === '2');
    assert.match(question[0], /^Delete the records before offset 2 of purge partition 0\?/);
    assert.deepEqual(await page.locator('tr[data-partition="0"] td').allInnerTexts(), ['0', '2', '3', '1']);
    assert.equal((await call('GET', '/v1/topics/purge')).partitions[0].startOffset, '2');
  });

  it('shows groups, then a group: members, assignments, lag numbers and a lag chart that refreshes', { timeout: 60_000 }, async () => {
    await page.goto(`${server.url}/console/#/groups`);
    const row = page.locator('tr[data-group=billing]');
    await row.waitFor();
    // Lag 3 on partition 0 (5 records now, committed 1 → 4 with the tailed one), 0 on partition 1, none committed on 2.
    assert.deepEqual(await row.locator('td').allInnerTexts(), ['billing', '1', String(generation), '4']);
    await page.click('tr[data-group=billing] a');
    await page.locator('tr[data-lag="orders/0"]').waitFor();
    assert.deepEqual(await page.locator('tr[data-lag="orders/0"] td').allInnerTexts(), ['orders', '0', '1', '5', '4']);
    assert.deepEqual(await page.locator('tr[data-lag="orders/1"] td').allInnerTexts(), ['orders', '1', '3', '3', '0']);
    assert.match(await page.locator('#group-detail').innerText(), new RegExp(memberId));
    await page.waitForFunction(() => ((document.querySelector('#group-detail .chart') as any)?.uplot?.data[0]?.length ?? 0) === 3);
    assert.deepEqual(await page.evaluate(() => (document.querySelector('#group-detail .chart') as any).uplot.data[1]), [4, 0, 2]);
    await page.screenshot({ path: `${SCREENSHOTS}group.png`, fullPage: true });
    // A commit made now shows up on the next refresh.
    await call('POST', '/v1/groups/billing/offsets', { memberId, generation, offsets: [{ topic: 'orders', partition: 0, offset: '5' }] });
    await page.locator('tr[data-lag="orders/0"] td:nth-child(5)', { hasText: /^0$/ }).waitFor({ timeout: 15_000 });
  });

  it('shows push consumers: state, the last error, and pause/resume that work', { timeout: 60_000 }, async () => {
    await page.goto(`${server.url}/console/#/consumers`);
    await page.getByRole('heading', { name: 'Push consumers' }).waitFor();
    const row = page.locator('tr[data-consumer=payments-hook]');
    await row.waitFor();
    assert.deepEqual(await row.locator('td').allInnerTexts().then((t) => t.slice(0, 2)), ['payments-hook', 'payments']);
    // The page refreshes itself: the refused delivery shows up as the last error.
    await row.locator('td.last-error', { hasText: /\d{4}-\d\d-\d\dT/ }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${SCREENSHOTS}consumers.png`, fullPage: true });
    await row.locator('button.pause').click();
    await row.locator('td.state', { hasText: 'paused' }).waitFor();
    assert.equal((await call('GET', '/v1/consumers/payments-hook')).state, 'paused');
    await page.locator('tr[data-consumer=payments-hook] button.resume').click();
    await page.locator('tr[data-consumer=payments-hook] button.pause').waitFor();
    assert.notEqual((await call('GET', '/v1/consumers/payments-hook')).state, 'paused');
  });

  it('creates a key with scopes (its secret shown once), lists it and revokes it', { timeout: 30_000 }, async () => {
    await page.goto(`${server.url}/console/#/keys`);
    await page.locator('tr[data-key=bootstrap]').waitFor();
    await page.fill('#key-name', 'reader');
    await page.fill('#key-scopes', 'consume:orders*:billing');
    await page.click('#key-create button[type=submit]');
    const secret = await page.locator('#key-secret').innerText();
    assert.ok(secret.length >= 20, 'the secret is shown');
    const reader = page.locator('tr[data-key=reader]');
    await reader.waitFor();
    assert.match(await reader.innerText(), /consume:orders\*:billing/);
    // The new key works against the API, with its scope.
    const asReader = await fetch(`${server.url}/v1/topics/orders/throughput`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(asReader.status, 200);
    await page.screenshot({ path: `${SCREENSHOTS}keys.png`, fullPage: true });
    page.once('dialog', (dialog) => dialog.accept());
    await reader.locator('button').click();
    await reader.waitFor({ state: 'detached' });
    assert.equal((await fetch(`${server.url}/v1/topics/orders/throughput`, { headers: { authorization: `Bearer ${secret}` } })).status, 401);
    assert.deepEqual(pageErrors.filter((e) => !/Failed to load resource/.test(e)), [], 'no errors in the page');
  });
});
