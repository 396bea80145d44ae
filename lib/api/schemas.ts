/**
 * Request and response bodies of the HTTP contract (docs/api-v1.md) as zod schemas. The server
 * validates requests with them, the OpenAPI document (./openapi.ts) is generated from them, and the
 * client's wire types are generated from them (./types.ts, `npm run generate:api`), so the client
 * never loads zod.
 *
 * Wire conventions: offsets are decimal strings (they can exceed 2^53), times are milliseconds since
 * the epoch, sizes are bytes. Schemas describe JSON as it travels: no transforms, so every schema has
 * one JSON Schema; the server converts offsets to bigint after validation.
 */
import * as z from 'zod';
import { ERROR_TABLE, type ErrorCode } from '../errors.ts';
import { API_DEFAULTS, ASSIGNMENT_STRATEGIES, COMPRESSION_CODECS, KEY_ACTIONS, LIMITS, NAME_PATTERN, TIMESTAMP_TYPES } from './limits.ts';

// ---------------------------------------------------------------------------------------------------
// Building blocks

const MAX_INT64 = 0x7fffffffffffffffn;
const BASE64_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The bits a base64 text's padding leaves unused are zero (so decoding and encoding again gives the same text). */
function isCanonicalBase64(text: string): boolean {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (padding === 0) return true;
  const last = BASE64_DIGITS.indexOf(text[text.length - padding - 1]);
  return (last & (padding === 2 ? 0x0f : 0x03)) === 0;
}

/** A decimal offset, as offsets travel in JSON. */
export const Offset = z
  .string()
  .regex(/^\d{1,19}$/, 'a non-negative decimal integer')
  .refine((text) => !/^\d{1,19}$/.test(text) || BigInt(text) <= MAX_INT64, 'expected a decimal integer below 2^63')
  .meta({ description: 'A decimal offset (offsets can exceed 2^53).' });

/** An offset a client sends: a decimal string, or a number while it is a safe integer. */
export const OffsetInput = z.union([Offset, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]);

export const TopicName = z.string().regex(NAME_PATTERN, `1-${LIMITS.maxTopicNameLength} characters of [a-zA-Z0-9._-]`);
export const GroupName = z.string().regex(NAME_PATTERN, '1-249 characters of [a-zA-Z0-9._-]');
export const PartitionNumber = z.number().int().min(0).max(LIMITS.maxPartitions - 1);
export const Timestamp = z.number().int().min(0).max(LIMITS.maxTimestampMs).meta({ description: 'Milliseconds since the epoch.' });
/** Strict base64 (RFC 4648 §4, padded, canonical): what a lenient decoder would silently truncate or repair is refused. */
export const Base64 = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'padded base64 (RFC 4648), a multiple of 4 characters')
  .refine(isCanonicalBase64, 'expected canonical base64 (the unused bits of the last character are zero)');
export const Generation = z.number().int().min(0);

export const TopicPartition = z.object({ topic: TopicName, partition: PartitionNumber });

// ---------------------------------------------------------------------------------------------------
// Path parameters (strings, as they come in the path)

const PartitionParam = z.string().regex(/^\d{1,9}$/, 'a non-negative integer');
export const TopicParams = z.object({ topic: TopicName });
export const PartitionParams = z.object({ topic: TopicName, partition: PartitionParam });
export const GroupParams = z.object({ group: GroupName });
export const MemberParams = z.object({ group: GroupName, memberId: z.string().min(1).max(64) });
export const KeyParams = z.object({ id: z.string().min(1).max(64) });
export const ConsumerName = z
  .string()
  .regex(new RegExp(`^[a-zA-Z0-9._-]{1,${LIMITS.maxConsumerNameLength}}$`), `1-${LIMITS.maxConsumerNameLength} characters of [a-zA-Z0-9._-]`)
  .meta({ description: 'A push consumer: 1-200 characters of [a-zA-Z0-9._-].' });
export const ConsumerParams = z.object({ name: ConsumerName });

// ---------------------------------------------------------------------------------------------------
// Errors

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_TABLE) as [ErrorCode, ...ErrorCode[]]);

