/**
 * Every default and limit in one place. Limits are enforced before any expensive work (parsing,
 * compression, writes). Sizes are bytes, durations milliseconds.
 */
export const LIMITS = {
  /** Request body. Lambda's synchronous payload limit is 6 MB; JSON and base64 need headroom. */
  maxRequestBytes: 5 * 1024 * 1024,
  maxRecordsPerRequest: 10_000,
  /** Key + value + headers of one record (Kafka's default max.message.bytes is ~1 MiB). */
  maxRecordBytes: 1024 * 1024,
  /**
   * What the batches of one binary produce request may inflate to, in all, and so what any stored
   * batch inflates to at most. Every decompression stops past it: ingest validation, JSON fetch,
   * offsets by time, the client's decoders. Twice the largest request the client sends (4.5 MiB of
   * records) plus record framing.
   */
  maxDecompressedBytes: 8 * 1024 * 1024,
  /** Latest record timestamp accepted (ms since the epoch; the largest ECMAScript date). */
  maxTimestampMs: 8.64e15,
  maxPartitions: 10_000,
  /** Throughput route: buckets per answer, and log entries walked per call (the walk's bound). */
  maxThroughputBuckets: 1_000,
  maxThroughputEntries: 20_000,
  maxTopicNameLength: 249,
  /** Largest fetch response; keeps a base64-encoded Lambda response under 6 MB. */
  maxFetchBytes: 4 * 1024 * 1024,
  /** Longest long poll; a fetch asking for more is refused (400), not capped. */
  maxWaitMs: 20_000,
  /** Partitions one multi-partition wait may name: its query string stays under proxies' URL limits (~8 KB). */
  maxWaitPartitions: 256,
  /**
   * Nesting of objects and arrays in a JSON body (a produce's record value is 3 levels down). Deeper
   * bodies are refused before they are parsed, so nothing recurses on them.
   */
  maxJsonDepth: 64,
  maxIdempotencyKeyLength: 256,
  maxHeadersPerRecord: 64,
  /** Consumer groups: members of one group, topics of one subscription, offsets of one commit. */
  maxGroupMembers: 1000,
  maxSubscribedTopics: 100,
  maxCommitOffsets: 10_000,
  /**
   * Largest inline batches an engine may be configured for (EngineOptions.inlineMaxBytes). A log entry
   * item is its ~300 bytes of attributes plus the batches, far below DynamoDB's 400 KB item limit; past
   * a few KB inlining only costs more (see DEFAULTS.inlineMaxBytes).
   */
  maxInlineBytes: 64 * 1024,
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 30 * 60 * 1000,
  /** A generation's state item (roster + assignment); DynamoDB items are at most 400 KB. */
  maxGroupStateBytes: 380 * 1024,
  /** Push consumers: names (their group is `sluice.push.<name>`, within the 249 of a group name). */
  maxConsumerNameLength: 200,
  maxConsumers: 1000,
  /** Records of one delivery. */
  maxDeliveryRecords: 10_000,
  /**
   * Bytes of one delivery body (JSON). A synchronous Lambda invocation takes at most 6 MB (6,291,456
   * bytes) of payload; the envelope leaves room for nothing else, so one delivery stays below it.
   */
  maxDeliveryBytes: 6 * 1024 * 1024 - 1024,
  maxDeliveryAttempts: 1000,
  maxDeliveryWaitMs: 300_000,
  maxDeliveryTimeoutMs: 900_000,
  maxConsumerConcurrency: 100,
} as const;

