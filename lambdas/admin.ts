/** Administration: topics, API keys and consumer groups (every route the other functions do not serve). */
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { lambdaHttpHandler } from '../lib/lambda/http-adapter.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler } from '../lib/lambda/observability.ts';

// Built once per execution environment: warm invocations reuse the SDK clients and caches.
const powertools = createPowertools('admin');
const { app } = awsAppFromEnv({ function: 'admin', logError: logUnexpectedError(powertools.logger) });

export const handler = observedHttpHandler(lambdaHttpHandler(app), powertools);
