import { groupsSuite } from './groups.suite.ts';
import { awsEmulatorBackend } from '../support/backends.ts';

groupsSuite('S3 + DynamoDB adapters (s3rver + dynalite)', awsEmulatorBackend);
