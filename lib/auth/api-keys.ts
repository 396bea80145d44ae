/**
 * API keys. A key is 32 random bytes shown once at creation; only its SHA-256 is stored (a fast hash
 * is right for high-entropy secrets, as for GitHub tokens).
 *
 * The scope model. A scope grants one action on topics and consumer groups, each named by patterns:
 * `*` (all), a prefix ending in `*` (`logs.*`), or an exact name. `admin` includes `produce` and
 * `consume` on the same resources. What a key may do is the union of what its scopes grant; a scope
 * grants its action on (topic, group) pairs drawn from its two pattern lists, and on a topic alone or
 * a group alone when a check names just one (`allows`). `covers(granting, requested)` says whether
 * everything the requested scopes grant is granted by the granting ones, and is what key creation
 * (only keys within its own scopes), revocation (only keys no broader than itself) and
 * `isAdminOverEverything` (key management, maintenance) are decided by.
 *
 *   apikey#<sha256> / key    lookup by hash: id, name, scopes
 *   apikeys / <id>           listing and revocation by id: hash, name, scopes
 */
import * as z from 'zod';
import { SluiceError } from '../errors.ts';
import { DEFAULTS } from '../defaults.ts';
import { parseInput } from '../validation.ts';
import { KeyScope, KeyScopes } from '../api/schemas.ts';
import type { MetadataStore } from '../storage/ports.ts';
import { sha256Hex } from '../hash.ts';
import type { KeyAction as Action } from '../api/limits.ts';

export { KEY_ACTIONS as ACTIONS } from '../api/limits.ts';
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
/** The keyId of a caller API Gateway authenticated with IAM (lib/lambda/http-adapter.ts): not an API key, so never revoked here. */
export const IAM_PRINCIPAL_PREFIX = 'iam:';

/** Whether an authenticated `principal` came with an API key (whose revocation ends what it holds open), not IAM. */
export function isApiKeyPrincipal(principal: Principal): boolean {
  return !principal.keyId.startsWith(IAM_PRINCIPAL_PREFIX);
}
export const ADMIN_SCOPES: Scope[] = [{ action: 'admin', topics: ['*'], groups: ['*'] }];

export class ApiKeys {
  readonly #metadata: MetadataStore;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { principal: Principal | undefined; until: number }>();
  readonly #liveCache = new Map<string, { live: boolean; until: number }>();

  constructor(metadata: MetadataStore, options: { now?: () => number; cacheMs?: number } = {}) {
    this.#metadata = metadata;
    this.#now = options.now ?? Date.now;
    this.#cacheMs = options.cacheMs ?? DEFAULTS.apiKeyCacheMs;
  }

  static generate(): string {
    return KEY_PREFIX + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  }

