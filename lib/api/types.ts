/**
 * The contract's bodies as TypeScript types, generated from lib/api/schemas.ts by
 * scripts/generate-api-types.ts (npm run generate:api). Do not edit: change the schemas and generate.
 * Zod-free, so the client's bundle and type declarations carry no zod.
 */
/* eslint-disable */

export type AddPartitionsRequest = {
  /** The partition count wanted: at least the current one (the same count changes nothing). */
  readonly count: number;
};

export type AlterTopicConfigRequest = {
  /** The settings to change; the others keep their values. */
  readonly config: {
    /** Records older than this may be deleted; -1 keeps them forever; null: the default. */
    readonly retentionMs?: number | null;
    /** Bytes kept per partition; -1 for no bound; null: the default. */
    readonly retentionBytes?: number | null;
    /** Codec of the batches the server encodes from JSON records from now on; null: the default. */
    readonly compression?: "zstd" | "gzip" | "none" | null;
    /** How batches appended from now on are stamped; null: the default. */
    readonly timestampType?: "CreateTime" | "LogAppendTime" | null;
  };
};

/** Header key → base64 value, null, or the array of its values when the key repeats. */
export type Base64Headers = { readonly [key: string]: string | null | readonly (string | null)[] };

export type CommitOffsetsRequest = {
  readonly memberId: string;
  readonly generation: number;
  readonly offsets: readonly {
    readonly topic: string;
    readonly partition: number;
    /** The next offset to consume (last processed + 1). */
    readonly offset: string | number;
  }[];
};

export type CommittedOffsetsResponse = {
  readonly offsets: readonly {
    readonly topic: string;
    readonly partition: number;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly committedOffset: string;
  }[];
};

/** A push consumer: 1-200 characters of [a-zA-Z0-9._-]. */
export type ConsumerName = string;

export type ConsumerState = "running" | "paused" | "failing";

export type ConsumerStateResponse = {
  /** A push consumer: 1-200 characters of [a-zA-Z0-9._-]. */
  readonly name: string;
  readonly state: "running" | "paused" | "failing";
};

/** A URL, or in AWS a Lambda function. */
export type ConsumerTarget = {
  /** https (in AWS: to a public address unless the deployment allows private ones). */
  readonly url: string;
  /**
   * A target that has not answered after this long has failed.
   * @default 30000
   */
  readonly timeoutMs: number;
} | {
  /** AWS only: a function invoked synchronously. */
  readonly functionArn: string;
  /**
   * A target that has not answered after this long has failed.
   * @default 30000
   */
  readonly timeoutMs: number;
};

export type CreateConsumerRequest = {
  /** A push consumer: 1-200 characters of [a-zA-Z0-9._-]. */
  readonly name: string;
  readonly topics: readonly string[];
  /** A URL, or in AWS a Lambda function. */
  readonly target: {
    /** https (in AWS: to a public address unless the deployment allows private ones). */
    readonly url: string;
    /**
     * A target that has not answered after this long has failed.
     * @default 30000
     */
    readonly timeoutMs?: number;
  } | {
    /** AWS only: a function invoked synchronously. */
    readonly functionArn: string;
    /**
     * A target that has not answered after this long has failed.
     * @default 30000
     */
    readonly timeoutMs?: number;
  };
  /** @default {"maxRecords":100,"maxBytes":1048576,"maxWaitMs":0} */
  readonly batch?: {
    /** @default 100 */
    readonly maxRecords?: number;
    /**
     * Bytes of the delivery body (JSON); a larger record still goes, alone.
     * @default 1048576
     */
    readonly maxBytes?: number;
    /**
     * Wait this long after the oldest undelivered record for the batch to fill.
     * @default 0
     */
    readonly maxWaitMs?: number;
  };
  /** @default {"maxAttempts":5,"bisectOnError":false,"maxRecordAgeMs":-1,"minBackoffMs":1000,"maxBackoffMs":60000} */
  readonly retry?: {
    /** @default 5 */
    readonly maxAttempts?: number;
    /**
     * Split a failing batch until the failing record is found.
     * @default false
     */
    readonly bisectOnError?: boolean;
    /**
     * Failing records older than this are dead-lettered at once; -1: no limit.
     * @default -1
     */
    readonly maxRecordAgeMs?: number;
    /** @default 1000 */
    readonly minBackoffMs?: number;
    /** @default 60000 */
    readonly maxBackoffMs?: number;
  };
  /** @default null */
  readonly deadLetterTopic?: string | null;
  /**
   * Where a partition without a committed offset starts.
   * @default "latest"
   */
  readonly startAt?: "earliest" | "latest" | {
    /** Milliseconds since the epoch. */
    readonly timestamp: number;
  };
  /**
   * Partitions delivered in parallel (one batch in flight per partition).
   * @default 4
   */
  readonly maxConcurrency?: number;
};

