/**
 * The local service's settings from the environment (`npm start`, and `sluice dev` by the CLI), checked
 * before anything starts, and start-up failures as one line a person can act on. Mistakes exit with
 * one line on stderr and a non-zero status, never a stack trace.
 *
 *   PORT                  0-65535 (0: any free port)               default 8787
 *   HOST                  interface to bind                        default 127.0.0.1
 *   SLUICE_DATA_DIR       folder for objects and SQLite metadata   default ./.sluice-data
 *   SLUICE_API_KEY        bootstrap admin key, ≥ 16 characters, no spaces; default: generated once
 *   SLUICE_CORS_ORIGINS   comma-separated origins (`https://app.example.com`) or `*`
 *   SLUICE_QUIET          1: no request lines
 */
import { resolve } from 'node:path';
import { DEFAULTS } from '../defaults.ts';
import type { LocalServiceSettings } from './service.ts';

/** The least length of a bootstrap key chosen by hand (ApiKeys.ensure refuses shorter ones too). */
export const MIN_API_KEY_LENGTH = 16;

/** A setting is wrong, or the service could not start; `message` is the one line to print. */
export class SettingsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SettingsError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The settings, or SettingsError naming the variable and what it must be. */
export function parseLocalSettings(env: Env = process.env): LocalServiceSettings {
  const port = env.PORT === undefined || env.PORT === '' ? DEFAULTS.localPort : parsePort(env.PORT);
  const host = env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST.trim();
  if (/\s/.test(host) || host.length === 0) throw new SettingsError(`HOST must be a host name or address, got ${JSON.stringify(env.HOST)}`);
  const apiKey = env.SLUICE_API_KEY || undefined;
  if (apiKey !== undefined && (apiKey.length < MIN_API_KEY_LENGTH || /\s/.test(apiKey))) {
    throw new SettingsError(`SLUICE_API_KEY must be at least ${MIN_API_KEY_LENGTH} characters without spaces (it has ${apiKey.length}); leave it unset to have one generated`);
  }
  const corsOrigins = env.SLUICE_CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of corsOrigins ?? []) {
    if (origin !== '*' && !isOrigin(origin)) throw new SettingsError(`SLUICE_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin like https://app.example.com (or *)`);
  }
  if (env.SLUICE_QUIET !== undefined && !['', '0', '1'].includes(env.SLUICE_QUIET)) throw new SettingsError(`SLUICE_QUIET must be 1 or 0, got ${JSON.stringify(env.SLUICE_QUIET)}`);
  return {
    dataDir: resolve(env.SLUICE_DATA_DIR || '.sluice-data'),
    port,
    host,
    apiKey,
    corsOrigins,
    quiet: env.SLUICE_QUIET === '1',
  };
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new SettingsError(`PORT must be a port number from 0 to 65535, got ${JSON.stringify(text)}`);
  return Number(text);
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/** One line for an error thrown while starting: the port in use, no permission, a data folder that cannot be used. */
export function describeStartupError(error: unknown, settings: Pick<LocalServiceSettings, 'port' | 'host' | 'dataDir'>): string {
  if (error instanceof SettingsError) return error.message;
  const code = (error as { code?: unknown }).code;
  const where = `${settings.host}:${settings.port}`;
  if (code === 'EADDRINUSE') return `port ${settings.port} on ${settings.host} is in use: stop what is listening there or set PORT to another port`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `cannot listen on ${where}: HOST ${settings.host} is not an address of this machine`;
  if (code === 'EACCES' && (error as { syscall?: string }).syscall === 'listen') return `no permission to listen on ${where}: use a port above 1023`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR') return `cannot use the data folder ${settings.dataDir}: ${(error as Error).message}`;
  return `could not start: ${error instanceof Error ? error.message : String(error)}`;
}
