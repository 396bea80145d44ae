/**
 * API Gateway HTTP API (payload 2.0) and Lambda Function URL events ↔ HttpRequest/HttpResponse.
 * Both deliver the same event shape.
 */
import { IAM_PRINCIPAL_PREFIX, type Principal, type Scope } from '../auth/api-keys.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from '../http/types.ts';

/** The fields of APIGatewayProxyEventV2 this adapter reads. */
export interface HttpEventV2 {
  /** `POST /v1/topics/{topic}/records`, or `$default` (API Gateway only). */
  readonly routeKey?: string;
  readonly rawPath: string;
  readonly rawQueryString?: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly cookies?: readonly string[];
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: {
    readonly http: { readonly method: string };
    /** Present when API Gateway authorized the call with IAM (SigV4): who signed it. */
    readonly authorizer?: { readonly iam?: { readonly userArn?: string; readonly callerId?: string; readonly accountId?: string } };
  };
}

export interface HttpResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

const TEXT_TYPES = /^(application\/json|text\/)/;

/**
 * What a caller authorized by IAM may do in the application. IAM policies decide which routes it can
 * reach at all (SluiceStreams.grantProduce and grantConsume allow the produce or the consume routes of
 * the IAM endpoint); administration is never granted this way, only with API keys.
 */
export const IAM_CALLER_SCOPES: readonly Scope[] = [
  { action: 'produce', topics: ['*'], groups: ['*'] },
  { action: 'consume', topics: ['*'], groups: ['*'] },
];

export function lambdaHttpHandler(app: HttpHandler): (event: HttpEventV2) => Promise<HttpResultV2> {
  return async (event) => resultFromResponse(await app(requestFromEvent(event)));
}

/** The application's request for an event: lower-case headers, the decoded body, the IAM caller. */
export function requestFromEvent(event: HttpEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  const body = event.body === undefined ? new Uint8Array(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body,
    principal: iamPrincipal(event),
  };
}

/** The caller API Gateway authenticated with IAM, if it did; API Gateway sets this, never the client. */
function iamPrincipal(event: HttpEventV2): Principal | undefined {
  const iam = event.requestContext.authorizer?.iam;
  const identity = iam?.userArn || iam?.callerId;
  if (!identity) return undefined;
  return { keyId: `${IAM_PRINCIPAL_PREFIX}${identity}`, name: identity, scopes: IAM_CALLER_SCOPES.map((scope) => ({ ...scope })) };
}

/** The Lambda result for the application's response: text bodies as text, binary ones in base64. */
export function resultFromResponse(response: HttpResponse): HttpResultV2 {
  // Streamed answers have their own transport (./streaming.ts): a function that buffers never serves their routes.
  if (response.stream) throw new Error('a streamed answer reached a buffering transport (serve the tail function through lib/lambda/streaming.ts)');
  const { body } = response;
  if (body === undefined) return { statusCode: response.status, headers: response.headers, body: '', isBase64Encoded: false };
  if (typeof body === 'string') return { statusCode: response.status, headers: response.headers, body, isBase64Encoded: false };
  const textual = TEXT_TYPES.test(response.headers['content-type'] ?? '');
  return {
    statusCode: response.status,
    headers: response.headers,
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString(textual ? 'utf8' : 'base64'),
    isBase64Encoded: !textual,
  };
}
