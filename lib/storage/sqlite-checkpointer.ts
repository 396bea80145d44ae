/**
 * WAL checkpoints of a SQLite database on a worker thread, off the event loop.
 *
 * SQLite checkpoints by itself inside the COMMIT that takes the WAL past 1,000 pages: it copies the
 * WAL's pages into the database file and fsyncs both, on the thread that committed — for the local
 * server, its one JavaScript thread, every request waiting meanwhile (16 producers × 16 KiB straight
 * into the engine: event loop delay p99 8.2–10.1 ms with those checkpoints, 5.8–6.6 ms with this
 * worker's; 3,704–4,156 and 4,121–4,341 appends/s in two A/B pairs). So the
 * store turns that off (`PRAGMA wal_autocheckpoint = 0`) and asks this checkpointer instead, which
 * runs `PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own in a worker thread. PASSIVE never
 * waits for and never blocks the store's writers; SQLite syncs the WAL before copying and the
 * database after, as in its own checkpoints, so nothing reaches the database file that the WAL did
 * not hold durably, and a crash at any moment is recovered as before. When every frame has been
 * copied, the store's next write transaction starts the WAL over from its beginning.
 *
 * A checkpoint copies only what was committed when it began; under a steady stream of writes it may
 * never catch up, and the WAL would grow without end. So every answer says how far the WAL reaches
 * and how much of it is copied, and when more than `maxPendingFrames` are left the store checkpoints
 * on its own thread between two transactions (where nothing can overtake it), as SQLite would have.
 * A worker that fails or exits hands checkpoints back to SQLite (`onFailure`).
 *
 * The worker's code is a string (`eval: true`) rather than a module file of its own: bundled builds
 * (the CLI's `sluice dev`) carry one file, and a separate worker file would not be in it.
 */
import { Worker } from 'node:worker_threads';

/** What one checkpoint found: the WAL's frames and how many of them are now in the database file. */
export interface CheckpointResult {
  /** SQLITE_BUSY: another checkpoint held the lock; nothing was done. */
  readonly busy: boolean;
  readonly walFrames: number;
  readonly checkpointedFrames: number;
}

// Dynamic imports: the same text runs whether Node evaluates it as CommonJS or as a module.
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { DatabaseSync } = await import('node:sqlite');
  try {
    const db = new DatabaseSync(workerData.path);
    db.exec('PRAGMA busy_timeout = 0');
    db.exec('PRAGMA synchronous = NORMAL');
    const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    parentPort.on('message', () => {
      try {
        const row = checkpoint.get();
        parentPort.postMessage({ busy: row.busy === 1, walFrames: row.log, checkpointedFrames: row.checkpointed });
      } catch (error) {
        parentPort.postMessage({ error: String((error && error.message) || error) });
      }
    });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
})();
`;

export interface WalCheckpointerOptions {
  /** The database file (not the WAL). */
  readonly path: string;
  /** Each finished checkpoint. */
  readonly onResult: (result: CheckpointResult) => void;
  /** The worker could not open the database, a checkpoint threw, or the worker exited: no more checkpoints from it. */
  readonly onFailure: (error: Error) => void;
}

export class WalCheckpointer {
  readonly #options: WalCheckpointerOptions;
  #worker: Worker | undefined;
  #running = false;
  #again = false;
  #stopped = false;

  constructor(options: WalCheckpointerOptions) {
    this.#options = options;
  }

  /** Checkpoints soon: now, or after the one running (requests meanwhile share that next one). */
  request(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#start().postMessage('checkpoint');
  }

  /** Whether a checkpoint is running or asked for. */
  get busy(): boolean {
    return this.#running;
  }

  /** Stops the worker (a checkpoint in progress finishes first: SQLite calls are not interrupted). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    void this.#worker?.terminate();
    this.#worker = undefined;
  }

  /** The worker, started on the first request: most stores (and every test store) never need one. */
  #start(): Worker {
    if (this.#worker) return this.#worker;
    // execArgv empty: none of the process's flags (--input-type, --import of test hooks) apply to this code
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { path: this.#options.path } });
    worker.on('message', (message: CheckpointResult | { error: string }) => {
      if ('error' in message) return this.#fail(new Error(`WAL checkpoint: ${message.error}`));
      this.#running = false;
      this.#options.onResult(message);
      if (this.#again) {
        this.#again = false;
        this.request();
      }
    });
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      if (!this.#stopped) this.#fail(new Error(`WAL checkpoint worker exited with code ${code}`));
    });
    worker.unref(); // never what keeps a process alive; after the listeners (a 'message' listener refs the port again)
    this.#worker = worker;
    return worker;
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.stop();
    this.#running = false;
    this.#options.onFailure(error);
  }
}
