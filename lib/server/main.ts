/** `npm start`: the embedded local service, configured from the environment (lib/server/settings.ts). */
import { runLocalService } from './service.ts';
import { describeStartupError, parseLocalSettings, SettingsError } from './settings.ts';

let settings;
try {
  settings = parseLocalSettings(process.env);
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  console.error(`sluice: ${error.message}`);
  process.exit(2);
}
try {
  await runLocalService(settings);
} catch (error) {
  console.error(`sluice: ${describeStartupError(error, settings)}`);
  process.exit(1);
}
