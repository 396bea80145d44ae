/**
 * How the CLI fails: one line on stderr (`sluice: …`) and a non-zero exit status — 2 for a usage
 * mistake (a bad option value, a missing setting), 1 for everything else (the service said no, the
 * network failed). Never a stack trace: SLUICE_DEBUG=1 adds it for bug reports.
 */
import { SluiceClientError } from '../client/errors.ts';

/** Exit statuses. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how the CLI was called: the message says what the option takes. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the CLI noticed itself (a bad input line, an unreadable config file): `message` is the line to print. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failed, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The one line to print for an error, without the `sluice: ` prefix. */
export function describeError(error: unknown, context: { url?: string } = {}): string {
  if (error instanceof SluiceClientError) {
    if (error.code === 'NETWORK_ERROR') return `${oneLine(error.message)} (is Sluice running at ${context.url ?? 'that URL'}? \`sluice dev\` starts one locally)`;
    if (error.code === 'UNAUTHORIZED') return `${oneLine(error.message)} (check --api-key, SLUICE_API_KEY or the profile's apiKey)`;
    return oneLine(error.message);
  }
  if (error instanceof Error) return oneLine(error.message);
  return oneLine(String(error));
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof SluiceClientError && error.code === 'INVALID_ARGUMENT') return EXIT.usage;
  return EXIT.failed;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
