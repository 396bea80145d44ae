/** Serves an HttpHandler with node:http, reading bodies only up to the request size limit. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { errorResponse } from '../http/router.ts';
import type { HttpHandler, HttpResponse } from '../http/types.ts';

export function createNodeServer(handler: HttpHandler): Server {
  return createServer((req, res) => {
    void serve(handler, req, res);
  });
}

async function serve(handler: HttpHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  let response: HttpResponse;
  try {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    response = await handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body, signal: abort.signal });
  } catch (error) {
    response = errorResponse(error);
    // The rest of an oversized body is not read; close the connection instead of draining it.
    res.setHeader('connection', 'close');
  }
  if (res.destroyed) return;
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > LIMITS.maxRequestBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > LIMITS.maxRequestBytes) {
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function tooLarge(): SluiceError {
  return new SluiceError('PAYLOAD_TOO_LARGE', `request body exceeds ${LIMITS.maxRequestBytes} bytes`, { details: { limit: LIMITS.maxRequestBytes } });
}
