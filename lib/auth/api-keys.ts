/**
 * API keys. A key is 32 random bytes shown once at creation; only its SHA-256 is stored (a fast hash
 * is right for high-entropy secrets, as for GitHub tokens). Scopes grant an action on topics and
 * groups named exactly or by prefix (`logs.*`), or all of them (`*`).
 *
 *   apikey#<sha256> / key    lookup by hash: id, name, scopes
 *   apikeys / <id>           listing and revocation by id: hash, name, scopes
 */
import * as z from 'zod';
import { SluiceError } from '../errors.ts';
import { DEFAULTS } from '../defaults.ts';
import { KeyScope, KeyScopes } from '../api/schemas.ts';
import type { MetadataStore } from '../storage/ports.ts';
import { sha256Hex } from '../hash.ts';
import type { KeyAction as Action } from '../api/limits.ts';

export type { Action };

/** One scope of a key (the contract's KeyScope): an action on topics and groups by name, prefix or `*`. */
export const scopeSchema = KeyScope;

export type Scope = z.infer<typeof scopeSchema>;

export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
}

export interface CreatedKey extends Principal {
  /** The plain key. Returned once; only its hash is stored. */
  readonly key: string;
  readonly createdAt: number;
}

const KEY_PREFIX = 'sluice_';
export const ADMIN_SCOPES: Scope[] = [{ action: 'admin', topics: ['*'], groups: ['*'] }];

export class ApiKeys {
  readonly #metadata: MetadataStore;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { principal: Principal | undefined; until: number }>();

  constructor(metadata: MetadataStore, options: { now?: () => number; cacheMs?: number } = {}) {
    this.#metadata = metadata;
    this.#now = options.now ?? Date.now;
    this.#cacheMs = options.cacheMs ?? DEFAULTS.apiKeyCacheMs;
  }

  static generate(): string {
    return KEY_PREFIX + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  }

  async create(input: { name: string; scopes: unknown }): Promise<CreatedKey> {
    const scopes = parseScopes(input.scopes);
    return this.#store(ApiKeys.generate(), input.name, scopes);
  }

  /** Registers a key chosen outside (the bootstrap admin key). Idempotent. */
  async ensure(key: string, name: string, scopes: Scope[] = ADMIN_SCOPES): Promise<Principal> {
    if (key.length < 16) throw new SluiceError('INVALID_REQUEST', 'an API key must be at least 16 characters');
    const hash = await sha256Hex(key);
    const existing = await this.#metadata.get(`apikey#${hash}`, 'key');
    if (existing) return principalFrom(existing);
    return this.#store(key, name, scopes);
  }

  async #store(key: string, name: string, scopes: Scope[]): Promise<CreatedKey> {
    const hash = await sha256Hex(key);
    const id = crypto.randomUUID();
    const createdAt = this.#now();
    const attributes = { id, name, scopes: JSON.stringify(scopes), createdAt: BigInt(createdAt) };
    // Listing item first: a crash in between leaves a listed key that cannot authenticate, never the reverse.
    await this.#metadata.put({ pk: 'apikeys', sk: id, hash, ...attributes }, { itemExists: false });
    await this.#metadata.put({ pk: `apikey#${hash}`, sk: 'key', ...attributes }, { itemExists: false });
    return { keyId: id, name, scopes, key, createdAt };
  }

  async list(): Promise<Array<Principal & { createdAt: number }>> {
    const items = await this.#metadata.query('apikeys');
    return items.map((item) => ({ ...principalFrom(item), createdAt: Number(item.createdAt) }));
  }

  async revoke(id: string): Promise<void> {
    const item = await this.#metadata.get('apikeys', id);
    if (!item) throw new SluiceError('NOT_FOUND', `no API key with id ${id}`);
    await this.#metadata.delete(`apikey#${String(item.hash)}`, 'key');
    await this.#metadata.delete('apikeys', id);
    this.#cache.clear();
  }

  /** The principal for an `Authorization: Bearer <key>` header, or UNAUTHORIZED. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new SluiceError('UNAUTHORIZED', 'missing API key: send Authorization: Bearer <key>');
    const hash = await sha256Hex(match[1]);
    const cached = this.#cache.get(hash);
    let principal: Principal | undefined;
    if (cached && cached.until > this.#now()) {
      principal = cached.principal;
    } else {
      const item = await this.#metadata.get(`apikey#${hash}`, 'key');
      principal = item ? principalFrom(item) : undefined;
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(hash, { principal, until: this.#now() + this.#cacheMs });
    }
    if (!principal) throw new SluiceError('UNAUTHORIZED', 'unknown API key');
    return principal;
  }
}

export function parseScopes(scopes: unknown): Scope[] {
  const parsed = KeyScopes.safeParse(scopes);
  if (!parsed.success) throw new SluiceError('INVALID_REQUEST', `invalid scopes: ${z.prettifyError(parsed.error)}`, { details: { field: 'scopes' } });
  return parsed.data;
}

function principalFrom(item: Record<string, unknown>): Principal {
  return { keyId: String(item.id), name: String(item.name), scopes: JSON.parse(String(item.scopes)) as Scope[] };
}

function matches(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => p === '*' || p === name || (p.endsWith('*') && name.startsWith(p.slice(0, -1))));
}

/** True when a scope grants `action` on the resource; admin grants everything. */
export function allows(principal: Principal, action: Action, resource: { topic?: string; group?: string } = {}): boolean {
  return principal.scopes.some(
    (scope) =>
      (scope.action === 'admin' || scope.action === action) &&
      (resource.topic === undefined || matches(scope.topics, resource.topic)) &&
      (resource.group === undefined || matches(scope.groups, resource.group)),
  );
}

export function authorize(principal: Principal, action: Action, resource: { topic?: string; group?: string } = {}): void {
  if (!allows(principal, action, resource)) {
    const on = resource.topic ? ` on topic ${resource.topic}` : resource.group ? ` on group ${resource.group}` : '';
    throw new SluiceError('FORBIDDEN', `this API key may not ${action}${on}`);
  }
}

