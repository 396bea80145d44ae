/**
 * The whole Sluice HTTP API in one function (API Gateway HTTP API v2 or Function URL events), for
 * deployments that want a single function; the CDK construct deploys one function per route group
 * instead (lambdas/produce.ts, fetch.ts, admin.ts).
 */
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler } from '../lib/lambda/observability.ts';

const powertools = createPowertools('api');
const { app } = awsAppFromEnv({ logError: logUnexpectedError(powertools.logger) });

export const handler = observedHttpHandler(app, powertools);
