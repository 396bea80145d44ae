import { groupsSuite } from './groups.suite.ts';
import { localBackend } from '../support/backends.ts';

groupsSuite('local filesystem + SQLite', localBackend);
