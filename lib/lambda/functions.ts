/**
 * The API's Lambda functions and the route groups (lib/http/app.ts ROUTE_GROUPS) each one serves. One
 * function per group of routes, so each gets only the permissions its routes need (lib/cdk). The CDK
 * construct routes paths to these functions; test/cdk checks that every route reaches the function
 * that serves it.
 */
import type { RouteGroup } from '../http/app.ts';

export const API_FUNCTIONS = {
  /** Appends: S3 PutObject, DynamoDB reads and writes, never deletes. */
  produce: ['produce'],
  /** Reads only, on both stores. */
  fetch: ['fetch'],
  /**
   * Topics, API keys, consumer groups and push consumers: metadata, plus reading records for a consumer
   * group's offset reset to a timestamp.
   */
  admin: ['admin', 'groups', 'consumers'],
  /**
   * Compaction, retention and garbage collection, on its schedule and on demand
   * (POST /v1/admin/maintenance): the only function that deletes.
   */
  maintenance: ['maintenance'],
} as const satisfies Record<string, readonly RouteGroup[]>;

export type ApiFunctionName = keyof typeof API_FUNCTIONS;
