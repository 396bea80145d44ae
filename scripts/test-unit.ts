/**
 * `npm run test:unit`: the tests that need no server and no emulator — no local server or node:http
 * listener (lib/server/, test/client/support/servers.ts), no s3rver or dynalite
 * (test/support/emulators.ts, the `aws` backends, the Lambda environment on emulators). A test file
 * needs one when it, or a test helper it imports, names one of those; everything else runs here, so
 * new tests are classified by what they use, not by a list.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Modules that start a server or an emulator. */
const SERVICE_MODULES = /(lib\/server\/|test\/support\/emulators\.ts|test\/client\/support\/servers\.ts|test\/support\/lambda-env\.ts)$|lib\/server\//;
/** A test that runs a suite on the emulated AWS backends, or starts emulators itself. */
const USES_EMULATORS = /\b(awsEmulatorBackend|startS3rver|startDynalite)\b/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(dir, file))
    .sort();
}

/** Whether a test file, or a test helper it imports statically, starts a server or an emulator. */
function needsService(file: string, isTest = true, seen = new Set<string>()): boolean {
  if (SERVICE_MODULES.test(file)) return true;
  if (seen.has(file) || !file.startsWith(join(ROOT, 'test'))) return false;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  if (isTest && USES_EMULATORS.test(source)) return true;
  for (const [, specifier] of source.matchAll(/^import[^'"]*['"](\.[^'"]+\.ts)['"]/gm)) {
    if (needsService(resolve(dirname(file), specifier), false, seen)) return true;
  }
  return false;
}

const all = testFiles(join(ROOT, 'test'));
const unit = all.filter((file) => !needsService(file));
console.log(`test:unit: ${unit.length} of ${all.length} test files (the others need a server or an emulator)`);
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...unit.map((file) => relative(ROOT, file))], { cwd: ROOT, stdio: 'inherit' });
process.exit(result.status ?? 1);
