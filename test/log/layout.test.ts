import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INGEST_PREFIX_COUNT, ingestObjectKey, ingestObjectTime, timeOrderedId } from '../../lib/log/layout.ts';

describe('ingest object keys', () => {
  it('spread a topic over INGEST_PREFIX_COUNT prefixes, taken from the random part of the id', () => {
    const prefixes = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const key = ingestObjectKey('topic1', timeOrderedId(1_766_000_000_000));
      const match = /^t\/topic1\/ingest\/([0-9a-f]{2})\/[0-9a-z]{9}-[0-9a-f]{20}$/.exec(key);
      assert.ok(match, key);
      prefixes.add(match[1]);
    }
    // 20,000 draws over 256 values: missing one has probability 256 × (255/256)^20000 ≈ 1e-32.
    assert.equal(prefixes.size, INGEST_PREFIX_COUNT);
  });

  it('keep their creation time readable, also for keys written before the spread', () => {
    const now = 1_766_000_123_456;
    const id = timeOrderedId(now);
    assert.equal(ingestObjectTime(ingestObjectKey('abc', id)), now);
    assert.equal(ingestObjectTime(`t/abc/ingest/${id}`), now, 'an unspread key of an older version');
    assert.equal(ingestObjectTime(`t/abc/segments/0/00000000000000000000-${id}.seg`), undefined);
  });
});
