/**
 * The OpenAPI 3.1 document of the contract, generated from the route table and its zod schemas
 * (zod 4's JSON Schema output, draft 2020-12, which is OpenAPI 3.1's schema dialect). Served at
 * GET /v1/openapi.json; docs/api-v1.md is the prose of the same contract.
 *
 * Every operation lists its error answers by status, each with the error codes of that status it may
 * answer (the `code` enum of its ErrorResponse), and carries the route's scope and function as
 * `x-sluice-scope` and `x-sluice-function`.
 */
import * as z from 'zod';
import { ERROR_TABLE, type ErrorCode } from '../errors.ts';
import { MEDIA_JSON } from './media-types.ts';
import { AUTH_ERRORS, COMMON_ERRORS, ROUTES, type RouteSpec } from './routes.ts';
import { ErrorResponse } from './schemas.ts';

type JsonObject = Record<string, unknown>;

/**
 * A schema as JSON Schema, for what a client sends (input) or what the server answers (output).
 * Answers may gain fields (the contract's rule: implementations may add, not rename or drop), so
 * output schemas never forbid additional properties.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', reused: 'inline' }) as JsonObject;
  return io === 'output' ? (allowAdditions(json) as JsonObject) : json;
}

function allowAdditions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(allowAdditions);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, field]) => !(key === 'additionalProperties' && field === false))
      .map(([key, field]) => [key, allowAdditions(field)]),
  );
}

/** The error codes a route may answer: its own, the common ones, and authentication's unless public. */
export function errorCodesOf(route: RouteSpec): ErrorCode[] {
  return [...new Set<ErrorCode>([...route.errors, ...COMMON_ERRORS, ...(route.scope === 'public' ? [] : AUTH_ERRORS)])];
}

export function buildOpenApiDocument(options: { readonly version: string; readonly routes?: readonly RouteSpec[] }): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of options.routes ?? ROUTES) {
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice HTTPS API',
      version: options.version,
      summary: 'Serverless, S3-backed event streaming: Kafka’s ideas on Lambda, S3 and DynamoDB.',
      description:
        'Version 1 of the contract (docs/api-v1.md in the repository). Offsets are decimal strings, times are milliseconds since the epoch, sizes are bytes.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'service', description: 'Health and this document; public.' },
      { name: 'topics', description: 'Topic administration.' },
      { name: 'records', description: 'Produce, fetch, presigned locations, offsets by time.' },
      { name: 'groups', description: 'Consumer groups.' },
      { name: 'consumers', description: 'Push consumers: records delivered to a URL or a Lambda function.' },
      { name: 'keys', description: 'API keys.' },
      { name: 'admin', description: 'Maintenance on demand.' },
    ],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer sluice_…`. Keys are stored hashed; scopes grant an action on topics and groups.' },
      },
      schemas: { ErrorResponse: jsonSchemaOf(ErrorResponse, 'output') },
    },
  };
}

function operation(route: RouteSpec): JsonObject {
  const op: JsonObject = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    'x-sluice-scope': route.scope,
    'x-sluice-function': route.function,
  };
  if (route.scope === 'public') op.security = [];
  const parameters = [...objectParameters(route.request?.params, 'path'), ...objectParameters(route.request?.query, 'query')];
  for (const [name, header] of Object.entries(route.request?.headers ?? {})) {
    parameters.push({ name, in: 'header', required: false, description: header.description, schema: { type: 'string', minLength: 1, maxLength: header.maxLength } });
  }
  if (parameters.length > 0) op.parameters = parameters;
  const content: JsonObject = {};
  if (route.request?.body) content[MEDIA_JSON] = { schema: jsonSchemaOf(route.request.body, 'input') };
  for (const media of route.request?.binaryBodies ?? []) content[media] = {};
  if (Object.keys(content).length > 0) op.requestBody = { required: true, content };

  const responses: Record<string, JsonObject> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const answer: JsonObject = { description: response.description };
    const body: JsonObject = {};
    if (response.body) body[MEDIA_JSON] = { schema: jsonSchemaOf(response.body, 'output') };
    for (const media of response.binary ?? []) body[media] = {};
    if (Object.keys(body).length > 0) answer.content = body;
    if (response.headers) {
      answer.headers = Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
    }
    responses[status] = answer;
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(route)) {
    const status = ERROR_TABLE[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: codes.join(', '),
      content: {
        [MEDIA_JSON]: {
          schema: {
            allOf: [{ $ref: '#/components/schemas/ErrorResponse' }, { properties: { error: { properties: { code: { enum: codes } } } } }],
          },
        },
      },
    };
  }
  op.responses = responses;
  return op;
}

function objectParameters(schema: z.ZodObject | undefined, location: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const fieldSchema = field as z.ZodType;
    const json = jsonSchemaOf(fieldSchema, 'input');
    const { description, ...rest } = json;
    const optional = fieldSchema.safeParse(undefined).success;
    return { name, in: location, required: location === 'path' || !optional, ...(description ? { description } : {}), schema: rest };
  });
}
