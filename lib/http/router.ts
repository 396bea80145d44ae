/**
 * The router, built from the contract's route table (lib/api/routes.ts): it matches a request to its
 * route, authenticates the key (unless the route is public), validates path parameters, query and
 * body with the route's schemas, checks the route's scope, and hands a typed context to the route's
 * handler. Handlers (./routes/*.ts) hold no routing, parsing or authorization of their own.
 *
 * Order of the checks, each before more expensive work: body size (app.ts), route, key, parameters,
 * the scope checks on path resources, headers, the query, media type and body (array limits first),
 * the scope checks on body resources. Those up to the query need no body: `admit` runs them for
 * transports that can refuse a request before reading its body (lib/server/node-http.ts).
 */
import * as z from 'zod';
import { allows, authorize, authorizeAdminOverEverything, type Action, type Principal } from '../auth/api-keys.ts';
import { SluiceError, StorageError, ThrottledError, type ErrorCode } from '../errors.ts';
import { MEDIA_JSON, baseMediaType } from '../api/media-types.ts';
import { LIMITS } from '../api/limits.ts';
import { parseInput } from '../validation.ts';
import { pathPattern, type OperationId, type ResourceRef, type Route, type RouteSpec } from '../api/routes.ts';
import type { HttpRequest, HttpRequestHead, HttpResponse, ObservedRequest } from './types.ts';

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;
type RequestOf<R> = R extends { readonly request: infer Q } ? Q : {};
type Field<Q, K extends string> = Q extends { readonly [P in K]: infer S } ? Output<S> : undefined;

/** What a handler gets: the request, validated. */
export interface Context<R = RouteSpec> {
  readonly request: HttpRequest;
  readonly route: RouteSpec;
  readonly params: Field<RequestOf<R>, 'params'> extends undefined ? Record<string, never> : Field<RequestOf<R>, 'params'>;
  readonly query: Field<RequestOf<R>, 'query'> extends undefined ? Record<string, never> : Field<RequestOf<R>, 'query'>;
  /** The validated JSON body; undefined when a binary body came (see `binary`) or the route takes none. */
  readonly body: Field<RequestOf<R>, 'body'> | undefined;
  /** A binary body of one of the route's binaryBodies media types. */
  readonly binary?: { readonly mediaType: string; readonly bytes: Uint8Array };
  /** The caller; an anonymous principal on public routes. */
  readonly principal: Principal;
  /** List routes: whether the key may see this item (the route scope's filter). */
  readonly visible: (name: string) => boolean;
}

export type Handler<R = RouteSpec> = (ctx: Context<R>) => Promise<HttpResponse>;

/** One handler per operation of the route table. */
export type Handlers = { readonly [Id in OperationId]: Handler<Extract<Route, { operationId: Id }>> };

export interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly pattern: RegExp;
  readonly handle: Handler;
}

const ANONYMOUS: Principal = { keyId: 'anonymous', name: 'anonymous', scopes: [] };

export function compileRoutes(routes: readonly RouteSpec[], handlers: Partial<Record<string, Handler<never>>>): CompiledRoute[] {
  return routes.map((spec) => {
    const handle = handlers[spec.operationId] as Handler | undefined;
    if (!handle) throw new Error(`no handler for ${spec.operationId}`);
    return { spec, pattern: pathPattern(spec.path), handle };
  });
}

export interface RouterOptions {
  /** The caller of a route that needs a key (API key, or the transport's IAM principal). */
  readonly authenticate: (request: HttpRequestHead) => Promise<Principal>;
  /** Where unexpected errors (bugs) are reported. */
  readonly logError: (error: unknown, request: HttpRequest) => void;
}

/** Serves a request, or answers undefined when no route has its path (the caller answers 404). */
export interface Router {
  (request: HttpRequest): Promise<HttpResponse | undefined>;
  /**
   * The checks that need no body (route, key, path parameters, the scope checks on path resources,
   * headers, query), for a transport that can refuse a request before reading its body: throws what
   * serving the request would answer, or says whether a route has its path and takes a body.
   */
  admit(head: HttpRequestHead): Promise<'takes a body' | 'takes no body' | 'unrouted'>;
}

