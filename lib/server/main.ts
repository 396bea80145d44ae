/** `npm start`: the embedded local service. */
import { resolve } from 'node:path';
import { DEFAULTS } from '../defaults.ts';
import { startLocalServer } from './local.ts';

const dataDir = resolve(process.env.SLUICE_DATA_DIR ?? '.sluice-data');
const port = process.env.PORT ? Number(process.env.PORT) : DEFAULTS.localPort;
const server = await startLocalServer({
  dataDir,
  port,
  host: process.env.HOST ?? '127.0.0.1',
  apiKey: process.env.SLUICE_API_KEY || undefined,
  corsOrigins: process.env.SLUICE_CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean),
});

console.log(`Sluice is listening on ${server.url}`);
console.log(`Data: ${dataDir}`);
if (server.generatedApiKey) {
  console.log(`Admin API key (shown once, only its hash is stored): ${server.generatedApiKey}`);
} else if (!process.env.SLUICE_API_KEY) {
  console.log('Admin API key: the one printed at first start (set SLUICE_API_KEY to use a key of your choice).');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
