/**
 * Generators of hostile HTTP requests for the fuzz suite (test/http/fuzz.test.ts), with fast-check:
 * every route of the contract's route table, plus unknown paths and the presigned-object route, with
 * malformed JSON, wrong types, boundary numbers, bad names, duplicate query parameters, wrong media
 * types, hostile headers and mutated binary batches (flipped bytes with the CRC recomputed,
 * truncation, lengths and counts off by one, wrong codec bits, bombs).
 */
import fc from 'fast-check';
import { ROUTES, type RouteSpec } from '../../lib/api/routes.ts';
import { encodeSluiceBatches } from '../../lib/api/sluice-batches.ts';
import { crc32c } from '../../lib/protocol/crc32c.ts';
import { encodeRecordBatch, type Codec } from '../../lib/protocol/record-batch.ts';
import { corruptBatches, zstdBomb } from './bad-batches.ts';

/**
 * What a request needs from the fixture it is sent to. Keys are fixed strings the fixture registers;
 * values that differ per fixture are placeholders the test replaces before sending (PLACEHOLDERS).
 */
export interface FuzzTargets {
  readonly adminKey: string;
  /** Keys with narrower scopes (consume on A, produce on A, admin on nothing). */
  readonly narrowKeys: readonly string[];
}

/** Stand-ins for the fixture's group member, a key id and a presigned URL of topic A's data. */
export const PLACEHOLDERS = { memberId: '@member', keyId: '@keyid', objectUrl: '/@objecturl' } as const;

export interface FuzzRequest {
  readonly method: string;
  /** Path and query, percent-encoded. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
  /** The operation this request was built for (its method or path may have been changed). */
  readonly operationId?: string;
  /** Long polls are ended at once (signal already aborted). */
  readonly abortLongPoll: boolean;
  /** Replace this character of the presigned URL (after PLACEHOLDERS.objectUrl is resolved). */
  readonly tamper?: { readonly at: number; readonly char: string };
}

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------------
// values

const boundaryIntegers = [0, 1, -1, 2, 63, 64, 65, 249, 250, 999, 1000, 9999, 10_000, 10_001, 20_000, 20_001, 1_800_000, 1_800_001, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 8.64e15, 8.64e15 + 2];
const number = fc.oneof(
  fc.constantFrom(...boundaryIntegers, ...boundaryIntegers.map((n) => -n), 1.5, -0, 1e21, 1e308, Number.MIN_VALUE),
  fc.integer({ min: -3, max: 12 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Numbers as text, as query parameters and offsets travel: decimal, negative, beyond 2^63, exponents, hex. */
export const numericText = fc.oneof(
  fc.constantFrom('0', '1', '2', '-1', '00', '01', '007', '1e3', '1E3', '1.0', '1.5', '0x10', '0b1', '+1', ' 1', '1 ', '', ' ', 'abc', 'NaN', 'Infinity', '１'),
  fc.constantFrom('9223372036854775807', '9223372036854775808', '18446744073709551616', '99999999999999999999', '4194304', '4194305', '1048576', '20000', '20001', '8640000000000000', '8640000000000001'),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.nat(100).map(String),
);

const names = fc.oneof(
  fc.constantFrom('A', 'A', 'A', 'G', 'B', 'nope', '..', '.', 'a/b', '', 'x'.repeat(249), 'x'.repeat(250), 'é', 'a b', '*', 'A*', 'A\u0000', 'a%2Fb'),
  fc.string({ maxLength: 12 }),
);

const offsetValue = fc.oneof(numericText, number, fc.constantFrom(null, true, [], {}));

/** Any JSON value, sometimes nested past the depth limit. */
const anyJson = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 200 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown) },
);

/** A field's value: mostly what the contract wants, often something else. */
function field<T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: number }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: names });
}

function optional<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(value, { nil: undefined, freq: 2 });
}

function object(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(fields).map(([key, value]) => optional(value).map((v) => [key, v] as const));
  return fc.tuple(fc.tuple(...entries), fc.option(fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 2 }), { freq: 5 })).map(([pairs, extra]) => {
    const out: Record<string, unknown> = { ...(extra ?? {}) };
    for (const [key, value] of pairs) if (value !== undefined) out[key] = value;
    return out;
  });
}