export const DEFAULTS = {
  fetchMaxBytes: 1024 * 1024,
  fetchMaxWaitMs: 0,
  /** zstd where the runtime has it (Node ≥ 22.15), else gzip. */
  compression: 'zstd',
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  /** Records keep their producers' timestamps (LogAppendTime: the server's clock at append). */
  timestampType: 'CreateTime',
  /**
   * A writer must write its log entry within this time of reserving its offsets, or it gives the
   * reservation up and reserves again. Bounds how long a dead writer can hold back readers.
   */
  reservationTimeoutMs: 20_000,
  /**
   * A reserved range with no entry this long after its reservation is closed as aborted. Longer than
   * reservationTimeoutMs plus the longest metadata write (SDK retries included) plus clock skew, so a
   * writer that is still alive can never write into a closed range.
   */
  abortReservationAfterMs: 60_000,
  /**
   * Producers do not store the high watermark on every append (readers move it over the entries
   * written after it, PartitionLog.readableHead): every this many reservations of a partition, the
   * producer holding that reservation advances the stored watermark (an item beside the head) with one
   * conditional write, so a partition's head takes 1 write per append, its watermark item 1/64, and a
   * reader walks at most about this many
   * entries (plus those in flight) past the stored watermark: one Query page (100 entries).
   */
  watermarkAdvanceEveryReservations: 64,
  /**
   * A long-polling fetch re-reads the partition head after this long when no append in its own process
   * wakes it, then backs off: each interval doubles up to longPollMaxIntervalMs. A 20 s wait reads the
   * head 10 times (250, 500, 1000, 2000, then every 4000 ms) instead of 81.
   */
  longPollIntervalMs: 250,
  longPollMaxIntervalMs: 4_000,
  /** Live tail (SSE): a comment line at least this often on a quiet stream (the contract: at least every 15 s). */
  streamHeartbeatMs: 15_000,
  /** Presigned read URLs. Short-lived: a URL is a bearer credential for its range. */
  presignExpiresSeconds: 300,
  /**
   * A partition's batches in one produce request of at most this many bytes are stored in the log
   * entry item itself (a binary attribute) instead of an S3 ingest object: no PUT when produced, no GET
   * when read. The price arithmetic (us-east-1, on-demand, request charges only):
   *   S3: PUT $5.00 per million; GET $0.40 per million.
   *   DynamoDB: a write costs 1 unit per started KB of the item, a strongly consistent read 1 unit per
   *   started 4 KB (a query adds up the items it reads). $1.25 per million writes and $0.25 per million
   *   reads at the prices before November 2024; $0.625 and $0.125 now (bench/pricing.ts).
   *   Writing: 4 KB inline add 4 write units to the entry's PUT: 4 × $1.25 = $5.00 per million, one
   *   S3 PUT. At today's $0.625 the same holds over the entry's life: DynamoDB bills the delete (or the
   *   replacing PUT) by the item's size too, and compaction or retention does exactly one of those:
   *   2 × 4 × $0.625 = $5.00 per million.
   *   Reading: a consumer's query and compaction's read each pay ≤ 1 more read unit per 4 KB ($0.25 or
   *   $0.125 per million) instead of a GET ($0.40 per million).
   * So the crossover is near 4 KB written, and reads favour inlining a little further. Larger batches
   * go to S3 (ingest objects, then segments); LIMITS.maxInlineBytes caps the setting, far below
   * DynamoDB's 400 KB item limit. 0 turns inlining off.
   */
  inlineMaxBytes: 4096,
  /**
   * The same setting for the local server (SQLite + the file system), where no request is billed and
   * what counts is the disk's latency. An ingest object costs a temp file, its fsync, a rename and a
   * directory fsync before the entry's SQLite commit can even start (two more waits for the disk on
   * the path to the acknowledgement, measured ~1 ms each here at one request in flight); batches
   * inline cost only their bytes in the WAL, whose fsync the entry waits for anyway (and once more
   * when a checkpoint copies them into the database). SQLite's own measurements ("Internal versus
   * external BLOBs", sqlite.org/intern-v-extern-blob.html) put the crossover for reads at the default
   * 4 KiB page between 50 KB (1.17x faster inline) and 100 KB (0.89x);
   * bench:local-produce at 16 KiB requests (5.4 KiB stored): 0.45x -> 0.64-0.77x the durable file
   * baseline. So locally every batch up to LIMITS.maxInlineBytes goes inline; larger ones (where the
   * bytes, not the fsyncs, dominate) to files.
   */
  localInlineMaxBytes: LIMITS.maxInlineBytes,
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlMs: 24 * 60 * 60 * 1000,
  /** Warm-memory cache of immutable object ranges. */
  objectCacheBytes: 64 * 1024 * 1024,
  /** Authenticated keys are re-checked against the store after this long (revocation delay). */
  apiKeyCacheMs: 10_000,
  localPort: 8787,
  /** Compaction target; segments of at least half this are sealed and never rewritten. */
  segmentBytes: 8 * 1024 * 1024,
  /** One sparse index entry per this many segment bytes (at batch starts). */
  indexIntervalBytes: 64 * 1024,
  /** A partition's tail smaller than a segment is compacted once quiet this long… */
  compactionTailQuietMs: 5 * 60 * 1000,
  /** …or once it holds this many entries. */
  compactionMaxTailEntries: 64,
  /**
   * An ingest object may only be referenced by a new log entry this soon after it was written, so
   * garbage collection can tell an orphan from an object whose produce is still committing.
   */
  objectCommitWindowMs: 5 * 60 * 1000,
  /** Objects younger than this are never garbage-collected (longer than the commit window). */
  gcMinObjectAgeMs: 15 * 60 * 1000,
  /** An object unreferenced for this long is deleted (longer than presigned URLs live). */
  gcGraceMs: 10 * 60 * 1000,
  /**
   * A partition that nothing has changed since a pass left it with nothing to do is skipped by
   * scheduled passes (only its head is read), but walked again at least this often: the safety net
   * for orphans that leave the head as it was (lib/log/maintenance.ts). Twelve 5-minute passes.
   */
  maintenanceFullPassIntervalMs: 60 * 60 * 1000,
  /** How often the local server runs a maintenance pass. */
  maintenanceIntervalMs: 60 * 1000,
  /** On SIGINT/SIGTERM the local server lets running requests finish this long (long polls end at once). */
  shutdownGraceMs: 10_000,
  /**
   * A member that sends no heartbeat for this long is expired; heartbeat every third of it. Kafka's
   * default since 3.0 (KIP-735): an idle member's heartbeats are most of what it costs in AWS
   * (every 15 s ≈ $0.35 a month; every 10 s ≈ $0.52), and a dead member is found within 45 s.
   */
  groupSessionTimeoutMs: 45_000,
  groupStrategy: 'cooperative-sticky',
  /**
   * How often a group looks again at its topics when its membership does not change (Kafka's
   * metadata.max.age.ms): a heartbeat this long after the last look rebalances, which takes in
   * partitions added since and follows a topic deleted or created again. One rebalance read (about
   * 5 read units) and one head write per group per interval.
   */
  groupTopicCheckMs: 5 * 60 * 1000,
  /** Push consumers (lib/push): what a create request leaves out. */
  push: {
    maxRecords: 100,
    maxBytes: 1024 * 1024,
    maxWaitMs: 0,
    maxAttempts: 5,
    bisectOnError: false,
    /** -1: records are retried whatever their age, until maxAttempts. */
    maxRecordAgeMs: -1,
    /** Backoff before retry n (n ≥ 1): a random time in [½, 1] × min(maxBackoffMs, minBackoffMs × 2^(n-1)). */
    minBackoffMs: 1000,
    maxBackoffMs: 60_000,
    /** A URL target (or a Lambda target) that has not answered after this long has failed. */
    timeoutMs: 30_000,
    /** Partitions of one consumer delivered in parallel (one batch in flight per partition). */
    maxConcurrency: 4,
    startAt: 'latest',
  },
  /**
   * The dispatcher's membership in a push consumer's group. Renewed while it works; when it sits idle
   * the lease lapses, and the next delivery joins again (nothing runs, and nothing is paid, while idle).
   */
  dispatcherSessionTimeoutMs: 60_000,
} as const;

