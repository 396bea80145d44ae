/**
 * The proof: 100,000 records across 8 partitions through the local server, produced by the client and
 * consumed by the client: every record exactly once, in offset order per partition, in send order per
 * partition. Once on a clean network, once through a proxy that answers 503 and 429 without
 * forwarding and forwards then drops the answer (the ambiguous outcome the Idempotency-Key exists for).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Sluice, type ProducerOptions } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import { partitionForKey } from '../../lib/protocol/murmur2.ts';
import { randomFaults, startChaosProxy, type ChaosProxy } from './support/chaos-proxy.ts';
import { API_KEY, localServer, type TestServer } from './support/servers.ts';
import { Resources } from '../support/resources.ts';

const RECORDS = 100_000;
const PARTITIONS = 8;
const KEYS = 5_000;

interface Consumed {
  seq: number;
  offset: bigint;
}

async function produceAndConsume(sluice: Sluice, topic: string, producerOptions: ProducerOptions, resources: Resources): Promise<void> {
  await sluice.admin().createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  const producer = resources.add(sluice.producer(producerOptions));
  const encoder = new TextEncoder();
  const pad = 'x'.repeat(40);

  // produce: 100 sends of 1,000 keyed records, up to 10 in flight
  const sent: Array<{ partition: number; offset: bigint }> = new Array(RECORDS);
  const sends: Promise<void>[] = [];
  for (let start = 0; start < RECORDS; start += 1000) {
    const messages = Array.from({ length: 1000 }, (_, i) => {
      const seq = start + i;
      return { key: `user-${seq % KEYS}`, value: `{"seq":${seq},"pad":"${pad}"}`, headers: { seq: String(seq) } };
    });
    sends.push(
      producer.send({ topic, messages }).then((results) => {
        results.forEach((r, i) => (sent[start + i] = { partition: r.partition, offset: BigInt(r.offset) }));
      }),
    );
    if (sends.length % 10 === 0) await Promise.all(sends.slice(-10));
  }
  await Promise.all(sends);
  await producer.disconnect();

  // every record where Kafka's partitioner puts its key, offsets unique per partition
  const perPartition = Array.from({ length: PARTITIONS }, () => new Set<bigint>());
  for (let seq = 0; seq < RECORDS; seq++) {
    const { partition, offset } = sent[seq];
    assert.equal(partition, partitionForKey(encoder.encode(`user-${seq % KEYS}`), PARTITIONS));
    assert.ok(!perPartition[partition].has(offset), `offset ${offset} of partition ${partition} acknowledged twice`);
    perPartition[partition].add(offset);
  }
  const ends = await sluice.admin().fetchTopicOffsets(topic);
  assert.equal(ends.reduce((n, p) => n + Number(p.high), 0), RECORDS, 'the log holds exactly the records sent: no duplicate appends');
  assert.ok(ends.every((p) => Number(p.high) > 0), 'every partition got records');

  // consume everything
  const consumed: Consumed[][] = Array.from({ length: PARTITIONS }, () => []);
  let total = 0;
  const consumer = resources.add(sluice.consumer({ maxWaitMs: 200 }));
  await consumer.subscribe({ topic, fromBeginning: true });
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      const list = consumed[batch.partition];
      for (const message of batch.messages) {
        const seq = Number(message.headers.seq!.toString());
        assert.equal(JSON.parse(message.value!.toString()).seq, seq);
        list.push({ seq, offset: BigInt(message.offset) });
      }
      total += batch.messages.length;
      if (total >= RECORDS) finished();
    },
  });
  await done;
  // give a duplicate delivery the chance to show up, then stop
  await new Promise((resolve) => setTimeout(resolve, 300));
  await consumer.disconnect();

  assert.equal(total, RECORDS, 'every record consumed exactly once');
  const seen = new Uint8Array(RECORDS);
  for (let p = 0; p < PARTITIONS; p++) {
    const list = consumed[p];
    assert.equal(BigInt(list.length), BigInt(ends[p].high), `partition ${p}: all of it`);
    for (let i = 0; i < list.length; i++) {
      const { seq, offset } = list[i];
      assert.equal(seen[seq], 0, `record ${seq} consumed twice`);
      seen[seq] = 1;
      assert.deepEqual(sent[seq], { partition: p, offset }, `record ${seq} read where it was acknowledged`);
      if (i > 0) {
        assert.ok(offset > list[i - 1].offset, `partition ${p}: offsets in order`);
        assert.ok(seq > list[i - 1].seq, `partition ${p}: records in the order they were sent`);
      }
    }
  }
}

describe('end to end: 100,000 records, 8 partitions', () => {
  let server: TestServer;
  /** The producer, consumer and proxy of each test: stopped when it ends, pass or fail. */
  const resources = new Resources();
  before(async () => {
    server = await localServer();
  });
  afterEach(() => resources.close());
  after(() => server.close());

  it('every record once, in order, on a clean network (direct reads from the store)', { timeout: 300_000 }, async () => {
    const sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, logger: silentLogger });
    await produceAndConsume(sluice, 'e2e-clean', {}, resources);
  });

  it('every record once, in order, with 503s, 429s and dropped answers injected on every API call', { timeout: 300_000 }, async () => {
    const proxy: ChaosProxy = resources.closes(await startChaosProxy(server.url, randomFaults({ unavailable: 0.08, throttle: 0.04, 'drop-response': 0.08 }, 42)), 'chaos proxy');
    const sluice = new Sluice({
      endpoint: proxy.url,
      apiKey: API_KEY,
      logger: silentLogger,
      retry: { retries: 12, initialRetryMs: 5, maxRetryMs: 100 },
    });
    // small batches: several hundred produce requests, so the faults hit produce often
    await produceAndConsume(sluice, 'e2e-chaos', { maxBatchBytes: 16 * 1024, maxRequestBytes: 32 * 1024, lingerMs: 2 }, resources);
    const { produceCounts: produce, counts } = proxy;
    assert.ok(produce['drop-response'] >= 5, `produce answers dropped after the append: ${produce['drop-response']}`);
    assert.ok(produce.unavailable >= 5 && produce.throttle >= 2, `produce 503s ${produce.unavailable}, 429s ${produce.throttle}`);
    assert.ok(counts['drop-response'] + counts.unavailable + counts.throttle >= 40, `faults injected: ${JSON.stringify(counts)}`);
  });
});