export function createRouter(routes: readonly CompiledRoute[], options: RouterOptions): Router {
  /** The route of a request, or whether another method has its path. */
  const find = (request: HttpRequestHead): { route: CompiledRoute; params: Record<string, string> } | 'wrong method' | undefined => {
    let methodMismatch = false;
    for (const route of routes) {
      const match = route.pattern.exec(request.path);
      if (!match) continue;
      if (route.spec.method !== request.method) {
        methodMismatch = true;
        continue;
      }
      return { route, params: match.groups ?? {} };
    }
    return methodMismatch ? 'wrong method' : undefined;
  };
  const refuseMethod = async (request: HttpRequestHead): Promise<never> => {
    await options.authenticate(request);
    throw new SluiceError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here`);
  };
  const router = async (request: HttpRequest) => {
    const found = find(request);
    if (found === 'wrong method') return refuseMethod(request);
    return found && serveRoute(found.route, request, found.params, options);
  };
  const admit = async (head: HttpRequestHead) => {
    const found = find(head);
    if (found === 'wrong method') return refuseMethod(head);
    if (!found) return 'unrouted';
    await checkHead(found.route.spec, head, found.params, options);
    return takesBody(found.route.spec) ? 'takes a body' : 'takes no body';
  };
  return Object.assign(router, { admit });
}

/** What a request's head says once checked: the caller, path parameters and query, validated. */
interface CheckedHead {
  readonly principal: Principal;
  readonly params: Record<string, unknown>;
  readonly query: Record<string, unknown>;
}

async function checkHead(spec: RouteSpec, request: HttpRequestHead, rawParams: Record<string, string>, options: RouterOptions, observed?: ObservedRequest): Promise<CheckedHead> {
  const principal = spec.scope === 'public' ? ANONYMOUS : await options.authenticate(request);
  const decoded = Object.fromEntries(Object.entries(rawParams).map(([name, value]) => [name, decodeSegment(value)]));
  if (observed && typeof decoded.topic === 'string') observed.topic = decoded.topic;
  const params = (spec.request?.params ? validate(spec.request.params, decoded, 'path') : {}) as Record<string, unknown>;
  checkScope(spec, principal, params, undefined);
  checkHeaders(spec, request);
  const query = (spec.request?.query ? validate(spec.request.query, firstValues(request.query), 'query') : {}) as Record<string, unknown>;
  return { principal, params, query };
}

async function serveRoute(route: CompiledRoute, request: HttpRequest, rawParams: Record<string, string>, options: RouterOptions): Promise<HttpResponse> {
  const { spec } = route;
  const observed: ObservedRequest = { route: `${spec.method} ${spec.path}`, operationId: spec.operationId };
  let response: HttpResponse;
  try {
    const { principal, params, query } = await checkHead(spec, request, rawParams, options, observed);
    if (spec.longPoll) observed.longPoll = Number((query as { maxWaitMs?: string }).maxWaitMs ?? 0) > 0;
    const { body, binary } = readBody(spec, request);
    if (body !== undefined) checkScope(spec, principal, params, body);
    const filter = spec.scope === 'public' ? undefined : spec.scope.filter;
    const visible = (name: string) =>
      filter === undefined || filter.action.some((action) => allows(principal, action, filter.on === 'topic' ? { topic: name } : { group: name }));
    const ctx: Context = { request, route: spec, params: params as never, query: query as never, body: body as never, binary, principal, visible };
    response = await route.handle(ctx);
  } catch (error) {
    response = errorResponse(error, (e) => options.logError(e, request));
  }
  return { ...response, observed: { ...observed, ...response.observed } };
}

function checkHeaders(spec: RouteSpec, request: HttpRequestHead): void {
  for (const [name, { maxLength }] of Object.entries(spec.request?.headers ?? {})) {
    const value = request.headers[name];
    if (value !== undefined && (value.length === 0 || (maxLength !== undefined && value.length > maxLength))) {
      throw invalid(`${name}: expected 1-${maxLength} characters, got ${value.length}`, name);
    }
  }
}

function takesBody(spec: RouteSpec): boolean {
  return spec.request?.body !== undefined || (spec.request?.binaryBodies?.length ?? 0) > 0;
}

function readBody(spec: RouteSpec, request: HttpRequest): { body?: unknown; binary?: Context['binary'] } {
  if (!takesBody(spec)) return {};
  const mediaType = baseMediaType(request.headers['content-type'] ?? MEDIA_JSON);
  if (spec.request?.binaryBodies?.includes(mediaType)) return { binary: { mediaType, bytes: request.body } };
  if (mediaType !== MEDIA_JSON || spec.request?.body === undefined) {
    const types = [...(spec.request?.body ? [MEDIA_JSON] : []), ...(spec.request?.binaryBodies ?? [])];
    throw new SluiceError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${types.join(' or ')}`);
  }
  const json = parseJson(request.body);
  for (const [field, { max, code }] of Object.entries(spec.request.maxItems ?? {})) {
    const items = (json as Record<string, unknown> | null)?.[field];
    if (Array.isArray(items) && items.length > max) {
      throw new SluiceError(code, `${field}: expected at most ${max} per request, got ${items.length}`, { details: { field, limit: max } });
    }
  }
  return { body: validate(spec.request.body, json, 'body') };
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return {};
  checkJsonDepth(bytes, LIMITS.maxJsonDepth);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new SluiceError('INVALID_REQUEST', `the body is not valid JSON${whereJsonFailed(error)}`, { cause: error });
  }
}

