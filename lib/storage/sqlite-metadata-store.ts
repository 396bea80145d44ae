/**
 * MetadataStore over SQLite (`node:sqlite`): the embedded default. One table of (pk, sk, attrs), the
 * attributes as JSON with tagged bigints (item-semantics.ts), so conditions and updates are evaluated
 * in process with exactly the memory adapter's semantics.
 *
 * Group commit. Writes (put, update, delete, deleteExpired) are queued and applied together, once per
 * turn of the event loop (setImmediate), in ONE BEGIN IMMEDIATE transaction: in arrival order, each
 * reading, checking its condition and writing inside that transaction, so each sees every write queued
 * before it. A write whose condition fails (or whose update is invalid) has written nothing when it
 * throws: every write runs its single INSERT/DELETE last, after its checks. So it fails alone with its
 * own ConditionFailedError while the rest of the group commits. Every caller's promise settles only
 * after the COMMIT returned, and the database is in WAL mode with synchronous=FULL, so the COMMIT has
 * fsynced the log: a write is durable (survives power loss) when its promise resolves, which the
 * produce acknowledgement relies on. Concurrent writers therefore share one transaction and one fsync
 * instead of paying one each. A SQLite error anywhere in the group (I/O, disk full, busy) rolls the
 * whole group back and rejects every caller in it: nothing of the group is visible.
 *
 * Reads run at once, outside any transaction (none is open between turns), so they see exactly the
 * committed, durable writes. BEGIN IMMEDIATE takes the write lock up front, so two processes sharing
 * the file cannot both pass the same check.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { StorageError, ThrottledError, UnavailableError } from '../errors.ts';
import { applyUpdate, checkCondition, itemFromJson, itemToJson } from './item-semantics.ts';
import { EXPIRES_AT, type Condition, type Item, type MetadataStore, type QueryOptions, type UpdateChanges, type UpdateOptions } from './ports.ts';

export interface SqliteMetadataStoreOptions {
  /** Database file, or ':memory:'. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing with ThrottledError. Default 5 s. */
  readonly busyTimeoutMs?: number;
  /**
   * Instrumentation: called at each named point of every group commit with the number of writes in
   * the group. A hook that throws simulates a crash at that point (tests).
   */
  readonly onGroupCommit?: (point: GroupCommitPoint, writes: number) => void;
}

/**
 * Named points of a group commit: after BEGIN, after every write of the group was applied but before
 * COMMIT, and after COMMIT (durable; throwing there leaves the callers with an ambiguous failure, as a
 * lost response would).
 */
export type GroupCommitPoint = 'begun' | 'before-commit' | 'committed';

/** Counted since the store was opened. With synchronous=FULL each committed transaction is one fsync of the WAL. */
export interface SqliteWriteStats {
  /** Write transactions committed (one per group). */
  readonly writeTransactions: number;
  /** Writes in those transactions, failed conditions included. */
  readonly writes: number;
}

interface QueuedWrite {
  readonly apply: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

export class SqliteMetadataStore implements MetadataStore {
  readonly #db: DatabaseSync;
  readonly #select: StatementSync;
  readonly #upsert: StatementSync;
  readonly #remove: StatementSync;
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  /** Query statements, one per combination of bounds and direction, prepared on first use. */
  readonly #queries = new Map<string, StatementSync>();
  readonly #onGroupCommit: SqliteMetadataStoreOptions['onGroupCommit'];
  /** Writes waiting for the next group commit, in arrival order. */
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  #stats = { writeTransactions: 0, writes: 0 };

