import { timeIndexSuite } from './time-index.suite.ts';
import { localBackend } from '../support/backends.ts';

timeIndexSuite('local filesystem + SQLite', localBackend, { propertyRuns: 10 });
