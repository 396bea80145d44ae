/** How much work each run does: `--quick` (a smoke run of ~20 s), default (1-3 min), `--large`. */
import type { AwsCase, AwsSettings } from './aws-requests.ts';
import type { ClientE2ESettings } from './client-e2e.ts';
import type { CodecSettings } from './codec-vs-kafkajs.ts';
import type { ContentionSettings } from './contention.ts';
import type { LocalSettings } from './local-http.ts';
import type { SmallRequestSettings } from './small-requests.ts';
import { GIB, KIB, MIB } from './workload.ts';

export type ProfileName = 'quick' | 'default' | 'large';

export interface Profile {
  readonly name: ProfileName;
  readonly local: LocalSettings;
  readonly aws: AwsSettings;
  readonly client: ClientE2ESettings;
  readonly codec: CodecSettings;
}

const PARTITIONS = 8;

function localSettings(rawBytes: number, jsonRequests: number): LocalSettings {
  return {
    partitions: PARTITIONS,
    rawBytes,
    requestRawBytes: MIB,
    distinctRawBytes: 64 * MIB,
    fetchMaxBytes: 4 * MIB,
    jsonRequests,
    jsonRecordsPerRequest: 1000,
    jsonFetchMaxBytes: MIB,
  };
}

/** Large requests to one partition, spread over all partitions, small requests, and idempotent ones. */
function awsSettings(largeRequestsRawBytes: number, smallRequestsRawBytes: number): AwsSettings {
  const large = { totalRawBytes: largeRequestsRawBytes, requestRawBytes: MIB, idempotent: false };
  const cases: AwsCase[] = [
    { name: 'A', description: '1 MiB requests, 1 partition each', ...large, partitionsPerRequest: 1 },
    { name: 'B', description: `1 MiB requests, ${PARTITIONS} partitions × 128 KiB each`, ...large, partitionsPerRequest: PARTITIONS },
    { name: 'C', description: '64 KiB requests, 1 partition each', ...large, totalRawBytes: smallRequestsRawBytes, requestRawBytes: 64 * KIB, partitionsPerRequest: 1 },
    { name: 'D', description: '1 MiB requests, 1 partition each, with Idempotency-Key', ...large, partitionsPerRequest: 1, idempotent: true },
  ];
  return { partitions: PARTITIONS, fetchMaxBytes: 4 * MIB, distinctRawBytes: 16 * MIB, cases };
}

/** Producer -> local server -> consumer with the client SDK, for lingerMs 0, 5 and 50. */
function clientSettings(records: number, repeats: number): ClientE2ESettings {
  return { partitions: PARTITIONS, records, distinctRecords: 20_000, messagesPerSend: 100, outstandingSends: 64, lingerValues: [0, 5, 50], repeats };
}

/** RecordBatch encode/decode, Sluice vs KafkaJS: 1,000 records per batch. */
function codecSettings(rounds: number, roundMs: number): CodecSettings {
  return { batchRecords: 1000, rounds, roundMs };
}

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  quick: { name: 'quick', local: localSettings(1 * GIB, 64), aws: awsSettings(32 * MIB, 8 * MIB), client: clientSettings(100_000, 1), codec: codecSettings(3, 200) },
  default: { name: 'default', local: localSettings(4 * GIB, 512), aws: awsSettings(128 * MIB, 32 * MIB), client: clientSettings(300_000, 2), codec: codecSettings(5, 400) },
  large: { name: 'large', local: localSettings(16 * GIB, 2048), aws: awsSettings(1 * GIB, 256 * MIB), client: clientSettings(1_000_000, 3), codec: codecSettings(7, 1000) },
};

/** Runs of each timed section per profile (`--repeats N` overrides); medians with min and max are reported. */
export const REPEATS: Readonly<Record<ProfileName, number>> = { quick: 2, default: 3, large: 3 };

/** 1-record produce requests on the AWS adapters (small-requests.ts), per case. */
export const SMALL_REQUESTS: Readonly<Record<ProfileName, SmallRequestSettings>> = {
  quick: { requests: 50, partitions: PARTITIONS },
  default: { requests: 200, partitions: PARTITIONS },
  large: { requests: 1000, partitions: PARTITIONS },
};

/** 16 producers on one partition (contention.ts), per run. */
export const CONTENTION: Readonly<Record<ProfileName, ContentionSettings>> = {
  quick: { producers: 16, appendsPerProducer: 5 },
  default: { producers: 16, appendsPerProducer: 10 },
  large: { producers: 16, appendsPerProducer: 25 },
};
