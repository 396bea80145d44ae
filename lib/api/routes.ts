/**
 * The route table: every route of the HTTP contract (docs/api-v1.md) once. The server's router is
 * built from it (lib/http/router.ts), API Gateway's routes and each function's routes come from it
 * (lib/cdk/api-routes.ts, lib/lambda/functions.ts), the OpenAPI document is generated from it
 * (./openapi.ts), and the authorization tests walk it. New routes are born here.
 *
 * An entry names:
 *   method, path       `{name}` for a path parameter (API Gateway's and OpenAPI's template syntax)
 *   operationId        the handler's name on the server (lib/http/routes/*.ts) and in OpenAPI
 *   scope              'public' (no key; reveals no data), or the checks a key must pass (RouteScope)
 *   function           the Lambda function that serves it in AWS (least privilege: ../cdk/access.ts)
 *   request, responses zod schemas of params, query, body; responses by status, JSON or binary
 *   errors             the error codes (lib/errors.ts) the route answers besides those every route may
 */
import type * as z from 'zod';
import type { ErrorCode } from '../errors.ts';
import { API_FUNCTION_NAMES, type ApiFunctionName } from './functions.ts';
import { MEDIA_EVENT_STREAM, MEDIA_KAFKA_BATCHES, MEDIA_SLUICE_BATCHES } from './media-types.ts';
import * as s from './schemas.ts';
import { LIMITS, type KeyAction } from './limits.ts';

/** What a key's scope may grant. */
export type ScopeAction = KeyAction;

/**
 * Where a resource name comes from: a path parameter (`{topic}`), a body field (`body.name`), each
 * element of a body array (`body.topics[]`) or a field of each element (`body.offsets[].topic`).
 */
export type ResourceRef = `{${string}}` | `body.${string}`;

/**
 * One check: the key must hold `action` (or any of them) on the named topic and group; with
 * `everything`, admin over all topics and all groups (key management, maintenance).
 */
export type ScopeCheck =
  | { readonly action: ScopeAction | readonly ScopeAction[]; readonly topic?: ResourceRef; readonly group?: ResourceRef; readonly everything?: never }
  | { readonly action: 'admin'; readonly everything: true; readonly topic?: never; readonly group?: never };

export type RouteScope =
  | 'public'
  | {
      /** Every check must pass (checks naming body fields run after the body is validated). */
      readonly checks: readonly ScopeCheck[];
      /**
       * A list route: any valid key may call it, and it answers only what the key holds `action` on
       * (`filter`), checked by the handler per item.
       */
      readonly filter?: { readonly action: readonly ScopeAction[]; readonly on: 'topic' | 'group' };
    };

export { API_FUNCTION_NAMES, type ApiFunctionName };

export type JsonSchema = z.ZodType;

export interface RouteRequest {
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** A JSON body. */
  readonly body?: JsonSchema;
  /** Binary bodies the route also takes, by media type (the router hands over the bytes). */
  readonly binaryBodies?: readonly string[];
  /** Request headers the route reads. */
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly maxLength?: number }>>;
  /**
   * Array fields checked before the body is validated (a limit is checked before expensive work), with
   * the code of the error above it.
   */
  readonly maxItems?: Readonly<Record<string, { readonly max: number; readonly code: ErrorCode }>>;
}

export interface RouteResponse {
  readonly description: string;
  /** The JSON body; absent for none (204). */
  readonly body?: JsonSchema;
  /** A binary body by media type, instead of or besides JSON (chosen by the Accept header). */
  readonly binary?: readonly string[];
  /** Response headers the contract promises. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: `/v1/${string}` | '/v1';
  readonly operationId: string;
  readonly summary: string;
  readonly tag: 'topics' | 'records' | 'groups' | 'consumers' | 'keys' | 'admin' | 'service';
  readonly scope: RouteScope;
  readonly function: ApiFunctionName;
  readonly request?: RouteRequest;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /** Codes this route answers besides COMMON_ERRORS (and UNAUTHORIZED/FORBIDDEN, unless public). */
  readonly errors: readonly ErrorCode[];
  /** Answers only once records arrive or maxWaitMs passes (observability leaves these out of latency). */
  readonly longPoll?: boolean;
  /** Answers with a streamed body (Server-Sent Events) for as long as the client stays. */
  readonly streaming?: boolean;
}

