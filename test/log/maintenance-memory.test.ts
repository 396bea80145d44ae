import { maintenanceSuite } from './maintenance.suite.ts';
import { memoryBackend } from '../support/backends.ts';

maintenanceSuite('memory', memoryBackend);
