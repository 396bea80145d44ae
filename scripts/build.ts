/**
 * `npm run build`: the published package in dist/.
 *
 *   dist/client/, dist/protocol/, dist/api/…   the client, compiled by tsc with declarations
 *                                              (tsconfig.build.json): what `sluice` and
 *                                              `sluice/browser` load; it imports only fzstd
 *   dist/cdk/index.js (+ .d.ts)                `sluice/cdk`: the construct bundled by esbuild (zod
 *                                              and the route table inside; aws-cdk-lib and constructs
 *                                              are the app's, as peer dependencies), declarations by
 *                                              tsc (tsconfig.cdk.json)
 *   dist/cdk/lambda/<entry>/index.mjs          the functions' code, prebuilt (AWS SDK and Powertools
 *                                              bundled except the SDK, which the runtime provides)
 *   dist/server/main.js                        the local server, bundled: it needs nothing installed
 *   dist/cli/main.js                           the `sluice` CLI (bin/sluice.js runs it), bundled with
 *                                              commander and cli-progress inside
 *   dist/shared/*.js                           what the server and the CLI share (one build, split)
 *
 * Bundling the server side is what keeps the AWS SDK, Powertools and zod out of a client's install.
 */
import { execFile } from 'node:child_process';
import { cp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { LAMBDA_BUNDLING, LAMBDA_ENTRIES } from '../lib/cdk/lambda-bundles.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);

/** Server-side code for Node 24, one ESM file, every dependency inside but the ones named. */
const nodeBundle = (entry: string, outfile: string, external: string[]): BuildOptions => ({
  entryPoints: [join(ROOT, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external,
  minify: true,
  keepNames: true,
  banner: { js: LAMBDA_BUNDLING.banner },
  logLevel: 'warning',
  legalComments: 'none',
});

/** Builds into `outDir` (relative to the checkout, or absolute). */
export async function buildPackage(outDir = 'dist'): Promise<void> {
  const out = resolve(ROOT, outDir);
  await rm(out, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT });
  await run(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.cdk.json'), '--outDir', out], { cwd: ROOT });
  const bundles: BuildOptions[] = [
    nodeBundle('lib/cdk/index.ts', join(out, 'cdk/index.js'), ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs']),
    // the local server and the CLI (whose `sluice dev` is that server) in one build: the code they share
    // (engine, storage, HTTP, zod) is one chunk in dist/shared/, not a copy in each
    {
      ...nodeBundle('lib/server/main.ts', '', []),
      entryPoints: { 'server/main': join(ROOT, 'lib/server/main.ts'), 'cli/main': join(ROOT, 'lib/cli/main.ts') },
      outfile: undefined,
      outdir: out,
      splitting: true,
      chunkNames: 'shared/[name]-[hash]',
      banner: { js: `#!/usr/bin/env node\n${LAMBDA_BUNDLING.banner}` },
    },
    ...LAMBDA_ENTRIES.map((entry) => ({
      entryPoints: [join(ROOT, `lambdas/${entry}.ts`)],
      outfile: join(out, `cdk/lambda/${entry}/index.mjs`),
      bundle: true,
      platform: LAMBDA_BUNDLING.platform,
      format: LAMBDA_BUNDLING.format,
      target: LAMBDA_BUNDLING.target,
      external: [...LAMBDA_BUNDLING.external],
      mainFields: [...LAMBDA_BUNDLING.mainFields],
      minify: LAMBDA_BUNDLING.minify,
      keepNames: LAMBDA_BUNDLING.keepNames,
      sourcemap: LAMBDA_BUNDLING.sourcemap,
      banner: { js: LAMBDA_BUNDLING.banner },
      logLevel: 'warning' as const,
      legalComments: 'none' as const,
    })),
  ];
  await Promise.all(bundles.map((options) => build(options)));
  // the admin function serves the web console (lambdas/admin.ts looks for console/ next to its bundle)
  await cp(join(ROOT, 'console'), join(out, 'cdk/lambda/admin/console'), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPackage();
