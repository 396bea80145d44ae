/**
 * Which Sluice the CLI talks to, and with which key. Each of the URL and the API key comes from the
 * first of: the flag (`--url`, `--api-key`), the environment (`SLUICE_URL`, `SLUICE_API_KEY`), the
 * profile. The profile is `--profile <name>`, else `SLUICE_PROFILE`, else `default` when the config
 * file has one; the config file is `SLUICE_CONFIG`, else `$XDG_CONFIG_HOME/sluice/config.json`, else
 * `~/.config/sluice/config.json`:
 *
 *   { "profiles": { "default": { "url": "http://127.0.0.1:8787", "apiKey": "sluice_…" },
 *                   "prod": { "url": "https://abc.execute-api.eu-west-1.amazonaws.com", "apiKey": "sluice_…" } } }
 *
 * Without any URL the CLI talks to `sluice dev`'s default address; without a key it refuses.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../defaults.ts';
import { CliError, UsageError } from './errors.ts';

export const DEFAULT_URL = `http://127.0.0.1:${DEFAULTS.localPort}`;

export interface ConnectionFlags {
  readonly url?: string;
  readonly apiKey?: string;
  readonly profile?: string;
}

export type Source = 'flag' | 'env' | 'profile' | 'default';

export interface Connection {
  readonly url: string;
  readonly apiKey: string;
  /** Where each came from (shown by --verbose). */
  readonly from: { readonly url: Source; readonly apiKey: Source };
  readonly profile?: string;
}

interface Profile {
  readonly url?: string;
  readonly apiKey?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function configPath(env: Env): string {
  if (env.SLUICE_CONFIG) return env.SLUICE_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'sluice', 'config.json');
}

/** The profiles of the config file; none when the file does not exist. */
export function readProfiles(path: string): Record<string, Profile> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return {};
    throw new CliError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new CliError(`the config file ${path} is not JSON: ${(error as Error).message}`);
  }
  const profiles = (config as { profiles?: unknown } | null)?.profiles;
  if (profiles === undefined) return {};
  if (profiles === null || typeof profiles !== 'object' || Array.isArray(profiles)) throw new CliError(`${path}: "profiles" must be an object of name → { url, apiKey }`);
  const out: Record<string, Profile> = {};
  for (const [name, profile] of Object.entries(profiles as Record<string, unknown>)) {
    const p = profile as Record<string, unknown> | null;
    if (p === null || typeof p !== 'object' || (p.url !== undefined && typeof p.url !== 'string') || (p.apiKey !== undefined && typeof p.apiKey !== 'string')) {
      throw new CliError(`${path}: profile ${JSON.stringify(name)} must be { "url": string, "apiKey": string }`);
    }
    out[name] = { url: p.url as string | undefined, apiKey: p.apiKey as string | undefined };
  }
  return out;
}

export function resolveConnection(flags: ConnectionFlags, env: Env): Connection {
  const path = configPath(env);
  const named = flags.profile ?? (env.SLUICE_PROFILE || undefined);
  const needsProfile = named !== undefined || !(flags.url ?? env.SLUICE_URL) || !(flags.apiKey ?? env.SLUICE_API_KEY);
  const profiles = needsProfile ? readProfiles(path) : {};
  let profile: Profile = {};
  if (named !== undefined) {
    if (!Object.hasOwn(profiles, named)) {
      const known = Object.keys(profiles);
      throw new UsageError(`no profile ${JSON.stringify(named)} in ${path}${known.length ? ` (it has ${known.join(', ')})` : ''}`);
    }
    profile = profiles[named];
  } else if (Object.hasOwn(profiles, 'default')) {
    profile = profiles.default;
  }
  const profileName = named ?? (Object.hasOwn(profiles, 'default') ? 'default' : undefined);
  const pick = (flag: string | undefined, fromEnv: string | undefined, fromProfile: string | undefined): [string | undefined, Source] =>
    flag ? [flag, 'flag'] : fromEnv ? [fromEnv, 'env'] : fromProfile ? [fromProfile, 'profile'] : [undefined, 'default'];
  const [url, urlFrom] = pick(flags.url, env.SLUICE_URL, profile.url);
  const [apiKey, keyFrom] = pick(flags.apiKey, env.SLUICE_API_KEY, profile.apiKey);
  const endpoint = url ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/\s]+/i.test(endpoint)) throw new UsageError(`the URL must be http(s)://host[:port], got ${JSON.stringify(endpoint)}`);
  if (!apiKey) {
    throw new UsageError(`no API key: pass --api-key, set SLUICE_API_KEY, or give the profile an "apiKey" in ${path} (\`sluice dev\` prints the admin key at its first start)`);
  }
  return { url: endpoint, apiKey, from: { url: urlFrom, apiKey: keyFrom }, ...(profileName === undefined ? {} : { profile: profileName }) };
}
