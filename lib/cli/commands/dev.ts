/** `sluice dev`: the local service, what `npm start` runs (lib/server), with flags over its environment variables. */
import type { Command } from 'commander';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { action } from '../context.ts';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Run the local Sluice service: the same API as in AWS, on files and SQLite in --data-dir (what `npm start` runs)')
    .option('--port <port>', 'port to listen on, 0 for any free one (env PORT)', undefined)
    .option('--host <host>', 'interface to listen on (env HOST)', undefined)
    .option('--data-dir <dir>', 'folder for the records and metadata (env SLUICE_DATA_DIR)', undefined)
    .option('--cors-origins <origins>', 'comma-separated browser origins allowed to call the API, or * (env SLUICE_CORS_ORIGINS)')
    .option('--quiet', 'no line per request or maintenance pass (env SLUICE_QUIET=1)')
    .addHelpText(
      'after',
      `
The admin API key: the global --api-key (or SLUICE_API_KEY, at least 16 characters) makes that key the
bootstrap admin key; without one a key is generated at the first start and printed once.
Stop with Ctrl-C (SIGINT) or SIGTERM: running requests finish, then the service closes its store.`,
    )
    .action(
      action(async (context, options: { port?: string; host?: string; dataDir?: string; corsOrigins?: string; quiet?: boolean }) => {
        if (options.port !== undefined && !/^\d{1,5}$/.test(options.port)) throw new UsageError(`--port takes a port number from 0 to 65535, got ${JSON.stringify(options.port)}`);
        const env = {
          ...context.io.env,
          ...(options.port === undefined ? {} : { PORT: options.port }),
          ...(options.host === undefined ? {} : { HOST: options.host }),
          ...(options.dataDir === undefined ? {} : { SLUICE_DATA_DIR: options.dataDir }),
          ...(options.corsOrigins === undefined ? {} : { SLUICE_CORS_ORIGINS: options.corsOrigins }),
          ...(options.quiet ? { SLUICE_QUIET: '1' } : {}),
          ...(context.globals.apiKey === undefined ? {} : { SLUICE_API_KEY: context.globals.apiKey }),
        };
        // loaded here, not at start-up: the other commands do without the server's code
        const { runLocalService } = await import('../../server/service.ts');
        const { describeStartupError, parseLocalSettings, SettingsError } = await import('../../server/settings.ts');
        let settings;
        try {
          settings = parseLocalSettings(env);
        } catch (error) {
          if (error instanceof SettingsError) throw new CliError(error.message, EXIT.usage);
          throw error;
        }
        try {
          await runLocalService(settings, { out: (line) => context.io.stdout.write(`${line}\n`), err: (line) => context.io.stderr.write(`${line}\n`) });
        } catch (error) {
          throw new CliError(describeStartupError(error, settings), EXIT.failed, { cause: error });
        }
        // Serves until SIGINT or SIGTERM: runLocalService closes the server and exits the process.
        await new Promise<never>(() => {});
      }),
    );
}