  constructor(options: SqliteMetadataStoreOptions) {
    this.#onGroupCommit = options.onGroupCommit;
    try {
      this.#db = new DatabaseSync(options.path);
      this.#db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      this.#db.exec('PRAGMA journal_mode = WAL'); // ignored (stays 'memory') for ':memory:'
      this.#db.exec('PRAGMA synchronous = FULL');
      this.#db.exec(`CREATE TABLE IF NOT EXISTS items (
        pk TEXT NOT NULL,
        sk TEXT NOT NULL,
        attrs TEXT NOT NULL,
        PRIMARY KEY (pk, sk)
      ) WITHOUT ROWID`);
      this.#select = this.#db.prepare('SELECT attrs FROM items WHERE pk = ? AND sk = ?');
      this.#upsert = this.#db.prepare(
        'INSERT INTO items (pk, sk, attrs) VALUES (?, ?, ?) ON CONFLICT (pk, sk) DO UPDATE SET attrs = excluded.attrs',
      );
      this.#remove = this.#db.prepare('DELETE FROM items WHERE pk = ? AND sk = ?');
      this.#begin = this.#db.prepare('BEGIN IMMEDIATE');
      this.#commit = this.#db.prepare('COMMIT');
      this.#rollback = this.#db.prepare('ROLLBACK');
    } catch (error) {
      throw translateSqliteError(error, `open ${options.path}`);
    }
  }

  /** Commits the writes still queued (their promises settle), then closes the database. */
  close(): void {
    this.#flush();
    this.#db.close();
  }

  stats(): SqliteWriteStats {
    return { ...this.#stats };
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    try {
      return this.#read(pk, sk);
    } catch (error) {
      throw translateSqliteError(error, 'get');
    }
  }

  // Each write body checks first and runs its one INSERT/DELETE last: a body that throws has written nothing.

  async put(item: Item, condition?: Condition): Promise<void> {
    const json = itemToJson(item);
    return this.#enqueue(() => {
      if (condition) checkCondition(this.#read(item.pk, item.sk), condition);
      this.#upsert.run(item.pk, item.sk, json);
    });
  }

  async update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    return this.#enqueue(() => {
      const current = this.#read(pk, sk);
      checkCondition(current, condition);
      const next = applyUpdate(pk, sk, current, changes);
      this.#upsert.run(pk, sk, itemToJson(next));
      return options?.returnValues === 'old' ? (current ?? { pk, sk }) : next;
    });
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.#enqueue(() => {
      if (condition) checkCondition(this.#read(pk, sk), condition);
      this.#remove.run(pk, sk);
    });
  }

  async deleteExpired(nowSeconds: number): Promise<number> {
    return this.#enqueue(() => {
      // Attributes are JSON with bigints tagged as {"$n": "…"} (item-semantics.ts).
      const result = this.#db
        .prepare(`DELETE FROM items WHERE CAST(json_extract(attrs, '$.${EXPIRES_AT}."$n"') AS INTEGER) <= ?`)
        .run(nowSeconds);
      return Number(result.changes);
    });
  }

  async query(pk: string, options: QueryOptions = {}): Promise<Item[]> {
    if (options.limit !== undefined && options.limit <= 0) return [];
    const bounds = (['gte', 'gt', 'lte', 'lt'] as const).filter((bound) => options[bound] !== undefined);
    const shape = `${bounds.join(',')}:${options.reverse ? 'desc' : 'asc'}`;
    try {
      let statement = this.#queries.get(shape);
      if (!statement) {
        const operators = { gte: '>=', gt: '>', lte: '<=', lt: '<' } as const;
        const where = ['pk = ?', ...bounds.map((bound) => `sk ${operators[bound]} ?`)].join(' AND ');
        statement = this.#db.prepare(
          `SELECT attrs FROM items WHERE ${where} ORDER BY sk ${options.reverse ? 'DESC' : 'ASC'} LIMIT ?`,
        );
        this.#queries.set(shape, statement);
      }
      const rows = statement.all(pk, ...bounds.map((bound) => options[bound] as string), options.limit ?? -1);
      return rows.map((row) => itemFromJson(row.attrs as string));
    } catch (error) {
      throw translateSqliteError(error, 'query');
    }
  }

  #read(pk: string, sk: string): Item | undefined {
    const row = this.#select.get(pk, sk);
    return row ? itemFromJson(row.attrs as string) : undefined;
  }

  #enqueue<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After this turn's I/O callbacks: every write issued in this turn joins the group.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** One group commit of everything queued. Settles every queued promise, whatever happens. */
  #flush(): void {
    this.#flushScheduled = false;
    const group = this.#queue;
    this.#queue = [];
    if (group.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.#begin.run();
      this.#onGroupCommit?.('begun', group.length);
      for (const write of group) {
        try {
          outcomes.push({ ok: true, value: write.apply() });
        } catch (error) {
          // SQLite trouble dooms the transaction; a failed check or an invalid update is this write's alone.
          if (isSqliteError(error)) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      this.#onGroupCommit?.('before-commit', group.length);
      this.#commit.run();
    } catch (error) {
      // Nothing of the group is applied: roll back (a failed COMMIT may leave the transaction open).
      this.#rollbackQuietly();
      const failure = translateSqliteError(error, `group commit of ${group.length} writes`);
      for (const write of group) write.reject(failure);
      return;
    }
    this.#stats.writeTransactions++;
    this.#stats.writes += group.length;
    let afterCommitFailure: StorageError | undefined;
    try {
      this.#onGroupCommit?.('committed', group.length);
    } catch (error) {
      afterCommitFailure = translateSqliteError(error, `group commit of ${group.length} writes`);
    }
    group.forEach((write, i) => {
      const outcome = outcomes[i];
      if (afterCommitFailure) write.reject(afterCommitFailure);
      else if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }

  #rollbackQuietly(): void {
    try {
      if (this.#db.isTransaction) this.#rollback.run();
    } catch {
      // Nothing more to do: the connection is unusable or the transaction is already gone.
    }
  }
}

function isSqliteError(error: unknown): error is Error & { errcode: number } {
  return error instanceof Error && 'errcode' in error && typeof error.errcode === 'number';
}

/** Locked by another process for longer than busy_timeout: nothing was applied. Anything else: I/O trouble. */
function translateSqliteError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isSqliteError(error)) {
    const primary = error.errcode & 0xff; // extended result codes keep the primary code in the low byte
    if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) return new ThrottledError(`sqlite ${what}: ${message}`, error);
  }
  return new UnavailableError(`sqlite ${what}: ${message}`, error);
}