export type CreateConsumerResponse = {
  /** A push consumer: 1-200 characters of [a-zA-Z0-9._-]. */
  readonly name: string;
  readonly topics: readonly string[];
  /** A URL, or in AWS a Lambda function. */
  readonly target: {
    /** https (in AWS: to a public address unless the deployment allows private ones). */
    readonly url: string;
    /**
     * A target that has not answered after this long has failed.
     * @default 30000
     */
    readonly timeoutMs: number;
  } | {
    /** AWS only: a function invoked synchronously. */
    readonly functionArn: string;
    /**
     * A target that has not answered after this long has failed.
     * @default 30000
     */
    readonly timeoutMs: number;
  };
  readonly batch: {
    /** @default 100 */
    readonly maxRecords: number;
    /**
     * Bytes of the delivery body (JSON); a larger record still goes, alone.
     * @default 1048576
     */
    readonly maxBytes: number;
    /**
     * Wait this long after the oldest undelivered record for the batch to fill.
     * @default 0
     */
    readonly maxWaitMs: number;
  };
  readonly retry: {
    /** @default 5 */
    readonly maxAttempts: number;
    /**
     * Split a failing batch until the failing record is found.
     * @default false
     */
    readonly bisectOnError: boolean;
    /**
     * Failing records older than this are dead-lettered at once; -1: no limit.
     * @default -1
     */
    readonly maxRecordAgeMs: number;
    /** @default 1000 */
    readonly minBackoffMs: number;
    /** @default 60000 */
    readonly maxBackoffMs: number;
  };
  readonly deadLetterTopic: string | null;
  /** Where a partition without a committed offset starts. */
  readonly startAt: "earliest" | "latest" | {
    /** Milliseconds since the epoch. */
    readonly timestamp: number;
  };
  readonly maxConcurrency: number;
  readonly createdAt: number;
  /** Signs every delivery (Sluice-Signature); shown here only. */
  readonly secret: string;
};

export type CreateKeyRequest = {
  readonly name: string;
  readonly scopes: readonly {
    readonly action: "admin" | "produce" | "consume";
    /** @default ["*"] */
    readonly topics?: readonly string[];
    /** @default ["*"] */
    readonly groups?: readonly string[];
  }[];
};

export type CreateKeyResponse = {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly {
    readonly action: "admin" | "produce" | "consume";
    /** @default ["*"] */
    readonly topics: readonly string[];
    /** @default ["*"] */
    readonly groups: readonly string[];
  }[];
  readonly createdAt: number;
  /** The plain key, shown once: only its SHA-256 is stored. */
  readonly key: string;
};

