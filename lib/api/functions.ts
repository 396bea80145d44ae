/**
 * The Lambda functions of a deployment, each with its own least-privilege role (lib/cdk/access.ts);
 * every route of the route table names the one that serves it. Zod-free: the CDK construct's public
 * types use it.
 */
export const API_FUNCTION_NAMES = ['produce', 'fetch', 'admin', 'maintenance', 'tail'] as const;
/** The function whose routes answer with a streamed body: served by its Function URL (response streaming), not by API Gateway. */
export const STREAMING_FUNCTION = 'tail' satisfies ApiFunctionName;
export type ApiFunctionName = (typeof API_FUNCTION_NAMES)[number];
