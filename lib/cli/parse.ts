/**
 * What the CLI's options mean, as pure functions: durations (`7d`), times (`2026-12-01T10:00:00Z`),
 * positions (`--from earliest|latest|<offset>|<time>`), headers (`k=v`), key scopes
 * (`<action>:<topic patterns>[:<group patterns>]`). A wrong value is a UsageError naming the option
 * and what it takes: the CLI prints it as one line and exits with status 2.
 */
import { UsageError } from './errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `500ms`, `30s`, `15m`, `12h`, `7d`, `2w`, or a plain number of ms; `forever`/`-1` → -1 (keep forever). */
export function parseDurationMs(text: string, option: string): number {
  const trimmed = text.trim();
  if (trimmed === 'forever' || trimmed === '-1') return -1;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(trimmed);
  if (!match) throw new UsageError(`${option} takes a duration like 30s, 15m, 12h, 7d, 2w (or forever), got ${JSON.stringify(text)}`);
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 'ms'];
  if (!Number.isSafeInteger(Math.round(ms))) throw new UsageError(`${option}: ${text} is too long`);
  return Math.round(ms);
}

/** An ISO-8601 date-time with a zone (`2026-12-01T10:00:00Z`, `…+01:00`) or a date (`2026-12-01`, midnight UTC) → ms since the epoch. */
export function parseTime(text: string, option: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;
  const ms = iso.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new UsageError(`${option} takes an ISO-8601 time with a zone, like 2026-12-01T10:00:00Z or 2026-12-01, got ${JSON.stringify(text)}`);
  }
  return ms;
}

export type StartPosition = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: string } | { kind: 'timestamp'; timestamp: number };

/** `--from`: earliest, latest, an offset, or an ISO-8601 time. */
export function parseStartPosition(text: string, option = '--from'): StartPosition {
  const value = text.trim();
  if (value === 'earliest' || value === 'beginning') return { kind: 'earliest' };
  if (value === 'latest' || value === 'end') return { kind: 'latest' };
  if (/^\d+$/.test(value)) return { kind: 'offset', offset: BigInt(value).toString() };
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) return { kind: 'timestamp', timestamp: parseTime(value, option) };
  throw new UsageError(`${option} takes earliest, latest, an offset or an ISO-8601 time, got ${JSON.stringify(text)}`);
}

export function parseNonNegativeInteger(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw new UsageError(`${option} takes a whole number ≥ 0, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function parsePositiveInteger(text: string, option: string): number {
  const n = parseNonNegativeInteger(text, option);
  if (n === 0) throw new UsageError(`${option} takes a whole number ≥ 1, got 0`);
  return n;
}

export type Headers = Record<string, string | string[]>;

/** `--headers k=v` (repeatable; a key given twice is sent twice, in order). */
export function parseHeaders(pairs: readonly string[]): Headers {
  const headers: Headers = Object.create(null);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--headers takes key=value, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else headers[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return { ...headers };
}

export const SCOPE_ACTIONS = ['admin', 'produce', 'consume'] as const;
export type ScopeAction = (typeof SCOPE_ACTIONS)[number];
export interface ScopeInput {
  readonly action: ScopeAction;
  readonly topics: string[];
  readonly groups?: string[];
}

/**
 * `--scope <action>:<topic patterns>[:<group patterns>]`, patterns comma-separated: a name, a prefix
 * ending in `*`, or `*` (the server checks them). `consume:orders*:billing` → consume topics that
 * start with "orders" in group "billing"; without group patterns the server's default (`*`) applies.
 */
export function parseScope(text: string): ScopeInput {
  const parts = text.split(':');
  const [action, topics, groups] = parts;
  if (parts.length < 2 || parts.length > 3 || !(SCOPE_ACTIONS as readonly string[]).includes(action) || !topics) {
    throw new UsageError(`--scope takes <action>:<topic patterns>[:<group patterns>] with action admin, produce or consume, like consume:orders*:billing, got ${JSON.stringify(text)}`);
  }
  const list = (value: string) => value.split(',').map((p) => p.trim()).filter(Boolean);
  if (groups !== undefined && list(groups).length === 0) throw new UsageError(`--scope ${text}: empty group patterns`);
  return { action: action as ScopeAction, topics: list(topics), ...(groups === undefined ? {} : { groups: list(groups) }) };
}

/** The value of `field` in a JSON object, a dotted path for nested fields (`user.id`); undefined when absent. */
export function fieldOf(value: unknown, field: string): unknown {
  let current: unknown = value;
  for (const name of field.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, name)) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return current;
}
