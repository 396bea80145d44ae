/**
 * The benchmark's data: deterministic JSON-like events of about 1 KiB (a seeded PRNG, so every run
 * produces the same bytes and the same counts), encoded as zstd RecordBatches the way the SDK does:
 * one batch per partition per request, compressed once.
 *
 * An event mixes repetitive structure (field names, enum values, URLs), which compresses well, with
 * random ids and an opaque token, which does not; zstd shrinks it about 3-4x.
 */
import { BATCH_HEADER_SIZE, assembleRecordBatch, batchMeta, encodeRecordsSection, type ProducerRecord } from '../lib/protocol/record-batch.ts';
import { compress } from '../lib/protocol/compression.ts';
import { encodeSluiceBatches } from '../lib/api/sluice-batches.ts';
import { seededRandom } from '../test/support/random.ts';

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

/** One encoded batch, with the size the same records would have uncompressed. */
export interface EncodedBatch {
  readonly bytes: Uint8Array;
  readonly recordCount: number;
  /** Size of the same batch with codec none: the "raw" bytes a producer hands over. */
  readonly rawBytes: number;
}

const EVENT_TYPES = ['page_view', 'product_view', 'search', 'add_to_cart', 'checkout_started', 'purchase', 'login'];
const CATEGORIES = ['shoes', 'jackets', 'kitchen', 'garden', 'books', 'toys', 'audio', 'cameras', 'lighting', 'sports'];
const REFERRERS = ['https://www.google.com/', 'https://www.bing.com/', 'https://news.example.org/', '', 'https://mail.example.com/'];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'JP', 'BR', 'IN', 'NL'];
const LANGUAGES = ['en-US', 'de-DE', 'fr-FR', 'ja-JP', 'pt-BR'];
const EPOCH_MS = 1_764_000_000_000;
const TOKEN_BYTES = 150;


class EventSource {
  readonly #random: () => number;
  #sequence = 0;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  /** The next event as a JSON object (for the JSON produce route) keyed by its user id. */
  nextEvent(): { key: string; value: Record<string, unknown> } {
    const sequence = this.#sequence++;
    const userId = `user-${this.#int(200_000)}`;
    const category = this.#pick(CATEGORIES);
    return {
      key: userId,
      value: {
        type: this.#pick(EVENT_TYPES),
        eventId: this.#hex(4),
        sequence,
        timestamp: EPOCH_MS + sequence * 7,
        userId,
        sessionId: this.#hex(2),
        page: {
          url: `https://shop.example.com/${category}/product-${this.#int(50_000)}?utm_source=newsletter&utm_medium=email`,
          referrer: this.#pick(REFERRERS),
          title: `${category} - Example Shop`,
        },
        device: { userAgent: this.#pick(USER_AGENTS), screen: '1920x1080', language: this.#pick(LANGUAGES) },
        geo: { country: this.#pick(COUNTRIES), region: `region-${this.#int(40)}` },
        cart: Array.from({ length: 1 + this.#int(4) }, () => ({
          sku: `SKU-${category.toUpperCase()}-${this.#int(10_000)}`,
          quantity: 1 + this.#int(3),
          priceCents: 199 + this.#int(20_000),
          currency: 'EUR',
        })),
        experiments: { checkoutV2: this.#random() < 0.5, recommendations: this.#pick(['control', 'variant-a', 'variant-b']) },
        token: this.#token(),
      },
    };
  }

  /** The next event as a producer record (UTF-8 key and JSON value). */
  nextRecord(): ProducerRecord {
    const { key, value } = this.nextEvent();
    return { key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)), timestamp: value.timestamp as number };
  }

