/**
 * The OpenAPI document: valid OpenAPI 3.1 by a real validator (@readme/openapi-parser: the OpenAPI
 * Initiative's JSON Schemas plus the specification's own rules, such as unique operationIds and
 * declared path parameters), and complete: every route of the route table with its parameters, bodies
 * and every error code it may answer, under that code's status.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { ERROR_TABLE } from '../../lib/errors.ts';
import { buildOpenApiDocument, errorCodesOf } from '../../lib/api/openapi.ts';
import { ROUTES, type RouteSpec } from '../../lib/api/routes.ts';

type Json = Record<string, any>;

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument({ version: '1.2.3' }) as Json;

  it('is valid OpenAPI 3.1', async () => {
    assert.equal(document.openapi, '3.1.0');
    // The validator dereferences in place: give it a copy.
    const result = await validate(structuredClone(document) as never, { validate: { errors: { colorize: false } } });
    assert.ok(result.valid, result.valid ? '' : compileErrors(result));
    assert.deepEqual(result.warnings, []);
  });

  it('a broken document is refused (the validator is not a rubber stamp)', async () => {
    const broken = structuredClone(document);
    delete broken.paths['/v1/topics/{topic}'].get.parameters;
    broken.paths['/v1/topics'].post.operationId = 'listTopics';
    const result = await validate(broken as never);
    assert.equal(result.valid, false);
  });

  it('describes every route of the table, with its scope, function, parameters and bodies', () => {
    const operations = Object.values(document.paths as Record<string, Record<string, Json>>).flatMap((path) => Object.values(path));
    assert.equal(operations.length, ROUTES.length);
    for (const route of ROUTES as readonly RouteSpec[]) {
      const op = document.paths[route.path]?.[route.method.toLowerCase()];
      assert.ok(op, `${route.method} ${route.path}`);
      assert.equal(op.operationId, route.operationId);
      assert.equal(op['x-sluice-function'], route.function);
      assert.deepEqual(op['x-sluice-scope'], route.scope);
      assert.deepEqual(op.security, route.scope === 'public' ? [] : undefined, `${route.operationId}: public routes need no key`);
      const params = (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name);
      assert.deepEqual(params.sort(), [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      if (route.request?.body) assert.ok(op.requestBody.content['application/json'].schema, `${route.operationId} request schema`);
      for (const [status, response] of Object.entries(route.responses)) {
        assert.ok(op.responses[status], `${route.operationId} ${status}`);
        if (response.body) assert.ok(op.responses[status].content['application/json'].schema, `${route.operationId} ${status} schema`);
      }
    }
  });

  it('lists every error code of every route under its status', () => {
    for (const route of ROUTES as readonly RouteSpec[]) {
      const op = document.paths[route.path][route.method.toLowerCase()];
      for (const code of errorCodesOf(route)) {
        const answer = op.responses[String(ERROR_TABLE[code].status)];
        assert.ok(answer, `${route.operationId}: ${code} → ${ERROR_TABLE[code].status}`);
        assert.ok(answer.content['application/json'].schema.allOf[1].properties.error.properties.code.enum.includes(code), `${route.operationId}: ${code}`);
      }
    }
    const produce = document.paths['/v1/topics/{topic}/records'].post;
    assert.ok(produce.responses['422'].content['application/json'].schema.allOf[1].properties.error.properties.code.enum.includes('IDEMPOTENCY_KEY_REUSED'));
    assert.equal(document.paths['/v1/health'].get.responses['401'], undefined, 'a public route answers no 401');
  });

  it('documents the binary forms and the request limits', () => {
    const produce = document.paths['/v1/topics/{topic}/records'].post;
    assert.deepEqual(Object.keys(produce.requestBody.content).sort(), ['application/json', 'application/vnd.sluice.batches']);
    assert.equal(produce.requestBody.content['application/json'].schema.properties.records.maxItems, 10_000);
    assert.ok(produce.parameters.some((p: Json) => p.in === 'header' && p.name === 'idempotency-key' && p.schema.maxLength === 256));
    const fetch = document.paths['/v1/topics/{topic}/partitions/{partition}/records'].get;
    assert.ok(fetch.responses['200'].content['application/vnd.kafka.record-batches']);
    assert.deepEqual(
      fetch.parameters.filter((p: Json) => p.in === 'query').map((p: Json) => [p.name, p.required]),
      [['offset', true], ['maxBytes', false], ['maxWaitMs', false]],
    );
  });
});
