/**
 * Named points in a client's network traffic where a test holds one request (before it reaches the
 * server) or one answer (after the server has acted on it), to place an interleaving exactly where it
 * wants it instead of hoping the machine is slow enough: `gates.hold('POST', /\/offsets$/)` returns a
 * gate; `await gate.reached` waits until a matching request is held; `gate.release()` lets it go on.
 * A held request honours its AbortSignal, as a real one in flight would.
 */
import type { FetchFunction } from '../../../lib/client/network/http.ts';

export interface Gate {
  /** Resolves once a matching request (or answer) is being held. */
  readonly reached: Promise<void>;
  /** Lets the held request (and every later match) through. */
  release(): void;
  /** Matching requests seen so far. */
  readonly matched: number;
}

interface Rule {
  readonly method: string;
  readonly path: RegExp;
  readonly where: 'request' | 'answer';
  /** Which match to hold (0 = the next one). */
  skip: number;
  released: boolean;
  matched: number;
  readonly reached: PromiseWithResolvers<void>;
  readonly open: PromiseWithResolvers<void>;
}

export class NetworkGates {
  readonly #rules: Rule[] = [];
  readonly #inner: FetchFunction;

  constructor(inner: FetchFunction = (input, init) => globalThis.fetch(input, init)) {
    this.#inner = inner;
  }

  /** Holds the next request matching method and path (`where: 'answer'`: forwards it, holds its answer). */
  hold(method: string, path: RegExp, options: { where?: 'request' | 'answer'; skip?: number } = {}): Gate {
    const rule: Rule = {
      method,
      path,
      where: options.where ?? 'request',
      skip: options.skip ?? 0,
      released: false,
      matched: 0,
      reached: Promise.withResolvers<void>(),
      open: Promise.withResolvers<void>(),
    };
    this.#rules.push(rule);
    return {
      reached: rule.reached.promise,
      release: () => {
        rule.released = true;
        rule.open.resolve();
      },
      get matched() {
        return rule.matched;
      },
    };
  }

  /** Lets everything through (for the end of a test). */
  releaseAll(): void {
    for (const rule of this.#rules) {
      rule.released = true;
      rule.open.resolve();
    }
  }

  readonly fetch: FetchFunction = async (input, init) => {
    const method = init.method ?? 'GET';
    const { pathname } = new URL(input);
    const rule = this.#rules.find((r) => !r.released && r.method === method && r.path.test(pathname));
    if (!rule) return this.#inner(input, init);
    rule.matched++;
    if (rule.matched <= rule.skip) return this.#inner(input, init);
    if (rule.where === 'request') {
      rule.reached.resolve();
      await waitOrAbort(rule.open.promise, init.signal ?? undefined);
      return this.#inner(input, init);
    }
    const answer = await this.#inner(input, init);
    const body = await answer.arrayBuffer();
    rule.reached.resolve();
    await waitOrAbort(rule.open.promise, init.signal ?? undefined);
    return new Response(body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  };
}

function waitOrAbort(open: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return open;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    open.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
