/** What every command gets: where to write, the global options, and (made on first use) the connection and the client. */
import type { Command } from 'commander';
import type { Admin } from '../client/admin/admin.ts';
import { Sluice } from '../client/index.ts';
import type { Logger } from '../client/types.ts';
import { resolveConnection, type Connection } from './connection.ts';
import { Output, type CliIo, type OutputFormat } from './output.ts';

export interface CommandContext {
  readonly io: CliIo;
  readonly output: Output;
  readonly verbose: boolean;
  readonly globals: GlobalOptions;
  connection(): Connection;
  client(): Sluice;
  admin(): Admin;
}

export interface GlobalOptions {
  readonly url?: string;
  readonly apiKey?: string;
  readonly profile?: string;
  readonly output: OutputFormat;
  readonly verbose?: boolean;
}

/** Retries for a person waiting at a prompt: a few quick ones, not the SDK's patient default. */
const CLI_RETRY = { retries: 3, initialRetryMs: 100, maxRetryMs: 1000 } as const;

type Action = (context: CommandContext, ...args: any[]) => Promise<void>;

/** Registers a command's action: the parsed arguments and options after the context. */
export function action(run: Action): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const context = contextOf(command);
    await run(context, ...args.slice(0, -1));
  };
}

let currentIo: CliIo | undefined;

export function setIo(io: CliIo): void {
  currentIo = io;
}

function contextOf(command: Command): CommandContext {
  const io = currentIo!;
  const globals = command.optsWithGlobals() as GlobalOptions;
  const output = new Output(io, globals.output ?? 'text');
  const verbose = globals.verbose === true;
  let connection: Connection | undefined;
  let client: Sluice | undefined;
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message) => verbose && io.stderr.write(`sluice: warning: ${message}\n`),
    error: (message) => verbose && io.stderr.write(`sluice: ${message}\n`),
  };
  const context: CommandContext = {
    io,
    output,
    verbose,
    globals,
    connection() {
      connection ??= resolveConnection(globals, io.env);
      return connection;
    },
    client() {
      if (!client) {
        const { url, apiKey, from, profile } = context.connection();
        if (verbose) io.stderr.write(`sluice: ${url} (URL from ${from.url}, key from ${from.apiKey}${profile ? `, profile ${profile}` : ''})\n`);
        client = new Sluice({ endpoint: url, apiKey, retry: CLI_RETRY, logger });
      }
      return client;
    },
    admin() {
      return context.client().admin();
    },
  };
  return context;
}

/** A group of commands (`sluice topics`): alone, its help; with an unknown command, one line saying which exist. */
export function commandGroup(parent: Command, name: string, description: string): Command {
  const group = parent.command(name).description(description);
  helpOrUnknown(group);
  return group;
}

export function helpOrUnknown(group: Command): void {
  group.allowExcessArguments(true).action((_options: unknown, command: Command) => {
    if (command.args.length === 0) group.help();
    const names = group.commands.map((c) => c.name());
    group.error(`unknown command '${command.args[0]}' for ${[group.parent?.name(), group.name()].filter(Boolean).join(' ')} (commands: ${names.join(', ')})`);
  });
}
