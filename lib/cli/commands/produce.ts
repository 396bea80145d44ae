/**
 * `sluice produce <topic>`: one record per line from stdin or --file, through the client's producer
 * (batched, compressed, idempotent retries). Lines go out in chunks with a bounded number of sends in
 * flight, so a large file streams in constant memory. On a terminal a progress bar (cli-progress,
 * https://github.com/npkill/cli-progress) shows records, MB and records/s, then a one-line summary;
 * piped, it is quiet (`--output json` prints the summary as JSON on stdout).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Message } from '../../client/types.ts';
import { action } from '../context.ts';
import { CliError } from '../errors.ts';
import { fieldOf, parseHeaders, parseNonNegativeInteger } from '../parse.ts';

/** Lines per producer.send(): large enough to batch well, small enough for a smooth progress bar. */
const CHUNK_RECORDS = 500;
const CHUNK_BYTES = 256 * 1024;
/** send() calls in flight before reading waits (the producer batches across them). */
const MAX_PENDING_SENDS = 16;

interface ProduceOptions {
  file?: string;
  key?: string;
  keyField?: string;
  partition?: string;
  json?: boolean;
  headers: string[];
}

export function registerProduce(program: Command): void {
  program
    .command('produce <topic>')
    .description('Produce one record per line of stdin (or --file); empty lines are skipped; a bad line stops it (the lines before it are produced)')
    .option('-f, --file <path>', 'read lines from this file instead of stdin')
    .option('-k, --key <key>', 'the key of every record')
    .option('--key-field <field>', 'each line is a JSON object: its field (a dotted path like user.id) is the key; implies --json')
    .option('-p, --partition <n>', 'send every record to this partition (default: by key, or spread)')
    .option('--json', 'each line must be a JSON value (checked before sending; stored as its text)')
    .option('-H, --headers <key=value>', 'a header on every record (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .addHelpText(
      'after',
      `
Examples:
  seq 1000 | sluice produce numbers
  sluice produce orders --file orders.jsonl --key-field customer.id -H source=import`,
    )
    .action(
      action(async (context, topic: string, options: ProduceOptions) => {
        if (options.key !== undefined && options.keyField !== undefined) throw new CliError('give --key or --key-field, not both', 2);
        const partition = options.partition === undefined ? undefined : parseNonNegativeInteger(options.partition, '--partition');
        const headers = options.headers.length ? parseHeaders(options.headers) : undefined;
        const json = options.json === true || options.keyField !== undefined;
        const output = context.output;

        const totalBytes = options.file === undefined ? undefined : (await stat(options.file).catch((error: Error) => {
          throw new CliError(`cannot read ${options.file}: ${error.message}`);
        })).size;
        const input: NodeJS.ReadableStream = options.file === undefined ? context.io.stdin : createReadStream(options.file);
        const lines = createInterface({ input, crlfDelay: Infinity });

        const producer = context.client().producer();
        const started = performance.now();
        const acked = { records: 0, bytes: 0, inputBytes: 0 };
        const perPartition = new Map<number, number>();
        // typing records at a terminal: a prompt instead of a bar that would draw over the typing
        const typing = options.file === undefined && context.io.stdin.isTTY === true;
        if (typing) output.note('Type records, one per line; Ctrl-D to end.');
        const bar = output.interactive && !typing ? progressBar(context.io.stderr, totalBytes) : undefined;
        const update = () => {
          const seconds = (performance.now() - started) / 1000;
          const payload = { records: acked.records, mb: (acked.bytes / 1e6).toFixed(2), rate: seconds > 0 ? Math.round(acked.records / seconds) : 0 };
          if (totalBytes === undefined) bar?.update(acked.records, payload);
          else bar?.update(Math.min(acked.inputBytes, totalBytes), payload);
        };
        bar?.start(totalBytes ?? 0, 0, { records: 0, mb: '0.00', rate: 0 });

        const pending: Array<Promise<void>> = [];
        let failure: unknown;
        const send = (messages: Message[], bytes: number, inputBytes: number) => {
          const sent = producer.send({ topic, messages }).then((metadata) => {
            acked.records += metadata.length;
            acked.bytes += bytes;
            acked.inputBytes += inputBytes;
            for (const m of metadata) perPartition.set(m.partition, (perPartition.get(m.partition) ?? 0) + 1);
            update();
          });
          sent.catch((error: unknown) => (failure ??= error));
          pending.push(sent);
        };

        let chunk: Message[] = [];
        let chunkBytes = 0;
        /** Bytes of the input behind the chunk, empty lines and line ends included (the bar's progress through a file). */
        let chunkInput = 0;
        let lineNumber = 0;
        let skipped = 0;
        let badLine: string | undefined;
        try {
          for await (const line of lines) {
            lineNumber++;
            if (failure) break;
            chunkInput += Buffer.byteLength(line) + 1;
            if (line.length === 0) {
              skipped++;
              continue;
            }
            let key: string | null | undefined = options.key;
            if (json) {
              let value: unknown;
              try {
                value = JSON.parse(line);
              } catch (error) {
                badLine = `line ${lineNumber} is not JSON (${(error as Error).message})`;
                break;
              }
              if (options.keyField !== undefined) {
                const field = fieldOf(value, options.keyField);
                if (field === undefined) {
                  badLine = `line ${lineNumber} has no field ${JSON.stringify(options.keyField)}`;
                  break;
                }
                key = field === null ? null : typeof field === 'string' ? field : JSON.stringify(field);
              }
            }
            chunk.push({ value: line, ...(key === undefined ? {} : { key }), ...(partition === undefined ? {} : { partition }), ...(headers ? { headers } : {}) });
            chunkBytes += Buffer.byteLength(line) + (key ? Buffer.byteLength(key) : 0);
            if (chunk.length >= CHUNK_RECORDS || chunkBytes >= CHUNK_BYTES) {
              send(chunk, chunkBytes, chunkInput);
              chunk = [];
              chunkBytes = 0;
              chunkInput = 0;
              if (pending.length >= MAX_PENDING_SENDS) await Promise.allSettled([pending.shift()!]);
            }
          }
          // the lines before a bad one are produced; none after it
          if (!failure && chunk.length > 0) send(chunk, chunkBytes, chunkInput);
          await Promise.allSettled(pending);
          await producer.disconnect().catch((error: unknown) => (failure ??= error));
        } finally {
          lines.close();
          if (bar) {
            update();
            bar.stop();
          }
        }
        if (failure) throw failure;
        if (badLine) throw new CliError(`${badLine}; ${acked.records} records before it were produced`);

        const seconds = (performance.now() - started) / 1000;
        const summary = {
          topic,
          records: acked.records,
          bytes: acked.bytes,
          skippedEmptyLines: skipped,
          seconds: Number(seconds.toFixed(3)),
          recordsPerSecond: seconds > 0 ? Math.round(acked.records / seconds) : 0,
          partitions: Object.fromEntries([...perPartition].sort(([a], [b]) => a - b)),
        };
        if (output.json) output.line(JSON.stringify(summary));
        else
          output.note(
            `Produced ${summary.records} records (${(summary.bytes / 1e6).toFixed(2)} MB) to ${topic} in ${seconds.toFixed(2)} s: ${summary.recordsPerSecond} records/s, ${perPartition.size} partition${perPartition.size === 1 ? '' : 's'}${skipped ? `, ${skipped} empty lines skipped` : ''}`,
          );
      }),
    );
}

function progressBar(stream: NodeJS.WritableStream | { write: unknown }, totalBytes: number | undefined): cliProgress.SingleBar {
  const counters = '{records} records | {mb} MB | {rate} records/s';
  return new cliProgress.SingleBar(
    {
      format: totalBytes === undefined ? `producing | ${counters}` : `{bar} {percentage}% | ${counters}`,
      stream: stream as NodeJS.WritableStream,
      fps: 10,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
}
