/**
 * The port's condition and update semantics, evaluated in process. Used by the memory and SQLite
 * adapters (DynamoDB evaluates the same semantics server side) so both behave exactly alike.
 */
// Tagged as lib/json-bigint.ts tags bigints ({"$n": "<decimal>"}), so stored text reads the same either way.
import { ConditionFailedError } from '../errors.ts';
import type { Clause, Condition, Item, QueryOptions, Scalar, UpdateChanges } from './ports.ts';

function compare(a: Scalar, b: Scalar): number | undefined {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array ? compareBytes(a, b) : undefined;
  }
  if (typeof a !== typeof b) return undefined;
  if (a === b) return 0;
  if (typeof a === 'boolean') return undefined;
  return a < b ? -1 : 1;
}

/** Unsigned byte order, a shorter prefix first (DynamoDB's order for binary values). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function holds(item: Item | undefined, clause: Clause): boolean {
  if ('anyOf' in clause) return clause.anyOf.some((c) => holds(item, c));
  const value = item?.[clause.attr];
  switch (clause.op) {
    case 'exists':
      return value !== undefined;
    case 'notExists':
      return value === undefined;
  }
  if (value === undefined) return false;
  const order = compare(value, clause.value);
  if (order === undefined) return clause.op === '<>';
  switch (clause.op) {
    case '=':
      return order === 0;
    case '<>':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

export function checkCondition(item: Item | undefined, condition: Condition | undefined): void {
  if (!condition) return;
  if (condition.itemExists === true && !item) throw new ConditionFailedError('item does not exist');
  if (condition.itemExists === false && item) throw new ConditionFailedError('item exists');
  for (const clause of condition.where ?? []) {
    if (!holds(item, clause)) throw new ConditionFailedError(`condition failed: ${JSON.stringify(clause, replacer)}`);
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return value instanceof Uint8Array ? `<${value.length} bytes>` : value;
}

export function applyUpdate(pk: string, sk: string, item: Item | undefined, changes: UpdateChanges): Item {
  // The key is the item's identity: setting or removing pk/sk would store an item whose attributes
  // disagree with where it is stored (DynamoDB refuses such an update too).
  for (const attr of [...Object.keys(changes.set ?? {}), ...Object.keys(changes.add ?? {}), ...(changes.remove ?? [])]) {
    if (attr === 'pk' || attr === 'sk') throw new TypeError(`cannot update key attribute ${attr}`);
  }
  const next: Record<string, Scalar> = { ...(item ?? {}), pk, sk };
  for (const [attr, value] of Object.entries(changes.set ?? {})) next[attr] = value;
  for (const [attr, delta] of Object.entries(changes.add ?? {})) {
    const current = next[attr] ?? 0n;
    if (typeof current !== 'bigint') throw new TypeError(`cannot add to non-integer attribute ${attr}`);
    next[attr] = current + delta;
  }
  for (const attr of changes.remove ?? []) delete next[attr];
  return next as Item;
}

export function inRange(sk: string, options: QueryOptions): boolean {
  if (options.gte !== undefined && sk < options.gte) return false;
  if (options.gt !== undefined && sk <= options.gt) return false;
  if (options.lte !== undefined && sk > options.lte) return false;
  if (options.lt !== undefined && sk >= options.lt) return false;
  return true;
}

/**
 * Item attributes as JSON text, with bigints tagged so they round-trip (lib/json-bigint.ts) and bytes
 * as {"$b": "<base64>"} (only top-level attributes hold bytes).
 */
export function itemToJson(item: Item): string {
  // Items are flat (Scalar attributes only), so tagging the top level is all stringifyWithBigints'
  // replacer would do, without a callback per key.
  const tagged: Record<string, unknown> = {};
  for (const [attr, value] of Object.entries(item)) {
    if (typeof value === 'bigint') tagged[attr] = { $n: value.toString() };
    else if (value instanceof Uint8Array) tagged[attr] = { $b: Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64') };
    else tagged[attr] = value;
  }
  return JSON.stringify(tagged);
}

/**
 * Inverse of itemToJson. A plain JSON.parse and one pass over the top level: a reviver (parseWithBigints)
 * is called for every value and made reading a partition's entries (the readable head walks them on
 * every fetch and locations call) one of the local server's largest costs.
 */
export function itemFromJson(text: string): Item {
  const item = JSON.parse(text) as Record<string, unknown>;
  for (const attr of Object.keys(item)) {
    const value = item[attr];
    if (value === null || typeof value !== 'object') continue;
    const tagged = value as { $n?: unknown; $b?: unknown };
    if (typeof tagged.$n === 'string') item[attr] = BigInt(tagged.$n);
    else if (typeof tagged.$b === 'string') item[attr] = new Uint8Array(Buffer.from(tagged.$b, 'base64'));
  }
  return item as Item;
}

/** A copy whose byte attributes are copies too: a store's items never share memory with a caller's. */
export function copyItem<T extends Item>(item: T): T {
  const copy: Record<string, Scalar> = { ...item };
  for (const [attr, value] of Object.entries(copy)) if (value instanceof Uint8Array) copy[attr] = value.slice();
  return copy as T;
}
