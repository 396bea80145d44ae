import { pushSuite } from './push.suite.ts';
import { memoryBackend } from '../support/backends.ts';

pushSuite('memory', memoryBackend);
