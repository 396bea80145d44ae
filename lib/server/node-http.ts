/**
 * Serves an HttpHandler with node:http, reading bodies only up to the request size limit and only
 * for requests the handler does not refuse on their headers (HttpHandler.admit). Reports
 * each answered request (the local server's request log) and closes gracefully: stop accepting, end
 * long polls at once (their fetches answer with what they have), let running requests finish.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { errorResponse } from '../http/router.ts';
import type { Admission, HttpHandler, HttpRequestHead, HttpResponse, StreamingBody } from '../http/types.ts';

/** One answered request, for the request log. `path` has no query string (presigned URLs carry credentials there). */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
}

export interface NodeServerOptions {
  /** Called once per answered request. @default nothing */
  readonly onResponse?: (entry: RequestLogEntry) => void;
}

interface InFlight {
  readonly requests: Map<AbortController, Promise<void>>;
}

const inFlightByServer = new WeakMap<Server, InFlight>();

export function createNodeServer(handler: HttpHandler, options: NodeServerOptions = {}): Server {
  const inFlight: InFlight = { requests: new Map() };
  const onRequest = (expectsContinue: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    const abort = new AbortController();
    const served = serve(handler, req, res, abort, options.onResponse, expectsContinue).finally(() => inFlight.requests.delete(abort));
    inFlight.requests.set(abort, served);
  };
  const server = createServer(onRequest(false));
  // `Expect: 100-continue` (curl sends it with large bodies): "100 Continue" goes only to requests that
  // admit() lets through, so a client refused on its headers never sends the body at all.
  server.on('checkContinue', onRequest(true));
  inFlightByServer.set(server, inFlight);
  return server;
}

/**
 * Stops accepting connections, aborts the signal of every running request (long polls answer at
 * once), waits up to `graceMs` for running requests to be answered, then drops every connection.
 */
export async function closeNodeServer(server: Server, options: { graceMs: number }): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const inFlight = inFlightByServer.get(server);
  if (inFlight && inFlight.requests.size > 0) {
    const running = [...inFlight.requests];
    for (const [abort] of running) abort.abort(new SluiceError('UNAVAILABLE', 'the server is shutting down'));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.graceMs)));
    await Promise.race([Promise.allSettled(running.map(([, served]) => served)), grace]);
    clearTimeout(timer);
  }
  server.closeAllConnections();
  await closed;
}

async function serve(
  handler: HttpHandler,
  req: IncomingMessage,
  res: ServerResponse,
  abort: AbortController,
  onResponse: NodeServerOptions['onResponse'],
  expectsContinue: boolean,
): Promise<void> {
  const started = performance.now();
  let answered = false;
  // The client left before the answer was sent: end a long poll or a stream at once. After the answer
  // nothing listens any more, and aborting would only build an AbortError (a DOMException with its
  // stack) per request, ~0.6 % of the local server's thread on the SDK's end-to-end bench.
  res.on('close', () => {
    if (!answered) abort.abort();
  });
  const url = new URL(req.url ?? '/', 'http://localhost');
  let response: HttpResponse;
  try {
    if (Number(req.headers['content-length'] ?? 0) > LIMITS.maxRequestBytes) throw tooLarge();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const head: HttpRequestHead = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, signal: abort.signal };
    // Refused on its headers (no key, an unknown one, a key without the route's rights), or for a
    // route that takes no body: the body is dropped as it comes instead of being held, so no
    // anonymous caller makes the server buffer any. Paused meanwhile: nothing may flow past
    // readBody's listener (another 'data' listener, say a test's, would start the flow).
    let admission: Admission = { body: 'read' };
    if (handler.admit) {
      req.pause();
      admission = await handler.admit(head);
    }
    if ('refusal' in admission) {
      // A client told to wait for "100 Continue" may send its body later or never: do not wait for it.
      if (expectsContinue) res.setHeader('connection', 'close');
      else discardBody(req);
      response = admission.refusal;
    } else if (admission.body === 'drop') {
      // No "100 Continue" either: a client that waits for it sends no body, which is all this route wants.
      if (expectsContinue) res.setHeader('connection', 'close');
      else discardBody(req);
      response = await handler({ ...head, body: new Uint8Array(0) });
    } else {
      if (expectsContinue) res.writeContinue();
      response = await handler({ ...head, body: await readBody(req) });
    }
  } catch (error) {
    response = errorResponse(error);
    // The rest of an oversized body is not read; close the connection instead of draining it.
    res.setHeader('connection', 'close');
  }
  if (res.destroyed) {
    // The client left while the answer was being made: a stream that never started is ended unread.
    await response.stream?.[Symbol.asyncIterator]().return?.();
    return;
  }
  res.writeHead(response.status, response.headers);
  if (response.stream) await writeStream(response.stream, res);
  else res.end(response.body);
  answered = true;
  onResponse?.({ method: req.method ?? 'GET', path: url.pathname, status: response.status, durationMs: performance.now() - started });
}

/**
 * Writes each chunk as the stream yields it (node:http sends it at once: no compression, no
 * buffering here), waiting for the socket to drain when it is full. When the client goes away the
 * loop stops, and leaving the for-await ends the stream's iterator (its finally blocks run).
 */
async function writeStream(stream: StreamingBody, res: ServerResponse): Promise<void> {
  res.flushHeaders();
  try {
    for await (const chunk of stream) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await drained(res);
      if (res.destroyed) break;
    }
  } catch (error) {
    // The status is sent: an error now can only end the stream (the handler sends errors as events).
    console.error('sluice: a streamed answer failed', error);
  } finally {
    res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The body, which serve() has checked the declared length of. */
function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const expected = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
  return new Promise((resolve, reject) => {
    // With a declared length, the chunks are copied into one buffer of that length once a quarter of
    // it has arrived, and the rest as it arrives: a 1 MiB body comes in ~16 chunks, and concatenating
    // them at the end was a second full copy of every produce body (and a second MiB live at once);
    // this way only the first quarter is copied twice. Not sooner: the key is checked again once the
    // body is in (it may have been revoked meanwhile), a route may refuse the body itself, and a
    // declared length alone (headers, no body) must not make the server allocate — what it holds
    // for a request stays within 4× what the client has sent.
    let whole: Buffer | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size + chunk.length > LIMITS.maxRequestBytes) {
        req.pause();
        reject(tooLarge());
        return;
      }
      if (whole && size + chunk.length > whole.length) {
        // More than declared (node:http refuses that; kept correct anyway): back to chunks.
        chunks.push(whole.subarray(0, size));
        whole = undefined;
      }
      if (whole) chunk.copy(whole, size);
      else chunks.push(chunk);
      size += chunk.length;
      if (!whole && size < expected && size * 4 >= expected) {
        whole = Buffer.allocUnsafe(expected);
        let at = 0;
        for (const piece of chunks) at += piece.copy(whole, at);
        chunks.length = 0;
      }
    });
    req.on('end', () => {
      if (whole) resolve(size === whole.length ? whole : whole.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', reject);
    req.resume();
  });
}

/**
 * Reads a body that will not be used and drops it, so that a client still sending reads the answer
 * (closing at once would reset the connection under it) and the connection stays usable; one that
 * sends more than any request may carry is cut off.
 */
function discardBody(req: IncomingMessage): void {
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > LIMITS.maxRequestBytes) req.destroy();
  });
  req.resume();
}

function tooLarge(): SluiceError {
  return new SluiceError('PAYLOAD_TOO_LARGE', `request body exceeds ${LIMITS.maxRequestBytes} bytes`, { details: { limit: LIMITS.maxRequestBytes } });
}
