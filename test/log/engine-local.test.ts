import { engineSuite } from './engine.suite.ts';
import { localBackend } from '../support/backends.ts';

engineSuite('local filesystem + SQLite', localBackend);
