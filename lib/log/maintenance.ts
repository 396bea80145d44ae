/**
 * One maintenance pass over every topic: close stale gaps, apply retention, compact, and delete
 * objects that nothing references any more. Everything here is safe to run concurrently with
 * producers, readers and another pass: each change is a conditional write, and objects are deleted
 * only after they have been seen unreferenced for a grace period longer than any reader can hold a
 * location (presigned URLs included).
 *
 * Object garbage collection is mark and sweep per topic: the live entries of every partition name
 * the objects in use; an object not named is marked with the time it was first seen so, and deleted
 * when still unnamed after the grace period.
 * Objects younger than `minObjectAgeMs` are never touched: their produce may not have written its
 * entry yet (producers refuse to reference an ingest object older than the commit window, which is
 * shorter).
 *
 * A pass reads what it must, not the whole retained log. Each partition keeps a mark beside its head
 * (layout.ts MaintainedMark):
 *   - compaction starts its walk at `sealedThrough`, the end of the sealed segments (and aborted
 *     ranges) it never rewrites, found by the previous pass; retention reads only up to the first
 *     entry it keeps (by size, with the bytes the previous pass counted up to the sealed end);
 *   - collection is partial (see #collectGarbage): it lists ingest objects only and reads the entries
 *     after each partition's sealed segments; compaction and retention mark the segments they supersede;
 *   - quiet partitions are skipped: a pass that leaves a partition with nothing to do stores what it
 *     saw, and a later scheduled pass that finds the same head (no reservation since, same log start,
 *     no gap), the same settings and retention not yet due reads that one Query and moves on. A topic
 *     whose partitions were all skipped is not collected either, unless marks or young unreferenced
 *     objects are pending.
 * Marks hold for the settings they were found under, and at least every `fullPassIntervalMs` a pass
 * walks each partition from its log start and sweeps the whole topic again: the safety net for what
 * only such a sweep finds — an orphan left by a produce that died between its object PUT and its
 * reservation (the head did not move), the segment of a compaction that crashed before its swap, or
 * leftovers of a compaction that crashed beside another pass. `run({ full: true })` walks everything
 * and skips nothing.
 */
import { mapConcurrent } from '../concurrency.ts';
import { ConditionFailedError } from '../errors.ts';
import { itemToJson } from '../storage/item-semantics.ts';
import type { MetadataStore, ObjectStore } from '../storage/ports.ts';
import { Compactor, segmentObjectsOf, type CompactionOptions, type CompactionStep } from './compaction.ts';
import {
  DELETED_TOPICS_PK,
  ENTRY_SK_END,
  ENTRY_SK_PREFIX,
  GC_YOUNG_SK,
  HEAD_SK,
  MAINTAINED_SK,
  WATERMARK_SK,
  entryFromItem,
  entrySk,
  gcPk,
  headFromItems,
  ingestObjectPrefix,
  maintainedFromItem,
  maintainedToItem,
  parseSegmentObjectKey,
  partitionPk,
  topicObjectPrefix,
  type LogEntry,
  type MaintainedMark,
  type PartitionHead,
} from './layout.ts';
import type { PartitionLog } from './partition-log.ts';
import { TimeIndex } from './time-index.ts';
import type { Topic, Topics } from './topics.ts';

export interface MaintenanceOptions extends CompactionOptions {
  /** An unreferenced object is deleted once it has been seen unreferenced this long. */
  readonly gcGraceMs: number;
  /** Objects younger than this are never collected (their produce may still be committing). */
  readonly minObjectAgeMs: number;
  /** A quiet partition is skipped by scheduled passes for at most this long (see the top of this file). */
  readonly fullPassIntervalMs: number;
}

export interface MaintenanceRunOptions {
  /** Walk every partition and collect every topic, quiet or not. @default false */
  readonly full?: boolean;
}