/**
 * Codes any route may answer: bad input, unknown route or method, too large a body, a body of another
 * media type, throttling, failures.
 */
export const COMMON_ERRORS = ['INVALID_REQUEST', 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'THROTTLED', 'INTERNAL', 'UNAVAILABLE'] as const satisfies readonly ErrorCode[];
/** Codes of every route that needs a key. */
export const AUTH_ERRORS = ['UNAUTHORIZED', 'FORBIDDEN'] as const satisfies readonly ErrorCode[];

const IDEMPOTENCY_KEY = {
  'idempotency-key': {
    description: 'A retry with the same key and the same body appends nothing and answers with the first attempt’s offsets (kept 24 hours).',
    maxLength: LIMITS.maxIdempotencyKeyLength,
  },
  'sluice-attempt': {
    description:
      'With Idempotency-Key: the attempt number, 1 for the first. From 2 on the server looks for the earlier attempt before it reserves offsets, so a retry of a request that was appended leaves no fenced range behind (optional; a retry without it is still appended once).',
    maxLength: 4,
  },
};
const READ_HEADERS = {
  'sluice-next-offset': 'nextOffset, also for the binary form',
  'sluice-high-watermark': 'highWatermark, also for the binary form',
};

const noBody = (description: string): RouteResponse => ({ description });

