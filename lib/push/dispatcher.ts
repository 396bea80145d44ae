/**
 * The dispatcher: delivers a push consumer's records to its target. It is the one member of the
 * consumer's group (static membership, instanceId `dispatcher`), so it claims partitions with the
 * same fenced protocol as any member: a dispatcher that started later replaces it at once, and from
 * then on every commit of the older one is refused (it stops there). Per partition, one batch is in
 * flight, records go in offset order, and the offset is committed after the target has taken them;
 * up to maxConcurrency partitions of a consumer are delivered in parallel.
 *
 * Per partition, one step:
 *   1. read the delivery state; in force only if its offset is the committed offset (layout.ts)
 *   2. a pending dead letter: append it again (idempotent: same key, same records), commit past it
 *   3. failing, or backing off: nothing now (the wake-up is scheduled for when the backoff ends)
 *   4. read records from the committed offset; a batch being retried keeps its end (same batchId)
 *   5. deliver; success → commit the batch's end; partial → commit up to the first failed record;
 *      failure → compare-and-set the state to what planner.decideAfterFailure says: a later attempt
 *      (backoff), a bisection, a dead letter, or `failing`
 * Nothing sleeps: backoff is a time in the table, acted on by the next wake-up (a timer locally, the
 * next append or the maintenance schedule in AWS).
 */
import { createHash } from 'node:crypto';
import { SluiceError } from '../errors.ts';
import { DEFAULTS } from '../defaults.ts';
import type { Groups } from '../groups/groups.ts';
import { batchesToJson } from '../http/json-records.ts';
import type { Engine } from '../log/engine.ts';
import { decodeRecordBatch, encodeRecordBatch, type ProducerRecord } from '../protocol/record-batch.ts';
import { defaultCodec } from '../protocol/compression.ts';
import type { Condition, Scalar } from '../storage/ports.ts';
import { isUrlTarget, type ConsumerConfig } from './config.ts';
import type { PushConsumers } from './consumers.ts';
import { consumerGroup, inForce, retryAttributes, stateFromItem, statePk, stateSk, type DeliveryState, type RetryFields } from './layout.ts';
import { batchIdOf, decideAfterFailure, deliveryBody, envelopeBytes, isFull, planBatch, type CandidateRecord } from './planner.ts';
import type { DeliveryOutcome, TargetFactory } from './targets.ts';
import type { AdvancedPartition } from '../trigger/append-trigger.ts';

/** Named points where tests crash (throw) or stall (await) the dispatcher: the step just completed. */
export type DispatchStep = 'joined' | 'delivered' | 'committed' | 'state-written' | 'dead-letter-planned' | 'dead-letters-appended';

export interface DispatcherOptions {
  readonly engine: Engine;
  readonly groups: Groups;
  readonly consumers: PushConsumers;
  readonly targets: TargetFactory;
  readonly now?: () => number;
  readonly random?: () => number;
  /** @default DEFAULTS.dispatcherSessionTimeoutMs */
  readonly sessionTimeoutMs?: number;
  /** Told when a partition of a consumer has work at a later time (a backoff, a batching window). */
  readonly scheduleWake?: (consumer: string, at: number) => void;
  /** No new batch is started after this time (a Lambda's remaining time). @default never */
  readonly deadline?: () => number;
  /** Test hook, called after each step; throwing simulates a crash there. */
  readonly afterStep?: (step: DispatchStep, detail: { readonly consumer: string; readonly partition?: number; readonly offset?: bigint }) => void | Promise<void>;
  readonly logError?: (message: string, error: unknown) => void;
}

interface Membership {
  readonly memberId: string;
  generation: number;
  confirmedAt: number;
  /** "topic\npartition" → next offset to deliver (the committed offset), null before the first. */
  readonly positions: Map<string, bigint | null>;
  /** Set when the group moved on (rebalance) or fenced this member: the run ends. */
  lost?: 'rebalance' | 'fenced';
}

interface PartitionRef {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly key: string;
}

