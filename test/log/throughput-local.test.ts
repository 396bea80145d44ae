import { throughputSuite } from './throughput.suite.ts';
import { localBackend } from '../support/backends.ts';

throughputSuite('local filesystem + SQLite', localBackend);
