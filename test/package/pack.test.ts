/**
 * The published package, as a user gets it: `npm run build` (scripts/build.ts) into a staging copy,
 * `npm pack`, and `npm install <tarball>` into a scratch project (from npm's cache when it has the
 * packages: --prefer-offline). Then, from the scratch project only:
 *
 * - the install pulls only what the client imports: at most INSTALL_BOUND.packages packages
 *   (sluice, fzstd, and the optional native CRC-32C with its one platform package) and at most
 *   INSTALL_BOUND.bytes on disk — no AWS SDK, Powertools, zod or CDK;
 * - the client works: it produces and consumes against a local server;
 * - the bundled local server starts with nothing else installed;
 * - the `sluice` command (its bundle, commander and cli-progress inside) works with nothing else installed;
 * - `sluice/cdk` synthesizes a stack in a scratch CDK app (aws-cdk-lib and constructs are the app's
 *   own, here linked from this checkout), with every function's code the prebuilt bundle.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildPackage } from '../../scripts/build.ts';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The npm that runs this test (npm test), else the one on PATH. */
const NPM = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
const ADMIN_KEY = 'pack-test-admin-key-0123456789';

/**
 * What a client install brings: the package and fzstd (and the optional native CRC-32C). Its size is
 * mostly sluice/cdk's prebuilt function code — about 650 KB per function (zod, Powertools and the
 * whole application in each; the four API functions' bundles are near copies) — beside the client
 * (~0.4 MB) and the bundled local server and CLI (~0.8 MB).
 */
const INSTALL_BOUND = { packages: 4, bytes: 8 * 1024 * 1024 };

