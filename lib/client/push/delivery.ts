/**
 * Helpers for push-consumer targets (../shared/api-v1.md, "Push consumers"): checking a URL
 * delivery's signature, and a Lambda handler wrapper that answers with `batchItemFailures`. Both run
 * on Node.js and in browsers or edge runtimes (WebCrypto only, no Node import).
 */

/** One record of a delivery, as in the JSON fetch: text where the bytes are UTF-8, else base64. */
export interface DeliveredRecord {
  readonly offset: string;
  readonly timestamp: number;
  readonly key?: string | null;
  readonly keyBase64?: string;
  readonly value?: string | null;
  readonly valueBase64?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly headersBase64?: Readonly<Record<string, string>>;
}

/** A delivery: the body of the POST (URL targets) or the event (Lambda targets). */
export interface DeliveryBatch {
  readonly consumer: string;
  readonly topic: string;
  readonly partition: number;
  /** Names the same records on every attempt: deduplicate on it for exactly-once effects. */
  readonly batchId: string;
  readonly attempt: number;
  readonly records: readonly DeliveredRecord[];
}

/** What a target answers to report that the records from the lowest listed offset on failed. */
export interface BatchResponse {
  readonly batchItemFailures: ReadonlyArray<{ readonly offset: string }>;
}

const encoder = new TextEncoder();

/**
 * True when `signatureHeader` (the `Sluice-Signature` header: `sha256=<hex>`) is the HMAC-SHA256 of
 * exactly `rawBody` under the consumer's secret. Compare the raw bytes received, before any JSON
 * parsing. The comparison is WebCrypto's verify, which does not leak where the bytes differ.
 */
export async function verifyDelivery(secret: string, rawBody: string | Uint8Array, signatureHeader: string | null | undefined): Promise<boolean> {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signatureHeader?.trim() ?? '');
  if (!match || !secret) return false;
  const signature = new Uint8Array(32);
  for (let i = 0; i < 32; i++) signature[i] = Number.parseInt(match[1].slice(i * 2, i * 2 + 2), 16);
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  return crypto.subtle.verify('HMAC', key, signature, body as Uint8Array<ArrayBuffer>);
}

/** Thrown (by `eachRecord` or by you) to say: the records before this offset are done, retry from it. */
export class RecordFailure extends Error {
  readonly offset: string;
  constructor(offset: string, options?: { cause?: unknown }) {
    super(`record ${offset} failed`, options);
    this.name = 'RecordFailure';
    this.offset = offset;
  }
}

/** The batch a handler gets: the delivery, plus `eachRecord` to process its records in order. */
export interface HandlerBatch extends DeliveryBatch {
  /** Runs `fn` for each record in order; the first that throws ends the batch there (a partial failure). */
  eachRecord(fn: (record: DeliveredRecord) => unknown | Promise<unknown>): Promise<void>;
}

/**
 * A Lambda handler for a push consumer's function target. Return nothing when every record is done;
 * return offsets (or throw a RecordFailure) to have the records from the lowest of them on retried;
 * any other error fails the invocation, and the whole batch is retried.
 *
 *   export const handler = sluiceHandler(async (batch) => {
 *     await batch.eachRecord(async (record) => save(JSON.parse(record.value!)));
 *   });
 */
export function sluiceHandler(handle: (batch: HandlerBatch) => Promise<void | readonly string[]>): (event: unknown) => Promise<BatchResponse> {
  return async (event) => {
    const delivery = asDelivery(event);
    const batch: HandlerBatch = {
      ...delivery,
      async eachRecord(fn) {
        for (const record of delivery.records) {
          try {
            await fn(record);
          } catch (error) {
            throw error instanceof RecordFailure ? error : new RecordFailure(record.offset, { cause: error });
          }
        }
      },
    };
    try {
      const failed = (await handle(batch)) ?? [];
      return { batchItemFailures: failed.map((offset) => ({ offset: String(offset) })) };
    } catch (error) {
      if (error instanceof RecordFailure) return { batchItemFailures: [{ offset: error.offset }] };
      throw error;
    }
  };
}

function asDelivery(event: unknown): DeliveryBatch {
  const e = (typeof event === 'string' ? JSON.parse(event) : event) as Partial<DeliveryBatch> | null;
  if (!e || typeof e.batchId !== 'string' || typeof e.topic !== 'string' || !Array.isArray(e.records)) {
    throw new TypeError('not a Sluice delivery: expected {consumer, topic, partition, batchId, attempt, records}');
  }
  return e as DeliveryBatch;
}
