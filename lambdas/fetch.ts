/** Fetch: records, presigned locations and offsets by time. Reads only, on both stores. */
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { lambdaHttpHandler } from '../lib/lambda/http-adapter.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler } from '../lib/lambda/observability.ts';

// Built once per execution environment: warm invocations reuse the SDK clients and caches.
const powertools = createPowertools('fetch');
const { app } = awsAppFromEnv({ function: 'fetch', logError: logUnexpectedError(powertools.logger) });

export const handler = observedHttpHandler(lambdaHttpHandler(app), powertools);