export interface MaintenanceReport {
  topics: number;
  partitions: number;
  gapsClosed: number;
  segmentsWritten: number;
  segmentBytes: number;
  entriesCompacted: number;
  leftoversDeleted: number;
  /** Records removed from the start of logs by retention. */
  offsetsTrimmed: string;
  entriesExpired: number;
  /** Points added to partitions' time indexes (time-index.ts) over newly sealed segments. */
  timeIndexPointsWritten: number;
  objectsDeleted: number;
  deletedTopicsPurged: number;
  expiredItemsDeleted: number;
  /** Quiet partitions this pass did not walk (their mark says nothing can have changed). */
  partitionsSkipped: number;
  /** Topics this pass did not collect (every partition skipped, nothing pending). */
  collectionsSkipped: number;
  /** Partitions or topics whose work failed this pass (retried by the next); the first error's message. */
  errors: number;
  firstError?: string;
}

export interface MaintenanceDeps {
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  readonly log: PartitionLog;
  readonly topics: Topics;
  readonly now: () => number;
  readonly afterCompactionStep?: (step: CompactionStep) => void | Promise<void>;
}

const PARTITION_CONCURRENCY = 4;
/** Entries per page of the search for entries below the log start. */
const CLEAR_PAGE = 100;
/** Entries per page of a walk that stops at the first entry retention keeps. */
const RETENTION_PAGE = 8;

interface RetentionResult {
  readonly offsetsTrimmed: bigint;
  readonly entriesExpired: number;
  /** The log start after it. */
  readonly logStartOffset: bigint;
  /** Nothing was dropped: the partition is as the walk found it. */
  readonly settled: boolean;
  /** See MaintainedMark.dueAt. */
  readonly dueAt: number;
  /** Segment and index objects of the entries it deleted. */
  readonly superseded: readonly string[];
  /** Every entry it dropped was deleted (none was changed meanwhile by another pass). */
  readonly complete: boolean;
  /** With retention by size: the bytes from the log start it left up to `sealedThrough` (MaintainedMark.retained). */
  readonly retainedBytes: (sealedThrough: bigint) => number | undefined;
}

/** A previous pass's count of a partition's bytes (MaintainedMark.retained), up to its sealedThrough. */
interface CountedBytes {
  readonly logStartOffset: bigint;
  readonly bytes: number;
  readonly through: bigint;
}

/** What one pass did with one partition. */
interface PartitionPass {
  /** Quiet: nothing was read but its head. */
  readonly skipped: boolean;
  /** Walked from its log start (collection then sweeps the whole topic). */
  readonly fromLogStart: boolean;
  /** Where its entries that may name an ingest object begin (MaintainedMark.sealedThrough; 0n: unknown). */
  readonly tailFrom: bigint;
  readonly offsetsTrimmed: bigint;
}

interface MarkedHead {
  readonly head: PartitionHead;
  readonly mark: MaintainedMark | undefined;
}

export class Maintenance {
  readonly #deps: MaintenanceDeps;
  readonly #options: MaintenanceOptions;
  readonly #compactor: Compactor;
  readonly #timeIndex: TimeIndex;

  constructor(deps: MaintenanceDeps, options: MaintenanceOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#timeIndex = new TimeIndex(deps.metadata, deps.log);
    this.#compactor = new Compactor({ ...deps, afterStep: deps.afterCompactionStep }, options);
  }

