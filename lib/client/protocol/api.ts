/**
 * The HTTP API v1 (docs/api-v1.md) as typed calls: one method per route, offsets as bigint, no
 * retries (callers choose: see retry/retry.ts). Media types from the contract (lib/api).
 */
import type { AssignmentStrategy } from '../../api/limits.ts';
import { MEDIA_KAFKA_BATCHES, MEDIA_SLUICE_BATCHES } from '../../api/media-types.ts';
import type * as types from '../../api/types.ts';
import type { HttpTransport } from '../network/http.ts';
import { SluiceClientError } from '../errors.ts';
import { bytesFromBase64 } from '../util/base64.ts';

/** A topic's config as sent: every field optional (the server fills in its defaults). */
export type TopicConfig = types.TopicConfigInput;
/** Settings to change: a value replaces the current one, null sets the deployment's default again. */
export type TopicConfigChange = types.TopicConfigChange;

export type TopicSummary = types.ListTopicsResponse['topics'][number];

export interface PartitionOffsets {
  readonly partition: number;
  readonly startOffset: bigint;
  /** The high watermark: the next offset a consumer at the tail will read. */
  readonly endOffset: bigint;
}

export interface TopicDescription {
  readonly name: string;
  readonly config: types.TopicConfig;
  readonly partitions: readonly PartitionOffsets[];
}

export interface ProducedPartition {
  readonly partition: number;
  readonly baseOffset: bigint;
  readonly recordCount: number;
}

export interface FetchedBytes {
  /** Kafka RecordBatches back to back, real base offsets. */
  readonly bytes: Uint8Array;
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

/**
 * Where a run of batches is read from: a presigned ranged GET (`url`, `range`), or, for small batches
 * the server stores inline in its log, the batches themselves (`batches`, no request needed).
 */
export type Location = RangeLocation | InlineLocation;

export interface RangeLocation {
  readonly url: string;
  /** Inclusive byte range: send exactly `Range: bytes=start-end`. */
  readonly range: { readonly start: number; readonly end: number };
  /** Offset of the first batch in the range (the stored batches carry base offset 0). */
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

export interface InlineLocation {
  /** The stored batches (base offsets 0), the bytes a ranged GET would have returned. */
  readonly batches: Uint8Array;
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

export interface Locations {
  readonly locations: readonly Location[];
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

export interface ReadRequest {
  readonly offset: bigint;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
  readonly signal?: AbortSignal;
}

export type { AssignmentStrategy };
export type JoinGroupRequest = types.JoinGroupRequest;
export type GroupPartition = types.TopicPartition;
/** `assignments`: consume these, from committedOffset (null: nothing committed); `revoking`: still this member's, moving away. */
export type JoinGroupAnswer = types.JoinGroupResponse;
export type GroupDescription = types.DescribeGroupResponse;
export type ResetGroupOffsetsRequest = types.ResetOffsetsRequest;
export type KeyScopeInput = types.KeyScopeInput;
export type CreatedKey = types.CreateKeyResponse;
export type KeySummary = types.ListKeysResponse['keys'][number];
export type PushConsumerToCreate = types.CreateConsumerRequest;
export type CreatedPushConsumer = types.CreateConsumerResponse;
export type PushConsumerSummary = types.ListConsumersResponse['consumers'][number];
export type PushConsumerDescription = types.DescribeConsumerResponse;
export type PushConsumerState = types.ConsumerStateResponse;
type CommittedOffsets = types.CommittedOffsetsResponse['offsets'];

const path = {
  topics: () => '/v1/topics',
  topic: (topic: string) => `/v1/topics/${encodeURIComponent(topic)}`,
  topicPartitions: (topic: string) => `/v1/topics/${encodeURIComponent(topic)}/partitions`,
  records: (topic: string) => `/v1/topics/${encodeURIComponent(topic)}/records`,
  partition: (topic: string, partition: number, what: 'records' | 'locations' | 'offsets') =>
    `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/${what}`,
  groups: () => '/v1/groups',
  group: (group: string) => `/v1/groups/${encodeURIComponent(group)}`,
  members: (group: string) => `/v1/groups/${encodeURIComponent(group)}/members`,
  member: (group: string, memberId: string) => `/v1/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(memberId)}`,
  offsets: (group: string) => `/v1/groups/${encodeURIComponent(group)}/offsets`,
  keys: () => '/v1/keys',
  key: (id: string) => `/v1/keys/${encodeURIComponent(id)}`,
  consumers: () => '/v1/consumers',
  consumer: (name: string) => `/v1/consumers/${encodeURIComponent(name)}`,
};

function offset(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new SluiceClientError('BAD_RESPONSE', `${what} is not an offset: ${String(value)}`);
  return BigInt(value);
}

export class SluiceApi {
  readonly http: HttpTransport;
  /** Where produce requests go: a Function URL front door when the deployment has one, else `http`. */
  readonly #produceHttp: HttpTransport;

