/**
 * Appending to a topic. One produce request = one ingest object holding the batches of every partition
 * it touched (shared with the requests of the topic that arrived while the previous object was being
 * written: ingest-writer.ts; the request's parts are then its byte ranges in that object), then per
 * partition: reserve offsets (the one write to the partition head), write the log
 * entry — from then on readers see it — and, for one reservation in DEFAULTS.watermarkAdvanceEveryReservations
 * or after an idle spell, advance the stored high watermark (PartitionLog.publish).
 * A partition's batches of at most inlineMaxBytes (DEFAULTS.inlineMaxBytes: the price arithmetic) are
 * not put in the object but in the log entry item itself, so the object holds only the larger parts,
 * and a request whose every part is inline writes no object at all. The acknowledgement is sent only
 * after all of that, so an acknowledged record is durable in both stores, or (inline) in the metadata
 * store with its offsets (invariant 1).
 *
 * Idempotent produce (Idempotency-Key) keeps an intent item per key:
 *   0. read the intent, and resume from it if an earlier attempt created one (skipped when every part
 *      is inline: step 2 finds it then, and no object was written in vain)
 *   1. PUT the object (a fresh key per attempt; skipped when every part is inline), then reserve
 *      offsets (one write to each partition head; after the PUT, so that a failed PUT leaves no gap)
 *   2. create the intent {object, byte ranges, which parts are inline, the reservations} if absent; if
 *      present, adopt its object, its split and its reservations, and fence our own (our object is an
 *      orphan)
 *   3. write the entries; an entry already written by another attempt of this intent counts as written;
 *      a range lost to a reader's fence is reserved again and recorded in the intent by compare-and-set
 *      (a racing attempt that loses adopts the winner's reservations and fences its own)
 * and answers. No commit mark: a retry asks the log what became of the recorded ranges (#settle), so
 * the acknowledgement of a small keyed request waits for three sequential round trips (reserve, intent,
 * entry), not five. A crash after any step leaves either nothing visible or an intent that the retry
 * resumes, so the records become visible exactly once (invariants 3 and 4); a retry that comes after
 * retention may have deleted the records is refused rather than guessed at. The intent records which
 * parts are inline but not their bytes: every update of the intent would bill those bytes again
 * (DynamoDB bills an update by the item's size), and the retry carries them anyway — the request
 * fingerprint guarantees the same request, so each inline part is written from the attempt that writes
 * its entry, and an entry already written by an earlier attempt is kept (only one attempt's entry exists
 * per range).
 */
import { parseWithBigints, stringifyWithBigints } from '../json-bigint.ts';
import { SluiceError, ConditionFailedError } from '../errors.ts';
import { DEFAULTS } from '../defaults.ts';
import { sha256Hex } from '../hash.ts';
import { EXPIRES_AT, type MetadataStore, type ObjectStore } from '../storage/ports.ts';
import { IngestWriter } from './ingest-writer.ts';
import { INTENT_SK, ingestObjectTime, intentPk, partitionPk, stringAttr, bigintAttr } from './layout.ts';
import type { PartitionLog, Reservation } from './partition-log.ts';
import type { Topic } from './topics.ts';
import { iterateBatches, stampLogAppendTime } from '../protocol/record-batch.ts';

/** The batches of one partition in a produce request (Kafka RecordBatch v2, back to back). */
export interface PartitionAppend {
  readonly partition: number;
  readonly data: Uint8Array;
  readonly recordCount: number;
  readonly maxTimestamp: number;
}

/**
 * A LogAppendTime topic's appends (Kafka's message.timestamp.type): every batch stamped in place with
 * the append time (the timestamp-type bit and MaxTimestamp, CRC rewritten), so readers see that time
 * on each record, and the log entry carries it for retention, searches by time and the throughput
 * route. The caller's bytes change: the produce route has taken the Idempotency-Key fingerprint of
 * the body before, so a retry of the same body is still the same request.
 */
export function stampAppendTime(appends: readonly PartitionAppend[], now: number): PartitionAppend[] {
  return appends.map((append) => {
    for (const { position } of iterateBatches(append.data)) stampLogAppendTime(append.data, position, now);
    return { ...append, maxTimestamp: now };
  });
}

