/**
 * Where the CLI writes: results on stdout (text tables, or JSON with `--output json` for scripts),
 * progress and notes on stderr, and only when stderr is a terminal (quiet when piped).
 */
export type OutputFormat = 'text' | 'json';

export interface WritableLike {
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
  once(event: 'drain', listener: () => void): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stdout: WritableLike;
  readonly stderr: WritableLike;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export class Output {
  readonly io: CliIo;
  readonly format: OutputFormat;

  constructor(io: CliIo, format: OutputFormat) {
    this.io = io;
    this.format = format;
  }

  get json(): boolean {
    return this.format === 'json';
  }

  /** Whether people are watching stderr (progress bars, summaries, hints). */
  get interactive(): boolean {
    return this.io.stderr.isTTY === true;
  }

  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Writes to stdout and waits when the pipe is full (a slow reader slows the consumer, not memory). */
  async write(text: string): Promise<void> {
    if (!this.io.stdout.write(text)) await new Promise<void>((resolve) => this.io.stdout.once('drain', resolve));
  }

  /** A note for the person at the terminal, on stderr; nothing when stderr is not a terminal. */
  note(text: string): void {
    if (this.interactive) this.io.stderr.write(`${text}\n`);
  }

  /** `--output json`: the value as JSON; otherwise the text form. */
  result(value: unknown, text: () => void): void {
    if (this.json) this.line(JSON.stringify(value, null, 2));
    else text();
  }

  /** Columns padded to their widest cell; numbers right-aligned. */
  table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): void {
    const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
    const numeric = header.map((_, i) => cells.length > 0 && cells.every((row) => /^-?\d+(\.\d+)?$|^-$/.test(row[i] ?? '')));
    const widths = header.map((title, i) => Math.max(title.length, ...cells.map((row) => (row[i] ?? '').length)));
    const render = (row: readonly string[]) =>
      row
        .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : i === row.length - 1 ? cell : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd();
    this.line(render(header.map((title, i) => (numeric[i] ? title.padStart(widths[i]) : title))));
    for (const row of cells) this.line(render(row));
  }

  /** Waits until what was written has been handed to the OS (before the process exits). */
  async flush(): Promise<void> {
    await Promise.all([this.io.stdout, this.io.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  }
}

/** `7d`, `36h`, `90s`, `forever`: the largest whole unit. */
export function formatDurationMs(ms: number): string {
  if (ms < 0) return 'forever';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 0) return 'unbounded';
  if (bytes < 1000) return `${bytes} B`;
  for (const [unit, size] of [['GB', 1e9], ['MB', 1e6], ['kB', 1e3]] as const) if (bytes >= size) return `${(bytes / size).toFixed(1)} ${unit}`;
  return `${bytes} B`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
