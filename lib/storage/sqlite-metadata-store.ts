/**
 * MetadataStore over SQLite (`node:sqlite`): the embedded default. One table of (pk, sk, attrs), the
 * attributes as JSON with tagged bigints (item-semantics.ts), so conditions and updates are evaluated
 * in process with exactly the memory adapter's semantics.
 *
 * Group commit. Writes (put, update, delete, deleteExpired) are queued and applied together once per
 * turn of the event loop (setImmediate), in ONE BEGIN IMMEDIATE transaction, in arrival order: each
 * reads, checks its condition and writes inside that transaction, so it sees every write queued before
 * it. Every write body runs its single INSERT/DELETE last, after its checks, so a write whose condition
 * fails (or whose update is invalid) has written nothing when it throws: it fails alone with its own
 * ConditionFailedError while the rest of the group commits. A SQLite error anywhere in the group (I/O,
 * disk full, busy) rolls the whole group back and rejects every caller in it: nothing of it is visible.
 *
 * Durability. The database is in WAL mode. The COMMIT appends the group's frames to the WAL without
 * waiting for the disk (synchronous=NORMAL, which keeps the database consistent after a crash); this
 * store then fsyncs the WAL itself, off the event loop, and settles the callers' promises only after
 * an fsync that started after their COMMIT: a write is durable (survives power loss) when its promise
 * resolves, which the produce acknowledgement relies on. One fsync is shared by every transaction that
 * committed while the previous one ran (SharedSync), so concurrent writers share transactions and
 * fsyncs, and the event loop keeps serving requests while the disk works. (Checkpoints, which SQLite
 * runs inside a COMMIT, sync the WAL and the database themselves.) Without a WAL (':memory:', or a file
 * system where SQLite cannot use one) the store falls back to synchronous=FULL: COMMIT itself syncs.
 *
 * An update with durability 'ordered' (UpdateOptions) settles at COMMIT instead: the WAL is replayed
 * in order up to its first bad frame, so no later transaction, whose fsync its caller waits for next,
 * can be durable without it. The WAL is synced with fdatasync (as SQLite does on Linux): its data and
 * its size, which is all a replay needs.
 *
 * Reads run at once, outside any transaction (none is open between turns), and see every committed
 * write. So that nothing is ever seen before it is durable (a crash must not take back what a reader
 * saw), a read that touches an item (get) or a partition key (query) written by a transaction not yet
 * fsynced waits for that fsync before it answers; other reads answer at once. BEGIN IMMEDIATE takes the
 * write lock up front, so two processes sharing the file cannot both pass the same check (another
 * process's connection may see a commit before this one has fsynced it).
 *
 * An fsync that fails leaves the fate of the writes it covered unknown (the kernel may have dropped
 * the pages): their callers get UnavailableError, and so does every later call until the store is
 * reopened, which replays the WAL as far as it reached the disk.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { StorageError, ThrottledError, UnavailableError } from '../errors.ts';
import { applyUpdate, checkCondition, itemFromJson, itemToJson } from './item-semantics.ts';
import { EXPIRES_AT, type Condition, type Item, type MetadataStore, type QueryOptions, type UpdateChanges, type UpdateOptions } from './ports.ts';
import { SharedSync } from './shared-sync.ts';

export interface SqliteMetadataStoreOptions {
  /** Database file, or ':memory:'. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing with ThrottledError. Default 5 s. */
  readonly busyTimeoutMs?: number;
  /**
   * Instrumentation: called at each named point of every group commit with the number of writes in
   * the group (at 'before-sync': the number of transactions the fsync covers). A hook that throws
   * simulates a failure at that point (tests).
   */
  readonly onGroupCommit?: (point: GroupCommitPoint, count: number) => void;
}

/**
 * Named points of a group commit: after BEGIN; after every write of the group was applied, before
 * COMMIT; after COMMIT, before the fsync was requested; and just before an fsync of the WAL runs (a
 * failure there is a failed fsync).
 */
export type GroupCommitPoint = 'begun' | 'before-commit' | 'committed' | 'before-sync';

/** Counted since the store was opened. */
export interface SqliteWriteStats {
  /** Write transactions committed (one per group). */
  readonly writeTransactions: number;
  /** Writes in those transactions, failed conditions included. */
  readonly writes: number;
  /** fsyncs of the WAL by this store (without a WAL: one per COMMIT, done by SQLite). */
  readonly logSyncs: number;
}

