/** Administration: topics, API keys and consumer groups (every route the other functions do not serve). */
import { API_FUNCTIONS } from '../lib/lambda/functions.ts';
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { lambdaHttpHandler } from '../lib/lambda/http-adapter.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler } from '../lib/lambda/observability.ts';

// Built once per execution environment: warm invocations reuse the SDK clients and caches.
const powertools = createPowertools('admin');
const { app } = awsAppFromEnv({ routeGroups: API_FUNCTIONS.admin, logError: logUnexpectedError(powertools.logger) });

export const handler = observedHttpHandler(lambdaHttpHandler(app), powertools);
