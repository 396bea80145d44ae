/**
 * The Lambda functions of a deployment, each with its own least-privilege role (lib/cdk/access.ts);
 * every route of the route table names the one that serves it. Zod-free: the CDK construct's public
 * types use it.
 */
export const API_FUNCTION_NAMES = ['produce', 'fetch', 'admin', 'maintenance'] as const;
export type ApiFunctionName = (typeof API_FUNCTION_NAMES)[number];
