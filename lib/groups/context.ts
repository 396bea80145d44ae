/**
 * What the consumer-group protocol needs from the rest of the service: the metadata store, topic
 * lookups and a partition's bounds. Narrow on purpose: groups never build log keys or touch the log.
 */
import { SluiceError } from '../errors.ts';
import { LIMITS } from '../defaults.ts';
import type { Topic } from '../log/topics.ts';
import type { MetadataStore } from '../storage/ports.ts';

export interface GroupsEngine {
  readonly metadata: MetadataStore;
  readonly topics: { get(name: string): Promise<Topic> };
  /** The partition's log start offset and high watermark (lag, resets). */
  partitionBounds(topic: Topic, partition: number): Promise<{ logStartOffset: bigint; highWatermark: bigint }>;
  offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<bigint>;
}

/** Named points where tests inject crashes (throw) and pauses (await): the step just completed. */
export type GroupStep =
  | 'lease-written'
  | 'profile-written'
  | 'state-written'
  | 'head-written'
  | 'partitions-claimed'
  | 'share-written'
  | 'released'
  | 'commit-checked'
  | 'member-removed';

export interface GroupsContext {
  readonly engine: GroupsEngine;
  readonly metadata: MetadataStore;
  readonly now: () => number;
  readonly afterStep: (step: GroupStep, detail: { readonly group: string; readonly memberId?: string }) => void | Promise<void>;
  /** Compare-and-set attempts on the head before giving up with UNAVAILABLE. */
  readonly maxAttempts: number;
  /** How long a group with members goes before it looks at its topics again (GroupsOptions.topicCheckMs). */
  readonly topicCheckMs: number;
}

/** Partitions claimed, committed or reset at once. */
export const CLAIM_CONCURRENCY = 16;

export function unknownMember(memberId: string): SluiceError {
  return new SluiceError('UNKNOWN_MEMBER', `member ${memberId} is not in the group (it left, expired or was replaced): join again without memberId`, {
    details: { memberId },
  });
}

export function illegal(message: string, details: Record<string, unknown> = {}): SluiceError {
  return new SluiceError('ILLEGAL_GENERATION', message, { details });
}

export function hasMembers(group: string, members?: number): SluiceError {
  return new SluiceError('GROUP_NOT_EMPTY', `group ${group} can be deleted only while it has no members${members ? ` (it has ${members})` : ' (one joined while it was being deleted)'}`, {
    details: { group },
  });
}

export function notEmpty(group: string, members?: number): SluiceError {
  return new SluiceError('GROUP_NOT_EMPTY', `offsets of group ${group} can be reset only while it has no members${members ? ` (it has ${members})` : ''}`);
}

export function changingTooFast(group: string, what = 'retry'): SluiceError {
  return new SluiceError('UNAVAILABLE', `group ${group} is changing too fast; ${what}`);
}

export function groupNotFound(group: string): SluiceError {
  return new SluiceError('GROUP_NOT_FOUND', `group ${group} does not exist`, { details: { group } });
}

/** A generation whose state would not fit in one item (DynamoDB: 400 KB). */
export class GroupTooLargeError extends SluiceError {
  constructor(group: string, bytes: number) {
    super('INVALID_REQUEST', `group ${group} would need a ${bytes}-byte state (at most ${LIMITS.maxGroupStateBytes}): fewer members, topics or partitions`, {
      details: { field: 'topics' },
    });
  }
}
