/**
 * The API's Lambda functions: produce (appends; never deletes), fetch (reads only), admin (topics, API
 * keys, consumer groups, the public routes) and maintenance (compaction, retention and garbage
 * collection, on its schedule and on demand: the only function that deletes). One function per group
 * of routes, so each gets only the permissions its routes need (lib/cdk/access.ts); which function
 * serves a route is the route table's `function` (lib/api/routes.ts).
 */
import { API_FUNCTION_NAMES, ROUTES, type ApiFunctionName } from '../api/routes.ts';

export { API_FUNCTION_NAMES, type ApiFunctionName };

/** The routes a function serves. */
export function routesOf(fn: ApiFunctionName) {
  return ROUTES.filter((route) => route.function === fn);
}
