import { engineSuite } from './engine.suite.ts';
import { awsEmulatorExpressIngestBackend } from '../support/backends.ts';

engineSuite('S3 + DynamoDB adapters, ingest objects in a second bucket listing like a directory bucket (RoutedObjectStore, 2 × s3rver + dynalite)', awsEmulatorExpressIngestBackend);
