/**
 * Presigned ranged object URLs for the local server, the counterpart of S3 presigned GETs:
 *   GET /v1/objects/<key>?start=<n>&end=<n>&expires=<ms>&signature=<hex HMAC-SHA256>
 * The signature covers key, range and expiry, so a URL reads exactly one range of one object until it
 * expires. The secret lives only in the server's memory.
 */
import { createHmac, createSecretKey, timingSafeEqual, randomBytes, type KeyObject } from 'node:crypto';
import { SluiceError } from '../errors.ts';
import type { ByteRange, ObjectStore } from '../storage/ports.ts';

export const OBJECT_ROUTE_PREFIX = '/v1/objects/';

export class ObjectUrlSigner {
  /** A KeyObject made once: createHmac with a Buffer imports the key anew on every call (~4× the cost of the MAC itself here). */
  readonly #secret: KeyObject;
  readonly #baseUrl: () => string;
  readonly #now: () => number;

  constructor(options: { baseUrl: () => string; secret?: Buffer; now?: () => number }) {
    this.#secret = createSecretKey(options.secret ?? randomBytes(32));
    this.#baseUrl = options.baseUrl;
    this.#now = options.now ?? Date.now;
  }

  #mac(key: string, range: ByteRange, expires: number): Buffer {
    return createHmac('sha256', this.#secret).update(`${key}\n${range.start}\n${range.end}\n${expires}`).digest();
  }

  sign(key: string, range: ByteRange, expiresInSeconds: number): string {
    const expires = this.#now() + expiresInSeconds * 1000;
    const signature = this.#mac(key, range, expires).toString('hex');
    const path = key.split('/').map(encodeURIComponent).join('/');
    return `${this.#baseUrl()}${OBJECT_ROUTE_PREFIX}${path}?start=${range.start}&end=${range.end}&expires=${expires}&signature=${signature}`;
  }

  /** The object key and range a request may read, or FORBIDDEN. */
  verify(path: string, query: URLSearchParams, rangeHeader: string | undefined): { key: string; range: ByteRange } {
    let key: string;
    try {
      key = decodeURIComponent(path.slice(OBJECT_ROUTE_PREFIX.length));
    } catch {
      throw new SluiceError('FORBIDDEN', 'bad signature');
    }
    const start = Number(query.get('start'));
    const end = Number(query.get('end'));
    const expires = Number(query.get('expires'));
    const signature = Buffer.from(query.get('signature') ?? '', 'hex');
    const range = { start, end };
    const expected = this.#mac(key, range, expires);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new SluiceError('FORBIDDEN', 'bad signature');
    }
    if (expires < this.#now()) throw new SluiceError('FORBIDDEN', 'this URL has expired');
    if (rangeHeader !== undefined && rangeHeader !== `bytes=${start}-${end}`) {
      throw new SluiceError('FORBIDDEN', `this URL is signed for Range: bytes=${start}-${end} only`);
    }
    return { key, range };
  }

  /** The store, able to presign with this signer. */
  wrap(store: ObjectStore): ObjectStore {
    return {
      put: (key, body) => store.put(key, body),
      get: (key, range) => store.get(key, range),
      delete: (keys) => store.delete(keys),
      list: (prefix) => store.list(prefix),
      presignGet: async (key, range, expiresInSeconds) => this.sign(key, range, expiresInSeconds),
    };
  }
}