export interface AppendResult {
  readonly partition: number;
  readonly baseOffset: bigint;
  readonly recordCount: number;
}

export interface IdempotencyOptions {
  /** Client-chosen key; a retry with the same key appends nothing new. */
  readonly key: string;
  /** Digest of the request, so a key reused for a different request is refused rather than confused. */
  readonly fingerprint: string;
  /**
   * The client says an earlier attempt may have reached the server (Sluice-Attempt ≥ 2): the intent
   * is looked for before anything is reserved, as for requests with an object, so a retry of a request
   * that was appended reserves (and fences) nothing.
   */
  readonly retry?: boolean;
  /**
   * For records the server placed (JSON: keys hashed, unkeyed ones sent together): the request's
   * appends as placed over `partitions` partitions. A retry after partitions were added is placed over
   * the count its first attempt used (kept in the intent), so it is the same request and is answered
   * as one; without this, the new placement would not match the first attempt's and be refused.
   */
  readonly placeOver?: (partitions: number) => readonly PartitionAppend[];
}

/**
 * Named points where tests inject crashes: the step that has just completed. 'object-written' also
 * passes when the request needed no object (every part inline); 'watermark-advanced' passes after the
 * watermark step, which writes only when the reservation was elected to advance it (a crash before it
 * leaves the records readable all the same: readers walk past the stored watermark).
 */
export type ProduceStep = 'object-written' | 'intent-written' | 'offsets-reserved' | 'reservations-recorded' | 'entry-written' | 'watermark-advanced';

export interface ProducerDeps {
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  readonly log: PartitionLog;
  readonly now: () => number;
  readonly idempotencyTtlMs?: number;
  readonly objectCommitWindowMs?: number;
  /** A partition's batches up to this size go in its log entry, not the object. @default DEFAULTS.inlineMaxBytes */
  readonly inlineMaxBytes?: number;
  /**
   * Concurrent requests of a topic share one ingest object (ingest-writer.ts: one put per group
   * instead of one per request). @default true
   */
  readonly coalesceIngestObjects?: boolean;
  /** Test hook: awaited just before each ingest object put, with the number of requests sharing it (throws: a failed put). */
  readonly beforeIngestPut?: (requests: number) => void | Promise<void>;
  /** Called after each step; a test hook that throws here simulates a crash. */
  readonly afterStep?: (step: ProduceStep) => void | Promise<void>;
  /** Called when a partition's high watermark may have moved (wakes long polls in this process). */
  readonly onAppend?: (pk: string) => void;
}

interface Part {
  readonly partition: number;
  /** Stored in the log entry itself; position is then 0, and the bytes come with the request. */
  readonly inline?: boolean;
  readonly position: number;
  readonly length: number;
  readonly count: number;
  readonly maxTimestamp: number;
}

interface Intent {
  readonly pk: string;
  readonly version: bigint;
  readonly state: 'pending' | 'committed';
  readonly fingerprint: string;
  /** '' when every part is inline. */
  readonly objectKey: string;
  readonly parts: readonly Part[];
  readonly reservations: Readonly<Record<number, Reservation>>;
  /** The partition count the server placed the first attempt's records over (IdempotencyOptions.placeOver); absent for requests the client placed. */
  readonly placedOver?: number;
}

/** A range this attempt reserved. */
interface Owned {
  readonly partition: number;
  readonly reservation: Reservation;
}

const MAX_ATTEMPTS = 6;

export class Producer {
  readonly #deps: ProducerDeps;
  readonly #ingest: IngestWriter;
  /** Errors thrown by the afterStep hook: simulated crashes, after which nothing may run. */
  readonly #crashes = new WeakSet<object>();

  constructor(deps: ProducerDeps) {
    this.#deps = deps;
    this.#ingest = new IngestWriter({ objects: deps.objects, now: deps.now, coalesce: deps.coalesceIngestObjects, beforeGroupPut: deps.beforeIngestPut });
  }

