/**
 * The HTTP API (../shared/api-v1.md), independent of transport: the local server and the Lambda
 * handlers adapt their requests to HttpRequest and serve this same application.
 */
import { SluiceError, StorageError, ThrottledError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import { sha256Hex } from '../hash.ts';
import { ApiKeys, authorize, allows, type Principal } from '../auth/api-keys.ts';
import { writeBaseOffset } from '../protocol/record-batch.ts';
import type { Engine } from '../log/engine.ts';
import { batchesToJson, parseJsonProduce } from './json-records.ts';
import { OBJECT_ROUTE_PREFIX, type ObjectUrlSigner } from './object-urls.ts';
import { parseSluiceBatches } from './sluice-batches.ts';
import { MEDIA_JSON, MEDIA_KAFKA_BATCHES, MEDIA_SLUICE_BATCHES, type HttpHandler, type HttpRequest, type HttpResponse } from './types.ts';

export interface AppOptions {
  readonly engine: Engine;
  readonly keys: ApiKeys;
  /** Origins allowed to call the API from browsers; `*` for any. @default none */
  readonly corsOrigins?: readonly string[];
  /** Serves presigned object URLs (local server only; in AWS, S3 serves them). */
  readonly objectUrls?: ObjectUrlSigner;
  readonly now?: () => number;
  /** Where unexpected errors are reported (never with request bodies or keys). @default console.error */
  readonly logError?: (error: unknown, request: HttpRequest) => void;
}

interface Context {
  readonly request: HttpRequest;
  readonly params: Record<string, string>;
  readonly principal: Principal;
}

type Route = { method: string; pattern: RegExp; handle: (ctx: Context) => Promise<HttpResponse> };

export function createApp(options: AppOptions): HttpHandler {
  const { engine, keys } = options;
  const now = options.now ?? Date.now;
  const logError = options.logError ?? ((error: unknown) => console.error('sluice: unexpected error', error));

  const routes: Route[] = [
    route('POST', '/v1/topics', async ({ request, principal }) => {
      authorize(principal, 'admin');
      const body = jsonBody(request) as { name?: unknown; partitions?: unknown; config?: unknown };
      if (typeof body?.name !== 'string') throw invalid('name is required', 'name');
      authorize(principal, 'admin', { topic: body.name });
      const topic = await engine.topics.create(body.name, typeof body.partitions === 'number' ? body.partitions : Number.NaN, body.config ?? {});
      return json(201, { name: topic.name, partitions: topic.partitions, config: topic.config });
    }),
    route('GET', '/v1/topics', async ({ principal }) => {
      const topics = (await engine.topics.list()).filter(
        (t) => allows(principal, 'consume', { topic: t.name }) || allows(principal, 'produce', { topic: t.name }),
      );
      return json(200, { topics: topics.map((t) => ({ name: t.name, partitions: t.partitions })) });
    }),
    route('GET', '/v1/topics/:topic', async ({ params, principal }) => {
      if (!allows(principal, 'consume', { topic: params.topic }) && !allows(principal, 'produce', { topic: params.topic })) {
        authorize(principal, 'consume', { topic: params.topic });
      }
      const { topic, partitions } = await engine.describeTopic(params.topic);
      return json(200, {
        name: topic.name,
        config: topic.config,
        partitions: partitions.map((p) => ({ partition: p.partition, startOffset: p.startOffset.toString(), endOffset: p.endOffset.toString() })),
      });
    }),
    route('DELETE', '/v1/topics/:topic', async ({ params, principal }) => {
      authorize(principal, 'admin', { topic: params.topic });
      await engine.topics.delete(params.topic);
      return { status: 204, headers: {} };
    }),
    route('POST', '/v1/topics/:topic/records', async ({ request, params, principal }) => {
      authorize(principal, 'produce', { topic: params.topic });
      const topic = await engine.topics.get(params.topic);
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > LIMITS.maxIdempotencyKeyLength)) {
        throw invalid(`Idempotency-Key must be 1-${LIMITS.maxIdempotencyKeyLength} characters`, 'Idempotency-Key');
      }
      const mediaType = mediaTypeOf(request);
      const idempotency = idempotencyKey
        ? { key: idempotencyKey, fingerprint: await sha256Hex(Buffer.concat([Buffer.from(`${mediaType}\n`), request.body])) }
        : undefined;
      if (mediaType === MEDIA_SLUICE_BATCHES) {
        const results = await engine.produce(topic.name, parseSluiceBatches(request.body), idempotency);
        return json(200, {
          partitions: results.map((r) => ({ partition: r.partition, baseOffset: r.baseOffset.toString(), recordCount: r.recordCount })),
        });
      }
      // Unkeyed records of one request go to one partition (Kafka's sticky partitioning); the choice
      // is derived from the Idempotency-Key when there is one, so a retry maps records identically.
      const unkeyedPartition = idempotency
        ? Number.parseInt(idempotency.fingerprint.slice(0, 8), 16) % topic.partitions
        : Math.floor(Math.random() * topic.partitions);
      const { appends, placement } = parseJsonProduce(jsonBody(request), topic, { now: now(), unkeyedPartition });
      const results = await engine.produce(topic.name, appends, idempotency);
      const bases = new Map(results.map((r) => [r.partition, r.baseOffset]));
      return json(200, {
        records: placement.map((p) => ({ partition: p.partition, offset: (bases.get(p.partition)! + BigInt(p.index)).toString() })),
      });
    }),
    route('GET', '/v1/topics/:topic/partitions/:partition/records', async ({ request, params, principal }) => {
      authorize(principal, 'consume', { topic: params.topic });
      const partition = intParam(params.partition, 'partition');
      const offset = offsetParam(request.query.get('offset'));
      const result = await engine.fetch(params.topic, partition, {
        offset,
        maxBytes: optionalInt(request.query.get('maxBytes'), 'maxBytes', 1),
        maxWaitMs: optionalInt(request.query.get('maxWaitMs'), 'maxWaitMs', 0),
        signal: request.signal,
      });
      if ((request.headers.accept ?? '').includes(MEDIA_KAFKA_BATCHES)) {
        const body = new Uint8Array(result.batches.reduce((n, b) => n + b.bytes.length, 0));
        let position = 0;
        for (const batch of result.batches) {
          body.set(batch.bytes, position);
          writeBaseOffset(body, position, batch.baseOffset);
          position += batch.bytes.length;
        }
        return {
          status: 200,
          headers: {
            'content-type': MEDIA_KAFKA_BATCHES,
            'sluice-next-offset': result.nextOffset.toString(),
            'sluice-high-watermark': result.highWatermark.toString(),
          },
          body,
        };
      }
      return json(200, {
        records: batchesToJson(result.batches, offset),
        nextOffset: result.nextOffset.toString(),
        highWatermark: result.highWatermark.toString(),
      });
    }),
    route('GET', '/v1/topics/:topic/partitions/:partition/locations', async ({ request, params, principal }) => {
      authorize(principal, 'consume', { topic: params.topic });
      const result = await engine.locations(params.topic, intParam(params.partition, 'partition'), {
        offset: offsetParam(request.query.get('offset')),
        maxBytes: optionalInt(request.query.get('maxBytes'), 'maxBytes', 1),
        maxWaitMs: optionalInt(request.query.get('maxWaitMs'), 'maxWaitMs', 0),
        signal: request.signal,
      });
      return json(200, {
        locations: result.locations.map((l) => ({
          url: l.url,
          range: l.range,
          baseOffset: l.baseOffset.toString(),
          lastOffset: l.lastOffset.toString(),
        })),
        nextOffset: result.nextOffset.toString(),
        highWatermark: result.highWatermark.toString(),
      });
    }),
    route('GET', '/v1/topics/:topic/partitions/:partition/offsets', async ({ request, params, principal }) => {
      authorize(principal, 'consume', { topic: params.topic });
      const timestamp = optionalInt(request.query.get('timestamp'), 'timestamp', 0);
      if (timestamp === undefined) throw invalid('timestamp is required', 'timestamp');
      const offset = await engine.offsetForTimestamp(params.topic, intParam(params.partition, 'partition'), timestamp);
      return json(200, { offset: offset.toString() });
    }),
    route('POST', '/v1/keys', async ({ request, principal }) => {
      authorize(principal, 'admin');
      const body = jsonBody(request) as { name?: unknown; scopes?: unknown };
      if (typeof body?.name !== 'string' || body.name.length === 0 || body.name.length > 200) throw invalid('name is required (1-200 characters)', 'name');
      const created = await keys.create({ name: body.name, scopes: body.scopes });
      return json(201, { id: created.keyId, key: created.key, name: created.name, scopes: created.scopes, createdAt: created.createdAt });
    }),
    route('GET', '/v1/keys', async ({ principal }) => {
      authorize(principal, 'admin');
      const list = await keys.list();
      return json(200, { keys: list.map((k) => ({ id: k.keyId, name: k.name, scopes: k.scopes, createdAt: k.createdAt })) });
    }),
    route('DELETE', '/v1/keys/:id', async ({ params, principal }) => {
      authorize(principal, 'admin');
      await keys.revoke(params.id);
      return { status: 204, headers: {} };
    }),
  ];

  async function serveObject(request: HttpRequest): Promise<HttpResponse> {
    if (!options.objectUrls || request.method !== 'GET') throw new SluiceError('NOT_FOUND', 'no such route');
    const { key, range } = options.objectUrls.verify(request.path, request.query, request.headers.range);
    const body = await engine.objects.get(key, range);
    return {
      status: 206,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${range.start}-${range.start + body.length - 1}/*`,
        'cache-control': 'private, max-age=31536000, immutable',
      },
      body,
    };
  }

  return async (request) => {
    const cors = corsHeaders(options.corsOrigins, request.headers.origin);
    try {
      if (request.method === 'OPTIONS') return { status: 204, headers: { ...cors, 'access-control-max-age': '600' } };
      if (request.body.length > LIMITS.maxRequestBytes) {
        throw new SluiceError('PAYLOAD_TOO_LARGE', `request body exceeds ${LIMITS.maxRequestBytes} bytes`, { details: { limit: LIMITS.maxRequestBytes } });
      }
      if (request.path.startsWith(OBJECT_ROUTE_PREFIX)) return withHeaders(await serveObject(request), cors);
      let methodMismatch = false;
      for (const candidate of routes) {
        const match = candidate.pattern.exec(request.path);
        if (!match) continue;
        if (candidate.method !== request.method) {
          methodMismatch = true;
          continue;
        }
        const principal = await keys.authenticate(request.headers.authorization);
        const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([k, v]) => [k, safeDecode(v)]));
        return withHeaders(await candidate.handle({ request, params, principal }), cors);
      }
      // Unknown routes also need a key, so the API reveals nothing to anonymous callers.
      await keys.authenticate(request.headers.authorization);
      throw methodMismatch ? new SluiceError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here`) : new SluiceError('NOT_FOUND', 'no such route');
    } catch (error) {
      return withHeaders(errorResponse(error, (e) => logError(e, request)), cors);
    }
  };
}

export function errorResponse(error: unknown, logUnexpected: (error: unknown) => void = () => {}): HttpResponse {
  let sluiceError: SluiceError;
  if (error instanceof SluiceError) sluiceError = error;
  else if (error instanceof ThrottledError) sluiceError = new SluiceError('THROTTLED', 'storage is throttling requests; retry with backoff', { cause: error });
  else if (error instanceof StorageError) sluiceError = new SluiceError('UNAVAILABLE', 'storage is unavailable; retry (with the same Idempotency-Key for produce)', { cause: error });
  else {
    logUnexpected(error);
    sluiceError = new SluiceError('INTERNAL', 'internal error', { cause: error });
  }
  const headers: Record<string, string> = {};
  if (sluiceError.code === 'THROTTLED' || sluiceError.code === 'UNAVAILABLE') headers['retry-after'] = '1';
  return json(sluiceError.status, { error: { code: sluiceError.code, message: sluiceError.message, ...sluiceError.details } }, headers);
}

function route(method: string, path: string, handle: Route['handle']): Route {
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`);
  return { method, pattern, handle };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': MEDIA_JSON, ...headers }, body: JSON.stringify(body) };
}

function withHeaders(response: HttpResponse, headers: Record<string, string>): HttpResponse {
  return Object.keys(headers).length === 0 ? response : { ...response, headers: { ...response.headers, ...headers } };
}

function corsHeaders(allowed: readonly string[] | undefined, origin: string | undefined): Record<string, string> {
  if (!origin || !allowed || !(allowed.includes('*') || allowed.includes(origin))) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, idempotency-key, accept',
    'access-control-expose-headers': 'sluice-next-offset, sluice-high-watermark, retry-after',
    vary: 'Origin',
  };
}

function mediaTypeOf(request: HttpRequest): string {
  const type = (request.headers['content-type'] ?? MEDIA_JSON).split(';')[0].trim().toLowerCase();
  if (type !== MEDIA_JSON && type !== MEDIA_SLUICE_BATCHES) {
    throw new SluiceError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${MEDIA_JSON} or ${MEDIA_SLUICE_BATCHES}`);
  }
  return type;
}

function jsonBody(request: HttpRequest): unknown {
  const type = (request.headers['content-type'] ?? MEDIA_JSON).split(';')[0].trim().toLowerCase();
  if (type !== MEDIA_JSON) throw new SluiceError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${MEDIA_JSON}`);
  try {
    return JSON.parse(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8'));
  } catch (error) {
    throw new SluiceError('INVALID_REQUEST', 'the body is not valid JSON', { cause: error });
  }
}

function invalid(message: string, field: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, { details: { field } });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new SluiceError('INVALID_REQUEST', 'bad percent-encoding in the path');
  }
}

function intParam(value: string | undefined, field: string): number {
  if (value === undefined || !/^\d{1,9}$/.test(value)) throw invalid(`${field} must be a non-negative integer`, field);
  return Number(value);
}

function optionalInt(value: string | null, field: string, min: number): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d{1,16}$/.test(value) || Number(value) < min) throw invalid(`${field} must be an integer ≥ ${min}`, field);
  return Number(value);
}

function offsetParam(value: string | null): bigint {
  if (value === null || !/^\d{1,19}$/.test(value)) throw invalid('offset must be a non-negative decimal integer', 'offset');
  return BigInt(value);
}
