/**
 * How `sluice consume` prints a record: `value` (the value as text, a line each), `json` (a JSON
 * object a line), or a kcat-like template: %t topic, %p partition, %o offset, %T timestamp (ms),
 * %k key, %v value, %K / %S key and value length in bytes, %h headers (k=v,…), %% a percent sign;
 * \n \t \r \\ as escapes. Each record ends with a newline unless the template ends with one.
 */
import type { KafkaMessage } from '../client/types.ts';
import { UsageError } from './errors.ts';

export interface PrintedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

export type RecordFormatter = (record: PrintedRecord) => string;

const strict = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');

/** The bytes as text, or undefined when they are not UTF-8. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

function text(bytes: Uint8Array | null): string {
  return bytes === null ? '' : lossy.decode(bytes);
}

/** Key and value as text when they are UTF-8, else as base64 (`keyBase64`, `valueBase64`), as the API's JSON fetch does. */
export function recordAsJson({ topic, partition, message }: PrintedRecord): Record<string, unknown> {
  const field = (name: 'key' | 'value', bytes: Uint8Array | null) => {
    if (bytes === null) return { [name]: null };
    const decoded = utf8(bytes);
    return decoded === undefined ? { [`${name}Base64`]: Buffer.from(bytes).toString('base64') } : { [name]: decoded };
  };
  const headers: Record<string, string | null | Array<string | null>> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    headers[name] = Array.isArray(value) ? value.map((v) => (v === null ? null : text(v))) : value === null ? null : text(value);
  }
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    ...field('key', message.key),
    ...field('value', message.value),
    headers,
  };
}

function headersText(headers: KafkaMessage['headers']): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) parts.push(`${name}=${v === null ? '' : text(v)}`);
  return parts.join(',');
}

const PLACEHOLDERS = 'tpoTkvKSh%';

export function recordFormatter(format: string): RecordFormatter {
  if (format === 'value') return ({ message }) => `${text(message.value)}\n`;
  if (format === 'json') return (record) => `${JSON.stringify(recordAsJson(record))}\n`;
  const template = format.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
  // placeholders left to right, so `%%` is one escaped percent sign and never starts another placeholder
  for (const [placeholder, c] of template.matchAll(/%([^]?)/g)) {
    if (!PLACEHOLDERS.includes(c) || c === '') {
      throw new UsageError(`--format: unknown placeholder ${JSON.stringify(placeholder)} (value, json, or a template with %t %p %o %T %k %v %K %S %h %%)`);
    }
  }
  const newline = template.endsWith('\n') ? '' : '\n';
  return ({ topic, partition, message }) =>
    template.replace(/%([^])/g, (_, c: string) => {
      switch (c) {
        case 't':
          return topic;
        case 'p':
          return String(partition);
        case 'o':
          return message.offset;
        case 'T':
          return message.timestamp;
        case 'k':
          return text(message.key);
        case 'v':
          return text(message.value);
        case 'K':
          return String(message.key?.length ?? -1);
        case 'S':
          return String(message.value?.length ?? -1);
        case 'h':
          return headersText(message.headers);
        default:
          return '%';
      }
    }) + newline;
}
