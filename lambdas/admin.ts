/**
 * Administration: topics, API keys and consumer groups (every route the other functions do not serve),
 * and the web console's static files at /console/ (the HTTP API's $default route reaches this
 * function; the bundle carries console/ next to index.mjs).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { awsAppFromEnv } from '../lib/lambda/aws-app.ts';
import { CONSOLE_ROOT, withConsole } from '../lib/server/console-files.ts';
import { createPowertools, logUnexpectedError, observedHttpHandler } from '../lib/lambda/observability.ts';

// Built once per execution environment: warm invocations reuse the SDK clients and caches.
const powertools = createPowertools('admin');
const { app } = awsAppFromEnv({ function: 'admin', logError: logUnexpectedError(powertools.logger) });

const bundledConsole = fileURLToPath(new URL('./console', import.meta.url));

export const handler = observedHttpHandler(withConsole(app, existsSync(bundledConsole) ? bundledConsole : CONSOLE_ROOT), powertools);
