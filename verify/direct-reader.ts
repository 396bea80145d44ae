/**
 * The SDK's read path in a verification run: a consumer without a group reads every partition of the
 * topic (those added mid-run too) from the beginning, straight from the object store — the locations
 * route, presigned ranged GETs (the app's object route, or S3's own on the emulators), batches that
 * come inline in the locations answer — over real HTTP on loopback, while faults, compaction, garbage
 * collection and deleteRecords run. What it is handed is recorded as a reader's observations (checked
 * against the final log) and in order per partition; after the faults heal it reads to the end of
 * every partition, and the checker wants every record of the final log seen by it.
 */
import { Sluice } from '../lib/client/index.ts';
import type { History } from './checker.ts';
import { sleep } from './faults.ts';

export interface DirectReadHistory {
  /** Partition → the offsets the consumer was handed, in the order it was handed them. */
  readonly seen: Map<number, bigint[]>;
  /** How its reads went (the SDK's counters): direct ranged GETs, inline ranges, reads through the API, fallbacks. */
  stats?: { direct: number; api: number; rangeGets: number; inlineRanges: number; fallbacks: number };
  /** It reached every partition's end offset after the faults healed. */
  caughtUp: boolean;
  /** Why it stopped, if it crashed (an error the SDK does not retry). */
  crashed?: string;
}

export function emptyDirectReadHistory(): DirectReadHistory {
  return { seen: new Map(), caughtUp: false };
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export async function startDirectReader(options: { endpoint: string; apiKey: string; topic: string; history: History; direct: DirectReadHistory }) {
  const { history, direct } = options;
  // Many retries with short waits: the faults answer a few percent of calls with errors, and a read
  // that fails for good would crash the consumer (recorded, and an anomaly).
  const client = new Sluice({ endpoint: options.endpoint, apiKey: options.apiKey, requestTimeoutMs: 1500, retry: { retries: 60, initialRetryMs: 5, maxRetryMs: 100, multiplier: 2 }, logger: quiet });
  const consumer = client.consumer({ maxWaitMs: 50, metadataMaxAgeMs: 300, directReadsRetryMs: 100, notifications: false });
  consumer.on('crash', (event) => {
    direct.crashed = String(event.error);
  });
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const offset = BigInt(message.offset);
      let seen = direct.seen.get(partition);
      if (!seen) direct.seen.set(partition, (seen = []));
      const last = seen.at(-1);
      if (last !== undefined && offset <= last) history.orderViolations.push({ partition, expectedAtLeast: last + 1n, got: offset });
      seen.push(offset);
      history.observations.push({ partition, offset, value: message.value?.toString() ?? '' });
    },
  });
  return {
    /** After healing: reads on until every partition's position reaches `ends` (at most 30 s), then stops. */
    async finish(ends: ReadonlyMap<number, bigint>): Promise<void> {
      const deadline = Date.now() + 30_000;
      const reached = () => {
        const positions = new Map(consumer.assignment().map((a) => [a.partition, BigInt(a.position)]));
        return [...ends].every(([partition, end]) => (positions.get(partition) ?? -1n) >= end);
      };
      while (!reached() && !direct.crashed && Date.now() < deadline) await sleep(20);
      direct.caughtUp = reached();
      direct.stats = { ...consumer.readStats };
      await consumer.disconnect().catch(() => {});
    },
    async stop(): Promise<void> {
      await consumer.disconnect().catch(() => {});
    },
  };
}
