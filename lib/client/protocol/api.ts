/**
 * The HTTP API v1 (docs/api-v1.md) as typed calls: one method per route, offsets as bigint, no
 * retries (callers choose: see retry/retry.ts). Media types from the contract (lib/api).
 */
import { MEDIA_KAFKA_BATCHES, MEDIA_SLUICE_BATCHES } from '../../api/media-types.ts';
import type { HttpTransport } from '../network/http.ts';
import { SluiceClientError } from '../errors.ts';

export interface TopicConfig {
  /** How long records are kept; -1 = forever. Server default 7 days. */
  readonly retentionMs?: number;
  /** Bytes kept per partition; -1 = unbounded. */
  readonly retentionBytes?: number;
  /** Codec the server uses for batches it encodes from JSON. */
  readonly compression?: 'zstd' | 'gzip' | 'none';
  readonly [name: string]: unknown;
}

export interface TopicSummary {
  readonly name: string;
  readonly partitions: number;
}

export interface PartitionOffsets {
  readonly partition: number;
  readonly startOffset: bigint;
  /** The high watermark: the next offset a consumer at the tail will read. */
  readonly endOffset: bigint;
}

export interface TopicDescription {
  readonly name: string;
  readonly config: TopicConfig;
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

export interface Location {
  readonly url: string;
  /** Inclusive byte range: send exactly `Range: bytes=start-end`. */
  readonly range: { readonly start: number; readonly end: number };
  /** Offset of the first batch in the range (the stored batches carry base offset 0). */
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

export type AssignmentStrategy = 'cooperative-sticky' | 'range' | 'roundrobin';

export interface JoinGroupRequest {
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs?: number;
  readonly memberId?: string;
  /** A new member's retry-safe identity: the same on every retry of one join. */
  readonly joinId?: string;
  readonly instanceId?: string;
  readonly strategy?: AssignmentStrategy;
}

export interface GroupPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface JoinGroupAnswer {
  readonly memberId: string;
  readonly generation: number;
  /** Consume these, from committedOffset (null: nothing committed). */
  readonly assignments: ReadonlyArray<GroupPartition & { readonly committedOffset: string | null }>;
  /** Still this member's in this generation, moving away: commit, stop, rejoin. */
  readonly revoking: readonly GroupPartition[];
  /** Moving to this member once their current owners release them (absent from older servers). */
  readonly pending?: readonly GroupPartition[];
}

export interface GroupDescription {
  readonly group: string;
  readonly generation: number;
  readonly strategy: AssignmentStrategy;
  readonly members: ReadonlyArray<{
    readonly memberId: string;
    readonly instanceId?: string;
    readonly topics: readonly string[];
    readonly assignments: readonly GroupPartition[];
    readonly revoking: readonly GroupPartition[];
  }>;
  readonly offsets: ReadonlyArray<GroupPartition & { readonly committedOffset: string | null; readonly endOffset: string; readonly lag: string | null }>;
}

export interface ResetGroupOffsetsRequest {
  readonly topic: string;
  readonly partitions?: readonly number[];
  readonly to: 'earliest' | 'latest' | 'timestamp' | 'offset';
  readonly timestamp?: number;
  readonly offset?: string;
}

const path = {
  topics: () => '/v1/topics',
  topic: (topic: string) => `/v1/topics/${encodeURIComponent(topic)}`,
  records: (topic: string) => `/v1/topics/${encodeURIComponent(topic)}/records`,
  partition: (topic: string, partition: number, what: 'records' | 'locations' | 'offsets') =>
    `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/${what}`,
  groups: () => '/v1/groups',
  group: (group: string) => `/v1/groups/${encodeURIComponent(group)}`,
  members: (group: string) => `/v1/groups/${encodeURIComponent(group)}/members`,
  member: (group: string, memberId: string) => `/v1/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(memberId)}`,
  offsets: (group: string) => `/v1/groups/${encodeURIComponent(group)}/offsets`,
};

function offset(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new SluiceClientError('BAD_RESPONSE', `${what} is not an offset: ${String(value)}`);
  return BigInt(value);
}

export class SluiceApi {
  readonly http: HttpTransport;

  constructor(http: HttpTransport) {
    this.http = http;
  }

  async createTopic(name: string, partitions: number, config?: TopicConfig): Promise<{ name: string; partitions: number; config: TopicConfig }> {
    return this.http.json('POST', path.topics(), { json: { name, partitions, ...(config ? { config } : {}) } });
  }

  async listTopics(): Promise<TopicSummary[]> {
    const body = await this.http.json<{ topics: TopicSummary[] }>('GET', path.topics());
    return body.topics;
  }

