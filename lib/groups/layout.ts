/**
 * Where consumer groups keep things in the metadata store. Nothing else builds these keys.
 *
 *   g#<group> / head                          generation, state (sk of the state item), strategy,
 *                                             revokeDeadline: the small item every heartbeat reads; changed
 *                                             only by compare-and-set on `generation` (a rebalance)
 *   g#<group> / s#<generation>#<random>       the state of one generation, immutable: topics, roster,
 *                                             target and owned assignment (per partition: a member index)
 *   g#<group> / m#<memberId>                  the member's lease: leaseUntil (epoch ms; deliberately not the
 *                                             stores' `expiresAt` TTL attribute), generation it last joined,
 *                                             revoking (holds partitions to give up; false once released),
 *                                             watch (the member whose lease it checks). Kept small: a
 *                                             heartbeat rewrites it (1 write unit)
 *   g#<group> / a#<memberId>                  the member's profile and share: instanceId, topics, strategy,
 *                                             rebalanceTimeoutMs, joinedAt, share (the partitions it may
 *                                             commit: owned and revoking). Written when its join changes them
 *   g#<group> / t#<topic>                     a topic the group has subscribed to (id), so describe finds
 *                                             offsets of topics no member subscribes to any more
 *   go#<group>#<topicId>#<partition / 100>    the partition's ownership and offset: owner, fence (the
 *     / p#<partition>                         generation in which the owner claimed it), committedOffset
 *   groups / <group>                          listing
 *
 * Offsets are kept per topic id, not name, so a topic deleted and created again starts with no
 * committed offsets. Group names follow topic names: 1-249 characters of [a-zA-Z0-9._-].
 */
import { SluiceError } from '../errors.ts';
import { isValidName } from '../api/limits.ts';

export const GROUPS_PK = 'groups';
export const HEAD_SK = 'head';
const GENERATION_DIGITS = 12;
const PARTITION_DIGITS = 5;

export function groupPk(group: string): string {
  return `g#${group}`;
}

export function stateSk(generation: number, nonce: string): string {
  return `s#${generation.toString().padStart(GENERATION_DIGITS, '0')}#${nonce}`;
}
export const STATE_PREFIX = 's#';

export function leaseSk(memberId: string): string {
  return `m#${memberId}`;
}
export const LEASE_PREFIX = 'm#';

export function profileSk(memberId: string): string {
  return `a#${memberId}`;
}
export const PROFILE_PREFIX = 'a#';

export function topicSk(topic: string): string {
  return `t#${topic}`;
}
export const TOPIC_PREFIX = 't#';

/**
 * Offsets are spread over one item collection per 100 partitions, so a topic's commits never
 * concentrate on one partition key (DynamoDB serves ~1,000 writes/s per key): 100 partitions
 * committed every 5 s make 20 writes/s on a key.
 */
export const OFFSET_BUCKET_PARTITIONS = 100;

export function offsetsPk(group: string, topicId: string, partition: number): string {
  return `go#${group}#${topicId}#${Math.floor(partition / OFFSET_BUCKET_PARTITIONS)}`;
}

/** The offset collections of a topic with `partitions` partitions, one per bucket. */
export function offsetsPks(group: string, topicId: string, partitions: number): string[] {
  return Array.from({ length: Math.ceil(partitions / OFFSET_BUCKET_PARTITIONS) }, (_, b) => offsetsPk(group, topicId, b * OFFSET_BUCKET_PARTITIONS));
}

export function partitionSk(partition: number): string {
  return `p#${partition.toString().padStart(PARTITION_DIGITS, '0')}`;
}

/** Sort-key bounds of every item whose key starts with `prefix` (all keys here are ASCII below `~`). */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: `${prefix}~` };
}

export function validateGroupName(group: string): void {
  if (!isValidName(group)) {
    throw new SluiceError('INVALID_REQUEST', 'invalid group name: must be 1-249 characters of [a-zA-Z0-9._-]', { details: { field: 'group' } });
  }
}

/**
 * Member ids carry the member's session timeout (`<random>.<timeoutMs>`), so a heartbeat renews the
 * lease with one conditional write and no read: `leaseUntil = now + timeout` needs the timeout, and the
 * port cannot compute with stored attributes. A forged suffix names no member item, so it finds none.
 */
export function newMemberId(sessionTimeoutMs: number): string {
  return `${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url')}.${sessionTimeoutMs}`;
}

export function sessionTimeoutOf(memberId: string): number | undefined {
  const match = /^[A-Za-z0-9_-]{16}\.(\d{1,9})$/.exec(memberId);
  return match ? Number(match[1]) : undefined;
}

export function randomNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex');
}