  constructor(http: HttpTransport, produceHttp: HttpTransport = http) {
    this.http = http;
    this.#produceHttp = produceHttp;
  }

  async createTopic(name: string, partitions: number, config?: TopicConfig): Promise<types.CreateTopicResponse> {
    const request: types.CreateTopicRequest = { name, partitions, ...(config ? { config } : {}) };
    return this.http.json('POST', path.topics(), { json: request });
  }

  async listTopics(): Promise<readonly TopicSummary[]> {
    const body = await this.http.json<types.ListTopicsResponse>('GET', path.topics());
    return body.topics;
  }

  async describeTopic(name: string, signal?: AbortSignal): Promise<TopicDescription> {
    const body = await this.http.json<types.DescribeTopicResponse>('GET', path.topic(name), { signal });
    return {
      name: body.name,
      config: body.config,
      partitions: body.partitions.map((p) => ({ partition: p.partition, startOffset: offset(p.startOffset, 'startOffset'), endOffset: offset(p.endOffset, 'endOffset') })),
    };
  }

  async alterTopicConfig(name: string, config: TopicConfigChange): Promise<types.TopicChangedResponse> {
    const request: types.AlterTopicConfigRequest = { config };
    return this.http.json('PATCH', path.topic(name), { json: request });
  }

  async addPartitions(name: string, count: number): Promise<types.TopicChangedResponse> {
    const request: types.AddPartitionsRequest = { count };
    return this.http.json('POST', path.topicPartitions(name), { json: request });
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.request('DELETE', path.topic(name));
  }

  /**
   * POST the binary produce body; the same bytes and key on a retry return the first attempt's offsets.
   * `attempt` (1 for the first, the default) goes with the key as Sluice-Attempt, so the server looks
   * for an earlier attempt before it reserves offsets for a retry.
   */
  async produceBatches(
    topic: string,
    body: Uint8Array,
    options: { readonly idempotencyKey?: string; readonly attempt?: number; readonly signal?: AbortSignal } = {},
  ): Promise<ProducedPartition[]> {
    const { idempotencyKey, attempt = 1, signal } = options;
    const answer = await this.#produceHttp.json<types.ProduceBatchesResponse>('POST', path.records(topic), {
      body,
      contentType: MEDIA_SLUICE_BATCHES,
      headers: idempotencyKey === undefined ? undefined : { 'idempotency-key': idempotencyKey, 'sluice-attempt': String(attempt) },
      signal,
    });
    return answer.partitions.map((p) => ({ partition: p.partition, baseOffset: offset(p.baseOffset, 'baseOffset'), recordCount: p.recordCount }));
  }

  /** GET /v1/health (public): the version, and the notification channel's URL where there is one. */
  health(signal?: AbortSignal): Promise<types.HealthResponse> {
    return this.http.json<types.HealthResponse>('GET', '/v1/health', { signal });
  }

