/**
 * The few Sluice HTTP API calls the benchmark makes, over node:http with a keep-alive agent (or global
 * fetch, `transport: 'fetch'`). The client shares the server's process and thread in the benches, so
 * its own cost is charged to Sluice: a CPU profile of 16 producers sending 16 KiB requests put a third
 * of the thread's time in fetch (undici's request and response streams), node:http costs a fraction.
 */
import { Agent, request as httpRequest } from 'node:http';
import { MEDIA_KAFKA_BATCHES, MEDIA_SLUICE_BATCHES } from '../lib/api/media-types.ts';
import { readBatchHeader } from '../lib/protocol/record-batch.ts';

export interface FetchedBatches {
  readonly records: number;
  readonly bytes: number;
  readonly nextOffset: bigint;
}

/** What the calls below read of an answer. */
interface Answer {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

export type ApiTransport = 'node:http' | 'fetch';

export class ApiClient {
  readonly #baseUrl: string;
  readonly #authorization: string;
  readonly #transport: ApiTransport;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(baseUrl: string, apiKey: string, transport: ApiTransport = 'node:http') {
    this.#baseUrl = baseUrl;
    this.#authorization = `Bearer ${apiKey}`;
    this.#transport = transport;
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

  async #call(method: string, path: string, body?: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Answer> {
    const allHeaders = { authorization: this.#authorization, ...headers };
    const response = this.#transport === 'fetch' ? await fetch(this.#baseUrl + path, { method, body, headers: allHeaders }) : await this.#viaNodeHttp(method, path, body, allHeaders);
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response;
  }

  #viaNodeHttp(method: string, path: string, body: string | Uint8Array | undefined, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      const request = httpRequest(new URL(path, this.#baseUrl), { method, agent: this.#agent, headers: { ...headers, 'content-length': String(bytes?.length ?? 0) } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          const status = response.statusCode ?? 0;
          resolve({
            ok: status >= 200 && status < 300,
            status,
            headers: { get: (name) => (response.headers[name.toLowerCase()] as string | undefined) ?? null },
            json: async () => JSON.parse(whole.toString('utf8')),
            arrayBuffer: async () => whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.length) as ArrayBuffer,
            text: async () => whole.toString('utf8'),
          });
        });
      });
      request.on('error', reject);
      request.end(bytes);
    });
  }
}

function recordsPath(topic: string, partition: number, offset: bigint, maxBytes: number): string {
  return `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxBytes=${maxBytes}`;
}
