/**
 * The `sluice` CLI's entry point (bin/sluice.js runs it from the repository, or its bundle
 * dist/cli/main.js from the published package).
 */
import { runCli } from './program.ts';

const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
// `sluice consume … | head`: the reader went away; stop quietly
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const code = await runCli(process.argv.slice(2), io);
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
