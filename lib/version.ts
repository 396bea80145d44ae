/** The package's version (package.json), for GET /v1/health and the OpenAPI document. */
import packageJson from '../package.json' with { type: 'json' };

export const SLUICE_VERSION: string = packageJson.version;
