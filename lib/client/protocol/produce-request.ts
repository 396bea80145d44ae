/**
 * Produce request bodies: records -> Kafka RecordBatch v2 (compressed once, as a whole batch) ->
 * `application/vnd.sluice.batches` framing (the contract's codec, lib/api/sluice-batches.ts, whose
 * grammar is at its top):
 *
 *   body = 1*(partition:int32be length:int32be batches)     each partition at most once
 *
 * The body is built once and kept as is for every retry: the server recognises a retry by the same
 * Idempotency-Key with the same bytes.
 */
import { encodeSluiceBatches } from '../../api/sluice-batches.ts';
import type { Codec, Compressor } from '../../protocol/codecs.ts';
import { assembleRecordBatch, batchMeta, encodeRecordsSection, type ProducerRecord as BatchRecord } from '../../protocol/record-batch-core.ts';

export interface RequestSection {
  readonly partition: number;
  /** One RecordBatch per inner array, in order. */
  readonly batches: ReadonlyArray<readonly BatchRecord[]>;
}

export interface EncodeOptions {
  readonly codec: Codec;
  readonly compressor: Compressor;
  readonly level?: number;
}

/**
 * One batch: the records section is compressed as a whole; when that does not make it smaller (tiny
 * or incompressible batches) the batch goes uncompressed, which is what a reader would prefer too.
 */
export async function encodeBatch(records: readonly BatchRecord[], options: EncodeOptions): Promise<Uint8Array> {
  const meta = batchMeta(records, 'none');
  const section = encodeRecordsSection(records, meta.baseTimestamp);
  if (options.codec === 'none') return assembleRecordBatch(section, meta);
  const compressed = await options.compressor.compress(options.codec, section, options.level === undefined ? undefined : { level: options.level });
  if (compressed.length >= section.length) return assembleRecordBatch(section, meta);
  return assembleRecordBatch(compressed, { ...meta, codec: options.codec });
}

/** Encodes and frames a whole request. Batches are compressed one after another. */
export async function encodeProduceRequest(sections: readonly RequestSection[], options: EncodeOptions): Promise<Uint8Array> {
  const encoded: Array<{ partition: number; batches: Uint8Array[] }> = [];
  for (const section of sections) {
    const batches: Uint8Array[] = [];
    for (const records of section.batches) batches.push(await encodeBatch(records, options));
    encoded.push({ partition: section.partition, batches });
  }
  return encodeSluiceBatches(encoded);
}