const base64Text = fc.oneof(fc.constantFrom('', 'QQ==', 'QUI=', 'QUJD', 'A', 'AAAAA', 'QUJD=', 'QR==', '====', 'QU I=', 'QUJD\n', '-_-_'), fc.base64String({ maxLength: 12 }), fc.string({ maxLength: 8 }));

const produceRecord = object({
  key: field(fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null))),
  keyBase64: field(base64Text),
  value: anyJson,
  valueBase64: field(base64Text),
  headers: field(fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), number as fc.Arbitrary<unknown>), { maxKeys: 3 })),
  partition: field(fc.integer({ min: 0, max: 2 })),
  timestamp: field(fc.constantFrom(0, 1, 1_764_000_000_000, 8.64e15)),
});

const scope = object({ action: field(fc.constantFrom('admin', 'produce', 'consume', 'write')), topics: field(fc.array(names, { maxLength: 3 })), groups: field(fc.array(names, { maxLength: 3 })) });

function jsonBodies(targets: FuzzTargets): Record<string, fc.Arbitrary<unknown>> {
  const memberId = fc.oneof(fc.constant(PLACEHOLDERS.memberId), names);
  return {
    createTopic: object({ name: field(names), partitions: field(fc.integer({ min: 1, max: 3 })), config: field(object({ retentionMs: number, retentionBytes: number, compression: field(fc.constantFrom('zstd', 'gzip', 'none', 'lz4')) })) }),
    produce: object({ records: field(fc.array(produceRecord, { minLength: 0, maxLength: 4 })) }),
    joinGroup: object({
      topics: field(fc.array(names, { maxLength: 3 })),
      sessionTimeoutMs: number,
      rebalanceTimeoutMs: number,
      memberId: field(memberId),
      joinId: field(fc.constantFrom('0123456789abcdef', 'short', 'x'.repeat(65))),
      instanceId: field(names),
      strategy: field(fc.constantFrom('range', 'roundrobin', 'cooperative-sticky', 'sticky')),
    }),
    heartbeat: object({ generation: number }),
    commitOffsets: object({
      memberId: field(memberId),
      generation: number,
      offsets: field(fc.array(object({ topic: field(names), partition: field(fc.integer({ min: 0, max: 2 })), offset: offsetValue }), { maxLength: 3 })),
    }),
    resetOffsets: object({ topic: field(names), partitions: field(fc.array(number, { maxLength: 3 })), to: field(fc.constantFrom('earliest', 'latest', 'timestamp', 'offset', 'start')), timestamp: number, offset: offsetValue }),
    createKey: object({ name: field(fc.string({ maxLength: 8 })), scopes: field(fc.array(scope, { maxLength: 3 })) }),
  };
}

// ---------------------------------------------------------------------------------------------------
// binary batches

const codecs: Codec[] = ['none', 'gzip', 'zstd'];

const validBatch = fc
  .tuple(fc.array(fc.tuple(fc.option(fc.uint8Array({ maxLength: 8 })), fc.option(fc.uint8Array({ maxLength: 40 })), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 5 }), fc.constantFrom(...codecs))
  .map(([records, codec]) =>
    encodeRecordBatch(
      records.map(([key, value, headers], i) => ({ key, value, headers: Array.from({ length: headers }, (_, h) => ({ key: `h${h}`, value: value })), timestamp: 1_764_000_000_000 + i })),
      { codec },
    ),
  );

/** Rewrites the CRC of the batch at `position` over attributes..end, as a producer would. */
function recomputeCrc(batch: Uint8Array): Uint8Array {
  if (batch.length >= 61) new DataView(batch.buffer, batch.byteOffset).setUint32(17, crc32c(batch, 21, batch.length));
  return batch;
}

type Mutation = (batch: Uint8Array, rng: { at: number; byte: number; delta: number }) => Uint8Array;

