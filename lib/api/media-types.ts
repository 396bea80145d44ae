/** The media types of the HTTP contract (docs/api-v1.md), for the server and the client alike. */

export const MEDIA_JSON = 'application/json';
/** The binary produce body: partition sections of Kafka RecordBatches (./sluice-batches.ts). */
export const MEDIA_SLUICE_BATCHES = 'application/vnd.sluice.batches';
/** Kafka RecordBatch v2 batches back to back with real base offsets, as Kafka itself would return them. */
export const MEDIA_KAFKA_BATCHES = 'application/vnd.kafka.record-batches';
/** Server-Sent Events: the live tail (`…/stream`). */
export const MEDIA_EVENT_STREAM = 'text/event-stream';
/** Presigned object ranges served by the local server (S3 serves them in AWS). */
export const MEDIA_OCTET_STREAM = 'application/octet-stream';

/** The media type of a Content-Type or Accept value, without parameters, lower case. */
export function baseMediaType(value: string): string {
  return value.split(';')[0].trim().toLowerCase();
}