export type CreateTopicRequest = {
  readonly name: string;
  readonly partitions: number;
  readonly config?: {
    /**
     * Records older than this may be deleted; -1 keeps them forever.
     * @default 604800000
     */
    readonly retentionMs?: number;
    /**
     * Bytes kept per partition; -1 for no bound.
     * @default -1
     */
    readonly retentionBytes?: number;
    /**
     * Codec of the batches the server encodes from JSON records.
     * @default "zstd"
     */
    readonly compression?: "zstd" | "gzip" | "none";
    /**
     * CreateTime: records keep the timestamps their producers gave. LogAppendTime: every batch is stamped with the server’s clock when it is appended (retention, searches by time and the throughput route then follow arrival).
     * @default "CreateTime"
     */
    readonly timestampType?: "CreateTime" | "LogAppendTime";
  };
};

export type CreateTopicResponse = {
  readonly name: string;
  readonly partitions: number;
  readonly config: {
    /**
     * Records older than this may be deleted; -1 keeps them forever.
     * @default 604800000
     */
    readonly retentionMs: number;
    /**
     * Bytes kept per partition; -1 for no bound.
     * @default -1
     */
    readonly retentionBytes: number;
    /**
     * Codec of the batches the server encodes from JSON records.
     * @default "zstd"
     */
    readonly compression: "zstd" | "gzip" | "none";
    /**
     * CreateTime: records keep the timestamps their producers gave. LogAppendTime: every batch is stamped with the server’s clock when it is appended (retention, searches by time and the throughput route then follow arrival).
     * @default "CreateTime"
     */
    readonly timestampType: "CreateTime" | "LogAppendTime";
  };
};

export type DeleteRecordsResponse = {
  readonly partition: number;
  /** The log start after the change: the lowest offset a read may ask for. */
  readonly startOffset: string;
  /** The high watermark. */
  readonly endOffset: string;
};

export type DescribeConsumerResponse = {
  /** A push consumer: 1-200 characters of [a-zA-Z0-9._-]. */
  readonly name: string;
  readonly topics: readonly string[];
  /** A URL, or in AWS a Lambda function. */
  readonly target: {
    /** https (in AWS: to a public address unless the deployment allows private ones). */
    readonly url: string;
    /**
     * A target that has not answered after this long has failed.
     * @default 30000
     */
    readonly timeoutMs: number;
  } | {
    /** AWS only: a function invoked synchronously. */
    readonly functionArn: string;
    /**
     * A target that has not answered after this long has failed.
     * @default 30000
     */
    readonly timeoutMs: number;
  };
  readonly batch: {
    /** @default 100 */
    readonly maxRecords: number;
    /**
     * Bytes of the delivery body (JSON); a larger record still goes, alone.
     * @default 1048576
     */
    readonly maxBytes: number;
    /**
     * Wait this long after the oldest undelivered record for the batch to fill.
     * @default 0
     */
    readonly maxWaitMs: number;
  };
  readonly retry: {
    /** @default 5 */
    readonly maxAttempts: number;
    /**
     * Split a failing batch until the failing record is found.
     * @default false
     */
    readonly bisectOnError: boolean;
    /**
     * Failing records older than this are dead-lettered at once; -1: no limit.
     * @default -1
     */
    readonly maxRecordAgeMs: number;
    /** @default 1000 */
    readonly minBackoffMs: number;
    /** @default 60000 */
    readonly maxBackoffMs: number;
  };
  readonly deadLetterTopic: string | null;
  /** Where a partition without a committed offset starts. */
  readonly startAt: "earliest" | "latest" | {
    /** Milliseconds since the epoch. */
    readonly timestamp: number;
  };
  readonly maxConcurrency: number;
  readonly createdAt: number;
  readonly state: "running" | "paused" | "failing";
  readonly partitions: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly committedOffset: string | null;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly endOffset: string;
    readonly lag: string | null;
    readonly failing: boolean;
  }[];
  readonly delivered: number;
  readonly failed: number;
  readonly deadLettered: number;
  readonly lastError: {
    readonly at: number;
    readonly message: string;
  } | null;
};

