/** The transport-neutral request and response that the local server and the Lambda handlers adapt. */
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
