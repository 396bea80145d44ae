/**
 * A Lambda-backed CloudFormation custom resource without the CDK provider framework: the function
 * answers CloudFormation itself by PUTting the result to the event's presigned ResponseURL. That saves
 * a second (framework) function and its permissions. CloudFormation waits up to an hour for that
 * answer, so every path through respond() sends one, failures included.
 */

/** The fields of a CloudFormation custom resource request that are used here. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  /** Absent on Create. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
}

export interface RespondOptions {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Where a failure is reported besides CloudFormation. @default console.error */
  readonly logError?: (message: string, error: unknown) => void;
}

/**
 * Runs `work` and reports its outcome to CloudFormation. `work` returns the physical resource id; the
 * reason sent on failure is the error's message, so work must never put secrets in error messages.
 */
export async function respond(event: CustomResourceEvent, work: () => Promise<string>, options: RespondOptions = {}): Promise<void> {
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = 'OK';
  let physicalResourceId = event.PhysicalResourceId ?? `${event.LogicalResourceId}-${event.RequestId}`;
  try {
    physicalResourceId = await work();
  } catch (error) {
    status = 'FAILED';
    reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    (options.logError ?? ((message, e) => console.error(message, e)))(`custom resource ${event.RequestType} failed`, error);
  }
  const body = JSON.stringify({
    Status: status,
    // CloudFormation rejects responses over 4 KB.
    Reason: reason.slice(0, 1000),
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  // The URL is presigned for a PUT without a content type: sending one would break its signature.
  const response = await (options.fetch ?? fetch)(event.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!response.ok) throw new Error(`CloudFormation did not take the response: HTTP ${response.status}`);
}
