/**
 * The consumer on the notification channel, against a real local server: idle partitions send no
 * request until the channel tells of an append (and then only that partition is read), a missed
 * notification is found by the safety poll, a lost channel falls back to the shared long poll and
 * comes back, many consumers are told at once, and a server without a channel gets long polls.
 * Requests are counted at the client's fetch; nothing here asserts how long anything took.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Sluice, type Consumer } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import type { FetchFunction } from '../../lib/client/network/http.ts';
import { API_KEY, localServer, serverWithoutPresign, type TestServer } from './support/servers.ts';
import type { LocalServer } from '../../lib/server/local.ts';
import { Resources } from '../support/resources.ts';
import { sleep, waitFor } from './support/wait.ts';

const FAST_RETRY = { retries: 3, initialRetryMs: 1, maxRetryMs: 10 };


/** A request to a topic's routes, as the test reads it: `/wait 300 0:1,1:1` or `/partitions/5/locations`. */
interface Seen {
  readonly path: string;
  readonly maxWaitMs: number;
  readonly partitions: string;
}

function counting(topicOf: () => string, requests: Seen[]): FetchFunction {
  return (input, init) => {
    const url = new URL(input);
    const prefix = `/v1/topics/${topicOf()}`;
    if (url.pathname.startsWith(`${prefix}/`)) {
      requests.push({ path: url.pathname.slice(prefix.length), maxWaitMs: Number(url.searchParams.get('maxWaitMs') ?? -1), partitions: url.searchParams.get('partitions') ?? '' });
    }
    return fetch(input, init);
  };
}

const reads = (requests: readonly Seen[]) => requests.filter((r) => r.path.startsWith('/partitions/'));
const longWaits = (requests: readonly Seen[]) => requests.filter((r) => r.path === '/wait' && r.maxWaitMs > 0);
const checks = (requests: readonly Seen[]) => requests.filter((r) => r.path === '/wait' && r.maxWaitMs === 0);

