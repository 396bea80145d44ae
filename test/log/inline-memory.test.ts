import { inlineSuite } from './inline.suite.ts';
import { memoryBackend } from '../support/backends.ts';

inlineSuite('memory', memoryBackend);