/** Every error answer: a code of the error table, one sentence, and fields that help (startOffset, field, limit...). */
export const ErrorResponse = z
  .object({
    error: z.looseObject({ code: ErrorCodeSchema, message: z.string() }),
  })
  ;

// ---------------------------------------------------------------------------------------------------
// Topics

export const TopicConfig = z
  .object({
    retentionMs: z.number().int().min(-1).default(API_DEFAULTS.retentionMs).meta({ description: 'Records older than this may be deleted; -1 keeps them forever.' }),
    retentionBytes: z.number().int().min(-1).default(API_DEFAULTS.retentionBytes).meta({ description: 'Bytes kept per partition; -1 for no bound.' }),
    compression: z.enum(COMPRESSION_CODECS).default(API_DEFAULTS.compression).meta({ description: 'Codec of the batches the server encodes from JSON records.' }),
    timestampType: z
      .enum(TIMESTAMP_TYPES)
      .default(API_DEFAULTS.timestampType)
      .meta({ description: 'CreateTime: records keep the timestamps their producers gave. LogAppendTime: every batch is stamped with the server’s clock when it is appended (retention, searches by time and the throughput route then follow arrival).' }),
  })
  .strict()
  ;

export const CreateTopicRequest = z
  .object({
    name: TopicName,
    partitions: z.number().int().min(1).max(LIMITS.maxPartitions),
    config: TopicConfig.optional(),
  })
  .strict();

export const CreateTopicResponse = z.object({ name: TopicName, partitions: z.number().int(), config: TopicConfig });

/** Settings a change may name: a value replaces the current one, null sets the deployment's default again. */
export const TopicConfigChange = z
  .object({
    retentionMs: z.number().int().min(-1).nullable().optional().meta({ description: 'Records older than this may be deleted; -1 keeps them forever; null: the default.' }),
    retentionBytes: z.number().int().min(-1).nullable().optional().meta({ description: 'Bytes kept per partition; -1 for no bound; null: the default.' }),
    compression: z.enum(COMPRESSION_CODECS).nullable().optional().meta({ description: 'Codec of the batches the server encodes from JSON records from now on; null: the default.' }),
    timestampType: z.enum(TIMESTAMP_TYPES).nullable().optional().meta({ description: 'How batches appended from now on are stamped; null: the default.' }),
  })
  .strict()
  .refine((change) => Object.keys(change).length > 0, { message: 'expected at least one of retentionMs, retentionBytes, compression, timestampType' });

export const AlterTopicConfigRequest = z
  .object({
    config: TopicConfigChange.meta({ description: 'The settings to change; the others keep their values.' }),
  })
  .strict();

/** A topic as a change of its settings or of its partition count left it. */
export const TopicChangedResponse = z.object({ name: TopicName, partitions: z.number().int(), config: TopicConfig.meta({ description: 'Every setting after the change.' }) });

export const AddPartitionsRequest = z
  .object({
    count: z.number().int().min(1).max(LIMITS.maxPartitions).meta({ description: 'The partition count wanted: at least the current one (the same count changes nothing).' }),
  })
  .strict();

export const ListTopicsResponse = z.object({ topics: z.array(z.object({ name: TopicName, partitions: z.number().int() })) });

