/**
 * The fuzz suite (issue 10): at least 10,000 generated requests per run (FUZZ_RUNS) through the
 * in-process HTTP app, across every route of the route table, unknown paths and presigned object
 * URLs (generators: test/support/fuzz-requests.ts). For every request:
 *   - no 5xx, and nothing reported as an unexpected error;
 *   - every error has the contract's shape (ErrorResponse) and a code the route documents
 *     (its `errors`, COMMON_ERRORS, and UNAUTHORIZED/FORBIDDEN unless public);
 *   - every JSON success matches the route's response schema;
 *   - a refused request changes nothing: a digest of every metadata item and every object is the
 *     same before and after it.
 * Seeded: FUZZ_SEED=<n> replays a run (the seed of a failing run is in the failure message, with the
 * shrunk request); FUZZ_RUNS=<n> runs more.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AUTH_ERRORS, COMMON_ERRORS, pathPattern, ROUTES, type RouteSpec } from '../../lib/api/routes.ts';
import { ErrorResponse } from '../../lib/api/schemas.ts';
import { encodeSluiceBatches } from '../../lib/api/sluice-batches.ts';
import { encodeRecordBatch } from '../../lib/protocol/record-batch.ts';
import { fuzzRequest, PLACEHOLDERS, type FuzzRequest, type FuzzTargets } from '../support/fuzz-requests.ts';
import { ADMIN_KEY, inProcessApp, storeDigest, type InProcessApp } from '../support/in-process-app.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 101_010);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** A fresh fixture this often, so the stores (and the digest's cost) stay small. */
const REQUESTS_PER_FIXTURE = 2500;
const NOW = 1_764_000_000_000;

/** The keys every fixture registers (so generated requests carry them without knowing the fixture). */
const TARGETS: FuzzTargets = {
  adminKey: ADMIN_KEY,
  narrowKeys: ['fuzz-consumer-key-0123456789', 'fuzz-producer-key-0123456789', 'fuzz-admin-of-nothing-0123456789'],
};

interface Fixture {
  readonly t: InProcessApp;
  readonly memberId: string;
  readonly keyId: string;
  readonly objectUrl: string;
}

async function fixture(): Promise<Fixture> {
  const t = await inProcessApp({ now: () => NOW });
  const ok = async (method: string, path: string, options: Parameters<InProcessApp['call']>[2] = {}) => {
    const res = await t.call(method, path, options);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };
  await ok('POST', '/v1/topics', { body: { name: 'A', partitions: 2 } });
  await ok('POST', '/v1/topics/A/records', { body: { records: [{ value: 'one', key: 'k' }, { valueBase64: 'AAEC', partition: 1, timestamp: NOW - 10 }] } });
  const batch = encodeRecordBatch([{ key: null, value: new TextEncoder().encode('binary'), headers: [{ key: 'h', value: null }], timestamp: NOW }], { codec: 'zstd' });
  await ok('POST', '/v1/topics/A/records', { body: encodeSluiceBatches([{ partition: 0, batches: [batch] }]), headers: { 'content-type': 'application/vnd.sluice.batches' } });
  const joined = await ok('POST', '/v1/groups/G/members', { body: { topics: ['A'] } });
  const located = await ok('GET', '/v1/topics/A/partitions/0/locations?offset=0');
  const [consumer, producer, adminOfNothing] = TARGETS.narrowKeys;
  const narrow = await t.keys.ensure(consumer, 'consumer', [{ action: 'consume', topics: ['A'], groups: ['G'] }]);
  await t.keys.ensure(producer, 'producer', [{ action: 'produce', topics: ['A'], groups: [] }]);
  await t.keys.ensure(adminOfNothing, 'admin of nothing', [{ action: 'admin', topics: [], groups: [] }]);
  const objectUrl = String(located.body.locations[0].url).replace('http://in-process', '');
  return { t, memberId: joined.body.memberId, keyId: narrow.keyId, objectUrl };
}

/** The request with the fixture's values in place of the placeholders. */
function resolve(request: FuzzRequest, f: Fixture): { url: string; body: Uint8Array } {
  let url = request.url
    .replaceAll(encodeURIComponent(PLACEHOLDERS.memberId), encodeURIComponent(f.memberId))
    .replaceAll(PLACEHOLDERS.keyId, f.keyId);
  if (url.startsWith(PLACEHOLDERS.objectUrl)) {
    url = f.objectUrl;
    if (request.tamper) {
      const at = request.tamper.at % url.length;
      url = url.slice(0, at) + request.tamper.char + url.slice(at + 1);
    }
  }
  let body = request.body;
  const text = new TextDecoder().decode(body);
  if (text.includes(PLACEHOLDERS.memberId)) body = new TextEncoder().encode(text.replaceAll(PLACEHOLDERS.memberId, f.memberId));
  return { url, body };
}

/** The route a request reaches (method and path), the routes its path matches under other methods. */
function routeOf(method: string, path: string): { route?: RouteSpec; pathMatched: boolean } {
  const byPath = ROUTES.filter((r) => pathPattern(r.path).test(path));
  return { route: byPath.find((r) => r.method === method), pathMatched: byPath.length > 0 };
}

