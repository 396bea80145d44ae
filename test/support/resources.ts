/**
 * What a test starts — servers, consumers, producers, proxies, timers — is registered here as it
 * starts and stopped when the test ends, pass or fail (`afterEach(() => resources.close())` or a
 * `finally`), newest first. A failed assertion then ends its file in seconds: nothing is left
 * heartbeating, auto-committing or retrying against a server that is gone, and no timer keeps the
 * process alive. Each close is bounded, so one stuck close cannot hold the others or the file.
 */

/** Stopping one thing may take this long before the others are stopped regardless. */
const CLOSE_TIMEOUT_MS = 15_000;

interface Disconnectable {
  disconnect(): Promise<void>;
}

export class Resources {
  #closers: Array<{ readonly what: string; readonly close: () => unknown }> = [];

  /** Runs `close` when the test ends. Returns `thing` for chaining. */
  defer<T>(thing: T, what: string, close: (thing: T) => unknown): T {
    this.#closers.push({ what, close: () => close(thing) });
    return thing;
  }

  /** A consumer or producer: disconnected when the test ends (disconnecting twice is harmless). */
  add<T extends Disconnectable>(client: T, what = 'client'): T {
    return this.defer(client, what, (c) => c.disconnect());
  }

  /** A server, proxy or browser: closed when the test ends. */
  closes<T extends { close(): unknown }>(thing: T, what = 'server'): T {
    return this.defer(thing, what, (t) => t.close());
  }

  /** Stops everything registered, newest first; throws the first failure after trying every one. */
  async close(): Promise<void> {
    const closers = this.#closers.reverse();
    this.#closers = [];
    const failures: unknown[] = [];
    for (const { what, close } of closers) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`closing ${what} took over ${CLOSE_TIMEOUT_MS} ms`)), CLOSE_TIMEOUT_MS);
      });
      try {
        await Promise.race([Promise.resolve().then(close), timeout]);
      } catch (error) {
        failures.push(error);
      } finally {
        clearTimeout(timer);
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}