  /** Creates a key; `by`, when given, must cover the new key's scopes. */
  async create(input: { name: string; scopes: unknown }, by?: Principal): Promise<CreatedKey> {
    const scopes = parseScopes(input.scopes);
    if (by && !covers(by.scopes, scopes)) throw new SluiceError('FORBIDDEN', 'an API key can create only keys whose scopes lie within its own', { details: { field: 'scopes' } });
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

  /** Revokes key `id`; `by`, when given, must be no narrower than the key it revokes. */
  async revoke(id: string, by?: Principal): Promise<void> {
    const item = await this.#metadata.get('apikeys', id);
    if (!item) throw new SluiceError('NOT_FOUND', `no API key with id ${id}`);
    if (by && !covers(by.scopes, principalFrom(item).scopes)) {
      throw new SluiceError('FORBIDDEN', 'an API key can revoke only keys no broader than itself');
    }
    await this.#metadata.delete(`apikey#${String(item.hash)}`, 'key');
    await this.#metadata.delete('apikeys', id);
    this.#cache.clear();
    this.#liveCache.set(id, { live: false, until: Number.POSITIVE_INFINITY }); // ids are never reused
  }

  /**
   * Whether key `id` still exists, cached like authentication (cacheMs): what a connection that
   * authenticated once (the notification channel) is checked against before it is told anything.
   */
  async isLive(id: string): Promise<boolean> {
    const cached = this.#liveCache.get(id);
    if (cached && cached.until > this.#now()) return cached.live;
    const live = (await this.#metadata.get('apikeys', id)) !== undefined;
    if (this.#liveCache.size > 10_000) this.#liveCache.clear();
    this.#liveCache.set(id, { live, until: this.#now() + this.#cacheMs });
    return live;
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
  return parseInput(KeyScopes, scopes, { field: 'scopes' });
}

function principalFrom(item: Record<string, unknown>): Principal {
  return { keyId: String(item.id), name: String(item.name), scopes: JSON.parse(String(item.scopes)) as Scope[] };
}

/** Does `pattern` match the name `name`? */
function patternMatches(pattern: string, name: string): boolean {
  return pattern === '*' || pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)));
}

function matches(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => patternMatches(p, name));
}

/**
 * Does the pattern `granting` match every name `requested` matches? `*` covers everything; a prefix
 * `logs.*` covers `logs.x` and `logs.a*`; an exact name covers only itself.
 */
export function patternCovers(granting: string, requested: string): boolean {
  if (!granting.endsWith('*')) return granting === requested;
  return requested.startsWith(granting.slice(0, -1));
}

/** Does a scope with action `granting` allow action `requested`? Admin includes produce and consume. */
export function actionCovers(granting: Action, requested: Action): boolean {
  return granting === requested || granting === 'admin';
}

/**
 * True when everything `requested` grants is granted by `granting`. Each requested scope grants its
 * action on every (topic pattern, group pattern) pair, on each topic pattern alone and on each group
 * pattern alone; each of those must be granted by one granting scope. Conservative: a pattern covered
 * only by several granting patterns together (`a*` by `a` plus one prefix per next character) is not
 * covered.
 */
export function covers(granting: readonly Scope[], requested: readonly Scope[]): boolean {
  const any = (patterns: readonly string[], wanted: string | undefined) => wanted === undefined || patterns.some((p) => patternCovers(p, wanted));
  return requested.every((want) => {
    const topics = [...want.topics, undefined];
    const groups = [...want.groups, undefined];
    return topics.every((topic) =>
      groups.every((group) => granting.some((have) => actionCovers(have.action, want.action) && any(have.topics, topic) && any(have.groups, group))),
    );
  });
}

/** Key management and maintenance need this: admin over all topics and all groups. */
export function isAdminOverEverything(principal: Principal): boolean {
  return covers(principal.scopes, ADMIN_SCOPES);
}

/** FORBIDDEN unless the principal is admin over all topics and all groups. */
export function authorizeAdminOverEverything(principal: Principal, what: string): void {
  if (!isAdminOverEverything(principal)) throw new SluiceError('FORBIDDEN', `${what} needs an API key with admin over all topics and all groups`);
}

/** True when a scope grants `action` on the resource (a topic, a group, or a group's topic); admin grants everything. */
export function allows(principal: Principal, action: Action, resource: { topic?: string; group?: string }): boolean {
  return principal.scopes.some(
    (scope) =>
      actionCovers(scope.action, action) &&
      (resource.topic === undefined || matches(scope.topics, resource.topic)) &&
      (resource.group === undefined || matches(scope.groups, resource.group)),
  );
}

/** FORBIDDEN unless a scope grants `action` on the resource. A resource is required: there is no action "on nothing". */
export function authorize(principal: Principal, action: Action, resource: { topic: string; group?: string } | { topic?: string; group: string }): void {
  if (!allows(principal, action, resource)) {
    const on = [resource.topic !== undefined ? `topic ${resource.topic}` : '', resource.group !== undefined ? `group ${resource.group}` : ''].filter(Boolean).join(' and ');
    throw new SluiceError('FORBIDDEN', `this API key may not ${action} on ${on}`);
  }
}
