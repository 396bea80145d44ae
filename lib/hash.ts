import { createHash } from 'node:crypto';

/**
 * SHA-256 as hex. node:crypto's one-shot hash runs on this thread in microseconds; WebCrypto's digest
 * queues a job on libuv's thread pool, where every request's authentication waited behind the file and
 * WAL fsyncs of concurrent produces. (Server and Lambda code only: Node.)
 */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return createHash('sha256').update(data).digest('hex');
}
