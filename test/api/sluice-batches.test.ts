/** The one codec of the application/vnd.sluice.batches framing: round trips, and every framing error. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSluiceBatches, encodeSluiceBatches, SluiceBatchesFramingError } from '../../lib/api/sluice-batches.ts';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('application/vnd.sluice.batches framing', () => {
  it('decodes what it encodes: partitions in order, batches back to back, views into the body', () => {
    const body = encodeSluiceBatches([
      { partition: 7, batches: [bytes(1, 2), bytes(3)] },
      { partition: 0, batches: [bytes(4, 5, 6)] },
    ]);
    assert.equal(body.length, 8 + 3 + 8 + 3);
    const view = new DataView(body.buffer);
    assert.deepEqual([view.getInt32(0), view.getInt32(4), view.getInt32(11), view.getInt32(15)], [7, 3, 0, 3], 'partition:int32be length:int32be');
    const sections = decodeSluiceBatches(body);
    assert.deepEqual(sections.map((s) => [s.partition, [...s.batches]]), [[7, [1, 2, 3]], [0, [4, 5, 6]]]);
    assert.equal(sections[0].batches.buffer, body.buffer, 'no copy');
  });

  it('decodes a section inside a larger buffer (a body that is a view)', () => {
    const framed = encodeSluiceBatches([{ partition: 2, batches: [bytes(9, 9)] }]);
    const padded = new Uint8Array(framed.length + 5);
    padded.set(framed, 3);
    assert.deepEqual([...decodeSluiceBatches(padded.subarray(3, 3 + framed.length))[0].batches], [9, 9]);
  });

  it('refuses empty bodies, truncated headers and lengths that do not fit', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /empty body/],
      [bytes(0, 0, 0, 1, 0, 0), /truncated section header at byte 0/],
      [encodeSluiceBatches([{ partition: 1, batches: [] }]), /bad length 0/],
      [(() => { const b = encodeSluiceBatches([{ partition: 1, batches: [bytes(1, 2)] }]); new DataView(b.buffer).setInt32(4, 3); return b; })(), /partition 1 has a bad length 3/],
      [(() => { const b = encodeSluiceBatches([{ partition: 1, batches: [bytes(1)] }]); new DataView(b.buffer).setInt32(4, -1); return b; })(), /bad length -1/],
    ];
    for (const [body, message] of cases) {
      assert.throws(() => decodeSluiceBatches(body), (error: Error) => error instanceof SluiceBatchesFramingError && message.test(error.message));
    }
  });
});
