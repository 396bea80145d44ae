import { timeIndexSuite } from './time-index.suite.ts';
import { awsEmulatorBackend } from '../support/backends.ts';

timeIndexSuite('S3 + DynamoDB adapters (s3rver + dynalite)', awsEmulatorBackend, { propertyRuns: 3 });
