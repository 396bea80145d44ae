/**
 * Where the log keeps things: metadata item keys and object keys. Nothing else builds these strings.
 *
 *   topics / <name>                       topic: id, partitions, config
 *   deleted-topics / <id>                 tombstone for garbage collection of a deleted topic's data
 *   p#<topicId>#<partition> / head        nextOffset (reserved), logStartOffset, lastReservedAt, reservationCount,
 *                                         recordsDeletedBefore (the furthest start deleteRecords asked for)
 *                                         (and highWatermark on heads written before the watermark item existed)
 *   p#<topicId>#<partition> / head#watermark  highWatermark: the stored lower bound of what is readable, an
 *                                         item of its own so that the head takes exactly one write per
 *                                         append (DynamoDB throttles each item at 1,000 writes/s); its sort
 *                                         key follows the head's, so one Query reads both
 *   p#<topicId>#<partition> / head#~maintained  what maintenance keeps between passes (MaintainedMark):
 *                                         where compaction's walk may start, and, after a pass that
 *                                         left nothing to do, what it saw (scheduled passes skip the
 *                                         partition while the head says the same); its sort key follows
 *                                         the watermark item's, so one Query reads all three
 *   p#<topicId>#<partition> / e#<start>   log entry for offsets [start, end): object + byte range, or the
 *                                         batches themselves when small (`batches`, binary), or aborted
 *   p#<topicId>#<partition> / t#<maxTimestamp>#<end>  time index point (TimeIndexPoint, time-index.ts):
 *                                         no record below offset `end` has a timestamp above
 *                                         maxTimestamp; sorts after the head's items, so no walk of
 *                                         entries or heads reads it
 *   idem#<topicId>#<sha256(key)> / intent one idempotent produce: its object, byte ranges (or which parts
 *                                         are inline) and reservations
 *
 *   gc#<topicId> / <object key>           an object seen unreferenced: deleted once it stays so for a grace period
 *   gc#<topicId> / ~young                 unreferenced objects too young to judge were seen: the topic is
 *                                         collected on its next pass even when all its partitions are quiet
 *
 * Objects:  t/<topicId>/ingest/<spread>/<time-ordered id>         one per produce request (batches of every
 *                                                                 partition it touched that were too large
 *                                                                 to inline, base offsets 0); none when
 *                                                                 every partition's batches are inline;
 *                                                                 <spread>: 2 hex digits of the id's random part
 *                                                                 (INGEST_PREFIX_COUNT prefixes; see ingestObjectKey)
 *           t/<topicId>/segments/<partition>/<start>-<id>.seg     compacted batches, real base offsets
 *           t/<topicId>/segments/<partition>/<start>-<id>.index   its sparse index (segment-index.ts)
 *
 * A topic's data lives under its id, not its name, so a topic deleted and created again never sees
 * the old data, and a presigned URL for one topic can never reach another topic's objects.
 */
import type { Item } from '../storage/ports.ts';

export const TOPICS_PK = 'topics';
export const DELETED_TOPICS_PK = 'deleted-topics';
export const HEAD_SK = 'head';
/** Sorts right after HEAD_SK and before nothing else of the partition (entries sort before both). */
export const WATERMARK_SK = 'head#watermark';
const OFFSET_DIGITS = 20;
/** Sorts right after WATERMARK_SK ('~' follows every letter): a Query from HEAD_SK to it reads head, watermark and mark. */
export const MAINTAINED_SK = 'head#~maintained';

/** Every partition key of a partition's items (head and log entries) starts with this. */
export const PARTITION_PK_PREFIX = 'p#';
/** Every log entry's sort key starts with this. */
export const ENTRY_SK_PREFIX = 'e#';

export function partitionPk(topicId: string, partition: number): string {
  return `${PARTITION_PK_PREFIX}${topicId}#${partition}`;
}

/** The topic id and partition of a partitionPk, or undefined for any other key. */
export function parsePartitionPk(pk: string): { topicId: string; partition: number } | undefined {
  const match = /^p#(.+)#(\d{1,9})$/.exec(pk);
  return match ? { topicId: match[1], partition: Number(match[2]) } : undefined;
}

export function entrySk(offset: bigint): string {
  return `${ENTRY_SK_PREFIX}${offset.toString().padStart(OFFSET_DIGITS, '0')}`;
}

