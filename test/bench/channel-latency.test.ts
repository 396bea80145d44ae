/**
 * The arithmetic behind the modeled AWS channel latency (bench/live-tail.ts, README "The SDK consumer
 * on the channel"): log-normal fits, the mixture of hinted and fallback consumers, and what the
 * append hints' deadline adds to the produce ack. Nothing here times anything.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ackWithAppendHints, chain, CHANNEL_LATENCY_MS, exceedance, mixtureQuantile } from '../../bench/latency-model.ts';
import { APPEND_HINT_DEFAULTS } from '../../lib/lambda/append-hints.ts';

const close = (actual: number, expected: number, tolerance: number) => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≉ ${expected}`);

describe('modeled channel latency', () => {
  it('a log-normal fit passes through its p50 and p99', () => {
    const latency = { p50Ms: 15, p99Ms: 60 };
    close(exceedance(latency, 15), 0.5, 1e-6);
    close(exceedance(latency, 60), 0.01, 1e-5);
    close(mixtureQuantile([{ share: 1, latency }], 0.5), 15, 0.01);
    close(mixtureQuantile([{ share: 1, latency }], 0.99), 60, 0.05);
  });

  it('the mixture p99 lies between the paths and grows with the share left to the fallback', () => {
    const hint = chain(CHANNEL_LATENCY_MS.postToConnection, CHANNEL_LATENCY_MS.webSocketDelivery, CHANNEL_LATENCY_MS.consumerRead);
    const fallback = chain(CHANNEL_LATENCY_MS.streamRecord, CHANNEL_LATENCY_MS.shardPoll, CHANNEL_LATENCY_MS.notifier, CHANNEL_LATENCY_MS.consumerRead);
    assert.deepEqual(hint, { p50Ms: 40, p99Ms: 150 });
    assert.deepEqual(fallback, { p50Ms: 360, p99Ms: 880 });
    const p99 = (cutOff: number) => mixtureQuantile([{ share: 1 - cutOff, latency: hint }, { share: cutOff, latency: fallback }], 0.99);
    close(p99(0), 150, 0.1);
    assert.ok(p99(0.01) > 150 && p99(0.01) < p99(0.12) && p99(0.12) < 880);
  });

  it('the hints add one post to the ack, never more than the deadline', () => {
    const ack = { p50Ms: 20, p99Ms: 70 };
    assert.deepEqual(ackWithAppendHints(ack, APPEND_HINT_DEFAULTS.deadlineMs), { p50Ms: 35, p99Ms: 70 + APPEND_HINT_DEFAULTS.deadlineMs });
    assert.deepEqual(ackWithAppendHints(ack, 1000), { p50Ms: 35, p99Ms: 130 });
    assert.ok(ackWithAppendHints(ack, APPEND_HINT_DEFAULTS.deadlineMs).p99Ms <= 100, "issue 14's p99 goal for the 1-record ack without a key");
  });
});
