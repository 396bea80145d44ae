import { engineSuite } from './engine.suite.ts';
import { memoryBackend } from '../support/backends.ts';

engineSuite('memory', memoryBackend);
