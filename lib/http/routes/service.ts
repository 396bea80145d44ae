/** The public routes: GET /v1/health and GET /v1/openapi.json. They reveal no data. */
import { buildOpenApiDocument } from '../../api/openapi.ts';
import { SLUICE_VERSION } from '../../version.ts';
import { MEDIA_JSON } from '../../api/media-types.ts';
import { json, type Handlers } from '../router.ts';

export function serviceHandlers(options: { notificationsUrl?: () => string | undefined } = {}): Pick<Handlers, 'getHealth' | 'getOpenApi'> {
  let document: string | undefined;
  return {
    async getHealth() {
      const notifications = options.notificationsUrl?.();
      return json(200, { status: 'ok', version: SLUICE_VERSION, ...(notifications ? { notifications } : {}) });
    },
    async getOpenApi() {
      // Generated once per process: the contract does not change while it runs.
      document ??= JSON.stringify(buildOpenApiDocument({ version: SLUICE_VERSION }));
      return { status: 200, headers: { 'content-type': MEDIA_JSON, 'cache-control': 'public, max-age=300' }, body: document };
    },
  };
}
