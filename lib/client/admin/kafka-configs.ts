/**
 * KafkaJS's `describeConfigs` and `alterConfigs`, for topics, over the topic routes: Kafka's config
 * names for the four settings a Sluice topic has. Code that manages topic configs through KafkaJS's
 * admin keeps working; anything else (brokers, other config names) is refused before any request.
 *
 * One difference, on purpose: Kafka's AlterConfigs sets the entries given and resets every other
 * setting of the resource to its default; here the others keep their values (what Kafka's
 * IncrementalAlterConfigs does with SET), because a reset nobody asked for is how retention gets lost.
 */
import { COMPRESSION_CODECS, TIMESTAMP_TYPES, type CompressionCodec } from '../../api/limits.ts';
import { invalidArgument } from '../errors.ts';
import type { TopicConfigChange, TopicDescription } from '../protocol/api.ts';

/** KafkaJS's ConfigResourceTypes (only TOPIC is served). */
export const ConfigResourceTypes = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** KafkaJS's ConfigSource: every Sluice setting is stored on its topic. */
const TOPIC_CONFIG_SOURCE = 1;

type TopicSettings = TopicDescription['config'];
type SettingName = keyof TopicSettings;

interface KafkaConfig<K extends SettingName> {
  readonly setting: K;
  toKafka(value: TopicSettings[K]): string;
  fromKafka(value: string, name: string): TopicSettings[K];
}

function integerSetting(value: string, name: string): number {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < -1) throw invalidArgument(`${name}: expected an integer of -1 or more, got ${JSON.stringify(value)}`);
  return Number(value);
}

function oneOf<T extends string>(values: readonly T[]) {
  return (value: string, name: string): T => {
    if (!(values as readonly string[]).includes(value)) throw invalidArgument(`${name}: expected one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
    return value as T;
  };
}

/** Kafka calls Sluice's codec `none` `uncompressed`; every other codec has the same name in both. */
const kafkaCodec = (codec: CompressionCodec): string => (codec === 'none' ? 'uncompressed' : codec);
const KAFKA_CODECS = COMPRESSION_CODECS.map(kafkaCodec);

/** Kafka's topic config names → Sluice's settings. */
const KAFKA_TOPIC_CONFIGS: { readonly [name: string]: KafkaConfig<SettingName> } = {
  'retention.ms': { setting: 'retentionMs', toKafka: String, fromKafka: integerSetting } as KafkaConfig<'retentionMs'>,
  'retention.bytes': { setting: 'retentionBytes', toKafka: String, fromKafka: integerSetting } as KafkaConfig<'retentionBytes'>,
  'compression.type': {
    setting: 'compression',
    toKafka: kafkaCodec,
    fromKafka: (value: string, name: string) => COMPRESSION_CODECS[KAFKA_CODECS.indexOf(oneOf(KAFKA_CODECS)(value, name))],
  } as KafkaConfig<'compression'>,
  'message.timestamp.type': { setting: 'timestampType', toKafka: String, fromKafka: oneOf(TIMESTAMP_TYPES) } as KafkaConfig<'timestampType'>,
};

export interface ConfigResource {
  readonly type: number;
  readonly name: string;
  /** describeConfigs: the config names wanted (all four when left out). */
  readonly configNames?: readonly string[];
  /** alterConfigs: the entries to set. */
  readonly configEntries?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

export interface ConfigEntry {
  readonly configName: string;
  readonly configValue: string;
  readonly readOnly: false;
  readonly isDefault: false;
  readonly configSource: number;
  readonly isSensitive: false;
  readonly configSynonyms: [];
}

export interface DescribeConfigResponse {
  readonly resources: Array<{ errorCode: 0; errorMessage: null; resourceName: string; resourceType: number; configEntries: ConfigEntry[] }>;
  readonly throttleTime: 0;
}

export interface AlterConfigResponse {
  readonly resources: Array<{ errorCode: 0; errorMessage: null; resourceName: string; resourceType: number }>;
  readonly throttleTime: 0;
}

function topicResources(resources: unknown, call: string): ConfigResource[] {
  if (!Array.isArray(resources)) throw invalidArgument(`${call}() takes { resources: [{ type: ConfigResourceTypes.TOPIC, name, ... }] }`);
  for (const resource of resources as ConfigResource[]) {
    if (resource?.type !== ConfigResourceTypes.TOPIC) throw invalidArgument(`${call}(): only topic resources (type ${ConfigResourceTypes.TOPIC}) have configs here, got type ${JSON.stringify(resource?.type)}`);
    if (typeof resource.name !== 'string' || resource.name === '') throw invalidArgument(`${call}(): a resource needs a topic name`);
  }
  return resources as ConfigResource[];
}

function known(name: string): KafkaConfig<SettingName> {
  const config = Object.hasOwn(KAFKA_TOPIC_CONFIGS, name) ? KAFKA_TOPIC_CONFIGS[name] : undefined;
  if (!config) throw invalidArgument(`topic config ${JSON.stringify(name)} is not one Sluice has (${Object.keys(KAFKA_TOPIC_CONFIGS).join(', ')})`);
  return config;
}

/** The names each resource asks for, checked before any request. */
export function describeRequests(resources: unknown): Array<{ resource: ConfigResource; names: string[] }> {
  return topicResources(resources, 'describeConfigs').map((resource) => {
    const names = resource.configNames?.length ? [...resource.configNames] : Object.keys(KAFKA_TOPIC_CONFIGS);
    names.forEach(known);
    return { resource, names };
  });
}

export function configEntries(settings: TopicSettings, names: readonly string[]): ConfigEntry[] {
  return names.map((name) => {
    const config = known(name);
    return {
      configName: name,
      configValue: config.toKafka(settings[config.setting] as never),
      readOnly: false,
      isDefault: false,
      configSource: TOPIC_CONFIG_SOURCE,
      isSensitive: false,
      configSynonyms: [],
    };
  });
}

/** Each resource's change in Sluice's terms, every entry checked before any request. */
export function alterRequests(resources: unknown): Array<{ resource: ConfigResource; change: TopicConfigChange }> {
  return topicResources(resources, 'alterConfigs').map((resource) => {
    const entries = resource.configEntries ?? [];
    if (!Array.isArray(entries) || entries.length === 0) throw invalidArgument(`alterConfigs(): topic ${resource.name} has no configEntries`);
    const change: Record<string, unknown> = {};
    for (const entry of entries) {
      if (typeof entry?.value !== 'string') throw invalidArgument(`alterConfigs(): ${entry?.name}: expected a string value`);
      const config = known(entry.name);
      change[config.setting] = config.fromKafka(entry.value, entry.name);
    }
    return { resource, change: change as TopicConfigChange };
  });
}
