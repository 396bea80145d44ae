/**
 * The `sluice` command line: commander (https://github.com/tj/commander.js) parses it and writes the
 * help; each command group lives in commands/*.ts and talks to Sluice through the project's own client
 * (lib/client: Sluice, producer, consumer, admin). runCli() resolves with the exit status; errors end
 * as one line on stderr (errors.ts).
 */
import { Command, CommanderError, Option } from 'commander';
import { SLUICE_VERSION } from '../version.ts';
import { registerConsume } from './commands/consume.ts';
import { registerConsumers } from './commands/consumers.ts';
import { registerDev } from './commands/dev.ts';
import { registerGroups } from './commands/groups.ts';
import { registerKeys } from './commands/keys.ts';
import { registerProduce } from './commands/produce.ts';
import { registerTopics } from './commands/topics.ts';
import { resolveConnection } from './connection.ts';
import { helpOrUnknown, setIo } from './context.ts';
import { describeError, EXIT, exitCodeOf } from './errors.ts';
import type { CliIo } from './output.ts';

export function buildProgram(io: CliIo): Command {
  const program = new Command('sluice');
  program
    .description('Serverless, S3-backed event streaming: manage topics, groups, keys and push consumers, produce and consume records, run the local service.')
    .version(SLUICE_VERSION, '-V, --version')
    .addOption(new Option('--url <url>', 'the Sluice API (env SLUICE_URL; default http://127.0.0.1:8787)'))
    .addOption(new Option('--api-key <key>', 'an API key (env SLUICE_API_KEY)'))
    .addOption(new Option('--profile <name>', 'a profile of the config file (env SLUICE_PROFILE; file: SLUICE_CONFIG or ~/.config/sluice/config.json)'))
    .addOption(new Option('-o, --output <format>', 'text for people, json for scripts').choices(['text', 'json']).default('text'))
    .addOption(new Option('-v, --verbose', 'say where the connection settings came from, and show retries'))
    .addHelpText(
      'after',
      `
Connection: each of the URL and the key comes from the flag, else the environment, else the profile.
Config file (${'~/.config/sluice/config.json'} or SLUICE_CONFIG):
  { "profiles": { "default": { "url": "http://127.0.0.1:8787", "apiKey": "sluice_..." } } }

Examples:
  sluice dev                                   # the local service on http://127.0.0.1:8787
  sluice topics create orders --partitions 3 --retention 7d
  cat orders.jsonl | sluice produce orders --json --key-field id
  sluice consume orders --from earliest --max 10 --format '%k %v'
  sluice groups describe billing`,
    )
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // commander's errors (unknown option, missing argument, "did you mean") as one line
      outputError: (text, write) => write(`sluice: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    })
    .exitOverride()
    .showSuggestionAfterError(true);

  registerDev(program);
  registerTopics(program);
  registerProduce(program);
  registerConsume(program);
  registerGroups(program);
  registerKeys(program);
  registerConsumers(program);
  helpOrUnknown(program);
  return program;
}

/** Runs the CLI; resolves with the exit status (commands that serve, like `dev`, resolve only when stopped). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  setIo(io);
  const program = buildProgram(io);
  let url: string | undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; the message was printed by commander
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    try {
      url = resolveConnection(program.opts(), io.env).url;
    } catch {
      url = undefined;
    }
    io.stderr.write(`sluice: ${describeError(error, { url })}\n`);
    if (io.env.SLUICE_DEBUG === '1' && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
}
