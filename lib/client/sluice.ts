/**
 * The client object: holds the endpoint, the API key and the shared settings, and makes producers,
 * consumers and admin clients (KafkaJS's `new Kafka(...)`). The entry points (index.ts for Node,
 * browser.ts) bind it to their runtime: compression and how consumed bytes are handed out.
 */
import { Admin } from './admin/admin.ts';
import { Consumer, type ConsumerOptions } from './consumer/consumer.ts';
import { defaultLogger, type ClientContext, type ClientRuntime } from './context.ts';
import { HttpTransport, type FetchFunction } from './network/http.ts';
import { SluiceApi } from './protocol/api.ts';
import { Producer, type ProducerOptions } from './producer/producer.ts';
import { retryPolicy, type RetryOptions } from './retry/retry.ts';
import { tailIterator, type TailOptions, type TailRecord } from './tail/tail.ts';
import type { Logger } from './types.ts';

export interface SluiceOptions {
  /** The API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com or http://127.0.0.1:8787 */
  readonly endpoint: string;
  /**
   * Base URL for produce requests only: the construct's `produceUrl` (a Lambda Function URL, no
   * per-request fee) when the deployment has `produceFunctionUrl`. @default endpoint
   */
  readonly produceEndpoint?: string;
  /** An API key (`sluice_...`), sent as `Authorization: Bearer <key>`. */
  readonly apiKey: string;
  /** Per request, in ms; a long poll gets its maxWaitMs on top. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Retries of retriable errors (THROTTLED, INTERNAL, UNAVAILABLE, network errors, timeouts). @default { retries: 8, initialRetryMs: 100, maxRetryMs: 5000, multiplier: 2 } */
  readonly retry?: RetryOptions;
  /** Where the client reports retries (warn) and crashes (error). @default errors to console.error, nothing else */
  readonly logger?: Logger;
  /**
   * A fetch implementation for every request. @default on Node, node:http / node:https with
   * keep-alive agents (globalThis.fetch for the live tail's stream); in browsers globalThis.fetch
   */
  readonly fetch?: FetchFunction;
  /**
   * Base URL of the live tail (Server-Sent Events) when it is not `endpoint`: in AWS the stack's
   * `TailUrl` (a Function URL). Without it, tail() tries `endpoint` and long-polls where it has none.
   * @default endpoint
   */
  readonly tailEndpoint?: string;
}

export const CLIENT_DEFAULTS = { requestTimeoutMs: 30_000 } as const;

export class SluiceClient {
  readonly #context: ClientContext;

  constructor(options: SluiceOptions, runtime: ClientRuntime) {
    if (!options || typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
      throw new TypeError('new Sluice({ endpoint, apiKey }): apiKey is required');
    }
    const requestTimeoutMs = options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs;
    if (!(requestTimeoutMs > 0)) throw new RangeError(`requestTimeoutMs must be > 0, got ${requestTimeoutMs}`);
    const http = new HttpTransport({ endpoint: options.endpoint, tailEndpoint: options.tailEndpoint, apiKey: options.apiKey, fetch: options.fetch, request: runtime.request, requestTimeoutMs });
    const produceHttp = options.produceEndpoint === undefined ? http : new HttpTransport({ endpoint: options.produceEndpoint, apiKey: options.apiKey, fetch: options.fetch, request: runtime.request, requestTimeoutMs });
    this.#context = { api: new SluiceApi(http, produceHttp), runtime, retry: retryPolicy(options.retry), logger: options.logger ?? defaultLogger };
  }

  producer(options?: ProducerOptions): Producer {
    return new Producer(this.#context, options);
  }

  consumer(options?: ConsumerOptions): Consumer {
    return new Consumer(this.#context, options);
  }

  admin(): Admin {
    return new Admin(this.#context);
  }

  /**
   * The records of one partition as they arrive, from `fromOffset` (default: only new ones), over the
   * live tail's Server-Sent Events or, where there are none, long polls. End it with `break`, the
   * iterator's return() or `signal`.
   *
   *   for await (const record of sluice.tail('orders', 0, { fromOffset: 'earliest' })) console.log(record.offset, record.value);
   */
  tail(topic: string, partition: number, options?: TailOptions): AsyncGenerator<TailRecord, void, undefined> {
    return tailIterator(this.#context, topic, partition, options);
  }
}