  /**
   * One long poll for several partitions of a topic: the partitions where a read at the given offset
   * would answer at once (records there, or the offset out of range); empty at the deadline.
   */
  async waitForRecords(topic: string, positions: ReadonlyArray<{ partition: number; offset: bigint }>, maxWaitMs: number, signal?: AbortSignal): Promise<Array<{ partition: number; highWatermark: bigint }>> {
    const answer = await this.http.json<types.WaitResponse>('GET', `${path.topic(topic)}/wait`, {
      query: { partitions: positions.map((p) => `${p.partition}:${p.offset}`).join(','), maxWaitMs },
      signal,
      extraTimeoutMs: maxWaitMs,
    });
    return answer.partitions.map((p) => ({ partition: p.partition, highWatermark: offset(p.highWatermark, 'highWatermark') }));
  }

  /** The fetch route with Accept: Kafka record batches (real base offsets stamped in by the server). */
  async fetchBatches(topic: string, partition: number, request: ReadRequest): Promise<FetchedBytes> {
    const answer = await this.http.request('GET', path.partition(topic, partition, 'records'), {
      query: { offset: request.offset, maxBytes: request.maxBytes, maxWaitMs: request.maxWaitMs },
      accept: MEDIA_KAFKA_BATCHES,
      signal: request.signal,
      extraTimeoutMs: request.maxWaitMs,
    });
    const type = answer.headers.get('content-type') ?? '';
    if (!type.includes(MEDIA_KAFKA_BATCHES)) throw new SluiceClientError('BAD_RESPONSE', `fetch answered ${type || 'no content type'}, expected ${MEDIA_KAFKA_BATCHES}`);
    return {
      bytes: answer.bytes,
      nextOffset: offset(answer.headers.get('sluice-next-offset'), 'Sluice-Next-Offset'),
      highWatermark: offset(answer.headers.get('sluice-high-watermark'), 'Sluice-High-Watermark'),
    };
  }

  /** Presigned ranged reads (small inline batches come as bytes); 400 INVALID_REQUEST when the deployment cannot presign. */
  async locations(topic: string, partition: number, request: ReadRequest): Promise<Locations> {
    const body = await this.http.json<types.LocationsResponse>('GET', path.partition(topic, partition, 'locations'), {
      query: { offset: request.offset, maxBytes: request.maxBytes, maxWaitMs: request.maxWaitMs },
      signal: request.signal,
      extraTimeoutMs: request.maxWaitMs,
    });
    return {
      locations: body.locations.map((l): Location => {
        const offsets = { baseOffset: offset(l.baseOffset, 'baseOffset'), lastOffset: offset(l.lastOffset, 'lastOffset') };
        if ('batchesBase64' in l) return { batches: bytesFromBase64(l.batchesBase64), ...offsets };
        return { url: l.url, range: l.range, ...offsets };
      }),
      nextOffset: offset(body.nextOffset, 'nextOffset'),
      highWatermark: offset(body.highWatermark, 'highWatermark'),
    };
  }

  /** Joins a consumer group, or rejoins it with `memberId` (which also releases revoking partitions). */
  async joinGroup(group: string, request: JoinGroupRequest, signal?: AbortSignal): Promise<JoinGroupAnswer> {
    return this.http.json<JoinGroupAnswer>('POST', path.members(group), { json: request, signal });
  }

  /** Renews the member's session; `rebalance`: rejoin. 404 UNKNOWN_MEMBER once it expired, left or was replaced. */
  async heartbeat(group: string, memberId: string, generation: number, signal?: AbortSignal): Promise<types.HeartbeatResponse> {
    const request: types.HeartbeatRequest = { generation };
    return this.http.json('POST', `${path.member(group, memberId)}/heartbeat`, { json: request, signal });
  }

  async leaveGroup(group: string, memberId: string, signal?: AbortSignal): Promise<void> {
    await this.http.request('DELETE', path.member(group, memberId), { signal });
  }

  /** 409 ILLEGAL_GENERATION when the member was fenced (stale generation, partition not its own, session expired). */
  async commitGroupOffsets(
    group: string,
    memberId: string,
    generation: number,
    offsets: types.CommitOffsetsRequest['offsets'],
    signal?: AbortSignal,
  ): Promise<CommittedOffsets> {
    const request: types.CommitOffsetsRequest = { memberId, generation, offsets };
    const body = await this.http.json<types.CommittedOffsetsResponse>('POST', path.offsets(group), { json: request, signal });
    return body.offsets;
  }

