/**
 * List prices (us-east-1, on-demand) and the cost model that turns counted requests into dollars.
 * Only request-driven charges: S3 storage, data transfer out and CloudWatch are separate.
 */
import type { OperationCount } from './request-counter.ts';

export const PRICES_USD = {
  /** S3 Standard PUT, COPY, POST, LIST requests. */
  s3PutRequest: 0.005 / 1000,
  /** S3 Standard GET, SELECT and all other requests. */
  s3GetRequest: 0.0004 / 1000,
  /** DynamoDB on-demand: one write of ≤1 KB. */
  dynamoWriteUnit: 0.625 / 1e6,
  /** DynamoDB on-demand: one strongly consistent read of ≤4 KB. */
  dynamoReadUnit: 0.125 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  /** arm64 (x86 is $0.0000166667). */
  lambdaGbSecond: 0.0000133334,
  /** HTTP API, first 300 million requests a month. */
  apiGatewayRequest: 1 / 1e6,
  /**
   * S3 Express One Zone (directory buckets), us-east-1, after the April 2025 price cut, from the S3
   * FAQ's worked example: PUTs $0.00113 and GETs $0.00003 per 1,000, DELETEs free, and per-GB upload
   * and retrieval charges on every byte (the example charges them on 10 KB requests: the old rule of
   * charging only the part of a request above 512 KB is gone). Storage $0.11 per GB-month.
   */
  s3ExpressPutRequest: 0.00113 / 1000,
  s3ExpressGetRequest: 0.00003 / 1000,
  s3ExpressUploadPerGiB: 0.0032,
  s3ExpressRetrievalPerGiB: 0.0006,
  s3ExpressStoragePerGiBMonth: 0.11,
  kinesisIngestPerGiB: 0.08,
  kinesisRetrievalPerGiB: 0.04,
} as const;

/** Stated, not measured: Lambda time depends on S3 and DynamoDB latency in the real region. */
export const LAMBDA_ASSUMPTIONS = {
  memoryMb: 1769,
  /** One S3 PUT plus four sequential DynamoDB round trips. */
  produceSeconds: 0.1,
  /** Two sequential DynamoDB reads plus parallel ranged S3 GETs. */
  fetchSeconds: 0.08,
  /** Two sequential DynamoDB reads; presigning is local. */
  locationsSeconds: 0.02,
  /** A maintenance pass is bound by S3 transfer (GET the ranges, PUT the segment): ~50 MiB/s each way. */
  maintenanceSecondsPerMiB: 0.04,
} as const;

/** HTTP APIs meter a request per started 512 KB of payload. */
export const API_GATEWAY_METERING_BYTES = 512 * 1024;

