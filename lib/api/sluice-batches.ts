/**
 * `application/vnd.sluice.batches`: the binary produce body. The client encodes it, the server decodes
 * it; this is the only codec of the framing. The server checks each batch's header and CRC-32C
 * (lib/http/sluice-batches.ts) and stores the bytes unchanged, without decompressing them.
 *
 *   body      = 1*section
 *   section   = partition length batches
 *   partition = int32 big-endian          target partition, at most one section per partition
 *   length    = int32 big-endian          byte length of `batches`, > 0
 *   batches   = 1*RecordBatch             Kafka RecordBatch v2 (magic 2), back to back; baseOffset is
 *                                          ignored (the server assigns offsets), lastOffsetDelta must be
 *                                          recordCount - 1, codec none, gzip or zstd, not transactional
 *                                          or control
 *
 * The response is JSON (ProduceBatchesResponse in ./schemas.ts):
 *   {"partitions": [{"partition": 0, "baseOffset": "17", "recordCount": 3}, ...]}
 *
 * Zod-free and without Node.js imports: the browser bundle uses the encoder.
 */

export interface SluiceBatchesSection {
  readonly partition: number;
  /** The section's RecordBatches back to back. */
  readonly batches: Uint8Array;
}

/** The body is not well-formed framing (the server answers 400 INVALID_REQUEST). */
export class SluiceBatchesFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SluiceBatchesFramingError';
  }
}

const SECTION_HEADER_BYTES = 8;

/** Frames encoded batches: per section, its partition, its length and its batches back to back. */
export function encodeSluiceBatches(sections: ReadonlyArray<{ readonly partition: number; readonly batches: readonly Uint8Array[] }>): Uint8Array {
  let total = 0;
  for (const section of sections) {
    total += SECTION_HEADER_BYTES;
    for (const batch of section.batches) total += batch.length;
  }
  const body = new Uint8Array(total);
  const view = new DataView(body.buffer);
  let position = 0;
  for (const section of sections) {
    let length = 0;
    for (const batch of section.batches) length += batch.length;
    view.setInt32(position, section.partition);
    view.setInt32(position + 4, length);
    position += SECTION_HEADER_BYTES;
    for (const batch of section.batches) {
      body.set(batch, position);
      position += batch.length;
    }
  }
  return body;
}

/** The sections of a body, as views into it (no copies). Checks the framing, not the batches. */
export function decodeSluiceBatches(body: Uint8Array): SluiceBatchesSection[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const sections: SluiceBatchesSection[] = [];
  let position = 0;
  while (position < body.length) {
    if (position + SECTION_HEADER_BYTES > body.length) throw new SluiceBatchesFramingError(`truncated section header at byte ${position}`);
    const partition = view.getInt32(position);
    const length = view.getInt32(position + 4);
    position += SECTION_HEADER_BYTES;
    if (length <= 0 || position + length > body.length) throw new SluiceBatchesFramingError(`section for partition ${partition} has a bad length ${length}`);
    sections.push({ partition, batches: body.subarray(position, position + length) });
    position += length;
  }
  if (sections.length === 0) throw new SluiceBatchesFramingError('empty body');
  return sections;
}
