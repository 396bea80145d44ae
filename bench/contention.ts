/**
 * A hot partition: N producers append 1-record batches to ONE partition at once, each with one request
 * in flight, and every call the engine makes to the stores is recorded (recording-stores.ts). Reported
 * per append: writes to the partition head item (`p#<topicId>#<partition>` / `head`, layout.ts),
 * those refused by their condition (billed all the same), writes to the watermark item beside it
 * (`head#watermark`, every 64th append), reads, and the ceiling that DynamoDB's 1,000 writes/s per
 * item puts on one partition: 1000 / head writes per append. Head, watermark and log entries share a
 * partition key, so until DynamoDB splits the hot item collection (split for heat) its 1,000 write
 * units/s per physical partition bind their sum: that ceiling is reported too.
 *
 * These are counts, not timings; how many conditions fail depends on how the calls interleave, so the
 * bench repeats the case and reports the spread. On the memory backend the interleaving is fixed.
 * The run also checks what the protocol promises: the offsets handed out are 0..N-1, each exactly once.
 */
import { Engine } from '../lib/log/engine.ts';
import { encodeRecordBatch } from '../lib/protocol/record-batch.ts';
import type { MetadataStore, ObjectStore } from '../lib/storage/ports.ts';
import { recordingStores, WRITE_OPERATIONS } from './recording-stores.ts';
import { countedEmulatorStores } from './request-counter.ts';
import { eventRecords } from './workload.ts';

export interface ContentionSettings {
  readonly producers: number;
  readonly appendsPerProducer: number;
}

/** DynamoDB's documented throughput limit for a single item (and a partition's write capacity). */
export const DYNAMODB_WRITES_PER_ITEM_PER_SECOND = 1000;

export interface ContentionRun {
  readonly producers: number;
  readonly appends: number;
  readonly headWrites: number;
  readonly headConditionsFailed: number;
  readonly headReads: number;
  /** Writes to the watermark item (layout.ts WATERMARK_SK), failed conditions included. */
  readonly watermarkWrites: number;
  readonly watermarkConditionsFailed: number;
  /** Every metadata read (gets and queries, head and log entries). */
  readonly metadataReads: number;
  readonly metadataWrites: number;
  readonly objectPuts: number;
  readonly headWritesPerAppend: number;
  readonly failedConditionsPerAppend: number;
  readonly headReadsPerAppend: number;
  readonly readsPerAppend: number;
  readonly watermarkWritesPerAppend: number;
  /** 1000 / headWritesPerAppend. */
  readonly ceilingAppendsPerSecond: number;
  /** Writes to items of the partition's key (head, watermark, log entries) per append. */
  readonly partitionKeyWritesPerAppend: number;
  /** 1000 / partitionKeyWritesPerAppend: the whole item collection in one DynamoDB partition (1-record entries are 1 write unit each). */
  readonly ceilingPartitionKeyAppendsPerSecond: number;
  /** On the AWS adapters: head writes as SDK requests (retries included), to cross-check the port count. */
  readonly sdkHeadWrites?: number;
  readonly sdkHeadWritesFailed?: number;
}

const TOPIC = 'bench-hot';
const PARTITION_KEY_TARGETS = new Set(['partition head', 'partition watermark', 'log entry']);