const mutations: Record<string, Mutation> = {
  none: (b) => b,
  flipWithCrc: (b, r) => {
    const c = b.slice();
    c[21 + (r.at % Math.max(1, c.length - 21))] ^= r.byte || 1;
    return recomputeCrc(c);
  },
  flipWithoutCrc: (b, r) => {
    const c = b.slice();
    c[r.at % c.length] ^= r.byte || 1;
    return c;
  },
  truncate: (b, r) => b.slice(0, r.at % b.length),
  recordCountOffByOne: (b, r) => {
    const c = b.slice();
    const view = new DataView(c.buffer);
    view.setInt32(57, view.getInt32(57) + (r.delta > 0 ? 1 : -1));
    return recomputeCrc(c);
  },
  lastOffsetDeltaOffByOne: (b, r) => {
    const c = b.slice();
    const view = new DataView(c.buffer);
    view.setInt32(23, view.getInt32(23) + (r.delta > 0 ? 1 : -1));
    return recomputeCrc(c);
  },
  batchLengthOffByOne: (b, r) => {
    const c = b.slice();
    const view = new DataView(c.buffer);
    view.setInt32(8, view.getInt32(8) + (r.delta > 0 ? 1 : -1));
    return c;
  },
  codecBits: (b, r) => {
    const c = b.slice();
    const view = new DataView(c.buffer);
    view.setInt16(21, (view.getInt16(21) & ~0x37) | (r.byte & 0x37)); // codec, transactional, control
    return recomputeCrc(c);
  },
  magic: (b, r) => {
    const c = b.slice();
    c[16] = r.byte === 2 ? 1 : r.byte;
    return c;
  },
  timestamps: (b, r) => {
    const c = b.slice();
    const view = new DataView(c.buffer);
    view.setBigInt64(r.delta > 0 ? 27 : 35, BigInt(r.at) * (r.delta > 0 ? -1n : 1n) * 1_000_000_000_000n);
    return recomputeCrc(c);
  },
};

const mutatedBatch = fc
  .tuple(validBatch, fc.constantFrom(...Object.keys(mutations)), fc.record({ at: fc.nat(10_000), byte: fc.integer({ min: 0, max: 255 }), delta: fc.integer({ min: -1, max: 1 }) }))
  .map(([batch, name, rng]) => mutations[name](batch, rng));

const hostileBatch = fc.oneof(
  { weight: 12, arbitrary: mutatedBatch },
  { weight: 3, arbitrary: fc.constantFrom(...corruptBatches().map(([, b]) => b)) },
  { weight: 1, arbitrary: fc.constantFrom(9 * 1024 * 1024, 128 * 1024 * 1024).map((size) => zstdBomb(size)) },
);

const sectionPartition = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constantFrom(-1, 2, 2 ** 31 - 1, -(2 ** 31)) });

const binaryBody = fc
  .tuple(fc.array(fc.tuple(sectionPartition, fc.array(hostileBatch, { minLength: 1, maxLength: 2 })), { minLength: 1, maxLength: 2 }), fc.constantFrom('none', 'sectionLength+1', 'sectionLength-1', 'truncate', 'empty'), fc.nat(1000))
  .map(([sections, framing, at]) => {
    const body = encodeSluiceBatches(sections.map(([partition, batches]) => ({ partition, batches })));
    const view = new DataView(body.buffer);
    if (framing === 'sectionLength+1') view.setInt32(4, view.getInt32(4) + 1);
    if (framing === 'sectionLength-1') view.setInt32(4, view.getInt32(4) - 1);
    if (framing === 'truncate') return body.slice(0, at % body.length);
    if (framing === 'empty') return new Uint8Array(0);
    return body;
  });

// ---------------------------------------------------------------------------------------------------
// requests

const contentTypes = fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/vnd.sluice.batches', 'application/x-www-form-urlencoded', '', 'multipart/form-data; boundary=x', 'application/json;;;', undefined);