function documentedCodes(method: string, path: string): { codes: Set<string>; route?: RouteSpec } {
  const { route, pathMatched } = routeOf(method, path);
  if (route) return { route, codes: new Set([...route.errors, ...COMMON_ERRORS, ...(route.scope === 'public' ? [] : AUTH_ERRORS)]) };
  if (path.startsWith('/v1/objects/')) return { codes: new Set(['FORBIDDEN', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE']) };
  return { codes: new Set(pathMatched ? ['METHOD_NOT_ALLOWED', 'UNAUTHORIZED'] : ['NOT_FOUND', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE']) };
}

function describeRequest(request: FuzzRequest, resolved: { url: string; body: Uint8Array }): string {
  const body = resolved.body.length > 300 ? `${resolved.body.length} bytes` : JSON.stringify(new TextDecoder().decode(resolved.body));
  return `${request.method} ${resolved.url} ${JSON.stringify(request.headers)} body ${body}`;
}

describe('fuzz: generated requests through the in-process app', { timeout: 600_000 }, () => {
  it(`${RUNS} requests: no 5xx, contract errors with documented codes, refused requests change nothing`, async (t) => {
    t.diagnostic(`seed ${SEED}, ${RUNS} requests (replay with FUZZ_SEED=${SEED}, more with FUZZ_RUNS)`);
    let current = await fixture();
    let digest = await storeDigest(current.t);
    let sent = 0;
    let refused = 0;
    const routesHit = new Set<string>();
    const statuses = new Map<number, number>();
    const codesSeen = new Map<string, number>();
    const started = performance.now();
    const requests = fuzzRequest(TARGETS);

    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        if (sent > 0 && sent % REQUESTS_PER_FIXTURE === 0) {
          current = await fixture();
          digest = await storeDigest(current.t);
        }
        sent++;
        const { t: app } = current;
        const resolved = resolve(request, current);
        const url = new URL(resolved.url, 'http://in-process');
        // Nothing else touches the stores between requests: the digest after one is the digest before the next.
        const before = digest;
        app.unexpected.splice(0);
        const aborted = AbortSignal.abort();
        const response = await app.app({ method: request.method, path: url.pathname, query: url.searchParams, headers: request.headers, body: resolved.body, signal: request.abortLongPoll ? aborted : undefined });
        digest = await storeDigest(app);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const { codes, route } = documentedCodes(request.method, url.pathname);
        if (route) routesHit.add(route.operationId);
        const text = typeof response.body === 'string' ? response.body : new TextDecoder().decode(response.body ?? new Uint8Array(0));
        const what = `${describeRequest(request, resolved)} → ${response.status} ${text.slice(0, 500)}`;
        assert.ok(response.status < 500, `5xx: ${what}`);
        assert.deepEqual(app.unexpected, [], `unexpected error: ${what}`);
        const json = (response.headers['content-type'] ?? '').startsWith('application/json') && text.length > 0 ? JSON.parse(text) : undefined;
        if (response.status >= 400) {
          refused++;
          codesSeen.set(json?.error?.code, (codesSeen.get(json?.error?.code) ?? 0) + 1);
          const shaped = ErrorResponse.safeParse(json);
          assert.ok(shaped.success, `not the contract's error shape: ${what}`);
          assert.ok(codes.has(json.error.code), `code ${json.error.code} is not documented for this route: ${what}`);
          assert.ok(json.error.message.length > 0 && !json.error.message.includes('\n'), `message is not one line: ${what}`);
          assert.equal(digest, before, `a refused request changed the stores: ${what}`);
          return;
        }
        if (route && json !== undefined) {
          const schema = route.responses[response.status]?.body;
          if (schema) assert.ok(schema.safeParse(json).success, `answer does not match the route's response schema: ${what}`);
        }
        if (route?.operationId === 'produce') {
          // Accepted means readable: no partition is ever poisoned by what produce let in.
          const topic = url.pathname.split('/')[3];
          const appended: Array<{ partition: number; offset: string }> = json.partitions?.map((p: { partition: number; baseOffset: string }) => ({ partition: p.partition, offset: p.baseOffset })) ?? json.records;
          for (const { partition, offset } of appended) {
            const read = await app.call('GET', `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxBytes=1`);
            assert.equal(read.status, 200, `accepted records do not read back (${read.status} ${JSON.stringify(read.body)}): ${what}`);
            assert.ok(read.body.records.length > 0 && read.body.records[0].offset === offset, `accepted records do not read back: ${what}`);
          }
          digest = await storeDigest(app);
        }
        // A request that took away what later requests aim at (topic A, the member, the consumer key): start again.
        const brokeFixture =
          (route?.operationId === 'deleteTopic' && url.pathname === '/v1/topics/A') ||
          (route?.operationId === 'leaveGroup' && url.pathname.endsWith(`/${encodeURIComponent(current.memberId)}`)) ||
          (route?.operationId === 'revokeKey' && url.pathname.endsWith(current.keyId));
        if (brokeFixture) {
          current = await fixture();
          digest = await storeDigest(current.t);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), ${refused} refused, ${routesHit.size} of ${ROUTES.length} routes hit; statuses ${JSON.stringify(Object.fromEntries(statuses))}; codes ${JSON.stringify(Object.fromEntries(codesSeen))}`);
    assert.ok(sent >= RUNS);
    assert.deepEqual([...routesHit].sort(), ROUTES.map((r) => r.operationId).sort(), 'every route was hit');
  });
});
