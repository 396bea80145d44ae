/**
 * The live tail (GET …/partitions/{p}/stream, Server-Sent Events) through the local server over real
 * HTTP: records events with ids, Last-Event-ID resume, heartbeat comments, errors before the stream,
 * and a client that goes away frees the stream's wait (no waiter, timer or listener left).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer, type LocalServer } from '../../lib/server/local.ts';

const ADMIN_KEY = 'stream-admin-key-0123456789';

interface Frame {
  event?: string;
  id?: string;
  data?: string;
  comments: string[];
}

/** Reads SSE frames off a response body (tests only; the client has its own parser). */
function frames(body: ReadableStream<Uint8Array>): { next(): Promise<Frame>; cancel(): Promise<void> } {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: Frame = { comments: [] };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) frame.comments.push(line.slice(1).trim());
            else {
              const colon = line.indexOf(':');
              const field = line.slice(0, colon);
              const value = line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event' || field === 'id' || field === 'data') frame[field] = value;
            }
          }
          return frame;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

/** The next `records` event (skipping comments and the opening frame). */
async function nextRecords(stream: ReturnType<typeof frames>): Promise<{ id: string; answer: any }> {
  for (;;) {
    const frame = await stream.next();
    if (frame.event === 'records') return { id: frame.id!, answer: JSON.parse(frame.data!) };
    assert.equal(frame.event, undefined, `unexpected event ${frame.event}: ${frame.data}`);
  }
}

