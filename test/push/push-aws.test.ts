import { pushSuite } from './push.suite.ts';
import { awsEmulatorBackend } from '../support/backends.ts';

pushSuite('aws', awsEmulatorBackend);
