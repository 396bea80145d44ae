/** POST /v1/admin/maintenance: run one maintenance pass now and say what it did. */
import { authorizeAdminOverEverything } from '../../auth/api-keys.ts';
import type { Engine } from '../../log/engine.ts';
import { json, route, type Route } from '../router.ts';

export function maintenanceRoutes(engine: Engine): Route[] {
  return [
    route('POST', '/v1/admin/maintenance', async ({ principal }) => {
      authorizeAdminOverEverything(principal, 'maintenance');
      return json(200, await engine.maintain());
    }),
  ];
}