  async run(options: MaintenanceRunOptions = {}): Promise<MaintenanceReport> {
    const report: MaintenanceReport = {
      topics: 0,
      partitions: 0,
      gapsClosed: 0,
      segmentsWritten: 0,
      segmentBytes: 0,
      entriesCompacted: 0,
      leftoversDeleted: 0,
      offsetsTrimmed: '0',
      entriesExpired: 0,
      timeIndexPointsWritten: 0,
      objectsDeleted: 0,
      deletedTopicsPurged: 0,
      expiredItemsDeleted: 0,
      partitionsSkipped: 0,
      collectionsSkipped: 0,
      errors: 0,
    };
    // One failing partition (or topic) must not hold up the others: note it and go on.
    const guarded = async (work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        report.errors++;
        report.firstError ??= error instanceof Error ? error.message : String(error);
      }
    };
    let trimmed = 0n;
    for (const topic of await this.#deps.topics.list()) {
      report.topics++;
      const settings = this.#settingsKey(topic);
      const passes: Array<PartitionPass | undefined> = Array.from({ length: topic.partitions }, () => undefined);
      await mapConcurrent(range(topic.partitions), PARTITION_CONCURRENCY, (partition) => guarded(async () => {
        report.partitions++;
        const pass = await this.#maintainPartition(topic, partition, settings, options, report);
        passes[partition] = pass;
        trimmed += pass.offsetsTrimmed;
      }));
      await guarded(async () => {
        const quiet = !options.full && passes.every((pass) => pass?.skipped);
        // A partition that failed before it said where its tail begins is read from its log start (0n).
        const partial = !options.full && !passes.some((pass) => pass?.fromLogStart);
        const collected = await this.#collectGarbage(topic, quiet, partial ? passes.map((pass) => pass?.tailFrom ?? 0n) : undefined);
        if (collected === undefined) report.collectionsSkipped++;
        else report.objectsDeleted += collected;
      });
    }
    await guarded(async () => {
      report.deletedTopicsPurged = await this.#purgeDeletedTopics();
      report.expiredItemsDeleted = (await this.#deps.metadata.deleteExpired?.(Math.floor(this.#deps.now() / 1000))) ?? 0;
    });
    report.offsetsTrimmed = trimmed.toString();
    return report;
  }

