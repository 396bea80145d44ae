/**
 * `sluice` in browsers: the same client with Compression Streams for gzip (the default codec here:
 * browsers cannot compress zstd) and fzstd to read zstd batches written by Node producers. Consumed
 * keys and values are Uint8Arrays. No Node.js import anywhere below this module.
 */
import { webCompressor } from '../protocol/compression-web.ts';
import type { ClientRuntime } from './context.ts';
import { SluiceClient, type SluiceOptions } from './sluice.ts';

export * from './exports.ts';

const browserRuntime: ClientRuntime = {
  name: 'browser',
  compressor: webCompressor,
  bytes: (view) => view,
  // HTTP/1.1 allows ~6 connections per origin; leave room for produce requests beside long polls
  maxInFlightFetches: 4,
};

export class Sluice extends SluiceClient {
  constructor(options: SluiceOptions) {
    super(options, browserRuntime);
  }
}

export default Sluice;
