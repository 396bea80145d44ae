/**
 * The limits, defaults and names of the contract that clients need, from the one place that holds every
 * default and limit (lib/defaults.ts). Client and server both read them from here, so nothing
 * redeclares a limit or a default. Zod-free: the browser bundle imports this.
 */
import { DEFAULTS, LIMITS } from '../defaults.ts';

export { LIMITS };

/** Defaults the server applies when a request leaves a field out; clients show and use the same. */
export const API_DEFAULTS = {
  /** Fetch and locations: `maxBytes`. */
  fetchMaxBytes: DEFAULTS.fetchMaxBytes,
  /** Fetch and locations: `maxWaitMs` (no long poll). */
  fetchMaxWaitMs: DEFAULTS.fetchMaxWaitMs,
  /** Throughput: `bucketMs`, and how many buckets before `to` when `from` is left out. */
  throughputBucketMs: 60_000,
  throughputBuckets: 60,
  /** Join: `sessionTimeoutMs`. */
  groupSessionTimeoutMs: DEFAULTS.groupSessionTimeoutMs,
  /** Join: `strategy`, chosen by a group's first member. */
  groupStrategy: DEFAULTS.groupStrategy,
  /** Topic config. */
  retentionMs: DEFAULTS.retentionMs,
  retentionBytes: DEFAULTS.retentionBytes,
  compression: DEFAULTS.compression,
  timestampType: DEFAULTS.timestampType,
  /** How long a presigned location URL is valid. */
  presignExpiresSeconds: DEFAULTS.presignExpiresSeconds,
  /** Push consumers: what a create request leaves out. */
  push: DEFAULTS.push,
} as const;

/** Topic and consumer-group names: 1-249 characters of [a-zA-Z0-9._-], not `.` or `..` (Kafka's rule). */
export const NAME_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}

/** Consumer-group assignment strategies. */
export const ASSIGNMENT_STRATEGIES = ['cooperative-sticky', 'range', 'roundrobin'] as const;
export type AssignmentStrategy = (typeof ASSIGNMENT_STRATEGIES)[number];

/** Codecs a topic's JSON-encoded batches and a client's batches may use. */
export const COMPRESSION_CODECS = ['zstd', 'gzip', 'none'] as const;
export type CompressionCodec = (typeof COMPRESSION_CODECS)[number];

/** Whose clock stamps a topic's records (Kafka's message.timestamp.type). */
export const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'] as const;
export type TimestampType = (typeof TIMESTAMP_TYPES)[number];

/** What a key's scope grants: admin covers everything. */
export const KEY_ACTIONS = ['admin', 'produce', 'consume'] as const;
export type KeyAction = (typeof KEY_ACTIONS)[number];
