/**
 * Which function serves which path, for API Gateway. The API-key endpoint sends everything not listed
 * here to the admin function (its `$default` route), so new admin and consumer-group routes need no
 * change here; produce and fetch routes must be listed. The IAM endpoint has no default route: only
 * the listed routes exist there, and IAM policies (grantProduce, grantConsume) decide who reaches them.
 * test/cdk checks these against the application's own routes (lib/http).
 */
import type { ApiFunctionName } from '../lambda/functions.ts';

export interface ApiRoute {
  /** An HTTP method, or ANY. */
  readonly method: string;
  /** API Gateway path template: `{name}` for one segment, `{name+}` for the rest of the path. */
  readonly path: string;
  readonly function: ApiFunctionName;
  /** Also served on the IAM endpoint. */
  readonly iam: boolean;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/v1/topics/{topic}/records', function: 'produce', iam: true },
  { method: 'GET', path: '/v1/topics/{topic}/partitions/{partition}/records', function: 'fetch', iam: true },
  { method: 'GET', path: '/v1/topics/{topic}/partitions/{partition}/locations', function: 'fetch', iam: true },
  { method: 'GET', path: '/v1/topics/{topic}/partitions/{partition}/offsets', function: 'fetch', iam: true },
  // IAM callers may list and describe topics (producers learn partition counts) and use consumer groups.
  { method: 'GET', path: '/v1/topics', function: 'admin', iam: true },
  { method: 'GET', path: '/v1/topics/{topic}', function: 'admin', iam: true },
  { method: 'ANY', path: '/v1/groups/{proxy+}', function: 'admin', iam: true },
  // Maintenance on demand runs where deleting is allowed. API Gateway answers 503 after 30 s; a longer
  // pass still runs to the end in the function.
  { method: 'POST', path: '/v1/admin/maintenance', function: 'maintenance', iam: false },
];

/** The function behind the API-key endpoint's `$default` route. */
export const DEFAULT_ROUTE_FUNCTION: ApiFunctionName = 'admin';

/**
 * execute-api resources (`METHOD/path`, IAM wildcards) each grant allows on the IAM endpoint. IAM's `*`
 * also matches `/`, so every pattern is checked against the routes above (test/cdk): a producer's
 * patterns must reach only the produce route and the topic list, never a fetch route.
 */
export const IAM_GRANTS = {
  produce: ['POST/v1/topics/*/records', 'GET/v1/topics'],
  consume: ['GET/v1/topics', 'GET/v1/topics/*', '*/v1/groups/*'],
} as const;