/** One run on any pair of stores (fresh topic). Throws when the offsets are not contiguous. */
export async function contentionRun(
  objects: ObjectStore,
  metadata: MetadataStore,
  settings: ContentionSettings,
  /** Called when counting starts (after the topic exists): reset other counters here. */
  onCountingStarts: () => void = () => {},
): Promise<ContentionRun> {
  const recording = recordingStores(objects, metadata);
  const engine = new Engine({ objects: recording.objects, metadata: recording.metadata, topicCacheMs: Number.POSITIVE_INFINITY });
  await engine.topics.create(TOPIC, 1, { retentionMs: -1 });
  await engine.topics.get(TOPIC);
  const records = eventRecords(settings.producers, 23);
  const batches = records.map((record) => encodeRecordBatch([record]));
  recording.recorder.reset();
  onCountingStarts();

  const offsets: bigint[] = [];
  await Promise.all(
    batches.map(async (data, producer) => {
      for (let i = 0; i < settings.appendsPerProducer; i++) {
        const [result] = await engine.produce(TOPIC, [{ partition: 0, data, recordCount: 1, maxTimestamp: records[producer].timestamp ?? 0 }]);
        offsets.push(result.baseOffset);
      }
    }),
  );
  const calls = recording.recorder.calls;
  const appends = settings.producers * settings.appendsPerProducer;
  checkContiguous(offsets, appends);
  const { partitions } = await engine.describeTopic(TOPIC);
  if (partitions[0].endOffset !== BigInt(appends)) throw new Error(`the partition ends at ${partitions[0].endOffset}, expected ${appends}`);

  const head = calls.filter((call) => call.target === 'partition head');
  const headWrites = head.filter((call) => WRITE_OPERATIONS.has(call.operation));
  const metadataCalls = calls.filter((call) => call.store === 'metadata');
  const metadataReads = metadataCalls.filter((call) => !WRITE_OPERATIONS.has(call.operation)).length;
  const headReads = head.length - headWrites.length;
  const watermarkWrites = calls.filter((call) => call.target === 'partition watermark' && WRITE_OPERATIONS.has(call.operation));
  const partitionKeyWrites = calls.filter((call) => PARTITION_KEY_TARGETS.has(call.target) && WRITE_OPERATIONS.has(call.operation)).length;
  return {
    producers: settings.producers,
    appends,
    headWrites: headWrites.length,
    headConditionsFailed: headWrites.filter((call) => call.conditionFailed).length,
    headReads,
    watermarkWrites: watermarkWrites.length,
    watermarkConditionsFailed: watermarkWrites.filter((call) => call.conditionFailed).length,
    metadataReads,
    metadataWrites: metadataCalls.length - metadataReads,
    objectPuts: calls.filter((call) => call.store === 'object' && call.operation === 'put').length,
    headWritesPerAppend: headWrites.length / appends,
    failedConditionsPerAppend: headWrites.filter((call) => call.conditionFailed).length / appends,
    headReadsPerAppend: headReads / appends,
    readsPerAppend: metadataReads / appends,
    watermarkWritesPerAppend: watermarkWrites.length / appends,
    ceilingAppendsPerSecond: DYNAMODB_WRITES_PER_ITEM_PER_SECOND / (headWrites.length / appends),
    partitionKeyWritesPerAppend: partitionKeyWrites / appends,
    ceilingPartitionKeyAppendsPerSecond: DYNAMODB_WRITES_PER_ITEM_PER_SECOND / (partitionKeyWrites / appends),
  };
}

/** `repeats` runs on fresh s3rver + dynalite, each cross-checked against the SDK's request counts. */
export async function runContentionBench(settings: ContentionSettings & { readonly repeats: number }): Promise<ContentionRun[]> {
  const runs: ContentionRun[] = [];
  for (let repeat = 0; repeat < settings.repeats; repeat++) {
    const stores = await countedEmulatorStores();
    try {
      const run = await contentionRun(stores.objects, stores.metadata, settings, () => stores.counter.reset());
      const sdkHead = stores.counter.snapshot().filter((count) => count.target === 'partition head' && (count.operation === 'UpdateItem' || count.operation === 'PutItem'));
      runs.push({
        ...run,
        sdkHeadWrites: sdkHead.reduce((sum, count) => sum + count.requests, 0),
        sdkHeadWritesFailed: sdkHead.reduce((sum, count) => sum + count.failed, 0),
      });
    } finally {
      await stores.stop();
    }
  }
  return runs;
}

export function checkContiguous(offsets: readonly bigint[], expected: number): void {
  const sorted = [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length !== expected) throw new Error(`${sorted.length} appends acknowledged, expected ${expected}`);
  sorted.forEach((offset, i) => {
    if (offset !== BigInt(i)) throw new Error(`offsets are not contiguous: position ${i} holds ${offset}`);
  });
}
