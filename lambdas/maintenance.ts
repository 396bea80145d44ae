/**
 * Maintenance: compaction, retention, gap closing and object cleanup. Invoked by its EventBridge
 * schedule (a pass, whose report is returned and logged), and by API Gateway for
 * POST /v1/admin/maintenance (the same pass on demand, admin key required).
 */
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { lambdaHttpHandler, type HttpEventV2, type HttpResultV2 } from '../lib/lambda/http-adapter.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler, recordMaintenancePass, type LambdaContext } from '../lib/lambda/observability.ts';
import type { MaintenanceReport } from '../lib/log/maintenance.ts';

const powertools = createPowertools('maintenance');
const { app, engine } = awsAppFromEnv({ function: 'maintenance', logError: logUnexpectedError(powertools.logger) });
const http = observedHttpHandler(lambdaHttpHandler(app), powertools);

/** The fields of an EventBridge scheduled event (none are needed). */
export interface ScheduledEvent {
  readonly 'detail-type'?: string;
}

export function handler(event: HttpEventV2, context?: LambdaContext): Promise<HttpResultV2>;
export function handler(event?: ScheduledEvent, context?: LambdaContext): Promise<MaintenanceReport>;
export async function handler(event?: HttpEventV2 | ScheduledEvent, context?: LambdaContext): Promise<HttpResultV2 | MaintenanceReport> {
  if (isHttpEvent(event)) return http(event, context);
  const started = performance.now();
  const report: MaintenanceReport = await engine.maintain();
  recordMaintenancePass(powertools, report, performance.now() - started);
  return report;
}

function isHttpEvent(event: unknown): event is HttpEventV2 {
  return typeof event === 'object' && event !== null && 'rawPath' in event && 'requestContext' in event;
}
