/**
 * sluice.tail(): the live tail through a real local server on loopback, over Server-Sent Events and
 * over the long-poll fallback; resuming with Last-Event-ID after the connection is killed or goes
 * silent; ending cleanly on break and on abort, with nothing left waiting on the server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Sluice, SluiceClientError, type TailRecord } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';
import { Resources } from '../support/resources.ts';
import { API_KEY } from './support/servers.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';

const FAST_RETRY = { retries: 3, initialRetryMs: 1, maxRetryMs: 20 };

/** Waits, a few ms at a time, until `condition` holds (bounded tries: for effects on the server). */
async function eventually(condition: () => boolean, what: string, tries = 1000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never: ${what}`);
}

/** The next `n` records of an iterator. */
async function take(records: AsyncIterator<TailRecord>, n: number): Promise<TailRecord[]> {
  const out: TailRecord[] = [];
  while (out.length < n) {
    const next = await records.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('sluice.tail() (local server)', () => {
  let dir: string;
  let server: LocalServer;
  let sluice: Sluice;
  let topicSeq = 0;
  const resources = new Resources();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-tail-'));
    server = await startLocalServer({ dataDir: dir, port: 0, apiKey: API_KEY, maintenanceIntervalMs: 0, streams: { heartbeatMs: 50 } });
    sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
  });
  afterEach(() => resources.close());
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function newTopic(): Promise<string> {
    const topic = `tail${++topicSeq}`;
    await sluice.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    return topic;
  }
  async function produce(topic: string, values: string[], partition = 0): Promise<void> {
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: values.map((value) => ({ value, partition })) });
  }

  it('follows a partition over Server-Sent Events from the end, and break closes the stream', async () => {
    const topic = await newTopic();
    await produce(topic, ['before']);
    const records = sluice.tail(topic, 0);
    try {
      const first = records.next();
      await eventually(() => server.engine.waitingFetches === 1, 'the stream waits at the end of the log');
      await produce(topic, ['a', 'b']);
      await produce(topic, ['other partition'], 1);
      const got = [(await first).value as TailRecord, ...(await take(records, 1))];
      assert.deepEqual(got.map((r) => [r.offset, r.value, r.topic, r.partition]), [[1n, 'a', topic, 0], [2n, 'b', topic, 0]]);
      assert.equal(typeof got[0].timestamp, 'number');
    } finally {
      await records.return();
    }
    await eventually(() => server.engine.waitingFetches === 0, 'the server stopped waiting once the client left');
  });

  it('return() ends a next() that is still waiting for records', async () => {
    const topic = await newTopic();
    const records = sluice.tail(topic, 0);
    const waiting = records.next();
    await eventually(() => server.engine.waitingFetches === 1, 'the stream waits');
    assert.deepEqual(await records.return(), { done: true, value: undefined });
    assert.deepEqual(await waiting, { done: true, value: undefined });
    await eventually(() => server.engine.waitingFetches === 0, 'the server stopped waiting');
  });

  it('starts at earliest or at an offset', async () => {
    const topic = await newTopic();
    await produce(topic, ['0', '1', '2']);
    const fromStart = sluice.tail(topic, 0, { fromOffset: 'earliest' });
    const fromTwo = sluice.tail(topic, 0, { fromOffset: 2n });
    try {
      assert.deepEqual((await take(fromStart, 3)).map((r) => r.value), ['0', '1', '2']);
      assert.deepEqual((await take(fromTwo, 1)).map((r) => r.offset), [2n]);
    } finally {
      await fromStart.return();
      await fromTwo.return();
    }
  });

  it('resumes with Last-Event-ID after the connection is killed mid-stream: no record lost or repeated', async () => {
    const topic = await newTopic();
    const proxy = resources.closes(await startTcpProxy(server.url), 'proxy');
    const viaProxy = new Sluice({ endpoint: proxy.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
    await produce(topic, ['0', '1']);
    const records = viaProxy.tail(topic, 0, { fromOffset: 0 });
    try {
      assert.deepEqual((await take(records, 2)).map((r) => r.value), ['0', '1']);
      proxy.killAll();
      await produce(topic, ['2', '3']);
      assert.deepEqual((await take(records, 2)).map((r) => [r.offset, r.value]), [[2n, '2'], [3n, '3']]);
    } finally {
      await records.return();
    }
    const streams = proxy.requests.filter((head) => head.includes('/stream'));
    assert.ok(streams.length >= 2, `${streams.length} stream requests`);
    assert.match(streams[0], /last-event-id: 0\r\n/);
    assert.match(streams.at(-1)!, /last-event-id: 2\r\n/, 'the reconnect resumes after the last record handed out');
  });

  it('reconnects a stream that goes silent (no event, no heartbeat) after idleTimeoutMs', async () => {
    const topic = await newTopic();
    const proxy = resources.closes(await startTcpProxy(server.url), 'proxy');
    const viaProxy = new Sluice({ endpoint: proxy.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
    const records = viaProxy.tail(topic, 0, { fromOffset: 0, idleTimeoutMs: 300 });
    try {
      await produce(topic, ['0']);
      assert.deepEqual((await take(records, 1)).map((r) => r.value), ['0']);
      proxy.freezeAll();
      await produce(topic, ['1']); // held back on the frozen connection
      assert.deepEqual((await take(records, 1)).map((r) => r.value), ['1'], 'read on a new connection');
    } finally {
      await records.return();
    }
    assert.match(proxy.requests.filter((head) => head.includes('/stream')).at(-1)!, /last-event-id: 1\r\n/);
  });

  it('long-polls where the endpoint has no live tail (404 NOT_FOUND, as behind API Gateway)', async () => {
    const topic = await newTopic();
    // A front door that answers the stream route 404 and passes everything else to the server.
    const seen: string[] = [];
    const gateway = createServer(async (req, res) => {
      seen.push(req.url!);
      if (req.url!.includes('/stream')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } }));
        return;
      }
      const answer = await fetch(server.url + req.url, { headers: { authorization: req.headers.authorization! } });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' }).end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    resources.defer(gateway, 'gateway', (g) => new Promise((resolve) => { g.closeAllConnections(); g.close(() => resolve(undefined)); }));
    const behindGateway = new Sluice({ endpoint: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
    const abort = new AbortController();
    const records = behindGateway.tail(topic, 0, { fromOffset: 0, maxWaitMs: 2000, signal: abort.signal });
    try {
      await produce(topic, ['x', 'y']);
      assert.deepEqual((await take(records, 2)).map((r) => r.value), ['x', 'y']);
      await produce(topic, ['z']);
      assert.deepEqual((await take(records, 1)).map((r) => r.offset), [2n]);
    } finally {
      abort.abort();
      assert.deepEqual(await records.next(), { done: true, value: undefined }, 'abort ends the iteration');
    }
    assert.equal(seen.filter((url) => url.includes('/stream')).length, 1, 'tried the live tail once');
    assert.ok(seen.some((url) => url.includes('/records?offset=2&maxWaitMs=2000')), 'then long-polled the fetch route');
  });

  it('ends on abort while waiting, and throws contract errors that a retry cannot fix', async () => {
    const topic = await newTopic();
    const abort = new AbortController();
    const records = sluice.tail(topic, 0, { signal: abort.signal });
    const waiting = records.next();
    await eventually(() => server.engine.waitingFetches === 1, 'the stream waits');
    abort.abort();
    assert.deepEqual(await waiting, { done: true, value: undefined });
    await eventually(() => server.engine.waitingFetches === 0, 'the server stopped waiting');

    const beyond = sluice.tail(topic, 0, { fromOffset: 5 });
    await assert.rejects(beyond.next(), (error: SluiceClientError) => error.code === 'OFFSET_OUT_OF_RANGE' && !error.retriable);
    const missing = sluice.tail('no-such-topic', 0, { fromOffset: 0 });
    await assert.rejects(missing.next(), (error: SluiceClientError) => error.code === 'TOPIC_NOT_FOUND');
  });
});
