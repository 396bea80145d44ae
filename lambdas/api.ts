/** The Sluice HTTP API on Lambda (API Gateway HTTP API v2 or Function URL events). */
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { lambdaHttpHandler } from '../lib/lambda/http-adapter.ts';

const { app } = awsAppFromEnv();

export const handler = lambdaHttpHandler(app);
