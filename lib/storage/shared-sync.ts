/**
 * Group commit of one fsync. request() resolves after a run that started after the request, so the
 * run covers every write made before the request. At most one run is going at a time; requests made
 * while it runs share the one run queued behind it. N concurrent writers thus pay about two fsyncs
 * between them instead of N, and a lone writer pays exactly one.
 */
export class SharedSync {
  readonly #run: () => Promise<void>;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** Called when a run ends with nothing queued behind it. */
  onIdle: () => void = () => undefined;

  constructor(run: () => Promise<void>) {
    this.#run = run;
  }

  /** True while a run is going or queued. */
  get busy(): boolean {
    return this.#running !== undefined || this.#next !== undefined;
  }

  request(): Promise<void> {
    if (!this.#running) return this.#start();
    // The running sync may have started before the caller's write: the caller needs the next one.
    this.#next ??= this.#running.then(ignore, ignore).then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  #start(): Promise<void> {
    const run = this.#run();
    this.#running = run;
    const settle = () => {
      if (this.#running !== run) return;
      this.#running = undefined;
      if (!this.#next) this.onIdle();
    };
    run.then(settle, settle);
    return run;
  }
}

function ignore(): void {}
