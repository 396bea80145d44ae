/** The transport-neutral request and response that the local server and the Lambda handlers adapt. */
import type { Principal } from '../auth/api-keys.ts';

export interface HttpRequest {
  readonly method: string;
  /** Path without the query string, percent-encoded as received. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
  /** Aborted when the client goes away (ends long polls early). */
  readonly signal?: AbortSignal;
  /**
   * The caller, when the transport has already authenticated it (API Gateway IAM authorization); the
   * Authorization header then carries a SigV4 signature, not an API key, and is not read. Only a
   * transport sets this, from nothing the client controls.
   */
  readonly principal?: Principal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array | string;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;

export const MEDIA_JSON = 'application/json';
/** SDK produce framing, see ./sluice-batches.ts. */
export const MEDIA_SLUICE_BATCHES = 'application/vnd.sluice.batches';
/** Kafka RecordBatch v2 batches back to back, real base offsets. */
export const MEDIA_KAFKA_BATCHES = 'application/vnd.kafka.record-batches';
