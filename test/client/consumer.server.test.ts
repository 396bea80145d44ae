/**
 * The consumer through a real server on loopback: direct reads, the fetch-route fallbacks, seek,
 * pause/resume, commits, eachBatch, handler retries, long polls, offset resets.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { Sluice, StaticAssignment, type KafkaMessage } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import type { FetchFunction } from '../../lib/client/network/http.ts';
import { API_KEY, localServer, serverWithoutPresign, type TestServer } from './support/servers.ts';
import { Resources } from '../support/resources.ts';
import { waitFor } from './support/wait.ts';

const FAST_RETRY = { retries: 3, initialRetryMs: 1, maxRetryMs: 10 };


const text = (m: KafkaMessage) => m.value!.toString();

describe('consumer (local server)', () => {
  let server: TestServer;
  let sluice: Sluice;
  let topicSeq = 0;
  /** Every consumer, producer and server a test starts: stopped when it ends, pass or fail. */
  const resources = new Resources();

  before(async () => {
    server = await localServer();
    sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
  });
  afterEach(() => resources.close());
  after(() => server.close());

  /**
   * A fresh topic with `perPartition` records in each partition, values "p<partition>-<i>", padded with
   * `padBytes` of incompressible text where given (so the server stores them in objects, not inline).
   */
  async function topicWith(partitions: number, perPartition: number, options: { lingerMs?: number; padBytes?: number } = {}): Promise<string> {
    const pad = () => (options.padBytes ? `-${randomBytes(options.padBytes).toString('base64')}` : '');
    const topic = `c${++topicSeq}`;
    await sluice.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const producer = resources.add(sluice.producer({ lingerMs: options.lingerMs ?? 0 }));
    for (let round = 0; round < 4; round++) {
      const messages = [];
      for (let p = 0; p < partitions; p++) {
        for (let i = Math.floor((round * perPartition) / 4); i < Math.floor(((round + 1) * perPartition) / 4); i++) messages.push({ value: `p${p}-${i}${pad()}`, partition: p, headers: { n: String(i) } });
      }
      if (messages.length > 0) await producer.send({ topic, messages });
    }
    await producer.disconnect();
    return topic;
  }

  it('reads every partition straight from the object store, in offset order, with Buffers on Node', { timeout: 60_000 }, async () => {
    const topic = await topicWith(4, 40);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 100 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<number, KafkaMessage[]>();
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ partition, message }) => {
        if (!seen.has(partition)) seen.set(partition, []);
        seen.get(partition)!.push(message);
      },
    });
    await waitFor(() => [...seen.values()].reduce((n, l) => n + l.length, 0) === 160, '160 messages');
    for (let p = 0; p < 4; p++) {
      const messages = seen.get(p)!;
      assert.deepEqual(messages.map(text), Array.from({ length: 40 }, (_, i) => `p${p}-${i}`));
      assert.deepEqual(messages.map((m) => m.offset), Array.from({ length: 40 }, (_, i) => String(i)));
      assert.ok(Buffer.isBuffer(messages[0].value));
      assert.equal(messages[7].headers.n!.toString(), '7');
    }
    const stats = consumer.readStats;
    assert.equal(stats.directReads, 'works');
    // Small requests: the server keeps their batches inline, and the locations answer carries them.
    assert.ok(stats.direct > 0 && stats.inlineRanges > 0);
    assert.equal(stats.rangeGets, 0, 'no GET for batches that came inline');
    assert.equal(stats.api, 0);
    await consumer.disconnect();
  });

  it('reads inline batches from the locations answer and larger ones with presigned GETs, in offset order', { timeout: 60_000 }, async () => {
    const topic = `c${++topicSeq}`;
    await sluice.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      // every third request is too large to inline (incompressible, over 4 KiB)
      const value = i % 3 === 2 ? `m${i}-${randomBytes(6000).toString('base64')}` : `m${i}`;
      sent.push(value);
      await producer.send({ topic, messages: [{ value }] });
    }
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: KafkaMessage[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    await waitFor(() => seen.length === 12, '12 messages');
    assert.deepEqual(seen.map(text), sent);
    assert.deepEqual(seen.map((m) => m.offset), Array.from({ length: 12 }, (_, i) => String(i)));
    const stats = consumer.readStats;
    assert.equal(stats.api, 0, 'everything read directly');
    assert.equal(stats.rangeGets, 4, 'one GET per large request');
    assert.equal(stats.inlineRanges, 8, 'the small ones came with the locations answer');
    await consumer.disconnect();
  });

  it('falls back to the fetch route where the store cannot presign', { timeout: 60_000 }, async () => {
    const plain = resources.closes(await serverWithoutPresign());
    const client = new Sluice({ endpoint: plain.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger });
    await client.admin().createTopics({ topics: [{ topic: 'np', numPartitions: 2 }] });
    const producer = resources.add(client.producer());
    await producer.send({ topic: 'np', messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    const consumer = resources.add(client.consumer({ maxWaitMs: 50 }));
    await consumer.subscribe({ topic: 'np', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(text(message)) });
    await waitFor(() => values.length === 50, '50 messages');
    assert.deepEqual(values.sort(), Array.from({ length: 50 }, (_, i) => `v${i}`).sort());
    assert.equal(consumer.readStats.directReads, 'unsupported');
    assert.equal(consumer.readStats.direct, 0);
    await consumer.disconnect();
  });

  it('falls back to the fetch route when a presigned GET fails, and loses nothing', { timeout: 60_000 }, async () => {
    const topic = await topicWith(2, 20, { padBytes: 3000 }); // ~10 KiB per partition and request: stored in objects
    let refused = 0;
    const failingObjects: FetchFunction = async (url, init) => {
      if (url.includes('/v1/objects/') && refused < 3) {
        refused++;
        return new Response('<Error><Code>AccessDenied</Code></Error>', { status: 403, headers: { 'content-type': 'application/xml' } });
      }
      return fetch(url, init);
    };
    const client = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: failingObjects });
    const consumer = resources.add(client.consumer({ maxWaitMs: 50, directReadsRetryMs: 0 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(text(message)) });
    await waitFor(() => values.length === 40, '40 messages');
    assert.equal(new Set(values).size, 40, 'no duplicates');
    assert.ok(consumer.readStats.fallbacks >= 1);
    assert.ok(consumer.readStats.api >= 1);
    await consumer.disconnect();
  });

  it('seeks to an offset, earliest, latest and a timestamp; a seek before run() wins', { timeout: 60_000 }, async () => {
    const topic = `c${++topicSeq}`;
    await sluice.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, timestamp: 1_000_000 + i * 1000 })) });
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.seek({ topic, partition: 0, offset: '6' });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(text(message)) });
    await waitFor(() => values.length === 4, 'm6..m9');
    assert.deepEqual(values, ['m6', 'm7', 'm8', 'm9']);
    await consumer.seek({ topic, partition: 0, timestamp: 1_003_500 });
    await waitFor(() => values.length === 10, 'm4..m9 again');
    assert.deepEqual(values.slice(4), ['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    await consumer.seek({ topic, partition: 0, offset: 'earliest' });
    await waitFor(() => values.length === 20, 'all again');
    assert.equal(values[10], 'm0');
    await consumer.seek({ topic, partition: 0, offset: 'latest' });
    await producer.send({ topic, messages: [{ value: 'after-latest' }] });
    await waitFor(() => values.at(-1) === 'after-latest', 'the new record');
    assert.equal(values.length, 21);
    await assert.rejects(consumer.seek({ topic, partition: 0, offset: 'soon' as never }), { code: 'INVALID_ARGUMENT' });
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('starts at the end without fromBeginning and long-polls for new records', { timeout: 60_000 }, async () => {
    const topic = await topicWith(2, 4);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 2000 }));
    await consumer.subscribe({ topic });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(text(message)) });
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: [{ value: 'new-0', partition: 0 }, { value: 'new-1', partition: 1 }] });
    await waitFor(() => values.length === 2, 'the two new records');
    assert.deepEqual(values.sort(), ['new-0', 'new-1']);
    assert.deepEqual(consumer.assignment().map((a) => [a.partition, a.position, a.lag]).sort(), [[0, '5', '0'], [1, '5', '0']]);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('idle partitions share one long poll (the wait route) instead of one each, and wake when records come', { timeout: 60_000 }, async () => {
    const topic = await topicWith(8, 1);
    const requests: string[] = [];
    const counting: FetchFunction = (input, init) => {
      const url = new URL(input);
      if (url.pathname.startsWith(`/v1/topics/${topic}/`)) requests.push(`${url.pathname.slice(`/v1/topics/${topic}`.length)}?${url.searchParams.get('partitions') ?? ''}`);
      return fetch(input, init);
    };
    const client = new Sluice({ endpoint: server.url, apiKey: API_KEY, retry: FAST_RETRY, logger: silentLogger, fetch: counting });
    const consumer = resources.add(client.consumer({ maxWaitMs: 300, notifications: false }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(text(message)) });
    await waitFor(() => values.length === 8, 'the 8 records');
    // every partition caught up: one shared wait for all 8, then another, and no partition reads on its own
    // (a partition that goes idle after its topic's wait started ends that wait and joins the next one)
    const waits = () => requests.filter((r) => r.startsWith('/wait'));
    await waitFor(() => waits().some((r) => r.split('?')[1].split(',').length === 8), 'a shared wait of all 8 partitions');
    const reads = () => requests.filter((r) => r.startsWith('/partitions/')).length;
    const readsWhileIdle = reads();
    const waitsSoFar = waits().length;
    await waitFor(() => waits().length >= waitsSoFar + 2, 'two more shared waits');
    assert.equal(reads(), readsWhileIdle, 'idle partitions do not long-poll one by one');
    const lastWait = requests.filter((r) => r.startsWith('/wait')).at(-1)!;
    assert.equal(lastWait.split("?")[1].split(",").length, 8, `one wait names all 8 idle partitions: ${lastWait}`);
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: [{ value: 'woken', partition: 5 }] });
    await waitFor(() => values.includes('woken'), 'the record produced while idle');
    const firstWait = requests.findIndex((r) => r.startsWith('/wait') && r.split('?')[1].split(',').length === 8);
    assert.deepEqual([...new Set(requests.slice(firstWait).filter((r) => r.startsWith('/partitions/')).map((r) => r.split('/')[2]))], ['5'], 'only the woken partition read again');
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('pauses and resumes partitions, also from inside eachMessage', { timeout: 60_000 }, async () => {
    const topic = await topicWith(2, 10);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.pause([{ topic, partitions: [1] }]);
    const seen: string[] = [];
    let resumeZero: (() => void) | undefined;
    await consumer.run({
      eachMessage: async ({ partition, message, pause }) => {
        seen.push(text(message));
        if (partition === 0 && message.offset === '4') resumeZero = pause();
      },
    });
    await waitFor(() => resumeZero !== undefined, 'the pause at p0-4');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, ['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4'], 'nothing after the pause, nothing from partition 1');
    assert.deepEqual(consumer.paused(), [{ topic, partitions: [0, 1] }]);
    resumeZero!();
    consumer.resume([{ topic, partitions: [1] }]);
    await waitFor(() => seen.length === 20, 'everything');
    assert.deepEqual(seen.filter((v) => v.startsWith('p0')), Array.from({ length: 10 }, (_, i) => `p0-${i}`), 'no gap, no repeat after resume');
    await consumer.disconnect();
  });

  it('without a group, partitions added while it runs are read from their log start, also when it subscribed from the end', { timeout: 60_000 }, async () => {
    const topic = await topicWith(2, 2);
    const assignment = new StaticAssignment(undefined, { metadataMaxAgeMs: 3_600_000 }); // looks only when told (checkPartitions)
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50, assignmentSource: assignment }));
    await consumer.subscribe({ topic }); // from the end: the first records are not read
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push(`${partition}:${text(message)}`) });
    await sluice.admin().createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: [{ value: 'before it looked', partition: 3 }, { value: 'new', partition: 0 }] });
    await waitFor(() => seen.includes('0:new'), 'a record on an old partition');
    assert.deepEqual(seen, ['0:new'], 'the added partitions are not read before it looks');
    await assignment.checkPartitions();
    await Promise.all([assignment.checkPartitions(), assignment.checkPartitions()]); // nothing added since: nothing handed twice
    await producer.send({ topic, messages: [{ value: 'after', partition: 2 }] });
    await waitFor(() => seen.length === 3, 'the added partitions');
    assert.deepEqual(seen.slice(1).sort(), ['2:after', '3:before it looked']);
    assert.deepEqual(consumer.assignment().map((a) => a.partition).sort(), [0, 1, 2, 3]);
  });

  it('without a group, the consumer looks at the partition counts every metadataMaxAgeMs', { timeout: 60_000 }, async () => {
    const topic = await topicWith(1, 1);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50, metadataMaxAgeMs: 50 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push(`${partition}:${text(message)}`) });
    await sluice.admin().createPartitions({ topicPartitions: [{ topic, count: 2 }] });
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: [{ value: 'added', partition: 1 }] });
    await waitFor(() => seen.includes('1:added'), 'a record on the added partition');
    assert.throws(() => sluice.consumer({ metadataMaxAgeMs: 0 }), /metadataMaxAgeMs must be a positive integer/);
  });

  it('commits positions (autoCommit on stop, commitOffsets) and resumes from them on the next run', { timeout: 60_000 }, async () => {
    const topic = await topicWith(2, 10);
    const assignment = new StaticAssignment();
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50, assignmentSource: assignment }));
    const stuck = resources.defer(Promise.withResolvers<void>(), 'the stuck handler', (s) => s.resolve()); // released first, so the consumer can stop
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      partitionsConsumedConcurrently: 2,
      eachMessage: async ({ partition, message }) => {
        if (partition === 1 && Number(message.offset) >= 6) return stuck.promise; // stuck until the test ends
        seen.push(text(message));
      },
      autoCommitIntervalMs: 0,
    });
    await waitFor(() => seen.length === 16, 'p0 all, p1 up to 5');
    await consumer.commitOffsets([{ topic, partition: 0, offset: '8' }]);
    assert.deepEqual(assignment.committed(), [{ topic, partition: 0, offset: '8' }]);
    // stop() waits for running handlers: let the stuck one go by stopping a second consumer instead
    const consumer2 = resources.add(sluice.consumer({ maxWaitMs: 50, assignmentSource: assignment }));
    await consumer2.subscribe({ topic, fromBeginning: true });
    const again: string[] = [];
    await consumer2.run({ eachMessage: async ({ message }) => void again.push(text(message)) });
    await waitFor(() => again.length === 12, 'p0 from 8, p1 from 0');
    assert.deepEqual(again.filter((v) => v.startsWith('p0')), ['p0-8', 'p0-9']);
    await consumer2.stop();
    assert.deepEqual(
      assignment.committed().sort((a, b) => a.partition - b.partition),
      [{ topic, partition: 0, offset: '10' }, { topic, partition: 1, offset: '10' }],
    );
    // consumer's handler is still stuck: the test's end releases it, then stops the consumer
  });

  it('hands out whole fetched batches to eachBatch, with resolveOffset and lag', { timeout: 60_000 }, async () => {
    const topic = await topicWith(1, 40);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const batches: Array<{ first: string | null; last: string; lag: string; count: number; hw: string }> = [];
    let failOnce = true;
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale }) => {
        batches.push({ first: batch.firstOffset(), last: batch.lastOffset(), lag: batch.offsetLag(), count: batch.messages.length, hw: batch.highWatermark });
        for (const message of batch.messages) {
          if (failOnce && message.offset === '25') {
            failOnce = false;
            throw new Error('handler failure at 25');
          }
          resolveOffset(message.offset);
          assert.equal(isStale(), false);
        }
      },
    });
    await waitFor(() => consumer.assignment()[0]?.position === '40', 'position 40');
    assert.equal(batches[0].first, '0');
    assert.equal(batches[0].hw, '40');
    const retried = batches.find((b, i) => i > 0 && b.first === '25');
    assert.ok(retried, 'redelivered from the first unresolved offset after the failure');
    assert.equal(batches.at(-1)!.lag, '0');
    await consumer.disconnect();
  });

  it('crashes after the handler retries run out and tells the crash listeners', { timeout: 60_000 }, async () => {
    const topic = await topicWith(1, 4);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50, retry: { retries: 2, initialRetryMs: 1, maxRetryMs: 2 } }));
    await consumer.subscribe({ topic, fromBeginning: true });
    let attempts = 0;
    const crashed = new Promise<unknown>((resolve) => consumer.on('crash', ({ error }) => resolve(error)));
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.offset === '2') {
          attempts++;
          throw new Error('poison');
        }
      },
    });
    assert.equal(((await crashed) as Error).message, 'poison');
    assert.equal(attempts, 3);
    await consumer.stop();
  });

  it('continues at the end (or the start) when its offset is out of range', { timeout: 60_000 }, async () => {
    const topic = await topicWith(1, 3);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 200 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.seek({ topic, partition: 0, offset: '1000' });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(`${message.offset}:${text(message)}`) });
    await waitFor(() => consumer.assignment()[0]?.position === '3', 'reset to the end');
    const producer = resources.add(sluice.producer({ lingerMs: 0 }));
    await producer.send({ topic, messages: [{ value: 'later' }] });
    await waitFor(() => values.length === 1, 'the later record');
    assert.deepEqual(values, ['3:later']);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('subscribes by pattern; run() needs a subscription', { timeout: 60_000 }, async () => {
    const a = await topicWith(1, 2);
    const consumer = resources.add(sluice.consumer({ maxWaitMs: 50 }));
    await consumer.subscribe({ topics: [new RegExp(`^${a}$`)], fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(text(message)) });
    await waitFor(() => values.length === 2, 'two records');
    await consumer.disconnect();
    await assert.rejects(sluice.consumer().run({ eachMessage: async () => {} }), { code: 'INVALID_ARGUMENT' });
  });
});