  async describeTopic(name: string, signal?: AbortSignal): Promise<TopicDescription> {
    const body = await this.http.json<{ name: string; config: TopicConfig; partitions: Array<{ partition: number; startOffset: string; endOffset: string }> }>(
      'GET',
      path.topic(name),
      { signal },
    );
    return {
      name: body.name,
      config: body.config,
      partitions: body.partitions.map((p) => ({ partition: p.partition, startOffset: offset(p.startOffset, 'startOffset'), endOffset: offset(p.endOffset, 'endOffset') })),
    };
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.request('DELETE', path.topic(name));
  }

  /** POST the binary produce body; the same bytes and key on a retry return the first attempt's offsets. */
  async produceBatches(topic: string, body: Uint8Array, idempotencyKey: string | undefined, signal?: AbortSignal): Promise<ProducedPartition[]> {
    const answer = await this.http.json<{ partitions: Array<{ partition: number; baseOffset: string; recordCount: number }> }>('POST', path.records(topic), {
      body,
      contentType: MEDIA_SLUICE_BATCHES,
      headers: idempotencyKey === undefined ? undefined : { 'idempotency-key': idempotencyKey },
      signal,
    });
    return answer.partitions.map((p) => ({ partition: p.partition, baseOffset: offset(p.baseOffset, 'baseOffset'), recordCount: p.recordCount }));
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

  /** Presigned ranged reads; 400 INVALID_REQUEST when the deployment cannot presign. */
  async locations(topic: string, partition: number, request: ReadRequest): Promise<Locations> {
    const body = await this.http.json<{
      locations: Array<{ url: string; range: { start: number; end: number }; baseOffset: string; lastOffset: string }>;
      nextOffset: string;
      highWatermark: string;
    }>('GET', path.partition(topic, partition, 'locations'), {
      query: { offset: request.offset, maxBytes: request.maxBytes, maxWaitMs: request.maxWaitMs },
      signal: request.signal,
      extraTimeoutMs: request.maxWaitMs,
    });
    return {
      locations: body.locations.map((l) => ({ url: l.url, range: l.range, baseOffset: offset(l.baseOffset, 'baseOffset'), lastOffset: offset(l.lastOffset, 'lastOffset') })),
      nextOffset: offset(body.nextOffset, 'nextOffset'),
      highWatermark: offset(body.highWatermark, 'highWatermark'),
    };
  }

  /** Joins a consumer group, or rejoins it with `memberId` (which also releases revoking partitions). */
  async joinGroup(group: string, request: JoinGroupRequest, signal?: AbortSignal): Promise<JoinGroupAnswer> {
    return this.http.json<JoinGroupAnswer>('POST', path.members(group), { json: request, signal });
  }

  /** Renews the member's session; `rebalance`: rejoin. 404 UNKNOWN_MEMBER once it expired, left or was replaced. */
  async heartbeat(group: string, memberId: string, generation: number, signal?: AbortSignal): Promise<{ generation: number; rebalance: boolean }> {
    return this.http.json('POST', `${path.member(group, memberId)}/heartbeat`, { json: { generation }, signal });
  }

  async leaveGroup(group: string, memberId: string, signal?: AbortSignal): Promise<void> {
    await this.http.request('DELETE', path.member(group, memberId), { signal });
  }

  /** 409 ILLEGAL_GENERATION when the member was fenced (stale generation, partition not its own, session expired). */
  async commitGroupOffsets(
    group: string,
    memberId: string,
    generation: number,
    offsets: ReadonlyArray<GroupPartition & { readonly offset: string }>,
    signal?: AbortSignal,
  ): Promise<Array<GroupPartition & { committedOffset: string }>> {
    const body = await this.http.json<{ offsets: Array<GroupPartition & { committedOffset: string }> }>('POST', path.offsets(group), {
      json: { memberId, generation, offsets },
      signal,
    });
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
    const body = await this.http.json<{ groups: Array<{ group: string }> }>('GET', path.groups());
    return body.groups.map((g) => g.group);
  }

  /** Admin, only while the group has no members (409 GROUP_NOT_EMPTY otherwise). */
  async resetGroupOffsets(group: string, request: ResetGroupOffsetsRequest): Promise<Array<GroupPartition & { committedOffset: string }>> {
    const body = await this.http.json<{ offsets: Array<GroupPartition & { committedOffset: string }> }>('POST', `${path.offsets(group)}/reset`, { json: request });
    return body.offsets;
  }

  /** First offset with timestamp ≥ the given time, or the high watermark. */
  async offsetForTimestamp(topic: string, partition: number, timestamp: number, signal?: AbortSignal): Promise<bigint> {
    const body = await this.http.json<{ offset: string }>('GET', path.partition(topic, partition, 'offsets'), { query: { timestamp }, signal });
    return offset(body.offset, 'offset');
  }
}
