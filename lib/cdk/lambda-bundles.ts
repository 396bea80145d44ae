/**
 * The Lambda functions' code: one esbuild bundle per entry point in lambdas/. The published package
 * carries them prebuilt (`npm run build` writes dist/cdk/lambda/<entry>/index.mjs next to the bundled
 * construct), so a CDK app that imports `sluice/cdk` needs neither the TypeScript sources nor esbuild
 * nor Docker; in a source checkout the construct bundles from lambdas/ at synthesis (NodejsFunction)
 * with the same options.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The entry points (lambdas/<name>.ts), each a function of the stack. */
export const LAMBDA_ENTRIES = ['produce', 'fetch', 'admin', 'maintenance', 'tail', 'bootstrap-key', 'dispatcher', 'stream-handler', 'push-consumer', 'notifications'] as const;
export type LambdaEntry = (typeof LAMBDA_ENTRIES)[number];

/**
 * How every function is bundled (esbuild's option names; NodejsFunction's bundling props follow them).
 * The runtime provides the AWS SDK v3: smaller bundles, faster cold starts. Bundled CommonJS
 * dependencies may call require(); ESM output has none unless given one.
 */
export const LAMBDA_BUNDLING = {
  format: 'esm',
  target: 'node24',
  platform: 'node',
  external: ['@aws-sdk/*'],
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourcemap: false,
  banner: "import { createRequire as __sluiceCreateRequire } from 'node:module'; const require = __sluiceCreateRequire(import.meta.url);",
} as const;

/**
 * The directory of an entry's prebuilt bundle (index.mjs, handler `index.handler`), when this module
 * runs from the published package; undefined in a source checkout.
 */
export function prebuiltBundle(entry: LambdaEntry): string | undefined {
  const directory = fileURLToPath(new URL(`./lambda/${entry}/`, import.meta.url));
  return existsSync(`${directory}index.mjs`) ? directory : undefined;
}
