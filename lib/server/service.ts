/**
 * The local service as a person runs it (`npm start`, `sluice dev`): start the server, say where it
 * is, log a line per request and per maintenance pass unless quiet, and stop cleanly on SIGINT or
 * SIGTERM (a second signal exits at once).
 */
import { startLocalServer, type LocalServer } from './local.ts';

export interface LocalServiceSettings {
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  /** The bootstrap admin key; generated and printed once when absent. */
  readonly apiKey?: string;
  readonly corsOrigins?: readonly string[];
  /** No request or maintenance lines (the banner and errors still print). */
  readonly quiet?: boolean;
}

export interface ServiceOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleOutput: ServiceOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

export async function runLocalService(settings: LocalServiceSettings, output: ServiceOutput = consoleOutput): Promise<LocalServer> {
  const server = await startLocalServer({
    dataDir: settings.dataDir,
    port: settings.port,
    host: settings.host,
    apiKey: settings.apiKey,
    corsOrigins: settings.corsOrigins,
    log: settings.quiet ? undefined : output.out,
  });
  output.out(`Sluice is listening on ${server.url}`);
  output.out(`Console: ${server.url}/console/`);
  output.out(`Data: ${settings.dataDir}`);
  if (server.generatedApiKey) {
    output.out(`Admin API key (shown once, only its hash is stored): ${server.generatedApiKey}`);
  } else if (!settings.apiKey) {
    output.out('Admin API key: the one printed at first start (set SLUICE_API_KEY to use a key of your choice).');
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      output.err(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    output.out(`${signal}: stopping (running requests may finish; press Ctrl-C again to exit at once)`);
    server.close().then(
      () => {
        output.out('Sluice stopped');
        process.exit(0);
      },
      (error: unknown) => {
        output.err(`sluice: shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return server;
}