async function npm(args: string[], cwd: string): Promise<string> {
  const [command, ...prefix] = NPM;
  const { stdout } = await run(command, [...prefix, ...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function installedPackages(nodeModules: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const scoped of await readdir(join(nodeModules, entry))) names.push(`${entry}/${scoped}`);
    else names.push(entry);
  }
  return names.sort();
}

async function diskBytes(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await diskBytes(join(path, entry));
  return total;
}

describe('the npm package, installed', { timeout: 900_000 }, () => {
  let work: string;
  let app: string;
  let server: LocalServer;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    const staged = join(work, 'package');
    await mkdir(staged);
    await buildPackage(join(staged, 'dist'));
    for (const file of ['package.json', 'README.md', 'LICENSE', 'docs', 'bin/sluice.js']) await cp(join(ROOT, file), join(staged, file), { recursive: true });
    const tarball = (await npm(['pack', '--pack-destination', work], staged)).trim().split('\n').pop()!;
    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await npm(['install', '--prefer-offline', join(work, tarball)], app);
    server = await startLocalServer({ dataDir: join(work, 'data'), port: 0, apiKey: ADMIN_KEY, maintenanceIntervalMs: 0 });
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(`installs at most ${INSTALL_BOUND.packages} packages and ${INSTALL_BOUND.bytes / 1024 / 1024} MiB: the client's own imports`, async (t) => {
    const packages = await installedPackages(join(app, 'node_modules'));
    const bytes = await diskBytes(join(app, 'node_modules'));
    t.diagnostic(`installed: ${packages.join(', ')} (${(bytes / 1024 / 1024).toFixed(2)} MiB)`);
    assert.ok(packages.includes('sluice') && packages.includes('fzstd'));
    for (const name of packages) assert.match(name, /^(sluice|fzstd|@node-rs\/crc32(-[a-z0-9-]+)?)$/, `${name} is not something the client imports`);
    assert.ok(packages.length <= INSTALL_BOUND.packages, packages.join(', '));
    assert.ok(bytes <= INSTALL_BOUND.bytes, `${bytes} bytes`);
    const pkg = JSON.parse(await readFile(join(app, 'node_modules/sluice/package.json'), 'utf8'));
    assert.deepEqual(Object.keys(pkg.dependencies), ['fzstd']);
  });

  it('the client produces and consumes from the installed package', async () => {
    const script = `
      import { Sluice } from 'sluice';
      const sluice = new Sluice({ endpoint: process.env.URL, apiKey: process.env.KEY });
      await sluice.admin().createTopics({ topics: [{ topic: 'packed', numPartitions: 1 }] });
      const producer = sluice.producer({ lingerMs: 0 });
      const [sent] = await producer.send({ topic: 'packed', messages: [{ key: 'k', value: 'from the tarball', headers: { h: ['a', 'b'] } }] });
      await producer.disconnect();
      const consumer = sluice.consumer({ maxWaitMs: 100 });
      await consumer.subscribe({ topic: 'packed', fromBeginning: true });
      const got = await new Promise((resolve) => consumer.run({ eachMessage: async ({ message }) => resolve(message) }));
      await consumer.disconnect();
      console.log(JSON.stringify({ offset: sent.offset, value: got.value.toString(), headers: got.headers.h.map(String) }));`;
    await writeFile(join(app, 'client.mjs'), script);
    const { stdout } = await run(process.execPath, [join(app, 'client.mjs')], { cwd: app, env: { ...process.env, URL: server.url, KEY: ADMIN_KEY }, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout.trim()), { offset: '0', value: 'from the tarball', headers: ['a', 'b'] });
  });

  it('the bundled local server starts with nothing else installed', async () => {
    const child = spawn(process.execPath, [join(app, 'node_modules/sluice/dist/server/main.js')], {
      cwd: app,
      env: { ...process.env, PORT: '0', SLUICE_DATA_DIR: join(work, 'server-data'), SLUICE_API_KEY: ADMIN_KEY, SLUICE_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]);
        });
        child.stderr.on('data', (chunk) => (out += chunk));
        child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
      });
      const health = await (await fetch(`${url}/v1/health`)).json();
      assert.equal(health.status, 'ok');
      assert.equal(health.version, JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the sluice command runs its bundle with nothing else installed', async () => {
    const bin = join(app, 'node_modules/.bin/sluice');
    const env = { ...process.env, SLUICE_URL: server.url, SLUICE_API_KEY: ADMIN_KEY, SLUICE_CONFIG: join(work, 'no-config.json') };
    const sluice = async (args: string[], input?: string) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: app, env, stdio: ['pipe', 'pipe', 'pipe'] });
      try {
        return await new Promise<string>((resolve, reject) => {
          let out = '';
          let err = '';
          const timer = setTimeout(() => reject(new Error(`sluice ${args.join(' ')} timed out: ${err}`)), 60_000);
          child.stdout.on('data', (chunk) => (out += chunk));
          child.stderr.on('data', (chunk) => (err += chunk));
          child.once('close', (code) => {
            clearTimeout(timer);
            if (code === 0) resolve(out);
            else reject(new Error(`sluice ${args.join(' ')} exited ${code}: ${err}`));
          });
          child.stdin.end(input ?? '');
        });
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    };
    await assert.rejects(stat(join(app, 'node_modules/sluice/lib')), 'no TypeScript source in the package: the launcher runs dist/cli/main.js');
    assert.equal((await sluice(['--version'])).trim(), JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
    await sluice(['topics', 'create', 'packed-cli', '--partitions', '1']);
    await sluice(['produce', 'packed-cli', '--key', 'k'], 'one\ntwo\n');
    assert.equal(await sluice(['consume', 'packed-cli', '--format', '%o %k %v']), '0 k one\n1 k two\n');
  });

  it('sluice/cdk synthesizes a stack in a scratch CDK app, with prebuilt function code', async () => {
    for (const peer of ['aws-cdk-lib', 'constructs']) await symlink(join(ROOT, 'node_modules', peer), join(app, 'node_modules', peer));
    const outdir = join(work, 'cdk.out');
    await writeFile(
      join(app, 'cdk-app.mjs'),
      `
      import { App, Stack } from 'aws-cdk-lib';
      import { SluiceStreams } from 'sluice/cdk';
      const app = new App({ outdir: process.env.OUTDIR });
      const stack = new Stack(app, 'Mine');
      const streams = new SluiceStreams(stack, 'Streams', { dashboard: false });
      console.log(JSON.stringify({ url: typeof streams.url }));
      app.synth();`,
    );
    await run(process.execPath, [join(app, 'cdk-app.mjs')], { cwd: app, env: { ...process.env, OUTDIR: outdir }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    const template = JSON.parse(await readFile(join(outdir, 'Mine.template.json'), 'utf8'));
    const assets = JSON.parse(await readFile(join(outdir, 'Mine.assets.json'), 'utf8'));
    const functions = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x',
    );
    assert.ok(functions.length >= 5, `${functions.length} functions`);
    let consoles = 0;
    for (const fn of functions) {
      assert.equal(fn.Properties.Handler, 'index.handler');
      const staged = join(outdir, assets.files[String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')].source.path);
      const files = await readdir(staged);
      // the admin function also carries the web console's static files (lambdas/admin.ts)
      if (files.includes('console')) {
        consoles++;
        assert.ok((await readdir(join(staged, 'console'))).includes('index.html'));
      }
      assert.deepEqual(files.filter((f) => f !== 'console'), ['index.mjs'], 'the prebuilt bundle, nothing else');
    }
    assert.equal(consoles, 1, 'one function serves the console');
  });
});
