/**
 * The shared "new log entries" trigger: whatever needs to know that partition P of a topic advanced
 * subscribes here — the push dispatcher now, the live-tail notifier later — and each deployment feeds
 * it from its own source:
 *
 *   locally   the engine's append hook (Engine.onAppend), in process: localAppendSource
 *   in AWS    DynamoDB Streams on the table (NEW_IMAGE), through an event source mapping whose filter
 *             (LOG_ENTRY_STREAM_FILTER) passes only the insertion of log entries, into one stream
 *             handler (lambdas/stream-handler.ts) that publishes here: advancedFromStreamRecords
 *
 * Nothing polls: without appends nothing runs. The filter is built from the key shapes of
 * lib/log/layout.ts (partition keys `p#…`, entry sort keys `e#…`), so it follows the log's layout
 * whatever an entry holds (an object range or, later, inline batches).
 */
import { ENTRY_SK_PREFIX, PARTITION_PK_PREFIX, parsePartitionPk } from '../log/layout.ts';
import type { Engine } from '../log/engine.ts';

export interface AdvancedPartition {
  readonly topicId: string;
  readonly partition: number;
}

export type AppendSubscriber = (advanced: readonly AdvancedPartition[]) => void | Promise<void>;

/** Fans one source of "partitions advanced" out to every subscriber; one subscriber's failure is its own. */
export class AppendFanout {
  readonly #subscribers = new Set<AppendSubscriber>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = (error) => console.error('sluice: append subscriber failed', error)) {
    this.#onError = onError;
  }

  subscribe(subscriber: AppendSubscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  async publish(advanced: readonly AdvancedPartition[]): Promise<void> {
    if (advanced.length === 0) return;
    await Promise.all(
      [...this.#subscribers].map(async (subscriber) => {
        try {
          await subscriber(advanced);
        } catch (error) {
          this.#onError(error);
        }
      }),
    );
  }
}

/**
 * Locally: the engine's append hook, gathered per event-loop turn (a produce touching 8 partitions,
 * or 100 producers at once, make one publish). Returns a function that unsubscribes.
 */
export function localAppendSource(engine: Engine, fanout: AppendFanout): () => void {
  let pending = new Map<string, AdvancedPartition>();
  let scheduled = false;
  return engine.onAppend((pk) => {
    const advanced = parsePartitionPk(pk);
    if (!advanced) return;
    pending.set(pk, advanced);
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      const batch = [...pending.values()];
      pending = new Map();
      scheduled = false;
      void fanout.publish(batch);
    });
  });
}

/**
 * The event source mapping's filter (Lambda filter criteria, one pattern): inserted items whose keys
 * are a log entry's. Compaction rewrites entries in place (MODIFY) and gap closing writes aborted
 * entries: neither brings new records, so neither triggers anything.
 */
export const LOG_ENTRY_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: {
    Keys: {
      pk: { S: [{ prefix: PARTITION_PK_PREFIX }] },
      sk: { S: [{ prefix: ENTRY_SK_PREFIX }] },
    },
    NewImage: { aborted: { BOOL: [false] } },
  },
} as const;

/** The fields of a DynamoDB stream record that are read here. */
export interface StreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: { readonly Keys?: Record<string, { readonly S?: string }>; readonly NewImage?: Record<string, { readonly BOOL?: boolean }> };
}

/** The partitions a batch of stream records advanced (each once), applying the filter's rule again. */
export function advancedFromStreamRecords(records: readonly StreamRecord[]): AdvancedPartition[] {
  const out = new Map<string, AdvancedPartition>();
  for (const record of records) {
    const pk = record.dynamodb?.Keys?.pk?.S;
    const sk = record.dynamodb?.Keys?.sk?.S;
    if (record.eventName !== 'INSERT' || !pk || !sk?.startsWith(ENTRY_SK_PREFIX)) continue;
    if (record.dynamodb?.NewImage?.aborted?.BOOL === true) continue;
    const advanced = parsePartitionPk(pk);
    if (advanced) out.set(pk, advanced);
  }
  return [...out.values()];
}
