/** The few Sluice HTTP API calls the benchmark makes, with global fetch (keep-alive). */
import { MEDIA_KAFKA_BATCHES, MEDIA_SLUICE_BATCHES } from '../lib/api/media-types.ts';
import { readBatchHeader } from '../lib/protocol/record-batch.ts';

export interface FetchedBatches {
  readonly records: number;
  readonly bytes: number;
  readonly nextOffset: bigint;
}

export class ApiClient {
  readonly #baseUrl: string;
  readonly #authorization: string;

  constructor(baseUrl: string, apiKey: string) {
    this.#baseUrl = baseUrl;
    this.#authorization = `Bearer ${apiKey}`;
  }

  /** Retention off: the workload's timestamps are fixed and old, and the server's maintenance timer runs. */
  async createTopic(name: string, partitions: number): Promise<void> {
    await this.#call('POST', '/v1/topics', JSON.stringify({ name, partitions, config: { retentionMs: -1 } }), { 'content-type': 'application/json' });
  }

  /** Each partition's end offset (high watermark). */
  async endOffsets(topic: string): Promise<bigint[]> {
    const response = await this.#call('GET', `/v1/topics/${topic}`);
    const body = (await response.json()) as { partitions: Array<{ endOffset: string }> };
    return body.partitions.map((p) => BigInt(p.endOffset));
  }

  async produceBatches(topic: string, body: Uint8Array): Promise<void> {
    const response = await this.#call('POST', `/v1/topics/${topic}/records`, body as Uint8Array<ArrayBuffer>, { 'content-type': MEDIA_SLUICE_BATCHES });
    await response.arrayBuffer();
  }

  async produceJson(topic: string, body: string): Promise<void> {
    const response = await this.#call('POST', `/v1/topics/${topic}/records`, body, { 'content-type': 'application/json' });
    await response.arrayBuffer();
  }

  /** Kafka RecordBatches from `offset`; checks that they start there and counts their records. */
  async fetchBatches(topic: string, partition: number, offset: bigint, maxBytes: number): Promise<FetchedBatches> {
    const response = await this.#call('GET', recordsPath(topic, partition, offset, maxBytes), undefined, { accept: MEDIA_KAFKA_BATCHES });
    const body = new Uint8Array(await response.arrayBuffer());
    let records = 0;
    for (let position = 0; position < body.length; ) {
      const header = readBatchHeader(body, position);
      if (position === 0 && header.baseOffset !== offset) throw new Error(`fetch at ${offset} returned a batch at ${header.baseOffset}`);
      records += header.recordCount;
      position += header.totalSize;
    }
    return { records, bytes: body.length, nextOffset: BigInt(response.headers.get('sluice-next-offset') ?? offset) };
  }

  /** JSON records from `offset`, parsed as a client would. */
  async fetchJson(topic: string, partition: number, offset: bigint, maxBytes: number): Promise<FetchedBatches> {
    const response = await this.#call('GET', recordsPath(topic, partition, offset, maxBytes));
    const text = await response.text();
    const body = JSON.parse(text) as { records: unknown[]; nextOffset: string };
    return { records: body.records.length, bytes: Buffer.byteLength(text), nextOffset: BigInt(body.nextOffset) };
  }

  async #call(method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(this.#baseUrl + path, { method, body, headers: { authorization: this.#authorization, ...headers } });
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response;
  }
}

function recordsPath(topic: string, partition: number, offset: bigint, maxBytes: number): string {
  return `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxBytes=${maxBytes}`;
}
