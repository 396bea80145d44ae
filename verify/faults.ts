/**
 * Fault injection at the storage ports, on a schedule drawn from a seed: definite failures (not
 * applied), ambiguous failures (applied, then answered with an error, like a timeout after the write
 * landed), throttling, added latency; and crashes and zombie pauses at named points inside the
 * produce and compaction paths (engine hooks). `heal()` turns everything off for the final catch-up.
 */
import { ThrottledError, UnavailableError } from '../lib/errors.ts';
import { seededRandom } from '../test/support/random.ts';
import type { ByteRange, Condition, Item, MetadataStore, ObjectStore, QueryOptions, UpdateChanges, UpdateOptions } from '../lib/storage/ports.ts';

export const FAULT_KINDS = ['definite', 'ambiguous', 'throttle', 'latency', 'crash', 'zombie'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A crash at a named point: the invocation dies there, its caller sees an error. */
export class InjectedCrash extends Error {
  constructor(point: string) {
    super(`injected crash at ${point}`);
    this.name = 'InjectedCrash';
  }
}

export { seededRandom as prng } from '../test/support/random.ts';

export interface FaultRates {
  /** Probability that a storage call gets a fault. */
  readonly storage: number;
  /** Probability that a named point crashes (or pauses, for zombie-capable points). */
  readonly points: number;
  /** How long a zombie pauses, past the reservation timeout. */
  readonly zombieMs: number;
}

export class FaultPlan {
  readonly counts: Record<FaultKind, number> = { definite: 0, ambiguous: 0, throttle: 0, latency: 0, crash: 0, zombie: 0 };
  readonly #random: () => number;
  readonly #rates: FaultRates;
  #healed = false;

  constructor(seed: number, rates: FaultRates) {
    this.#random = seededRandom(seed);
    this.#rates = rates;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  heal(): void {
    this.#healed = true;
  }

  /** The fault for one storage call, if any. */
  storageFault(): 'definite' | 'ambiguous' | 'throttle' | 'latency' | undefined {
    if (this.#healed || this.#random() >= this.#rates.storage) return undefined;
    const kinds = ['definite', 'ambiguous', 'throttle', 'latency'] as const;
    const kind = kinds[Math.floor(this.#random() * kinds.length)];
    this.counts[kind]++;
    return kind;
  }

  latencyMs(): number {
    return 1 + Math.floor(this.#random() * 15);
  }

  /** At a named point: throw (crash), pause past the timeouts (zombie), or go on. */
  async atPoint(point: string, zombieCapable: boolean): Promise<void> {
    if (this.#healed || this.#random() >= this.#rates.points) return;
    if (zombieCapable && this.#random() < 0.4) {
      this.counts.zombie++;
      await sleep(this.#rates.zombieMs);
      return;
    }
    this.counts.crash++;
    throw new InjectedCrash(point);
  }

  async #around<T>(call: () => Promise<T>): Promise<T> {
    const fault = this.storageFault();
    if (fault === 'definite') throw new UnavailableError('injected failure (not applied)');
    if (fault === 'throttle') throw new ThrottledError('injected throttling');
    if (fault === 'latency') await sleep(this.latencyMs());
    const result = await call();
    if (fault === 'ambiguous') throw new UnavailableError('injected timeout (applied)');
    return result;
  }

  wrapObjects(inner: ObjectStore): ObjectStore {
    const around = <T>(call: () => Promise<T>) => this.#around(call);
    return {
      put: (key, body) => around(() => inner.put(key, body)),
      get: (key, range?: ByteRange) => around(() => inner.get(key, range)),
      delete: (keys) => around(() => inner.delete(keys)),
      list: (prefix) => inner.list(prefix),
      ...(inner.presignGet ? { presignGet: inner.presignGet.bind(inner) } : {}),
    };
  }

  wrapMetadata(inner: MetadataStore): MetadataStore {
    const around = <T>(call: () => Promise<T>) => this.#around(call);
    return {
      get: (pk: string, sk: string) => around(() => inner.get(pk, sk)),
      put: (item: Item, condition?: Condition) => around(() => inner.put(item, condition)),
      update: (pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions) =>
        around(() => inner.update(pk, sk, changes, condition, options)),
      delete: (pk: string, sk: string, condition?: Condition) => around(() => inner.delete(pk, sk, condition)),
      query: (pk: string, options?: QueryOptions) => around(() => inner.query(pk, options)),
      ...(inner.deleteExpired ? { deleteExpired: inner.deleteExpired.bind(inner) } : {}),
    };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