export type DescribeGroupResponse = {
  readonly group: string;
  readonly generation: number;
  readonly strategy: "cooperative-sticky" | "range" | "roundrobin";
  readonly members: readonly {
    readonly memberId: string;
    readonly instanceId?: string;
    readonly topics: readonly string[];
    readonly assignments: readonly {
      readonly topic: string;
      readonly partition: number;
    }[];
    readonly revoking: readonly {
      readonly topic: string;
      readonly partition: number;
    }[];
  }[];
  readonly offsets: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly committedOffset: string | null;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly endOffset: string;
    /** endOffset - committedOffset (0 when the commit is ahead), null when nothing is committed. */
    readonly lag: string | null;
  }[];
};

export type DescribeTopicResponse = {
  readonly name: string;
  readonly config: {
    /**
     * Records older than this may be deleted; -1 keeps them forever.
     * @default 604800000
     */
    readonly retentionMs: number;
    /**
     * Bytes kept per partition; -1 for no bound.
     * @default -1
     */
    readonly retentionBytes: number;
    /**
     * Codec of the batches the server encodes from JSON records.
     * @default "zstd"
     */
    readonly compression: "zstd" | "gzip" | "none";
    /**
     * CreateTime: records keep the timestamps their producers gave. LogAppendTime: every batch is stamped with the server’s clock when it is appended (retention, searches by time and the throughput route then follow arrival).
     * @default "CreateTime"
     */
    readonly timestampType: "CreateTime" | "LogAppendTime";
  };
  readonly partitions: readonly {
    readonly partition: number;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly startOffset: string;
    /** The high watermark: the next offset a consumer at the tail reads. */
    readonly endOffset: string;
  }[];
};

export type FetchResponse = {
  readonly records: readonly {
    /** A decimal offset (offsets can exceed 2^53). */
    readonly offset: string;
    readonly timestamp: number;
    readonly key?: string | null;
    readonly keyBase64?: string;
    readonly value?: string | null;
    readonly valueBase64?: string;
    /** Header key → UTF-8 value, null, or the array of its values when the key repeats. */
    readonly headers: { readonly [key: string]: string | null | readonly (string | null)[] };
    /** Header key → base64 value, null, or the array of its values when the key repeats. */
    readonly headersBase64?: { readonly [key: string]: string | null | readonly (string | null)[] };
  }[];
  /** A decimal offset (offsets can exceed 2^53). */
  readonly nextOffset: string;
  /** A decimal offset (offsets can exceed 2^53). */
  readonly highWatermark: string;
};

export type FetchedRecord = {
  /** A decimal offset (offsets can exceed 2^53). */
  readonly offset: string;
  readonly timestamp: number;
  readonly key?: string | null;
  readonly keyBase64?: string;
  readonly value?: string | null;
  readonly valueBase64?: string;
  /** Header key → UTF-8 value, null, or the array of its values when the key repeats. */
  readonly headers: { readonly [key: string]: string | null | readonly (string | null)[] };
  /** Header key → base64 value, null, or the array of its values when the key repeats. */
  readonly headersBase64?: { readonly [key: string]: string | null | readonly (string | null)[] };
};

export type GroupName = string;

export type HealthResponse = {
  readonly status: "ok";
  readonly version: string;
  /** The notification channel (a ws or wss URL), where the deployment offers one. */
  readonly notifications?: string;
};

export type HeartbeatRequest = {
  readonly generation: number;
};

export type HeartbeatResponse = {
  readonly generation: number;
  readonly rebalance: boolean;
};

export type InlineLocation = {
  /** The stored batches, base64: exactly the bytes a ranged GET of an ingest range returns (base offsets 0). */
  readonly batchesBase64: string;
  /** Offset of the first batch (stored batches carry base offset 0). */
  readonly baseOffset: string;
  /** A decimal offset (offsets can exceed 2^53). */
  readonly lastOffset: string;
};

export type JoinGroupRequest = {
  readonly topics: readonly string[];
  /** @default 45000 */
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly memberId?: string;
  readonly joinId?: string;
  readonly instanceId?: string;
  /** @default "cooperative-sticky" */
  readonly strategy?: "cooperative-sticky" | "range" | "roundrobin";
};

