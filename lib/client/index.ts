/**
 * `sluice` on Node.js: the client SDK with node:zlib compression (zstd by default) and Buffers for
 * consumed keys and values. Browsers get browser.ts instead (package.json "exports" → "browser").
 */
import { nodeCompressor } from '../protocol/compression.ts';
import type { ClientRuntime } from './context.ts';
import { SluiceClient, type SluiceOptions } from './sluice.ts';

export * from './exports.ts';

const nodeRuntime: ClientRuntime = {
  name: 'node',
  compressor: nodeCompressor,
  bytes: (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength),
  maxInFlightFetches: 32,
};

export class Sluice extends SluiceClient {
  constructor(options: SluiceOptions) {
    super(options, nodeRuntime);
  }
}

export default Sluice;
