/**
 * Push consumers, written once and run on every backend (memory, local, DynamoDB emulator): the
 * consumer's configuration and state, delivery in order per partition, batching limits, partial
 * failures, backoff kept in the store, bisection, dead letters with their headers, a failing
 * partition that waits until resumed, pause, delete, and fencing of a dispatcher that was replaced.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SluiceError } from '../../lib/errors.ts';
import { decodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { consumerGroup, stateFromItem, statePk, stateSk } from '../../lib/push/layout.ts';
import type { Backend, BackendFactory } from '../support/backends.ts';
import { consumerRequest, produceValues, pushWorld, type PushWorld } from './support.ts';

const code = (expected: string) => (e: unknown) => {
  assert.ok(e instanceof SluiceError, `expected a SluiceError ${expected}, got ${String(e)}`);
  assert.equal(e.code, expected, e.message);
  return true;
};

export function pushSuite(name: string, factory: BackendFactory): void {
  describe(`push consumers on ${name}`, { timeout: 120_000 }, () => {
    let backend: Backend;
    let seq = 0;
    before(async () => {
      backend = await factory();
    });
    after(async () => backend.teardown());

    async function setup(partitions = 2, withDlq = false): Promise<PushWorld & { topic: string; dlq: string; name: string }> {
      const world = pushWorld(backend);
      const n = ++seq;
      const topic = `orders${n}`;
      const dlq = `orders${n}-dlq`;
      await world.engine.topics.create(topic, partitions);
      if (withDlq) await world.engine.topics.create(dlq, 1);
      return { ...world, topic, dlq, name: `billing${n}` };
    }

    it('creates a consumer, shows its secret once and refuses a second of the same name', async () => {
      const w = await setup();
      const { config, secret } = await w.consumers.create(consumerRequest(w.name, [w.topic]));
      assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(config.batch, { maxRecords: 100, maxBytes: 1048576, maxWaitMs: 0 });
      assert.equal(config.retry.maxAttempts, 5);
      const stored = await w.consumers.get(w.name);
      assert.ok(!JSON.stringify(stored).includes(secret), 'the secret is not stored in plain text');
      assert.equal(await w.consumers.secretOf(stored), secret);
      await assert.rejects(w.consumers.create(consumerRequest(w.name, [w.topic])), code('CONSUMER_EXISTS'));
      await assert.rejects(w.consumers.create(consumerRequest(`${w.name}x`, ['no-such-topic'])), code('TOPIC_NOT_FOUND'));
      await assert.rejects(w.consumers.create({ ...consumerRequest(`${w.name}y`, [w.topic]), batch: { maxRecords: 0 } }), code('INVALID_REQUEST'));
      await assert.rejects(
        w.consumers.create({ ...consumerRequest(`${w.name}z`, [w.topic]), target: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' } }),
        code('INVALID_REQUEST'),
      );
      await assert.rejects(w.consumers.get('nobody'), code('CONSUMER_NOT_FOUND'));
      assert.equal((await w.consumers.describe(w.name)).state, 'running');
    });

    it('delivers every partition in offset order, in batches of at most maxRecords, and commits after each', async () => {
      const w = await setup(3);
      for (let p = 0; p < 3; p++) for (let r = 0; r < 5; r++) await produceValues(w.engine, w.topic, p, [`p${p}-${r}a`, `p${p}-${r}b`], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { batch: { maxRecords: 3 }, maxConcurrency: 3 }));
      await w.dispatcher().runAll();
      for (let p = 0; p < 3; p++) assert.deepEqual(w.target.offsets(p), Array.from({ length: 10 }, (_, i) => BigInt(i)));
      assert.ok(w.target.deliveries.every((d) => d.records.length <= 3 && d.attempt === 1 && d.consumer === w.name && d.topic === w.topic));
      const first = w.target.deliveries.find((d) => d.partition === 1)!;
      assert.equal(first.batchId, `${w.topic}/1/0-2`);
      assert.equal(first.records[0].value, 'p1-0a');
      assert.equal(first.records[0].key, 'k-p1-0a');
      const described = await w.consumers.describe(w.name);
      assert.equal(described.delivered, 30n);
      assert.deepEqual(described.partitions.map((p) => p.lag), [0n, 0n, 0n]);
      assert.ok(described.partitions.every((p) => p.committedOffset === 10n));
    });

    it('startAt latest delivers only what is produced after the consumer was created', async () => {
      const w = await setup(1);
      await produceValues(w.engine, w.topic, 0, ['before'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { startAt: 'latest' }));
      await produceValues(w.engine, w.topic, 0, ['after'], w.clock.now());
      await w.dispatcher().runAll();
      assert.deepEqual(w.target.deliveries.flatMap((d) => d.records.map((r) => r.value)), ['after']);
    });

    it('keeps a batch within maxBytes, yet delivers a record larger than maxBytes alone', async () => {
      const w = await setup(1);
      await produceValues(w.engine, w.topic, 0, ['a'.repeat(100), 'b', 'c', 'd'.repeat(2000), 'e'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { batch: { maxBytes: 700 } }));
      await w.dispatcher().runAll();
      const sizes = w.target.deliveries.map((d) => d.records.map((r) => r.offset).join(','));
      assert.deepEqual(sizes, ['0,1,2', '3', '4']);
    });

    it('a partial failure retries from the lowest failed offset; the records before it are committed', async () => {
      const w = await setup(1);
      await produceValues(w.engine, w.topic, 0, ['r0', 'r1', 'r2', 'r3'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { retry: { minBackoffMs: 100, maxBackoffMs: 100 } }));
      w.target.script = (d) => (d.attempt === 1 && d.records[0].offset === '0' ? { kind: 'partial', firstFailed: 2n } : { kind: 'success' });
      const dispatcher = w.dispatcher();
      await dispatcher.runAll();
      assert.deepEqual(w.target.deliveries.map((d) => d.batchId), [`${w.topic}/0/0-3`]);
      assert.equal((await w.consumers.describe(w.name)).partitions[0].committedOffset, 2n);
      w.clock.advance(100);
      await dispatcher.runAll();
      assert.deepEqual(w.target.deliveries.map((d) => d.batchId), [`${w.topic}/0/0-3`, `${w.topic}/0/2-3`]);
      assert.equal((await w.consumers.describe(w.name)).partitions[0].committedOffset, 4n);
    });

    it('backs off between attempts; the backoff is in the store, so a new dispatcher keeps it', async () => {
      const w = await setup(1);
      await produceValues(w.engine, w.topic, 0, ['x', 'y'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { retry: { minBackoffMs: 1000, maxBackoffMs: 8000, maxAttempts: 10 } }));
      let failures = 2;
      w.target.script = () => (failures-- > 0 ? { kind: 'failure', error: 'HTTP 503' } : { kind: 'success' });
      await w.dispatcher().runAll();
      assert.equal(w.target.deliveries.length, 1);
      const topicId = (await w.engine.topics.get(w.topic)).id;
      const state = stateFromItem(await w.engine.metadata.get(statePk(w.name, topicId, 0), stateSk(0)));
      assert.equal(state.attempts, 1);
      assert.equal(state.nextAttemptAt, w.clock.now() + 750); // min 1000 × 2^0, jitter 0.5 → ¾
      assert.equal(state.lastError?.message, 'HTTP 503');
      assert.ok(w.wakes.includes(state.nextAttemptAt));
      const restarted = w.dispatcher();
      await restarted.runAll();
      assert.equal(w.target.deliveries.length, 1, 'not before the backoff has passed');
      w.clock.advance(750);
      await restarted.runAll();
      assert.equal(w.target.deliveries.length, 2);
      assert.equal(w.target.deliveries[1].attempt, 2);
      assert.equal(w.target.deliveries[1].batchId, w.target.deliveries[0].batchId, 'the same records under the same batchId');
      w.clock.advance(1500); // 1000 × 2^1, jitter ¾
      await produceValues(w.engine, w.topic, 0, ['z'], w.clock.now());
      await restarted.runAll();
      assert.deepEqual(w.target.deliveries.slice(2).map((d) => [d.batchId, d.attempt]), [[`${w.topic}/0/0-1`, 3], [`${w.topic}/0/2-2`, 1]]);
      const described = await w.consumers.describe(w.name);
      assert.equal(described.failed, 2n);
      assert.equal(described.delivered, 3n);
    });

    it('dead-letters a batch out of attempts, with the source headers, exactly once, and moves on', async () => {
      const w = await setup(1, true);
      await produceValues(w.engine, w.topic, 0, ['bad1', 'bad2'], w.clock.now());
      await produceValues(w.engine, w.topic, 0, ['good'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { batch: { maxRecords: 2 }, deadLetterTopic: w.dlq, retry: { maxAttempts: 2, minBackoffMs: 0, maxBackoffMs: 0 } }));
      w.target.script = (d) => (d.records.some((r) => r.value?.startsWith('bad')) ? { kind: 'failure', error: 'HTTP 500' } : { kind: 'success' });
      let crashes = 1;
      // The dispatcher dies right after appending the dead letters; the next one repeats the append (idempotent).
      await w.dispatcher({ afterStep: (step) => { if (step === 'dead-letters-appended' && crashes-- > 0) throw new Error('crash'); } }).runAll();
      await w.dispatcher().runAll();
      const dead = (await w.engine.fetch(w.dlq, 0, { offset: 0n })).batches.flatMap((b) => decodeRecordBatch(b.bytes).records);
      assert.equal(dead.length, 2);
      const headers = Object.fromEntries(dead[1].headers.map((h) => [h.key, new TextDecoder().decode(h.value!)]));
      assert.equal(new TextDecoder().decode(dead[1].value!), 'bad2');
      assert.deepEqual({ ...headers, 'sluice.error': headers['sluice.error'].slice(0, 8) }, { 'sluice.topic': w.topic, 'sluice.partition': '0', 'sluice.offset': '1', 'sluice.error': 'HTTP 500' });
      assert.match(headers['sluice.error'], /failed 2 attempts/);
      assert.deepEqual(w.target.deliveries.map((d) => d.records.map((r) => r.value).join(',')), ['bad1,bad2', 'bad1,bad2', 'good']);
      const described = await w.consumers.describe(w.name);
      assert.equal(described.deadLettered, 2n);
      assert.equal(described.partitions[0].committedOffset, 3n);
    });

    it('bisectOnError narrows a failing batch down to the failing record and dead-letters only that one', async () => {
      const w = await setup(1, true);
      await produceValues(w.engine, w.topic, 0, ['a', 'b', 'c', 'poison', 'e', 'f', 'g'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { deadLetterTopic: w.dlq, retry: { bisectOnError: true, maxAttempts: 2, minBackoffMs: 0, maxBackoffMs: 0 } }));
      w.target.script = (d) => (d.records.some((r) => r.value === 'poison') ? { kind: 'failure', error: 'poison' } : { kind: 'success' });
      await w.dispatcher().runAll();
      const dead = (await w.engine.fetch(w.dlq, 0, { offset: 0n })).batches.flatMap((b) => decodeRecordBatch(b.bytes).records);
      assert.deepEqual(dead.map((r) => new TextDecoder().decode(r.value!)), ['poison']);
      const succeeded = w.target.deliveries.filter((d) => !d.records.some((r) => r.value === 'poison')).flatMap((d) => d.records.map((r) => r.value));
      assert.deepEqual(succeeded, ['a', 'b', 'c', 'e', 'f', 'g']);
      assert.ok(w.target.deliveries.every((d) => d.records.length <= 7));
      assert.equal((await w.consumers.describe(w.name)).partitions[0].committedOffset, 7n);
    });

    it('without a dead-letter topic the partition stops (failing) until resumed; other partitions go on', async () => {
      const w = await setup(2);
      await produceValues(w.engine, w.topic, 0, ['stuck'], w.clock.now());
      await produceValues(w.engine, w.topic, 1, ['fine'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic], { retry: { maxAttempts: 1, minBackoffMs: 0, maxBackoffMs: 0 } }));
      let broken = true;
      w.target.script = (d) => (broken && d.partition === 0 ? { kind: 'failure', error: 'down' } : { kind: 'success' });
      const dispatcher = w.dispatcher();
      await dispatcher.runAll();
      let described = await w.consumers.describe(w.name);
      assert.equal(described.state, 'failing');
      assert.deepEqual(described.partitions.map((p) => [p.committedOffset, p.failing]), [[0n, true], [1n, false]]);
      assert.match(described.lastError!.message, /down/);
      await dispatcher.runAll();
      assert.equal(w.target.deliveries.filter((d) => d.partition === 0).length, 1, 'a failing partition is not retried');
      broken = false;
      await w.consumers.resume(w.name);
      await dispatcher.runAll();
      described = await w.consumers.describe(w.name);
      assert.equal(described.state, 'running');
      assert.equal(described.partitions[0].committedOffset, 1n);
    });

    it('a paused consumer delivers nothing; resumed, it goes on from its committed offset', async () => {
      const w = await setup(1);
      await w.consumers.create(consumerRequest(w.name, [w.topic]));
      await w.consumers.pause(w.name);
      await produceValues(w.engine, w.topic, 0, ['held'], w.clock.now());
      const dispatcher = w.dispatcher();
      await dispatcher.runAll();
      assert.equal(w.target.deliveries.length, 0);
      assert.equal((await w.consumers.describe(w.name)).state, 'paused');
      await w.consumers.resume(w.name);
      await dispatcher.runAll();
      assert.equal(w.target.deliveries.length, 1);
    });

    it('a dispatcher that was replaced cannot commit: its delivery is redelivered by the new one', async () => {
      const w = await setup(1);
      await produceValues(w.engine, w.topic, 0, ['one'], w.clock.now());
      await w.consumers.create(consumerRequest(w.name, [w.topic]));
      let release!: () => void;
      const stalled = new Promise<void>((resolve) => (release = resolve));
      const old = w.dispatcher({ afterStep: async (step) => { if (step === 'delivered') await stalled; } });
      const oldRun = old.runAll();
      while (w.target.deliveries.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const fresh = w.dispatcher();
      await fresh.runAll(); // joins with the same instance id: the old member is fenced
      release();
      await oldRun;
      assert.equal(w.target.deliveries.length, 2, 'delivered by both (at least once)');
      assert.equal(w.target.deliveries[1].batchId, w.target.deliveries[0].batchId);
      const described = await w.groups.describe(consumerGroup(w.name));
      assert.deepEqual(described.members.map((m) => m.memberId), [fresh.memberOf(w.name)]);
      assert.equal(old.memberOf(w.name), undefined, 'the old dispatcher dropped its membership when its commit was refused');
      assert.equal(described.offsets[0].committedOffset, 1n);
    });

    it('delete removes the consumer and its dispatcher membership', async () => {
      const w = await setup(1);
      await w.consumers.create(consumerRequest(w.name, [w.topic]));
      await produceValues(w.engine, w.topic, 0, ['one'], w.clock.now());
      await w.dispatcher().runAll();
      await w.consumers.delete(w.name);
      await assert.rejects(w.consumers.describe(w.name), code('CONSUMER_NOT_FOUND'));
      await assert.rejects(w.consumers.delete(w.name), code('CONSUMER_NOT_FOUND'));
      assert.deepEqual((await w.groups.describe(consumerGroup(w.name))).members, []);
      // A consumer created again with the name starts afresh.
      await w.consumers.create(consumerRequest(w.name, [w.topic], { startAt: 'latest' }));
      assert.equal((await w.consumers.describe(w.name)).partitions[0].committedOffset, 1n);
    });
  });
}