/** Upper bound of all entry sort keys. */
export const ENTRY_SK_END = 'e#~';

/** Every time index point's sort key starts with this; TIME_INDEX_SK_END bounds them all. */
export const TIME_INDEX_SK_PREFIX = 't#';
export const TIME_INDEX_SK_END = 't#~';
/** Number.MAX_SAFE_INTEGER has 16 digits: every timestamp a point holds fits, so the keys sort by time. */
const TIMESTAMP_DIGITS = 16;

/**
 * A timestamp as a point holds it: an integer in [0, Number.MAX_SAFE_INTEGER], never below the one
 * given (a point's timestamp is an upper bound, so rounding up keeps it true).
 */
export function pointTimestamp(timestamp: number): number {
  return Math.min(Math.max(Math.ceil(timestamp), 0), Number.MAX_SAFE_INTEGER);
}

/** Sorts by maxTimestamp, then by end: the order in which the points of one partition's index grow. */
export function timeIndexSk(maxTimestamp: number, end: bigint): string {
  return `${timeIndexBound(maxTimestamp)}#${end.toString().padStart(OFFSET_DIGITS, '0')}`;
}

/** Every point whose maxTimestamp is below `timestamp` (an integer in pointTimestamp's range) sorts before this. */
export function timeIndexBound(timestamp: number): string {
  return `${TIME_INDEX_SK_PREFIX}${timestamp.toString().padStart(TIMESTAMP_DIGITS, '0')}`;
}

/** No record of the partition below offset `end` has a timestamp above `maxTimestamp` (time-index.ts). */
export interface TimeIndexPoint {
  readonly maxTimestamp: number;
  readonly end: bigint;
}

export function timeIndexPointToItem(pk: string, point: TimeIndexPoint): Item {
  return { pk, sk: timeIndexSk(point.maxTimestamp, point.end), maxTimestamp: BigInt(point.maxTimestamp), end: point.end };
}

export function timeIndexPointFromItem(item: Item): TimeIndexPoint {
  return { maxTimestamp: Number(bigintAttr(item, 'maxTimestamp')), end: bigintAttr(item, 'end') };
}

export function intentPk(topicId: string, keyHash: string): string {
  return `idem#${topicId}#${keyHash}`;
}

export const INTENT_SK = 'intent';

/** How many S3 prefixes a topic's ingest objects are spread over. */
export const INGEST_PREFIX_COUNT = 256;

/**
 * S3 serves about 3,500 PUTs/s per partitioned prefix, and partitions by key. Time-ordered names under
 * one prefix send a topic's every PUT to the same partition; a spread of 256 prefixes taken from the
 * id's random part lets S3 split the topic's ingest keys up to 256 ways (~900,000 PUTs/s on paper).
 * Readers never list ingest objects (log entries name them), and maintenance lists the topic's whole
 * prefix, so nothing else depends on the layout; keys written before the spread stay readable.
 */
export function ingestObjectKey(topicId: string, id: string): string {
  return `${ingestObjectPrefix(topicId)}${id.slice(-2)}/${id}`;
}

export function topicObjectPrefix(topicId: string): string {
  return `t/${topicId}/`;
}

export function segmentObjectKeys(topicId: string, partition: number, start: bigint, now: number): { segment: string; index: string } {
  const base = `t/${topicId}/segments/${partition}/${start.toString().padStart(OFFSET_DIGITS, '0')}-${timeOrderedId(now)}`;
  return { segment: `${base}.seg`, index: `${base}.index` };
}

/** The partition and start offset a segment or index key names (segmentObjectKeys); undefined for other keys. */
export function parseSegmentObjectKey(key: string): { partition: number; start: bigint } | undefined {
  const match = /^t\/[^/]+\/segments\/(\d{1,9})\/(\d{20})-[^/]+\.(?:seg|index)$/.exec(key);
  return match ? { partition: Number(match[1]), start: BigInt(match[2]) } : undefined;
}

/** Where a topic's ingest objects are (every spread prefix under it). */
export function ingestObjectPrefix(topicId: string): string {
  return `t/${topicId}/ingest/`;
}

export function gcPk(topicId: string): string {
  return `gc#${topicId}`;
}

