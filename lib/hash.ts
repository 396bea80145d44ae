import { createHash } from 'node:crypto';

/**
 * SHA-256 as hex. node:crypto's one-shot hash runs on this thread in microseconds; WebCrypto's digest
 * queues a job on libuv's thread pool, where every request's authentication waited behind the file and
 * WAL fsyncs of concurrent produces. Several parts hash as their concatenation, without building it.
 * (Server and Lambda code only: Node.)
 */
export async function sha256Hex(...parts: ReadonlyArray<string | Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
