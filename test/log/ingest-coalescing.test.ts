/**
 * Group commit of ingest objects (lib/log/ingest-writer.ts): concurrent produce requests of a topic
 * share one object put. Deterministic: the first put is held back at the named point before it
 * (EngineOptions.beforeIngestPut) while the other requests arrive, so they gather into one group; a
 * failure is injected at that point (a failed put) or after 'object-written' of one member (a crash).
 * On the memory backend and on the local one (FsObjectStore + SQLite), every part in the object
 * (inlineMaxBytes 0).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Engine, type EngineOptions } from '../../lib/log/engine.ts';
import { topicObjectPrefix } from '../../lib/log/layout.ts';
import type { ProduceStep } from '../../lib/log/produce.ts';
import { localBackend, memoryBackend, type Backend, type BackendFactory } from '../support/backends.ts';
import { append, Crash, readAll } from './engine.suite.ts';

const BACKENDS: ReadonlyArray<[string, BackendFactory]> = [
  ['memory', memoryBackend],
  ['local (SQLite + fs)', localBackend],
];

const GATHERED = 5;

/** A gate the first put waits at, and a record of every group's size. */
function heldFirstPut() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  const groups: number[] = [];
  let failGroup: ((requests: number, index: number) => boolean) | undefined;
  const hook = async (requests: number) => {
    const index = groups.push(requests) - 1;
    if (index === 0) {
      arrived();
      await released;
    }
    if (failGroup?.(requests, index)) throw new Error('injected: the ingest object put failed');
  };
  return { hook, release, firstArrived, groups, failWhen: (when: (requests: number, index: number) => boolean) => (failGroup = when) };
}

