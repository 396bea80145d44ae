/**
 * The two storage ports. Everything above them (log, groups, auth) is written once against these
 * interfaces; adapters (memory, local filesystem + SQLite, S3 + DynamoDB) are thin and know nothing
 * of logs or groups. Adapters raise the errors in ../errors.ts (ConditionFailedError,
 * ObjectNotFoundError, ThrottledError, UnavailableError) and nothing else.
 */

/** Inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
}

/** Immutable blobs. Keys are never rewritten by the log protocol, so every read can be cached. */
export interface ObjectStore {
  /** Durable when the promise resolves. Overwrites are allowed by the port but never used by the log. */
  put(key: string, body: Uint8Array): Promise<void>;
  /** Whole object, or the inclusive range. A range past the end is clipped; a missing key throws ObjectNotFoundError. */
  get(key: string, range?: ByteRange): Promise<Uint8Array>;
  /** Deleting a missing key is not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Objects whose key starts with prefix. In key order on every single-bucket adapter, but callers must
   * not depend on it: a store over an S3 Express directory bucket (RoutedObjectStore) lists in no order.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * A short-lived URL that allows exactly one ranged GET of `key` (the caller sends `Range: bytes=start-end`).
   * Absent where the store cannot be read directly by clients; undefined for a key that cannot be
   * (RoutedObjectStore's ingest objects in a directory bucket): the caller then serves the bytes itself.
   */
  presignGet?(key: string, range: ByteRange, expiresInSeconds: number): Promise<string | undefined>;
}

/**
 * Attribute values. Integers are always bigint (offsets exceed 2^53); structured data is stored as a
 * JSON string by the layer that owns it; bytes (a log entry's inline batches) as Uint8Array, a binary
 * attribute, so they cost their size and no more (no base64 in the billed item size).
 */
export type Scalar = string | bigint | boolean | Uint8Array;

export interface Item {
  readonly pk: string;
  readonly sk: string;
  readonly [attribute: string]: Scalar;
}

export type Comparison = '=' | '<>' | '<' | '<=' | '>' | '>=';

/**
 * One clause of a condition. On a missing item every attribute is absent: comparisons are false and
 * `notExists` is true (DynamoDB's semantics).
 */
export type Clause =
  | { readonly attr: string; readonly op: Comparison; readonly value: Scalar }
  | { readonly attr: string; readonly op: 'exists' | 'notExists' }
  | { readonly anyOf: readonly Clause[] };

export interface Condition {
  /** true: the item must exist; false: it must not. */
  readonly itemExists?: boolean;
  /** All must hold. */
  readonly where?: readonly Clause[];
}

export interface UpdateChanges {
  readonly set?: Readonly<Record<string, Scalar>>;
  /** Atomic increments; a missing attribute counts as 0n. */
  readonly add?: Readonly<Record<string, bigint>>;
  readonly remove?: readonly string[];
}

export interface UpdateOptions {
  /**
   * Which image the update returns: the item after it (default) or before it (an item that did not
   * exist comes back as just its keys). The old image tells an atomic add where it started.
   */
  readonly returnValues?: 'new' | 'old';
  /**
   * When the returned promise resolves. 'own' (default): once the write is durable. 'ordered': once it
   * is applied, when a write that the caller issues after that and waits for cannot be durable without
   * it (a store that keeps one log, such as SQLite's WAL, makes a later write durable with everything
   * before it). For a write whose loss in a crash is harmless while nothing that depends on it is
   * durable: a reservation is worth nothing until the entry written for it is in. Reads still see the
   * write only once it is durable. Stores whose writes are durable when applied treat both alike.
   */
  readonly durability?: 'own' | 'ordered';
}

export interface SortKeyRange {
  readonly gte?: string;
  readonly gt?: string;
  readonly lte?: string;
  readonly lt?: string;
}

export interface QueryOptions extends SortKeyRange {
  /** Descending sort-key order. */
  readonly reverse?: boolean;
  readonly limit?: number;
}

/**
 * A strongly consistent item store with single-item conditional writes (the DynamoDB model, without
 * transactions). Sort keys compare as strings (UTF-8 byte order for ASCII keys).
 */
export interface MetadataStore {
  get(pk: string, sk: string): Promise<Item | undefined>;
  /** Replaces the whole item. Throws ConditionFailedError when the condition does not hold. */
  put(item: Item, condition?: Condition): Promise<void>;
  /** Creates the item when missing (upsert). Returns the item after the update, or before it (options). */
  update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item>;
  /** Deleting a missing item is not an error unless the condition says it must exist. */
  delete(pk: string, sk: string, condition?: Condition): Promise<void>;
  /** Items of one partition key in sort-key order. */
  query(pk: string, options?: QueryOptions): Promise<Item[]>;
  /**
   * Deletes items whose bigint attribute `expiresAt` (epoch seconds) is at or before `nowSeconds`;
   * returns how many. Absent where the store expires items itself (DynamoDB's TTL on `expiresAt`).
   */
  deleteExpired?(nowSeconds: number): Promise<number>;
}

/** The attribute that stores treat as a time to live, in epoch seconds. */
export const EXPIRES_AT = 'expiresAt';
