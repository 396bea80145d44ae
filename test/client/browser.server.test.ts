/**
 * The client in a real browser: headless Chromium (Debian's package, driven by playwright-core) loads
 * the esbuild bundle of lib/client/browser.ts from a page server on one loopback port and talks to a
 * Sluice server on another (cross-origin: CORS preflights for the API, the presigned ranged GETs and
 * the exposed headers are all exercised). The browser produces gzip batches with CompressionStream
 * and reads them back straight from the object store, and it reads zstd batches a Node producer
 * wrote (fzstd, or the browser's own zstd DecompressionStream if it has one).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Sluice } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import { readBatchHeader } from '../../lib/protocol/record-batch.ts';
import { API_KEY, localServer, type TestServer } from './support/servers.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ENTRY = fileURLToPath(new URL('../../lib/client/browser.ts', import.meta.url));

const PAGE = `<!doctype html><meta charset="utf-8"><title>sluice browser test</title>
<script type="module">
  import * as sluice from '/sluice.js';
  window.sluice = sluice;
  window.sluiceLoaded = true;
</script>`;

async function startPageServer(bundle: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/sluice.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(bundle);
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('browser client (headless Chromium)', () => {
  let api: TestServer;
  let pages: { server: Server; origin: string };
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
    const bundled = await build({ entryPoints: [ENTRY], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent' });
    pages = await startPageServer(bundled.outputFiles[0].text);
    api = await localServer({ corsOrigins: [pages.origin] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${pages.origin}/`);
    await page.waitForFunction(() => (window as unknown as { sluiceLoaded?: boolean }).sluiceLoaded === true);
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await new Promise<void>((resolve) => (pages ? pages.server.close(() => resolve()) : resolve()));
  });

  it('produces gzip batches from the page and consumes them back straight from the store, cross-origin', { timeout: 120_000 }, async () => {
    const result = await page.evaluate(
      async ({ endpoint, apiKey }) => {
        const { Sluice } = (window as any).sluice;
        const client = new Sluice({ endpoint, apiKey });
        await client.admin().createTopics({ topics: [{ topic: 'from-browser', numPartitions: 4 }] });
        const producer = client.producer({ lingerMs: 5 });
        const sends = [];
        for (let s = 0; s < 10; s++) {
          const messages = Array.from({ length: 200 }, (_, i) => ({ key: `user-${(s * 200 + i) % 37}`, value: JSON.stringify({ n: s * 200 + i, text: 'héllo wörld '.repeat(4) }), headers: { n: String(s * 200 + i) } }));
          sends.push(producer.send({ topic: 'from-browser', messages }));
        }
        const acks = (await Promise.all(sends)).flat();
        await producer.disconnect();

        const consumer = client.consumer({ maxWaitMs: 100 });
        await consumer.subscribe({ topic: 'from-browser', fromBeginning: true });
        const seen: Array<{ partition: number; offset: string; n: number; header: string; isUint8Array: boolean }> = [];
        await new Promise<void>((resolve) => {
          consumer.run({
            partitionsConsumedConcurrently: 2,
            eachMessage: async ({ partition, message }: any) => {
              const value = JSON.parse(new TextDecoder().decode(message.value));
              seen.push({ partition, offset: message.offset, n: value.n, header: new TextDecoder().decode(message.headers.n), isUint8Array: message.value instanceof Uint8Array });
              if (seen.length === acks.length) resolve();
            },
          });
        });
        const stats = consumer.readStats;
        await consumer.disconnect();
        return { acks, seen, stats };
      },
      { endpoint: api.url, apiKey: API_KEY },
    );
    assert.equal(result.acks.length, 2000);
    assert.equal(result.seen.length, 2000);
    assert.deepEqual(new Set(result.seen.map((s) => s.n)).size, 2000, 'every record once');
    for (const s of result.seen) {
      assert.equal(s.header, String(s.n));
      assert.equal(s.isUint8Array, true);
      const ack = result.acks[s.n];
      assert.deepEqual([ack.partition, ack.offset], [s.partition, s.offset], `record ${s.n} read where it was acknowledged`);
    }
    assert.equal(result.stats.directReads, 'works', 'the ranged GETs went straight to the object URLs');
    assert.equal(result.stats.fallbacks, 0);
    assert.equal(result.stats.api, 0);

    // what the browser sent is stored as gzip RecordBatches, unchanged
    const fetched = await fetch(`${api.url}/v1/topics/from-browser/partitions/0/records?offset=0`, {
      headers: { authorization: `Bearer ${API_KEY}`, accept: 'application/vnd.kafka.record-batches' },
    });
    const bytes = new Uint8Array(await fetched.arrayBuffer());
    assert.equal(readBatchHeader(bytes).codec, 'gzip');
    assert.deepEqual(pageErrors, []);
  });

  it('tails a topic live over Server-Sent Events, cross-origin, with the API key in a header', { timeout: 120_000 }, async () => {
    const node = new Sluice({ endpoint: api.url, apiKey: API_KEY, logger: silentLogger });
    await node.admin().createTopics({ topics: [{ topic: 'live', numPartitions: 1 }] });
    const requested: string[] = [];
    const onRequest = (request: { url(): string }) => requested.push(request.url());
    page.on('request', onRequest);
    try {
      await page.evaluate(
        ({ endpoint, apiKey }) => {
          const { Sluice } = (window as any).sluice;
          const tail = new Sluice({ endpoint, apiKey }).tail('live', 0, { fromOffset: 'latest' });
          (window as any).tailed = (async () => {
            const values: string[] = [];
            for await (const record of tail) {
              values.push(record.value);
              if (values.length === 3) break;
            }
            return values;
          })();
        },
        { endpoint: api.url, apiKey: API_KEY },
      );
      // the page is connected (it asked for the stream) before anything is produced
      for (let i = 0; i < 500 && !requested.some((url) => url.includes('/partitions/0/stream')); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const producer = node.producer({ lingerMs: 0 });
      for (const value of ['one', 'two', 'three']) await producer.send({ topic: 'live', messages: [{ value }] });
      await producer.disconnect();
      assert.deepEqual(await page.evaluate(() => (window as any).tailed), ['one', 'two', 'three']);
    } finally {
      page.off('request', onRequest);
    }
    assert.ok(requested.some((url) => url.includes('/partitions/0/stream')), 'it used the live tail');
    assert.ok(!requested.some((url) => url.includes('/partitions/0/records')), 'and no long polls');
    assert.deepEqual(pageErrors, []);
  });

  it('a consumer in the page waits on the notification channel (WebSocket) and is told of a record produced from Node', { timeout: 120_000 }, async () => {
    const node = new Sluice({ endpoint: api.url, apiKey: API_KEY, logger: silentLogger });
    await node.admin().createTopics({ topics: [{ topic: 'told', numPartitions: 2 }] });
    const sockets: string[] = [];
    const onSocket = (socket: { url(): string }) => sockets.push(socket.url());
    page.on('websocket', onSocket);
    try {
      await page.evaluate(
        async ({ endpoint, apiKey }) => {
          const { Sluice } = (window as any).sluice;
          const consumer = new Sluice({ endpoint, apiKey }).consumer({ maxWaitMs: 500, safetyPollMs: 120_000 });
          (window as any).toldConsumer = consumer;
          (window as any).toldValues = [];
          await consumer.subscribe({ topic: 'told', fromBeginning: true });
          await consumer.run({ eachMessage: async ({ message }: any) => void (window as any).toldValues.push(new TextDecoder().decode(message.value)) });
        },
        { endpoint: api.url, apiKey: API_KEY },
      );
      // both partitions parked on the channel before anything is produced
      await page.waitForFunction(() => (window as any).toldConsumer.channelStats?.parked === 2, undefined, { timeout: 30_000 });
      const producer = node.producer({ lingerMs: 0 });
      await producer.send({ topic: 'told', messages: [{ value: 'over-the-channel', partition: 1 }] });
      await producer.disconnect();
      await page.waitForFunction(() => (window as any).toldValues.includes('over-the-channel'), undefined, { timeout: 30_000 });
      const stats = await page.evaluate(async () => {
        const consumer = (window as any).toldConsumer;
        const stats = consumer.channelStats;
        await consumer.disconnect();
        return stats;
      });
      assert.ok(stats.appends >= 1, `told over the channel: ${JSON.stringify(stats)}`);
    } finally {
      page.off('websocket', onSocket);
    }
    assert.ok(sockets.some((url) => url.endsWith('/v1/notifications')), `the page opened the channel: ${sockets.join(', ')}`);
    assert.deepEqual(pageErrors, []);
  });

  it('reads zstd batches written by a Node producer', { timeout: 120_000 }, async (t) => {
    const node = new Sluice({ endpoint: api.url, apiKey: API_KEY, logger: silentLogger });
    await node.admin().createTopics({ topics: [{ topic: 'from-node', numPartitions: 2 }] });
    const producer = node.producer();
    await producer.send({ topic: 'from-node', messages: Array.from({ length: 500 }, (_, i) => ({ value: `zstd record ${i} ${'lorem ipsum '.repeat(10)}`, partition: i % 2 })) });
    await producer.disconnect();
    const fetched = await fetch(`${api.url}/v1/topics/from-node/partitions/0/records?offset=0`, {
      headers: { authorization: `Bearer ${API_KEY}`, accept: 'application/vnd.kafka.record-batches' },
    });
    assert.equal(readBatchHeader(new Uint8Array(await fetched.arrayBuffer())).codec, 'zstd');

    const result = await page.evaluate(
      async ({ endpoint, apiKey }) => {
        let nativeZstd = true;
        try {
          new DecompressionStream('zstd' as CompressionFormat);
        } catch {
          nativeZstd = false;
        }
        const { Sluice } = (window as any).sluice;
        const consumer = new Sluice({ endpoint, apiKey }).consumer({ maxWaitMs: 100 });
        await consumer.subscribe({ topic: 'from-node', fromBeginning: true });
        const values: string[] = [];
        await new Promise<void>((resolve) => {
          consumer.run({
            eachBatch: async ({ batch }: any) => {
              for (const m of batch.messages) values.push(new TextDecoder().decode(m.value));
              if (values.length === 500) resolve();
            },
          });
        });
        await consumer.disconnect();
        return { values, nativeZstd };
      },
      { endpoint: api.url, apiKey: API_KEY },
    );
    assert.deepEqual(result.values.sort(), Array.from({ length: 500 }, (_, i) => `zstd record ${i} ${'lorem ipsum '.repeat(10)}`).sort());
    assert.equal(typeof result.nativeZstd, 'boolean');
    t.diagnostic(`zstd decoded by ${result.nativeZstd ? "the browser's DecompressionStream" : 'fzstd'}`);
    assert.deepEqual(pageErrors, []);
  });
});
