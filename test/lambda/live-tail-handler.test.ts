/**
 * The tail function's handler (lib/lambda/streaming.ts) with a fake response stream, as the Lambda
 * runtime drives it behind a Function URL with RESPONSE_STREAM: the prelude, events as they are
 * produced, errors before the stream, the client going away, and the longest stream.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { createApp } from '../../lib/http/app.ts';
import { Engine } from '../../lib/log/engine.ts';
import { streamingHttpHandler, type ResponseStream } from '../../lib/lambda/streaming.ts';
import type { HttpEventV2 } from '../../lib/lambda/http-adapter.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { append } from '../log/engine.suite.ts';

const KEY = 'stream-function-key-0123456789';

/** A response stream that records what is written and can be closed like a client leaving. */
class FakeResponseStream extends EventEmitter implements ResponseStream {
  prelude?: { statusCode: number; headers: Record<string, string> };
  readonly chunks: string[] = [];
  ended = false;
  #onChunk?: () => void;
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    this.#onChunk?.();
    return true;
  }
  end(): void {
    this.ended = true;
    this.#onChunk?.();
  }
  /** Resolves once the written text matches. */
  until(pattern: RegExp): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (pattern.test(this.chunks.join('')) || this.ended) {
          this.#onChunk = undefined;
          resolve();
        }
      };
      this.#onChunk = check;
      check();
    });
  }
  /** The client goes away. */
  hangUp(): void {
    this.emit('close');
  }
}

const runtime = {
  from(stream: ResponseStream, prelude: { statusCode: number; headers: Record<string, string> }) {
    (stream as FakeResponseStream).prelude = prelude;
    return stream;
  },
};

async function setup(streams: { heartbeatMs?: number; maxStreamMs?: number } = {}) {
  const metadata = new MemoryMetadataStore();
  const engine = new Engine({ objects: new MemoryObjectStore(), metadata, longPollIntervalMs: 5, topicCacheMs: 0 });
  const keys = new ApiKeys(metadata, { cacheMs: 0 });
  await keys.ensure(KEY, 'bootstrap');
  await engine.topics.create('t', 1);
  const app = createApp({ engine, keys, functions: ['tail'], streams: { heartbeatMs: 20, ...streams }, logError: (error) => assert.fail(String(error)) });
  return { engine, handler: streamingHttpHandler(app, runtime) };
}

function event(path: string, query: string, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }): HttpEventV2 {
  return { rawPath: path, rawQueryString: query, headers: { accept: 'text/event-stream', ...headers }, requestContext: { http: { method: 'GET' } } };
}

describe('tail function (Lambda response streaming)', () => {
  it('writes the prelude, then records events as they are produced, and returns when the client leaves', async () => {
    const { engine, handler } = await setup();
    await engine.produce('t', [append(0, ['a'])]);
    const out = new FakeResponseStream();
    const served = handler(event('/v1/topics/t/partitions/0/stream', 'offset=0'), out);
    try {
      await out.until(/id: 1\n/);
      assert.equal(out.prelude?.statusCode, 200);
      assert.match(out.prelude!.headers['content-type'], /^text\/event-stream/);
      await engine.produce('t', [append(0, ['b', 'c'])]);
      await out.until(/id: 3\n/);
      const last = out.chunks.filter((c) => c.startsWith('event: records')).at(-1)!;
      assert.deepEqual(JSON.parse(last.split('\ndata: ')[1]).records.map((r: any) => r.value), ['b', 'c']);
      await out.until(/: keep-alive/);
    } finally {
      out.hangUp();
      await served;
    }
    assert.ok(out.ended);
    assert.equal(engine.waitingFetches, 0, 'the wait ended with the connection');
    assert.equal(out.listenerCount('close'), 0, 'the handler removed its listeners');
  });

  it('answers 416, 401 and unknown routes as whole JSON answers before any stream', async () => {
    const { handler } = await setup();
    for (const [path, query, headers, status] of [
      ['/v1/topics/t/partitions/0/stream', 'offset=7', undefined, 416],
      ['/v1/topics/t/partitions/0/stream', 'offset=0', { authorization: 'Bearer wrong-key-000000000000' }, 401],
      ['/v1/topics/t/partitions/0/records', 'offset=0', undefined, 404],
    ] as const) {
      const out = new FakeResponseStream();
      await handler(event(path, query, headers), out);
      assert.equal(out.prelude?.statusCode, status, `${path}?${query}`);
      assert.match(out.prelude!.headers['content-type'], /json/);
      assert.ok(JSON.parse(out.chunks.join('')).error.code);
      assert.ok(out.ended);
    }
  });

  it('sends an error event and ends the stream when it cannot go on (the topic was deleted)', async () => {
    const { engine, handler } = await setup();
    const out = new FakeResponseStream();
    const served = handler(event('/v1/topics/t/partitions/0/stream', 'offset=0'), out);
    try {
      await out.until(/retry: 1000/);
      await engine.topics.delete('t');
      await served; // the stream ended by itself
    } finally {
      out.hangUp();
    }
    const last = out.chunks.at(-1)!;
    assert.match(last, /^event: error\ndata: /);
    assert.equal(JSON.parse(last.split('data: ')[1]).error.code, 'TOPIC_NOT_FOUND');
    assert.equal(out.prelude?.statusCode, 200);
    assert.ok(out.ended);
    assert.equal(engine.waitingFetches, 0);
  });

  it('ends a stream after maxStreamMs, before the function would time out', async () => {
    const { engine, handler } = await setup({ maxStreamMs: 50 });
    const out = new FakeResponseStream();
    await handler(event('/v1/topics/t/partitions/0/stream', ''), out);
    assert.ok(out.ended);
    assert.equal(out.prelude?.statusCode, 200);
    assert.equal(engine.waitingFetches, 0);
  });
});
