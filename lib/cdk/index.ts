/**
 * `sluice/cdk`: the SluiceStreams construct for a CDK app of your own, with its Lambda functions
 * prebuilt (aws-cdk-lib and constructs are peer dependencies):
 *
 *   import { SluiceStreams } from 'sluice/cdk';
 *   const streams = new SluiceStreams(this, 'Streams');
 *   streams.grantProduce(ingestFunction);
 */
export { SluiceStreams, StreamsEncryption, type IngestObjectsStorage, type SluiceStreamsProps, type StreamsThrottle } from './sluice-streams.ts';
export { SluiceStack, type SluiceStackProps } from './sluice-stack.ts';
export { API_METRICS, MAINTENANCE_METRICS } from '../lambda/metric-names.ts';
export type { ApiFunctionName } from '../api/functions.ts';