export type JoinGroupResponse = {
  readonly memberId: string;
  readonly generation: number;
  /** Consume these, from committedOffset (null: nothing committed). */
  readonly assignments: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly committedOffset: string | null;
  }[];
  /** Still this member’s in this generation, moving away: commit, stop, rejoin. */
  readonly revoking: readonly {
    readonly topic: string;
    readonly partition: number;
  }[];
  /** Moving to this member once their current owners release them (absent from older servers). */
  readonly pending?: readonly {
    readonly topic: string;
    readonly partition: number;
  }[];
};

export type KeyScope = {
  readonly action: "admin" | "produce" | "consume";
  /** @default ["*"] */
  readonly topics: readonly string[];
  /** @default ["*"] */
  readonly groups: readonly string[];
};

export type KeyScopeInput = {
  readonly action: "admin" | "produce" | "consume";
  /** @default ["*"] */
  readonly topics?: readonly string[];
  /** @default ["*"] */
  readonly groups?: readonly string[];
};

export type ListConsumersResponse = {
  readonly consumers: readonly {
    /** A push consumer: 1-200 characters of [a-zA-Z0-9._-]. */
    readonly name: string;
    readonly topics: readonly string[];
    readonly state: "running" | "paused" | "failing";
  }[];
};

export type ListGroupsResponse = {
  readonly groups: readonly {
    readonly group: string;
  }[];
};

export type ListKeysResponse = {
  readonly keys: readonly {
    readonly id: string;
    readonly name: string;
    readonly scopes: readonly {
      readonly action: "admin" | "produce" | "consume";
      /** @default ["*"] */
      readonly topics: readonly string[];
      /** @default ["*"] */
      readonly groups: readonly string[];
    }[];
    readonly createdAt: number;
  }[];
};

export type ListTopicsResponse = {
  readonly topics: readonly {
    readonly name: string;
    readonly partitions: number;
  }[];
};

/** Either a presigned ranged GET (url, range) or, for small batches stored inline in the log, the batches themselves (batchesBase64). */
export type Location = {
  readonly url: string;
  /** Inclusive: send exactly Range: bytes=start-end. */
  readonly range: {
    readonly start: number;
    readonly end: number;
  };
  /** Offset of the first batch in the range (stored batches carry base offset 0). */
  readonly baseOffset: string;
  /** A decimal offset (offsets can exceed 2^53). */
  readonly lastOffset: string;
} | {
  /** The stored batches, base64: exactly the bytes a ranged GET of an ingest range returns (base offsets 0). */
  readonly batchesBase64: string;
  /** Offset of the first batch (stored batches carry base offset 0). */
  readonly baseOffset: string;
  /** A decimal offset (offsets can exceed 2^53). */
  readonly lastOffset: string;
};

export type LocationsResponse = {
  readonly locations: readonly ({
    readonly url: string;
    /** Inclusive: send exactly Range: bytes=start-end. */
    readonly range: {
      readonly start: number;
      readonly end: number;
    };
    /** Offset of the first batch in the range (stored batches carry base offset 0). */
    readonly baseOffset: string;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly lastOffset: string;
  } | {
    /** The stored batches, base64: exactly the bytes a ranged GET of an ingest range returns (base offsets 0). */
    readonly batchesBase64: string;
    /** Offset of the first batch (stored batches carry base offset 0). */
    readonly baseOffset: string;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly lastOffset: string;
  })[];
  /** A decimal offset (offsets can exceed 2^53). */
  readonly nextOffset: string;
  /** A decimal offset (offsets can exceed 2^53). */
  readonly highWatermark: string;
};

