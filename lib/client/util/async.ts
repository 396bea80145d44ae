/** Small async helpers: abortable sleep, a wake-up signal, a counting semaphore. */

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Resolves after ms, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Level-triggered wake-up: wait() resolves at the next notify() (or at once if one is pending). */
export class Signal {
  #pending = false;
  #waiters: Array<() => void> = [];

  notify(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) {
      this.#pending = true;
      return;
    }
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  wait(timeoutMs?: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(wake);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const i = this.#waiters.indexOf(wake);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve();
        }, timeoutMs);
      }
    });
  }
}

/** At most `limit` holders at once; acquire() resolves in FIFO order. */
export class Semaphore {
  #available: number;
  #queue: Array<() => void> = [];

  constructor(limit: number) {
    this.#available = limit;
  }

  tryAcquire(): boolean {
    if (this.#available > 0 && this.#queue.length === 0) {
      this.#available--;
      return true;
    }
    return false;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#available++;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}

/** 16 random bytes as 32 hex characters (crypto.getRandomValues: every browser context and Node). */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
