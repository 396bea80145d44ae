/**
 * HTTP through one exchange function (RequestFunction): the runtime's (node:http on Node, see
 * node-request.ts), or fetch (the browser's, or the user's `fetch` option, which always wins).
 * Here: authentication, timeouts, and every failure turned into a SluiceClientError whose
 * `retriable` says whether to try again. The live tail's stream (openStream) always uses fetch.
 * Retrying is the caller's decision (retry/retry.ts): a produce retry must resend the same bytes with
 * the same Idempotency-Key, which only the producer knows.
 */
import { MEDIA_JSON } from '../../api/media-types.ts';
import { SluiceClientError, type ErrorCode } from '../errors.ts';

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** Response headers, read by name (case-insensitive). */
export interface AnswerHeaders {
  get(name: string): string | null;
}

/** One whole HTTP exchange: the answer with its body read to the end. */
export interface RawAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: AnswerHeaders;
  readonly bytes: Uint8Array;
}

export interface RequestInitLite {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /** Aborting rejects the exchange (the transport's timeout and the caller's signal use it). */
  readonly signal: AbortSignal;
}

/** Sends one request and reads the whole answer; rejects on network failure or abort. */
export type RequestFunction = (url: string, init: RequestInitLite) => Promise<RawAnswer>;

/** A RequestFunction over a fetch implementation. */
export function fetchRequest(fetch: FetchFunction): RequestFunction {
  return async (url, init) => {
    const response = await fetch(url, { method: init.method, headers: init.headers, body: init.body as BodyInit | undefined, signal: init.signal });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, statusText: response.statusText, headers: response.headers, bytes };
  };
}

export interface HttpOptions {
  /** Base URL of the API, e.g. https://abc.execute-api.eu-west-1.amazonaws.com */
  readonly endpoint: string;
  readonly apiKey?: string;
  /** Base URL of streamed routes (the live tail) when not `endpoint`. @default endpoint */
  readonly tailEndpoint?: string;
  /** The user's fetch: used for everything when given. */
  readonly fetch?: FetchFunction;
  /** The runtime's exchange when there is no `fetch` (node:http on Node). @default fetchRequest(globalThis.fetch) */
  readonly request?: RequestFunction;
  /** Per request; a long poll gets its maxWaitMs on top. */
  readonly requestTimeoutMs: number;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | bigint | undefined>>;
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
  readonly accept?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Added to requestTimeoutMs (the server may hold a long poll this long). */
  readonly extraTimeoutMs?: number;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: AnswerHeaders;
  readonly bytes: Uint8Array;
}

/** A streamed answer: its body arrives as the server sends it; close() drops the connection. */
export interface OpenStream {
  readonly status: number;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array>;
  close(): void;
}

const textDecoder = new TextDecoder();

export class HttpTransport {
  readonly endpoint: string;
  readonly tailEndpoint: string;
  readonly #authorization: string | undefined;
  /** The API key, for the notification channel's first message (a browser WebSocket cannot send headers). */
  readonly apiKey: string | undefined;
  /** For the live tail's stream. */
  readonly #fetch: FetchFunction;
  /** For every other request. */
  readonly #request: RequestFunction;
  readonly #timeoutMs: number;

  constructor(options: HttpOptions) {
    const endpoint = baseUrl(options.endpoint, 'endpoint');
    this.endpoint = endpoint;
    this.tailEndpoint = options.tailEndpoint ? baseUrl(options.tailEndpoint, 'tailEndpoint') : endpoint;
    this.#authorization = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
    this.apiKey = options.apiKey || undefined;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#request = options.fetch ? fetchRequest(options.fetch) : (options.request ?? fetchRequest(this.#fetch));
    this.#timeoutMs = options.requestTimeoutMs;
  }

  /** An API call; throws SluiceClientError for anything but 2xx. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.#authorization) headers.authorization = this.#authorization;
    if (options.contentType) headers['content-type'] = options.contentType;
    if (options.accept) headers.accept = options.accept;
    return this.#send(this.endpoint + path + queryString(options.query), method, headers, options.body, options);
  }

  async json<T>(method: string, path: string, options: RequestOptions & { json?: unknown } = {}): Promise<T> {
    const body = options.json === undefined ? options.body : JSON.stringify(options.json);
    const contentType = options.json === undefined ? options.contentType : MEDIA_JSON;
    const answer = await this.request(method, path, { ...options, body, contentType });
    if (answer.status === 204 || answer.bytes.length === 0) return undefined as T;
    try {
      return JSON.parse(textDecoder.decode(answer.bytes)) as T;
    } catch (error) {
      throw new SluiceClientError('BAD_RESPONSE', `${method} ${path}: the answer is not JSON`, { status: answer.status, cause: error });
    }
  }

  /**
   * A presigned ranged GET straight from the object store: exactly `Range: bytes=start-end` (the
   * signature may cover it), no Authorization header (the URL is the credential; S3 would refuse a
   * second one). Checks that exactly the requested bytes came back.
   */
  async getRange(url: string, range: { start: number; end: number }, signal?: AbortSignal): Promise<Uint8Array> {
    const answer = await this.#send(url, 'GET', { range: `bytes=${range.start}-${range.end}` }, undefined, { signal });
    const expected = range.end - range.start + 1;
    if (answer.bytes.length !== expected) {
      throw new SluiceClientError('BAD_RESPONSE', `ranged GET returned ${answer.bytes.length} bytes, expected ${expected} (status ${answer.status})`, {
        status: answer.status,
        retriable: true,
      });
    }
    return answer.bytes;
  }

