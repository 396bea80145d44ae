/**
 * Bytes of the browser client bundle (esbuild, minified, ESM), raw and gzipped, and what the same
 * bundle would weigh if it loaded the contract's zod schemas at run time (the reason the client
 * imports only types from them). `node scripts/measure-bundle.ts [entry]`.
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

async function measure(label: string, contents: string): Promise<void> {
  const result = await build({
    stdin: { contents, resolveDir: ROOT, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  console.log(`${label}: ${code.length} bytes minified, ${gzipSync(code).length} gzipped`);
}

const entry = process.argv[2] ?? './lib/client/browser.ts';
await measure(`browser client (${entry})`, `export * from '${entry}';`);
await measure('the same, if it loaded the zod schemas', `export * from '${entry}'; export * as schemas from './lib/api/schemas.ts';`);
