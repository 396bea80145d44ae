/**
 * The producer and the admin client through a real server: the binary produce path end to end (the
 * server checks CRCs and bounds and stores the client's bytes unchanged), idempotent retries against
 * the real engine, and the admin calls.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ConfigResourceTypes, Sluice } from '../../lib/client/index.ts';
import { silentLogger } from '../../lib/client/context.ts';
import type { FetchFunction } from '../../lib/client/network/http.ts';
import { parseSluiceBatches } from '../../lib/http/sluice-batches.ts';
import { iterateBatches } from '../../lib/protocol/record-batch.ts';
import { API_KEY, localServer, type TestServer } from './support/servers.ts';
import { Resources } from '../support/resources.ts';

describe('producer and admin (local server)', () => {
  let server: TestServer;
  let sluice: Sluice;
  /** Producers a test starts: flushed and closed when it ends, pass or fail (no linger timer left behind). */
  const resources = new Resources();

  before(async () => {
    server = await localServer();
    sluice = new Sluice({ endpoint: server.url, apiKey: API_KEY, logger: silentLogger });
  });
  afterEach(() => resources.close());
  after(() => server.close());

  it('stores the batches the client encoded byte for byte (base offset aside), without recompressing', { timeout: 60_000 }, async () => {
    const bodies: Uint8Array[] = [];
    const capture: FetchFunction = async (url, init) => {
      if (init.method === 'POST' && url.endsWith('/records')) bodies.push(new Uint8Array(init.body as Uint8Array));
      return fetch(url, init);
    };
    const client = new Sluice({ endpoint: server.url, apiKey: API_KEY, logger: silentLogger, fetch: capture });
    await client.admin().createTopics({ topics: [{ topic: 'bytes', numPartitions: 2 }] });
    const producer = resources.add(client.producer({ lingerMs: 60_000 }));
    const sending = Promise.all([
      producer.send({ topic: 'bytes', messages: Array.from({ length: 300 }, (_, i) => ({ value: `zstd-able ${i} ${'abc'.repeat(20)}`, partition: 0 })) }),
      producer.send({ topic: 'bytes', messages: [{ value: 'one', partition: 1 }] }),
    ]);
    await producer.flush();
    await sending;
    assert.equal(bodies.length, 1);
    const sent = parseSluiceBatches(bodies[0]);
    for (const section of sent) {
      const answer = await fetch(`${server.url}/v1/topics/bytes/partitions/${section.partition}/records?offset=0`, {
        headers: { authorization: `Bearer ${API_KEY}`, accept: 'application/vnd.kafka.record-batches' },
      });
      const stored = new Uint8Array(await answer.arrayBuffer());
      assert.equal(stored.length, section.data.length);
      assert.deepEqual(stored.subarray(8), section.data.subarray(8), 'identical after the base offset');
      const codecs = [...iterateBatches(stored, { verify: true })].map((b) => b.header.codec);
      assert.deepEqual(codecs, [section.partition === 0 ? 'zstd' : 'none']);
    }
  });

  it('a retry after a lost answer gets the first offsets back from the real engine', { timeout: 60_000 }, async () => {
    let dropped = 0;
    const dropFirstAnswer: FetchFunction = async (url, init) => {
      const response = await fetch(url, init);
      if (init.method === 'POST' && dropped === 0) {
        dropped++;
        await response.arrayBuffer();
        throw new TypeError('fetch failed: connection reset (after the server answered)');
      }
      return response;
    };
    const client = new Sluice({ endpoint: server.url, apiKey: API_KEY, logger: silentLogger, fetch: dropFirstAnswer, retry: { initialRetryMs: 1, maxRetryMs: 5 } });
    await client.admin().createTopics({ topics: [{ topic: 'once', numPartitions: 1 }] });
    const results = await resources.add(client.producer()).send({ topic: 'once', messages: [{ value: 'a' }, { value: 'b' }] });
    assert.equal(dropped, 1);
    assert.deepEqual(results.map((r) => r.offset), ['0', '1']);
    assert.deepEqual(await client.admin().fetchTopicOffsets('once'), [{ partition: 0, offset: '2', high: '2', low: '0' }]);
  });

  it('admin.createPartitions raises a count; a producer uses the new partitions once it looks at the topic again (metadataMaxAgeMs)', { timeout: 60_000 }, async () => {
    const admin = sluice.admin();
    await admin.createTopics({ topics: [{ topic: 'growing', numPartitions: 2 }] });
    const producer = resources.add(sluice.producer({ metadataMaxAgeMs: 1 }));
    await producer.send({ topic: 'growing', messages: [{ value: 'first', partition: 1 }] });
    await assert.rejects(producer.send({ topic: 'growing', messages: [{ value: 'not yet', partition: 3 }] }), { code: 'INVALID_ARGUMENT' });
    assert.equal(await admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 4 }] }), true);
    assert.equal(await admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 4 }] }), true, 'the same count again: nothing to do');
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 3 }] }), { code: 'INVALID_REQUEST' });
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 0 }] }), { code: 'INVALID_ARGUMENT' });
    assert.equal((await admin.describeTopic('growing')).partitions.length, 4);
    // each send older than metadataMaxAgeMs starts a look in the background; the one after it sees 4
    let sent: Awaited<ReturnType<typeof producer.send>> | undefined;
    for (let attempt = 0; attempt < 200 && !sent; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      sent = await producer.send({ topic: 'growing', messages: [{ value: 'new', partition: 3 }] }).catch((error) => {
        assert.equal(error.code, 'INVALID_ARGUMENT');
        return undefined;
      });
    }
    assert.deepEqual(sent?.map((m) => [m.partition, m.offset]), [[3, '0']]);
  });

  it('admin: KafkaJS describeConfigs and alterConfigs with Kafka\'s topic config names; the settings not named keep their values', { timeout: 60_000 }, async () => {
    const admin = sluice.admin();
    await admin.createTopics({ topics: [{ topic: 'kcfg-a', numPartitions: 1, config: { retentionBytes: 5_000_000 } }, { topic: 'kcfg-b', numPartitions: 1 }] });
    const TOPIC = ConfigResourceTypes.TOPIC;
    const described = await admin.describeConfigs({ resources: [{ type: TOPIC, name: 'kcfg-a' }] });
    assert.equal(described.resources[0].resourceName, 'kcfg-a');
    assert.deepEqual(
      Object.fromEntries(described.resources[0].configEntries.map((e) => [e.configName, e.configValue])),
      { 'retention.ms': '604800000', 'retention.bytes': '5000000', 'compression.type': 'zstd', 'message.timestamp.type': 'CreateTime' },
    );
    const altered = await admin.alterConfigs({
      resources: [
        { type: TOPIC, name: 'kcfg-a', configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'compression.type', value: 'uncompressed' }] },
        { type: TOPIC, name: 'kcfg-b', configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
      ],
    });
    assert.deepEqual(altered.resources.map((r) => [r.resourceName, r.errorCode]), [['kcfg-a', 0], ['kcfg-b', 0]]);
    assert.deepEqual((await admin.describeTopic('kcfg-a')).config, { retentionMs: 3_600_000, retentionBytes: 5_000_000, compression: 'none', timestampType: 'CreateTime' });
    assert.equal((await admin.describeTopic('kcfg-b')).config.timestampType, 'LogAppendTime');
    const picked = await admin.describeConfigs({ resources: [{ type: TOPIC, name: 'kcfg-a', configNames: ['compression.type'] }] });
    assert.deepEqual(picked.resources[0].configEntries.map((e) => [e.configName, e.configValue]), [['compression.type', 'uncompressed']]);
    // validateOnly changes nothing; one bad entry anywhere refuses the whole call before any change
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: TOPIC, name: 'kcfg-a', configEntries: [{ name: 'retention.ms', value: '1' }] }] });
    for (const resources of [
      [{ type: TOPIC, name: 'kcfg-a', configEntries: [{ name: 'retention.ms', value: '1' }] }, { type: TOPIC, name: 'kcfg-b', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      [{ type: TOPIC, name: 'kcfg-a', configEntries: [{ name: 'retention.ms', value: 'soon' }] }],
      [{ type: TOPIC, name: 'kcfg-a', configEntries: [{ name: 'compression.type', value: 'lz4' }] }],
      [{ type: TOPIC, name: 'kcfg-a', configEntries: [] }],
      [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'retention.ms', value: '1' }] }],
    ]) {
      await assert.rejects(admin.alterConfigs({ resources }), { code: 'INVALID_ARGUMENT' }, JSON.stringify(resources));
    }
    await assert.rejects(admin.describeConfigs({ resources: [{ type: TOPIC, name: 'kcfg-a', configNames: ['segment.bytes'] }] }), { code: 'INVALID_ARGUMENT' });
    assert.equal((await admin.describeTopic('kcfg-a')).config.retentionMs, 3_600_000, 'nothing changed');
    await assert.rejects(admin.describeConfigs({ resources: [{ type: TOPIC, name: 'kcfg-missing' }] }), { code: 'TOPIC_NOT_FOUND' });
  });

  it('admin: KafkaJS deleteTopicRecords moves each partition\'s log start; reads below it are out of range; bad entries are refused before any request', { timeout: 60_000 }, async () => {
    const admin = sluice.admin();
    await admin.createTopics({ topics: [{ topic: 'purge', numPartitions: 2 }] });
    const producer = resources.add(sluice.producer());
    await producer.send({ topic: 'purge', messages: Array.from({ length: 5 }, (_, i) => ({ value: `v${i}`, partition: 0 })) });
    await producer.send({ topic: 'purge', messages: [{ value: 'w0', partition: 1 }, { value: 'w1', partition: 1 }] });
    const answered = await admin.deleteTopicRecords({ topic: 'purge', partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '-1' }] });
    assert.deepEqual(answered.map((p) => [p.partition, p.low, p.high]), [[0, '3', '5'], [1, '2', '2']]);
    assert.deepEqual((await admin.fetchTopicOffsets('purge')).map((p) => [p.partition, p.low, p.high]), [[0, '3', '5'], [1, '2', '2']]);
    const read = async (offset: number) =>
      fetch(`${server.url}/v1/topics/purge/partitions/0/records?offset=${offset}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    const from = await read(3);
    assert.deepEqual(((await from.json()) as { records: Array<{ value: string }> }).records.map((r) => r.value), ['v3', 'v4'], 'the batch began at 0; the read starts at 3');
    const below = await read(2);
    assert.equal(below.status, 416);
    assert.equal(((await below.json()) as { error: { startOffset: string } }).error.startOffset, '3');
    await assert.rejects(admin.deleteTopicRecords({ topic: 'purge', partitions: [{ partition: 0, offset: '6' }] }), { code: 'OFFSET_OUT_OF_RANGE' });
    for (const partitions of [[{ partition: 0, offset: '4' }, { partition: 1, offset: 'soon' }], [{ partition: -1, offset: '1' }], [{ partition: 0, offset: 4 }]]) {
      await assert.rejects(admin.deleteTopicRecords({ topic: 'purge', partitions: partitions as never }), { code: 'INVALID_ARGUMENT' }, JSON.stringify(partitions));
    }
    assert.equal((await admin.fetchTopicOffsets('purge'))[0].low, '3', 'nothing changed');
    await assert.rejects(admin.deleteTopicRecords({ topic: 'purge-missing', partitions: [{ partition: 0, offset: '0' }] }), { code: 'TOPIC_NOT_FOUND' });
  });

  it('admin: create, list, describe, alter settings, end offsets, offsets by time, delete', { timeout: 60_000 }, async () => {
    const admin = sluice.admin();
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic: 'adm', numPartitions: 3, config: { retentionMs: 60_000 } }] }), true);
    assert.equal(await admin.createTopics({ topics: [{ topic: 'adm', numPartitions: 3 }] }), false, 'exists already');
    assert.ok((await admin.listTopics()).includes('adm'));
    const described = await admin.describeTopic('adm');
    assert.equal(described.config.retentionMs, 60_000);
    assert.deepEqual(described.partitions.map((p) => p.partition), [0, 1, 2]);
    const altered = await admin.alterTopicConfig({ topic: 'adm', config: { retentionBytes: 1 << 20, retentionMs: null } });
    assert.deepEqual(altered, { name: 'adm', partitions: 3, config: { retentionMs: 604_800_000, retentionBytes: 1 << 20, compression: 'zstd', timestampType: 'CreateTime' } });
    assert.deepEqual((await admin.describeTopic('adm')).config, altered.config);
    await assert.rejects(admin.alterTopicConfig({ topic: 'adm', config: {} }), { code: 'INVALID_REQUEST', status: 400 });
    await assert.rejects(admin.alterTopicConfig({ topic: 'adm-missing', config: { retentionMs: 1 } }), { code: 'TOPIC_NOT_FOUND' });
    await assert.rejects(admin.alterTopicConfig({ topic: 'adm' } as never), { code: 'INVALID_ARGUMENT' });
    const producer = resources.add(sluice.producer());
    await producer.send({ topic: 'adm', messages: [1000, 2000, 3000].map((timestamp) => ({ value: `${timestamp}`, timestamp, partition: 1 })) });
    assert.deepEqual(await admin.fetchTopicOffsets('adm'), [
      { partition: 0, offset: '0', high: '0', low: '0' },
      { partition: 1, offset: '3', high: '3', low: '0' },
      { partition: 2, offset: '0', high: '0', low: '0' },
    ]);
    assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp('adm', 1500), [
      { partition: 0, offset: '0' },
      { partition: 1, offset: '1' },
      { partition: 2, offset: '0' },
    ]);
    await admin.deleteTopics({ topics: ['adm'] });
    await assert.rejects(admin.describeTopic('adm'), { code: 'TOPIC_NOT_FOUND', status: 404 });
    await assert.rejects(admin.createTopics({ topics: [{ topic: 'bad/name', numPartitions: 1 }] }), { code: 'INVALID_REQUEST' });
    await assert.rejects(new Sluice({ endpoint: server.url, apiKey: 'sluice_wrong', logger: silentLogger }).admin().connect(), { code: 'UNAUTHORIZED' });
  });
});