  /** Records whose uncompressed batch is about `targetRawBytes`, zstd-compressed into one batch. */
  nextBatch(targetRawBytes: number): EncodedBatch {
    const records: ProducerRecord[] = [];
    let estimate = BATCH_HEADER_SIZE;
    while (estimate < targetRawBytes) {
      const record = this.nextRecord();
      records.push(record);
      estimate += record.key!.length + record.value!.length + 12;
    }
    const meta = batchMeta(records, 'zstd');
    const section = encodeRecordsSection(records, meta.baseTimestamp);
    return { bytes: assembleRecordBatch(compress('zstd', section), meta), recordCount: records.length, rawBytes: BATCH_HEADER_SIZE + section.length };
  }

  #int(below: number): number {
    return Math.floor(this.#random() * below);
  }

  #pick<T>(values: readonly T[]): T {
    return values[this.#int(values.length)];
  }

  #hex(words: number): string {
    let out = '';
    for (let i = 0; i < words; i++) out += Math.floor(this.#random() * 4294967296).toString(16).padStart(8, '0');
    return out;
  }

  #token(): string {
    const bytes = Buffer.allocUnsafe(TOKEN_BYTES);
    for (let i = 0; i < TOKEN_BYTES; i++) bytes[i] = this.#int(256);
    return bytes.toString('base64url');
  }
}

/** One produce request: a batch for each partition it writes to, as the SDK would send it. */
export interface ProduceRequest {
  readonly sections: ReadonlyArray<{ readonly partition: number; readonly batch: EncodedBatch }>;
  readonly recordCount: number;
  readonly rawBytes: number;
  /** The ingest object this request becomes: its batches back to back. */
  readonly storedBytes: number;
}

export interface ProducePlanOptions {
  readonly totalRawBytes: number;
  readonly requestRawBytes: number;
  readonly partitions: number;
  /** How many partitions each request carries a batch for (at most `partitions`). */
  readonly partitionsPerRequest: number;
  /**
   * Distinct data generated, then reused round robin. Bounds memory and set-up time; the server does
   * the same work whether or not bytes repeat across requests (nothing is deduplicated).
   */
  readonly distinctRawBytes: number;
  readonly seed: number;
}

/** Requests in send order; consecutive batches go to consecutive partitions. */
export function planProduce(options: ProducePlanOptions): ProduceRequest[] {
  const sectionRawBytes = options.requestRawBytes / options.partitionsPerRequest;
  const requestCount = Math.max(1, Math.round(options.totalRawBytes / options.requestRawBytes));
  const slots = requestCount * options.partitionsPerRequest;
  const source = new EventSource(options.seed);
  const distinct = Math.min(slots, Math.max(1, Math.ceil(options.distinctRawBytes / sectionRawBytes)));
  const pool = Array.from({ length: distinct }, () => source.nextBatch(sectionRawBytes));
  return Array.from({ length: requestCount }, (_, request) => {
    const sections = Array.from({ length: options.partitionsPerRequest }, (_, i) => {
      const slot = request * options.partitionsPerRequest + i;
      return { partition: slot % options.partitions, batch: pool[slot % pool.length] };
    });
    return {
      sections,
      recordCount: sum(sections.map((s) => s.batch.recordCount)),
      rawBytes: sum(sections.map((s) => s.batch.rawBytes)),
      storedBytes: sum(sections.map((s) => s.batch.bytes.length)),
    };
  });
}

/** The `application/vnd.sluice.batches` body of a request. */
export function requestBody(request: ProduceRequest): Uint8Array {
  return encodeSluiceBatches(request.sections.map((s) => ({ partition: s.partition, batches: [s.batch.bytes] })));
}

/** `count` distinct events as producer records: UTF-8 user-id key, JSON value (~1 KiB), event timestamp. */
export function eventRecords(count: number, seed: number): ProducerRecord[] {
  const source = new EventSource(seed);
  return Array.from({ length: count }, () => source.nextRecord());
}

/** JSON produce bodies of `recordsPerRequest` keyed events each, `count` of them, distinct. */
export function jsonProduceBodies(count: number, recordsPerRequest: number, seed: number): string[] {
  const source = new EventSource(seed);
  return Array.from({ length: count }, () => JSON.stringify({ records: Array.from({ length: recordsPerRequest }, () => source.nextEvent()) }));
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