function paramValue(name: string, targets: FuzzTargets): fc.Arbitrary<string> {
  const encoded = (arb: fc.Arbitrary<string>) => arb.map((v) => encodeURIComponent(v));
  const garbage = fc.constantFrom('%', '%zz', '%00', '%2F', '%2e%2e', '%E0%A4%A', 'x'.repeat(300));
  switch (name) {
    case 'topic':
      return fc.oneof({ weight: 6, arbitrary: fc.constant('A') }, { weight: 3, arbitrary: encoded(names) }, { weight: 1, arbitrary: garbage });
    case 'group':
      return fc.oneof({ weight: 6, arbitrary: fc.constant('G') }, { weight: 3, arbitrary: encoded(names) }, { weight: 1, arbitrary: garbage });
    case 'partition':
      return fc.oneof({ weight: 5, arbitrary: fc.constantFrom('0', '1') }, { weight: 3, arbitrary: encoded(numericText).filter((v) => v.length > 0) }, { weight: 1, arbitrary: garbage });
    case 'memberId':
      return fc.oneof({ weight: 3, arbitrary: fc.constant(encodeURIComponent(PLACEHOLDERS.memberId)) }, { weight: 2, arbitrary: encoded(names).filter((v) => v.length > 0) }, { weight: 1, arbitrary: garbage });
    case 'id':
      return fc.oneof({ weight: 2, arbitrary: fc.constant(PLACEHOLDERS.keyId) }, { weight: 2, arbitrary: encoded(names).filter((v) => v.length > 0) }, { weight: 1, arbitrary: garbage });
    default:
      return encoded(names).filter((v) => v.length > 0);
  }
}

