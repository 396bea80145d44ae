/**
 * Delivery secrets, sealed at rest. The dispatcher signs every delivery with its consumer's secret,
 * so the secret cannot be stored as a hash (as API keys are): it is encrypted, behind this port.
 *
 *   AesGcmSecretBox   locally: AES-256-GCM (node:crypto) with a 32-byte key that lives apart from the
 *                     database — SLUICE_SECRET_KEY (base64) or its own file beside it, mode 0600 — so a
 *                     copy of the SQLite file alone reveals no secret
 *   KmsSecretBox      in AWS: KMS Encrypt/Decrypt with the deployment's key; only the admin function
 *                     (which creates consumers) may encrypt and only the dispatcher may decrypt
 *
 * The consumer's name is bound to the ciphertext (AES-GCM additional data, KMS encryption context),
 * so a sealed secret copied onto another consumer's item does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SluiceError } from '../errors.ts';

export interface SecretBox {
  seal(plain: string, context: string): Promise<string>;
  open(sealed: string, context: string): Promise<string>;
}

const AES_PREFIX = 'aesgcm1';

export class AesGcmSecretBox implements SecretBox {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('AesGcmSecretBox needs a 32-byte key');
    this.#key = Buffer.from(key);
  }

  async seal(plain: string, context: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${AES_PREFIX}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  async open(sealed: string, context: string): Promise<string> {
    const [prefix, iv, body] = sealed.split('.');
    if (prefix !== AES_PREFIX || !iv || !body) throw new SluiceError('INTERNAL', 'a sealed secret is not in the AES-GCM format');
    const bytes = Buffer.from(body, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new SluiceError('INTERNAL', 'a sealed secret does not open with this key (was the secret key replaced?)', { cause: error });
    }
  }
}

/**
 * The local secret key: SLUICE_SECRET_KEY (32 bytes, base64) when set, else the file at `path`,
 * created on first use with 32 random bytes and mode 0600.
 */
export async function localSecretKey(path: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Uint8Array> {
  const fromEnv = env.SLUICE_SECRET_KEY;
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length !== 32) throw new Error('SLUICE_SECRET_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
    return key;
  }
  try {
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new Error(`${path} must hold 32 bytes, base64-encoded`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await mkdir(dirname(path), { recursive: true });
  // 'wx': never overwrite a key another process has just written.
  try {
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return localSecretKey(path, {});
    throw error;
  }
  await chmod(path, 0o600);
  return key;
}

/** The two KMS calls, so tests can supply them and the AWS SDK stays out of the local path. */
export interface KmsCalls {
  encrypt(input: { KeyId: string; Plaintext: Uint8Array; EncryptionContext: Record<string, string> }): Promise<{ CiphertextBlob?: Uint8Array }>;
  decrypt(input: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: Record<string, string> }): Promise<{ Plaintext?: Uint8Array }>;
}

const KMS_PREFIX = 'kms1';

export class KmsSecretBox implements SecretBox {
  readonly #kms: KmsCalls;
  readonly #keyId: string;

  constructor(kms: KmsCalls, keyId: string) {
    this.#kms = kms;
    this.#keyId = keyId;
  }

  async seal(plain: string, context: string): Promise<string> {
    const { CiphertextBlob } = await this.#kms.encrypt({ KeyId: this.#keyId, Plaintext: Buffer.from(plain), EncryptionContext: { consumer: context } });
    if (!CiphertextBlob) throw new SluiceError('UNAVAILABLE', 'KMS returned no ciphertext');
    return `${KMS_PREFIX}.${Buffer.from(CiphertextBlob).toString('base64url')}`;
  }

  async open(sealed: string, context: string): Promise<string> {
    const [prefix, body] = sealed.split('.');
    if (prefix !== KMS_PREFIX || !body) throw new SluiceError('INTERNAL', 'a sealed secret is not in the KMS format');
    const { Plaintext } = await this.#kms.decrypt({ KeyId: this.#keyId, CiphertextBlob: Buffer.from(body, 'base64url'), EncryptionContext: { consumer: context } });
    if (!Plaintext) throw new SluiceError('UNAVAILABLE', 'KMS returned no plaintext');
    return Buffer.from(Plaintext).toString('utf8');
  }
}

/** A new delivery secret: 32 random bytes, shown once. */
export function newDeliverySecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