export type MaintenanceResponse = {
  readonly topics: number;
  readonly partitions: number;
  readonly gapsClosed: number;
  readonly segmentsWritten: number;
  readonly segmentBytes: number;
  readonly entriesCompacted: number;
  readonly leftoversDeleted: number;
  /** A decimal offset (offsets can exceed 2^53). */
  readonly offsetsTrimmed: string;
  readonly entriesExpired: number;
  readonly timeIndexPointsWritten: number;
  readonly objectsDeleted: number;
  readonly deletedTopicsPurged: number;
  readonly expiredItemsDeleted: number;
  readonly partitionsSkipped: number;
  readonly collectionsSkipped: number;
  readonly errors: number;
  readonly firstError?: string;
};

export type ObjectLocation = {
  readonly url: string;
  /** Inclusive: send exactly Range: bytes=start-end. */
  readonly range: {
    readonly start: number;
    readonly end: number;
  };
  /** Offset of the first batch in the range (stored batches carry base offset 0). */
  readonly baseOffset: string;
  /** A decimal offset (offsets can exceed 2^53). */
  readonly lastOffset: string;
};

/** A decimal offset (offsets can exceed 2^53). */
export type Offset = string;

export type OffsetsResponse = {
  /** The first offset with timestamp ≥ the given time, or the high watermark. */
  readonly offset: string;
};

export type ProduceAnswer = {
  /** One entry per input record, in order. */
  readonly records: readonly {
    readonly partition: number;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly offset: string;
  }[];
} | {
  readonly partitions: readonly {
    readonly partition: number;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly baseOffset: string;
    readonly recordCount: number;
  }[];
};

export type ProduceBatchesResponse = {
  readonly partitions: readonly {
    readonly partition: number;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly baseOffset: string;
    readonly recordCount: number;
  }[];
};

export type ProduceRecord = {
  /** Stored as its UTF-8 bytes; keyed records go to murmur2(key) % partitions. */
  readonly key?: string | null;
  readonly keyBase64?: string;
  /** A string is stored as its UTF-8 bytes, any other JSON value as its JSON text. */
  readonly value?: unknown;
  readonly valueBase64?: string;
  /** Header key → UTF-8 value, null, or the array of its values when the key repeats. */
  readonly headers?: { readonly [key: string]: string | null | readonly (string | null)[] };
  /** Header key → base64 value, null, or the array of its values when the key repeats. */
  readonly headersBase64?: { readonly [key: string]: string | null | readonly (string | null)[] };
  readonly partition?: number;
  /** Milliseconds since the epoch. */
  readonly timestamp?: number;
};

export type ProduceRequest = {
  readonly records: readonly {
    /** Stored as its UTF-8 bytes; keyed records go to murmur2(key) % partitions. */
    readonly key?: string | null;
    readonly keyBase64?: string;
    /** A string is stored as its UTF-8 bytes, any other JSON value as its JSON text. */
    readonly value?: unknown;
    readonly valueBase64?: string;
    /** Header key → UTF-8 value, null, or the array of its values when the key repeats. */
    readonly headers?: { readonly [key: string]: string | null | readonly (string | null)[] };
    /** Header key → base64 value, null, or the array of its values when the key repeats. */
    readonly headersBase64?: { readonly [key: string]: string | null | readonly (string | null)[] };
    readonly partition?: number;
    /** Milliseconds since the epoch. */
    readonly timestamp?: number;
  }[];
};

export type ProduceResponse = {
  /** One entry per input record, in order. */
  readonly records: readonly {
    readonly partition: number;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly offset: string;
  }[];
};

export type ResetOffsetsRequest = {
  readonly topic: string;
  readonly partitions?: readonly number[];
  readonly to: "earliest" | "latest" | "timestamp" | "offset";
  /** Milliseconds since the epoch. */
  readonly timestamp?: number;
  readonly offset?: string | number;
};

/** Where a partition without a committed offset starts. */
export type StartAt = "earliest" | "latest" | {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
};

/** Header key → UTF-8 value, null, or the array of its values when the key repeats. */
export type TextHeaders = { readonly [key: string]: string | null | readonly (string | null)[] };