/** Query strings with the route's parameters (valid, invalid, duplicated) and unknown ones. */
function queryFor(route: RouteSpec): fc.Arbitrary<string> {
  const names = Object.keys(route.request?.query?.shape ?? {});
  if (names.length === 0) return fc.oneof(fc.constant(''), fc.constant('?x=1'));
  const pair = fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom('x', 'offset[]', '') }), numericText);
  return fc
    .array(pair, { maxLength: 5 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`));
}

function bodyFor(route: RouteSpec, targets: FuzzTargets): fc.Arbitrary<{ body: Uint8Array; contentType?: string }> {
  const generator = jsonBodies(targets)[route.operationId] ?? anyJson;
  const jsonText = fc.oneof(
    { weight: 8, arbitrary: generator.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.tuple(generator.map((v) => JSON.stringify(v) ?? ''), fc.nat()).map(([text, at]) => text.slice(0, at % (text.length + 1))) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '}', '{"records":[}', '[1,]', 'nul', '{"a":1}{"b":2}', '"\\ud800"', '\u0000', '{"records":[{"value":"x"}]} trailing') },
    // nested far past the depth limit, as text (a value this deep cannot even be stringified)
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 60, max: 8000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => `{"records":[{"value":${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}}]}`) },
  );
  const json = fc.tuple(jsonText, contentTypes).map(([text, contentType]) => ({ body: encoder.encode(text), contentType }));
  const notUtf8 = fc.uint8Array({ maxLength: 32 }).map((bytes) => ({ body: bytes, contentType: 'application/json' }));
  if (route.request?.binaryBodies?.length) {
    const binary = fc.tuple(binaryBody, fc.constantFrom('application/vnd.sluice.batches', 'application/vnd.sluice.batches; v=1', 'application/octet-stream')).map(([body, contentType]) => ({ body, contentType }));
    return fc.oneof({ weight: 5, arbitrary: binary }, { weight: 5, arbitrary: json }, { weight: 1, arbitrary: notUtf8 });
  }
  if (route.request?.body) return fc.oneof({ weight: 10, arbitrary: json }, { weight: 1, arbitrary: notUtf8 });
  return fc.oneof({ weight: 6, arbitrary: fc.constant({ body: new Uint8Array(0) }) }, { weight: 1, arbitrary: json });
}

function authorization(targets: FuzzTargets): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant(`Bearer ${targets.adminKey}`) },
    { weight: 4, arbitrary: fc.constantFrom(...targets.narrowKeys.map((k) => `Bearer ${k}`)) },
    { weight: 2, arbitrary: fc.constantFrom(undefined, '', 'Bearer', 'Bearer ', 'Basic YTpi', `bearer ${targets.adminKey}`, `Bearer ${targets.adminKey} extra`, 'Bearer sluice_not-a-key', `Bearer ${targets.adminKey}x`) },
  );
}

function requestFor(route: RouteSpec, targets: FuzzTargets): fc.Arbitrary<FuzzRequest> {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return fc
    .record({
      method: fc.oneof({ weight: 12, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH') }),
      values: fc.tuple(...params.map((name) => paramValue(name, targets))),
      query: queryFor(route),
      body: bodyFor(route, targets),
      authorization: authorization(targets),
      accept: fc.constantFrom(undefined, 'application/json', 'application/vnd.kafka.record-batches', '*/*', 'text/event-stream'),
      idempotencyKey: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('', 'k', 'x'.repeat(256), 'x'.repeat(257)) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
    })
    .map(({ method, values, query, body, authorization, accept, idempotencyKey }) => {
      let path: string = route.path;
      params.forEach((name, i) => (path = path.replace(`{${name}}`, values[i])));
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (body.contentType !== undefined) headers['content-type'] = body.contentType;
      if (accept !== undefined) headers.accept = accept;
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      return { method, url: path + query, headers, body: body.body, operationId: route.operationId, abortLongPoll: true };
    });
}

/** Paths no route has, and the presigned object route with tampered URLs. */
function strayRequest(targets: FuzzTargets): fc.Arbitrary<FuzzRequest> {
  const url = fc.oneof(
    fc.constantFrom('/', '/v1', '/v1/', '/v2/topics', '/v1/topics/A/partitions', '/v1/topics//records', '/v1/keys/a/b', '/v1/objects/', '/V1/TOPICS', '/v1/topics?x=%zz', '/v1/topics/%zz'),
    fc.constant(PLACEHOLDERS.objectUrl),
    fc.webPath().map((p) => `/v1${p}`),
  );
  const tamper = fc.option(fc.record({ at: fc.nat(400), char: fc.constantFrom('0', '1', 'f', '%', '&', '=', '/') }), { nil: undefined });
  return fc
    .record({ method: fc.constantFrom('GET', 'GET', 'POST', 'DELETE', 'PUT'), url, tamper, authorization: authorization(targets), range: fc.option(fc.constantFrom('bytes=0-10', 'bytes=0-', 'bytes=-5', 'bytes=a-b')) })
    .map(({ method, url, tamper, authorization, range }) => {
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (range !== null) headers.range = range;
      return { method, url, headers, body: new Uint8Array(0), abortLongPoll: true, tamper };
    });
}

/**
 * Binary and JSON produce requests that pass routing, authentication and authorization, so that their
 * bodies meet the batch and record validation (most generated requests are refused before that).
 */
function produceToA(targets: FuzzTargets): fc.Arbitrary<FuzzRequest> {
  const produce = (ROUTES as readonly RouteSpec[]).find((route) => route.operationId === 'produce')!;
  const binary = fc.tuple(binaryBody, fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined })).map(([body, idempotencyKey]) => ({
    method: 'POST',
    url: '/v1/topics/A/records',
    headers: { authorization: `Bearer ${targets.adminKey}`, 'content-type': 'application/vnd.sluice.batches', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body,
    operationId: 'produce',
    abortLongPoll: true,
  }));
  const json = bodyFor({ ...produce, request: { ...produce.request, binaryBodies: [] } }, targets).map(({ body }) => ({
    method: 'POST',
    url: '/v1/topics/A/records',
    headers: { authorization: `Bearer ${targets.adminKey}`, 'content-type': 'application/json' },
    body,
    operationId: 'produce',
    abortLongPoll: true,
  }));
  return fc.oneof({ weight: 3, arbitrary: binary }, { weight: 1, arbitrary: json });
}

/** A request to any route of the route table (weighted by how much input it takes) or to no route. */
export function fuzzRequest(targets: FuzzTargets): fc.Arbitrary<FuzzRequest> {
  const weighted = (ROUTES as readonly RouteSpec[]).map((route) => ({
    weight: route.request?.body || route.request?.binaryBodies ? 4 : route.request?.query ? 3 : 2,
    arbitrary: requestFor(route, targets),
  }));
  return fc.oneof(...weighted, { weight: 3, arbitrary: strayRequest(targets) }, { weight: 12, arbitrary: produceToA(targets) });
}
