/**
 * Which function serves which path, for API Gateway, from the contract's route table
 * (lib/api/routes.ts): every route of the table is an API Gateway route to its function. The API-key
 * endpoint also has a `$default` route to the admin function, which answers unknown paths (401 or 404)
 * without revealing anything. The IAM endpoint has no default route: only the routes a key needs
 * `produce` or `consume` for exist there (never administration, never the public routes), and IAM
 * policies (grantProduce, grantConsume) decide who reaches them. test/cdk checks these.
 */
import { ROUTES, type ApiFunctionName, type RouteSpec } from '../api/routes.ts';
import { STREAMING_FUNCTION } from '../api/functions.ts';

/** Functions behind API Gateway: every one but the streaming function, which has its Function URL. */
export type GatewayFunctionName = Exclude<ApiFunctionName, typeof STREAMING_FUNCTION>;

export interface ApiRoute {
  readonly method: RouteSpec['method'];
  /** API Gateway path template: `{name}` for one segment. */
  readonly path: string;
  readonly function: GatewayFunctionName;
  /** Also served on the IAM endpoint. */
  readonly iam: boolean;
}

/** A route IAM callers may use: it needs produce or consume, never admin, and is not public. */
function servedToIamCallers(route: RouteSpec): boolean {
  if (route.scope === 'public') return false;
  const actions = [...route.scope.checks.flatMap((check) => (typeof check.action === 'string' ? [check.action] : check.action)), ...(route.scope.filter?.action ?? [])];
  return actions.length > 0 && !actions.includes('admin');
}

/**
 * API Gateway's routes. The streaming function's routes (the live tail) are not among them: an HTTP
 * API buffers answers, so they are served by that function's Function URL (sluice-streams.ts).
 */
export const API_ROUTES: readonly ApiRoute[] = ROUTES.filter((route) => route.function !== STREAMING_FUNCTION).map((route) => ({
  method: route.method,
  path: route.path,
  function: route.function as GatewayFunctionName,
  iam: servedToIamCallers(route),
}));

/** The function behind the API-key endpoint's `$default` route (unknown paths). */
export const DEFAULT_ROUTE_FUNCTION: GatewayFunctionName = 'admin';

/**
 * execute-api resources (`METHOD/path`, IAM wildcards) each grant allows on the IAM endpoint. IAM's `*`
 * also matches `/`, so every pattern is checked against the routes above (test/cdk): a producer's
 * patterns must reach only the produce route and the topic list, never a fetch route.
 */
export const IAM_GRANTS = {
  produce: ['POST/v1/topics/*/records', 'GET/v1/topics'],
  consume: ['GET/v1/topics', 'GET/v1/topics/*', 'GET/v1/groups', '*/v1/groups/*'],
} as const;
