/**
 * Internal to bench/e2e-baseline.ts --server-process: the local server of the checkout given as the
 * first argument, in a process of its own (as `npm start` runs it beside an application), on a fresh
 * data directory (second argument), bootstrap key from SLUICE_BENCH_API_KEY. Started with an IPC
 * channel: sends { url } once listening; answers 'cpu' with this process's CPU seconds so far
 * (user + system, every thread) and exits on 'close' after closing the server.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [checkout, dataDir] = process.argv.slice(2);
const local = (await import(pathToFileURL(path.join(checkout, 'lib', 'server', 'local.ts')).href)) as typeof import('../lib/server/local.ts');
const server = await local.startLocalServer({ dataDir, port: 0, apiKey: process.env.SLUICE_BENCH_API_KEY });
process.on('message', (message) => {
  if (message === 'cpu') {
    const usage = process.cpuUsage();
    process.send!({ cpuSeconds: (usage.user + usage.system) / 1e6 });
  } else if (message === 'close') {
    void server.close().finally(() => process.exit(0));
  }
});
// a parent that dies without saying 'close' must not leave this process behind
process.on('disconnect', () => process.exit(0));
process.send!({ url: server.url });
