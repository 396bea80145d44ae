/**
 * The log protocol of one partition, over the metadata port, with single-item conditional writes only.
 *
 *  reserve      one atomic add on the head: nextOffset += count. The range is ours; nobody else gets it.
 *  writeEntry   conditional put of the entry at e#<start> (must not exist). Until it lands the range is
 *               a gap, and readers stop before it.
 *  readable     readers see the stored high watermark moved, in memory, over the contiguous entries
 *               written after it (readableHead). An entry is readable once it and every entry before it
 *               are written; nothing needs to be stored for that.
 *  advance      the stored watermark is a lower bound that saves readers the walk, kept in an item of
 *               its own beside the head (layout.ts WATERMARK_SK): it moves by one conditional write
 *               (never backwards) from the producer holding every
 *               watermarkAdvanceEveryReservations-th reservation, from the first producer after a
 *               partition was idle past abortReservationAfterMs (it also closes the stale gaps then), and
 *               from maintenance on every pass. So the head takes exactly one write per append (the
 *               reservation, an unconditional add: it cannot fail), and the watermark item
 *               1/watermarkAdvanceEveryReservations, whose condition fails only when two advances race
 *               (an elected producer and maintenance). Readers get both items with one Query.
 *  closeGap     a gap whose newest possible reservation is older than abortReservationAfterMs is filled
 *               with an aborted entry, so readers move on. Writers never write an entry for a reservation
 *               older than reservationTimeoutMs (they fence it with an exact aborted entry and reserve
 *               again), and abortReservationAfterMs leaves a wide margin over that.
 */
import { ConditionFailedError } from '../errors.ts';
import type { Condition, MetadataStore } from '../storage/ports.ts';
import {
  ENTRY_SK_END,
  HEAD_SK,
  WATERMARK_SK,
  type LogEntry,
  type PartitionHead,
  entryFromItem,
  entrySk,
  entryToItem,
  headFromItems,
} from './layout.ts';

export interface Reservation {
  readonly start: bigint;
  readonly end: bigint;
  readonly reservedAt: number;
  /** The head's lastReservedAt before this reservation (see LogEntry.previousReservedAt). */
  readonly previousReservedAt: number;
  /**
   * This producer advances the stored watermark after writing its entry (publish): it holds an
   * elected reservation, or the partition was idle. Absent in intents written before it existed.
   */
  readonly advancesWatermark?: boolean;
}

export type WriteOutcome =
  /** The entry is in the log (written now or by an earlier attempt of the same produce). */
  | 'written'
  /** The range can no longer hold this entry (aborted, or too old to write safely): reserve again. */
  | 'lost'
  /**
   * The log start has passed the range (retention, or deleteRecords for 'deleted'), and its entry was
   * deleted with what was below: an earlier attempt may have written it, which nothing shows any more.
   * The producer decides, as for a retry's `fate`, whether reserving again could append twice.
   */
  | 'dropped'
  | 'deleted';

export interface PartitionLogOptions {
  readonly now: () => number;
  readonly reservationTimeoutMs: number;
  readonly abortReservationAfterMs: number;
  /** See DEFAULTS.watermarkAdvanceEveryReservations. */
  readonly watermarkAdvanceEveryReservations: number;
}

const ENTRY_PAGE = 100;
/** Dead writers' gaps one producer closes before giving up to maintenance (bounds an append's writes). */
const MAX_GAPS_CLOSED_BY_PRODUCER = 4;

export class PartitionLog {
  readonly #metadata: MetadataStore;
  readonly #options: PartitionLogOptions;

  constructor(metadata: MetadataStore, options: PartitionLogOptions) {
    this.#metadata = metadata;
    this.#options = options;
  }

  /** The head and the stored watermark, with one Query (one read unit, like a get of the head alone). */
  async readHead(pk: string): Promise<PartitionHead> {
    const items = await this.#metadata.query(pk, { gte: HEAD_SK, lte: WATERMARK_SK });
    return headFromItems(
      items.find((item) => item.sk === HEAD_SK),
      items.find((item) => item.sk === WATERMARK_SK),
    );
  }

