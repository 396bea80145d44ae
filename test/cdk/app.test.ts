/**
 * The app `npx cdk synth` runs: cdk.json's command, as the CDK CLI runs it (CDK_OUTDIR set,
 * node_modules/.bin first on PATH), with real esbuild bundling and cdk-nag. Then the bundles: small,
 * the AWS SDK left to the runtime, and each one loads.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { CONSOLE_CSP } from '../../lib/server/console-files.ts';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const MAX_BUNDLE_BYTES = 1024 * 1024;

interface Template {
  Resources: Record<string, { Type: string; Properties: any }>;
}

describe('the CDK app (cdk.json → bin/cdk-app.ts)', () => {
  let outdir: string;
  let template: Template;
  let bundles: Array<{ name: string; file: string; bytes: number }>;

  before(async () => {
    const work = await mkdtemp(join(tmpdir(), 'sluice-cdk-'));
    // Bundles import @aws-sdk/* from the Lambda runtime; here they find this checkout's node_modules.
    await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'));
    outdir = join(work, 'cdk.out');
    const { app } = JSON.parse(await readFile(join(ROOT, 'cdk.json'), 'utf8')) as { app: string };
    await run('bash', ['-c', app], {
      cwd: ROOT,
      env: { ...process.env, CDK_OUTDIR: outdir, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
      maxBuffer: 16 * 1024 * 1024,
    });
    template = JSON.parse(await readFile(join(outdir, 'Sluice.template.json'), 'utf8'));
    // A function's code is an asset: its S3 key is the asset hash, the asset manifest says where it was staged.
    const assets = JSON.parse(await readFile(join(outdir, 'Sluice.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    bundles = [];
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function' || resource.Properties.Runtime !== 'nodejs24.x') continue;
      const hash = String(resource.Properties.Code.S3Key).replace(/\.zip$/, '');
      const file = join(outdir, assets.files[hash].source.path, 'index.mjs');
      bundles.push({ name: id, file, bytes: (await stat(file)).size });
    }
  });
  after(async () => {
    if (outdir) await rm(join(outdir, '..'), { recursive: true, force: true });
  });

  it('synthesizes the Sluice stack, cdk-nag clean', async () => {
    const manifest = JSON.parse(await readFile(join(outdir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.artifacts.Sluice.type, 'aws:cloudformation:stack');
    const report = JSON.parse(await readFile(join(outdir, 'validation-report.json'), 'utf8'));
    assert.deepEqual(report.pluginReports, [], 'no unacknowledged cdk-nag findings');
  });

  it('bundles every function: one ESM file each, under 1 MB', (t) => {
    assert.equal(bundles.length, 9); // the API functions (the live tail's too), bootstrap key, push dispatcher, stream handler, notification channel
    for (const bundle of bundles) {
      t.diagnostic(`${bundle.name}: ${(bundle.bytes / 1024).toFixed(1)} KiB`);
      assert.ok(bundle.bytes < MAX_BUNDLE_BYTES, `${bundle.name} is ${bundle.bytes} bytes`);
    }
  });

  it('leaves the AWS SDK to the runtime and imports nothing else from outside', async () => {
    for (const bundle of bundles) {
      const code = await readFile(bundle.file, 'utf8');
      const specifiers = new Set([...code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]));
      const external = [...specifiers].filter((s) => !s.startsWith('node:'));
      assert.ok(external.length > 0 && external.every((s) => s.startsWith('@aws-sdk/')), `${bundle.name} imports ${external.join(', ')}`);
      assert.ok(!code.includes('node_modules/@aws-sdk'), `${bundle.name} does not bundle the SDK`);
    }
  });

  it('the admin function carries the web console and serves it through the $default route', async () => {
    const withConsole = bundles.filter((bundle) => existsSync(join(dirname(bundle.file), 'console', 'index.html')));
    assert.deepEqual(withConsole.map((b) => b.name).filter((name) => /Admin/i.test(name)).length, 1, `console files in: ${withConsole.map((b) => b.name).join(', ')}`);
    assert.equal(withConsole.length, 1, 'only the admin function carries them');
    const event = { version: '2.0', routeKey: '$default', rawPath: '/console/', rawQueryString: '', headers: {}, isBase64Encoded: false, requestContext: { http: { method: 'GET', path: '/console/' } } };
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(withConsole[0].file)}); const r = await m.handler(${JSON.stringify(event)}); console.log(JSON.stringify({ status: r.statusCode, type: r.headers['content-type'], csp: r.headers['content-security-policy'], html: (r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString() : r.body).includes('<html') }));`],
      { env: { ...process.env, SLUICE_BUCKET: 'bucket', SLUICE_TABLE: 'table', AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' } },
    );
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { status: 200, type: 'text/html; charset=utf-8', csp: CONSOLE_CSP, html: true });
  });

  /** What the Node.js runtime defines for response streaming (the live tail's function uses it at load). */
  const LAMBDA_RUNTIME_GLOBALS = 'globalThis.awslambda = { streamifyResponse: (handler) => handler, HttpResponseStream: { from: (stream) => stream } };';

  it('each bundle loads and exports its handler (clients are created at load, outside the handler)', async () => {
    for (const bundle of bundles) {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `${LAMBDA_RUNTIME_GLOBALS} const m = await import(${JSON.stringify(bundle.file)}); console.log(typeof m.handler);`], {
        env: { ...process.env, SLUICE_BUCKET: 'bucket', SLUICE_TABLE: 'table', AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' },
      });
      assert.equal(stdout.trim(), 'function', bundle.name);
    }
  });
});
