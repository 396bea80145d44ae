/**
 * The HTTP API (docs/api-v1.md), independent of transport: the local server and the Lambda handlers
 * adapt their requests to HttpRequest and serve this same application. Its routes are the contract's
 * route table (lib/api/routes.ts); a Lambda function serves only its own routes (least privilege: the
 * produce function serves produce only).
 */
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../api/limits.ts';
import { MEDIA_OCTET_STREAM } from '../api/media-types.ts';
import { ROUTES, type ApiFunctionName } from '../api/routes.ts';
import type { ApiKeys } from '../auth/api-keys.ts';
import type { Engine } from '../log/engine.ts';
import { Groups } from '../groups/groups.ts';
import { LOCAL_URL_POLICY } from '../push/config.ts';
import { NO_SECRET_BOX, PushConsumers } from '../push/consumers.ts';
import { OBJECT_ROUTE_PREFIX, type ObjectUrlSigner } from './object-urls.ts';
import { compileRoutes, createRouter, errorResponse, type Handlers } from './router.ts';
import { fetchHandlers } from './routes/fetch.ts';
import { consumerHandlers } from './routes/consumers.ts';
import { groupHandlers } from './routes/groups.ts';
import { keyHandlers } from './routes/keys.ts';
import { maintenanceHandlers } from './routes/maintenance.ts';
import { produceHandlers, type AppendHints } from './routes/produce.ts';
import { serviceHandlers } from './routes/service.ts';
import { streamHandlers, type StreamOptions } from './routes/stream.ts';
import { topicHandlers } from './routes/topics.ts';
import type { Admission, HttpHandler, HttpRequest, HttpRequestHead, HttpResponse } from './types.ts';

export { errorResponse };

export interface AppOptions {
  readonly engine: Engine;
  readonly keys: ApiKeys;
  /** Consumer groups. @default over the engine's metadata store, on `now` */
  readonly groups?: Groups;
  /** Push consumers. @default over the engine and groups, unable to create consumers (no secret key) */
  readonly consumers?: PushConsumers;
  /** Serve only the routes of these Lambda functions (lib/api/routes.ts `function`). @default every route */
  readonly functions?: readonly ApiFunctionName[];
  /** Origins allowed to call the API from browsers; `*` for any. @default none */
  readonly corsOrigins?: readonly string[];
  /** Serves presigned object URLs (local server only; in AWS, S3 serves them). */
  readonly objectUrls?: ObjectUrlSigner;
  readonly now?: () => number;
  /** The notification channel's URL, named by GET /v1/health (the local server's WebSocket). @default none */
  readonly notificationsUrl?: () => string | undefined;
  /** Live tails (Server-Sent Events): heartbeat and longest stream. */
  readonly streams?: StreamOptions;
  /** Append hints posted by the produce route before it answers (AWS: lib/lambda/append-hints.ts). @default none */
  readonly appendHints?: AppendHints;
  /** Where unexpected errors are reported (never with request bodies or keys). @default console.error */
  readonly logError?: (error: unknown, request: HttpRequest) => void;
}

/** Every operation of the route table, bound to the engine, the key store and the groups. */
export function createHandlers(deps: {
  engine: Engine;
  keys: ApiKeys;
  groups: Groups;
  consumers: PushConsumers;
  now: () => number;
  streams?: StreamOptions;
  notificationsUrl?: () => string | undefined;
  appendHints?: AppendHints;
}): Handlers {
  return {
    ...serviceHandlers({ notificationsUrl: deps.notificationsUrl }),
    ...topicHandlers(deps.engine),
    ...keyHandlers(deps.keys),
    ...produceHandlers(deps.engine, deps.now, deps.appendHints),
    ...fetchHandlers(deps.engine),
    ...streamHandlers(deps.engine, deps.keys, deps.streams),
    ...groupHandlers(deps.groups),
    ...consumerHandlers(deps.consumers),
    ...maintenanceHandlers(deps.engine),
  };
}

