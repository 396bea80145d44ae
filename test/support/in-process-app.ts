/**
 * The HTTP application in process, on the memory stores: no sockets, so tests can send thousands of
 * requests cheaply (the fuzz suite, the authorization table) and look at the stores directly.
 */
import { ApiKeys, type Scope } from '../../lib/auth/api-keys.ts';
import { createApp } from '../../lib/http/app.ts';
import type { HttpRequest, HttpResponse } from '../../lib/http/types.ts';
import { Engine } from '../../lib/log/engine.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';

export const ADMIN_KEY = 'in-process-admin-key-0123456789';

export interface CallOptions {
  readonly key?: string | null;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly principal?: HttpRequest['principal'];
}

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: any;
  readonly bytes: Uint8Array;
}

export interface InProcessApp {
  readonly engine: Engine;
  readonly keys: ApiKeys;
  readonly objects: MemoryObjectStore;
  readonly metadata: MemoryMetadataStore;
  readonly app: (request: HttpRequest) => Promise<HttpResponse>;
  /** `path` may carry a query string. `key` defaults to the admin key; null sends none. */
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** A new key with these scopes. */
  keyWith(scopes: Scope[]): Promise<string>;
  /** Unexpected errors the app logged (a 500 in the making). */
  readonly unexpected: unknown[];
}

export async function inProcessApp(options: { now?: () => number } = {}): Promise<InProcessApp> {
  const objects = new MemoryObjectStore();
  const metadata = new MemoryMetadataStore();
  const engine = new Engine({ objects, metadata, now: options.now, longPollIntervalMs: 5 });
  const keys = new ApiKeys(metadata, { now: options.now, cacheMs: 0 });
  await keys.ensure(ADMIN_KEY, 'bootstrap');
  const unexpected: unknown[] = [];
  const app = createApp({ engine, keys, now: options.now, logError: (error) => unexpected.push(error) });
  return {
    engine,
    keys,
    objects,
    metadata,
    app,
    unexpected,
    async keyWith(scopes) {
      return (await keys.create({ name: 'test', scopes })).key;
    },
    async call(method, path, callOptions = {}) {
      const url = new URL(path, 'http://in-process');
      const headers: Record<string, string> = { ...lowerCase(callOptions.headers ?? {}) };
      const key = callOptions.key === undefined ? ADMIN_KEY : callOptions.key;
      if (key !== null) headers.authorization ??= `Bearer ${key}`;
      let body: Uint8Array = new Uint8Array(0);
      if (callOptions.body instanceof Uint8Array) body = callOptions.body;
      else if (callOptions.body !== undefined) {
        body = new TextEncoder().encode(typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body));
        headers['content-type'] ??= 'application/json';
      }
      const response = await app({ method, path: url.pathname, query: url.searchParams, headers, body, principal: callOptions.principal });
      const bytes = typeof response.body === 'string' ? new TextEncoder().encode(response.body) : (response.body ?? new Uint8Array(0));
      const type = response.headers['content-type'] ?? '';
      const parsed = type.includes('json') && bytes.length > 0 ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
      return { status: response.status, headers: response.headers, body: parsed, bytes };
    },
  };
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