for (const [name, factory] of BACKENDS) {
  describe(`shared ingest objects on ${name}`, { timeout: 120_000 }, () => {
    let backend: Backend;
    let topicSeq = 0;
    before(async () => {
      backend = await factory();
    });
    after(async () => {
      await backend?.teardown();
    });
    const engineOf = (options: Partial<EngineOptions> = {}) =>
      new Engine({ objects: backend.objects, metadata: backend.metadata, topicCacheMs: 0, inlineMaxBytes: 0, ...options });
    const newTopic = async (engine: Engine, partitions = 2) => {
      const topic = `coalesce-${++topicSeq}`;
      await engine.topics.create(topic, partitions, { retentionMs: -1 });
      return topic;
    };
    const objectsOf = async (engine: Engine, topic: string) => {
      const keys: string[] = [];
      for await (const object of backend.objects.list(topicObjectPrefix((await engine.topics.get(topic)).id))) keys.push(object.key);
      return keys;
    };
    /** Starts the first produce, waits until its put is held, then starts the rest (they gather behind it). */
    const produceGathered = async (engine: Engine, topic: string, gate: ReturnType<typeof heldFirstPut>, idempotencyKey?: (i: number) => string) => {
      const produce = (i: number) =>
        engine.produce(topic, [append(i % 2, [`r${i}-a`, `r${i}-b`]), ...(i === 1 ? [append(1 - (i % 2), [`r${i}-other`])] : [])], idempotencyKey && {
          key: idempotencyKey(i),
          fingerprint: `fp-${idempotencyKey(i)}`,
        });
      const first = produce(0);
      await gate.firstArrived;
      const rest = Array.from({ length: GATHERED }, (_, i) => produce(i + 1));
      // Let the others reach the writer (idempotent ones read their intent first) before the put ends.
      for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
      gate.release();
      return Promise.allSettled([first, ...rest]);
    };
    const values = (records: Array<[bigint, string]>) => records.map(([, value]) => value);

    it(`${GATHERED} requests arriving during a put share the next object: two puts for ${GATHERED + 1} requests, every record readable at its offset, contiguous`, async () => {
      const gate = heldFirstPut();
      const engine = engineOf({ beforeIngestPut: gate.hook });
      const topic = await newTopic(engine);
      const outcomes = await produceGathered(engine, topic, gate);
      assert.ok(outcomes.every((o) => o.status === 'fulfilled'));
      assert.deepEqual(gate.groups, [1, GATHERED], 'one put alone, then one for the gathered requests');
      assert.equal((await objectsOf(engine, topic)).length, 2);
      const reader = engineOf();
      for (const partition of [0, 1]) {
        const records = await readAll(reader, topic, partition);
        assert.deepEqual(records.map(([offset]) => offset), records.map((_, i) => BigInt(i)), `partition ${partition} has offsets 0..n-1`);
        // each acknowledged base offset holds that request's records
        for (const [i, outcome] of outcomes.entries()) {
          for (const result of (outcome as PromiseFulfilledResult<Awaited<ReturnType<Engine['produce']>>>).value) {
            if (result.partition !== partition) continue;
            const at = records.find(([offset]) => offset === result.baseOffset);
            assert.ok(at && at[1].startsWith(`r${i}-`), `request ${i} at ${result.baseOffset} of partition ${partition}: ${at?.[1]}`);
          }
        }
      }
      const all = [...values(await readAll(reader, topic, 0)), ...values(await readAll(reader, topic, 1))].sort();
      const expected = Array.from({ length: GATHERED + 1 }, (_, i) => [`r${i}-a`, `r${i}-b`, ...(i === 1 ? [`r${i}-other`] : [])]).flat().sort();
      assert.deepEqual(all, expected);
    });

    it('a failed shared put rejects every request of its group and only those; nothing of them is visible or reserved, the next request follows on', async () => {
      const gate = heldFirstPut();
      gate.failWhen((_, index) => index === 1);
      const engine = engineOf({ beforeIngestPut: gate.hook });
      const topic = await newTopic(engine);
      const outcomes = await produceGathered(engine, topic, gate);
      assert.equal(outcomes[0].status, 'fulfilled');
      assert.ok(outcomes.slice(1).every((o) => o.status === 'rejected'), 'every gathered request failed with its put');
      assert.deepEqual(gate.groups, [1, GATHERED]);
      const [next] = await engine.produce(topic, [append(0, ['after'])]);
      assert.equal(next.baseOffset, 2n, 'no offsets were reserved by the failed group: the partition continues without a gap');
      const reader = engineOf();
      assert.deepEqual(values(await readAll(reader, topic, 0)), ['r0-a', 'r0-b', 'after']);
      assert.deepEqual(await readAll(reader, topic, 1), []);
    });

    it("a crash after one member's 'object-written' loses only that request; the others commit, and the shared object they name survives garbage collection", async () => {
      const gate = heldFirstPut();
      let objectWritten = 0;
      let now = Date.now();
      const crashAt = (step: ProduceStep) => {
        if (step === 'object-written' && ++objectWritten === 3) throw new Crash('after object-written');
      };
      const engine = engineOf({ beforeIngestPut: gate.hook, afterProduceStep: crashAt, now: () => now, maintenance: { gcGraceMs: 0, minObjectAgeMs: 0 } });
      const topic = await newTopic(engine);
      const outcomes = await produceGathered(engine, topic, gate);
      const crashed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
      assert.equal(crashed.length, 1, 'exactly the crashed request failed');
      assert.ok(outcomes[crashed[0]].status === 'rejected' && (outcomes[crashed[0]] as PromiseRejectedResult).reason instanceof Crash);
      assert.deepEqual(gate.groups, [1, GATHERED]);

      const committed = Array.from({ length: GATHERED + 1 }, (_, i) => i).filter((i) => i !== crashed[0]);
      const expected = committed.flatMap((i) => [`r${i}-a`, `r${i}-b`, ...(i === 1 ? [`r${i}-other`] : [])]).sort();
      const readBoth = async () => {
        const reader = engineOf();
        return [...values(await readAll(reader, topic, 0)), ...values(await readAll(reader, topic, 1))].sort();
      };
      assert.deepEqual(await readBoth(), expected);
      // Two passes (mark, then sweep after the grace) long after: garbage collection (and compaction, which
      // may replace the ingest objects by segments) keep every committed record readable: the shared object
      // is named by the committed members' entries, the crashed member's range within it by none.
      now += 3_600_000;
      await engine.maintain();
      now += 3_600_000;
      await engine.maintain();
      assert.deepEqual(await readBoth(), expected);
    });

    it('idempotent requests share an object too; the crashed one, retried with its key, is appended exactly once', async () => {
      const gate = heldFirstPut();
      let objectWritten = 0;
      const engine = engineOf({
        beforeIngestPut: gate.hook,
        afterProduceStep: (step) => {
          if (step === 'object-written' && ++objectWritten === 4) throw new Crash('after object-written');
        },
      });
      const topic = await newTopic(engine);
      const key = (i: number) => `key-${topic}-${i}`;
      const outcomes = await produceGathered(engine, topic, gate, key);
      const crashed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
      assert.equal(crashed.length, 1);
      assert.equal(gate.groups[0], 1);
      assert.equal(gate.groups.reduce((a, b) => a + b), GATHERED + 1);
      assert.ok(gate.groups.length < GATHERED + 1, `some requests shared an object: groups ${gate.groups.join(', ')}`);
      // Every request retried with its key (the crashed one for real, the rest as duplicates).
      const retry = engineOf();
      for (let i = 0; i <= GATHERED; i++) {
        await retry.produce(topic, [append(i % 2, [`r${i}-a`, `r${i}-b`]), ...(i === 1 ? [append(1 - (i % 2), [`r${i}-other`])] : [])], { key: key(i), fingerprint: `fp-${key(i)}` });
      }
      const all = [...values(await readAll(retry, topic, 0)), ...values(await readAll(retry, topic, 1))].sort();
      const expected = Array.from({ length: GATHERED + 1 }, (_, i) => [`r${i}-a`, `r${i}-b`, ...(i === 1 ? [`r${i}-other`] : [])]).flat().sort();
      assert.deepEqual(all, expected, 'each request exactly once');
    });

    it('coalesceIngestObjects: false writes one object per request', async () => {
      const gate = heldFirstPut();
      const engine = engineOf({ beforeIngestPut: gate.hook, coalesceIngestObjects: false });
      const topic = await newTopic(engine);
      const outcomes = await produceGathered(engine, topic, gate);
      assert.ok(outcomes.every((o) => o.status === 'fulfilled'));
      assert.deepEqual(gate.groups, Array.from({ length: GATHERED + 1 }, () => 1));
      assert.equal((await objectsOf(engine, topic)).length, GATHERED + 1);
    });
  });
}
