/**
 * Which partition a record goes to:
 *   1. message.partition, when given;
 *   2. a custom partitioner's answer, when it gives one;
 *   3. keyed records: Kafka's default partitioner, toPositive(murmur2(key bytes)) % partitions, so a
 *      key lands where a Java or KafkaJS producer would put it;
 *   4. unkeyed records: sticky. They all go to one partition until its open batch is full
 *      (maxBatchBytes), then to another, chosen at random among the least loaded. Requests stay big
 *      and touch few partitions: each partition in a request costs metadata writes, so spreading
 *      unkeyed records thinly would cost more and make smaller, worse-compressing batches.
 */
import { partitionForKey } from '../../protocol/murmur2.ts';
import type { Message } from '../types.ts';

export interface PartitionerArgs {
  readonly topic: string;
  readonly partitionCount: number;
  /** The key as bytes (null when none). */
  readonly key: Uint8Array | null;
  readonly message: Message;
}

/** Return a partition, or undefined to use the default (murmur2 for keys, sticky for the rest). */
export type Partitioner = (args: PartitionerArgs) => number | undefined;

export function keyPartition(key: Uint8Array, partitionCount: number): number {
  return partitionForKey(key, partitionCount);
}

/** The sticky choice for unkeyed records of one topic. */
export class StickyPartition {
  #current = -1;
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** loadOf(p): bytes waiting for partition p; full(p): its open batch has reached maxBatchBytes. */
  choose(partitionCount: number, full: (partition: number) => boolean, loadOf: (partition: number) => number): number {
    const current = this.#current;
    if (current >= 0 && current < partitionCount && !full(current)) return current;
    this.#current = this.#pick(partitionCount, current, loadOf);
    return this.#current;
  }

  #pick(partitionCount: number, avoid: number, loadOf: (partition: number) => number): number {
    if (partitionCount === 1) return 0;
    // least loaded among a few random candidates ("power of two choices", Kafka's uniform sticky in spirit)
    let best = -1;
    let bestLoad = Infinity;
    for (let tries = 0; tries < 3; tries++) {
      let candidate = Math.floor(this.#random() * partitionCount);
      if (candidate === avoid) candidate = (candidate + 1) % partitionCount;
      const load = loadOf(candidate);
      if (load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
    }
    return best;
  }
}