export function createApp(options: AppOptions): HttpHandler {
  const { engine, keys } = options;
  const now = options.now ?? Date.now;
  const groups = options.groups ?? options.consumers?.groups ?? new Groups({ engine, now });
  const consumers = options.consumers ?? new PushConsumers({ engine, groups, secrets: NO_SECRET_BOX, urlPolicy: LOCAL_URL_POLICY, now });
  const served = options.functions ? ROUTES.filter((route) => options.functions!.includes(route.function)) : ROUTES;
  const logError = options.logError ?? ((error: unknown) => console.error('sluice: unexpected error', error));
  const streams = { logError, ...options.streams };
  const handlers = createHandlers({ engine, keys, now, groups, consumers, streams, notificationsUrl: options.notificationsUrl, appendHints: options.appendHints });
  const authenticate = (request: HttpRequestHead) => (request.principal ? Promise.resolve(request.principal) : keys.authenticate(request.headers.authorization));
  const router = createRouter(compileRoutes(served, handlers), { authenticate, logError });

  async function serveObject(request: HttpRequest): Promise<HttpResponse> {
    if (!options.objectUrls || request.method !== 'GET') throw new SluiceError('NOT_FOUND', 'no such route');
    const { key, range } = options.objectUrls.verify(request.path, request.query, request.headers.range);
    const body = await engine.objects.get(key, range);
    return {
      status: 206,
      headers: {
        'content-type': MEDIA_OCTET_STREAM,
        'content-range': `bytes ${range.start}-${range.start + body.length - 1}/*`,
        'cache-control': 'private, max-age=31536000, immutable',
      },
      body,
    };
  }

  async function serve(request: HttpRequest): Promise<HttpResponse> {
    if (request.body.length > LIMITS.maxRequestBytes) {
      throw new SluiceError('PAYLOAD_TOO_LARGE', `request body exceeds ${LIMITS.maxRequestBytes} bytes`, { details: { limit: LIMITS.maxRequestBytes } });
    }
    if (request.path.startsWith(OBJECT_ROUTE_PREFIX)) return serveObject(request);
    const response = await router(request);
    if (response) return response;
    // Unknown routes also need a key, so the API reveals nothing to anonymous callers.
    await authenticate(request);
    throw new SluiceError('NOT_FOUND', 'no such route');
  }

  const withCors = (request: HttpRequestHead, response: HttpResponse): HttpResponse => {
    const cors = corsHeaders(options.corsOrigins, request.headers.origin);
    return Object.keys(cors).length === 0 ? response : { ...response, headers: { ...response.headers, ...cors } };
  };

  const handle = async (request: HttpRequest): Promise<HttpResponse> => {
    if (request.method === 'OPTIONS') return withCors(request, { status: 204, headers: { 'access-control-max-age': '600' } });
    let response: HttpResponse;
    try {
      response = await serve(request);
    } catch (error) {
      response = errorResponse(error, (e) => logError(e, request));
    }
    return withCors(request, response);
  };

  /** serve()'s refusals that need no body, in the same order, and whether the body is used (see HttpHandler.admit). */
  const admit = async (head: HttpRequestHead): Promise<Admission> => {
    if (head.method === 'OPTIONS') return { body: 'drop' };
    try {
      if (head.path.startsWith(OBJECT_ROUTE_PREFIX)) {
        if (!options.objectUrls || head.method !== 'GET') throw new SluiceError('NOT_FOUND', 'no such route');
        options.objectUrls.verify(head.path, head.query, head.headers.range);
        return { body: 'drop' };
      }
      const routed = await router.admit(head);
      if (routed !== 'unrouted') return { body: routed === 'takes a body' ? 'read' : 'drop' };
      await authenticate(head);
      throw new SluiceError('NOT_FOUND', 'no such route');
    } catch (error) {
      return { refusal: withCors(head, errorResponse(error, (e) => logError(e, { ...head, body: new Uint8Array() }))) };
    }
  };

  return Object.assign(handle, { admit });
}

function corsHeaders(allowed: readonly string[] | undefined, origin: string | undefined): Record<string, string> {
  if (!origin || !allowed || !(allowed.includes('*') || allowed.includes(origin))) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, PATCH, DELETE, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, idempotency-key, sluice-attempt, accept, last-event-id',
    'access-control-expose-headers': 'sluice-next-offset, sluice-high-watermark, retry-after',
    vary: 'Origin',
  };
}