  async append(topic: Topic, appends: readonly PartitionAppend[], idempotency?: IdempotencyOptions): Promise<AppendResult[]> {
    if (appends.length === 0) return [];
    // Every range this attempt reserves. When the attempt fails before it settles them (an error from
    // the store, not a crash), they are fenced on the way out, so that readers need not wait for them to
    // time out. That is safe whatever happened: fencing is a conditional put at the entry's own key, so
    // an entry already written there stays, and an attempt that later finds its range fenced reserves
    // again (writeEntry: 'lost').
    const owned: Owned[] = [];
    try {
      return await this.#append(topic, appends, idempotency, owned);
    } catch (error) {
      if (owned.length > 0 && !this.#crashes.has(error as object)) await this.#abandon(topic, owned);
      throw error;
    }
  }

  async #append(topic: Topic, appends: readonly PartitionAppend[], idempotency: IdempotencyOptions | undefined, owned: Owned[]): Promise<AppendResult[]> {
    const byPartition = new Map(appends.map((append) => [append.partition, append]));
    const inlineMaxBytes = this.#deps.inlineMaxBytes ?? DEFAULTS.inlineMaxBytes;
    const isInline = (append: PartitionAppend) => append.data.length <= inlineMaxBytes;
    // A request with an object to write looks for an earlier attempt's intent first, so that a retry of
    // a committed request writes no orphan object (and reserves nothing). A request whose batches all go
    // inline writes no object, so it skips that read: creating its intent finds an earlier attempt's all
    // the same, and the SDK's default request (small, with a key) makes one sequential round trip less;
    // a retry that says so reads first, so that it reserves nothing when it finds the earlier attempt.
    const earlier = idempotency && (idempotency.retry || !appends.every(isInline)) ? await this.#readIntent(topic, idempotency) : undefined;
    if (earlier) return this.#resume(topic, byPartition, earlier, idempotency!, owned);

    // Offsets are reserved once the object is in, so that a failed PUT leaves no gap in the offsets.
    const { objectKey, parts } = await this.#writeObject(topic, appends, isInline);
    await this.#step('object-written');
    const reservations = await this.#reserve(topic, parts, owned);
    await this.#step('offsets-reserved');
    if (!idempotency) return this.#commit(topic, objectKey, parts, byPartition, undefined, reservations, owned);
    const { intent, adopted } = await this.#createIntent(topic, idempotency, objectKey, parts, reservations);
    await this.#step('intent-written');
    if (adopted) {
      // Another attempt got there first: its object, split and reservations are used. Our ranges are
      // fenced at once (readers would otherwise wait for them to time out), and our object, if any, is
      // an orphan that maintenance sweeps (the produce path has no delete permission).
      await this.#abandon(topic, owned.splice(0));
      return this.#resume(topic, byPartition, intent, idempotency, owned);
    }
    await this.#step('reservations-recorded');
    return this.#commit(topic, objectKey, parts, byPartition, intent, intent.reservations, owned, idempotency.key);
  }

