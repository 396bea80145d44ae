/**
 * The HTTP API (../shared/api-v1.md), independent of transport: the local server and the Lambda
 * handlers adapt their requests to HttpRequest and serve this same application. A Lambda function
 * may serve only some route groups (least privilege: the produce function serves produce only).
 */
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import type { ApiKeys } from '../auth/api-keys.ts';
import type { Engine } from '../log/engine.ts';
import { Groups } from '../groups/groups.ts';
import { LOCAL_URL_POLICY } from '../push/config.ts';
import { NO_SECRET_BOX, PushConsumers } from '../push/consumers.ts';
import { OBJECT_ROUTE_PREFIX, type ObjectUrlSigner } from './object-urls.ts';
import { errorResponse, type Route } from './router.ts';
import { fetchRoutes } from './routes/fetch.ts';
import { consumerRoutes } from './routes/consumers.ts';
import { groupRoutes } from './routes/groups.ts';
import { keyRoutes } from './routes/keys.ts';
import { maintenanceRoutes } from './routes/maintenance.ts';
import { produceRoutes } from './routes/produce.ts';
import { topicRoutes } from './routes/topics.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from './types.ts';

export { errorResponse };

export interface AppOptions {
  readonly engine: Engine;
  readonly keys: ApiKeys;
  /** Consumer groups. @default over the engine's metadata store, on `now` */
  readonly groups?: Groups;
  /** Push consumers. @default over the engine and groups, unable to create consumers (no secret key) */
  readonly consumers?: PushConsumers;
  /** Which routes to serve. @default every group */
  readonly routeGroups?: readonly RouteGroup[];
  /** Origins allowed to call the API from browsers; `*` for any. @default none */
  readonly corsOrigins?: readonly string[];
  /** Serves presigned object URLs (local server only; in AWS, S3 serves them). */
  readonly objectUrls?: ObjectUrlSigner;
  readonly now?: () => number;
  /** Where unexpected errors are reported (never with request bodies or keys). @default console.error */
  readonly logError?: (error: unknown, request: HttpRequest) => void;
}

interface RouteDeps {
  readonly engine: Engine;
  readonly keys: ApiKeys;
  readonly groups: Groups;
  readonly consumers: PushConsumers;
  readonly now: () => number;
}

/** Routes by the function that serves them in AWS. */
export const ROUTE_GROUPS = {
  /** Topic and key administration, topic description. */
  admin: (deps: RouteDeps) => [...topicRoutes(deps.engine), ...keyRoutes(deps.keys)],
  produce: (deps: RouteDeps) => produceRoutes(deps.engine, deps.now),
  /** Records, locations and offsets by time: reads only. */
  fetch: (deps: RouteDeps) => fetchRoutes(deps.engine),
  /** Consumer groups: membership, heartbeats, commits, description, offset resets. */
  groups: (deps: RouteDeps) => groupRoutes(deps.groups),
  /** Push consumers: configuration and state (delivery is the dispatcher's, not a route's). */
  consumers: (deps: RouteDeps) => consumerRoutes(deps.consumers),
  /**
   * Maintenance on demand: compaction and garbage collection write and delete objects, so in AWS only
   * the maintenance function (the one allowed to delete) serves it.
   */
  maintenance: (deps: RouteDeps) => maintenanceRoutes(deps.engine),
} satisfies Record<string, (deps: RouteDeps) => Route[]>;

export type RouteGroup = keyof typeof ROUTE_GROUPS;

export function createApp(options: AppOptions): HttpHandler {
  const { engine, keys } = options;
  const now = options.now ?? Date.now;
  const groups = options.groups ?? options.consumers?.groups ?? new Groups({ engine, now });
  const consumers = options.consumers ?? new PushConsumers({ engine, groups, secrets: NO_SECRET_BOX, urlPolicy: LOCAL_URL_POLICY, now });
  const deps = { engine, keys, now, groups, consumers };
  const served = options.routeGroups ?? (Object.keys(ROUTE_GROUPS) as RouteGroup[]);
  const routes = served.flatMap((group) => ROUTE_GROUPS[group](deps));
  const logError = options.logError ?? ((error: unknown) => console.error('sluice: unexpected error', error));

  async function serveObject(request: HttpRequest): Promise<HttpResponse> {
    if (!options.objectUrls || request.method !== 'GET') throw new SluiceError('NOT_FOUND', 'no such route');
    const { key, range } = options.objectUrls.verify(request.path, request.query, request.headers.range);
    const body = await engine.objects.get(key, range);
    return {
      status: 206,
      headers: {
        'content-type': 'application/octet-stream',
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
    let methodMismatch = false;
    for (const candidate of routes) {
      const match = candidate.pattern.exec(request.path);
      if (!match) continue;
      if (candidate.method !== request.method) {
        methodMismatch = true;
        continue;
      }
      const principal = request.principal ?? (await keys.authenticate(request.headers.authorization));
      const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeSegment(v)]));
      return candidate.handle({ request, params, principal });
    }
    // Unknown routes also need a key, so the API reveals nothing to anonymous callers.
    if (!request.principal) await keys.authenticate(request.headers.authorization);
    throw methodMismatch ? new SluiceError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here`) : new SluiceError('NOT_FOUND', 'no such route');
  }

  return async (request) => {
    const cors = corsHeaders(options.corsOrigins, request.headers.origin);
    if (request.method === 'OPTIONS') return { status: 204, headers: { ...cors, 'access-control-max-age': '600' } };
    let response: HttpResponse;
    try {
      response = await serve(request);
    } catch (error) {
      response = errorResponse(error, (e) => logError(e, request));
    }
    return Object.keys(cors).length === 0 ? response : { ...response, headers: { ...response.headers, ...cors } };
  };
}

function corsHeaders(allowed: readonly string[] | undefined, origin: string | undefined): Record<string, string> {
  if (!origin || !allowed || !(allowed.includes('*') || allowed.includes(origin))) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, idempotency-key, accept',
    'access-control-expose-headers': 'sluice-next-offset, sluice-high-watermark, retry-after',
    vary: 'Origin',
  };
}

function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new SluiceError('INVALID_REQUEST', 'bad percent-encoding in the path');
  }
}
