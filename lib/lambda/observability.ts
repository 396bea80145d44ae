/**
 * Powertools for AWS Lambda in the API functions: structured JSON logs and CloudWatch metrics in the
 * Embedded Metric Format (EMF). EMF metrics are log lines that CloudWatch turns into metrics, so
 * observing a request costs no API call and adds no latency.
 *
 * Every request publishes one EMF line with the dimensions `service` and `Operation` (the function:
 * produce, fetch, admin) — few dimension values keep the number of custom metrics, and their cost,
 * fixed — and the route, status, topic, error code and request id as searchable metadata in the same
 * line. What a request was (route template, topic, lag, long poll, error code) is what the router and
 * the handlers tell in the response's `observed` (lib/http/types.ts): nothing here re-parses paths or
 * bodies.
 *
 *   Requests        1 per request
 *   ClientErrors    1 for a 4xx answer, else 0
 *   ServerErrors    1 for a 5xx answer, else 0
 *   Latency         milliseconds in the function; not for requests that asked to long-poll
 *                   (maxWaitMs > 0), whose time is the producers' pace, not Sluice's
 *   RequestBytes    body bytes received (produce throughput)
 *   ResponseBytes   body bytes sent (fetch throughput)
 *   ConsumerLag     records between where a fetch stopped and the high watermark
 *
 * Configured by the environment the CDK construct sets: POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DEPLOYMENT } from '../defaults.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from '../http/types.ts';
import type { MaintenanceReport } from '../log/maintenance.ts';
import { requestFromEvent, resultFromResponse, type HttpEventV2, type HttpResultV2 } from './http-adapter.ts';
import { API_METRICS, MAINTENANCE_METRICS, OPERATION_DIMENSION } from './metric-names.ts';

export { API_METRICS, MAINTENANCE_METRICS, OPERATION_DIMENSION };

/** The fields of the Lambda context used here (Powertools' Logger reads the rest). */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
}

export interface Powertools {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** One Logger and one Metrics per execution environment, created outside the handler. */
export function createPowertools(operation: string, env: Readonly<Record<string, string | undefined>> = process.env): Powertools {
  const serviceName = env.POWERTOOLS_SERVICE_NAME || 'sluice';
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({
      serviceName,
      namespace: env.POWERTOOLS_METRICS_NAMESPACE || DEPLOYMENT.metricsNamespace,
      defaultDimensions: { [OPERATION_DIMENSION]: operation },
    }),
  };
}

/** The application's report of unexpected errors, as structured logs (never bodies or keys). */
export function logUnexpectedError(logger: Logger): (error: unknown, request: HttpRequest) => void {
  return (error, request) => logger.error('unexpected error', { error: error as Error, method: request.method, path: request.path });
}

/** The application as a Lambda handler, with per-request metrics and the Lambda context in logs. */
export function observedHttpHandler(app: HttpHandler, { logger, metrics }: Powertools): (event: HttpEventV2, context?: LambdaContext) => Promise<HttpResultV2> {
  let coldStart = true;
  return async (event, context) => {
    if (context) logger.addContext(context as unknown as Parameters<Logger['addContext']>[0]);
    if (coldStart) {
      coldStart = false;
      metrics.captureColdStartMetric(context?.functionName);
    }
    const started = performance.now();
    const request = requestFromEvent(event);
    let response: HttpResponse | undefined;
    try {
      response = await app(request);
      return resultFromResponse(response);
    } finally {
      // A handler that throws (the application answers every error itself, so this is a bug) counts as a 500.
      const route = response?.observed?.route ?? `${request.method} ${request.path}`;
      record(metrics, request, response, route, performance.now() - started, context);
      if (!response || response.status >= 500) logger.warn('server error', { route, status: response?.status ?? 500, code: response?.observed?.errorCode });
    }
  };
}

/**
 * One maintenance pass: the whole report as a structured log line, and its counts as metrics when it
 * did something. A custom metric is billed for every hour it receives data, and the schedule runs
 * every few minutes whether or not anyone uses Sluice: idle passes publish no metrics, so an idle
 * deployment pays for none.
 */
export function recordMaintenancePass({ logger, metrics }: Powertools, report: MaintenanceReport, durationMs: number): void {
  const fields = Object.entries(MAINTENANCE_METRICS) as Array<[keyof typeof MAINTENANCE_METRICS, string]>;
  if (fields.some(([field]) => report[field] > 0)) {
    for (const [field, name] of fields) metrics.addMetric(name, MetricUnit.Count, report[field]);
    metrics.addMetric(API_METRICS.latency, MetricUnit.Milliseconds, Math.round(durationMs));
    metrics.publishStoredMetrics();
  }
  if (report.errors > 0) logger.warn('maintenance pass had errors', { ...report });
  else logger.info('maintenance pass', { ...report });
}

function record(metrics: Metrics, request: HttpRequest, response: HttpResponse | undefined, route: string, latencyMs: number, context: LambdaContext | undefined): void {
  const status = response?.status ?? 500;
  const observed = response?.observed ?? {};
  metrics.addMetric(API_METRICS.requests, MetricUnit.Count, 1);
  metrics.addMetric(API_METRICS.clientErrors, MetricUnit.Count, status >= 400 && status < 500 ? 1 : 0);
  metrics.addMetric(API_METRICS.serverErrors, MetricUnit.Count, status >= 500 ? 1 : 0);
  if (!observed.longPoll) metrics.addMetric(API_METRICS.latency, MetricUnit.Milliseconds, Math.round(latencyMs * 100) / 100);
  metrics.addMetric(API_METRICS.requestBytes, MetricUnit.Bytes, request.body.length);
  if (response) metrics.addMetric(API_METRICS.responseBytes, MetricUnit.Bytes, bodyBytes(response.body));
  if (observed.lag !== undefined) metrics.addMetric(API_METRICS.consumerLag, MetricUnit.Count, observed.lag);
  if (observed.appendHintsPosted !== undefined) metrics.addMetric(API_METRICS.appendHintsPosted, MetricUnit.Count, observed.appendHintsPosted);
  if (observed.appendHintsLate !== undefined) metrics.addMetric(API_METRICS.appendHintsLate, MetricUnit.Count, observed.appendHintsLate);
  if (observed.appendHintsGone !== undefined) metrics.addMetric(API_METRICS.appendHintsGone, MetricUnit.Count, observed.appendHintsGone);
  metrics.addMetadata('route', route);
  metrics.addMetadata('status', String(status));
  if (observed.topic) metrics.addMetadata('topic', observed.topic);
  if (observed.errorCode) metrics.addMetadata('errorCode', observed.errorCode);
  if (context) metrics.addMetadata('requestId', context.awsRequestId);
  metrics.publishStoredMetrics();
}

function bodyBytes(body: HttpResponse['body']): number {
  if (body === undefined) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
}