type StepResult = 'more' | 'idle';

const FETCH_BYTES = 1024 * 1024;
const DISPATCHER_INSTANCE = 'dispatcher';

class Fenced extends Error {}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #sessionTimeoutMs: number;
  readonly #members = new Map<string, Membership>();
  readonly #runs = new Map<string, { running: Promise<void>; again: boolean }>();
  /** When this dispatcher first saw a partition's next record waiting (batching windows). */
  readonly #firstSeen = new Map<string, { offset: bigint; at: number }>();
  #closed = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULTS.dispatcherSessionTimeoutMs;
  }

  /** New records in these partitions: runs the consumers of their topics. */
  async wake(advanced: readonly AdvancedPartition[]): Promise<void> {
    if (advanced.length === 0) return;
    const topicIds = new Set(advanced.map((a) => a.topicId));
    const consumers = await this.#o.consumers.list();
    const woken: string[] = [];
    for (const consumer of consumers) {
      for (const name of consumer.config.topics) {
        const topic = await this.#o.engine.topics.get(name).catch(() => undefined);
        if (topic && topicIds.has(topic.id)) {
          woken.push(consumer.config.name);
          break;
        }
      }
    }
    await Promise.all(woken.map((name) => this.run(name)));
  }

  /** Every consumer: after a restart, and on the schedule that catches retries falling due. */
  async runAll(): Promise<void> {
    const consumers = await this.#o.consumers.list();
    await Promise.all(consumers.map((c) => this.run(c.config.name)));
  }

  /** Runs one consumer until it has nothing to do now. Wake-ups during a run make it run once more. */
  run(name: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const current = this.#runs.get(name);
    if (current) {
      current.again = true;
      return current.running;
    }
    const entry = { running: Promise.resolve(), again: false };
    entry.running = (async () => {
      try {
        do {
          entry.again = false;
          await this.#runOnce(name).catch((error: unknown) => this.#o.logError?.(`push consumer ${name}: run failed`, error));
        } while (entry.again && !this.#closed && !this.#pastDeadline());
      } finally {
        this.#runs.delete(name);
      }
    })();
    this.#runs.set(name, entry);
    return entry.running;
  }

  /** Stops taking work and waits for the runs in flight (each ends after its batch in flight). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#runs.values()].map((r) => r.running));
  }

  /** The member id this dispatcher holds for a consumer (tests and diagnostics). */
  memberOf(name: string): string | undefined {
    return this.#members.get(name)?.memberId;
  }

  async #runOnce(name: string): Promise<void> {
    let consumer;
    try {
      consumer = await this.#o.consumers.get(name);
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'CONSUMER_NOT_FOUND') {
        this.#members.delete(name);
        return;
      }
      throw error;
    }
    if (consumer.paused) return;
    const membership = await this.#membership(consumer.config);
    if (!membership) return;
    const refs: PartitionRef[] = [];
    for (const key of membership.positions.keys()) {
      const [topic, partition] = key.split('\n');
      const found = await this.#o.engine.topics.get(topic).catch(() => undefined);
      if (found) refs.push({ topic, topicId: found.id, partition: Number(partition), key });
    }
    const secret = await this.#o.consumers.secretOf(consumer);
    let next = 0;
    const worker = async () => {
      while (next < refs.length) {
        const ref = refs[next++];
        await this.#drain(consumer.config, membership, ref, secret);
      }
    };
    await Promise.all(Array.from({ length: Math.min(consumer.config.maxConcurrency, refs.length) }, worker));
    if (membership.lost === 'rebalance') {
      this.#members.delete(name);
      const entry = this.#runs.get(name);
      if (entry) entry.again = true;
    } else if (membership.lost === 'fenced') {
      this.#members.delete(name);
    }
  }

  async #drain(config: ConsumerConfig, membership: Membership, ref: PartitionRef, secret: string): Promise<void> {
    try {
      while (!membership.lost && !this.#closed && !this.#pastDeadline()) {
        if ((await this.#step(config, membership, ref, secret)) === 'idle') return;
      }
    } catch (error) {
      if (error instanceof Fenced) {
        membership.lost ??= 'fenced';
        return;
      }
      this.#o.logError?.(`push consumer ${config.name}: ${ref.topic}/${ref.partition} failed`, error);
      await this.#noteError(config, ref, error).catch(() => {});
    }
  }

  /** Joins (or renews the membership) when needed; undefined when the group cannot be joined now. */
  async #membership(config: ConsumerConfig): Promise<Membership | undefined> {
    const group = consumerGroup(config.name);
    const known = this.#members.get(config.name);
    const now = this.#now();
    if (known && now - known.confirmedAt < this.#sessionTimeoutMs / 3) return known;
    if (known) {
      try {
        const beat = await this.#o.groups.heartbeat(group, known.memberId, known.generation);
        if (!beat.rebalance) {
          known.confirmedAt = now;
          return known;
        }
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === 'UNKNOWN_MEMBER')) throw error;
        this.#members.delete(config.name);
      }
    }
    const rejoin = this.#members.get(config.name);
    const joined = await this.#o.groups.join(group, {
      topics: config.topics,
      sessionTimeoutMs: this.#sessionTimeoutMs,
      instanceId: DISPATCHER_INSTANCE,
      ...(rejoin ? { memberId: rejoin.memberId } : { joinId: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url') }),
    });
    const membership: Membership = {
      memberId: joined.memberId,
      generation: joined.generation,
      confirmedAt: now,
      positions: new Map(joined.assignments.map((a) => [`${a.topic}\n${a.partition}`, a.committedOffset])),
    };
    this.#members.set(config.name, membership);
    await this.#o.afterStep?.('joined', { consumer: config.name });
    return membership;
  }

  /** Renews the lease between batches of a long run; a rebalance or a lost membership ends the run. */
  async #keepAlive(config: ConsumerConfig, membership: Membership): Promise<void> {
    if (this.#now() - membership.confirmedAt < this.#sessionTimeoutMs / 3) return;
    membership.confirmedAt = this.#now();
    try {
      const beat = await this.#o.groups.heartbeat(consumerGroup(config.name), membership.memberId, membership.generation);
      if (beat.rebalance) membership.lost ??= 'rebalance';
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'UNKNOWN_MEMBER') throw new Fenced();
      throw error;
    }
  }

  async #step(config: ConsumerConfig, membership: Membership, ref: PartitionRef, secret: string): Promise<StepResult> {
    await this.#keepAlive(config, membership);
    if (membership.lost) return 'idle';
    let committed = membership.positions.get(ref.key);
    if (committed === undefined) return 'idle';
    if (committed === null) committed = await this.#start(config, membership, ref);

    const pk = statePk(config.name, ref.topicId, ref.partition);
    const sk = stateSk(ref.partition);
    const state = stateFromItem(await this.#o.engine.metadata.get(pk, sk));
    const retry = inForce(state, committed) ? state : undefined;
    if (retry?.deadLetter) return this.#deadLetter(config, membership, ref, retry);
    if (retry?.failing) return 'idle';
    const now = this.#now();
    if (retry && retry.nextAttemptAt > now) {
      this.#o.scheduleWake?.(config.name, retry.nextAttemptAt);
      return 'idle';
    }

    const limits = config.batch;
    let available: CandidateRecord[];
    try {
      available = await this.#read(ref, committed, limits.maxRecords + 1, limits.maxBytes, retry?.end);
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'OFFSET_OUT_OF_RANGE') return this.#expired(config, membership, ref, committed, error);
      throw error;
    }
    if (available.length === 0) return 'idle';
    const meta = { consumer: config.name, topic: ref.topic, partition: ref.partition, attempt: (retry?.attempts ?? 0) + 1 };
    const guess = envelopeBytes(meta, `${ref.topic}/${ref.partition}/${available[0].offset}-${available[available.length - 1].offset}`);
    const batch = planBatch(available, limits, retry?.end, guess);
    if (!retry && limits.maxWaitMs > 0 && !isFull(batch, available.length, limits)) {
      const seen = this.#firstSeen.get(ref.key);
      const firstSeen = seen && seen.offset === batch[0].offset ? seen.at : now;
      if (!seen || seen.offset !== batch[0].offset) this.#firstSeen.set(ref.key, { offset: batch[0].offset, at: now });
      const due = Math.min(batch[0].timestamp, firstSeen) + limits.maxWaitMs;
      if (due > now) {
        this.#o.scheduleWake?.(config.name, due);
        return 'idle';
      }
    }
    this.#firstSeen.delete(ref.key);

    const batchId = batchIdOf(ref.topic, ref.partition, batch);
    const end = batch[batch.length - 1].offset + 1n;
    const outcome: DeliveryOutcome = await this.#o
      .targets(config.target)
      .deliver({ body: deliveryBody(meta, batchId, batch), batchId, secret, timeoutMs: config.target.timeoutMs });
    await this.#o.afterStep?.('delivered', { consumer: config.name, partition: ref.partition, offset: committed });

    let failure: { start: bigint; records: CandidateRecord[]; previous: number; error: string } | undefined;
    if (outcome.kind === 'success') {
      await this.#commit(config, membership, ref, end);
      await this.#afterSuccess(pk, sk, state, retry, end, batch.length);
      return 'more';
    }
    if (outcome.kind === 'partial' && outcome.firstFailed > batch[0].offset && outcome.firstFailed < end) {
      const done = batch.filter((r) => r.offset < outcome.firstFailed);
      await this.#commit(config, membership, ref, outcome.firstFailed);
      await this.#afterSuccess(pk, sk, state, retry, outcome.firstFailed, done.length);
      failure = { start: outcome.firstFailed, records: batch.filter((r) => r.offset >= outcome.firstFailed), previous: 0, error: `the target reported record ${outcome.firstFailed} failed` };
    } else {
      const error =
        outcome.kind === 'failure'
          ? outcome.error
          : outcome.firstFailed === batch[0].offset
            ? `the target reported record ${outcome.firstFailed} failed`
            : `the target reported offset ${outcome.firstFailed}, which is not in the batch ${batchId}`;
      failure = { start: committed, records: batch, previous: retry?.attempts ?? 0, error };
    }
    const current = failure.start === committed ? state : stateFromItem(await this.#o.engine.metadata.get(pk, sk));
    const decision = decideAfterFailure(
      { start: failure.start, records: failure.records, previousFailures: failure.previous, rangeEnd: retry?.rangeEnd ?? end, error: failure.error },
      config,
      this.#now(),
      this.#random,
    );
    const deadLettered = decision.kind === 'dead-letter' ? BigInt(failure.records.length) : 0n;
    if (!(await this.#writeState(pk, sk, current.version, decision.fields, { failed: 1n, deadLettered }, failure.error))) return 'idle';
    await this.#o.afterStep?.(decision.kind === 'dead-letter' ? 'dead-letter-planned' : 'state-written', { consumer: config.name, partition: ref.partition, offset: failure.start });
    if (decision.kind === 'dead-letter') return this.#deadLetter(config, membership, ref, { ...current, ...decision.fields, version: current.version + 1n });
    if (decision.kind === 'fail') return 'idle';
    if (decision.fields.nextAttemptAt > this.#now()) {
      this.#o.scheduleWake?.(config.name, decision.fields.nextAttemptAt);
      return 'idle';
    }
    return 'more';
  }

  /** Where a partition without a committed offset starts (startAt), committed at once so it stays put. */
  async #start(config: ConsumerConfig, membership: Membership, ref: PartitionRef): Promise<bigint> {
    const { partitions } = await this.#o.engine.describeTopic(ref.topic);
    const head = partitions[ref.partition];
    const start =
      config.startAt === 'earliest'
        ? head.startOffset
        : config.startAt === 'latest'
          ? head.endOffset
          : await this.#o.engine.offsetForTimestamp(ref.topic, ref.partition, config.startAt.timestamp);
    await this.#commit(config, membership, ref, start);
    return start;
  }

  /** Records from `from`, as the JSON fetch gives them, until `count`, about `maxBytes` of body, or `end`. */
  async #read(ref: PartitionRef, from: bigint, count: number, maxBytes: number, end?: bigint): Promise<CandidateRecord[]> {
    const out: CandidateRecord[] = [];
    let offset = from;
    let bytes = 0;
    while (out.length < count && bytes <= maxBytes && (end === undefined || offset < end)) {
      const result = await this.#o.engine.fetch(ref.topic, ref.partition, { offset, maxBytes: FETCH_BYTES });
      for (const json of batchesToJson(result.batches, offset)) {
        const at = BigInt(json.offset);
        if (end !== undefined && at >= end) return out;
        const size = Buffer.byteLength(JSON.stringify(json));
        out.push({ offset: at, timestamp: json.timestamp, json, bytes: size });
        bytes += size;
        if (out.length >= count) return out;
      }
      if (result.nextOffset <= offset || result.nextOffset >= result.highWatermark) return out;
      offset = result.nextOffset;
    }
    return out;
  }

  async #commit(config: ConsumerConfig, membership: Membership, ref: PartitionRef, offset: bigint): Promise<void> {
    try {
      await this.#o.groups.commit(consumerGroup(config.name), {
        memberId: membership.memberId,
        generation: membership.generation,
        offsets: [{ topic: ref.topic, partition: ref.partition, offset }],
      });
    } catch (error) {
      if (error instanceof SluiceError && (error.code === 'ILLEGAL_GENERATION' || error.code === 'UNKNOWN_MEMBER')) throw new Fenced();
      throw error;
    }
    const position = membership.positions.get(ref.key);
    if (position === undefined || position === null || position < offset) membership.positions.set(ref.key, offset);
    await this.#o.afterStep?.('committed', { consumer: config.name, partition: ref.partition, offset });
  }

  /** Counts the delivered records; while bisecting, the rest of the failing range is the next batch. */
  async #afterSuccess(pk: string, sk: string, state: DeliveryState, retry: DeliveryState | undefined, end: bigint, records: number): Promise<void> {
    const counters = { delivered: BigInt(records) };
    if (retry?.rangeEnd !== undefined && retry.rangeEnd > end) {
      const fields: RetryFields = { offset: end, end: retry.rangeEnd, rangeEnd: retry.rangeEnd, attempts: 0, nextAttemptAt: 0, failing: false };
      await this.#writeState(pk, sk, state.version, fields, counters);
    } else {
      await this.#o.engine.metadata.update(pk, sk, { add: counters });
    }
  }

  /** Appends [start, end) to the dead-letter topic (idempotent), then commits past it. */
  async #deadLetter(config: ConsumerConfig, membership: Membership, ref: PartitionRef, state: DeliveryState): Promise<StepResult> {
    const pending = state.deadLetter!;
    if (config.deadLetterTopic === null) throw new SluiceError('INTERNAL', `push consumer ${config.name} has a dead letter pending but no dead-letter topic`);
    const dlq = await this.#o.engine.topics.get(config.deadLetterTopic);
    const records: ProducerRecord[] = [];
    let offset = pending.start;
    while (offset < pending.end) {
      const result = await this.#o.engine.fetch(ref.topic, ref.partition, { offset, maxBytes: FETCH_BYTES });
      for (const batch of result.batches) {
        for (const record of decodeRecordBatch(batch.bytes).records) {
          const at = batch.baseOffset + (record.offset - batch.header.baseOffset);
          if (at < offset || at >= pending.end) continue;
          records.push({
            key: record.key,
            value: record.value,
            timestamp: record.timestamp,
            headers: [
              ...record.headers,
              { key: 'sluice.topic', value: Buffer.from(ref.topic) },
              { key: 'sluice.partition', value: Buffer.from(String(ref.partition)) },
              { key: 'sluice.offset', value: Buffer.from(at.toString()) },
              { key: 'sluice.error', value: Buffer.from(pending.error.slice(0, 1000)) },
            ],
          });
        }
      }
      if (result.nextOffset <= offset) break;
      offset = result.nextOffset;
    }
    if (records.length > 0) {
      const key = `sluice.push/${config.name}/${ref.topicId}/${ref.partition}/${pending.start}-${pending.end}`;
      const fingerprint = createHash('sha256').update(`${key}\n${records.length}\n${pending.error}`).digest('hex');
      const codec = dlq.config.compression === 'zstd' ? defaultCodec() : dlq.config.compression;
      await this.#o.engine.produce(
        dlq.name,
        [{ partition: ref.partition % dlq.partitions, data: encodeRecordBatch(records, { codec }), recordCount: records.length, maxTimestamp: Math.max(...records.map((r) => r.timestamp)) }],
        { key, fingerprint },
      );
    }
    await this.#o.afterStep?.('dead-letters-appended', { consumer: config.name, partition: ref.partition, offset: pending.start });
    await this.#commit(config, membership, ref, pending.end);
    if (state.rangeEnd !== undefined && state.rangeEnd > pending.end) {
      const pk = statePk(config.name, ref.topicId, ref.partition);
      await this.#writeState(pk, stateSk(ref.partition), state.version, { offset: pending.end, end: state.rangeEnd, rangeEnd: state.rangeEnd, attempts: 0, nextAttemptAt: 0, failing: false }, {});
    }
    return 'more';
  }

  /** The records at the committed offset are gone (retention ran first): say so, and go on from the log start. */
  async #expired(config: ConsumerConfig, membership: Membership, ref: PartitionRef, committed: bigint, error: SluiceError): Promise<StepResult> {
    const start = BigInt(String(error.details.startOffset ?? committed));
    if (start <= committed) throw error;
    await this.#noteError(config, ref, new Error(`records ${committed}-${start - 1n} of ${ref.topic}/${ref.partition} were deleted (by retention or deleteRecords) before they were delivered`));
    await this.#commit(config, membership, ref, start);
    return 'more';
  }

  /** Compare-and-set of the retry fields on `version`; false when another dispatcher changed them first. */
  async #writeState(pk: string, sk: string, version: bigint, fields: RetryFields, counters: Record<string, bigint>, error?: string): Promise<boolean> {
    const condition: Condition = {
      where: [{ anyOf: version === 0n ? [{ attr: 'version', op: 'notExists' }, { attr: 'version', op: '=', value: 0n }] : [{ attr: 'version', op: '=', value: version }] }],
    };
    const { set } = retryAttributes(fields);
    const errorFields: Record<string, Scalar> = error === undefined ? {} : { lastError: error.slice(0, 1000), lastErrorAt: BigInt(this.#now()) };
    try {
      await this.#o.engine.metadata.update(pk, sk, { set: { ...set, ...errorFields }, add: { version: 1n, ...counters } }, condition);
      return true;
    } catch (caught) {
      if ((caught as Error).name === 'ConditionFailedError') return false;
      throw caught;
    }
  }

  async #noteError(config: ConsumerConfig, ref: PartitionRef, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.#o.engine.metadata.update(statePk(config.name, ref.topicId, ref.partition), stateSk(ref.partition), {
      set: { lastError: message.slice(0, 1000), lastErrorAt: BigInt(this.#now()) },
    });
  }

  #pastDeadline(): boolean {
    return this.#o.deadline !== undefined && this.#now() >= this.#o.deadline();
  }
}

/** Whether a consumer's target is delivered by this process (the local server delivers URL targets only). */
export function deliverableHere(config: ConsumerConfig, functionTargets: boolean): boolean {
  return isUrlTarget(config.target) || functionTargets;
}