const S3_PUT_CLASS = new Set(['PutObject', 'CopyObject', 'ListObjectsV2', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']);
const S3_GET_CLASS = new Set(['GetObject', 'HeadObject']);
/** Free on S3 (DELETE requests are not charged). */
const S3_FREE = new Set(['DeleteObjects', 'DeleteObject']);
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const DYNAMO_READS = new Set(['GetItem', 'Query']);

/** Billable units of one phase of work. */
export interface Usage {
  readonly s3PutRequests: number;
  readonly s3GetRequests: number;
  readonly dynamoWriteUnits: number;
  readonly dynamoReadUnits: number;
  readonly dynamoRequests: number;
  readonly lambdaInvocations: number;
  readonly lambdaSeconds: number;
  readonly apiGatewayRequests: number;
  /** Requests to an S3 Express One Zone directory bucket (ingest objects with `ingestObjects: { storage: 'express' }`). */
  readonly s3ExpressPutRequests?: number;
  readonly s3ExpressGetRequests?: number;
  /** Bytes written to and read from it, charged per GiB. */
  readonly s3ExpressUploadGiB?: number;
  readonly s3ExpressRetrievalGiB?: number;
}

export interface Cost {
  /** S3 requests (and, for a directory bucket, its per-GiB upload and retrieval charges). */
  readonly s3Usd: number;
  /** The directory bucket's part of s3Usd. */
  readonly s3ExpressUsd: number;
  readonly dynamoUsd: number;
  readonly lambdaUsd: number;
  readonly apiGatewayUsd: number;
  readonly totalUsd: number;
}

/** API calls that went through API Gateway and Lambda, and how big their payloads were. */
export interface ApiCalls {
  readonly invocations: number;
  readonly secondsEach: number;
  /** Per call: the larger of request and response body. */
  readonly payloadBytes: readonly number[];
}

/** Units from counted SDK requests, API calls, and GETs clients make straight to S3 (presigned). */
export function usageOf(counts: readonly OperationCount[], api: ApiCalls, presignedGets = 0): Usage {
  let s3PutRequests = 0;
  let s3GetRequests = presignedGets;
  let dynamoWriteUnits = 0;
  let dynamoReadUnits = 0;
  let dynamoRequests = 0;
  let s3ExpressPutRequests = 0;
  let s3ExpressGetRequests = 0;
  let s3ExpressUploadBytes = 0;
  let s3ExpressRetrievalBytes = 0;
  for (const count of counts) {
    if (count.service === 'S3') {
      if (S3_PUT_CLASS.has(count.operation)) s3PutRequests += count.requests;
      else if (S3_GET_CLASS.has(count.operation)) s3GetRequests += count.requests;
      else if (!S3_FREE.has(count.operation)) throw new Error(`no price class for S3 ${count.operation}`);
      continue;
    }
    if (count.service === 'S3Express') {
      if (S3_PUT_CLASS.has(count.operation)) {
        s3ExpressPutRequests += count.requests;
        s3ExpressUploadBytes += count.requestBytes;
      } else if (S3_GET_CLASS.has(count.operation)) {
        s3ExpressGetRequests += count.requests;
        s3ExpressRetrievalBytes += count.responseBytes;
      } else if (!S3_FREE.has(count.operation)) throw new Error(`no price class for S3 Express ${count.operation}`);
      continue;
    }
    dynamoRequests += count.requests;
    if (DYNAMO_WRITES.has(count.operation)) dynamoWriteUnits += count.capacityUnits;
    else if (DYNAMO_READS.has(count.operation)) dynamoReadUnits += count.capacityUnits;
    else throw new Error(`no price class for DynamoDB ${count.operation}`);
  }
  return {
    s3PutRequests,
    s3GetRequests,
    dynamoWriteUnits,
    dynamoReadUnits,
    dynamoRequests,
    lambdaInvocations: api.invocations,
    lambdaSeconds: api.invocations * api.secondsEach,
    apiGatewayRequests: api.payloadBytes.reduce((sum, bytes) => sum + Math.max(1, Math.ceil(bytes / API_GATEWAY_METERING_BYTES)), 0),
    s3ExpressPutRequests,
    s3ExpressGetRequests,
    s3ExpressUploadGiB: s3ExpressUploadBytes / 2 ** 30,
    s3ExpressRetrievalGiB: s3ExpressRetrievalBytes / 2 ** 30,
  };
}

export function scaleUsage(usage: Usage, factor: number): Usage {
  const scaled = {} as Record<keyof Usage, number>;
  for (const [name, value] of Object.entries(usage)) scaled[name as keyof Usage] = value * factor;
  return scaled;
}

export function costOf(usage: Usage): Cost {
  const s3ExpressUsd =
    (usage.s3ExpressPutRequests ?? 0) * PRICES_USD.s3ExpressPutRequest +
    (usage.s3ExpressGetRequests ?? 0) * PRICES_USD.s3ExpressGetRequest +
    (usage.s3ExpressUploadGiB ?? 0) * PRICES_USD.s3ExpressUploadPerGiB +
    (usage.s3ExpressRetrievalGiB ?? 0) * PRICES_USD.s3ExpressRetrievalPerGiB;
  const s3Usd = usage.s3PutRequests * PRICES_USD.s3PutRequest + usage.s3GetRequests * PRICES_USD.s3GetRequest + s3ExpressUsd;
  const dynamoUsd = usage.dynamoWriteUnits * PRICES_USD.dynamoWriteUnit + usage.dynamoReadUnits * PRICES_USD.dynamoReadUnit;
  const gbSeconds = usage.lambdaSeconds * (LAMBDA_ASSUMPTIONS.memoryMb / 1024);
  const lambdaUsd = usage.lambdaInvocations * PRICES_USD.lambdaRequest + gbSeconds * PRICES_USD.lambdaGbSecond;
  const apiGatewayUsd = usage.apiGatewayRequests * PRICES_USD.apiGatewayRequest;
  return { s3Usd, s3ExpressUsd, dynamoUsd, lambdaUsd, apiGatewayUsd, totalUsd: s3Usd + dynamoUsd + lambdaUsd + apiGatewayUsd };
}
