/** Everything the package exports besides the Sluice class itself (shared by index.ts and browser.ts). */
export { Admin, type PartitionOffset, type TopicInfo, type TopicToCreate } from './admin/admin.ts';
export { ConfigResourceTypes, type AlterConfigResponse, type ConfigEntry, type ConfigResource, type DescribeConfigResponse } from './admin/kafka-configs.ts';
export {
  StaticAssignment,
  type AssignedPartition,
  type AssignmentContext,
  type AssignmentHandler,
  type AssignmentSource,
  type CommitOptions,
  type CommitReceipt,
  type FinalCommit,
} from './consumer/assignment.ts';
export {
  CONSUMER_EVENTS,
  type ConsumerEventPayloads,
  type ConsumerEventType,
  type CrashEvent,
  type InstrumentationEvent,
  type PartitionsByTopic,
} from './consumer/events.ts';
export { GroupAssignment, GROUP_DEFAULTS, type GroupMembershipOptions, type GroupOptions, type RebalanceListener } from './consumer/group.ts';
export {
  Consumer,
  CONSUMER_DEFAULTS,
  type Batch,
  type ConsumerEvent,
  type ConsumerOptions,
  type EachBatchPayload,
  type EachMessagePayload,
  type RunOptions,
  type SeekTarget,
  type SubscribeOptions,
} from './consumer/consumer.ts';
export { SluiceClientError, isRetriable, type ErrorCode } from './errors.ts';
export { TAIL_DEFAULTS, type TailOptions, type TailRecord } from './tail/tail.ts';
export type { FetchFunction } from './network/http.ts';
export type {
  AssignmentStrategy,
  CreatedKey,
  CreatedPushConsumer,
  GroupDescription,
  KeyScopeInput,
  KeySummary,
  PushConsumerDescription,
  PushConsumerState,
  PushConsumerSummary,
  PushConsumerToCreate,
  TopicConfig,
  TopicConfigChange,
} from './protocol/api.ts';
export { Producer, PRODUCER_DEFAULTS, type ProducerOptions } from './producer/producer.ts';
export type { Partitioner, PartitionerArgs } from './producer/partitioner.ts';
export type { RetryOptions } from './retry/retry.ts';
export { CLIENT_DEFAULTS, type SluiceOptions } from './sluice.ts';
export type * from './types.ts';
export { RecordFailure, sluiceHandler, verifyDelivery, type BatchResponse, type DeliveredRecord, type DeliveryBatch, type HandlerBatch } from './push/delivery.ts';
