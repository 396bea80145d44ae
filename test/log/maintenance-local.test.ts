import { maintenanceSuite } from './maintenance.suite.ts';
import { localBackend } from '../support/backends.ts';

maintenanceSuite('local filesystem + SQLite', localBackend);