export const DescribeTopicResponse = z.object({
  name: TopicName,
  config: TopicConfig,
  partitions: z.array(
    z.object({
      partition: PartitionNumber,
      startOffset: Offset,
      endOffset: Offset.meta({ description: 'The high watermark: the next offset a consumer at the tail reads.' }),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------------
// Record headers: a Kafka header key may repeat, and a value may be null or any bytes. In JSON a key
// maps to its value, or to the array of its values (in order) when it occurs more than once. Keys whose
// values are all UTF-8 text (or null) are in `headers`; the others, in base64, in `headersBase64`.

const headerValues = <T extends z.ZodType>(value: T) => z.union([value.nullable(), z.array(value.nullable()).min(1).max(LIMITS.maxHeadersPerRecord)]);
export const TextHeaders = z
  .record(z.string(), headerValues(z.string()))
  .meta({ description: 'Header key → UTF-8 value, null, or the array of its values when the key repeats.' });
export const Base64Headers = z
  .record(z.string(), headerValues(Base64))
  .meta({ description: 'Header key → base64 value, null, or the array of its values when the key repeats.' });

// ---------------------------------------------------------------------------------------------------
// Produce

export const ProduceRecord = z
  .object({
    key: z.string().nullable().optional().meta({ description: 'Stored as its UTF-8 bytes; keyed records go to murmur2(key) % partitions.' }),
    keyBase64: Base64.optional(),
    value: z.unknown().optional().meta({ description: 'A string is stored as its UTF-8 bytes, any other JSON value as its JSON text.' }),
    valueBase64: Base64.optional(),
    headers: TextHeaders.optional(),
    headersBase64: Base64Headers.optional(),
    partition: PartitionNumber.optional(),
    timestamp: Timestamp.optional(),
  })
  .strict()
  .refine((r) => r.key === undefined || r.keyBase64 === undefined, { message: 'give key or keyBase64, not both' })
  .refine((r) => r.value === undefined || r.valueBase64 === undefined, { message: 'give value or valueBase64, not both' })
  ;

export const ProduceRequest = z.object({ records: z.array(ProduceRecord).min(1).max(LIMITS.maxRecordsPerRequest) }).strict();

export const ProduceResponse = z.object({
  records: z.array(z.object({ partition: PartitionNumber, offset: Offset })).meta({ description: 'One entry per input record, in order.' }),
});

/** The answer to a binary (application/vnd.sluice.batches) produce: one entry per section. */
export const ProduceBatchesResponse = z.object({
  partitions: z.array(z.object({ partition: PartitionNumber, baseOffset: Offset, recordCount: z.number().int().min(1) })),
});

/** A produce answer: ProduceResponse for JSON records, ProduceBatchesResponse for the binary form. */
export const ProduceAnswer = z.union([ProduceResponse, ProduceBatchesResponse]);

// ---------------------------------------------------------------------------------------------------
// Fetch

const FetchQueryBase = {
  offset: Offset,
  maxBytes: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'a positive integer')
    .optional()
    .meta({ description: `Stored bytes to return, at most ${LIMITS.maxFetchBytes}; at least one whole batch always comes. Default ${API_DEFAULTS.fetchMaxBytes}.` }),
  maxWaitMs: z
    .string()
    .regex(/^\d{1,16}$/, 'a non-negative integer')
    .refine((text) => Number(text) <= LIMITS.maxWaitMs, `expected at most ${LIMITS.maxWaitMs} (a longer wait is refused, not shortened)`)
    .optional()
    .meta({ description: `Long poll at the end of the log, at most ${LIMITS.maxWaitMs}. Default ${API_DEFAULTS.fetchMaxWaitMs}.` }),
};

export const FetchQuery = z.object(FetchQueryBase);
export const LocationsQuery = z.object(FetchQueryBase);
export const OffsetsQuery = z.object({ timestamp: z.string().regex(/^\d{1,16}$/, 'milliseconds since the epoch') });

/** Throughput buckets: `bucketMs` wide, from `from` to `to`, at most LIMITS.maxThroughputBuckets of them. */
export const ThroughputQuery = z.object({
  partition: z.string().regex(/^\d{1,9}$/, 'a partition number').optional().meta({ description: 'One partition; all of them summed when left out.' }),
  bucketMs: z.string().regex(/^\d{1,12}$/, 'milliseconds').optional().meta({ description: `Bucket width. Default ${API_DEFAULTS.throughputBucketMs}.` }),
  from: z
    .string()
    .regex(/^\d{1,16}$/, 'milliseconds since the epoch')
    .optional()
    .meta({ description: `Start, ms since the epoch. Default: \`to\` minus ${API_DEFAULTS.throughputBuckets} buckets.` }),
  to: z.string().regex(/^\d{1,16}$/, 'milliseconds since the epoch').optional().meta({ description: 'End (exclusive), ms since the epoch. Default: now.' }),
});

export const ThroughputResponse = z.object({
  topic: TopicName,
  partition: PartitionNumber.optional().meta({ description: 'Absent when the buckets sum every partition.' }),
  bucketMs: z.number().int(),
  buckets: z.array(
    z.object({
      startMs: z.number().int().meta({ description: 'The bucket’s start, ms since the epoch.' }),
      records: z.number().int().meta({ description: 'Records whose log entry’s newest timestamp falls in the bucket.' }),
      bytes: z.number().int().meta({ description: 'Stored bytes of those entries.' }),
    }),
  ),
  truncated: z.boolean().meta({ description: 'True when the walk stopped at its bound (maxThroughputEntries) before the end of the log.' }),
});

/** `partition:offset` pairs, comma-separated: where the waiting reader stands in each partition. */
const WAIT_PARTITIONS = /^\d{1,9}:\d{1,19}(,\d{1,9}:\d{1,19})*$/;

export const WaitQuery = z.object({
  partitions: z
    .string()
    .max(LIMITS.maxWaitPartitions * 30)
    .regex(WAIT_PARTITIONS, 'comma-separated partition:offset pairs, such as 0:120,3:77')
    .refine((text) => text.split(',').length <= LIMITS.maxWaitPartitions, `expected at most ${LIMITS.maxWaitPartitions} partitions`)
    .refine((text) => !WAIT_PARTITIONS.test(text) || text.split(',').every((pair) => BigInt(pair.split(':')[1]) <= MAX_INT64), 'expected offsets below 2^63')
    .meta({ description: `Where the reader stands: partition:offset pairs, at most ${LIMITS.maxWaitPartitions}.` }),
  maxWaitMs: FetchQueryBase.maxWaitMs,
});

export const WaitResponse = z.object({
  partitions: z
    .array(z.object({ partition: PartitionNumber, highWatermark: Offset, logStartOffset: Offset }))
    .meta({ description: 'The partitions where a fetch at the given offset answers without waiting (records there, or the offset is out of range); empty at the deadline.' }),
});

/** SSE live tail: where the stream starts (`Last-Event-ID` takes precedence). */
export const StreamQuery = z.object({ offset: Offset.optional() });

export const FetchedRecord = z
  .object({
    offset: Offset,
    timestamp: z.number().int(),
    key: z.string().nullable().optional(),
    keyBase64: Base64.optional(),
    value: z.string().nullable().optional(),
    valueBase64: Base64.optional(),
    headers: TextHeaders,
    headersBase64: Base64Headers.optional(),
  })
  ;

export const FetchResponse = z.object({ records: z.array(FetchedRecord), nextOffset: Offset, highWatermark: Offset });

/** A presigned ranged GET of an object in the store. */
export const ObjectLocation = z
  .object({
    url: z.string(),
    range: z.object({ start: z.number().int().min(0), end: z.number().int().min(0) }).meta({ description: 'Inclusive: send exactly Range: bytes=start-end.' }),
    baseOffset: Offset.meta({ description: 'Offset of the first batch in the range (stored batches carry base offset 0).' }),
    lastOffset: Offset,
  })
  ;

/**
 * Small batches kept inline in their log entry (no object, so nothing to presign): the answer carries
 * the bytes a ranged GET would have returned.
 */
export const InlineLocation = z
  .object({
    batchesBase64: z.string().meta({ description: 'The stored batches, base64: exactly the bytes a ranged GET of an ingest range returns (base offsets 0).' }),
    baseOffset: Offset.meta({ description: 'Offset of the first batch (stored batches carry base offset 0).' }),
    lastOffset: Offset,
  })
  ;

export const Location = z.union([ObjectLocation, InlineLocation]).meta({
  description: 'Either a presigned ranged GET (url, range) or, for small batches stored inline in the log, the batches themselves (batchesBase64).',
});

export const LocationsResponse = z.object({ locations: z.array(Location), nextOffset: Offset, highWatermark: Offset });

export const DeleteRecordsQuery = z.object({
  before: z.union([Offset, z.literal('-1')]).meta({
    description: 'Records at offsets below this one become unreadable; -1: every record up to the high watermark (Kafka’s DeleteRecords convention).',
  }),
});

export const DeleteRecordsResponse = z.object({
  partition: z.number().int(),
  startOffset: Offset.meta({ description: 'The log start after the change: the lowest offset a read may ask for.' }),
  endOffset: Offset.meta({ description: 'The high watermark.' }),
});

export const OffsetsResponse = z.object({ offset: Offset.meta({ description: 'The first offset with timestamp ≥ the given time, or the high watermark.' }) });

// ---------------------------------------------------------------------------------------------------
// Consumer groups

export const JoinGroupRequest = z
  .object({
    topics: z.array(TopicName).min(1).max(LIMITS.maxSubscribedTopics),
    sessionTimeoutMs: z.number().int().min(LIMITS.minSessionTimeoutMs).max(LIMITS.maxSessionTimeoutMs).default(API_DEFAULTS.groupSessionTimeoutMs),
    /** How long a member may take to release partitions moving away from it. @default sessionTimeoutMs */
    rebalanceTimeoutMs: z.number().int().min(LIMITS.minSessionTimeoutMs).max(LIMITS.maxSessionTimeoutMs).optional(),
    memberId: z.string().min(1).max(64).optional(),
    /**
     * A new member's retry-safe identity: a join retried with the same joinId (its answer was lost) finds
     * the member its first attempt created instead of creating another one (Kafka's KIP-394).
     */
    joinId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, '16-64 characters of [A-Za-z0-9_-]').optional(),
    instanceId: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, '1-249 characters of [a-zA-Z0-9._-]').optional(),
    strategy: z.enum(ASSIGNMENT_STRATEGIES).default(API_DEFAULTS.groupStrategy),
  })
  .strict();

export const JoinGroupResponse = z.object({
  memberId: z.string(),
  generation: Generation,
  assignments: z.array(TopicPartition.extend({ committedOffset: Offset.nullable() })).meta({ description: 'Consume these, from committedOffset (null: nothing committed).' }),
  revoking: z.array(TopicPartition).meta({ description: 'Still this member’s in this generation, moving away: commit, stop, rejoin.' }),
  pending: z
    .array(TopicPartition)
    .optional()
    .meta({ description: 'Moving to this member once their current owners release them (absent from older servers).' }),
});

export const HeartbeatRequest = z.object({ generation: Generation }).strict();
export const HeartbeatResponse = z.object({ generation: Generation, rebalance: z.boolean() });

export const CommitOffsetsRequest = z
  .object({
    memberId: z.string().min(1).max(64),
    generation: Generation,
    offsets: z
      .array(z.object({ topic: TopicName, partition: PartitionNumber, offset: OffsetInput.meta({ description: 'The next offset to consume (last processed + 1).' }) }).strict())
      .min(1)
      .max(LIMITS.maxCommitOffsets),
  })
  .strict();

export const CommittedOffsetsResponse = z.object({ offsets: z.array(TopicPartition.extend({ committedOffset: Offset })) });

export const ResetOffsetsRequest = z
  .object({
    topic: TopicName,
    partitions: z.array(PartitionNumber).max(LIMITS.maxPartitions).optional(),
    to: z.enum(['earliest', 'latest', 'timestamp', 'offset']),
    timestamp: Timestamp.optional(),
    offset: OffsetInput.optional(),
  })
  .strict()
  .refine((r) => (r.to === 'timestamp') === (r.timestamp !== undefined), { message: 'expected with "to": "timestamp", and only then', path: ['timestamp'] })
  .refine((r) => (r.to === 'offset') === (r.offset !== undefined), { message: 'expected with "to": "offset", and only then', path: ['offset'] });

export const ListGroupsResponse = z.object({ groups: z.array(z.object({ group: GroupName })) });

export const DescribeGroupResponse = z.object({
  group: GroupName,
  generation: Generation,
  strategy: z.enum(ASSIGNMENT_STRATEGIES),
  members: z.array(
    z.object({
      memberId: z.string(),
      instanceId: z.string().optional(),
      topics: z.array(TopicName),
      assignments: z.array(TopicPartition),
      revoking: z.array(TopicPartition),
    }),
  ),
  offsets: z.array(
    TopicPartition.extend({
      committedOffset: Offset.nullable(),
      endOffset: Offset,
      lag: Offset.nullable().meta({ description: 'endOffset - committedOffset (0 when the commit is ahead), null when nothing is committed.' }),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------------
// API keys

const KeyPattern = z.string().min(1).max(260).regex(/^(\*|[a-zA-Z0-9._-]+\*?)$/, 'a name, a prefix ending in *, or *');

export const KeyScope = z
  .object({
    action: z.enum(KEY_ACTIONS),
    /** Topic names or prefixes; default all. */
    topics: z.array(KeyPattern).max(100).default(['*']),
    /** Consumer group names or prefixes; default all. */
    groups: z.array(KeyPattern).max(100).default(['*']),
  })
  .strict()
  ;

export const KeyScopes = z.array(KeyScope).min(1).max(20);

export const CreateKeyRequest = z.object({ name: z.string().min(1).max(200), scopes: KeyScopes }).strict();

const KeySummary = z.object({ id: z.string(), name: z.string(), scopes: z.array(KeyScope), createdAt: z.number().int() });

export const CreateKeyResponse = KeySummary.extend({ key: z.string().meta({ description: 'The plain key, shown once: only its SHA-256 is stored.' }) });
export const ListKeysResponse = z.object({ keys: z.array(KeySummary) });

// ---------------------------------------------------------------------------------------------------
// Maintenance, health

export const MaintenanceResponse = z.object({
  topics: z.number().int(),
  partitions: z.number().int(),
  gapsClosed: z.number().int(),
  segmentsWritten: z.number().int(),
  segmentBytes: z.number().int(),
  entriesCompacted: z.number().int(),
  leftoversDeleted: z.number().int(),
  offsetsTrimmed: Offset,
  entriesExpired: z.number().int(),
  /** Points added to partitions' time indexes over newly sealed segments (what seeks by time start from). */
  timeIndexPointsWritten: z.number().int(),
  objectsDeleted: z.number().int(),
  deletedTopicsPurged: z.number().int(),
  expiredItemsDeleted: z.number().int(),
  /** Quiet partitions the pass did not walk (0 on a full pass: this route). */
  partitionsSkipped: z.number().int(),
  /** Topics the pass did not collect garbage in (every partition skipped, nothing pending). */
  collectionsSkipped: z.number().int(),
  errors: z.number().int(),
  firstError: z.string().optional(),
});

export const HealthResponse = z.object({
  status: z.literal('ok'),
  version: z.string(),
  notifications: z.string().optional().meta({ description: 'The notification channel (a ws or wss URL), where the deployment offers one.' }),
});

/** The OpenAPI document (its own schema is the OpenAPI specification's). */
export const OpenApiResponse = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------------
// Push consumers

const P = API_DEFAULTS.push;
const TargetTimeout = z.number().int().min(100).max(LIMITS.maxDeliveryTimeoutMs).default(P.timeoutMs).meta({ description: 'A target that has not answered after this long has failed.' });

export const ConsumerTarget = z
  .union([
    z.object({ url: z.string().url().max(2048).meta({ description: 'https (in AWS: to a public address unless the deployment allows private ones).' }), timeoutMs: TargetTimeout }).strict(),
    z
      .object({
        functionArn: z.string().regex(/^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+(:[a-zA-Z0-9-_$]+)?$/, 'a Lambda function ARN').meta({ description: 'AWS only: a function invoked synchronously.' }),
        timeoutMs: TargetTimeout,
      })
      .strict(),
  ])
  .meta({ description: 'A URL, or in AWS a Lambda function.' });

const BatchSettings = z
  .object({
    maxRecords: z.number().int().min(1).max(LIMITS.maxDeliveryRecords).default(P.maxRecords),
    maxBytes: z.number().int().min(1).max(LIMITS.maxDeliveryBytes).default(P.maxBytes).meta({ description: 'Bytes of the delivery body (JSON); a larger record still goes, alone.' }),
    maxWaitMs: z.number().int().min(0).max(LIMITS.maxDeliveryWaitMs).default(P.maxWaitMs).meta({ description: 'Wait this long after the oldest undelivered record for the batch to fill.' }),
  })
  .strict();

const RetrySettings = z
  .object({
    maxAttempts: z.number().int().min(1).max(LIMITS.maxDeliveryAttempts).default(P.maxAttempts),
    bisectOnError: z.boolean().default(P.bisectOnError).meta({ description: 'Split a failing batch until the failing record is found.' }),
    maxRecordAgeMs: z.number().int().min(-1).default(P.maxRecordAgeMs).meta({ description: 'Failing records older than this are dead-lettered at once; -1: no limit.' }),
    minBackoffMs: z.number().int().min(0).max(3_600_000).default(P.minBackoffMs),
    maxBackoffMs: z.number().int().min(0).max(3_600_000).default(P.maxBackoffMs),
  })
  .strict();

export const StartAt = z.union([z.enum(['earliest', 'latest']), z.object({ timestamp: Timestamp }).strict()]).meta({ description: 'Where a partition without a committed offset starts.' });

export const CreateConsumerRequest = z
  .object({
    name: ConsumerName,
    topics: z.array(TopicName).min(1).max(LIMITS.maxSubscribedTopics),
    target: ConsumerTarget,
    batch: BatchSettings.default({ maxRecords: P.maxRecords, maxBytes: P.maxBytes, maxWaitMs: P.maxWaitMs }),
    retry: RetrySettings.default({ maxAttempts: P.maxAttempts, bisectOnError: P.bisectOnError, maxRecordAgeMs: P.maxRecordAgeMs, minBackoffMs: P.minBackoffMs, maxBackoffMs: P.maxBackoffMs }),
    deadLetterTopic: TopicName.nullable().default(null),
    startAt: StartAt.default(P.startAt),
    maxConcurrency: z.number().int().min(1).max(LIMITS.maxConsumerConcurrency).default(P.maxConcurrency).meta({ description: 'Partitions delivered in parallel (one batch in flight per partition).' }),
  })
  .strict()
  .refine((c) => c.retry.minBackoffMs <= c.retry.maxBackoffMs, { message: 'retry.minBackoffMs must not exceed retry.maxBackoffMs', path: ['retry'] })
  .refine((c) => c.deadLetterTopic === null || !c.topics.includes(c.deadLetterTopic), { message: 'deadLetterTopic must not be one of the consumed topics', path: ['deadLetterTopic'] });

const ConsumerConfigBody = z.object({
  name: ConsumerName,
  topics: z.array(TopicName),
  target: ConsumerTarget,
  batch: BatchSettings,
  retry: RetrySettings,
  deadLetterTopic: TopicName.nullable(),
  startAt: StartAt,
  maxConcurrency: z.number().int(),
  createdAt: z.number().int(),
});

export const ConsumerState = z.enum(['running', 'paused', 'failing']);

export const CreateConsumerResponse = ConsumerConfigBody.extend({ secret: z.string().meta({ description: 'Signs every delivery (Sluice-Signature); shown here only.' }) });

export const ListConsumersResponse = z.object({ consumers: z.array(z.object({ name: ConsumerName, topics: z.array(TopicName), state: ConsumerState })) });

export const DescribeConsumerResponse = ConsumerConfigBody.extend({
  state: ConsumerState,
  partitions: z.array(TopicPartition.extend({ committedOffset: Offset.nullable(), endOffset: Offset, lag: Offset.nullable(), failing: z.boolean() })),
  delivered: z.number().int(),
  failed: z.number().int(),
  deadLettered: z.number().int(),
  lastError: z.object({ at: z.number().int(), message: z.string() }).nullable(),
});

export const ConsumerStateResponse = z.object({ name: ConsumerName, state: ConsumerState });
