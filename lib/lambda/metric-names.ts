/**
 * Names of the metrics the functions publish (observability.ts), in a module of their own so that the
 * CDK construct's alarms, dashboard and metric helpers use the same names without loading Powertools.
 */

/** The metric names, shared with the CDK construct's metric helpers, alarms and dashboard. */
export const API_METRICS = {
  requests: 'Requests',
  clientErrors: 'ClientErrors',
  serverErrors: 'ServerErrors',
  latency: 'Latency',
  requestBytes: 'RequestBytes',
  responseBytes: 'ResponseBytes',
  consumerLag: 'ConsumerLag',
  /**
   * Produce: notification-channel messages posted by the produce function itself, produces whose posts
   * the deadline cut off, and connections API Gateway answered 410 Gone for (the notifier deletes them).
   */
  appendHintsPosted: 'AppendHintsPosted',
  appendHintsLate: 'AppendHintsLate',
  appendHintsGone: 'AppendHintsGone',
} as const;

/** What a maintenance pass that did something reports (Operation `maintenance`), in one EMF line. */
export const MAINTENANCE_METRICS = {
  /** Partitions or topics whose work failed this pass (the next pass retries them). */
  errors: 'MaintenanceErrors',
  gapsClosed: 'GapsClosed',
  segmentsWritten: 'SegmentsWritten',
  entriesCompacted: 'EntriesCompacted',
  objectsDeleted: 'ObjectsDeleted',
} as const;

/** The dimension that names the function (besides Powertools' own `service`). */
export const OPERATION_DIMENSION = 'Operation';

/** The push dispatcher's metrics (Operation `dispatcher`): lag per consumer, published by the scheduled pass when above 0. */
export const PUSH_METRICS = {
  lag: 'PushConsumerLag',
  consumerDimension: 'Consumer',
} as const;