/** Waits, a few ms at a time, until `condition` holds (at most `tries` times): for effects of a disconnect on the server. */
async function eventually(condition: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never: ${what}`);
}

describe('live tail over Server-Sent Events (local server)', { timeout: 60_000 }, () => {
  let dir: string;
  let server: LocalServer;
  const produce = (topic: string, values: string[], partition = 0) =>
    fetch(`${server.url}/v1/topics/${topic}/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: values.map((value) => ({ value, partition })) }),
    }).then((res) => assert.equal(res.status, 200));
  const open = (path: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/event-stream', ...headers }, signal });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-stream-'));
    server = await startLocalServer({ dataDir: dir, port: 0, apiKey: ADMIN_KEY, maintenanceIntervalMs: 0, streams: { heartbeatMs: 40 } });
    for (const name of ['tail', 'resume', 'quiet', 'gone']) {
      const res = await fetch(`${server.url}/v1/topics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, partitions: 2 }),
      });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends what is there, then each append as a records event whose id is the next offset', async () => {
    await produce('tail', ['a', 'b']);
    const abort = new AbortController();
    try {
      const res = await open('/v1/topics/tail/partitions/0/stream?offset=1', {}, abort.signal);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
      const stream = frames(res.body!);
      const first = await nextRecords(stream);
      assert.equal(first.id, '2');
      assert.deepEqual(first.answer.records.map((r: any) => [r.offset, r.value]), [['1', 'b']]);
      assert.equal(first.answer.nextOffset, '2');
      assert.equal(first.answer.highWatermark, '2');
      await produce('tail', ['c', 'd']);
      const second = await nextRecords(stream);
      assert.equal(second.id, '4');
      assert.deepEqual(second.answer.records.map((r: any) => r.value), ['c', 'd']);
      await produce('tail', ['elsewhere'], 1); // another partition: no event here
      await produce('tail', ['e']);
      assert.deepEqual((await nextRecords(stream)).answer.records.map((r: any) => r.offset), ['4']);
    } finally {
      abort.abort();
    }
  });

  it('resumes at Last-Event-ID, which takes precedence over offset; without either it starts at the end', async () => {
    await produce('resume', ['0', '1', '2', '3']);
    const abort = new AbortController();
    try {
      const resumed = frames((await open('/v1/topics/resume/partitions/0/stream?offset=0', { 'last-event-id': '3' }, abort.signal)).body!);
      assert.deepEqual((await nextRecords(resumed)).answer.records.map((r: any) => r.value), ['3']);
      const live = frames((await open('/v1/topics/resume/partitions/0/stream', {}, abort.signal)).body!);
      const opening = await live.next();
      assert.match(opening.comments[0], /resume\/0 from 4/);
      await produce('resume', ['4']);
      assert.deepEqual((await nextRecords(live)).answer.records.map((r: any) => r.value), ['4']);
    } finally {
      abort.abort();
    }
  });

  it('sends a comment line on a quiet stream at least every heartbeat interval', async () => {
    const abort = new AbortController();
    try {
      const stream = frames((await open('/v1/topics/quiet/partitions/0/stream?offset=0', {}, abort.signal)).body!);
      assert.equal((await stream.next()).comments.length, 1, 'the opening comment');
      for (let i = 0; i < 3; i++) assert.deepEqual(await stream.next(), { comments: ['keep-alive'] });
    } finally {
      abort.abort();
    }
  });

  it('answers errors before the stream starts: 416 outside the log, 404, 400, 401, 403', async () => {
    const beyond = await open('/v1/topics/quiet/partitions/0/stream?offset=5');
    assert.equal(beyond.status, 416);
    assert.equal((await beyond.json()).error.code, 'OFFSET_OUT_OF_RANGE');
    const beyondById = await open('/v1/topics/quiet/partitions/0/stream?offset=0', { 'last-event-id': '9' });
    assert.equal(beyondById.status, 416);
    await beyondById.body?.cancel();
    assert.equal((await (await open('/v1/topics/nope/partitions/0/stream')).json()).error.code, 'TOPIC_NOT_FOUND');
    assert.equal((await open('/v1/topics/quiet/partitions/2/stream')).status, 400);
    const badId = await open('/v1/topics/quiet/partitions/0/stream', { 'last-event-id': 'x1' });
    assert.equal(badId.status, 400);
    assert.equal((await badId.json()).error.field, 'last-event-id');
    assert.equal((await fetch(`${server.url}/v1/topics/quiet/partitions/0/stream`)).status, 401);
    const producer = await server.keys.create({ name: 'producer', scopes: [{ action: 'produce', topics: ['quiet'], groups: [] }] });
    const forbidden = await fetch(`${server.url}/v1/topics/quiet/partitions/0/stream`, { headers: { authorization: `Bearer ${producer.key}` } });
    assert.equal(forbidden.status, 403);
    assert.equal(server.engine.waitingFetches, 0);
  });

  it('a key revoked while its stream runs ends the stream with an UNAUTHORIZED error event', async () => {
    const reader = await server.keys.create({ name: 'tail-reader', scopes: [{ action: 'consume', topics: ['tail'] }] });
    const abort = new AbortController();
    try {
      const res = await open('/v1/topics/tail/partitions/1/stream', { authorization: `Bearer ${reader.key}` }, abort.signal);
      assert.equal(res.status, 200);
      const stream = frames(res.body!);
      await produce('tail', ['before'], 1);
      assert.deepEqual((await nextRecords(stream)).answer.records.map((r: any) => r.value), ['before']);
      await server.keys.revoke(reader.keyId);
      await produce('tail', ['after'], 1);
      let frame: Frame;
      do frame = await stream.next();
      while (frame.event === undefined);
      assert.equal(frame.event, 'error', `no records after the revocation: ${frame.data}`);
      assert.equal(JSON.parse(frame.data!).error.code, 'UNAUTHORIZED');
      await assert.rejects(stream.next(), /the stream ended/);
    } finally {
      abort.abort();
    }
  });

  it('frees the stream when the client goes away: no waiting fetch is left', async () => {
    const abort = new AbortController();
    const res = await open('/v1/topics/gone/partitions/0/stream?offset=0', {}, abort.signal);
    const stream = frames(res.body!);
    await stream.next();
    await eventually(() => server.engine.waitingFetches === 1, 'the stream waits for records');
    abort.abort();
    await eventually(() => server.engine.waitingFetches === 0, 'the wait ended with the connection');
    // appends after the disconnect wake nobody and nothing breaks
    await produce('gone', ['after']);
    assert.equal(server.engine.waitingFetches, 0);
  });
});
