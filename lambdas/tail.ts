/**
 * Live tail: Server-Sent Events through a Function URL with response streaming (lib/lambda/streaming.ts).
 * Reads only, like the fetch function. A stream ends before the function's timeout (SLUICE_STREAM_MAX_MS);
 * clients resume with Last-Event-ID.
 */
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { createPowertools, logUnexpectedError } from '../lib/lambda/observability.ts';
import { streamingHttpHandler, type StreamingRuntime } from '../lib/lambda/streaming.ts';

/** The Node.js runtime's response streaming globals. */
declare const awslambda: {
  streamifyResponse<H>(handler: H): H;
  readonly HttpResponseStream: StreamingRuntime;
};

const powertools = createPowertools('tail');
const { app } = awsAppFromEnv({ function: 'tail', logError: logUnexpectedError(powertools.logger) });

export const handler = awslambda.streamifyResponse(streamingHttpHandler(app, awslambda.HttpResponseStream));
