/**
 * API Gateway HTTP API (payload 2.0) and Lambda Function URL events ↔ HttpRequest/HttpResponse.
 * Both deliver the same event shape.
 */
import type { HttpHandler, HttpResponse } from '../http/types.ts';

/** The fields of APIGatewayProxyEventV2 this adapter reads. */
export interface HttpEventV2 {
  readonly rawPath: string;
  readonly rawQueryString?: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly cookies?: readonly string[];
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly http: { readonly method: string } };
}

export interface HttpResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

const TEXT_TYPES = /^(application\/json|text\/)/;

export function lambdaHttpHandler(app: HttpHandler): (event: HttpEventV2) => Promise<HttpResultV2> {
  return async (event) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    const body = event.body === undefined ? new Uint8Array(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const response = await app({
      method: event.requestContext.http.method.toUpperCase(),
      path: event.rawPath,
      query: new URLSearchParams(event.rawQueryString ?? ''),
      headers,
      body,
    });
    return toResult(response);
  };
}

function toResult(response: HttpResponse): HttpResultV2 {
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
