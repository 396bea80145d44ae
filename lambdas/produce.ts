/** Produce: POST /v1/topics/{topic}/records. Writes objects and log entries; cannot delete. */
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { lambdaHttpHandler } from '../lib/lambda/http-adapter.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler } from '../lib/lambda/observability.ts';

// Built once per execution environment: warm invocations reuse the SDK clients and caches.
const powertools = createPowertools('produce');
const { app } = awsAppFromEnv({ function: 'produce', logError: logUnexpectedError(powertools.logger) });

export const handler = observedHttpHandler(lambdaHttpHandler(app), powertools);
