/**
 * The web console's static files at /console/ (public: they hold no data; every data call the page
 * makes goes through the API with the key its user types). Files come from console/ at the package
 * root; the charting library (uPlot) is vendored in console/vendor/ (a development dependency that
 * test/console/vendor.unit.test.ts keeps it equal to), so the package installs nothing for it. No build step.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admission, HttpHandler, HttpRequest, HttpRequestHead, HttpResponse } from '../http/types.ts';

export const CONSOLE_PREFIX = '/console/';

/** Every page is same-origin only, no inline script or style, never framed. */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

export const CONSOLE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function securityHeaders(): Record<string, string> {
  return { 'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' };
}

function notFound(): HttpResponse {
  return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders() }, body: new TextEncoder().encode('not found') };
}

/** The file a console path names, or undefined for anything outside console/ (traversal, encoded or not). */
export function consoleFile(path: string, root: string = CONSOLE_ROOT): string | undefined {
  let relative: string;
  try {
    relative = decodeURIComponent(path.slice(CONSOLE_PREFIX.length));
  } catch {
    return undefined;
  }
  if (relative === '') relative = 'index.html';
  if (relative.includes('\0') || relative.includes('\\') || relative.split('/').some((part) => part === '..' || part.startsWith('.'))) return undefined;
  const file = normalize(join(root, relative));
  return file.startsWith(root + sep) ? file : undefined;
}

const isConsole = (path: string) => path === '/console' || path.startsWith(CONSOLE_PREFIX);

/**
 * The API handler, with GET /console/… answered from the console's files first (root: where they are;
 * the admin function's bundle carries a copy next to its code).
 */
export function withConsole(api: HttpHandler, root: string = CONSOLE_ROOT): HttpHandler {
  const handle = async (request: HttpRequest): Promise<HttpResponse> => {
    if (request.path === '/console') return { status: 308, headers: { location: CONSOLE_PREFIX }, body: new Uint8Array() };
    if (!request.path.startsWith(CONSOLE_PREFIX)) return api(request);
    if (request.method !== 'GET' && request.method !== 'HEAD') return notFound();
    const file = consoleFile(request.path, root);
    const type = file && CONTENT_TYPES[file.slice(file.lastIndexOf('.'))];
    if (!file || !type) return notFound();
    try {
      const body = await readFile(file);
      return { status: 200, headers: { 'content-type': type, ...securityHeaders() }, body: request.method === 'HEAD' ? new Uint8Array() : body };
    } catch {
      return notFound();
    }
  };
  // The console's files are public and take no body: what handle() would refuse with 404 is refused before one.
  const admit = async (head: HttpRequestHead): Promise<Admission> => {
    if (!isConsole(head.path)) return api.admit ? api.admit(head) : { body: 'read' };
    return head.path !== '/console' && head.method !== 'GET' && head.method !== 'HEAD' ? { refusal: notFound() } : { body: 'drop' };
  };
  return Object.assign(handle, { admit });
}
