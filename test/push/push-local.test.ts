import { pushSuite } from './push.suite.ts';
import { localBackend } from '../support/backends.ts';

pushSuite('local', localBackend);