describe('consumer on the notification channel (local server)', () => {
  let server: TestServer & { local: LocalServer };
  let sluice: Sluice;
  let topicSeq = 0;
  const resources = new Resources();

  before(async () => {
    server = await localServer();
    sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
  });
  afterEach(() => resources.close());
  after(() => server.close());

  async function topicWith(on: Sluice, partitions: number): Promise<string> {
    const topic = `ch${++topicSeq}`;
    await on.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const producer = resources.add(on.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: Array.from({ length: partitions }, (_, p) => ({ value: `p${p}-0`, partition: p })) });
    await producer.disconnect();
    return topic;
  }

  async function produce(on: Sluice, topic: string, partition: number, value: string): Promise<void> {
    const producer = resources.add(on.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: [{ value, partition }] });
    await producer.disconnect();
  }

  async function consuming(client: Sluice, topic: string, options: Parameters<Sluice['consumer']>[0] = {}): Promise<{ consumer: Consumer; values: string[] }> {
    const consumer = resources.add(client.consumer({ maxWaitMs: 300, ...options }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    return { consumer, values };
  }

  it('idle partitions send no request while nothing is produced; an append wakes only its partition', { timeout: 60_000 }, async () => {
    let topic = '';
    const requests: Seen[] = [];
    const client = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: counting(() => topic, requests) });
    topic = await topicWith(sluice, 8);
    const { consumer, values } = await consuming(client, topic, { safetyPollMs: 120_000 });
    await waitFor(() => values.length === 8, 'the 8 records');
    await waitFor(() => consumer.channelStats?.parked === 8, 'all 8 partitions parked on the channel');
    // each was checked once after the subscribe, at maxWaitMs 0
    assert.deepEqual([...new Set(checks(requests).flatMap((r) => r.partitions.split(',').map((p) => p.split(':')[0])))].sort(), ['0', '1', '2', '3', '4', '5', '6', '7']);
    const before = requests.length;
    // with long polls of 300 ms this window would hold at least four waits
    await sleep(1500);
    assert.deepEqual(requests.slice(before), [], 'no request while idle on the channel');
    await produce(sluice, topic, 5, 'woken');
    await waitFor(() => values.includes('woken'), 'the record produced while idle');
    const since = requests.slice(before);
    assert.deepEqual([...new Set(reads(since).map((r) => r.path.split('/')[2]))], ['5'], 'only the told partition read');
    assert.deepEqual(longWaits(since), [], 'no long poll');
    // the read a hint starts may wait (it answers at once: the record is there); its answer reaches the
    // high watermark, so the partition parks at once, without an empty read to learn it is caught up
    await waitFor(() => consumer.channelStats?.parked === 8, 'parked again');
    assert.equal(reads(requests.slice(before)).length, 1, 'one read for the one append, then parked');
    assert.ok(consumer.channelStats!.appends >= 1);
  });

  it('many consumers of a topic are told by one append each', { timeout: 60_000 }, async () => {
    const topic = await topicWith(sluice, 2);
    const consumers = await Promise.all(Array.from({ length: 5 }, () => consuming(sluice, topic, { safetyPollMs: 120_000 })));
    await waitFor(() => consumers.every((c) => c.values.length === 2 && c.consumer.channelStats?.parked === 2), 'every consumer parked');
    await waitFor(() => server.local.notifications.subscriptions >= 5, 'five subscriptions');
    await produce(sluice, topic, 1, 'for-all');
    await waitFor(() => consumers.every((c) => c.values.includes('for-all')), 'every consumer got the record');
    assert.ok(consumers.every((c) => c.consumer.channelStats!.appends >= 1), 'each was told over the channel');
  });

  it('a group member parks on the channel too', { timeout: 60_000 }, async () => {
    const topic = await topicWith(sluice, 3);
    const { consumer, values } = await consuming(sluice, topic, { groupId: `g-${topic}`, safetyPollMs: 120_000 });
    await waitFor(() => values.length === 3 && consumer.channelStats?.parked === 3, 'the member parked');
    await produce(sluice, topic, 2, 'to-member');
    await waitFor(() => values.includes('to-member'), 'the record');
    assert.ok(consumer.channelStats!.appends >= 1);
  });

  it('a group member with no partitions keeps one quiet connection (no reconnect loop)', { timeout: 60_000 }, async () => {
    const topic = await topicWith(sluice, 1);
    const group = `g-${topic}`;
    const first = await consuming(sluice, topic, { groupId: group, safetyPollMs: 120_000 });
    await waitFor(() => first.consumer.channelStats?.parked === 1, 'the first member parked');
    const second = await consuming(sluice, topic, { groupId: group, safetyPollMs: 120_000, notificationChannel: { connectTimeoutMs: 200, reconnectMinMs: 50, reconnectMaxMs: 100 } });
    await waitFor(() => (second.consumer.channelStats?.connects ?? 0) >= 1 && second.consumer.assignment().length === 0, 'the second member connected, with nothing assigned');
    await sleep(1500); // with the connect timeout counted to a subscribe, this would be ~5 reconnects
    assert.equal(second.consumer.channelStats!.connects, 1);
    assert.equal(second.consumer.channelStats!.losses, 0);
  });

  it('a lost channel falls back to the shared long poll, reconnects and re-subscribes', { timeout: 60_000 }, async () => {
    let topic = '';
    const requests: Seen[] = [];
    const client = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: counting(() => topic, requests) });
    topic = await topicWith(sluice, 4);
    const { consumer, values } = await consuming(client, topic, { safetyPollMs: 120_000, notificationChannel: { reconnectMinMs: 2000, reconnectMaxMs: 2000 } });
    await waitFor(() => values.length === 4 && consumer.channelStats?.parked === 4, 'parked on the channel');
    const before = requests.length;
    server.local.notifications.dropConnections();
    await waitFor(() => longWaits(requests.slice(before)).length >= 1, 'a shared long poll while the channel is down');
    assert.equal(longWaits(requests.slice(before))[0].partitions.split(',').length, 4, 'one wait for the 4 idle partitions');
    await waitFor(() => consumer.channelStats!.connects >= 2 && consumer.channelStats!.losses >= 1, 'the reconnect');
    await waitFor(() => checks(requests.slice(before)).length >= 1 && consumer.channelStats!.parked === 4, 'the check after re-subscribing, parked again');
    const appendsBefore = consumer.channelStats!.appends;
    await produce(sluice, topic, 0, 'after-reconnect');
    await waitFor(() => values.includes('after-reconnect'), 'the record after the reconnect');
    assert.ok(consumer.channelStats!.appends > appendsBefore, 'told over the new connection');
  });

  it('a hint beyond what the log holds costs one long poll, then is forgotten: no loop of empty reads', { timeout: 60_000 }, async () => {
    // the channel's side played by a stand-in socket, so the test can send a hint the log does not bear out
    const sockets: FakeSocket[] = [];
    class FakeSocket {
      readyState = 0;
      onopen: (() => void) | null = null;
      onmessage: ((event: { data: string }) => void) | null = null;
      onclose: ((event: { code: number; reason: string }) => void) | null = null;
      onerror: (() => void) | null = null;
      constructor() {
        sockets.push(this);
        setTimeout(() => {
          this.readyState = 1;
          this.onopen?.();
        }, 0);
      }
      send(text: string): void {
        const message = JSON.parse(text);
        const answer = message.action === 'auth' ? { type: 'authenticated' } : { type: 'subscribed', topics: message.topics };
        setTimeout(() => this.onmessage?.({ data: JSON.stringify(answer) }), 0);
      }
      close(): void {
        this.readyState = 3;
      }
      hint(topic: string, partition: number, highWatermark: number): void {
        this.onmessage?.({ data: JSON.stringify({ type: 'append', topic, partition, highWatermark: String(highWatermark) }) });
      }
    }
    let topic = '';
    const requests: Seen[] = [];
    const client = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: counting(() => topic, requests) });
    topic = await topicWith(sluice, 2);
    const { consumer, values } = await consuming(client, topic, { safetyPollMs: 120_000, notificationChannel: { WebSocket: FakeSocket as unknown as typeof WebSocket } });
    await waitFor(() => values.length === 2 && consumer.channelStats?.parked === 2, 'parked on the stand-in channel');
    const before = requests.length;
    sockets[0].hint(topic, 1, 100); // partition 1 holds 1 record
    await waitFor(() => reads(requests.slice(before)).length >= 1, 'the hinted read');
    await waitFor(() => consumer.channelStats?.parked === 2, 'parked again');
    const settled = requests.length;
    await sleep(1000);
    assert.equal(requests.length, settled, 'no more requests after the hint was forgotten');
    const hinted = reads(requests.slice(before));
    assert.ok(hinted.length <= 2, `one long poll (and one read that parks), not a loop: ${hinted.length}`);
    assert.equal(hinted[0].maxWaitMs, 300, 'the hinted read long-polls');
  });

  it('a notification the channel never sent is found by the safety poll', { timeout: 60_000 }, async () => {
    // a server whose coalescing timer never fires: subscriptions work, appends are never told
    const silent = await localServer({ notifications: { timers: { setTimeout: () => 0, clearTimeout: () => {} } } });
    try {
      let topic = '';
      const requests: Seen[] = [];
      const on = new Sluice({ endpoint: silent.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
      const client = new Sluice({ endpoint: silent.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: counting(() => topic, requests) });
      topic = await topicWith(on, 2);
      const { consumer, values } = await consuming(client, topic, { safetyPollMs: 300 });
      await waitFor(() => values.length === 2 && consumer.channelStats?.parked === 2, 'parked on the channel');
      await produce(on, topic, 1, 'unannounced');
      await waitFor(() => values.includes('unannounced'), 'the record, by the safety poll');
      assert.equal(consumer.channelStats!.appends, 0, 'nothing was told');
      assert.deepEqual(longWaits(requests), [], 'found by checks, not long polls');
      await consumer.disconnect();
    } finally {
      await silent.close();
    }
  });

  it('a server that names no channel gets the shared long poll', { timeout: 60_000 }, async () => {
    const plain = await serverWithoutPresign();
    try {
      let topic = '';
      const requests: Seen[] = [];
      const on = new Sluice({ endpoint: plain.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
      const client = new Sluice({ endpoint: plain.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: counting(() => topic, requests) });
      topic = await topicWith(on, 2);
      const { consumer, values } = await consuming(client, topic);
      await waitFor(() => values.length === 2 && longWaits(requests).length >= 2, 'shared long polls');
      assert.equal(consumer.channelStats!.connects, 0, 'no connection tried');
      await produce(on, topic, 0, 'polled');
      await waitFor(() => values.includes('polled'), 'the record by long poll');
      await consumer.disconnect();
    } finally {
      await plain.close();
    }
  });
});