export type ThroughputResponse = {
  readonly topic: string;
  /** Absent when the buckets sum every partition. */
  readonly partition?: number;
  readonly bucketMs: number;
  readonly buckets: readonly {
    /** The bucket’s start, ms since the epoch. */
    readonly startMs: number;
    /** Records whose log entry’s newest timestamp falls in the bucket. */
    readonly records: number;
    /** Stored bytes of those entries. */
    readonly bytes: number;
  }[];
  /** True when the walk stopped at its bound (maxThroughputEntries) before the end of the log. */
  readonly truncated: boolean;
};

export type TopicChangedResponse = {
  readonly name: string;
  readonly partitions: number;
  /** Every setting after the change. */
  readonly config: {
    /**
     * Records older than this may be deleted; -1 keeps them forever.
     * @default 604800000
     */
    readonly retentionMs: number;
    /**
     * Bytes kept per partition; -1 for no bound.
     * @default -1
     */
    readonly retentionBytes: number;
    /**
     * Codec of the batches the server encodes from JSON records.
     * @default "zstd"
     */
    readonly compression: "zstd" | "gzip" | "none";
    /**
     * CreateTime: records keep the timestamps their producers gave. LogAppendTime: every batch is stamped with the server’s clock when it is appended (retention, searches by time and the throughput route then follow arrival).
     * @default "CreateTime"
     */
    readonly timestampType: "CreateTime" | "LogAppendTime";
  };
};

export type TopicConfig = {
  /**
   * Records older than this may be deleted; -1 keeps them forever.
   * @default 604800000
   */
  readonly retentionMs: number;
  /**
   * Bytes kept per partition; -1 for no bound.
   * @default -1
   */
  readonly retentionBytes: number;
  /**
   * Codec of the batches the server encodes from JSON records.
   * @default "zstd"
   */
  readonly compression: "zstd" | "gzip" | "none";
  /**
   * CreateTime: records keep the timestamps their producers gave. LogAppendTime: every batch is stamped with the server’s clock when it is appended (retention, searches by time and the throughput route then follow arrival).
   * @default "CreateTime"
   */
  readonly timestampType: "CreateTime" | "LogAppendTime";
};

export type TopicConfigInput = {
  /**
   * Records older than this may be deleted; -1 keeps them forever.
   * @default 604800000
   */
  readonly retentionMs?: number;
  /**
   * Bytes kept per partition; -1 for no bound.
   * @default -1
   */
  readonly retentionBytes?: number;
  /**
   * Codec of the batches the server encodes from JSON records.
   * @default "zstd"
   */
  readonly compression?: "zstd" | "gzip" | "none";
  /**
   * CreateTime: records keep the timestamps their producers gave. LogAppendTime: every batch is stamped with the server’s clock when it is appended (retention, searches by time and the throughput route then follow arrival).
   * @default "CreateTime"
   */
  readonly timestampType?: "CreateTime" | "LogAppendTime";
};

export type TopicConfigChange = {
  /** Records older than this may be deleted; -1 keeps them forever; null: the default. */
  readonly retentionMs?: number | null;
  /** Bytes kept per partition; -1 for no bound; null: the default. */
  readonly retentionBytes?: number | null;
  /** Codec of the batches the server encodes from JSON records from now on; null: the default. */
  readonly compression?: "zstd" | "gzip" | "none" | null;
  /** How batches appended from now on are stamped; null: the default. */
  readonly timestampType?: "CreateTime" | "LogAppendTime" | null;
};

export type TopicName = string;

export type TopicPartition = {
  readonly topic: string;
  readonly partition: number;
};

export type WaitResponse = {
  /** The partitions where a fetch at the given offset answers without waiting (records there, or the offset is out of range); empty at the deadline. */
  readonly partitions: readonly {
    readonly partition: number;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly highWatermark: string;
    /** A decimal offset (offsets can exceed 2^53). */
    readonly logStartOffset: string;
  }[];
};
