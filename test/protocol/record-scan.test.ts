/**
 * scanRecordsSection (what ingest validation walks) against decodeRecordsSection (what readers
 * decode): on valid sections it reports what the decoder builds, and on any corruption of their bytes
 * the two accept or refuse together.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeRecordsSection,
  encodeRecordsSection,
  readBatchHeader,
  scanRecordsSection,
  assembleRecordBatch,
  CorruptBatchError,
  type BatchHeader,
  type ProducerRecord,
} from '../../lib/protocol/record-batch-core.ts';

const BASE = 1_764_000_000_000;
const bytes = fc.uint8Array({ maxLength: 40 });
const record: fc.Arbitrary<ProducerRecord> = fc.record({
  key: fc.option(bytes, { nil: null }),
  value: fc.option(bytes, { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: fc.option(bytes, { nil: null }) }), { maxLength: 4 }),
  timestamp: fc.integer({ min: BASE - 1000, max: BASE + 100_000 }),
});

function headerOf(section: Uint8Array, records: readonly ProducerRecord[], count = records.length): BatchHeader {
  const timestamps = records.map((r) => r.timestamp);
  const batch = assembleRecordBatch(section, {
    recordCount: count,
    lastOffsetDelta: count - 1,
    baseTimestamp: BASE,
    maxTimestamp: timestamps.length ? Math.max(...timestamps) : BASE,
    codec: 'none',
  });
  return readBatchHeader(batch);
}

type Facts = Array<[number, number, number, number]>;

function scanned(section: Uint8Array, header: BatchHeader): Facts | CorruptBatchError {
  const facts: Facts = [];
  try {
    scanRecordsSection(section, 0, section.length, header, (i, offsetDelta, timestamp, headerCount, size) => facts.push([offsetDelta, timestamp, headerCount, size]));
    return facts;
  } catch (error) {
    if (error instanceof CorruptBatchError) return error;
    throw error;
  }
}

function decoded(section: Uint8Array, header: BatchHeader): Facts | CorruptBatchError {
  try {
    return decodeRecordsSection(section, 0, section.length, header).map((r) => [
      Number(r.offset - header.baseOffset),
      r.timestamp,
      r.headers.length,
      (r.key?.length ?? 0) + (r.value?.length ?? 0) + r.headers.reduce((n, h) => n + new TextEncoder().encode(h.key).length + (h.value?.length ?? 0), 0),
    ]);
  } catch (error) {
    if (error instanceof CorruptBatchError) return error;
    throw error;
  }
}

describe('scanRecordsSection', () => {
  it('reports, record by record, what decodeRecordsSection builds', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), (records) => {
        const section = encodeRecordsSection(records, BASE);
        const header = headerOf(section, records);
        assert.deepEqual(scanned(section, header), decoded(section, header));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses exactly what the decoder refuses: flipped, cut or extended bytes and wrong counts', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -2, max: 2 }),
        fc.integer({ min: -1, max: 1 }),
        (records, flips, cut, countChange) => {
          const encoded = encodeRecordsSection(records, BASE);
          let section = new Uint8Array(encoded);
          for (const [at, byte] of flips) section[at % section.length] = byte;
          if (cut < 0) section = section.subarray(0, Math.max(0, section.length + cut));
          if (cut > 0) section = Uint8Array.from([...section, ...new Array(cut).fill(0)]);
          const header = { ...headerOf(encoded, records), recordCount: Math.max(1, records.length + countChange) };
          const a = scanned(section, header);
          const b = decoded(section, header);
          if (a instanceof CorruptBatchError || b instanceof CorruptBatchError) {
            assert.ok(a instanceof CorruptBatchError && b instanceof CorruptBatchError, `scan: ${a instanceof Error ? a.message : 'ok'}, decode: ${b instanceof Error ? b.message : 'ok'}`);
            assert.equal(a.message, b.message);
          } else {
            // sizes agree only on valid UTF-8 header keys: the decoder's strings hold U+FFFD for
            // broken bytes, the scan counts the bytes themselves (what a record really carries)
            const withoutSize = (facts: Facts) => facts.map(([delta, timestamp, headers]) => [delta, timestamp, headers]);
            assert.deepEqual(withoutSize(a), withoutSize(b));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
