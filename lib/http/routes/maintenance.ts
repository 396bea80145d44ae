/**
 * POST /v1/admin/maintenance: run one maintenance pass now and say what it did. A full pass: whoever
 * asks for one wants everything looked at, quiet partitions included (scheduled passes skip those).
 */
import type { Engine } from '../../log/engine.ts';
import { json, type Handlers } from '../router.ts';

export function maintenanceHandlers(engine: Engine): Pick<Handlers, 'runMaintenance'> {
  return {
    async runMaintenance() {
      return json(200, await engine.maintain({ full: true }));
    },
  };
}
