/**
 * JSON text with bigints, once for everything stored as JSON (SQLite item attributes, idempotency
 * intents' reservations): a bigint is written as {"$n": "<decimal>"} and read back as a bigint, so it
 * round-trips exactly and cannot be mistaken for a string a user wrote.
 */
export function stringifyWithBigints(value: unknown): string {
  return JSON.stringify(value, (_key, field) => (typeof field === 'bigint' ? { $n: field.toString() } : field));
}

export function parseWithBigints(text: string): unknown {
  return JSON.parse(text, (_key, field) => (field !== null && typeof field === 'object' && typeof field.$n === 'string' ? BigInt(field.$n) : field));
}
