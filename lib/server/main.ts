/** `npm start`: the embedded local service, configured from the environment. */
import { resolve } from 'node:path';
import { DEFAULTS } from '../defaults.ts';
import { runLocalService } from './service.ts';

await runLocalService({
  dataDir: resolve(process.env.SLUICE_DATA_DIR ?? '.sluice-data'),
  port: process.env.PORT ? Number(process.env.PORT) : DEFAULTS.localPort,
  host: process.env.HOST ?? '127.0.0.1',
  apiKey: process.env.SLUICE_API_KEY || undefined,
  corsOrigins: process.env.SLUICE_CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean),
  quiet: process.env.SLUICE_QUIET === '1',
});