  /** Repair, retention and compaction of one partition, unless it is quiet (see the top of this file). */
  async #maintainPartition(topic: Topic, partition: number, settings: string, options: MaintenanceRunOptions, report: MaintenanceReport): Promise<PartitionPass> {
    const pk = partitionPk(topic.id, partition);
    const startedAt = this.#deps.now();
    const marked = await this.#mark(pk);
    const { mark } = marked;
    const tailFrom = mark?.settings === settings ? mark.sealedThrough : 0n;
    if (!options.full && this.#quiet(marked, settings, startedAt)) {
      report.partitionsSkipped++;
      return { skipped: true, fromLogStart: false, tailFrom, offsetsTrimmed: 0n };
    }
    // From the log start on a full pass, under new settings and at least every fullPassIntervalMs;
    // otherwise compaction's walk starts after the history it never rewrites.
    const fromLogStart = options.full === true || mark?.settings !== settings || startedAt - mark.fullAt >= this.#options.fullPassIntervalMs;
    const repaired = await this.#deps.log.repair(pk);
    report.gapsClosed += repaired.gapsClosed;
    const counted = !fromLogStart && mark?.retained ? { ...mark.retained, through: mark.sealedThrough } : undefined;
    const retained = await this.#applyRetention(topic, pk, counted);
    report.entriesExpired += retained.entriesExpired;
    // Entries wholly below a log start that no walk meets: a start moved by a request (deleteRecords)
    // since the last pass, or retention's drops a crashed pass did not delete. Looked for once per move
    // and on walks from the log start, so a partition costs no Query for it otherwise.
    const clearing = fromLogStart || mark?.clearedBelow !== repaired.head.logStartOffset;
    const cleared = clearing ? await this.#clearBelowStart(pk, retained.logStartOffset) : undefined;
    report.entriesExpired += cleared?.deleted ?? 0;
    const compacted = await this.#compactor.compactPartition(topic, partition, fromLogStart ? 0n : tailFrom);
    report.segmentsWritten += compacted.segmentsWritten;
    report.segmentBytes += compacted.segmentBytes;
    report.entriesCompacted += compacted.entriesCompacted;
    report.leftoversDeleted += compacted.leftoversDeleted;
    await this.#markSuperseded(topic, [...retained.superseded, ...(cleared?.superseded ?? []), ...compacted.superseded]);
    // Before the mark: a crash here leaves the mark as it was, and the next pass extends the index.
    if (retained.offsetsTrimmed > 0n || cleared) await this.#timeIndex.trim(pk, retained.logStartOffset);
    if (fromLogStart || compacted.sealedThrough !== tailFrom) report.timeIndexPointsWritten += await this.#timeIndex.extend(pk, retained.logStartOffset, compacted.sealedThrough);
    const { head } = repaired;
    const settled = repaired.gapsClosed === 0 && head.highWatermark >= head.nextOffset && retained.settled && compacted.settled && cleared?.complete !== false;
    const retainedBytes = retained.retainedBytes(compacted.sealedThrough);
    // Nothing lies wholly below the log start this pass leaves if it cleared (or the last pass did at
    // the start this one began with) and retention deleted every entry it dropped.
    const clearedBelow = (cleared ? cleared.complete : !clearing) && retained.complete ? retained.logStartOffset : mark?.clearedBelow;
    const next: MaintainedMark = {
      settings,
      sealedThrough: compacted.sealedThrough,
      fullAt: fromLogStart ? startedAt : mark!.fullAt,
      ...(clearedBelow !== undefined ? { clearedBelow } : {}),
      ...(retainedBytes !== undefined ? { retained: { logStartOffset: retained.logStartOffset, bytes: retainedBytes } } : {}),
      // The head as repair read it, before this pass's walks: a reservation made since then is newer
      // than the mark, so the next pass looks.
      ...(settled ? { quiet: { nextOffset: head.nextOffset, logStartOffset: head.logStartOffset, dueAt: retained.dueAt } } : {}),
    };
    const item = maintainedToItem(pk, next);
    // Compared as stored, so a field added to the mark can never be left out of the comparison.
    if (!mark || itemToJson(maintainedToItem(pk, mark)) !== itemToJson(item)) await this.#deps.metadata.put(item);
    return { skipped: false, fromLogStart, tailFrom, offsetsTrimmed: retained.offsetsTrimmed };
  }

  /** The partition's head, stored watermark and mark, with one Query (the head item's read unit). */
  async #mark(pk: string): Promise<MarkedHead> {
    const items = await this.#deps.metadata.query(pk, { gte: HEAD_SK, lte: MAINTAINED_SK });
    const find = (sk: string) => items.find((item) => item.sk === sk);
    return { head: headFromItems(find(HEAD_SK), find(WATERMARK_SK)), mark: maintainedFromItem(find(MAINTAINED_SK)) };
  }

  /** Nothing a pass acts on can have changed since the mark was stored (see the top of this file). */
  #quiet({ head, mark }: MarkedHead, settings: string, now: number): boolean {
    const quiet = mark?.quiet;
    return (
      quiet !== undefined &&
      mark!.settings === settings &&
      head.nextOffset === quiet.nextOffset &&
      head.highWatermark >= head.nextOffset &&
      head.logStartOffset === quiet.logStartOffset &&
      (quiet.dueAt === 0 || now < quiet.dueAt) &&
      now - mark!.fullAt < this.#options.fullPassIntervalMs
    );
  }

  /** What a pass's decisions on a partition depend on besides its entries: a change makes every partition due. */
  #settingsKey(topic: Topic): string {
    const { retentionMs, retentionBytes } = topic.config;
    const { segmentBytes, minEntryAgeMs, tailQuietMs, maxTailEntries } = this.#options;
    return [retentionMs, retentionBytes, segmentBytes, minEntryAgeMs, tailQuietMs, maxTailEntries].join('/');
  }

  /**
   * Moves the log start past entries beyond retention (by time: every record older than retentionMs;
   * by size: the oldest entries while the partition holds more than retentionBytes), then deletes those
   * entries. The start moves first, so no reader is ever sent to a deleted entry.
   *
   * By time alone, entries are dropped oldest first up to the first one kept: the walk ends there, not
   * at the end of the log. By size, what the partition holds is `counted` (the previous pass's count
   * up to the end of the sealed segments, valid while the log start it was made at is still the log
   * start) plus the entries after it, so the walk from the log start again ends at the first entry
   * kept; without a valid count (a full pass, new settings, the log start moved by another pass) the
   * whole partition is summed, and the result says what the next pass may count on.
   */
  async #applyRetention(topic: Topic, pk: string, counted: CountedBytes | undefined): Promise<RetentionResult> {
    const { retentionMs, retentionBytes } = topic.config;
    const head = await this.#deps.log.readHead(pk);
    const nothingDropped = (dueAt: number, retainedBytes: RetentionResult['retainedBytes']): RetentionResult =>
      ({ offsetsTrimmed: 0n, entriesExpired: 0, logStartOffset: head.logStartOffset, settled: true, dueAt, superseded: [], complete: true, retainedBytes });
    if (retentionMs < 0 && retentionBytes < 0) return nothingDropped(0, () => undefined);
    const cutoff = this.#deps.now() - retentionMs;
    const expired = (entry: LogEntry) => entry.aborted || (retentionMs >= 0 && entry.maxTimestamp < cutoff);
    const count = retentionBytes >= 0 && counted?.logStartOffset === head.logStartOffset ? counted : undefined;
    // Entries below the log start are gone or going (retention moves the start first): never counted.
    const tail = count ? await this.#entriesBelow(pk, count.through > head.logStartOffset ? count.through : head.logStartOffset, head.highWatermark) : [];
    let entries: LogEntry[];
    let total: number;
    if (retentionBytes < 0 || count) {
      total = count ? count.bytes + bytesOf(tail) : 0;
      // Walks in the order the drops below are decided, and ends at the first entry they keep.
      let remaining = total;
      let expiring = true;
      entries = await this.#entriesBelow(pk, head.logStartOffset, head.highWatermark, (entry) => {
        if (expiring && expired(entry)) {
          remaining -= entry.length;
          return false;
        }
        expiring = false;
        if (retentionBytes >= 0 && remaining > retentionBytes) {
          remaining -= entry.length;
          return false;
        }
        return true;
      });
    } else {
      entries = await this.#entriesBelow(pk, head.logStartOffset, head.highWatermark);
      total = bytesOf(entries);
    }
    let drop = 0;
    while (drop < entries.length && expired(entries[drop])) drop++;
    if (retentionBytes >= 0) {
      let bytes = total - bytesOf(entries.slice(0, drop));
      while (drop < entries.length && bytes > retentionBytes) bytes -= entries[drop++].length;
    }
    const newStart = drop > 0 ? entries[drop - 1].end : head.logStartOffset;
    // The bytes from the new log start to `sealedThrough` (compaction's, after this): the next pass's count.
    const retainedBytes = (sealedThrough: bigint): number | undefined => {
      if (retentionBytes < 0) return undefined;
      const below = (list: readonly LogEntry[]) => bytesOf(list.filter((entry) => entry.end > newStart && entry.end <= sealedThrough));
      if (!count) return below(entries);
      return count.bytes - bytesOf(entries.slice(0, drop).filter((entry) => entry.end <= count.through)) + below(tail);
    };
    if (drop === 0) {
      // Entries expire oldest first: the next drop is due when the oldest one kept passes the bound.
      return nothingDropped(retentionMs >= 0 && entries.length > 0 ? entries[0].maxTimestamp + retentionMs + 1 : 0, retainedBytes);
    }
    await this.#deps.log.moveLogStart(pk, newStart);
    let deleted = 0;
    const superseded: string[] = [];
    for (const entry of entries.slice(0, drop)) {
      try {
        await this.#deps.metadata.delete(pk, entrySk(entry.start), { where: [{ attr: 'end', op: '=', value: entry.end }] });
        deleted++;
        superseded.push(...segmentObjectsOf([entry]));
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
    }
    return { offsetsTrimmed: newStart - head.logStartOffset, entriesExpired: deleted, logStartOffset: newStart, settled: false, dueAt: 0, superseded, complete: deleted === drop, retainedBytes };
  }

  /**
   * Deletes the entries that end at or below `logStart` (one Query when there are none). An entry
   * holding the log start stays: its later records are readable, and it goes once the start passes
   * its end. `complete`: every such entry was deleted (none was replaced meanwhile).
   */
  async #clearBelowStart(pk: string, logStart: bigint): Promise<{ deleted: number; superseded: string[]; complete: boolean }> {
    let deleted = 0;
    let complete = true;
    const superseded: string[] = [];
    let from = ENTRY_SK_PREFIX;
    for (;;) {
      const page = (await this.#deps.metadata.query(pk, { gte: from, lt: entrySk(logStart), limit: CLEAR_PAGE })).map(entryFromItem);
      for (const entry of page) {
        if (entry.end > logStart) continue;
        try {
          await this.#deps.metadata.delete(pk, entrySk(entry.start), { where: [{ attr: 'end', op: '=', value: entry.end }] });
          deleted++;
          superseded.push(...segmentObjectsOf([entry]));
        } catch (error) {
          if (!(error instanceof ConditionFailedError)) throw error;
          complete = false;
        }
      }
      if (page.length < CLEAR_PAGE) return { deleted, superseded, complete };
      from = entrySk(page[page.length - 1].start + 1n);
    }
  }

  /**
   * Live entries (not inside an earlier one) from `from` below `below`, up to and including the first
   * that is `last`. The first is the one holding `from` when the log start lies inside an entry.
   */
  async #entriesBelow(pk: string, from: bigint, below: bigint, last?: (entry: LogEntry) => boolean): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    let next = from;
    for (let first = true; ; first = false) {
      // A walk that ends at `last` usually ends on its first entries: small pages, not 100 entries' read units.
      const limit = last ? RETENTION_PAGE : undefined;
      const page = first ? await this.#deps.log.entriesHolding(pk, next, below, limit) : await this.#deps.log.entriesFrom(pk, next, limit);
      for (const entry of page) {
        if (entry.start >= below) return out;
        if (entry.start >= next || (first && entry.end > next && out.length === 0)) {
          out.push(entry);
          if (last?.(entry)) return out;
        }
        next = entry.end > next ? entry.end : next;
      }
      if (page.length === 0) return out;
    }
  }

  /**
   * Marks segment and index objects whose entry was just replaced or deleted, as if a sweep had seen
   * them unreferenced now (an earlier mark is kept): the partial sweep never lists segments, so this
   * is how it learns of them. A crash before this leaves them to the next full sweep.
   */
  async #markSuperseded(topic: Topic, keys: readonly string[]): Promise<void> {
    const pk = gcPk(topic.id);
    const time = BigInt(this.#deps.now());
    for (const key of keys) {
      try {
        await this.#deps.metadata.put({ pk, sk: key, firstSeenAt: time }, { itemExists: false });
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
    }
  }

  /**
   * Mark and sweep of the topic's objects; undefined when `quiet` (every partition skipped) and
   * nothing is pending (no mark, no young unreferenced object seen last time): then nothing new can
   * be unreferenced but the safety net's cases (see the top of this file).
   *
   * With `tailFrom` (no partition was walked from its log start this pass) the sweep is partial and
   * reads the topic's recent part only: it lists `ingest/` (ingest objects are compacted away within
   * minutes) and judges them against the entries from each partition's tailFrom — an entry before
   * it is a sealed segment or aborted, never an ingest range, and is never rewritten — and it judges
   * marked segment and index objects (compaction and retention mark what they supersede) by the one
   * entry that could name each, at the start offset in its key. Without `tailFrom` it lists and walks
   * everything, which also finds what nobody marked: orphans of crashed compactions.
   */
  async #collectGarbage(topic: Topic, quiet: boolean, tailFrom: readonly bigint[] | undefined): Promise<number | undefined> {
    const { objects, metadata, now } = this.#deps;
    const pk = gcPk(topic.id);
    const items = await metadata.query(pk);
    if (quiet && items.length === 0) return undefined;
    const sawYoung = items.some((item) => item.sk === GC_YOUNG_SK);
    const marks = new Map(items.filter((item) => item.sk !== GC_YOUNG_SK).map((item) => [item.sk, Number(item.firstSeenAt)]));
    const referenced = new Set<string>();
    for (const partition of range(topic.partitions)) {
      const partitionKey = partitionPk(topic.id, partition);
      let after = tailFrom?.[partition] ? entrySk(tailFrom[partition] - 1n) : ENTRY_SK_PREFIX;
      for (;;) {
        const page = await metadata.query(partitionKey, { gt: after, lt: ENTRY_SK_END, limit: 500 });
        for (const item of page) {
          if (typeof item.objectKey === 'string' && item.objectKey) referenced.add(item.objectKey);
          if (typeof item.indexKey === 'string') referenced.add(item.indexKey);
        }
        if (page.length < 500) break;
        after = page[page.length - 1].sk;
      }
    }
    const doomed: string[] = [];
    const time = now();
    let young = false;
    for await (const object of objects.list(tailFrom ? ingestObjectPrefix(topic.id) : topicObjectPrefix(topic.id))) {
      const seenAt = marks.get(object.key);
      marks.delete(object.key);
      if (referenced.has(object.key)) {
        if (seenAt !== undefined) await metadata.delete(pk, object.key);
        continue;
      }
      if (time - object.lastModified < this.#options.minObjectAgeMs) {
        young = true;
        continue;
      }
      if (seenAt === undefined) await metadata.put({ pk, sk: object.key, firstSeenAt: BigInt(time) });
      else if (time - seenAt >= this.#options.gcGraceMs) doomed.push(object.key);
    }
    const forgotten: string[] = [];
    for (const [key, seenAt] of marks) {
      // In the listed range but not listed: gone already.
      if (!tailFrom || key.startsWith(ingestObjectPrefix(topic.id))) {
        forgotten.push(key);
        continue;
      }
      const segment = parseSegmentObjectKey(key);
      if (!segment) continue; // nothing a partial sweep judges: left to the next full one
      if (await this.#named(topic, segment, key)) forgotten.push(key);
      else if (time - seenAt >= this.#options.gcGraceMs) doomed.push(key);
    }
    await objects.delete(doomed);
    for (const key of [...doomed, ...forgotten]) await metadata.delete(pk, key);
    if (young && !sawYoung) await metadata.put({ pk, sk: GC_YOUNG_SK, seenAt: BigInt(time) });
    if (!young && sawYoung) await metadata.delete(pk, GC_YOUNG_SK);
    return doomed.length;
  }

  /** Whether the entry at the segment's start (the only one that can name it) names `key`. */
  async #named(topic: Topic, segment: { partition: number; start: bigint }, key: string): Promise<boolean> {
    if (segment.partition >= topic.partitions) return false;
    const item = await this.#deps.metadata.get(partitionPk(topic.id, segment.partition), entrySk(segment.start));
    return item !== undefined && (item.objectKey === key || item.indexKey === key);
  }

  /** Deletes the metadata and objects of topics deleted longer ago than the grace period. */
  async #purgeDeletedTopics(): Promise<number> {
    const { objects, metadata, now } = this.#deps;
    let purged = 0;
    for (const tombstone of await metadata.query(DELETED_TOPICS_PK)) {
      if (now() - Number(tombstone.deletedAt) < this.#options.gcGraceMs) continue;
      const topicId = tombstone.sk;
      for (const partition of range(Number(tombstone.partitions))) {
        const pk = partitionPk(topicId, partition);
        for (;;) {
          const items = await metadata.query(pk, { limit: 500 });
          await Promise.all(items.map((item) => metadata.delete(pk, item.sk)));
          if (items.length < 500) break;
        }
      }
      for (;;) {
        const marks = await metadata.query(gcPk(topicId), { limit: 500 });
        await Promise.all(marks.map((item) => metadata.delete(item.pk, item.sk)));
        if (marks.length < 500) break;
      }
      const keys: string[] = [];
      for await (const object of objects.list(topicObjectPrefix(topicId))) keys.push(object.key);
      await objects.delete(keys);
      await metadata.delete(DELETED_TOPICS_PK, topicId);
      purged++;
    }
    return purged;
  }
}

function bytesOf(entries: readonly LogEntry[]): number {
  return entries.reduce((n, entry) => n + entry.length, 0);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