  async reserve(pk: string, count: number): Promise<Reservation> {
    const reservedAt = this.#options.now();
    const before = headFromItems(
      await this.#metadata.update(
        pk,
        HEAD_SK,
        { add: { nextOffset: BigInt(count), reservationCount: 1n }, set: { lastReservedAt: BigInt(reservedAt) } },
        undefined,
        // The reservation need not be durable by itself: nothing is acknowledged before the entry
        // written for it is, and on a store with one log that entry cannot be durable without it.
        { returnValues: 'old', durability: 'ordered' },
      ),
      undefined,
    );
    const every = BigInt(this.#options.watermarkAdvanceEveryReservations);
    const elected = before.reservationCount % every === every - 1n;
    // After a quiet spell nobody may come by to advance the watermark or close a dead writer's gap
    // for a while: the first producer does it (its own records must not wait for maintenance). The
    // head does not hold the watermark, so this costs the first append after every quiet spell one
    // watermark write, whether or not the watermark lagged. A fresh partition has nothing to catch up.
    const idle = before.nextOffset > 0n && reservedAt - before.lastReservedAt > this.#options.abortReservationAfterMs;
    return {
      start: before.nextOffset,
      end: before.nextOffset + BigInt(count),
      reservedAt,
      previousReservedAt: before.lastReservedAt,
      advancesWatermark: elected || idle,
    };
  }

  /**
   * After the reservation's entry is written (it is readable already through readableHead): advances
   * the stored watermark when this reservation is the one elected to (see the file comment), with one
   * conditional write that may fail silently (someone advanced it further), closing stale gaps on the
   * way. Otherwise writes nothing.
   */
  async publish(pk: string, reservation: Reservation): Promise<void> {
    if (!reservation.advancesWatermark) return;
    let head = await this.readHead(pk);
    for (let gapsClosed = 0; gapsClosed <= MAX_GAPS_CLOSED_BY_PRODUCER; gapsClosed++) {
      const next = await this.contiguousEnd(pk, head.highWatermark, head.nextOffset);
      if (next > head.highWatermark) {
        try {
          await this.#storeWatermark(pk, next);
          head = { ...head, highWatermark: next };
        } catch (error) {
          if (!(error instanceof ConditionFailedError)) throw error;
          return;
        }
      }
      if (head.highWatermark >= reservation.end || !(await this.closeStaleGap(pk, head))) return;
    }
  }

