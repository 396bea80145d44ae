/**
 * The log protocol of one partition, over the metadata port, with single-item conditional writes only.
 *
 *  reserve      one atomic add on the head: nextOffset += count. The range is ours; nobody else gets it.
 *  writeEntry   conditional put of the entry at e#<start> (must not exist). Until it lands the range is
 *               a gap, and readers stop before it.
 *  advance      the high watermark moves over the contiguous prefix of entries, by compare-and-set on
 *               the head. Every writer advances after writing, so the last writer of a run carries it.
 *  closeGap     a gap whose newest possible reservation is older than abortReservationAfterMs is filled
 *               with an aborted entry, so readers move on. Writers never write an entry for a reservation
 *               older than reservationTimeoutMs (they fence it with an exact aborted entry and reserve
 *               again), and abortReservationAfterMs leaves a wide margin over that.
 */
import { ConditionFailedError } from '../errors.ts';
import type { MetadataStore } from '../storage/ports.ts';
import {
  ENTRY_SK_END,
  HEAD_SK,
  type LogEntry,
  type PartitionHead,
  entryFromItem,
  entrySk,
  entryToItem,
  headFromItem,
} from './layout.ts';

export interface Reservation {
  readonly start: bigint;
  readonly end: bigint;
  readonly reservedAt: number;
}

export type WriteOutcome =
  /** The entry is in the log (written now or by an earlier attempt of the same produce). */
  | 'written'
  /** The range can no longer hold this entry (aborted, or too old to write safely): reserve again. */
  | 'lost';

export interface PartitionLogOptions {
  readonly now: () => number;
  readonly reservationTimeoutMs: number;
  readonly abortReservationAfterMs: number;
}

const ENTRY_PAGE = 100;

export class PartitionLog {
  readonly #metadata: MetadataStore;
  readonly #options: PartitionLogOptions;

  constructor(metadata: MetadataStore, options: PartitionLogOptions) {
    this.#metadata = metadata;
    this.#options = options;
  }

  async readHead(pk: string): Promise<PartitionHead> {
    return headFromItem(await this.#metadata.get(pk, HEAD_SK));
  }

  async reserve(pk: string, count: number): Promise<Reservation> {
    const reservedAt = this.#options.now();
    const head = await this.#metadata.update(pk, HEAD_SK, {
      add: { nextOffset: BigInt(count) },
      set: { lastReservedAt: BigInt(reservedAt) },
    });
    const end = headFromItem(head).nextOffset;
    return { start: end - BigInt(count), end, reservedAt };
  }

  /**
   * Writes the entry for a reservation. A reservation past its write deadline is fenced instead: an
   * aborted entry of exactly its range, so that no other attempt of the same produce can write it later.
   */
  async writeEntry(pk: string, entry: LogEntry): Promise<WriteOutcome> {
    const expired = this.#options.now() - entry.reservedAt > this.#options.reservationTimeoutMs;
    const toWrite: LogEntry = expired ? { ...entry, aborted: true, objectKey: '', position: 0, length: 0 } : entry;
    try {
      await this.#metadata.put(entryToItem(pk, toWrite), { itemExists: false });
      return expired ? 'lost' : 'written';
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
    const existing = await this.#metadata.get(pk, entrySk(entry.start));
    if (!existing) return 'lost';
    const found = entryFromItem(existing);
    const same = !found.aborted && found.objectKey === entry.objectKey && found.position === entry.position && found.end === entry.end;
    return same ? 'written' : 'lost';
  }

  /** Entries starting at or after `from`, in offset order. */
  async entriesFrom(pk: string, from: bigint, limit = ENTRY_PAGE): Promise<LogEntry[]> {
    const items = await this.#metadata.query(pk, { gte: entrySk(from), lt: ENTRY_SK_END, limit });
    return items.map(entryFromItem);
  }

  /** The entry that holds `offset`: the last entry starting at or before it. */
  async entryAt(pk: string, offset: bigint): Promise<LogEntry | undefined> {
    const [item] = await this.#metadata.query(pk, { gte: 'e#', lte: entrySk(offset), reverse: true, limit: 1 });
    const entry = item ? entryFromItem(item) : undefined;
    return entry && entry.end > offset ? entry : undefined;
  }

  /**
   * Moves the high watermark over every contiguous entry after it. Returns the head as it stands
   * afterwards. Safe to call from any number of writers and readers at once.
   */
  async advanceHighWatermark(pk: string, head?: PartitionHead): Promise<PartitionHead> {
    let current = head ?? (await this.readHead(pk));
    for (let round = 0; round < 8; round++) {
      if (current.highWatermark >= current.nextOffset) return current;
      let next = current.highWatermark;
      for (;;) {
        const entries = await this.entriesFrom(pk, next);
        for (const entry of entries) {
          if (entry.start !== next) break;
          next = entry.end;
        }
        if (entries.length < ENTRY_PAGE || entries[entries.length - 1].end !== next) break;
      }
      if (next === current.highWatermark) return current;
      try {
        const item = await this.#metadata.update(
          pk,
          HEAD_SK,
          { set: { highWatermark: next } },
          { where: [{ anyOf: [{ attr: 'highWatermark', op: '=', value: current.highWatermark }, ...(current.highWatermark === 0n ? [{ attr: 'highWatermark', op: 'notExists' } as const] : [])] }] },
        );
        current = headFromItem(item);
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        current = await this.readHead(pk);
      }
    }
    return current;
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
    // Reservations are handed out in offset order, so every reservation in the gap is older than the
    // one that follows it (or than the head's last reservation when nothing follows).
    const newestReservation = following ? following.reservedAt : head.lastReservedAt;
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