/** Where JSON.parse stopped, without echoing the body (it may hold anything, newlines included). */
function whereJsonFailed(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message);
  if (position) return `: unexpected character at byte ${position[1]}`;
  if (/end of JSON input/.test(message)) return ': it ends too early';
  return '';
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * INVALID_REQUEST when JSON text nests objects and arrays deeper than maxDepth. One pass over the
 * bytes before parsing, so no later step (zod, JSON.stringify of a record value) recurses past it.
 */
export function checkJsonDepth(text: Uint8Array, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) {
        throw new SluiceError('INVALID_REQUEST', `the body: JSON nests deeper than ${maxDepth} levels`, { details: { limit: maxDepth } });
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
}

/** Parses with a contract schema; a failure is INVALID_REQUEST, one sentence naming the field (lib/validation.ts). */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: 'path' | 'query' | 'body'): z.output<S> {
  return parseInput(schema, value, { whole: where === 'body' ? 'the body' : `the ${where}` });
}

/**
 * The scope's checks: with `body` undefined, those on path resources, and for those naming body
 * fields whether the key holds the action on anything at all (refused early, before the body is
 * read); with the body, the checks naming body fields, on the names the body gives.
 */
function checkScope(spec: RouteSpec, principal: Principal, params: Record<string, unknown>, body: unknown): void {
  const { scope } = spec;
  if (scope === 'public') return;
  for (const check of scope.checks) {
    if (check.everything) {
      if (body === undefined) authorizeAdminOverEverything(principal, spec.summary.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase()));
      continue;
    }
    const fromBody = [check.topic, check.group].some((ref) => ref?.startsWith('body.'));
    if (body !== undefined && !fromBody) continue;
    const actions: readonly Action[] = typeof check.action === 'string' ? [check.action] : check.action;
    const topics = check.topic === undefined ? [undefined] : resolve(check.topic, params, body);
    const groups = check.group === undefined ? [undefined] : resolve(check.group, params, body);
    for (const topic of topics) {
      for (const group of groups) {
        const resource = { ...(topic === undefined ? {} : { topic }), ...(group === undefined ? {} : { group }) };
        if (actions.some((action) => allows(principal, action, resource))) continue;
        if (resource.topic === undefined && resource.group === undefined) throw new SluiceError('FORBIDDEN', `this API key may not ${actions.join(' or ')}`);
        authorize(principal, actions[0], resource as { topic: string; group?: string });
      }
    }
  }
}

/** The names a reference points at; body references resolve to nothing (any) until the body is known. */
function resolve(ref: ResourceRef, params: Record<string, unknown>, body: unknown): Array<string | undefined> {
  if (ref.startsWith('{')) return [String(params[ref.slice(1, -1)])];
  if (body === undefined) return [undefined];
  let values: unknown[] = [body];
  for (const part of ref.slice('body.'.length).split('.')) {
    const each = part.endsWith('[]');
    const name = each ? part.slice(0, -2) : part;
    values = values.flatMap((value) => {
      const field = (value as Record<string, unknown> | null)?.[name];
      return each ? (Array.isArray(field) ? field : []) : [field];
    });
  }
  return [...new Set(values.filter((v): v is string => typeof v === 'string'))];
}

function firstValues(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of query) if (!(name in out)) out[name] = value;
  return out;
}

function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new SluiceError('INVALID_REQUEST', 'bad percent-encoding in the path');
  }
}

// ---------------------------------------------------------------------------------------------------
// Responses

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': MEDIA_JSON, ...headers }, body: JSON.stringify(body) };
}

export const noContent = (): HttpResponse => ({ status: 204, headers: {} });

export function errorResponse(error: unknown, logUnexpected: (error: unknown) => void = () => {}): HttpResponse {
  let sluiceError: SluiceError;
  if (error instanceof SluiceError) sluiceError = error;
  else if (error instanceof ThrottledError) sluiceError = new SluiceError('THROTTLED', 'storage is throttling requests; retry with backoff', { cause: error });
  else if (error instanceof StorageError) sluiceError = new SluiceError('UNAVAILABLE', 'storage is unavailable; retry (with the same Idempotency-Key for produce)', { cause: error });
  else {
    logUnexpected(error);
    sluiceError = new SluiceError('INTERNAL', 'internal error', { cause: error });
  }
  const headers: Record<string, string> = {};
  if (sluiceError.code === 'THROTTLED' || sluiceError.code === 'UNAVAILABLE') headers['retry-after'] = '1';
  const response = json(sluiceError.status, { error: { code: sluiceError.code, message: sluiceError.message, ...sluiceError.details } }, headers);
  return { ...response, observed: { errorCode: sluiceError.code as ErrorCode } };
}

export function invalid(message: string, field: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, { details: { field } });
}