  /**
   * Goes on from an earlier attempt's intent: its split and its reservations — already written
   * (answered as they are), or still to be written (from its object, rewritten when stale).
   */
  async #resume(topic: Topic, appends: ReadonlyMap<number, PartitionAppend>, intent: Intent, idempotency: IdempotencyOptions, owned: Owned[]): Promise<AppendResult[]> {
    const { key, placeOver } = idempotency;
    if (placeOver && intent.placedOver !== undefined && intent.placedOver !== topic.partitions) {
      appends = new Map(placeOver(intent.placedOver).map((append) => [append.partition, append])); // partitions were added since
    }
    if (intent.state === 'committed') return resultsOf(intent); // marked by versions that wrote a commit mark
    checkSameRequest(intent.parts, [...appends.values()]);
    const settled = await this.#settle(topic, intent, key);
    if (settled.written) return resultsOf(settled.intent);
    intent = settled.intent;
    if (this.#stale(intent.objectKey)) {
      // A retry long after the first attempt: that object may already be collected as an orphan, so
      // this attempt writes its own (identical request, so identical records) and points the intent at
      // it. The split into inline and object parts stays the intent's.
      const inlineInIntent = new Set(intent.parts.filter((part) => part.inline).map((part) => part.partition));
      const fresh = await this.#writeObject(topic, [...appends.values()], (append) => inlineInIntent.has(append.partition));
      intent = await this.#update(intent, { objectKey: fresh.objectKey, parts: JSON.stringify(fresh.parts) }, { ...intent, ...fresh });
      if (intent.state === 'committed') return resultsOf(intent);
      checkSameRequest(intent.parts, [...appends.values()]);
    }
    return this.#commit(topic, intent.objectKey, intent.parts, appends, intent, intent.reservations, owned, key);
  }

  /**
   * What became of the reservations an earlier attempt recorded. Nothing marks an intent done (that
   * write would be one more round trip before every acknowledgement), so a retry asks the log
   * (PartitionLog.fate): when an entry holds every range, that attempt's records are in and are
   * answered as they are (`written`). A range the log start has passed was decided and then deleted
   * by retention or deleteRecords: if only aborted ranges can have gone that way (no size bound, the
   * records are younger than the time bound, and deleteRecords never asked for a start past it) it is
   * let go and reserved afresh; otherwise the outcome can no longer be told, and the key is refused
   * rather than risk appending twice. Open or aborted ranges are left to #commit. Only retries pay
   * these reads.
   */
  async #settle(topic: Topic, intent: Intent, key: string): Promise<{ intent: Intent; written: boolean }> {
    const recorded = intent.parts.filter((part) => intent.reservations[part.partition]);
    if (recorded.length === 0) return { intent, written: false };
    const fates = await Promise.all(recorded.map((part) => this.#deps.log.fate(partitionPk(topic.id, part.partition), intent.reservations[part.partition])));
    if (recorded.length === intent.parts.length && fates.every((fate) => fate === 'written')) return { intent, written: true };
    const dropped = recorded.filter((_, i) => fates[i] === 'dropped' || fates[i] === 'deleted');
    if (dropped.length === 0) return { intent, written: false };
    const deletedByRequest = new Set(recorded.filter((_, i) => fates[i] === 'deleted'));
    if (dropped.some((part) => this.#couldHaveDeleted(topic, part, deletedByRequest.has(part)))) {
      throw unknowableOutcome(key, dropped.map((part) => part.partition), deletedByRequest.size > 0);
    }
    const kept = { ...intent.reservations };
    for (const part of dropped) delete kept[part.partition];
    return { intent: await this.#recordReservations(intent, kept), written: false };
  }

  /**
   * Whether the records of a range the log start passed may have been deleted written: deleteRecords
   * passed it, or the topic has a size bound, or its records are older than the time bound. Otherwise
   * only an aborted range can have gone that way.
   */
  #couldHaveDeleted(topic: Topic, part: Part, byDeleteRecords: boolean): boolean {
    const { retentionBytes, retentionMs } = topic.config;
    return byDeleteRecords || retentionBytes >= 0 || (retentionMs >= 0 && part.maxTimestamp < this.#deps.now() - retentionMs);
  }

  async #reserve(topic: Topic, parts: readonly Pick<Part, 'partition' | 'count'>[], owned: Owned[]): Promise<Record<number, Reservation>> {
    const fresh = await Promise.all(parts.map((part) => this.#deps.log.reserve(partitionPk(topic.id, part.partition), part.count)));
    parts.forEach((part, i) => owned.push({ partition: part.partition, reservation: fresh[i] }));
    return Object.fromEntries(parts.map((part, i) => [part.partition, fresh[i]]));
  }

  /** Fences reservations this attempt will not write, so readers move past them now. Best effort: a range left open is closed as stale later. */
  async #abandon(topic: Topic, ranges: readonly Owned[]): Promise<void> {
    await Promise.all(ranges.map(({ partition, reservation }) => this.#deps.log.abandon(partitionPk(topic.id, partition), reservation).catch(() => undefined)));
  }

  /**
   * Writes the ingest object of the parts that are not inline, and returns every part. No object
   * (key '') when every part is inline.
   */
  async #writeObject(topic: Topic, appends: readonly PartitionAppend[], isInline: (append: PartitionAppend) => boolean): Promise<{ objectKey: string; parts: Part[] }> {
    const sorted = [...appends].sort((a, b) => a.partition - b.partition);
    const parts: Part[] = [];
    const inObject: PartitionAppend[] = [];
    let position = 0;
    for (const append of sorted) {
      const part = { partition: append.partition, length: append.data.length, count: append.recordCount, maxTimestamp: append.maxTimestamp };
      if (isInline(append)) {
        parts.push({ ...part, inline: true, position: 0 });
        continue;
      }
      parts.push({ ...part, position });
      inObject.push(append);
      position += append.data.length;
    }
    if (inObject.length === 0) return { objectKey: '', parts };
    // The object may be shared with concurrent requests (ingest-writer.ts): this request's bytes start at `base`.
    const { objectKey, base } = await this.#ingest.write(topic.id, inObject.map((append) => append.data), position);
    if (base !== 0) return { objectKey, parts: parts.map((part) => (part.inline ? part : { ...part, position: part.position + base })) };
    return { objectKey, parts };
  }

  async #commit(
    topic: Topic,
    objectKey: string,
    parts: readonly Part[],
    appends: ReadonlyMap<number, PartitionAppend>,
    intent: Intent | undefined,
    initial: Readonly<Record<number, Reservation>>,
    owned: Owned[],
    idempotencyKey?: string,
  ): Promise<AppendResult[]> {
    let reservations: Record<number, Reservation> = { ...initial };
    for (let attempt = 0; ; attempt++) {
      if (attempt >= MAX_ATTEMPTS) {
        throw new SluiceError('UNAVAILABLE', 'could not commit the produce; retry with the same Idempotency-Key');
      }
      const missing = parts.filter((part) => !reservations[part.partition]);
      if (missing.length > 0) {
        if (missing.some((part) => !part.inline) && this.#stale(objectKey)) throw new SluiceError('UNAVAILABLE', 'the produce took too long to commit; retry with the same Idempotency-Key');
        const fresh = await this.#reserve(topic, missing, owned);
        await this.#step('offsets-reserved');
        const wanted = { ...reservations, ...fresh };
        if (intent) {
          intent = await this.#recordReservations(intent, wanted);
          // A racing attempt's reservations won: ours are fenced now.
          const unused = missing.filter((part) => intent!.reservations[part.partition]?.start !== fresh[part.partition].start);
          if (unused.length > 0) await this.#abandon(topic, unused.map((part) => ({ partition: part.partition, reservation: fresh[part.partition] })));
          if (intent.state === 'committed') return resultsOf(intent);
          reservations = { ...intent.reservations };
          await this.#step('reservations-recorded');
          continue; // re-check: a racing attempt's reservations may cover only some partitions
        }
        reservations = wanted;
      }

      const outcomes = await Promise.all(
        parts.map((part) => {
          const reservation = reservations[part.partition];
          const range = { start: reservation.start, end: reservation.end, aborted: false, reservedAt: reservation.reservedAt, previousReservedAt: reservation.previousReservedAt };
          if (part.inline) {
            // This attempt's own bytes of the part (the same request as the intent's, by its fingerprint).
            const { data, maxTimestamp } = appends.get(part.partition)!;
            return this.#deps.log.writeEntry(partitionPk(topic.id, part.partition), { ...range, objectKey: '', position: 0, length: data.length, maxTimestamp, inlineBatches: data });
          }
          return this.#deps.log.writeEntry(partitionPk(topic.id, part.partition), { ...range, objectKey, position: part.position, length: part.length, maxTimestamp: part.maxTimestamp });
        }),
      );
      await this.#step('entry-written');
      // A range the log start passed while this attempt was on its way: another attempt of the same
      // request may have written it before it was deleted. Reserving again could append it twice, so
      // where records could have been deleted there the key is refused, as a retry's #settle does.
      const passed = parts.filter((_, i) => outcomes[i] === 'dropped' || outcomes[i] === 'deleted');
      if (idempotencyKey !== undefined && passed.some((part) => this.#couldHaveDeleted(topic, part, outcomes[parts.indexOf(part)] === 'deleted'))) {
        // Below the log start nothing needs a fence (no reader goes there): leave them out of the abandon on the way out.
        const below = new Set(passed.map((part) => `${part.partition}\n${reservations[part.partition].start}`));
        for (let i = owned.length - 1; i >= 0; i--) if (below.has(`${owned[i].partition}\n${owned[i].reservation.start}`)) owned.splice(i, 1);
        throw unknowableOutcome(idempotencyKey, passed.map((part) => part.partition), outcomes.includes('deleted'));
      }
      const lost = parts.filter((_, i) => outcomes[i] !== 'written');
      if (lost.length === 0) break;
      // Those ranges are fenced off as aborted; reserve again for the lost partitions only.
      const kept = { ...reservations };
      for (const part of lost) delete kept[part.partition];
      if (intent) {
        intent = await this.#recordReservations(intent, kept);
        if (intent.state === 'committed') return resultsOf(intent);
        reservations = { ...intent.reservations };
      } else {
        reservations = kept;
      }
    }

    await Promise.all(
      parts.map(async (part) => {
        const pk = partitionPk(topic.id, part.partition);
        await this.#deps.log.publish(pk, reservations[part.partition]);
        this.#deps.onAppend?.(pk);
      }),
    );
    await this.#step('watermark-advanced');
    // No commit mark: a retry learns from the log that the entries are in (#settle).
    return parts.map((part) => ({ partition: part.partition, baseOffset: reservations[part.partition].start, recordCount: part.count }));
  }

  /** An ingest object too old to be referenced by a new entry (see DEFAULTS.objectCommitWindowMs). No object is never stale. */
  #stale(objectKey: string): boolean {
    if (objectKey === '') return false;
    const createdAt = ingestObjectTime(objectKey) ?? 0;
    return this.#deps.now() - createdAt > (this.#deps.objectCommitWindowMs ?? DEFAULTS.objectCommitWindowMs);
  }

  async #step(step: ProduceStep): Promise<void> {
    try {
      await this.#deps.afterStep?.(step);
    } catch (error) {
      // A test's crash: the attempt stops dead, with no cleanup on the way out.
      if (typeof error === 'object' && error !== null) this.#crashes.add(error);
      throw error;
    }
  }

  async #readIntent(topic: Topic, idempotency: IdempotencyOptions): Promise<Intent | undefined> {
    const pk = intentPk(topic.id, await sha256Hex(idempotency.key));
    const intent = parseIntent(pk, await this.#deps.metadata.get(pk, INTENT_SK));
    if (intent && intent.fingerprint !== idempotency.fingerprint) {
      throw new SluiceError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was already used for a different request', {
        details: { idempotencyKey: idempotency.key },
      });
    }
    return intent;
  }

  /** Creates the intent, or finds the one an earlier attempt created (`adopted`). */
  async #createIntent(
    topic: Topic,
    idempotency: IdempotencyOptions,
    objectKey: string,
    parts: readonly Part[],
    reservations: Readonly<Record<number, Reservation>>,
  ): Promise<{ intent: Intent; adopted: boolean }> {
    const pk = intentPk(topic.id, await sha256Hex(idempotency.key));
    const now = this.#deps.now();
    const ttlMs = this.#deps.idempotencyTtlMs ?? DEFAULTS.idempotencyTtlMs;
    try {
      await this.#deps.metadata.put(
        {
          pk,
          sk: INTENT_SK,
          version: 0n,
          state: 'pending',
          fingerprint: idempotency.fingerprint,
          objectKey,
          parts: JSON.stringify(parts),
          reservations: stringifyReservations(reservations),
          ...(idempotency.placeOver ? { placedOver: BigInt(topic.partitions) } : {}),
          createdAt: BigInt(now),
          // DynamoDB's TTL deletes the intent after this (seconds); local stores do it in maintenance.
          [EXPIRES_AT]: BigInt(Math.ceil((now + ttlMs) / 1000)),
        },
        { itemExists: false },
      );
      const placedOver = idempotency.placeOver ? { placedOver: topic.partitions } : {};
      return { intent: { pk, version: 0n, state: 'pending', fingerprint: idempotency.fingerprint, objectKey, parts, reservations, ...placedOver }, adopted: false };
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      const existing = await this.#readIntent(topic, idempotency);
      if (!existing) throw new SluiceError('UNAVAILABLE', 'idempotency intent vanished; retry', { cause: error });
      return { intent: existing, adopted: true };
    }
  }

  /** Compare-and-set of the intent's reservations. On a lost race, returns the winner's intent. */
  #recordReservations(intent: Intent, reservations: Record<number, Reservation>): Promise<Intent> {
    return this.#update(intent, { reservations: stringifyReservations(reservations) }, { ...intent, reservations });
  }

  /** Compare-and-set on the intent's version: `changed` on success, the winner's intent on a lost race. */
  async #update(intent: Intent, set: Record<string, string>, changed: Intent): Promise<Intent> {
    try {
      await this.#deps.metadata.update(intent.pk, INTENT_SK, { set, add: { version: 1n } }, { where: [{ attr: 'version', op: '=', value: intent.version }] });
      return { ...changed, version: intent.version + 1n };
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      const current = parseIntent(intent.pk, await this.#deps.metadata.get(intent.pk, INTENT_SK));
      if (!current) throw new SluiceError('UNAVAILABLE', 'idempotency intent vanished; retry', { cause: error });
      return current;
    }
  }
}

