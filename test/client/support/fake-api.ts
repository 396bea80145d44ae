/**
 * An in-memory stand-in for the produce side of the API, served through the client's `fetch` option
 * (no sockets): topics, binary produce with Idempotency-Key dedupe, and hooks to delay answers and
 * inject failures. The body is parsed with the server's own parser, so framing mistakes show up here.
 */
import { createHash } from 'node:crypto';
import { parseSluiceBatches } from '../../../lib/http/sluice-batches.ts';
import { decodeRecordBatch, iterateBatches, type BatchHeader, type DecodedRecord } from '../../../lib/protocol/record-batch.ts';
import type { FetchFunction } from '../../../lib/client/network/http.ts';

export interface ProduceCall {
  readonly topic: string;
  readonly body: Uint8Array;
  readonly idempotencyKey: string | undefined;
  /** The Sluice-Attempt header: 1 for the first attempt. */
  readonly attempt: string | undefined;
  /** Partitions in the request, with their batch headers. */
  readonly sections: ReadonlyArray<{ partition: number; headers: BatchHeader[]; recordCount: number }>;
  /** True when this call appended (not a dedupe hit and not failed before applying). */
  applied: boolean;
}

/** What to do with a produce call: answer normally, fail before applying, or apply and then drop the answer. */
export type Fault = 'none' | { status: number; code: string; retryAfter?: string } | 'apply-then-drop' | 'network';

export class FakeApi {
  readonly topics = new Map<string, { partitions: number; logs: DecodedRecord[][] }>();
  readonly calls: ProduceCall[] = [];
  readonly #idempotency = new Map<string, { fingerprint: string; response: string }>();
  /** Decides the fate of each produce call (default: none). */
  fault: (call: ProduceCall, index: number) => Fault = () => 'none';
  /** Awaited before answering a produce call (to hold requests in flight). */
  delay: (call: ProduceCall) => Promise<void> = async () => {};
  inFlight = 0;
  maxInFlight = 0;
  readonly inFlightPartitions = new Set<string>();
  /** Set when two requests for one partition were in flight at once. */
  overlap = false;

  createTopic(name: string, partitions: number): void {
    this.topics.set(name, { partitions, logs: Array.from({ length: partitions }, () => []) });
  }

  readonly fetch: FetchFunction = async (url, init) => {
    const { pathname } = new URL(url);
    const method = init.method ?? 'GET';
    const headers = new Headers(init.headers as HeadersInit);
    if (method === 'GET' && pathname === '/v1/topics') {
      return json(200, { topics: [...this.topics].map(([name, t]) => ({ name, partitions: t.partitions })) });
    }
    const describe = /^\/v1\/topics\/([^/]+)$/.exec(pathname);
    if (method === 'GET' && describe) {
      const topic = this.topics.get(decodeURIComponent(describe[1]));
      if (!topic) return json(404, { error: { code: 'TOPIC_NOT_FOUND', message: 'no such topic' } });
      return json(200, {
        name: describe[1],
        config: {},
        partitions: topic.logs.map((log, partition) => ({ partition, startOffset: '0', endOffset: String(log.length) })),
      });
    }
    const produce = /^\/v1\/topics\/([^/]+)\/records$/.exec(pathname);
    if (method === 'POST' && produce) return this.#produce(decodeURIComponent(produce[1]), headers, init.body as Uint8Array);
    return json(404, { error: { code: 'NOT_FOUND', message: `${method} ${pathname}` } });
  };

  async #produce(name: string, headers: Headers, body: Uint8Array): Promise<Response> {
    const topic = this.topics.get(name);
    if (!topic) return json(404, { error: { code: 'TOPIC_NOT_FOUND', message: 'no such topic' } });
    const appends = parseSluiceBatches(body);
    const call: ProduceCall = {
      topic: name,
      body: body.slice(),
      idempotencyKey: headers.get('idempotency-key') ?? undefined,
      attempt: headers.get('sluice-attempt') ?? undefined,
      sections: appends.map((a) => ({ partition: a.partition, headers: [...iterateBatches(a.data, { verify: true })].map((b) => b.header), recordCount: a.recordCount })),
      applied: false,
    };
    const index = this.calls.push(call) - 1;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const keys = appends.map((a) => `${name}/${a.partition}`);
    for (const key of keys) {
      if (this.inFlightPartitions.has(key)) this.overlap = true;
      this.inFlightPartitions.add(key);
    }
    try {
      await this.delay(call);
      const fault = this.fault(call, index);
      if (fault === 'network') throw new TypeError('fetch failed (injected)');
      if (typeof fault === 'object') {
        return json(fault.status, { error: { code: fault.code, message: 'injected' } }, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
      }
      const fingerprint = createHash('sha256').update(body).digest('hex');
      let response: string;
      const remembered = call.idempotencyKey === undefined ? undefined : this.#idempotency.get(call.idempotencyKey);
      if (remembered) {
        if (remembered.fingerprint !== fingerprint) return json(422, { error: { code: 'IDEMPOTENCY_KEY_REUSED', message: 'other body' } });
        response = remembered.response;
      } else {
        const partitions = appends.map((a) => {
          const log = topic.logs[a.partition];
          const baseOffset = log.length;
          for (const { position } of iterateBatches(a.data)) for (const record of decodeRecordBatch(a.data, position).records) log.push(record);
          return { partition: a.partition, baseOffset: String(baseOffset), recordCount: a.recordCount };
        });
        call.applied = true;
        response = JSON.stringify({ partitions });
        if (call.idempotencyKey !== undefined) this.#idempotency.set(call.idempotencyKey, { fingerprint, response });
      }
      if (fault === 'apply-then-drop') throw new TypeError('fetch failed: other side closed (injected)');
      return new Response(response, { status: 200, headers: { 'content-type': 'application/json' } });
    } finally {
      this.inFlight--;
      for (const key of keys) this.inFlightPartitions.delete(key);
    }
  }

  /** Every record appended to a partition, in offset order, values as text. */
  values(topic: string, partition: number): string[] {
    return this.topics.get(topic)!.logs[partition].map((r) => new TextDecoder().decode(r.value!));
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Resolves when released: hold produce answers until the test lets them go. */
export class Gate {
  #open = false;
  #waiters: Array<() => void> = [];
  wait(): Promise<void> {
    if (this.#open) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  open(): void {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }
}

export const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
