/**
 * An independent SigV4 check of presigned (query-signed) URLs, written from the AWS specification
 * rather than with the SDK's signer, so a test can prove what S3 would accept. s3rver skips SigV4
 * verification entirely; startS3rver uses this to enforce presigned URLs the way S3 does.
 */
import { createHash, createHmac } from 'node:crypto';

export interface PresignedRequest {
  readonly method: string;
  /** Path and query exactly as sent, e.g. `/bucket/key?X-Amz-Algorithm=...`. */
  readonly pathAndQuery: string;
  /** Request headers; names in any case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type PresignedVerdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

/** RFC 3986 encoding as SigV4 requires: everything but unreserved characters is percent-encoded. */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function verifyPresignedRequest(request: PresignedRequest, secretAccessKey: string): PresignedVerdict {
  const questionMark = request.pathAndQuery.indexOf('?');
  const path = questionMark < 0 ? request.pathAndQuery : request.pathAndQuery.slice(0, questionMark);
  const rawQuery = questionMark < 0 ? '' : request.pathAndQuery.slice(questionMark + 1);
  const params: [string, string][] = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));
      return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
    });
  const param = (name: string) => params.find(([key]) => key === name)?.[1];

  if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return { valid: false, reason: 'not a SigV4 presigned request' };
  const signature = param('X-Amz-Signature');
  const credential = param('X-Amz-Credential');
  const amzDate = param('X-Amz-Date');
  const signedHeaders = param('X-Amz-SignedHeaders');
  if (!signature || !credential || !amzDate || !signedHeaders) return { valid: false, reason: 'missing SigV4 query parameters' };

  const headerValue = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(request.headers)) {
      if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(',') : value;
    }
    return undefined;
  };
  const canonicalHeaders: string[] = [];
  for (const name of signedHeaders.split(';')) {
    const value = headerValue(name);
    if (value === undefined) return { valid: false, reason: `signed header ${name} is missing from the request` };
    canonicalHeaders.push(`${name}:${value.trim().replace(/\s+/g, ' ')}\n`);
  }

  const canonicalQuery = params
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [encodeRfc3986(key), encodeRfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const payloadHash = param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  // S3 signs the path as sent (no normalisation, no second round of encoding).
  const canonicalRequest = [request.method.toUpperCase(), path, canonicalQuery, canonicalHeaders.join(''), signedHeaders, payloadHash].join('\n');

  const [, date, region, service, terminator] = credential.split('/');
  if (!date || !region || !service || terminator !== 'aws4_request') return { valid: false, reason: 'malformed credential scope' };
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = hmac(signingKey, stringToSign).toString('hex');
  return expected === signature ? { valid: true } : { valid: false, reason: 'SignatureDoesNotMatch' };
}
