/**
 * The accumulator's choice of what goes next, at explicit times (no clock): partitions ready by
 * lingerMs alone wait for the topic's request in flight, so the topic's partitions travel in one
 * request instead of settling into alternating halves; full or urgent partitions never wait, and the
 * wait is bounded by twice the last round trip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Delivery, MAX_HOLD_MS, RecordAccumulator, TopicState, type Pending } from '../../lib/client/producer/accumulator.ts';

const LINGER = 5;

function pending(size = 100): Pending {
  return { record: { key: null, value: new Uint8Array(size), timestamp: 0 }, size, delivery: new Delivery(1), index: 0 };
}

function setup(options: { maxBatchBytes?: number } = {}) {
  const accumulator = new RecordAccumulator({ lingerMs: LINGER, maxBatchBytes: options.maxBatchBytes ?? 1 << 20, maxRequestBytes: 4 << 20 });
  const topic = new TopicState('t', 2);
  accumulator.topics.set('t', topic);
  const partitionsOf = (request: { sections: ReadonlyArray<{ queue: { partition: number } }> }) => request.sections.map((s) => s.queue.partition).sort();
  return { accumulator, topic, partitionsOf };
}

describe('accumulator', () => {
  it('holds partitions ready by lingerMs while the topic has a request in flight, then sends them with the partitions it frees', () => {
    const { accumulator, topic, partitionsOf } = setup();
    // a first request of both partitions, answered after 20 ms: the round trip the wait is bounded by
    accumulator.append(topic, 0, pending(), 0);
    accumulator.append(topic, 1, pending(), 0);
    const first = accumulator.ready(10, false, 16).requests;
    assert.deepEqual(first.map(partitionsOf), [[0, 1]]);
    accumulator.sent(first[0], 30);

    accumulator.append(topic, 0, pending(), 30);
    const second = accumulator.ready(40, false, 16).requests;
    assert.deepEqual(second.map(partitionsOf), [[0]], 'nothing in flight: partition 0 goes at once');

    accumulator.append(topic, 1, pending(), 45);
    const held = accumulator.ready(51, false, 16);
    assert.deepEqual(held.requests, [], 'partition 1 is past lingerMs but waits for the request in flight');
    assert.equal(held.wakeAt, 40 + 2 * 20, 'at most twice the last round trip after that request was sent');

    accumulator.sent(second[0], 55);
    accumulator.append(topic, 0, pending(), 55);
    const together = accumulator.ready(56, false, 16).requests;
    assert.deepEqual(together.map(partitionsOf), [[0, 1]], 'one request again, with the partition the answer freed');
  });

  it('stops holding after twice the last round trip (a request that retries holds nobody for long)', () => {
    const { accumulator, topic, partitionsOf } = setup();
    accumulator.append(topic, 0, pending(), 0);
    const [first] = accumulator.ready(10, false, 16).requests;
    accumulator.sent(first, 20); // round trip 10
    accumulator.append(topic, 0, pending(), 20);
    const [slow] = accumulator.ready(25, false, 16).requests;
    assert.deepEqual(partitionsOf(slow), [0]);
    accumulator.append(topic, 1, pending(), 26);
    assert.deepEqual(accumulator.ready(40, false, 16).requests, [], 'held until 25 + 2 × 10');
    assert.deepEqual(accumulator.ready(45, false, 16).requests.map(partitionsOf), [[1]], 'sent alone once the wait is over');
  });

  it(`waits at most ${MAX_HOLD_MS} ms however long the last round trip took`, () => {
    const { accumulator, topic } = setup();
    accumulator.append(topic, 0, pending(), 0);
    const [first] = accumulator.ready(10, false, 16).requests;
    accumulator.sent(first, 60_010); // a minute of retries
    accumulator.append(topic, 0, pending(), 60_010);
    accumulator.ready(60_020, false, 16);
    accumulator.append(topic, 1, pending(), 60_021);
    assert.equal(accumulator.ready(60_030, false, 16).wakeAt, 60_020 + MAX_HOLD_MS);
    assert.equal(accumulator.ready(60_020 + MAX_HOLD_MS, false, 16).requests.length, 1);
  });

  it('never holds a full partition or an urgent flush', () => {
    const { accumulator, topic, partitionsOf } = setup({ maxBatchBytes: 1000 });
    accumulator.append(topic, 0, pending(), 0);
    const [first] = accumulator.ready(10, false, 16).requests;
    accumulator.sent(first, 30);
    accumulator.append(topic, 0, pending(), 30);
    const [inFlight] = accumulator.ready(40, false, 16).requests;
    assert.deepEqual(partitionsOf(inFlight), [0]);

    accumulator.append(topic, 1, pending(1000), 41);
    assert.deepEqual(accumulator.ready(42, false, 16).requests.map(partitionsOf), [[1]], 'full: goes at once');
    accumulator.append(topic, 1, pending(), 43);
    assert.deepEqual(accumulator.ready(43, false, 16).requests, [], 'partition 1 is in flight itself now');
  });

  it('sends an urgent (flushing) partition despite a request in flight', () => {
    const { accumulator, topic, partitionsOf } = setup();
    accumulator.append(topic, 0, pending(), 0);
    const [first] = accumulator.ready(10, false, 16).requests;
    accumulator.sent(first, 30);
    accumulator.append(topic, 0, pending(), 30);
    accumulator.ready(40, false, 16);
    accumulator.append(topic, 1, pending(), 41);
    assert.deepEqual(accumulator.ready(42, true, 16).requests.map(partitionsOf), [[1]]);
  });
});
