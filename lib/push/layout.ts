/**
 * Where push consumers keep things in the metadata store, and the typed items. Nothing else builds
 * these keys or reads these attributes.
 *
 *   push-consumers / <name>                        a consumer: config (JSON), secret (sealed by a
 *                                                  SecretBox, never plain), paused, createdAt
 *   push#<name>#<topicId>#<partition / 100>        one partition's delivery state: the retry of the
 *     / p#<partition>                              batch at `offset` (end, rangeEnd, attempts,
 *                                                  nextAttemptAt, failing, deadLetter), lastError and
 *                                                  counters (delivered, failed, deadLettered). Every
 *                                                  change of the retry fields is a compare-and-set on
 *                                                  `version`, so two dispatchers never both decide
 *                                                  what happens to one failing batch
 *
 * A retry state is in force only while its `offset` equals the group's committed offset for the
 * partition: a commit past it makes it history without a write. The consumer's offsets themselves
 * are those of its consumer group, `sluice.push.<name>` (lib/groups), whose member is the dispatcher.
 * State is kept per topic id, so a topic deleted and created again starts clean. Partitions are
 * spread over one item collection per 100 (DynamoDB serves ~1,000 writes/s per partition key).
 */
import type { Item } from '../storage/ports.ts';
import type { ConsumerConfig } from './config.ts';

export const CONSUMERS_PK = 'push-consumers';
/** Push consumers' groups: reserved, so no other member can join them. */
export const PUSH_GROUP_PREFIX = 'sluice.push.';
const STATE_BUCKET_PARTITIONS = 100;
const PARTITION_DIGITS = 5;

export function consumerGroup(name: string): string {
  return `${PUSH_GROUP_PREFIX}${name}`;
}

export function statePk(name: string, topicId: string, partition: number): string {
  return `push#${name}#${topicId}#${Math.floor(partition / STATE_BUCKET_PARTITIONS)}`;
}

export function statePks(name: string, topicId: string, partitions: number): string[] {
  return Array.from({ length: Math.ceil(partitions / STATE_BUCKET_PARTITIONS) }, (_, b) => statePk(name, topicId, b * STATE_BUCKET_PARTITIONS));
}

export function stateSk(partition: number): string {
  return `p#${partition.toString().padStart(PARTITION_DIGITS, '0')}`;
}

/** A consumer as stored. */
export interface StoredConsumer {
  readonly config: ConsumerConfig;
  /** The delivery secret, sealed (SecretBox.seal). */
  readonly sealedSecret: string;
  readonly paused: boolean;
}

export function consumerToItem(consumer: StoredConsumer): Item {
  return {
    pk: CONSUMERS_PK,
    sk: consumer.config.name,
    config: JSON.stringify(consumer.config),
    secret: consumer.sealedSecret,
    paused: consumer.paused,
    createdAt: BigInt(consumer.config.createdAt),
  };
}

export function consumerFromItem(item: Item): StoredConsumer {
  return {
    config: JSON.parse(String(item.config)) as ConsumerConfig,
    sealedSecret: typeof item.secret === 'string' ? item.secret : '',
    paused: item.paused === true,
  };
}

/** A dead-letter append decided for [start, end): repeated as is until it lands (idempotent). */
export interface PendingDeadLetter {
  readonly start: bigint;
  readonly end: bigint;
  readonly error: string;
}

/** One partition's delivery state (see the layout above). */
export interface DeliveryState {
  /** Compare-and-set version of the retry fields; 0n when the item does not exist. */
  readonly version: bigint;
  /** Start of the batch being retried (equal to the committed offset while in force). */
  readonly offset?: bigint;
  /** End of the next attempt's batch (exclusive): the batch keeps its records, so its batchId, on every attempt. */
  readonly end?: bigint;
  /** While bisecting: where the failing range ends; after a half succeeds, delivery goes on up to here. */
  readonly rangeEnd?: bigint;
  /** Failed attempts of the batch [offset, end). */
  readonly attempts: number;
  /** Not before this (epoch ms): the backoff, kept here so it survives the dispatcher. */
  readonly nextAttemptAt: number;
  /** Out of attempts with no dead-letter topic: the partition waits until resumed. */
  readonly failing: boolean;
  readonly deadLetter?: PendingDeadLetter;
  readonly lastError?: { readonly at: number; readonly message: string };
  readonly delivered: bigint;
  readonly failed: bigint;
  readonly deadLettered: bigint;
}

export const EMPTY_STATE: DeliveryState = { version: 0n, attempts: 0, nextAttemptAt: 0, failing: false, delivered: 0n, failed: 0n, deadLettered: 0n };

export function stateFromItem(item: Item | undefined): DeliveryState {
  if (!item) return EMPTY_STATE;
  const big = (name: string) => (typeof item[name] === 'bigint' ? (item[name] as bigint) : undefined);
  const deadLetter = typeof item.deadLetter === 'string' && item.deadLetter !== '' ? (JSON.parse(item.deadLetter) as { start: string; end: string; error: string }) : undefined;
  return {
    version: big('version') ?? 0n,
    offset: big('offset'),
    end: big('end'),
    rangeEnd: big('rangeEnd'),
    attempts: Number(big('attempts') ?? 0n),
    nextAttemptAt: Number(big('nextAttemptAt') ?? 0n),
    failing: item.failing === true,
    ...(deadLetter ? { deadLetter: { start: BigInt(deadLetter.start), end: BigInt(deadLetter.end), error: deadLetter.error } } : {}),
    ...(typeof item.lastError === 'string' && item.lastError !== '' ? { lastError: { at: Number(big('lastErrorAt') ?? 0n), message: item.lastError } } : {}),
    delivered: big('delivered') ?? 0n,
    failed: big('failed') ?? 0n,
    deadLettered: big('deadLettered') ?? 0n,
  };
}

/** The retry fields of a state, as the attributes an update sets (and the ones it removes). */
export interface RetryFields {
  readonly offset: bigint;
  readonly end: bigint;
  readonly rangeEnd: bigint;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly failing: boolean;
  readonly deadLetter?: PendingDeadLetter;
}

export function retryAttributes(fields: RetryFields): { set: Record<string, bigint | boolean | string> } {
  return {
    set: {
      offset: fields.offset,
      end: fields.end,
      rangeEnd: fields.rangeEnd,
      attempts: BigInt(fields.attempts),
      nextAttemptAt: BigInt(fields.nextAttemptAt),
      failing: fields.failing,
      deadLetter: fields.deadLetter
        ? JSON.stringify({ start: fields.deadLetter.start.toString(), end: fields.deadLetter.end.toString(), error: fields.deadLetter.error })
        : '',
    },
  };
}

/** The state is about the batch at the committed offset (else it is history). */
export function inForce(state: DeliveryState, committed: bigint): boolean {
  return state.offset !== undefined && state.offset === committed;
}