/** In gcPk, beside the marks (object keys start with 't/', which sorts before '~'). */
export const GC_YOUNG_SK = '~young';

/** When an ingest object was created, from its time-ordered id; undefined for other keys. */
export function ingestObjectTime(key: string): number | undefined {
  const match = /\/ingest\/(?:[0-9a-f]{2}\/)?([0-9a-z]+)-[0-9a-f]+$/.exec(key);
  return match ? Number.parseInt(match[1], 36) : undefined;
}

export interface PartitionHead {
  /** Next offset to reserve. Offsets in [highWatermark, nextOffset) are reserved but not all readable. */
  readonly nextOffset: bigint;
  /** End of the contiguous prefix of written entries: readers see offsets below it. */
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  readonly lastReservedAt: number;
  /** Reservations made so far (0 on heads written before it was counted): elects the producer that advances the stored watermark. */
  readonly reservationCount: bigint;
  /**
   * The furthest log start Engine.deleteRecords moved the partition to (0: never). A range below it
   * may have been deleted written, whatever the topic's retention: a retry cannot tell its outcome.
   */
  readonly recordsDeletedBefore: bigint;
}

/**
 * The head as stored: the head item and the watermark item (either may be absent). The watermark is
 * the larger of the two places it has been kept, so a partition whose watermark still sits on its head
 * (written by an earlier version) reads the same, and nothing has to migrate.
 */
export function headFromItems(head: Item | undefined, watermark: Item | undefined): PartitionHead {
  const onHead = bigintAttr(head, 'highWatermark');
  const stored = bigintAttr(watermark, 'highWatermark');
  return {
    nextOffset: bigintAttr(head, 'nextOffset'),
    highWatermark: stored > onHead ? stored : onHead,
    logStartOffset: bigintAttr(head, 'logStartOffset'),
    lastReservedAt: Number(bigintAttr(head, 'lastReservedAt')),
    reservationCount: bigintAttr(head, 'reservationCount'),
    recordsDeletedBefore: bigintAttr(head, 'recordsDeletedBefore'),
  };
}

/**
 * What maintenance keeps per partition between passes (maintenance.ts). `sealedThrough` lets a
 * compaction walk start after the partition's sealed history instead of at its log start; `quiet`,
 * set by a pass that left nothing to do, lets a scheduled pass skip the partition while the head
 * still holds the same nextOffset and logStartOffset and `dueAt` has not come. Both hold only for the
 * settings they were found under, and only until the next full pass (`fullAt` + fullPassIntervalMs),
 * which walks from the log start again.
 */
export interface MaintainedMark {
  /** The retention and compaction settings the pass ran with (maintenance.ts settingsKey). */
  readonly settings: string;
  /**
   * End of the partition's longest prefix of entries compaction never rewrites (sealed segments,
   * aborted ranges and segments closed in by them; compaction.ts #sealedPrefixEnd) with nothing left
   * over inside them, so its walk may begin here.
   */
  readonly sealedThrough: bigint;
  /** When a pass last walked the partition from its log start. */
  readonly fullAt: number;
  /**
   * No entry lies wholly below this offset (a pass deleted them, or retention its own drops): while
   * the log start is still here, a pass does not look below it. Absent on marks of earlier versions.
   */
  readonly clearedBelow?: bigint;
  /**
   * With retention by size: the bytes of the entries from `logStartOffset` to sealedThrough when the
   * pass ended, so the next one sums only the entries after them. Holds while the log start is still
   * `logStartOffset` (retention moves it first, so any drop since makes it stale).
   */
  readonly retained?: { readonly logStartOffset: bigint; readonly bytes: number };
  readonly quiet?: {
    readonly nextOffset: bigint;
    readonly logStartOffset: bigint;
    /** When retention by time next has something to drop; 0: not before more is produced. */
    readonly dueAt: number;
  };
}

export function maintainedToItem(pk: string, mark: MaintainedMark): Item {
  return {
    pk,
    sk: MAINTAINED_SK,
    settings: mark.settings,
    sealedThrough: mark.sealedThrough,
    fullAt: BigInt(mark.fullAt),
    ...(mark.clearedBelow !== undefined ? { clearedBelow: mark.clearedBelow } : {}),
    ...(mark.retained ? { retainedFrom: mark.retained.logStartOffset, retainedBytes: BigInt(mark.retained.bytes) } : {}),
    ...(mark.quiet
      ? { quiet: true, nextOffset: mark.quiet.nextOffset, logStartOffset: mark.quiet.logStartOffset, dueAt: BigInt(mark.quiet.dueAt) }
      : {}),
  };
}