/** The routes of version 1. */
export const ROUTES = [
  // Service (public)
  {
    method: 'GET',
    path: '/v1/health',
    operationId: 'getHealth',
    summary: 'The service is up; its version.',
    tag: 'service',
    scope: 'public',
    function: 'admin',
    responses: { 200: { description: 'Up.', body: s.HealthResponse } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This contract as an OpenAPI 3.1 document.',
    tag: 'service',
    scope: 'public',
    function: 'admin',
    responses: { 200: { description: 'The OpenAPI document.', body: s.OpenApiResponse } },
    errors: [],
  },

  // Topics
  {
    method: 'POST',
    path: '/v1/topics',
    operationId: 'createTopic',
    summary: 'Create a topic.',
    tag: 'topics',
    scope: { checks: [{ action: 'admin', topic: 'body.name' }] },
    function: 'admin',
    request: { body: s.CreateTopicRequest },
    responses: { 201: { description: 'Created.', body: s.CreateTopicResponse } },
    errors: ['TOPIC_EXISTS'],
  },
  {
    method: 'GET',
    path: '/v1/topics',
    operationId: 'listTopics',
    summary: 'The topics the key may produce to or consume.',
    tag: 'topics',
    scope: { checks: [], filter: { action: ['produce', 'consume'], on: 'topic' } },
    function: 'admin',
    responses: { 200: { description: 'The topics.', body: s.ListTopicsResponse } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/v1/topics/{topic}',
    operationId: 'describeTopic',
    summary: 'A topic’s config and each partition’s start and end offsets.',
    tag: 'topics',
    scope: { checks: [{ action: ['produce', 'consume'], topic: '{topic}' }] },
    function: 'admin',
    request: { params: s.TopicParams },
    responses: { 200: { description: 'The topic.', body: s.DescribeTopicResponse } },
    errors: ['TOPIC_NOT_FOUND'],
  },
  {
    method: 'PATCH',
    path: '/v1/topics/{topic}',
    operationId: 'alterTopicConfig',
    summary: 'Change some of a topic’s settings (retention, codec, timestamp type); the others keep their values.',
    tag: 'topics',
    scope: { checks: [{ action: 'admin', topic: '{topic}' }] },
    function: 'admin',
    request: { params: s.TopicParams, body: s.AlterTopicConfigRequest },
    responses: { 200: { description: 'Changed.', body: s.TopicChangedResponse } },
    errors: ['TOPIC_NOT_FOUND'],
  },
  {
    method: 'POST',
    path: '/v1/topics/{topic}/partitions',
    operationId: 'addPartitions',
    summary: 'Raise a topic’s partition count (never lowers it).',
    tag: 'topics',
    scope: { checks: [{ action: 'admin', topic: '{topic}' }] },
    function: 'admin',
    request: { params: s.TopicParams, body: s.AddPartitionsRequest },
    responses: { 200: { description: 'The topic with its new count.', body: s.TopicChangedResponse } },
    errors: ['TOPIC_NOT_FOUND'],
  },
  {
    method: 'DELETE',
    path: '/v1/topics/{topic}',
    operationId: 'deleteTopic',
    summary: 'Delete a topic; its data is collected by maintenance.',
    tag: 'topics',
    scope: { checks: [{ action: 'admin', topic: '{topic}' }] },
    function: 'admin',
    request: { params: s.TopicParams },
    responses: { 204: noBody('Deleted.') },
    errors: ['TOPIC_NOT_FOUND'],
  },

  // Records
  {
    method: 'POST',
    path: '/v1/topics/{topic}/records',
    operationId: 'produce',
    summary: 'Append records: JSON, or Kafka RecordBatches in application/vnd.sluice.batches framing.',
    tag: 'records',
    scope: { checks: [{ action: 'produce', topic: '{topic}' }] },
    function: 'produce',
    request: {
      params: s.TopicParams,
      body: s.ProduceRequest,
      binaryBodies: [MEDIA_SLUICE_BATCHES],
      headers: IDEMPOTENCY_KEY,
      maxItems: { records: { max: LIMITS.maxRecordsPerRequest, code: 'PAYLOAD_TOO_LARGE' } },
    },
    responses: {
      200: {
        description: 'Durable: one offset per JSON record, in order; for the binary form, the base offset of each section.',
        body: s.ProduceAnswer,
      },
    },
    errors: ['TOPIC_NOT_FOUND', 'UNSUPPORTED_MEDIA_TYPE', 'IDEMPOTENCY_KEY_REUSED', 'CORRUPT_BATCH'],
  },
  {
    method: 'GET',
    path: '/v1/topics/{topic}/partitions/{partition}/records',
    operationId: 'fetchRecords',
    summary: 'Read whole batches from an offset, as JSON records or (Accept) Kafka RecordBatches.',
    tag: 'records',
    scope: { checks: [{ action: 'consume', topic: '{topic}' }] },
    function: 'fetch',
    request: { params: s.PartitionParams, query: s.FetchQuery },
    responses: {
      200: { description: 'Records from the offset.', body: s.FetchResponse, binary: [MEDIA_KAFKA_BATCHES], headers: READ_HEADERS },
    },
    errors: ['TOPIC_NOT_FOUND', 'OFFSET_OUT_OF_RANGE', 'CORRUPT_DATA'],
    longPoll: true,
  },
  {
    method: 'DELETE',
    path: '/v1/topics/{topic}/partitions/{partition}/records',
    operationId: 'deleteRecords',
    summary: 'Make a partition’s records before an offset unreadable (Kafka’s DeleteRecords): its log start moves there at once, maintenance deletes what lies below.',
    tag: 'records',
    scope: { checks: [{ action: 'admin', topic: '{topic}' }] },
    function: 'admin',
    request: { params: s.PartitionParams, query: s.DeleteRecordsQuery },
    responses: { 200: { description: 'The partition’s offsets after the change.', body: s.DeleteRecordsResponse } },
    errors: ['TOPIC_NOT_FOUND', 'OFFSET_OUT_OF_RANGE'],
  },
  {
    method: 'GET',
    path: '/v1/topics/{topic}/partitions/{partition}/locations',
    operationId: 'fetchLocations',
    summary: 'Presigned ranged reads of the stored batches (inline batches as bytes), for clients that read the object store directly.',
    tag: 'records',
    scope: { checks: [{ action: 'consume', topic: '{topic}' }] },
    function: 'fetch',
    request: { params: s.PartitionParams, query: s.LocationsQuery },
    responses: { 200: { description: 'Byte ranges and their offsets; small batches stored inline come as their bytes.', body: s.LocationsResponse } },
    errors: ['TOPIC_NOT_FOUND', 'OFFSET_OUT_OF_RANGE'],
    longPoll: true,
  },
  {
    method: 'GET',
    path: '/v1/topics/{topic}/wait',
    operationId: 'waitForRecords',
    summary: 'Wait until any of the given partitions has records at or after its offset: one long poll for all of a consumer’s idle partitions.',
    tag: 'records',
    scope: { checks: [{ action: 'consume', topic: '{topic}' }] },
    function: 'fetch',
    request: { params: s.TopicParams, query: s.WaitQuery },
    responses: { 200: { description: 'The partitions ready to fetch, with their high watermarks; empty at the deadline.', body: s.WaitResponse } },
    errors: ['TOPIC_NOT_FOUND'],
    longPoll: true,
  },
  {
    method: 'GET',
    path: '/v1/topics/{topic}/partitions/{partition}/stream',
    operationId: 'streamRecords',
    summary: 'Live tail: Server-Sent Events, a `records` event (id: the next offset) whenever records arrive, a comment at least every 15 s.',
    tag: 'records',
    scope: { checks: [{ action: 'consume', topic: '{topic}' }] },
    // In AWS a Function URL with response streaming serves it: API Gateway's HTTP API buffers answers.
    function: 'tail',
    request: {
      params: s.PartitionParams,
      query: s.StreamQuery,
      headers: { 'last-event-id': { description: 'Resume here (the id of the last event received); takes precedence over `offset`.', maxLength: 19 } },
    },
    responses: {
      200: {
        description: 'An event stream: `event: records`, `id: <nextOffset>`, `data:` the JSON fetch answer; `event: error` with the error answer when the stream cannot go on.',
        binary: [MEDIA_EVENT_STREAM],
      },
    },
    errors: ['TOPIC_NOT_FOUND', 'OFFSET_OUT_OF_RANGE', 'CORRUPT_DATA'],
    streaming: true,
  },
  {
    method: 'GET',
    path: '/v1/topics/{topic}/partitions/{partition}/offsets',
    operationId: 'offsetForTimestamp',
    summary: 'The first offset whose timestamp is at or after the given time.',
    tag: 'records',
    scope: { checks: [{ action: 'consume', topic: '{topic}' }] },
    function: 'fetch',
    request: { params: s.PartitionParams, query: s.OffsetsQuery },
    responses: { 200: { description: 'The offset.', body: s.OffsetsResponse } },
    errors: ['TOPIC_NOT_FOUND', 'CORRUPT_DATA'],
  },

  {
    method: 'GET',
    path: '/v1/topics/{topic}/throughput',
    operationId: 'topicThroughput',
    summary: 'Records and bytes per time bucket (at most 1,000; the walk bounded), for a topic or one partition, from the log’s own entries.',
    tag: 'records',
    scope: { checks: [{ action: 'consume', topic: '{topic}' }] },
    function: 'fetch',
    request: { params: s.TopicParams, query: s.ThroughputQuery },
    responses: { 200: { description: 'The buckets, oldest first.', body: s.ThroughputResponse } },
    errors: ['TOPIC_NOT_FOUND'],
  },

  // Consumer groups
  {
    method: 'GET',
    path: '/v1/groups',
    operationId: 'listGroups',
    summary: 'The consumer groups the key may consume.',
    tag: 'groups',
    scope: { checks: [], filter: { action: ['consume'], on: 'group' } },
    function: 'admin',
    responses: { 200: { description: 'The groups.', body: s.ListGroupsResponse } },
    errors: [],
  },
  {
    method: 'POST',
    path: '/v1/groups/{group}/members',
    operationId: 'joinGroup',
    summary: 'Join a consumer group (or rejoin with memberId); get this generation’s assignment.',
    tag: 'groups',
    scope: { checks: [{ action: 'consume', group: '{group}' }, { action: 'consume', group: '{group}', topic: 'body.topics[]' }] },
    function: 'admin',
    request: { params: s.GroupParams, body: s.JoinGroupRequest },
    responses: { 200: { description: 'Joined.', body: s.JoinGroupResponse } },
    errors: ['TOPIC_NOT_FOUND', 'UNKNOWN_MEMBER'],
  },
  {
    method: 'POST',
    path: '/v1/groups/{group}/members/{memberId}/heartbeat',
    operationId: 'heartbeat',
    summary: 'Renew the member’s session; rebalance: rejoin.',
    tag: 'groups',
    scope: { checks: [{ action: 'consume', group: '{group}' }] },
    function: 'admin',
    request: { params: s.MemberParams, body: s.HeartbeatRequest },
    responses: { 200: { description: 'Renewed.', body: s.HeartbeatResponse } },
    errors: ['UNKNOWN_MEMBER', 'GROUP_NOT_FOUND'],
  },
  {
    method: 'DELETE',
    path: '/v1/groups/{group}/members/{memberId}',
    operationId: 'leaveGroup',
    summary: 'Leave the group; the member’s partitions move at once.',
    tag: 'groups',
    scope: { checks: [{ action: 'consume', group: '{group}' }] },
    function: 'admin',
    request: { params: s.MemberParams },
    responses: { 204: noBody('Left.') },
    errors: [],
  },
  {
    method: 'POST',
    path: '/v1/groups/{group}/offsets',
    operationId: 'commitOffsets',
    summary: 'Commit offsets (the next offset to consume) of partitions this member owns.',
    tag: 'groups',
    scope: { checks: [{ action: 'consume', group: '{group}' }, { action: 'consume', group: '{group}', topic: 'body.offsets[].topic' }] },
    function: 'admin',
    request: { params: s.GroupParams, body: s.CommitOffsetsRequest },
    responses: { 200: { description: 'The committed offsets (a lower commit leaves the higher one standing).', body: s.CommittedOffsetsResponse } },
    errors: ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER', 'GROUP_NOT_FOUND'],
  },
  {
    method: 'POST',
    path: '/v1/groups/{group}/offsets/reset',
    operationId: 'resetOffsets',
    summary: 'Move a group’s offsets of a topic (only while the group has no members).',
    tag: 'groups',
    scope: { checks: [{ action: 'admin', group: '{group}', topic: 'body.topic' }] },
    function: 'admin',
    request: { params: s.GroupParams, body: s.ResetOffsetsRequest },
    responses: { 200: { description: 'The offsets now committed.', body: s.CommittedOffsetsResponse } },
    errors: ['TOPIC_NOT_FOUND', 'GROUP_NOT_EMPTY', 'CORRUPT_DATA'],
  },
  {
    method: 'GET',
    path: '/v1/groups/{group}',
    operationId: 'describeGroup',
    summary: 'Members, assignment, committed offsets and lag.',
    tag: 'groups',
    scope: { checks: [{ action: 'consume', group: '{group}' }] },
    function: 'admin',
    request: { params: s.GroupParams },
    responses: { 200: { description: 'The group.', body: s.DescribeGroupResponse } },
    errors: ['GROUP_NOT_FOUND'],
  },
  {
    method: 'DELETE',
    path: '/v1/groups/{group}',
    operationId: 'deleteGroup',
    summary: 'Delete a group that has no members, with its committed offsets.',
    tag: 'groups',
    // destroys committed offsets: admin, as resetting them is
    scope: { checks: [{ action: 'admin', group: '{group}' }] },
    function: 'admin',
    request: { params: s.GroupParams },
    responses: { 204: noBody('Deleted.') },
    errors: ['GROUP_NOT_FOUND', 'GROUP_NOT_EMPTY'],
  },

  // Push consumers. A key's `groups` patterns name push consumers too (a consumer is a group whose
  // member the service runs); its topics are not in the path, so the handlers also check the
  // consumer's stored topics (admin on each to change it, consume on each to see it).
  {
    method: 'POST',
    path: '/v1/consumers',
    operationId: 'createConsumer',
    summary: 'Create a push consumer: records delivered to a URL or a Lambda function; its secret is in this answer only.',
    tag: 'consumers',
    scope: { checks: [{ action: 'admin', group: 'body.name', topic: 'body.topics[]' }, { action: 'admin', group: 'body.name', topic: 'body.deadLetterTopic' }] },
    function: 'admin',
    request: { body: s.CreateConsumerRequest },
    responses: { 201: { description: 'Created.', body: s.CreateConsumerResponse } },
    errors: ['TOPIC_NOT_FOUND', 'CONSUMER_EXISTS'],
  },
  {
    method: 'GET',
    path: '/v1/consumers',
    operationId: 'listConsumers',
    summary: 'The push consumers the key may consume (the consumer and every topic it reads).',
    tag: 'consumers',
    scope: { checks: [], filter: { action: ['consume'], on: 'group' } },
    function: 'admin',
    responses: { 200: { description: 'The consumers.', body: s.ListConsumersResponse } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/v1/consumers/{name}',
    operationId: 'describeConsumer',
    summary: 'A push consumer: its configuration, state, per-partition progress and counters.',
    tag: 'consumers',
    scope: { checks: [{ action: 'consume', group: '{name}' }] },
    function: 'admin',
    request: { params: s.ConsumerParams },
    responses: { 200: { description: 'The consumer.', body: s.DescribeConsumerResponse } },
    errors: ['CONSUMER_NOT_FOUND'],
  },
  {
    method: 'POST',
    path: '/v1/consumers/{name}/pause',
    operationId: 'pauseConsumer',
    summary: 'Stop delivering (the batches in flight finish).',
    tag: 'consumers',
    scope: { checks: [{ action: 'admin', group: '{name}' }] },
    function: 'admin',
    request: { params: s.ConsumerParams },
    responses: { 200: { description: 'Paused.', body: s.ConsumerStateResponse } },
    errors: ['CONSUMER_NOT_FOUND'],
  },
  {
    method: 'POST',
    path: '/v1/consumers/{name}/resume',
    operationId: 'resumeConsumer',
    summary: 'Deliver again; partitions that ran out of attempts (failing) start over.',
    tag: 'consumers',
    scope: { checks: [{ action: 'admin', group: '{name}' }] },
    function: 'admin',
    request: { params: s.ConsumerParams },
    responses: { 200: { description: 'Running.', body: s.ConsumerStateResponse } },
    errors: ['CONSUMER_NOT_FOUND'],
  },
  {
    method: 'DELETE',
    path: '/v1/consumers/{name}',
    operationId: 'deleteConsumer',
    summary: 'Delete a push consumer (its dispatcher leaves its group).',
    tag: 'consumers',
    scope: { checks: [{ action: 'admin', group: '{name}' }] },
    function: 'admin',
    request: { params: s.ConsumerParams },
    responses: { 204: noBody('Deleted.') },
    errors: ['CONSUMER_NOT_FOUND'],
  },

  // API keys
  {
    method: 'POST',
    path: '/v1/keys',
    operationId: 'createKey',
    summary: 'Create an API key; the plain key is in this answer only.',
    tag: 'keys',
    scope: { checks: [{ action: 'admin', everything: true }] },
    function: 'admin',
    request: { body: s.CreateKeyRequest },
    responses: { 201: { description: 'Created.', body: s.CreateKeyResponse } },
    errors: [],
  },
  {
    method: 'GET',
    path: '/v1/keys',
    operationId: 'listKeys',
    summary: 'The API keys (no secrets).',
    tag: 'keys',
    scope: { checks: [{ action: 'admin', everything: true }] },
    function: 'admin',
    responses: { 200: { description: 'The keys.', body: s.ListKeysResponse } },
    errors: [],
  },
  {
    method: 'DELETE',
    path: '/v1/keys/{id}',
    operationId: 'revokeKey',
    summary: 'Revoke an API key.',
    tag: 'keys',
    scope: { checks: [{ action: 'admin', everything: true }] },
    function: 'admin',
    request: { params: s.KeyParams },
    responses: { 204: noBody('Revoked.') },
    errors: [],
  },

  // Administration
  {
    method: 'POST',
    path: '/v1/admin/maintenance',
    operationId: 'runMaintenance',
    summary: 'Run one maintenance pass now (compaction, retention, cleanup) and say what it did.',
    tag: 'admin',
    scope: { checks: [{ action: 'admin', everything: true }] },
    // Compaction and garbage collection delete objects: only the maintenance function may.
    function: 'maintenance',
    responses: { 200: { description: 'What the pass did.', body: s.MaintenanceResponse } },
    errors: [],
  },
] as const satisfies readonly RouteSpec[];

export type Route = (typeof ROUTES)[number];
export type OperationId = Route['operationId'];

/** A route's path as a regular expression, parameters as named groups (one path segment each). */
export function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
}

/** The route for an operation. */
export function routeOf(operationId: OperationId): RouteSpec {
  return ROUTES.find((route) => route.operationId === operationId)!;
}
