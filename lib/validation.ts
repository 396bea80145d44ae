/**
 * Request validation with messages a person can act on. Every zod parse of client input goes through
 * `parseInput`, which turns the first issue into one sentence naming the field:
 *
 *   records[3].partition: expected a non-negative integer, got -1
 *   scopes[0]: unknown field "topic"
 *
 * Messages written in a schema (`.regex(re, 'expected base64')`, `.refine(f, 'give key or keyBase64,
 * not both')`) are kept; zod's defaults are replaced by the phrasing below. It sits beside errors.ts
 * (not in lib/http) because the auth, log and group layers validate their own inputs too.
 */
import type * as z from 'zod';
import { SluiceError } from './errors.ts';

export interface ParseOptions {
  /** The name of the value being parsed, used as the start of every path (`scopes`, `config`). */
  readonly field?: string;
  /** What to call the whole value when an issue is about it rather than a field. @default the body */
  readonly whole?: string;
}

/** Stands for "no message in the schema": such issues get the phrasing of `describeIssue`. */
const DEFAULT_MESSAGE = '\u0000default';

/** The parsed value, or INVALID_REQUEST with a one-sentence message and `details.field`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, options: ParseOptions = {}): z.output<S> {
  const parsed = schema.safeParse(input, { error: () => DEFAULT_MESSAGE, reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = formatPath([...(options.field ? [options.field] : []), ...issue.path]);
  let message: string;
  if (issue.message === DEFAULT_MESSAGE) message = describeIssue(issue, schemaAt(schema, issue.path));
  // A schema's own message for a format names what is expected ('a topic name'): say so, and what came.
  else if (issue.code === 'invalid_format' && !issue.message.startsWith('expected ')) message = `expected ${issue.message}, got ${describeValue(issue.input)}`;
  else if (issue.message.startsWith('expected ') && !issue.message.includes(', got ') && issue.input !== undefined) message = `${issue.message}, got ${describeValue(issue.input)}`;
  else message = issue.message;
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
  throw new SluiceError('INVALID_REQUEST', `${field || options.whole || 'the body'}: ${message}${more}`, { details: field ? { field } : {} });
}

/** `records[3].partition`, `["weird key"]` for keys that are not identifiers. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** A message in the form `expected …, got …`; the input is described, never echoed at length. */
function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType | undefined): string {
  const got = `got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required but missing';
    // falls through
    case 'invalid_union':
      return `expected ${schema ? describeSchema(schema) : article(issue.code === 'invalid_type' ? String(issue.expected) : 'other value')}, ${got}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? `at least ${String(issue.minimum)}` : `at most ${String(issue.maximum)}`;
      if (issue.origin === 'string') return `expected ${bound} characters, got ${String((issue.input as string).length)}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `expected ${bound} items, got ${(issue.input as unknown[]).length}`;
      return `expected ${schema ? describeSchema(schema) : `a number ${bound}`}, ${got}`;
    }
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, ${got}`;
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? `text matching ${String((issue as { pattern?: unknown }).pattern)}` : article(issue.format)}, ${got}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}, ${got}`;
    default:
      return `invalid value, ${got}`;
  }
}

/** The schema that validates the value at `path`, when it can be told without the value. */
function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let schema: SchemaInternals | undefined = root as unknown as SchemaInternals;
  for (const key of path) {
    schema = schema && unwrap(schema);
    if (!schema) return undefined;
    if (schema.type === 'object') schema = (schema.shape as Record<string, SchemaInternals> | undefined)?.[String(key)];
    else if (schema.type === 'array') schema = schema.element;
    else if (schema.type === 'record') schema = schema.valueType;
    else return undefined;
  }
  return schema && (unwrap(schema) as unknown as z.ZodType);
}

function unwrap(schema: SchemaInternals): SchemaInternals {
  let s = schema;
  while ((s.type === 'optional' || s.type === 'nullable' || s.type === 'default') && s.unwrap) s = s.unwrap() as unknown as SchemaInternals;
  return s;
}

interface SchemaInternals {
  readonly type: string;
  readonly minValue?: number | bigint | null;
  readonly maxValue?: number | bigint | null;
  readonly isInt?: boolean;
  readonly format?: string | null;
  readonly options?: readonly unknown[];
  readonly shape?: unknown;
  readonly element?: SchemaInternals;
  readonly valueType?: SchemaInternals;
  readonly unwrap?: () => z.ZodType;
}

/** What a schema accepts, in words: `a non-negative integer`, `an integer from 1 to 10000`, `a string`. */
function describeSchema(schema: z.ZodType): string {
  const s = schema as unknown as SchemaInternals;
  switch (s.type) {
    case 'number': {
      const int = s.isInt || s.format === 'safeint' || s.format === 'int32';
      const noun = int ? 'integer' : 'number';
      const min = s.minValue === null || s.minValue === undefined || !Number.isFinite(Number(s.minValue)) ? undefined : Number(s.minValue);
      const max = s.maxValue === null || s.maxValue === undefined || Math.abs(Number(s.maxValue)) >= Number.MAX_SAFE_INTEGER ? undefined : Number(s.maxValue);
      if (min !== undefined && max !== undefined) return `an ${noun} from ${min} to ${max}`;
      if (min === 0) return `a non-negative ${noun}`;
      if (min !== undefined) return `an ${noun} ≥ ${min}`;
      if (max !== undefined) return `an ${noun} ≤ ${max}`;
      return article(noun);
    }
    case 'optional':
    case 'nullable':
    case 'default':
      return s.unwrap ? describeSchema(s.unwrap()) : 'a value';
    case 'union':
      return (s.options as z.ZodType[]).map(describeSchema).join(' or ');
    case 'enum':
      return `one of ${(s.options ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'literal':
      return 'the documented value';
    case 'record':
    case 'object':
      return 'an object';
    default:
      return article(s.type);
  }
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** A short description of a JSON input: its type, and the value when it is short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length <= 24 ? `the string ${JSON.stringify(value)}` : `a string of ${value.length} characters`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
