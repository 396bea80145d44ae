/**
 * The npm package: `npm run build` (tsconfig.build.json) emits the client and only the modules it
 * imports, with declarations; package.json "exports" point at them; the Node entry works from the
 * built JavaScript; the browser entry bundles for the browser with no Node built-in anywhere.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).replaceAll('\\', '/')).sort();
}

describe('package', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'sluice-build-'));
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT });
  });
  after(() => rm(out, { recursive: true, force: true }));

  it('builds the client and only what it imports, with type declarations', async () => {
    const files = await listFiles(out);
    assert.ok(files.includes('client/index.js') && files.includes('client/index.d.ts'));
    assert.ok(files.includes('client/browser.js') && files.includes('client/browser.d.ts'));
    for (const file of files) {
      assert.match(file, /^(client\/|protocol\/|api\/(limits|media-types|sluice-batches|types)\.|errors\.|defaults\.|concurrency\.)/, `${file} is not part of the client`);
      assert.doesNotMatch(file, /^protocol\/record-batch\.|^(log|storage|http|server|lambda|auth)\//, `${file} is server code`);
    }
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const source = await readFile(join(out, file), 'utf8');
      assert.doesNotMatch(source, /from ["']\.{1,2}\/[^"']*\.ts["']/, `${file} imports a .ts path`);
      assert.doesNotMatch(source, /from ["']zod["']/, `${file} imports zod`);
    }
  });

  it('points package.json at the built entries, browser build for browsers', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'sluice');
    // console/: the web console's static files (the local server and the admin function serve them); of docs/, the contract only (not the screenshots)
    assert.deepEqual(pkg.files, ['console', 'bin/sluice.js', 'dist', 'docs/api-v1.md', 'LICENSE']);
    assert.deepEqual(Object.keys(pkg.dependencies), ['fzstd'], 'the client imports only fzstd; the server side and the CLI are bundled');
    assert.deepEqual(pkg.bin, { sluice: 'bin/sluice.js' }, 'the CLI launcher (dist/cli/main.js in the package)');
    for (const bundled of ['commander', 'cli-progress']) assert.ok(pkg.devDependencies[bundled], `${bundled} is bundled into dist/cli/main.js, so a development dependency only`);
    assert.deepEqual(Object.keys(pkg.peerDependencies).sort(), ['aws-cdk-lib', 'constructs']);
    assert.ok(Object.values(pkg.peerDependenciesMeta).every((meta) => (meta as { optional?: boolean }).optional), 'client users need no CDK');
    const root = pkg.exports['.'];
    const paths = [pkg.main, pkg.types, root.types, root.browser, root.default, pkg.exports['./browser'].default];
    const files = new Set(await listFiles(out));
    for (const path of paths) {
      assert.match(path, /^\.\/dist\//);
      assert.ok(files.has(path.replace(/^\.\/dist\//, '')), `${path} is built`);
    }
    assert.equal(root.browser, './dist/client/browser.js');
  });

  it('runs from the built JavaScript on Node', async () => {
    const module = await import(pathToFileURL(join(out, 'client/index.js')).href);
    assert.equal(typeof module.Sluice, 'function');
    assert.equal(module.default, module.Sluice);
    for (const name of ['Producer', 'Consumer', 'Admin', 'StaticAssignment', 'SluiceClientError']) assert.equal(typeof module[name], 'function', name);
    const sluice = new module.Sluice({ endpoint: 'http://127.0.0.1:9', apiKey: 'k' });
    assert.equal(typeof sluice.producer().send, 'function');
    assert.equal(typeof sluice.consumer().run, 'function');
    assert.equal(typeof sluice.admin().createTopics, 'function');
  });

  it('bundles the browser entry for browsers without any Node built-in', async () => {
    const result = await build({
      entryPoints: [join(out, 'client/browser.js')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      minify: true,
      nodePaths: [join(ROOT, 'node_modules')],
      logLevel: 'silent',
    });
    const code = result.outputFiles[0].text;
    assert.doesNotMatch(code, /node:|require\(/);
    assert.ok(code.length < 120_000, `browser bundle is ${code.length} bytes`);
  });
});
