/**
 * PartitionReader's fallback when the store cannot presign, with two partitions read at once: the
 * second read's locations call is answered INVALID_REQUEST only after the first read has already
 * learnt (and recorded) that direct reads are unsupported. Before, that second read rethrew and
 * crashed the consumer; it must read through the API like the first. Deterministic: the fake API
 * holds the second locations answer until the first read is done.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionReader } from '../../lib/client/consumer/reader.ts';
import { silentLogger, type ClientContext } from '../../lib/client/context.ts';
import { SluiceClientError } from '../../lib/client/errors.ts';
import { nodeCompressor } from '../../lib/protocol/compression.ts';

const options = { maxBytes: 1 << 20, maxWaitMs: 0, directReads: true, checkCrcs: true, rangeConcurrency: 2, directReadsRetryMs: 60_000 };
const cannotPresign = () => new SluiceClientError('INVALID_REQUEST', 'this deployment cannot serve direct reads; use the records route', { status: 400 });

describe('PartitionReader without presigned reads', () => {
  it('a read refused after a concurrent read learnt that direct reads are unsupported falls back to the API too', async () => {
    let releaseSecond!: () => void;
    const secondHeld = new Promise<void>((resolve) => (releaseSecond = resolve));
    const apiReads: number[] = [];
    const api = {
      async locations(_topic: string, partition: number) {
        if (partition === 1) await secondHeld;
        throw cannotPresign();
      },
      async fetchBatches(_topic: string, partition: number) {
        apiReads.push(partition);
        return { bytes: new Uint8Array(0), nextOffset: 0n, highWatermark: 0n };
      },
    };
    const context = { api, runtime: { name: 'node', compressor: nodeCompressor, bytes: (v: Uint8Array) => v, maxInFlightFetches: 8 }, retry: {}, logger: silentLogger } as unknown as ClientContext;
    const reader = new PartitionReader(context, options);
    const second = reader.read('t', 1, 0n);
    const first = await reader.read('t', 0, 0n);
    assert.equal(first.via, 'api');
    assert.equal(reader.directReads, 'unsupported');
    releaseSecond();
    const chunk = await second;
    assert.equal(chunk.via, 'api', 'the late refusal reads through the API instead of throwing');
    assert.deepEqual(apiReads, [0, 1]);
  });

  it('once direct reads worked, INVALID_REQUEST is the request at fault and is thrown', async () => {
    let refuse = false;
    const api = {
      async locations() {
        if (refuse) throw new SluiceClientError('INVALID_REQUEST', 'maxBytes is out of range', { status: 400 });
        return { locations: [], nextOffset: 0n, highWatermark: 0n };
      },
      async fetchBatches() {
        throw new Error('not expected');
      },
    };
    const context = { api, runtime: { name: 'node', compressor: nodeCompressor, bytes: (v: Uint8Array) => v, maxInFlightFetches: 8 }, retry: {}, logger: silentLogger } as unknown as ClientContext;
    const reader = new PartitionReader(context, options);
    assert.equal((await reader.read('t', 0, 0n)).via, 'direct');
    refuse = true;
    await assert.rejects(reader.read('t', 0, 0n), (error: unknown) => error instanceof SluiceClientError && error.code === 'INVALID_REQUEST');
  });
});
