/** The one bounded-concurrency helper (lib/concurrency.ts) and the one bigint-in-JSON encoding (lib/json-bigint.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapConcurrent } from '../lib/concurrency.ts';
import { parseWithBigints, stringifyWithBigints } from '../lib/json-bigint.ts';

describe('mapConcurrent', () => {
  it('keeps at most `limit` calls in flight and answers in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapConcurrent([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return `${i}:${n}`;
    });
    assert.deepEqual(results, ['0:5', '1:1', '2:4', '3:2', '4:3', '5:0']);
    assert.equal(most, 2);
    assert.deepEqual(await mapConcurrent([], 4, async () => 1), []);
  });

  it('rejects with the first failure', async () => {
    await assert.rejects(mapConcurrent([1, 2, 3], 3, async (n) => { if (n === 2) throw new Error('two'); return n; }), /two/);
  });
});

describe('bigints in JSON', () => {
  it('round-trip exactly, beyond 2^53, and do not swallow strings that look like them', () => {
    const value = { a: 2n ** 63n - 1n, nested: [{ start: 17n, end: 18n }], text: '17n', tagless: { $n: 5 } };
    const text = stringifyWithBigints(value);
    assert.equal(text, '{"a":{"$n":"9223372036854775807"},"nested":[{"start":{"$n":"17"},"end":{"$n":"18"}}],"text":"17n","tagless":{"$n":5}}');
    assert.deepEqual(parseWithBigints(text), value);
  });
});
