import { engineSuite } from './engine.suite.ts';
import { awsEmulatorBackend } from '../support/backends.ts';

engineSuite('S3 + DynamoDB adapters (s3rver + dynalite)', awsEmulatorBackend);
