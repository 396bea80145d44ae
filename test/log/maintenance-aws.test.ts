import { maintenanceSuite } from './maintenance.suite.ts';
import { awsEmulatorBackend } from '../support/backends.ts';

maintenanceSuite('S3 + DynamoDB adapters (s3rver + dynalite)', awsEmulatorBackend);