  async describeGroup(group: string, signal?: AbortSignal): Promise<GroupDescription> {
    return this.http.json<GroupDescription>('GET', path.group(group), { signal });
  }

  /** 204; 409 GROUP_NOT_EMPTY while it has members; 404 GROUP_NOT_FOUND. */
  async deleteGroup(group: string): Promise<void> {
    await this.http.request('DELETE', path.group(group));
  }

  async listGroups(): Promise<string[]> {
    const body = await this.http.json<types.ListGroupsResponse>('GET', path.groups());
    return body.groups.map((g) => g.group);
  }

  /** Admin, only while the group has no members (409 GROUP_NOT_EMPTY otherwise). */
  async resetGroupOffsets(group: string, request: ResetGroupOffsetsRequest): Promise<CommittedOffsets> {
    const body = await this.http.json<types.CommittedOffsetsResponse>('POST', `${path.offsets(group)}/reset`, { json: request });
    return body.offsets;
  }

  /** Admin over everything; the new key's scopes must lie within the caller's. The plain key is in this answer only. */
  async createKey(name: string, scopes: readonly KeyScopeInput[]): Promise<CreatedKey> {
    const request: types.CreateKeyRequest = { name, scopes };
    return this.http.json<CreatedKey>('POST', path.keys(), { json: request });
  }

  async listKeys(): Promise<readonly KeySummary[]> {
    const body = await this.http.json<types.ListKeysResponse>('GET', path.keys());
    return body.keys;
  }

  /** 204; 404 NOT_FOUND for an unknown id; 403 FORBIDDEN for a key broader than the caller. */
  async revokeKey(id: string): Promise<void> {
    await this.http.request('DELETE', path.key(id));
  }

  /** 409 CONSUMER_EXISTS, 404 TOPIC_NOT_FOUND; the delivery secret is in this answer only. */
  async createConsumer(request: PushConsumerToCreate): Promise<CreatedPushConsumer> {
    return this.http.json<CreatedPushConsumer>('POST', path.consumers(), { json: request });
  }

  async listConsumers(): Promise<readonly PushConsumerSummary[]> {
    const body = await this.http.json<types.ListConsumersResponse>('GET', path.consumers());
    return body.consumers;
  }

  /** 404 CONSUMER_NOT_FOUND. */
  async describeConsumer(name: string): Promise<PushConsumerDescription> {
    return this.http.json<PushConsumerDescription>('GET', path.consumer(name));
  }

  async pauseConsumer(name: string): Promise<PushConsumerState> {
    return this.http.json<PushConsumerState>('POST', `${path.consumer(name)}/pause`);
  }

  async resumeConsumer(name: string): Promise<PushConsumerState> {
    return this.http.json<PushConsumerState>('POST', `${path.consumer(name)}/resume`);
  }

  async deleteConsumer(name: string): Promise<void> {
    await this.http.request('DELETE', path.consumer(name));
  }

  /** First offset with timestamp ≥ the given time, or the high watermark. */
  /** Moves the partition's log start to `before` ('end': the high watermark); answers the offsets after it. */
  async deleteRecords(topic: string, partition: number, before: bigint | 'end'): Promise<PartitionOffsets> {
    const body = await this.http.json<types.DeleteRecordsResponse>('DELETE', path.partition(topic, partition, 'records'), { query: { before: before === 'end' ? -1 : before } });
    return { partition: body.partition, startOffset: offset(body.startOffset, 'startOffset'), endOffset: offset(body.endOffset, 'endOffset') };
  }

  async offsetForTimestamp(topic: string, partition: number, timestamp: number, signal?: AbortSignal): Promise<bigint> {
    const body = await this.http.json<types.OffsetsResponse>('GET', path.partition(topic, partition, 'offsets'), { query: { timestamp }, signal });
    return offset(body.offset, 'offset');
  }
}