/**
 * The intent's parts describe this request: the same partitions with the same record counts (the
 * offsets were reserved by those counts, and inline parts are written from this request's bytes).
 * The fingerprint already says so; this refuses, rather than writes, anything else.
 */
function checkSameRequest(parts: readonly Part[], appends: readonly PartitionAppend[]): void {
  const counts = new Map(appends.map((append) => [append.partition, append.recordCount]));
  const same = parts.length === appends.length && parts.every((part) => counts.get(part.partition) === part.count);
  if (!same) throw new SluiceError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was already used for a request with other batches');
}

/** A keyed request whose earlier attempt's records may have been deleted: refused rather than risk appending it twice. */
function unknowableOutcome(key: string, partitions: readonly number[], byDeleteRecords: boolean): SluiceError {
  return new SluiceError(
    'IDEMPOTENCY_KEY_REUSED',
    byDeleteRecords
      ? 'the records where the request with this Idempotency-Key was placed were deleted (deleteRecords): whether it was appended can no longer be told; send it with a new key if it must be appended'
      : 'the request with this Idempotency-Key is older than the records the topic keeps: whether it was appended can no longer be told; send it with a new key if it must be appended',
    { details: { idempotencyKey: key, partitions: [...partitions] } },
  );
}

function resultsOf(intent: Intent): AppendResult[] {
  return intent.parts.map((part) => ({ partition: part.partition, baseOffset: intent.reservations[part.partition].start, recordCount: part.count }));
}

function stringifyReservations(reservations: Readonly<Record<number, Reservation>>): string {
  return stringifyWithBigints(reservations);
}

function parseReservations(text: string): Record<number, Reservation> {
  return parseWithBigints(text) as Record<number, Reservation>;
}

function parseIntent(pk: string, item: Record<string, unknown> | undefined): Intent | undefined {
  if (!item) return undefined;
  const reservations = parseReservations(stringAttr(item as never, 'reservations') ?? '{}');
  return {
    pk,
    version: bigintAttr(item as never, 'version'),
    state: stringAttr(item as never, 'state') === 'committed' ? 'committed' : 'pending',
    fingerprint: stringAttr(item as never, 'fingerprint') ?? '',
    objectKey: stringAttr(item as never, 'objectKey') ?? '',
    parts: JSON.parse(stringAttr(item as never, 'parts') ?? '[]') as Part[],
    reservations,
    ...(typeof item.placedOver === 'bigint' ? { placedOver: Number(item.placedOver) } : {}),
  };
}
