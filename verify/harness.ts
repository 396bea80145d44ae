/**
 * One verification run: concurrent idempotent producers and tailing readers against the HTTP
 * application in process, over a backend whose storage ports inject faults, with maintenance
 * (compaction, gap closing, garbage collection) running throughout. Everything observed is recorded;
 * after the faults heal, a catch-up read checks the history (checker.ts).
 */
import type { AddressInfo } from 'node:net';
import { ApiKeys } from '../lib/auth/api-keys.ts';
import { Sluice, SluiceClientError } from '../lib/client/index.ts';
import { Groups } from '../lib/groups/groups.ts';
import { createNodeServer } from '../lib/server/node-http.ts';
import { createApp } from '../lib/http/app.ts';
import type { HttpHandler, HttpResponse } from '../lib/http/types.ts';
import { Engine } from '../lib/log/engine.ts';
import { ENTRY_SK_PREFIX, TIME_INDEX_SK_END, TIME_INDEX_SK_PREFIX, entrySk, partitionPk, entryFromItem } from '../lib/log/layout.ts';
import type { MetadataStore } from '../lib/storage/ports.ts';
import { decodeRecordBatch } from '../lib/protocol/record-batch.ts';
import { SluiceError } from '../lib/errors.ts';
import type { BackendFactory } from '../test/support/backends.ts';
import { FaultPlan, prng, sleep, type FaultRates } from './faults.ts';
import type { Deletion, History } from './checker.ts';
import { GROUP, GROUP_TOPIC_CHECK_MS, emptyGroupHistory, logStartOf, runMember } from './group-workload.ts';
import { emptyPushHistory, startPush } from './push-workload.ts';
import { emptyDirectReadHistory, startDirectReader } from './direct-reader.ts';
import { ObjectUrlSigner } from '../lib/http/object-urls.ts';

export interface RunConfig {
  readonly seed: number;
  readonly partitions: number;
  /** Raw HTTP producers (JSON, Idempotency-Key, their own retries). */
  readonly producers: number;
  /** Client SDK producers (batching, binary produce, idempotent retries) over real HTTP on loopback. */
  readonly clientProducers: number;
  /** Member processes of one consumer group reading the topic. */
  readonly groupMembers: number;
  readonly requestsPerProducer: number;
  readonly recordsPerRequest: number;
  readonly readersPerPartition: number;
  readonly faults: FaultRates;
}

const TOPIC = 'verify';
/** Partitions added to the topic mid-run (through the API, under faults). */
const ADDED_PARTITIONS = 2;
const KEY = 'verify-admin-key-0123456789abcdef';
const TIMING = {
  reservationTimeoutMs: 150,
  abortReservationAfterMs: 500,
  clientTimeoutMs: 1500,
  maintenanceEveryMs: 120,
} as const;

