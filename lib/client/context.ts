/** What the Sluice object hands to the producers, consumers and admin clients it creates. */
import type { Compressor } from '../protocol/codecs.ts';
import type { RequestFunction } from './network/http.ts';
import type { SluiceApi } from './protocol/api.ts';
import type { RetryPolicy } from './retry/retry.ts';
import type { Logger } from './types.ts';

/** The differences between Node and browsers, chosen by the entry point (index.ts, browser.ts). */
export interface ClientRuntime {
  readonly name: 'node' | 'browser';
  readonly compressor: Compressor;
  /** How consumed keys, values and header values are handed out: Buffer views on Node, as is elsewhere. */
  readonly bytes: (view: Uint8Array) => Uint8Array;
  /** Default for consumer maxInFlightFetches (browsers allow ~6 HTTP/1.1 connections per origin). */
  readonly maxInFlightFetches: number;
  /** API calls and ranged GETs when the user passes no `fetch` (node:http on Node). @default globalThis.fetch */
  readonly request?: RequestFunction;
}

export interface ClientContext {
  readonly api: SluiceApi;
  readonly runtime: ClientRuntime;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Errors to console.error, the rest dropped: a library should not chatter unless asked. */
export const defaultLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(message, extra) {
    console.error(`sluice: ${message}`, extra ?? '');
  },
};
