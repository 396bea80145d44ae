#!/usr/bin/env node
/**
 * The `sluice` command (package.json "bin"). From a checkout of the repository it runs the CLI's
 * TypeScript source (lib/cli/main.ts) with Node 24's type stripping, so `npm exec sluice` never runs a
 * stale build; from the published package, which ships no lib/, it runs the bundle that
 * `npm run build` makes (dist/cli/main.js: commander and cli-progress inside, nothing to install).
 */
import { existsSync } from 'node:fs';
import module from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`sluice: needs Node.js 24 or later, this is ${process.version}\n`);
  process.exit(2);
}
// start faster the next time: V8's code cache (and the stripped TypeScript) kept in the OS temp folder
module.enableCompileCache?.();
const source = new URL('../lib/cli/main.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