export function maintainedFromItem(item: Item | undefined): MaintainedMark | undefined {
  const settings = stringAttr(item, 'settings');
  if (!item || settings === undefined) return undefined;
  return {
    settings,
    sealedThrough: bigintAttr(item, 'sealedThrough'),
    fullAt: Number(bigintAttr(item, 'fullAt')),
    ...(typeof item.clearedBelow === 'bigint' ? { clearedBelow: item.clearedBelow } : {}),
    ...(typeof item.retainedBytes === 'bigint' ? { retained: { logStartOffset: bigintAttr(item, 'retainedFrom'), bytes: Number(item.retainedBytes) } } : {}),
    ...(item.quiet === true
      ? { quiet: { nextOffset: bigintAttr(item, 'nextOffset'), logStartOffset: bigintAttr(item, 'logStartOffset'), dueAt: Number(bigintAttr(item, 'dueAt')) } }
      : {}),
  };
}

/** A log entry covers offsets [start, end). Aborted entries hold no data. */
export interface LogEntry {
  readonly start: bigint;
  readonly end: bigint;
  readonly aborted: boolean;
  readonly objectKey: string;
  /** First byte of this partition's batches in the object. */
  readonly position: number;
  readonly length: number;
  /** Set for compacted segments: the key of the segment's sparse index object. */
  readonly indexKey?: string;
  /**
   * Set for small batches stored in the entry itself (DEFAULTS.inlineMaxBytes): the batches as sent,
   * base offsets 0, exactly like an ingest range; objectKey is then '' and position 0.
   */
  readonly inlineBatches?: Uint8Array;
  readonly maxTimestamp: number;
  /** When the writer reserved the range (its clock). */
  readonly reservedAt: number;
  /**
   * When the reservation just before this one was made: the newest reservation inside any gap right
   * before this entry, so the exact bound on that gap's age.
   */
  readonly previousReservedAt: number;
}

export function entryToItem(pk: string, entry: LogEntry): Item {
  return {
    pk,
    sk: entrySk(entry.start),
    start: entry.start,
    end: entry.end,
    aborted: entry.aborted,
    objectKey: entry.objectKey,
    position: BigInt(entry.position),
    length: BigInt(entry.length),
    maxTimestamp: BigInt(entry.maxTimestamp),
    reservedAt: BigInt(entry.reservedAt),
    previousReservedAt: BigInt(entry.previousReservedAt),
    ...(entry.indexKey ? { indexKey: entry.indexKey } : {}),
    ...(entry.inlineBatches ? { batches: entry.inlineBatches } : {}),
  };
}

export function entryFromItem(item: Item): LogEntry {
  return {
    start: bigintAttr(item, 'start'),
    end: bigintAttr(item, 'end'),
    aborted: item.aborted === true,
    objectKey: typeof item.objectKey === 'string' ? item.objectKey : '',
    position: Number(bigintAttr(item, 'position')),
    length: Number(bigintAttr(item, 'length')),
    maxTimestamp: Number(bigintAttr(item, 'maxTimestamp')),
    reservedAt: Number(bigintAttr(item, 'reservedAt')),
    previousReservedAt: Number(bigintAttr(item, 'previousReservedAt')),
    ...(typeof item.indexKey === 'string' ? { indexKey: item.indexKey } : {}),
    ...(item.batches instanceof Uint8Array ? { inlineBatches: item.batches } : {}),
  };
}

export function bigintAttr(item: Item | undefined, name: string): bigint {
  const value = item?.[name];
  return typeof value === 'bigint' ? value : 0n;
}

export function stringAttr(item: Item | undefined, name: string): string | undefined {
  const value = item?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Time-ordered, unique object id: sortable by creation time, so sweeps can page by age. */
export function timeOrderedId(now: number): string {
  const random = crypto.getRandomValues(new Uint8Array(10));
  return `${now.toString(36).padStart(9, '0')}-${Buffer.from(random).toString('hex')}`;
}