  /**
   * A GET whose body is read as it arrives (Server-Sent Events). requestTimeoutMs bounds the wait for
   * the status and headers only; the body runs until the server ends it, `close()` is called, or the
   * signal aborts. A non-2xx answer is read whole and thrown as its SluiceClientError.
   */
  async openStream(path: string, options: Pick<RequestOptions, 'query' | 'headers' | 'accept' | 'signal'> = {}): Promise<OpenStream> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.#authorization) headers.authorization = this.#authorization;
    if (options.accept) headers.accept = options.accept;
    const url = this.tailEndpoint + path + queryString(options.query);
    const controller = new AbortController();
    const outer = options.signal;
    if (outer?.aborted) throw outer.reason ?? abortError();
    const onAbort = () => controller.abort(outer!.reason ?? abortError());
    outer?.addEventListener('abort', onAbort, { once: true });
    const close = () => {
      outer?.removeEventListener('abort', onAbort);
      controller.abort(abortError());
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    let response: Response;
    try {
      response = await this.#fetch(url, { method: 'GET', headers, signal: controller.signal });
    } catch (error) {
      close();
      if (timedOut) throw new SluiceClientError('REQUEST_TIMEOUT', `GET ${redact(url)}: no answer within ${this.#timeoutMs} ms`, { cause: error });
      if (outer?.aborted) throw outer.reason ?? error;
      throw new SluiceClientError('NETWORK_ERROR', `GET ${redact(url)}: ${describeNetworkError(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (response.status < 200 || response.status >= 300 || !response.body) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await response.arrayBuffer());
      } finally {
        close();
      }
      throw response.body ? errorFromAnswer('GET', url, { status: response.status, statusText: response.statusText, headers: response.headers, bytes }) : new SluiceClientError('BAD_RESPONSE', `GET ${redact(url)}: an answer without a body`, { status: response.status });
    }
    return { status: response.status, headers: response.headers, body: response.body, close };
  }

  async #send(url: string, method: string, headers: Record<string, string>, body: Uint8Array | string | undefined, options: RequestOptions): Promise<HttpAnswer> {
    const controller = new AbortController();
    const outer = options.signal;
    if (outer?.aborted) throw outer.reason ?? abortError();
    const onAbort = () => controller.abort(outer!.reason ?? abortError());
    outer?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timeoutMs = this.#timeoutMs + (options.extraTimeoutMs ?? 0);
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      let answer: RawAnswer;
      try {
        answer = await this.#request(url, { method, headers, body, signal: controller.signal });
      } catch (error) {
        if (timedOut) throw new SluiceClientError('REQUEST_TIMEOUT', `${method} ${redact(url)}: no answer within ${timeoutMs} ms`, { cause: error });
        if (outer?.aborted) throw outer.reason ?? error;
        throw new SluiceClientError('NETWORK_ERROR', `${method} ${redact(url)}: ${describeNetworkError(error)}`, { cause: error });
      }
      if (answer.status >= 200 && answer.status < 300) return { status: answer.status, headers: answer.headers, bytes: answer.bytes };
      throw errorFromAnswer(method, url, answer);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }
}

function baseUrl(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) throw new SluiceClientError('INVALID_ARGUMENT', `${name} must be an http(s) URL, got ${String(value)}`);
  let url = value;
  while (url.endsWith('/')) url = url.slice(0, -1);
  return url;
}

function abortError(): DOMException {
  return new DOMException('This operation was aborted', 'AbortError');
}

function describeNetworkError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return message + cause;
}

/** URLs without their query string (presigned URLs carry credentials there). */
function redact(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function errorFromAnswer(method: string, url: string, response: RawAnswer): SluiceClientError {
  const bytes = response.bytes;
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  let body: { error?: { code?: unknown; message?: unknown } & Record<string, unknown> } | undefined;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(textDecoder.decode(bytes));
    } catch {
      body = undefined;
    }
  }
  const error = body?.error;
  if (error && typeof error.code === 'string') {
    const { code, message, ...details } = error;
    return new SluiceClientError(code as ErrorCode, `${method} ${redact(url)}: ${response.status} ${code}: ${String(message ?? '')}`, {
      status: response.status,
      details,
      retryAfterSeconds,
    });
  }
  const code: ErrorCode = response.status === 429 ? 'THROTTLED' : response.status === 503 ? 'UNAVAILABLE' : response.status === 500 ? 'INTERNAL' : `HTTP_${response.status}`;
  return new SluiceClientError(code, `${method} ${redact(url)}: ${response.status} ${response.statusText}`.trim(), { status: response.status, retryAfterSeconds });
}
