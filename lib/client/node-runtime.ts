/** What the Node entry point (index.ts) binds the client to: node:zlib, Buffers, node:http. */
import { nodeCompressor } from '../protocol/compression.ts';
import type { ClientRuntime } from './context.ts';
import { nodeRequest } from './network/node-request.ts';

export const nodeRuntime: ClientRuntime = {
  name: 'node',
  compressor: nodeCompressor,
  bytes: (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength),
  maxInFlightFetches: 32,
  request: nodeRequest,
};
