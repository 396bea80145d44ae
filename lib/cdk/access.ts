/**
 * What each function may do, and to which keys: the single source of the IAM policies the construct
 * writes (sluice-streams.ts) and of the test that runs every route against recording stores and
 * checks that each function uses nothing beyond its grant (test/cdk).
 *
 * Object keys and metadata partition keys are the ones in lib/log/layout.ts:
 *   t/<topicId>/ingest/<id>       ingest objects, written by produce
 *   p#<topicId>#<partition>       partition heads and log entries
 *   idem#<topicId>#<hash>         idempotent-produce intents (TTL attribute expiresAt)
 *   t/<topicId>/segments/...      compacted segments and their indexes, written by maintenance
 *   gc#<topicId>                  objects seen unreferenced (maintenance's garbage collection)
 *   topics, deleted-topics        topics and tombstones
 *   apikeys, apikey#<sha256>      API keys, hashed
 *   g#<group>, go#<group>#..., groups   consumer groups: heads, states, members, offsets (lib/groups/layout.ts)
 *   ws#<connectionId>, wst#<topicId>     the notification channel's connections and subscriptions (lib/notifications/connections.ts)
 *
 * The grants below are written against keys, whichever bucket holds them. With ingest objects in an
 * S3 Express One Zone directory bucket (`ingestObjects: { storage: 'express' }`), placeObjectAccess
 * decides what each function gets on each bucket: directory buckets authorize per bucket and session
 * (s3express:CreateSession, ReadOnly or ReadWrite), not per key or action.
 */

/** DynamoDB and S3 actions, named as IAM names them. */
export type MetadataAction = 'dynamodb:GetItem' | 'dynamodb:Query' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:DeleteItem';
export type ObjectAction = 's3:GetObject' | 's3:PutObject' | 's3:DeleteObject';

export interface ObjectGrant {
  readonly actions: readonly ObjectAction[];
  readonly keys: readonly string[];
}

export interface FunctionAccess {
  /** Reads on any item. */
  readonly metadataReads: readonly MetadataAction[];
  /** Writes, only on items whose partition key matches one of `writableKeys` (dynamodb:LeadingKeys). */
  readonly metadataWrites: readonly MetadataAction[];
  /** Partition-key patterns for writes (IAM StringLike: `*` matches anything); `*` alone means any item. */
  readonly writableKeys: readonly string[];
  /** Object actions, each on the key patterns (relative to the bucket) it is allowed on. */
  readonly objectGrants: readonly ObjectGrant[];
  /** Key prefixes the function may list (IAM s3:prefix patterns); none: no ListBucket. */
  readonly listPrefixes: readonly string[];
  /**
   * Posts to the notification channel's connections: execute-api:ManageConnections on the channel
   * stage's `POST /@connections/*` only (not GET, which reads a connection's details, nor DELETE, which
   * closes it). @default false
   */
  readonly postsToConnections?: boolean;
}

/** The IAM action of PostToConnection (on the stage's POST @connections resources only). */
export const POST_TO_CONNECTION_ACTION = 'execute-api:ManageConnections';

/** Object keys of every topic (ingest objects now, segments later). */
export const TOPIC_OBJECTS = 't/*';
/** Ingest objects only: what a produce writes. */
export const INGEST_OBJECTS = 't/*/ingest/*';

