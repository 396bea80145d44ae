/**
 * Writes lib/api/types.ts: the contract's request and response bodies as plain TypeScript types,
 * generated from the zod schemas in lib/api/schemas.ts through their JSON Schema (the same one the
 * OpenAPI document holds). The client imports these, so neither its bundle nor its published type
 * declarations need zod. `npm run generate:api`; test/api/types.test.ts fails when the file is stale.
 *
 * Naming: a schema `XRequest` gives the type of what a client sends (zod's input: fields with a
 * default are optional); any other schema `X` gives the type of what the server answers (zod's
 * output), and those in INPUTS also `XInput`, what a client sends inside a request (a TopicConfig with
 * only some of its fields).
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { jsonSchemaOf } from '../lib/api/openapi.ts';
import * as schemas from '../lib/api/schemas.ts';

type Json = Record<string, unknown>;

const HEADER = `/**
 * The contract's bodies as TypeScript types, generated from lib/api/schemas.ts by
 * scripts/generate-api-types.ts (npm run generate:api). Do not edit: change the schemas and generate.
 * Zod-free, so the client's bundle and type declarations carry no zod.
 */
/* eslint-disable */
`;

/**
 * Not generated: path parameters and query strings (server-side parsing), error bodies (the client
 * reads them by the error table), and building blocks too small to be worth a name.
 */
const SKIP = /(Params|Query)$|^(ErrorCodeSchema|ErrorResponse|OpenApiResponse|Base64|Generation|PartitionNumber|Timestamp|OffsetInput|KeyScopes)$/;
/** Parts of requests a client builds by itself. */
const INPUTS = new Set(['TopicConfig', 'KeyScope']);

export function renderApiTypes(): string {
  const out: string[] = [HEADER];
  for (const [name, schema] of Object.entries(schemas)) {
    if (!(schema instanceof z.ZodType) || SKIP.test(name)) continue;
    const output = jsonSchemaOf(schema, 'output');
    const input = jsonSchemaOf(schema, 'input');
    if (name.endsWith('Request')) {
      out.push(declare(name, input));
      continue;
    }
    out.push(declare(name, output));
    if (INPUTS.has(name)) out.push(declare(`${name}Input`, input));
  }
  return `${out.join('\n')}`;
}

function declare(name: string, schema: Json): string {
  return `${doc(schema, '')}export type ${name} = ${typeOf(schema, '')};\n`;
}

function doc(schema: Json, indent: string): string {
  const description = typeof schema.description === 'string' ? schema.description : undefined;
  const extra = schema.default !== undefined ? `@default ${JSON.stringify(schema.default)}` : undefined;
  const lines = [description, extra].filter((line): line is string => line !== undefined);
  if (lines.length === 0) return '';
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} * ${line}`).join('\n')}\n${indent} */\n`;
}

function typeOf(schema: Json, indent: string): string {
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    return union(((schema.anyOf ?? schema.oneOf) as Json[]).map((member) => typeOf(member, indent)));
  }
  if (Array.isArray(schema.allOf)) return (schema.allOf as Json[]).map((member) => typeOf(member, indent)).join(' & ');
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return union(schema.enum.map((value) => JSON.stringify(value)));
  if (Array.isArray(schema.type)) return union(schema.type.map((type) => typeOf({ ...schema, type }, indent)));
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = typeOf((schema.items ?? {}) as Json, indent);
      return `readonly ${isCompound(item) ? `(${item})` : item}[]`;
    }
    case 'object':
      return objectType(schema, indent);
    default:
      return 'unknown';
  }
}

function objectType(schema: Json, indent: string): string {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  const additional = schema.additionalProperties;
  const inner = `${indent}  `;
  const members = Object.entries(properties).map(
    ([key, property]) => `${doc(property, inner)}${inner}readonly ${propertyName(key)}${required.has(key) ? '' : '?'}: ${typeOf(property, inner)};`,
  );
  if (additional !== undefined && additional !== false) {
    const value = additional === true ? 'unknown' : typeOf(additional as Json, inner);
    if (members.length === 0) return `{ readonly [key: string]: ${value} }`;
    members.push(`${inner}readonly [key: string]: ${value === 'unknown' ? 'unknown' : `${value} | undefined`};`);
  }
  if (members.length === 0) return '{}';
  return `{\n${members.join('\n')}\n${indent}}`;
}

/** A union or intersection at the top level (outside braces), which `[]` would bind to wrongly. */
function isCompound(type: string): boolean {
  let depth = 0;
  for (const char of type) {
    if (char === '{' || char === '(') depth++;
    else if (char === '}' || char === ')') depth--;
    else if (depth === 0 && (char === '|' || char === '&')) return true;
  }
  return false;
}

function propertyName(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
}

function union(members: string[]): string {
  return [...new Set(members)].join(' | ');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(fileURLToPath(new URL('../lib/api/types.ts', import.meta.url)), renderApiTypes());
}
