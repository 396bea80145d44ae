/**
 * MetadataStore over SQLite (`node:sqlite`): the embedded default. One table of (pk, sk, attrs), the
 * attributes as JSON with tagged bigints (item-semantics.ts), so conditions and updates are evaluated
 * in process with exactly the memory adapter's semantics.
 *
 * Every conditional write reads, checks and writes inside one BEGIN IMMEDIATE transaction: the write
 * lock is taken up front, so two processes sharing the file cannot both pass the same check. Within one
 * process the synchronous API already runs each call to completion. The database is in WAL mode with
 * synchronous=FULL: a write is durable (survives power loss) when its promise resolves, which the
 * produce acknowledgement relies on.
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
}

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

  constructor(options: SqliteMetadataStoreOptions) {
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

  close(): void {
    this.#db.close();
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    try {
      return this.#read(pk, sk);
    } catch (error) {
      throw translateSqliteError(error, 'get');
    }
  }

  async put(item: Item, condition?: Condition): Promise<void> {
    this.#transaction('put', () => {
      if (condition) checkCondition(this.#read(item.pk, item.sk), condition);
      this.#upsert.run(item.pk, item.sk, itemToJson(item));
    });
  }

  async update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    return this.#transaction('update', () => {
      const current = this.#read(pk, sk);
      checkCondition(current, condition);
      const next = applyUpdate(pk, sk, current, changes);
      this.#upsert.run(pk, sk, itemToJson(next));
      return options?.returnValues === 'old' ? (current ?? { pk, sk }) : next;
    });
  }

  async delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    this.#transaction('delete', () => {
      if (condition) checkCondition(this.#read(pk, sk), condition);
      this.#remove.run(pk, sk);
    });
  }

  async deleteExpired(nowSeconds: number): Promise<number> {
    // Attributes are JSON with bigints tagged as {"$n": "…"} (item-semantics.ts).
    const result = this.#db
      .prepare(`DELETE FROM items WHERE CAST(json_extract(attrs, '$.${EXPIRES_AT}."$n"') AS INTEGER) <= ?`)
      .run(nowSeconds);
    return Number(result.changes);
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

  /** Runs `body` in a write transaction; errors it throws (ConditionFailedError, TypeError) roll back and pass through. */
  #transaction<T>(what: string, body: () => T): T {
    try {
      this.#begin.run();
    } catch (error) {
      throw translateSqliteError(error, what);
    }
    let result: T;
    try {
      result = body();
    } catch (error) {
      this.#rollbackQuietly();
      if (isSqliteError(error)) throw translateSqliteError(error, what);
      throw error;
    }
    try {
      this.#commit.run();
    } catch (error) {
      // A failed COMMIT (disk full, I/O error) may leave the transaction open; make sure it is not.
      this.#rollbackQuietly();
      throw translateSqliteError(error, what);
    }
    return result;
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