/**
 * Deployment defaults of the CDK construct (lib/cdk/sluice-streams.ts), as plain numbers so that this
 * module stays free of CDK types. Memory in MB, durations in seconds unless named otherwise.
 */
export const DEPLOYMENT = {
  /** Produce and fetch move bytes and compress JSON batches; 1,024 MB gives ~0.6 vCPU and enough network. */
  produceMemoryMb: 1024,
  fetchMemoryMb: 1024,
  /** Topics, keys and groups are small metadata calls. */
  adminMemoryMb: 256,
  /** Compaction reads and rewrites segments. */
  maintenanceMemoryMb: 1024,
  /**
   * API functions stop before API Gateway's 30 s integration timeout, leave room for the longest long
   * poll (LIMITS.maxWaitMs) plus a read, and stay far below DEFAULTS.abortReservationAfterMs, so a
   * produce that is still running can never find its reservation closed.
   */
  apiTimeoutSeconds: 28,
  /**
   * The live tail's function (SSE through a Function URL with response streaming) holds a connection
   * for its whole life and mostly waits: little memory. A stream ends 30 s before the function's
   * timeout (Lambda's longest, 15 minutes) and the client resumes with Last-Event-ID.
   */
  tailMemoryMb: 256,
  tailTimeoutSeconds: 900,
  tailMaxStreamMs: 870_000,
  maintenanceTimeoutSeconds: 300,
  maintenanceIntervalMinutes: 5,
  logRetentionDays: 30,
  /** Per-route API Gateway throttle: a runaway client cannot run up the S3 and DynamoDB bill. */
  throttleRateLimit: 1000,
  throttleBurstLimit: 2000,
  /** p99 latency alarms (requests that asked to long-poll are not counted in latency). */
  produceLatencyP99AlarmMs: 1000,
  fetchLatencyP99AlarmMs: 1000,
  /** 5xx answers in one 5-minute period that raise the error alarm. */
  serverErrorsAlarmThreshold: 5,
  metricsNamespace: 'Sluice',
  /** The push dispatcher: long enough for deliveries to slow targets; it stops taking new batches before the end. */
  dispatcherMemoryMb: 512,
  dispatcherTimeoutSeconds: 300,
  /** The stream handler only fans out (one async invocation of the dispatcher per batch of stream records). */
  streamHandlerMemoryMb: 256,
  streamHandlerTimeoutSeconds: 30,
  /** The notification channel's routes: a key check and a few item writes. */
  notificationsMemoryMb: 256,
  notificationsTimeoutSeconds: 10,
  /** Stream records gathered before the handler runs (DynamoDB Streams' batching window). */
  streamBatchSize: 100,
  /** A push consumer's lag alarm: records behind the end of its topics, for 15 minutes. */
  consumerLagAlarmRecords: 10_000,
} as const;
