/**
 * The HTTP application in process, on the memory stores: no sockets, so tests can send thousands of
 * requests cheaply (the fuzz suite, the authorization table) and look at the stores directly. Each
 * call also checks the app's admit() (the refusals the local server answers before reading a body):
 * it refuses nothing that the whole request would not get the same answer for.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ApiKeys, type Scope } from '../../lib/auth/api-keys.ts';
import { createApp } from '../../lib/http/app.ts';
import { ObjectUrlSigner } from '../../lib/http/object-urls.ts';
import { Groups } from '../../lib/groups/groups.ts';
import { LOCAL_URL_POLICY } from '../../lib/push/config.ts';
import { PushConsumers } from '../../lib/push/consumers.ts';
import { AesGcmSecretBox } from '../../lib/push/secrets.ts';
import { randomBytes } from 'node:crypto';
import type { HttpHandler, HttpRequest, HttpResponse } from '../../lib/http/types.ts';
import { LIMITS } from '../../lib/api/limits.ts';
import { Engine } from '../../lib/log/engine.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';

export const ADMIN_KEY = 'in-process-admin-key-0123456789';

export interface CallOptions {
  readonly key?: string | null;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly principal?: HttpRequest['principal'];
  /** Ends a long poll early (an aborted signal: at once). */
  readonly signal?: AbortSignal;
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
  readonly app: HttpHandler;
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
  // Presigned object URLs as the local server serves them, so their route is reachable too.
  const objectUrls = new ObjectUrlSigner({ baseUrl: () => 'http://in-process', now: options.now });
  const engine = new Engine({ objects: objectUrls.wrap(objects), metadata, now: options.now, longPollIntervalMs: 5 });
  const keys = new ApiKeys(metadata, { now: options.now, cacheMs: 0 });
  await keys.ensure(ADMIN_KEY, 'bootstrap');
  const unexpected: unknown[] = [];
    // Push consumers can be created (a secret key), but nothing delivers: no dispatcher runs in process.
  const groups = new Groups({ engine, now: options.now });
  const consumers = new PushConsumers({ engine, groups, secrets: new AesGcmSecretBox(randomBytes(32)), urlPolicy: LOCAL_URL_POLICY, now: options.now });
  const app = createApp({ engine, keys, now: options.now, objectUrls, groups, consumers, logError: (error) => unexpected.push(error) });
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
      const head = { method, path: url.pathname, query: url.searchParams, headers, principal: callOptions.principal, signal: callOptions.signal };
      // As the local server does (lib/server/node-http.ts): a body within the limit is read only when
      // admit() does not refuse the request on its head. Whatever admit() refuses, the whole request
      // is served too (as Lambda serves it, with no admit step), and the two answers must be the same.
      // (A body admit() would drop is served here all the same: Lambda gets it too.)
      const admission = body.length <= LIMITS.maxRequestBytes ? await app.admit!(head) : undefined;
      const refused = admission && 'refusal' in admission ? admission.refusal : undefined;
      const served = await app({ ...head, body });
      if (refused) {
        const text = (r: HttpResponse) => (typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body ?? new Uint8Array(0)));
        assert.deepEqual(
          { status: refused.status, body: text(refused) },
          { status: served.status, body: text(served) },
          `${method} ${path}: refused before its body with another answer than the whole request gets`,
        );
      }
      const response = refused ?? served;
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

/** A digest of everything in both stores: every metadata item and every object's key and bytes. */
export async function storeDigest(t: Pick<InProcessApp, 'objects' | 'metadata'>): Promise<string> {
  const hash = createHash('sha256');
  const items = t.metadata.items().map((item) => JSON.stringify(item, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)));
  for (const item of items.sort()) hash.update(item).update('\n');
  for await (const object of t.objects.list('')) {
    hash.update(object.key).update('\0').update(await t.objects.get(object.key)).update('\n');
  }
  return hash.digest('hex');
}