export const ACCESS = {
  /**
   * Appends. Reads topics, keys, heads, entries and intents, and a topic's channel subscribers (the
   * Query of wst#<topicId> that its reads of log entries already need: no grant of its own); writes
   * only partition heads, log entries and intents; PUTs only ingest objects; posts append hints to
   * the channel's connections (lib/lambda/append-hints.ts). No delete of any kind: an orphaned object
   * (a produce that lost an idempotency race) is swept by maintenance, and a connection that is gone
   * is deleted by the notifier.
   */
  produce: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
    writableKeys: ['p#*', 'idem#*'],
    objectGrants: [{ actions: ['s3:PutObject'], keys: [INGEST_OBJECTS] }],
    listPrefixes: [],
    postsToConnections: true,
  },
  /** Reads only, on both stores (PartitionLog.readableHead moves the watermark in memory, never in the table). */
  fetch: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: [],
    writableKeys: [],
    // Also what presigned URLs are signed with: a URL can read no more than this function could.
    objectGrants: [{ actions: ['s3:GetObject'], keys: [TOPIC_OBJECTS] }],
    listPrefixes: [],
  },
  /** The live tail (Server-Sent Events): reads records like the fetch function, nothing else. */
  tail: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: [],
    writableKeys: [],
    objectGrants: [{ actions: ['s3:GetObject'], keys: [TOPIC_OBJECTS] }],
    listPrefixes: [],
  },
  /**
   * Topics, API keys and consumer groups (lib/groups/layout.ts: g#*, go#*, groups). It deletes topic,
   * key, member and whole group items, so its writes are not limited by key; heartbeats, commits and claims are
   * conditional updates. It reads records only to reset a group's offsets to a timestamp (as the fetch
   * function does for offsets by time), and never writes or deletes objects (a deleted topic's data is
   * collected by maintenance).
   */
  admin: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    writableKeys: ['*'],
    objectGrants: [{ actions: ['s3:GetObject'], keys: [TOPIC_OBJECTS] }],
    listPrefixes: [],
  },
  /**
   * Compaction, retention and garbage collection: the only function that deletes objects. It writes
   * partition items, garbage-collection marks and tombstones, never topics or keys.
   */
  maintenance: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    writableKeys: ['p#*', 'gc#*', 'deleted-topics'],
    objectGrants: [{ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], keys: [TOPIC_OBJECTS] }],
    listPrefixes: [TOPIC_OBJECTS],
  },
  /**
   * The push dispatcher (lib/push/dispatcher.ts): reads records; is its consumers' group member
   * (leases, claims, commits; replacing an older dispatcher deletes its lease); keeps delivery state;
   * appends dead letters (an idempotent produce: ingest objects, partition items, intents). It reads
   * every topic object (ingest objects and segments) and writes only ingest objects.
   */
  dispatcher: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    writableKeys: ['p#*', 'idem#*', 'g#*', 'go#*', 'push#*'],
    objectGrants: [
      { actions: ['s3:GetObject'], keys: [TOPIC_OBJECTS] },
      { actions: ['s3:PutObject'], keys: [INGEST_OBJECTS] },
    ],
    listPrefixes: [],
  },
  /**
   * Deploy-time push consumers (SluiceStreams.addFunctionConsumer): writes the consumer, clears its
   * delivery state, sets its group's offsets to startAt (a timestamp reads records), and on delete
   * makes the dispatcher leave the group.
   */
  pushConsumer: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    writableKeys: ['push-consumers', 'push#*', 'g#*', 'go#*', 'groups'],
    objectGrants: [{ actions: ['s3:GetObject'], keys: [TOPIC_OBJECTS] }],
    listPrefixes: [],
  },
  /**
   * The notification channel's WebSocket routes: reads API keys and topics, writes and deletes only
   * connection and subscription items. No object access, no Query (it reads items by key).
   */
  notifications: {
    metadataReads: ['dynamodb:GetItem'],
    metadataWrites: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    writableKeys: ['ws#*', 'wst#*'],
    objectGrants: [],
    listPrefixes: [],
  },
  /**
   * The stream handler as the channel's notifier (the fallback of the produce function's hints):
   * finds a topic's subscribed connections, reads the partition's head and posts; deletes the items
   * of connections that are gone (410). No object access.
   */
  notifier: {
    metadataReads: ['dynamodb:GetItem', 'dynamodb:Query'],
    metadataWrites: ['dynamodb:DeleteItem'],
    writableKeys: ['ws#*', 'wst#*'],
    objectGrants: [],
    listPrefixes: [],
    postsToConnections: true,
  },
  /** Registers the hash of the bootstrap admin key at deploy time (lib/lambda/bootstrap-key.ts). */
  bootstrapKey: {
    metadataReads: ['dynamodb:GetItem'],
    metadataWrites: ['dynamodb:PutItem'],
    writableKeys: ['apikeys', 'apikey#*'],
    objectGrants: [],
    listPrefixes: [],
  },
} as const satisfies Record<string, FunctionAccess>;

export type AccessName = keyof typeof ACCESS;

/** Where ingest objects live (SluiceStreamsProps.ingestObjects). */
export type IngestStorage = 'standard' | 'express';

/** A directory bucket's session modes (the s3express:SessionMode condition of s3express:CreateSession). */
export type ExpressSessionMode = 'ReadOnly' | 'ReadWrite';

export interface PlacedObjectAccess {
  /** Object grants on the standard bucket. */
  readonly standard: readonly ObjectGrant[];
  /** s3:ListBucket prefixes on the standard bucket. */
  readonly standardListPrefixes: readonly string[];
  /** The session the function may create on the directory bucket; absent: none. */
  readonly expressSession?: ExpressSessionMode;
}

/**
 * The grants of a function on each bucket. On S3 Standard alone, the table as written. With ingest
 * objects in a directory bucket: grants on ingest objects only (INGEST_OBJECTS) move there; grants on
 * every topic object (TOPIC_OBJECTS) stay on the standard bucket, which keeps segments and any ingest
 * object written before the switch (RoutedObjectStore reads and deletes those there), and also reach
 * the directory bucket. There, anything beyond GetObject (a PUT, a delete, a list) needs a ReadWrite
 * session; GetObject alone, a ReadOnly one.
 */
export function placeObjectAccess(access: FunctionAccess, ingest: IngestStorage): PlacedObjectAccess {
  if (ingest === 'standard') return { standard: access.objectGrants, standardListPrefixes: access.listPrefixes };
  const standard: ObjectGrant[] = [];
  let expressSession: ExpressSessionMode | undefined;
  const need = (mode: ExpressSessionMode) => {
    if (expressSession !== 'ReadWrite') expressSession = mode;
  };
  for (const grant of access.objectGrants) {
    const kept = grant.keys.filter((key) => key !== INGEST_OBJECTS);
    if (kept.length > 0) standard.push({ actions: grant.actions, keys: kept });
    if (grant.keys.some((key) => key === INGEST_OBJECTS || key === TOPIC_OBJECTS)) need(grant.actions.every((action) => action === 's3:GetObject') ? 'ReadOnly' : 'ReadWrite');
  }
  // Listing a topic's objects lists both buckets (only maintenance lists, and it also deletes there).
  if (access.listPrefixes.includes(TOPIC_OBJECTS)) need('ReadWrite');
  return { standard, standardListPrefixes: access.listPrefixes, ...(expressSession ? { expressSession } : {}) };
}
