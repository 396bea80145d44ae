import { groupsSuite } from './groups.suite.ts';
import { memoryBackend } from '../support/backends.ts';

groupsSuite('memory', memoryBackend);