  /**
   * Stores `next` as the watermark, only forwards (ConditionFailedError when it already is at or past
   * `next`). Every caller computed `next` as the end of contiguous written entries, so any such value
   * is a correct lower bound whichever caller wins.
   */
  async #storeWatermark(pk: string, next: bigint): Promise<void> {
    await this.#metadata.update(pk, WATERMARK_SK, { set: { highWatermark: next } }, watermarkBelow(next));
  }

  /**
   * Writes the entry for a reservation. Only attempts of the one produce that reserved a range ever
   * write a data entry at its start, so a data entry found there is this produce's own. A reservation
   * past its write deadline is fenced instead: an aborted entry of exactly its range, so that no
   * attempt can write it later — unless an earlier attempt's entry already holds it (it may since
   * have been merged into a segment, so coverage is checked, not just the key).
   */
  async writeEntry(pk: string, entry: LogEntry): Promise<WriteOutcome> {
    const expired = this.#options.now() - entry.reservedAt > this.#options.reservationTimeoutMs;
    if (expired) {
      const covering = await this.entryAt(pk, entry.start);
      if (covering && !covering.aborted && covering.end >= entry.end) return 'written';
    }
    const toWrite: LogEntry = expired ? abortedRange(entry) : entry;
    try {
      await this.#metadata.put(entryToItem(pk, toWrite), { itemExists: false });
      if (!expired) return 'written';
      // The key was free: never written, or written and then deleted below a moved log start.
      const passed = await this.#passedBy(pk, entry);
      if (passed !== 'lost') await this.#metadata.delete(pk, entrySk(entry.start), { where: [{ attr: 'aborted', op: '=', value: true }] }).catch(() => {}); // our fence, below the start
      return passed;
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
    const existing = await this.#metadata.get(pk, entrySk(entry.start));
    if (existing) return existing.aborted !== true ? 'written' : 'lost';
    // Something was there and is gone: merged into a segment since (which then holds it), or deleted below a moved log start.
    const covering = await this.entryAt(pk, entry.start);
    if (covering && !covering.aborted && covering.end >= entry.end) return 'written';
    return this.#passedBy(pk, entry);
  }

  /** 'lost', unless the log start has passed the range: then what passed it ('dropped' by retention, 'deleted' by deleteRecords). */
  async #passedBy(pk: string, range: Pick<LogEntry, 'end'>): Promise<WriteOutcome> {
    const head = await this.readHead(pk);
    if (range.end > head.logStartOffset) return 'lost';
    return range.end <= head.recordsDeletedBefore ? 'deleted' : 'dropped';
  }

  /**
   * What became of a reservation an earlier attempt made (a retry asks before it writes): an entry
   * that is not aborted holds the whole range ('written': a data entry at a range only its reserver
   * writes, or a segment, which never spans an aborted range); the log start has passed it ('dropped':
   * retention deleted what held it, written or aborted — an open range stops the high watermark, and
   * retention works below it, so an open range is never dropped; 'deleted' when deleteRecords asked
   * for a start at or past its end, since that deletes written ranges whatever the topic's retention);
   * or neither ('open': not written, or aborted; writeEntry settles it).
   */
  async fate(pk: string, reservation: Pick<Reservation, 'start' | 'end'>): Promise<'written' | 'dropped' | 'deleted' | 'open'> {
    const covering = await this.entryAt(pk, reservation.start);
    if (covering) return !covering.aborted && covering.end >= reservation.end ? 'written' : 'open';
    const head = await this.readHead(pk);
    if (reservation.end > head.logStartOffset) return 'open';
    return reservation.end <= head.recordsDeletedBefore ? 'deleted' : 'dropped';
  }

  /**
   * Fences a reservation its producer will not write (it lost a race to another attempt of the same
   * request, or its object could not be written): an aborted entry of exactly its range, so readers
   * move on now instead of after abortReservationAfterMs. Only the reserver calls this, before it
   * wrote an entry, so nothing else can be at that key but an aborted entry of a reader's.
   */
  async abandon(pk: string, reservation: Reservation): Promise<void> {
    const { start, end, reservedAt, previousReservedAt } = reservation;
    try {
      await this.#metadata.put(entryToItem(pk, abortedRange({ start, end, reservedAt, previousReservedAt, maxTimestamp: 0 })), { itemExists: false });
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
  }

  /**
   * The entries a walk from `from` meets: those starting at or after it, preceded by the one that
   * holds `from` when it starts before (a log start moved into an entry by Engine.deleteRecords). The
   * extra Query is made only when the first entry found does not start at `from` and some entry may
   * hold it (below `below`), so a walk from an entry boundary costs what entriesFrom costs.
   */
  async entriesHolding(pk: string, from: bigint, below: bigint, limit = ENTRY_PAGE): Promise<LogEntry[]> {
    const entries = await this.entriesFrom(pk, from, limit);
    const first = entries[0];
    if (first?.start === from || from >= below) return entries;
    const holding = await this.entryAt(pk, from);
    return holding ? [holding, ...entries] : entries;
  }

  /**
   * Moves the log start up to `to`, never down, with one conditional write of the head (which the
   * produce path's unconditional reservations never fail). Readers are sent nowhere below it from then
   * on; the entries wholly below it are deleted afterwards, by retention for its own drops and by
   * maintenance's clearing for a start moved by a request.
   */
  async moveLogStart(pk: string, to: bigint, by: 'retention' | 'deleteRecords' = 'retention'): Promise<void> {
    try {
      await this.#metadata.update(pk, HEAD_SK, { set: by === 'deleteRecords' ? { logStartOffset: to, recordsDeletedBefore: to } : { logStartOffset: to } }, {
        where: [{ anyOf: [{ attr: 'logStartOffset', op: '<', value: to }, { attr: 'logStartOffset', op: 'notExists' }] }],
      });
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error; // moved as far or further meanwhile
    }
  }

  /** Entries starting at or after `from`, in offset order. */
  async entriesFrom(pk: string, from: bigint, limit = ENTRY_PAGE): Promise<LogEntry[]> {
    const items = await this.#metadata.query(pk, { gte: entrySk(from), lt: ENTRY_SK_END, limit });
    return items.map(entryFromItem);
  }

  /**
   * The live entries holding offsets from `from` (the first may start before it: a start inside an
   * entry costs one more Query) up to `below`, in offset order, a page at a time; entries inside an
   * earlier one are passed over. Pages of `pages.first` entries first, then `pages.rest` (default ENTRY_PAGE).
   */
  async *liveEntriesFrom(pk: string, from: bigint, below: bigint, pages: { readonly first?: number; readonly rest?: number } = {}): AsyncGenerator<LogEntry> {
    let next = from;
    let first = true;
    while (next < below) {
      const entries = await this.entriesFrom(pk, next, (first ? pages.first : undefined) ?? pages.rest);
      const covering = first && entries[0]?.start !== next ? await this.entryAt(pk, next) : undefined;
      first = false;
      if (entries.length === 0 && !covering) return;
      for (const entry of covering ? [covering, ...entries] : entries) {
        if (entry.start >= below) return;
        if (entry.end <= next) continue;
        next = entry.end;
        yield entry;
      }
      if (entries.length === 0) return;
    }
  }

  /** The entry that holds `offset`: the last entry starting at or before it. */
  async entryAt(pk: string, offset: bigint): Promise<LogEntry | undefined> {
    const [item] = await this.#metadata.query(pk, { gte: 'e#', lte: entrySk(offset), reverse: true, limit: 1 });
    const entry = item ? entryFromItem(item) : undefined;
    return entry && entry.end > offset ? entry : undefined;
  }

  /** The end of the run of contiguous entries starting exactly at `from`. Reads only; `walked`, when given, receives the run. */
  async contiguousEnd(pk: string, from: bigint, limit: bigint, walked?: LogEntry[]): Promise<bigint> {
    let next = from;
    while (next < limit) {
      const entries = await this.entriesFrom(pk, next);
      for (const entry of entries) {
        if (entry.start !== next) return next;
        walked?.push(entry);
        next = entry.end;
      }
      if (entries.length < ENTRY_PAGE) return next;
    }
    return next;
  }

  /**
   * The head as readers should see it: the stored high watermark moved, in memory only, over entries
   * already written after it. Readers never write, so a fetch needs no write permission.
   */
  async readableHead(pk: string): Promise<PartitionHead> {
    const head = await this.readHead(pk);
    if (head.nextOffset <= head.highWatermark) return head;
    return { ...head, highWatermark: await this.contiguousEnd(pk, head.highWatermark, head.nextOffset) };
  }

  /**
   * Moves the stored high watermark over every contiguous entry after it (forward-only write), stopping
   * early once it reaches `until`. Returns the head as it stands afterwards. Safe to call from any
   * number of writers at once.
   */
  async advanceHighWatermark(pk: string, until?: bigint): Promise<PartitionHead> {
    let current = await this.readHead(pk);
    for (let round = 0; round < 8; round++) {
      if (current.highWatermark >= (until ?? current.nextOffset)) return current;
      const next = await this.contiguousEnd(pk, current.highWatermark, current.nextOffset);
      if (next === current.highWatermark) return current;
      try {
        await this.#storeWatermark(pk, next);
        current = { ...current, highWatermark: next };
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        current = await this.readHead(pk);
      }
    }
    return current;
  }

  /**
   * Advances the high watermark (to `until`, or as far as it goes), closing stale gaps on the way
   * (writers and maintenance call this; readers do not). Returns the number of gaps closed.
   */
  async repair(pk: string, until?: bigint): Promise<{ head: PartitionHead; gapsClosed: number }> {
    let head = await this.advanceHighWatermark(pk, until);
    let gapsClosed = 0;
    while (head.highWatermark < (until ?? head.nextOffset) && (await this.closeStaleGap(pk, head))) {
      gapsClosed++;
      head = await this.advanceHighWatermark(pk, until);
    }
    return { head, gapsClosed };
  }

  /**
   * Fills the gap at the high watermark with an aborted entry when every reservation inside it is
   * older than abortReservationAfterMs. Returns true when it closed one.
   */
  async closeStaleGap(pk: string, head: PartitionHead): Promise<boolean> {
    if (head.highWatermark >= head.nextOffset) return false;
    const [following] = await this.entriesFrom(pk, head.highWatermark, 1);
    if (following?.start === head.highWatermark) return false;
    const gapEnd = following ? following.start : head.nextOffset;
    // Reservations are handed out in offset order: the newest one in the gap is the one just before the
    // following entry's (or the head's last reservation when nothing follows).
    const newestReservation = following ? following.previousReservedAt : head.lastReservedAt;
    if (this.#options.now() - newestReservation <= this.#options.abortReservationAfterMs) return false;
    const aborted: LogEntry = {
      start: head.highWatermark,
      end: gapEnd,
      aborted: true,
      objectKey: '',
      position: 0,
      length: 0,
      maxTimestamp: 0,
      reservedAt: newestReservation,
      previousReservedAt: newestReservation,
    };
    try {
      await this.#metadata.put(entryToItem(pk, aborted), { itemExists: false });
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }
}

/** An aborted entry of exactly `entry`'s range: no object, no bytes. */
function abortedRange(entry: Pick<LogEntry, 'start' | 'end' | 'maxTimestamp' | 'reservedAt' | 'previousReservedAt'>): LogEntry {
  const { start, end, maxTimestamp, reservedAt, previousReservedAt } = entry;
  return { start, end, aborted: true, objectKey: '', position: 0, length: 0, maxTimestamp, reservedAt, previousReservedAt };
}

/** Only forwards: the stored watermark is below `value` (or was never stored). */
function watermarkBelow(value: bigint): Condition {
  return { where: [{ anyOf: [{ attr: 'highWatermark', op: '<', value }, { attr: 'highWatermark', op: 'notExists' }] }] };
}
