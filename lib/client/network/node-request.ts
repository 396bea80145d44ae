/**
 * The Node client's HTTP exchange: node:http / node:https with keep-alive agents, for every API call
 * and ranged GET when the user passes no `fetch` of their own (browsers and a user's `fetch` go
 * through fetchRequest in http.ts instead; the live tail's stream stays on fetch everywhere).
 *
 * Why not global fetch: undici's fetch wraps each request and answer in WHATWG objects and streams
 * (Request, Headers, a ReadableStream per body, a copy of the request body), which on the SDK's
 * end-to-end bench cost ~8 % of the one thread that producer, server and consumer share, for a few
 * hundred requests a second. node:http hands over the body chunks as they arrive, and the answer is
 * assembled once, into a buffer of the declared Content-Length when there is one.
 *
 * Differences from fetch that matter here: redirects are not followed (a 3xx is an answer like any
 * non-2xx; the API and S3 presigned GETs do not redirect), and no Accept-Encoding is sent, so servers
 * answer uncompressed (fetch asks for gzip/deflate/br and inflates transparently).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AnswerHeaders, RequestFunction, RawAnswer } from './http.ts';

/**
 * One agent per scheme, shared by every client in the process like undici's global dispatcher:
 * connections stay open between requests (an idle one is closed after the server's Keep-Alive
 * timeout hint, as Node's agent reads it) and are not limited in number per origin (the consumer
 * bounds its own fetches).
 */
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

export const nodeRequest: RequestFunction = (url, init) =>
  new Promise<RawAnswer>((resolve, reject) => {
    const secure = url.startsWith('https:');
    const headers: Record<string, string | number> = { ...init.headers };
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    if (body !== undefined) headers['content-length'] = body.length;
    const request = (secure ? httpsRequest : httpRequest)(url, { method: init.method, headers, agent: secure ? httpsAgent : httpAgent, signal: init.signal });
    request.on('error', reject);
    request.on('response', (response) => readAnswer(response).then(resolve, reject));
    request.end(body);
  });

function readAnswer(response: IncomingMessage): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const declared = Number(response.headers['content-length']);
    // A declared length is only a size hint: more or fewer bytes than declared still end up in bytes
    // (callers check lengths where they matter, e.g. getRange).
    const buffer = Number.isSafeInteger(declared) && declared >= 0 && declared <= MAX_PREALLOCATED ? new Uint8Array(declared) : undefined;
    let filled = 0;
    let chunks: Buffer[] | undefined;
    response.on('data', (chunk: Buffer) => {
      if (buffer && !chunks && filled + chunk.length <= buffer.length) {
        buffer.set(chunk, filled);
        filled += chunk.length;
        return;
      }
      if (!chunks) chunks = buffer ? [Buffer.from(buffer.buffer, 0, filled)] : [];
      chunks.push(chunk);
    });
    response.on('error', reject);
    // 'aborted' then 'error' (ECONNRESET) when the connection drops mid-answer: a network error, not a short body.
    response.on('end', () => {
      let bytes: Uint8Array;
      if (chunks) {
        const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        bytes = new Uint8Array(all.buffer, all.byteOffset, all.length);
      } else {
        bytes = buffer ? buffer.subarray(0, filled) : new Uint8Array(0);
      }
      resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', headers: nodeHeaders(response.headers), bytes });
    });
  });
}

/** Answers larger than this are gathered in chunks instead of one buffer sized from the header up front. */
const MAX_PREALLOCATED = 256 * 1024 * 1024;

function nodeHeaders(headers: IncomingMessage['headers']): AnswerHeaders {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
