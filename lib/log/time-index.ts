/**
 * A partition's time index (Kafka's .timeindex): points (maxTimestamp, end) beside its entries, each
 * saying that no record below offset `end` has a timestamp above maxTimestamp (layout.ts
 * TimeIndexPoint; sort key t#<maxTimestamp>#<end>). Maintenance writes them over the sealed
 * segments, one where the running maximum of the records' timestamps grows, so a partition of N
 * segments with timestamps in order has about N points, and one whose timestamps stall has fewer.
 *
 *   startFor(T)   the last point below T (one Query, reverse, limit 1): every record before its end
 *                 is older than T, so the search for the first record at or after T, or for what a
 *                 time window holds, starts there instead of at the log start.
 *   extend        from the last point's end over the entries up to the end of the sealed segments.
 *   trim          drops the points that end at or below the log start (retention moved it past them).
 *
 * A point stands on its own: a record's timestamp never changes and retention only removes records,
 * so a point once true stays true, whatever later passes do to the entries it was read from
 * (compaction merging segments after a settings change, another pass racing this one, a crash
 * between writes). None of that can make a lookup wrong, only start earlier than it could. The index
 * is never needed for correctness: without points a lookup starts at the log start, as it did before
 * the index existed. A record with a timestamp far in the future stalls the running maximum, and
 * lookups for earlier times then start before it (Kafka's time index has the same limit).
 */
import type { MetadataStore } from '../storage/ports.ts';
import {
  TIME_INDEX_SK_END,
  TIME_INDEX_SK_PREFIX,
  pointTimestamp,
  timeIndexBound,
  timeIndexPointFromItem,
  timeIndexPointToItem,
  timeIndexSk,
  type TimeIndexPoint,
} from './layout.ts';
import type { PartitionLog } from './partition-log.ts';

const TRIM_PAGE = 25;
/**
 * Entries per page of an extension's walk: it ends at the end of the sealed segments, and a page
 * past it would read tail entries (inline ones hold their batches) for nothing.
 */
const WALK_PAGE = 16;

export class TimeIndex {
  readonly #metadata: MetadataStore;
  readonly #log: PartitionLog;

  constructor(metadata: MetadataStore, log: PartitionLog) {
    this.#metadata = metadata;
    this.#log = log;
  }

  /** Where a search for records at or after `timestamp` may start: no record before it is that new. */
  async startFor(pk: string, timestamp: number, logStartOffset: bigint): Promise<bigint> {
    const bound = pointTimestamp(timestamp);
    if (bound === 0) return logStartOffset; // no point is below 0
    const [item] = await this.#metadata.query(pk, { gte: TIME_INDEX_SK_PREFIX, lt: timeIndexBound(bound), reverse: true, limit: 1 });
    const point = item ? timeIndexPointFromItem(item) : undefined;
    return point && point.end > logStartOffset ? point.end : logStartOffset;
  }

  /**
   * Extends the index over the entries from its last point up to `through` (the end of the sealed
   * segments: entries there are never rewritten but by a settings change, which keeps points true).
   * Stops at a gap, which sealed history does not have but a race with retention could show.
   * Returns the points written.
   */
  async extend(pk: string, logStartOffset: bigint, through: bigint): Promise<number> {
    let tip = await this.#last(pk);
    if (tip && tip.end <= logStartOffset) {
      await this.trim(pk, logStartOffset);
      tip = undefined;
    }
    const from = tip?.end ?? logStartOffset;
    if (from >= through) return 0;
    const points: TimeIndexPoint[] = [];
    let max = tip?.maxTimestamp ?? 0;
    let cursor = from;
    for await (const entry of this.#log.liveEntriesFrom(pk, from, through, { rest: WALK_PAGE })) {
      if (entry.start > cursor || entry.end > through) break; // a gap, or an entry reaching past the sealed end
      cursor = entry.end;
      const timestamp = entry.aborted ? 0 : pointTimestamp(entry.maxTimestamp);
      if (timestamp > max) {
        max = timestamp;
        points.push({ maxTimestamp: max, end: cursor });
      } else if (points.length > 0) points[points.length - 1] = { maxTimestamp: max, end: cursor };
      else points.push({ maxTimestamp: max, end: cursor }); // the last point's maximum, further on
    }
    for (const point of points) await this.#metadata.put(timeIndexPointToItem(pk, point));
    // A point with the last one's maximum and a later end says more: the last one is dropped.
    if (tip && points[0]?.maxTimestamp === tip.maxTimestamp) await this.#metadata.delete(pk, timeIndexSk(tip.maxTimestamp, tip.end));
    return points.length;
  }

  /**
   * Drops the points that end at or below the log start. Points grow in maxTimestamp and end
   * together, so those are the first ones in key order. Returns how many were dropped.
   */
  async trim(pk: string, logStartOffset: bigint): Promise<number> {
    let dropped = 0;
    for (;;) {
      const items = await this.#metadata.query(pk, { gte: TIME_INDEX_SK_PREFIX, lt: TIME_INDEX_SK_END, limit: TRIM_PAGE });
      const dead = items.filter((item) => timeIndexPointFromItem(item).end <= logStartOffset);
      await Promise.all(dead.map((item) => this.#metadata.delete(pk, item.sk)));
      dropped += dead.length;
      if (dead.length < TRIM_PAGE) return dropped;
    }
  }

  async #last(pk: string): Promise<TimeIndexPoint | undefined> {
    const [item] = await this.#metadata.query(pk, { gte: TIME_INDEX_SK_PREFIX, lt: TIME_INDEX_SK_END, reverse: true, limit: 1 });
    return item ? timeIndexPointFromItem(item) : undefined;
  }
}