/** What a write touches, so reads know whether they may see it before it is durable. */
type Touches = { readonly pk: string; readonly sk: string } | 'everything';

interface QueuedWrite {
  readonly touches: Touches;
  /** Settled at COMMIT instead of after the fsync (UpdateOptions.durability 'ordered'). */
  readonly ordered: boolean;
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
  /** The WAL file this store fsyncs; undefined when COMMIT syncs by itself (no WAL). */
  readonly #walPath: string | undefined;
  #walFd: number | undefined;
  readonly #walSync = new SharedSync(() => this.#syncWal());

  /** Writes waiting for the next group commit, in arrival order. */
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  /** Transactions committed, and how many of them (the oldest first) are known durable. */
  #committed = 0;
  #durable = 0;
  /** The newest not yet durable transaction that wrote an item / a partition key / anything at all. */
  readonly #undurableItems = new Map<string, number>();
  readonly #undurablePartitions = new Map<string, number>();
  #undurableEverything = 0;
  /** Set by a failed fsync: the store can no longer tell what is durable. */
  #broken: StorageError | undefined;
  #closed = false;
  #stats = { writeTransactions: 0, writes: 0, logSyncs: 0 };

  constructor(options: SqliteMetadataStoreOptions) {
    this.#onGroupCommit = options.onGroupCommit;
    try {
      this.#db = new DatabaseSync(options.path);
      this.#db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      const mode = this.#db.prepare('PRAGMA journal_mode = WAL').get()?.journal_mode; // stays 'memory' for ':memory:'
      const wal = mode === 'wal';
      this.#walPath = wal ? `${path.resolve(options.path)}-wal` : undefined;
      this.#db.exec(`PRAGMA synchronous = ${wal ? 'NORMAL' : 'FULL'}`);
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

  /**
   * Commits the writes still queued and makes every committed write durable (a blocking fsync), so
   * every pending promise resolves; then closes the database.
   */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    if (!this.#broken && this.#durable < this.#committed) {
      try {
        const fd = this.#openWal();
        fdatasyncSync(fd);
        this.#stats.logSyncs++;
        this.#markDurable(this.#committed);
      } catch (error) {
        this.#broken = translateSqliteError(error, 'fsync of the WAL at close');
      }
    }
    // An fsync still running keeps the descriptor until it ends (#syncWal closes it then).
    if (this.#walFd !== undefined && !this.#walSync.busy) this.#closeWal();
    this.#db.close();
  }

  stats(): SqliteWriteStats {
    return { ...this.#stats };
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    let item;
    try {
      this.#usable('get');
      item = this.#read(pk, sk);
    } catch (error) {
      throw translateSqliteError(error, 'get');
    }
    await this.#durableThrough(Math.max(this.#undurableItems.get(itemKey(pk, sk)) ?? 0, this.#undurableEverything));
    return item;
  }

  // Each write body checks first and runs its one INSERT/DELETE last: a body that throws has written nothing.

  async put(item: Item, condition?: Condition): Promise<void> {
    const json = itemToJson(item);
    return this.#enqueue(item, false, () => {
      if (condition) checkCondition(this.#read(item.pk, item.sk), condition);
      this.#upsert.run(item.pk, item.sk, json);
    });
  }

  async update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    return this.#enqueue({ pk, sk }, options?.durability === 'ordered', () => {
      const current = this.#read(pk, sk);
      checkCondition(current, condition);
      const next = applyUpdate(pk, sk, current, changes);
      this.#upsert.run(pk, sk, itemToJson(next));
      return options?.returnValues === 'old' ? (current ?? { pk, sk }) : next;
    });
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.#enqueue({ pk, sk }, false, () => {
      if (condition) checkCondition(this.#read(pk, sk), condition);
      this.#remove.run(pk, sk);
    });
  }

  async deleteExpired(nowSeconds: number): Promise<number> {
    return this.#enqueue('everything', false, () => {
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
    let items;
    try {
      this.#usable('query');
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
      items = rows.map((row) => itemFromJson(row.attrs as string));
    } catch (error) {
      throw translateSqliteError(error, 'query');
    }
    await this.#durableThrough(Math.max(this.#undurablePartitions.get(pk) ?? 0, this.#undurableEverything));
    return items;
  }

  #read(pk: string, sk: string): Item | undefined {
    const row = this.#select.get(pk, sk);
    return row ? itemFromJson(row.attrs as string) : undefined;
  }

  #usable(what: string): void {
    if (this.#broken) throw this.#broken;
    if (this.#closed) throw new UnavailableError(`sqlite ${what}: the store is closed`);
  }

  #enqueue<T>(touches: Touches, ordered: boolean, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ touches, ordered, apply, resolve: resolve as (value: unknown) => void, reject });
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
      this.#usable('write');
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
    const transaction = ++this.#committed;
    this.#stats.writeTransactions++;
    this.#stats.writes += group.length;
    group.forEach((write, i) => {
      if (outcomes[i].ok) this.#noteUndurable(write.touches, transaction);
    });
    if (!this.#walPath) {
      this.#stats.logSyncs++; // synchronous=FULL without a WAL: COMMIT has synced
      this.#markDurable(transaction);
    }
    let durable: Promise<void>;
    try {
      this.#onGroupCommit?.('committed', group.length);
      durable = this.#durableThrough(transaction);
    } catch (error) {
      durable = Promise.reject(translateSqliteError(error, `group commit of ${group.length} writes`));
    }
    // An ordered write settles now: any write its caller issues next joins a later transaction, which
    // no fsync makes durable without this one (the WAL is replayed in order, up to its first bad frame).
    const settle = (write: QueuedWrite, outcome: Outcome) => (outcome.ok ? write.resolve(outcome.value) : write.reject(outcome.error));
    group.forEach((write, i) => write.ordered && settle(write, outcomes[i]));
    durable.then(
      () => group.forEach((write, i) => !write.ordered && settle(write, outcomes[i])),
      (error: unknown) => {
        for (const write of group) if (!write.ordered) write.reject(error);
      },
    );
  }

  #noteUndurable(touches: Touches, transaction: number): void {
    if (this.#durable >= transaction) return;
    if (touches === 'everything') {
      this.#undurableEverything = transaction;
      return;
    }
    this.#undurableItems.set(itemKey(touches.pk, touches.sk), transaction);
    this.#undurablePartitions.set(touches.pk, transaction);
  }

  /** Resolves once transaction number `transaction` (and every earlier one) is durable. */
  async #durableThrough(transaction: number): Promise<void> {
    if (transaction <= this.#durable) return;
    if (this.#broken) throw this.#broken;
    // A run that starts after this call covers every transaction committed so far.
    await this.#walSync.request();
    if (this.#broken) throw this.#broken;
  }

  /** One fsync of the WAL, covering every transaction committed when it starts. */
  async #syncWal(): Promise<void> {
    if (this.#broken) throw this.#broken;
    const through = this.#committed;
    if (through <= this.#durable) return;
    try {
      this.#onGroupCommit?.('before-sync', through - this.#durable);
      const fd = this.#openWal();
      await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
      this.#stats.logSyncs++;
      this.#markDurable(through);
    } catch (error) {
      this.#broken ??= translateSqliteError(error, 'fsync of the WAL (reopen the store)');
      throw this.#broken;
    } finally {
      if (this.#closed && this.#walFd !== undefined) this.#closeWal();
    }
  }

  #openWal(): number {
    // The WAL exists once a transaction committed, and lives as long as this connection does.
    this.#walFd ??= openSync(this.#walPath!, 'r+');
    return this.#walFd;
  }

  #closeWal(): void {
    try {
      closeSync(this.#walFd!);
    } catch {
      // Already gone: nothing to release.
    }
    this.#walFd = undefined;
  }

  #markDurable(through: number): void {
    if (through <= this.#durable) return;
    this.#durable = through;
    for (const [key, transaction] of this.#undurableItems) if (transaction <= through) this.#undurableItems.delete(key);
    for (const [key, transaction] of this.#undurablePartitions) if (transaction <= through) this.#undurablePartitions.delete(key);
  }

  #rollbackQuietly(): void {
    try {
      if (this.#db.isTransaction) this.#rollback.run();
    } catch {
      // Nothing more to do: the connection is unusable or the transaction is already gone.
    }
  }
}

function itemKey(pk: string, sk: string): string {
  return `${pk}\u0000${sk}`;
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
