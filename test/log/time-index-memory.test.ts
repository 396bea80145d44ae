import { timeIndexSuite } from './time-index.suite.ts';
import { memoryBackend } from '../support/backends.ts';

timeIndexSuite('memory', memoryBackend, { propertyRuns: 30 });
