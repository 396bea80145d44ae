/**
 * Errors raised by the wire-format code. Kept in their own module so that the varint, compression and
 * record-batch modules can all throw them without import cycles; record-batch.ts and compression.ts
 * re-export them.
 */

/** The bytes are not a well-formed Kafka RecordBatch v2: truncated, wrong magic, bad CRC, bad varint, ... */
export class CorruptBatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptBatchError';
  }
}

/** A records section inflates past the decompression limit it was given (a decompression bomb, or a limit too small). */
export class InflatedTooLargeError extends CorruptBatchError {
  readonly maxOutputLength: number;
  constructor(codec: string, maxOutputLength: number, options?: { cause?: unknown }) {
    super(`the ${codec} records section inflates past ${maxOutputLength} bytes`, options);
    this.name = 'InflatedTooLargeError';
    this.maxOutputLength = maxOutputLength;
  }
}

/** The batch (or caller) asks for a codec this build cannot (de)compress: snappy and lz4 for now. */
export class UnsupportedCodecError extends Error {
  readonly codec: string;
  constructor(codec: string, message = `compression codec '${codec}' is not supported`) {
    super(message);
    this.name = 'UnsupportedCodecError';
    this.codec = codec;
  }
}

/** A produced batch is well formed but goes past a limit of the request (records, record size, headers). */
export class IngestLimitError extends Error {
  readonly limit: 'records' | 'recordBytes' | 'headers';
  readonly max: number;
  constructor(limit: IngestLimitError['limit'], message: string, max: number) {
    super(message);
    this.name = 'IngestLimitError';
    this.limit = limit;
    this.max = max;
  }
}
