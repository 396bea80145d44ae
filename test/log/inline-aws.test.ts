import { inlineSuite } from './inline.suite.ts';
import { awsEmulatorBackend } from '../support/backends.ts';

inlineSuite('S3 + DynamoDB adapters (s3rver + dynalite)', awsEmulatorBackend);
