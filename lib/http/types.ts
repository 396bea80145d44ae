/** The transport-neutral request and response that the local server and the Lambda handlers adapt. */
import type { Principal } from '../auth/api-keys.ts';
import type { ErrorCode } from '../errors.ts';

export interface HttpRequest {
  readonly method: string;
  /** Path without the query string, percent-encoded as received. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
  /** Aborted when the client goes away (ends long polls early). */
  readonly signal?: AbortSignal;
  /**
   * The caller, when the transport has already authenticated it (API Gateway IAM authorization); the
   * Authorization header then carries a SigV4 signature, not an API key, and is not read. Only a
   * transport sets this, from nothing the client controls.
   */
  readonly principal?: Principal;
}

/**
 * What observability needs to know about a served request, set by the router and the handlers so
 * that metrics and logs (lib/lambda/observability.ts) never re-parse paths or bodies. Never sent.
 */
export interface ObservedRequest {
  /** The route template, `POST /v1/topics/{topic}/records`. */
  route?: string;
  operationId?: string;
  topic?: string;
  /** The error code of an error answer. */
  errorCode?: ErrorCode;
  /** Records between where a read stopped and the high watermark. */
  lag?: number;
  /** The request asked to wait for records (maxWaitMs > 0): its time is the producers' pace. */
  longPoll?: boolean;
  /** Produce in AWS: channel messages the produce function posted before answering (lib/lambda/append-hints.ts). */
  appendHintsPosted?: number;
  /** 1 when the hint deadline cut those posts off (their subscribers hear from the stream notifier), else 0. */
  appendHintsLate?: number;
  /** Connections those posts found gone (410): many for long means the notifier is not deleting them. */
  appendHintsGone?: number;
}

/**
 * A body sent as it is produced (Server-Sent Events): the transport writes and flushes each chunk as
 * the iterator yields it, and ends the iteration (return()) when the client goes away; the request's
 * signal aborts too, so a producer waiting inside next() stops at once.
 */
export type StreamingBody = AsyncIterable<Uint8Array | string>;

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array | string;
  /**
   * The body, streamed, instead of `body`. Only transports that stream serve the routes that answer
   * so (lib/api/routes.ts `streaming`): the local server and the tail function's Function URL.
   */
  readonly stream?: StreamingBody;
  readonly observed?: ObservedRequest;
}

/** A request before its body is read: what a transport knows once the headers have arrived. */
export type HttpRequestHead = Omit<HttpRequest, 'body'>;

/**
 * What a request's head decides: refused whatever its body would be (`refusal`: no key or an unknown
 * one, a key without any right the route needs, bad path, headers or query), or served, reading the
 * body (`body: 'read'`) or not, because the route takes none (`'drop'`: public routes, presigned
 * reads, the console's files; the handler then gets an empty body and answers as it would with any).
 */
export type Admission = { readonly refusal: HttpResponse } | { readonly body: 'read' | 'drop' };

export interface HttpHandler {
  (request: HttpRequest): Promise<HttpResponse>;
  /**
   * Transports that read bodies themselves (the local server) ask this first, so that no caller can
   * make the server buffer a body it will not use — no anonymous caller any body at all; the
   * handler checks everything again when the request comes. Transports that get whole requests
   * (Lambda) need not ask.
   */
  readonly admit?: (head: HttpRequestHead) => Promise<Admission>;
}