export async function runOnce(config: RunConfig, backendFactory: BackendFactory): Promise<History> {
  const backend = await backendFactory();
  const plan = new FaultPlan(config.seed, config.faults);
  // Maintenance is another process (a scheduled Lambda): its own schedule, at a lower storage fault
  // rate, since a pass makes hundreds of calls and the SDK's own retries hide most transient errors.
  const maintenancePlan = new FaultPlan(config.seed * 7919 + 1, { ...config.faults, storage: config.faults.storage / 8 });
  const random = prng(config.seed ^ 0x5eed);
  let server: ReturnType<typeof createNodeServer> | undefined;
  let directReader: Awaited<ReturnType<typeof startDirectReader>> | undefined;
  try {
    const engineOptions = {
      reservationTimeoutMs: TIMING.reservationTimeoutMs,
      abortReservationAfterMs: TIMING.abortReservationAfterMs,
      objectCommitWindowMs: 1500,
      longPollIntervalMs: 20,
      topicCacheMs: 0,
      maintenance: { segmentBytes: 16 * 1024, indexIntervalBytes: 1024, tailQuietMs: 300, maxTailEntries: 8, gcGraceMs: 2000, minObjectAgeMs: 3000 },
    };
    const storage = { inlineEntries: 0, objectEntries: 0 };
    // Presigned reads: S3's own on the emulators; otherwise URLs the app itself serves (as the local
    // server does), read through the faulted store.
    let endpoint = '';
    const signer = backend.objects.presignGet ? undefined : new ObjectUrlSigner({ baseUrl: () => endpoint });
    const faultedObjects = plan.wrapObjects(backend.objects);
    const engine = new Engine({
      ...engineOptions,
      objects: signer ? signer.wrap(faultedObjects) : faultedObjects,
      metadata: countingEntries(plan.wrapMetadata(backend.metadata), storage),
      afterProduceStep: (step) => plan.atPoint(`produce.${step}`, step === 'offsets-reserved' || step === 'reservations-recorded'),
    });
    const maintainer = new Engine({
      ...engineOptions,
      objects: maintenancePlan.wrapObjects(backend.objects),
      metadata: maintenancePlan.wrapMetadata(backend.metadata),
      afterCompactionStep: (step) => maintenancePlan.atPoint(`compaction.${step}`, false),
    });
    await new ApiKeys(backend.metadata).ensure(KEY, 'verify');
    await new Engine({ objects: backend.objects, metadata: backend.metadata }).topics.create(TOPIC, config.partitions, { retentionMs: -1 });
    const groups = new Groups({
      engine,
      topicCheckMs: GROUP_TOPIC_CHECK_MS,
      afterStep: (step) => plan.atPoint(`group.${step}`, step === 'commit-checked'),
    });
    const app = createApp({ engine, keys: new ApiKeys(backend.metadata), groups, logError: () => {}, ...(signer ? { objectUrls: signer } : {}) });
    const history: History = {
      acked: new Map(),
      attempted: new Set(),
      observations: [],
      orderViolations: [],
      final: new Map(),
      aborted: new Map(),
      faults: plan.counts,
      maintenanceFaults: maintenancePlan.counts,
      maintenance: { passes: 0, segmentsWritten: 0, gapsClosed: 0, objectsDeleted: 0 },
      storage,
      group: emptyGroupHistory(),
      push: emptyPushHistory(),
      direct: emptyDirectReadHistory(),
    };
    const healthy = new Engine({ ...engineOptions, objects: backend.objects, metadata: backend.metadata });
    const push = await startPush({ engine, setupEngine: healthy, plan, random: prng(config.seed * 31 + 7), topic: TOPIC, history: history.push });

    let producing = true;
    const maintenance = (async () => {
      while (producing) {
        const report = await maintainer.maintain().catch(() => undefined);
        if (report) {
          history.maintenance.passes++;
          history.maintenance.segmentsWritten += report.segmentsWritten;
          history.maintenance.gapsClosed += report.gapsClosed;
          history.maintenance.objectsDeleted += report.objectsDeleted;
        }
        await sleep(TIMING.maintenanceEveryMs);
      }
    })();
    // Readers for the partitions added mid-run too: until they exist, their reads are refused and retried.
    const grownTo = config.partitions + ADDED_PARTITIONS;
    const readers = Array.from({ length: grownTo * config.readersPerPartition }, (_, i) => tail(app, i % grownTo, history, () => producing));
    let groupDone = false;
    let joinedBeforeGrowth: boolean | undefined;
    const groupCall = (method: string, path: string, query = '', body?: unknown) => call(app, method, path, query, body).catch(() => undefined);
    const members = Array.from({ length: config.groupMembers }, () =>
      // Added partitions count as added only for a group that read the topic before they were: one whose
      // join was answered before the growth was asked for (a later first read records the new count).
      runMember(groupCall, TOPIC, history.group, prng(Math.floor(random() * 2 ** 31)), () => groupDone, Date.now, {
        latestFrom: () => (joinedBeforeGrowth === false ? Number.POSITIVE_INFINITY : config.partitions),
      }),
    );
    const groupWatcher = (async () => {
      const giveUpAt = () => (producing ? Number.POSITIVE_INFINITY : stoppedAt + 30_000);
      let stoppedAt = 0;
      while (!groupDone) {
        await sleep(100);
        if (producing) continue;
        stoppedAt ||= Date.now();
        groupDone = Date.now() > giveUpAt() || (await caughtUp(groupCall));
      }
    })();
    const halfOfRecords = (config.producers * config.requestsPerProducer * config.recordsPerRequest) / 2;
    // Early on, the topic gets more partitions through the API, under the same faults: keyed records
    // and the client producers (which look at the count again every few hundred ms here) spread onto
    // them, and the group and the push consumer must take them in from their log start.
    const grower = (async () => {
      while (producing && history.acked.size < halfOfRecords * 0.6) await sleep(20);
      history.growth = { from: config.partitions, to: grownTo, answered: false };
      joinedBeforeGrowth = history.group.joins.length > 0;
      for (let attempt = 0; attempt < 100 && !history.growth.answered; attempt++) {
        const res = await call(app, 'POST', `/v1/topics/${TOPIC}/partitions`, '', { count: grownTo }).catch(() => undefined);
        if (res?.status === 200) Object.assign(history.growth, { answered: true, ackedBefore: history.acked.size });
        else if (res && res.status < 500 && res.status !== 429) throw new Error(`adding partitions refused: ${res.status} ${String(res.body)}`);
        else await sleep(20);
      }
    })();
    // Halfway through, the topic becomes LogAppendTime through the API, under the same faults: retries,
    // crashes and compaction then straddle both ways of stamping, and checkSeeks searches a log of both.
    const switcher = (async () => {
      while (producing && history.acked.size < halfOfRecords) await sleep(20);
      for (let attempt = 0; attempt < 100 && history.timestampSwitch === undefined; attempt++) {
        const res = await call(app, 'PATCH', `/v1/topics/${TOPIC}`, '', { config: { timestampType: 'LogAppendTime' } }).catch(() => undefined);
        if (res?.status === 200) history.timestampSwitch = { ackedBefore: history.acked.size };
        else await sleep(20);
      }
    })();
    // Later, partition 0's records before a point of its committed log are deleted through the API
    // (deleteRecords), under the same faults: produce, compaction and the clearing of entries below the
    // new start then run into each other, and readers, members and the push consumer are moved on.
    const truncator = (async () => {
      const longEnough = async () => (await healthy.describeTopic(TOPIC)).partitions[0].endOffset >= 16n;
      while (producing && (history.acked.size < halfOfRecords * 1.4 || !(await longEnough()))) await sleep(20);
      history.deletion = await deleteRecordsMidRun(app, healthy, backend.metadata, prng(config.seed * 53 + 11));
    })();
    server = createNodeServer(app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    directReader = await startDirectReader({ endpoint, apiKey: KEY, topic: TOPIC, history, direct: history.direct! });
    await Promise.all([
      ...Array.from({ length: config.producers }, (_, p) => produce(app, p, config, history, random)),
      ...Array.from({ length: config.clientProducers }, (_, c) => produceWithClient(endpoint, c, config, history)),
    ]);
    producing = false;
    await Promise.all([maintenance, grower, switcher, truncator, ...readers, groupWatcher, ...members]);

    // Heal, let dead writers' reservations age, close their gaps, then read everything back.
    plan.heal();
    maintenancePlan.heal();
    await sleep(TIMING.abortReservationAfterMs + 100);
    const partitions = (await engine.topics.get(TOPIC)).partitions;
    for (let partition = 0; partition < partitions; partition++) await engine.repairPartition(TOPIC, partition);
    await engine.maintain();
    await engine.maintain(); // indexes by time the segments the pass before sealed (checkSeeks)
    await push.finish(healthy);
    const { partitions: bounds } = await engine.describeTopic(TOPIC);
    await directReader.finish(new Map(bounds.map((b) => [b.partition, b.endOffset])));
    const { id } = await engine.topics.get(TOPIC);
    if (config.groupMembers > 0) {
      for (const offset of (await groups.describe(GROUP)).offsets) {
        if (offset.committedOffset !== null) history.group.finalCommitted.set(offset.partition, offset.committedOffset);
      }
    }
    const timestamps = new Map<number, Map<bigint, number>>();
    for (let partition = 0; partition < partitions; partition++) {
      timestamps.set(partition, new Map());
      history.final.set(partition, await readEverything(engine, partition, timestamps.get(partition)));
      const entries = await backend.metadata.query(partitionPk(id, partition), { gte: 'e#', lt: 'e#~' });
      history.aborted.set(partition, entries.map(entryFromItem).filter((e) => e.aborted).map((e) => [e.start, e.end] as const));
    }
    history.seeks = await checkSeeks(engine, backend.metadata, id, partitions, timestamps);
    if (history.deletion) await checkDeletedPrefix(engine, backend.metadata, id, history.deletion);
    return history;
  } finally {
    plan.heal();
    maintenancePlan.heal();
    await directReader?.stop();
    server?.closeAllConnections();
    server?.close();
    await backend.teardown();
  }
}

const authorized = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

function call(app: HttpHandler, method: string, path: string, query = '', body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return app({
    method,
    path,
    query: new URLSearchParams(query),
    headers: { ...authorized, ...headers },
    body: body === undefined ? new Uint8Array(0) : Buffer.from(JSON.stringify(body)),
  });
}

/** Resolves with the response, or undefined when the client gives up waiting (the call goes on: a zombie). */
function withTimeout(response: Promise<HttpResponse | undefined>, ms: number): Promise<HttpResponse | undefined> {
  return Promise.race([response, sleep(ms).then(() => undefined)]);
}

/**
 * Random padding (incompressible but for the alphabet: ~6 bits a character) for a record value: none
 * for 40% of the records, up to 1,000 characters for 30%, 3,000 to 9,000 for the rest, so that a
 * request's batches for one partition fall on either side of the inline threshold
 * (DEFAULTS.inlineMaxBytes, 4 KiB of compressed batches), and both storage paths, and requests
 * mixing them, run under the faults.
 */
function padding(random: () => number): string {
  const draw = random();
  if (draw < 0.4) return '';
  const length = draw < 0.7 ? Math.floor(random() * 1000) : 3000 + Math.floor(random() * 6000);
  let text = '-';
  for (let i = 0; i < length; i++) text += PAD_ALPHABET[Math.floor(random() * PAD_ALPHABET.length)];
  return text;
}

const PAD_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Counts the log entries written through `inner` by where their batches are (see History.storage). */
function countingEntries(inner: MetadataStore, counts: { inlineEntries: number; objectEntries: number }): MetadataStore {
  return {
    get: (pk, sk) => inner.get(pk, sk),
    put: async (item, condition) => {
      await inner.put(item, condition);
      if (!item.sk.startsWith(ENTRY_SK_PREFIX) || item.aborted === true) return;
      if (item.batches instanceof Uint8Array) counts.inlineEntries++;
      else if (typeof item.objectKey === 'string' && item.objectKey.includes('/ingest/')) counts.objectEntries++;
    },
    update: (pk, sk, changes, condition, options) => inner.update(pk, sk, changes, condition, options),
    delete: (pk, sk, condition) => inner.delete(pk, sk, condition),
    query: (pk, options) => inner.query(pk, options),
    ...(inner.deleteExpired ? { deleteExpired: inner.deleteExpired.bind(inner) } : {}),
  };
}

/** One producer: requests of unique values, retried with the same Idempotency-Key until acknowledged. */
async function produce(app: HttpHandler, producer: number, config: RunConfig, history: History, random: () => number): Promise<void> {
  for (let r = 0; r < config.requestsPerProducer; r++) {
    const values = Array.from({ length: config.recordsPerRequest }, (_, i) => `p${producer}-r${r}-${i}${padding(random)}`);
    const records = values.map((value, i) =>
      random() < 0.5 ? { key: `k${producer}-${r}-${i}`, value } : { partition: (producer + r + i) % (history.growth?.answered ? history.growth.to : config.partitions), value },
    );
    for (const value of values) history.attempted.add(value);
    for (let attempt = 0; attempt < 40; attempt++) {
      const response = await withTimeout(
        call(app, 'POST', `/v1/topics/${TOPIC}/records`, '', { records }, { 'idempotency-key': `p${producer}-r${r}` }).catch(() => undefined),
        TIMING.clientTimeoutMs,
      );
      if (response?.status === 200) {
        const { records: acks } = JSON.parse(String(response.body)) as { records: Array<{ partition: number; offset: string }> };
        acks.forEach((ack, i) => history.acked.set(values[i], { partition: ack.partition, offset: BigInt(ack.offset) }));
        break;
      }
      if (response && refusedAfterDeletion(response, history)) {
        history.deletion!.retriesRefused += values.length; // its outcome can no longer be told: not acknowledged, so not owed
        break;
      }
      if (response && response.status < 500 && response.status !== 429) throw new Error(`produce refused: ${response.status} ${String(response.body)}`);
      await sleep(5 + Math.floor(random() * 20 * Math.min(attempt + 1, 5)));
    }
  }
}

/**
 * A keyed retry refused because deleteRecords deleted where its first attempt was placed (whether it
 * was appended can no longer be told; invariant 4 forbids a guess). Only such a refusal of the run's
 * deleted partition counts; any other 4xx fails the run.
 */
function refusedAfterDeletion(response: HttpResponse, history: History): boolean {
  if (response.status !== 422 || !history.deletion) return false;
  const { error } = JSON.parse(String(response.body)) as { error?: { code?: string; message?: string; partitions?: number[] } };
  return error?.code === 'IDEMPOTENCY_KEY_REUSED' && /deleteRecords/.test(error.message ?? '') && (error.partitions ?? []).every((p) => p === history.deletion!.partition);
}

/**
 * One client SDK producer: sends of several records at a time, many in flight; the client batches,
 * compresses, and retries with the same bytes and Idempotency-Key (its request timeout is short, so
 * zombie invocations on the server make it retry while the first attempt is still running).
 */
async function produceWithClient(endpoint: string, producer: number, config: RunConfig, history: History): Promise<void> {
  const random = prng(config.seed * 131 + producer);
  const client = new Sluice({ endpoint, apiKey: KEY, requestTimeoutMs: TIMING.clientTimeoutMs, retry: { retries: 40, initialRetryMs: 5, maxRetryMs: 100, multiplier: 2 }, logger: quiet });
  const sender = client.producer({ lingerMs: 2, maxInFlightRequests: 8, metadataMaxAgeMs: 300 });
  const sends: Promise<void>[] = [];
  for (let r = 0; r < config.requestsPerProducer; r++) {
    const values = Array.from({ length: config.recordsPerRequest }, (_, i) => `c${producer}-r${r}-${i}${padding(random)}`);
    for (const value of values) history.attempted.add(value);
    const messages = values.map((value, i) => (i % 2 === 0 ? { key: `ck${producer}-${r}-${i}`, value } : { value }));
    sends.push(
      sender.send({ topic: TOPIC, messages }).then(
        (results) => results.forEach((result, i) => history.acked.set(values[i], { partition: result.partition, offset: BigInt(result.offset) })),
        (error: unknown) => {
          // failed for good after every retry: not acknowledged, so not owed
          const refused = error instanceof SluiceClientError && error.code === 'IDEMPOTENCY_KEY_REUSED' && /deleteRecords/.test(error.message);
          if (refused && history.deletion) history.deletion.retriesRefused += values.length;
        },
      ),
    );
    if (sends.length % 8 === 0) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  await sender.disconnect().catch(() => {});
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Every partition's committed offset has reached its end offset. A group with no member at the moment
 * describes only the partitions it has commits for, so the topic's count is asked too: partitions
 * added mid-run count before the group has committed on them.
 */
async function caughtUp(call: (method: string, path: string) => Promise<HttpResponse | undefined>): Promise<boolean> {
  const [group, topic] = await Promise.all([call('GET', `/v1/groups/${GROUP}`), call('GET', `/v1/topics/${TOPIC}`)]);
  if (group?.status !== 200 || topic?.status !== 200) return false;
  const { offsets } = JSON.parse(String(group.body)) as { offsets: Array<{ partition: number; committedOffset: string | null; endOffset: string }> };
  const { partitions } = JSON.parse(String(topic.body)) as { partitions: unknown[] };
  const done = new Set(offsets.filter((o) => o.committedOffset !== null && BigInt(o.committedOffset) >= BigInt(o.endOffset)).map((o) => o.partition));
  return partitions.length > 0 && partitions.every((_, partition) => done.has(partition));
}

/** A reader tailing one partition from 0: offsets must come strictly increasing. */
async function tail(app: HttpHandler, partition: number, history: History, running: () => boolean): Promise<void> {
  let offset = 0n;
  let idleAfterStop = 0;
  while (running() || idleAfterStop < 3) {
    const response = await call(app, 'GET', `/v1/topics/${TOPIC}/partitions/${partition}/records`, `offset=${offset}&maxBytes=8192&maxWaitMs=30`).catch(() => undefined);
    const startOffset = response?.status === 416 ? logStartOf(response) : undefined;
    if (startOffset !== undefined && startOffset > offset) {
      offset = startOffset; // deleted before this reader got there (deleteRecords): on from the log start
      if (history.deletion) history.deletion.readersMovedOn++;
      continue;
    }
    if (response?.status !== 200) {
      await sleep(10);
      continue;
    }
    const body = JSON.parse(String(response.body)) as { records: Array<{ offset: string; value: string }>; nextOffset: string };
    for (const record of body.records) {
      const at = BigInt(record.offset);
      if (at < offset) history.orderViolations.push({ partition, expectedAtLeast: offset, got: at });
      history.observations.push({ partition, offset: at, value: record.value });
      offset = at + 1n;
    }
    const next = BigInt(body.nextOffset);
    if (next < offset) history.orderViolations.push({ partition, expectedAtLeast: offset, got: next });
    offset = next > offset ? next : offset;
    if (!running()) idleAfterStop = body.records.length === 0 ? idleAfterStop + 1 : 0;
  }
}

/**
 * Searches by time answered as a scan of the final log answers them: for a sample of the records'
 * timestamps (one before and at each; producers stamp records by their own clocks, so timestamps are
 * out of offset order), the first offset at or after it, or the end of the log. The time index was
 * written by passes under faults.
 */
async function checkSeeks(engine: Engine, metadata: MetadataStore, topicId: string, partitions: number, timestamps: Map<number, Map<bigint, number>>): Promise<NonNullable<History['seeks']>> {
  const seeks = { checked: 0, points: 0, wrong: [] as string[] };
  const { partitions: bounds } = await engine.describeTopic(TOPIC);
  for (let partition = 0; partition < partitions; partition++) {
    seeks.points += (await metadata.query(partitionPk(topicId, partition), { gte: TIME_INDEX_SK_PREFIX, lt: TIME_INDEX_SK_END })).length;
    const records = [...(timestamps.get(partition) ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const distinct = [...new Set(records.map(([, timestamp]) => timestamp))].sort((a, b) => a - b);
    const every = Math.max(1, Math.floor(distinct.length / 60));
    const targets = [0, ...distinct.filter((_, i) => i % every === 0).flatMap((t) => [t, t + 1]), (distinct.at(-1) ?? 0) + 1];
    for (const target of targets) {
      const expected = records.find(([, timestamp]) => timestamp >= target)?.[0] ?? bounds[partition].endOffset;
      const got = await engine.offsetForTimestamp(TOPIC, partition, target);
      seeks.checked++;
      if (got !== expected) seeks.wrong.push(`offsetForTimestamp(${partition}, ${target}) = ${got}; a scan of the log says ${expected}`);
    }
  }
  return seeks;
}

/**
 * Deletes partition 0's records before a random point of the second half of its committed log,
 * through the faulted app, retried until answered (a retry of one that landed changes nothing). What
 * is deleted is read first, by a healthy reader: the checker holds the deleted prefix to the same
 * rules as the rest of the log.
 */
async function deleteRecordsMidRun(app: HttpHandler, healthy: Engine, metadata: MetadataStore, random: () => number): Promise<Deletion | undefined> {
  const partition = 0;
  const { endOffset } = (await healthy.describeTopic(TOPIC)).partitions[partition];
  if (endOffset < 2n) return undefined;
  const before = endOffset - BigInt(Math.floor(random() * Number(endOffset / 2n)));
  const prefix = await readEverything(healthy, partition, undefined, before);
  // Its aborted ranges go with it (maintenance clears them too): they explain the prefix's gaps.
  const { id } = await healthy.topics.get(TOPIC);
  const entries = (await metadata.query(partitionPk(id, partition), { gte: ENTRY_SK_PREFIX, lt: entrySk(before) })).map(entryFromItem);
  const prefixAborted = entries.filter((entry) => entry.aborted).map((entry) => [entry.start, entry.end] as const);
  const deletion: Deletion = { partition, before, prefix, prefixAborted, answered: false, readersMovedOn: 0, retriesRefused: 0 };
  for (let attempt = 0; attempt < 100 && !deletion.answered; attempt++) {
    const response = await call(app, 'DELETE', `/v1/topics/${TOPIC}/partitions/${partition}/records`, `before=${before}`).catch(() => undefined);
    if (response?.status === 200) deletion.answered = true;
    else if (response && response.status < 500 && response.status !== 429) throw new Error(`deleteRecords refused: ${response.status} ${String(response.body)}`);
    else await sleep(20);
  }
  return deletion;
}

/** After healing: where the log starts, whether anything below it is readable, and what maintenance left below it. */
async function checkDeletedPrefix(engine: Engine, metadata: MetadataStore, topicId: string, deletion: Deletion): Promise<void> {
  const { startOffset } = (await engine.describeTopic(TOPIC)).partitions[deletion.partition];
  deletion.finalStart = startOffset;
  if (startOffset > 0n) {
    const below = await engine.fetch(TOPIC, deletion.partition, { offset: startOffset - 1n }).catch((error: unknown) => error);
    deletion.readableBelowStart = !(below instanceof SluiceError && below.code === 'OFFSET_OUT_OF_RANGE');
  }
  const entries = (await metadata.query(partitionPk(topicId, deletion.partition), { gte: ENTRY_SK_PREFIX, lt: `${ENTRY_SK_PREFIX}~` })).map(entryFromItem);
  deletion.entriesLeftBelowStart = entries.filter((entry) => entry.end <= startOffset).length;
}

/** A partition's records from its log start (to `until`, else its end) by offset; `timestamps` collects their timestamps. */
async function readEverything(engine: Engine, partition: number, timestamps?: Map<bigint, number>, until?: bigint): Promise<Map<bigint, string[]>> {
  const out = new Map<bigint, string[]>();
  const { partitions } = await engine.describeTopic(TOPIC);
  let offset = partitions[partition].startOffset;
  const end = until ?? partitions[partition].endOffset;
  while (offset < end) {
    const result = await engine.fetch(TOPIC, partition, { offset, maxBytes: 1 << 20 });
    for (const batch of result.batches) {
      for (const record of decodeRecordBatch(batch.bytes).records) {
        const at = batch.baseOffset + (record.offset - batch.header.baseOffset);
        if (at < offset || at >= end) continue;
        const values = out.get(at) ?? [];
        values.push(new TextDecoder().decode(record.value!));
        out.set(at, values);
        timestamps?.set(at, Number(record.timestamp));
      }
    }
    if (result.nextOffset <= offset) throw new Error(`catch-up read stuck at ${partition}/${offset}`);
    offset = result.nextOffset;
  }
  return out;
}
