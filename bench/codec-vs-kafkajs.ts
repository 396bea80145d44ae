/**
 * Section 3: Sluice's RecordBatch code against KafkaJS's (kafkajs/src/protocol/recordBatch/v0), on the
 * same records in the same run: encode (records -> uncompressed batch bytes) and decode (batch bytes
 * -> records with offsets, keys, values, headers). Codec none on both sides, so the numbers measure
 * the format code itself; compression is zlib's work whichever library calls it.
 *
 * KafkaJS's encode is timed from the record objects its producer builds (Record() per record, then
 * RecordBatch()); Sluice's from ProducerRecords (encodeRecordBatch). Both get the same key, value and
 * header bytes (Buffers), and both produce byte-identical batches (test/protocol/kafkajs-interop).
 * Rounds alternate between the two so both see the same neighbours; each side keeps its median round.
 * The `events` case is the 1 KiB one (key + value average ~1,015 B).
 */
import { decodeRecordBatch, encodeRecordBatch, type ProducerRecord } from '../lib/protocol/record-batch.ts';
import { median } from './stats.ts';
import { eventRecords } from './workload.ts';
import { kafkajsDecode, kafkajsEncode } from '../test/support/kafkajs.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface CodecSettings {
  /** Records per batch. */
  readonly batchRecords: number;
  /** Alternating rounds per measurement; the median of each side counts. */
  readonly rounds: number;
  /** Minimum time per round, in ms. */
  readonly roundMs: number;
}

export interface CodecRate {
  readonly recordsPerSecond: number;
  readonly mibPerSecond: number;
}

export interface CodecCase {
  readonly name: string;
  readonly description: string;
  readonly recordBytes: number;
  readonly batchBytes: number;
  readonly encode: { readonly sluice: CodecRate; readonly kafkajs: CodecRate; readonly ratio: number };
  readonly decode: { readonly sluice: CodecRate; readonly kafkajs: CodecRate; readonly ratio: number };
}

const MIB = 1024 * 1024;

function withHeaders(records: ProducerRecord[]): ProducerRecord[] {
  return records.map((r, i) => ({ ...r, headers: [{ key: 'content-type', value: Buffer.from('application/json') }, { key: 'trace-id', value: Buffer.from(`t-${i}`) }] }));
}

/** Small records: ~60-byte JSON values, the shape where per-record overhead dominates. */
function smallRecords(count: number): ProducerRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`user-${i % 1000}`),
    value: Buffer.from(JSON.stringify({ type: 'click', n: i, x: (i * 7919) % 1280, y: (i * 104729) % 720, ts: 1_764_000_000_000 + i })),
    headers: [],
    timestamp: 1_764_000_000_000 + i,
  }));
}

/** Calls work until roundMs have passed; returns operations per second. */
async function round(work: () => unknown, roundMs: number): Promise<number> {
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    const result = work();
    if (result instanceof Promise) await result;
    operations++;
    elapsed = performance.now() - start;
  } while (elapsed < roundMs);
  return (operations * 1000) / elapsed;
}

/** The median round of each side (not the best: a best-of hides the neighbours). */
async function compare(sluice: () => unknown, kafkajs: () => unknown, settings: CodecSettings): Promise<{ sluice: number; kafkajs: number }> {
  const rounds = { sluice: [] as number[], kafkajs: [] as number[] };
  await round(sluice, 50); // warm up both
  await round(kafkajs, 50);
  for (let i = 0; i < settings.rounds; i++) {
    rounds.sluice.push(await round(sluice, settings.roundMs));
    rounds.kafkajs.push(await round(kafkajs, settings.roundMs));
  }
  return { sluice: median(rounds.sluice), kafkajs: median(rounds.kafkajs) };
}

async function measureCase(name: string, description: string, records: ProducerRecord[], settings: CodecSettings): Promise<CodecCase> {
  const ours = encodeRecordBatch(records);
  const theirs = await kafkajsEncode(records);
  if (!Buffer.from(ours).equals(theirs)) throw new Error(`${name}: Sluice and KafkaJS encode different bytes`);
  const recordBytes = records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0) / records.length;
  const batch = Buffer.from(ours);
  let sink = 0;
  const encode = await compare(
    () => (sink += encodeRecordBatch(records).length),
    async () => (sink += (await kafkajsEncode(records)).length),
    settings,
  );
  const decode = await compare(
    () => (sink += decodeRecordBatch(batch).records.length),
    async () => (sink += (await kafkajsDecode(batch)).records.length),
    settings,
  );
  if (sink === 0) throw new Error('unreachable');
  const rate = (batchesPerSecond: number): CodecRate => ({
    recordsPerSecond: batchesPerSecond * records.length,
    mibPerSecond: (batchesPerSecond * batch.length) / MIB,
  });
  return {
    name,
    description,
    recordBytes,
    batchBytes: batch.length,
    encode: { sluice: rate(encode.sluice), kafkajs: rate(encode.kafkajs), ratio: encode.sluice / encode.kafkajs },
    decode: { sluice: rate(decode.sluice), kafkajs: rate(decode.kafkajs), ratio: decode.sluice / decode.kafkajs },
  };
}

export async function runCodecBench(settings: CodecSettings): Promise<CodecCase[]> {
  const events = eventRecords(settings.batchRecords, 11);
  return [
    await measureCase('events', `JSON events (~1 KiB), key, no headers, ${settings.batchRecords} per batch`, events, settings),
    await measureCase('events+headers', `the same events with 2 headers each`, withHeaders(events), settings),
    await measureCase('small', `~60 B JSON values, key, no headers, ${settings.batchRecords} per batch`, smallRecords(settings.batchRecords), settings),
  ];
}

if (import.meta.main) {
  for (const c of await runCodecBench({ batchRecords: 1000, rounds: 3, roundMs: 300 })) {
    console.log(c.name, 'encode', c.encode.ratio.toFixed(1), 'x', Math.round(c.encode.sluice.recordsPerSecond), Math.round(c.encode.kafkajs.recordsPerSecond), ' decode', c.decode.ratio.toFixed(1), 'x', Math.round(c.decode.sluice.recordsPerSecond), Math.round(c.decode.kafkajs.recordsPerSecond));
  }
}
