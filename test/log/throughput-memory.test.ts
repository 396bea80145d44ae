import { throughputSuite } from './throughput.suite.ts';
import { memoryBackend } from '../support/backends.ts';

throughputSuite('memory', memoryBackend);
