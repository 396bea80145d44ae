/**
 * `sluice` on Node.js: the client SDK with node:zlib compression (zstd by default), Buffers for
 * consumed keys and values and node:http for requests (node-runtime.ts). Browsers get browser.ts
 * instead (package.json "exports" → "browser").
 */
import { nodeRuntime } from './node-runtime.ts';
import { SluiceClient, type SluiceOptions } from './sluice.ts';

export * from './exports.ts';

export class Sluice extends SluiceClient {
  constructor(options: SluiceOptions) {
    super(options, nodeRuntime);
  }
}

export default Sluice;
