import { inlineSuite } from './inline.suite.ts';
import { localBackend } from '../support/backends.ts';

inlineSuite('local filesystem + SQLite', localBackend);
