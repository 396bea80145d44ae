/**
 * `sluice.tail(topic, partition, options)`: an async iterator over a partition's records as they
 * arrive, for scripts and browsers. It reads the live tail's Server-Sent Events (GET …/stream) where
 * the endpoint serves them, else long polls on the JSON fetch route; either way records come in the
 * contract's JSON form, in offset order, each once. A dropped connection (network, proxy, the
 * stream's own end in AWS, no event or heartbeat for idleTimeoutMs) is resumed with Last-Event-ID at
 * the next offset not yet handed out. `break`/`return()` or the abort signal end it cleanly: the
 * connection is closed and nothing stays running.
 */
import { LIMITS } from '../../api/limits.ts';
import { MEDIA_EVENT_STREAM } from '../../api/media-types.ts';
import type * as types from '../../api/types.ts';
import type { ClientContext } from '../context.ts';
import { isAbort, SluiceClientError, type ErrorCode } from '../errors.ts';
import { backoffMs } from '../retry/retry.ts';
import { sleep } from '../util/async.ts';
import { SseParser } from './sse.ts';

export interface TailOptions {
  /** Where to start: an offset, `earliest`, or `latest` (only what arrives from now on). @default 'latest' */
  readonly fromOffset?: bigint | number | string | 'earliest' | 'latest';
  /** Ends the iteration (it finishes; it does not throw). */
  readonly signal?: AbortSignal;
  /** `auto`: Server-Sent Events where the endpoint serves them, else long polls. @default 'auto' */
  readonly transport?: 'auto' | 'sse' | 'poll';
  /**
   * A stream that sends nothing (no event, no heartbeat comment) this long is taken for dead and
   * reconnected; the server sends a comment at least every 15 s. @default 45000
   */
  readonly idleTimeoutMs?: number;
  /** Long-poll wait of the fallback. @default 20000 */
  readonly maxWaitMs?: number;
}

/** A record as the JSON fetch answers it, with its topic, partition and offset (a bigint). */
export type TailRecord = Omit<types.FetchedRecord, 'offset'> & { readonly topic: string; readonly partition: number; readonly offset: bigint };

export const TAIL_DEFAULTS = { idleTimeoutMs: 45_000, maxWaitMs: LIMITS.maxWaitMs } as const;

/** Answers that mean "this endpoint has no live tail": fall back to long polls. */
const NO_STREAM_CODES: readonly ErrorCode[] = ['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'HTTP_404', 'HTTP_405', 'HTTP_501'];

/**
 * The iterator tail() hands out. An async generator's return() waits for a next() that is still
 * running (here: waiting for records that may never come), so return() first aborts the tail's own
 * signal, which ends that next() with done at once, and then returns the generator.
 */
export function tailIterator(context: ClientContext, topic: string, partition: number, options: TailOptions = {}): AsyncGenerator<TailRecord, void, undefined> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const generator = tail(context, topic, partition, { ...options, signal });
  const iterator: AsyncGenerator<TailRecord, void, undefined> = {
    next: () => generator.next(),
    return: (value) => {
      stop.abort();
      return generator.return(value);
    },
    throw: (error) => {
      stop.abort();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
    [Symbol.asyncDispose]: async () => {
      await iterator.return(undefined);
    },
  };
  return iterator;
}

async function* tail(context: ClientContext, topic: string, partition: number, options: TailOptions = {}): AsyncGenerator<TailRecord, void, undefined> {
  const { signal } = options;
  if (!Number.isInteger(partition) || partition < 0) throw new SluiceClientError('INVALID_ARGUMENT', `partition must be an integer ≥ 0, got ${partition}`);
  let transport = options.transport ?? 'auto';
  let failures = 0;
  let offset: bigint;
  try {
    offset = await startOffset(context, topic, partition, options.fromOffset ?? 'latest', signal);
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
  while (!signal?.aborted) {
    try {
      const answers = transport === 'poll' ? pollAnswers(context, topic, partition, offset, options) : streamAnswers(context, topic, partition, offset, options);
      for await (const answer of answers) {
        if (transport === 'auto') transport = 'sse';
        failures = 0;
        for (const record of answer.records) {
          const recordOffset = BigInt(record.offset);
          if (recordOffset < offset) continue; // never hand out a record twice
          yield { ...record, topic, partition, offset: recordOffset };
          offset = recordOffset + 1n;
        }
        const next = BigInt(answer.nextOffset);
        if (next > offset) offset = next;
      }
      // The server ended the stream (its longest duration): resume at once.
    } catch (error) {
      if (signal?.aborted || isAbort(error)) return;
      if (transport === 'auto' && error instanceof SluiceClientError && NO_STREAM_CODES.includes(error.code)) {
        context.logger.info('the endpoint serves no live tail; long-polling instead', { topic, partition, code: error.code });
        transport = 'poll';
        continue;
      }
      if (!(error instanceof SluiceClientError && error.retriable)) throw error;
      const delayMs = backoffMs(context.retry, failures++, error);
      context.logger.warn('the live tail failed; resuming', { topic, partition, offset: offset.toString(), error: error.message, delayMs });
      try {
        await sleep(delayMs, signal);
      } catch {
        return;
      }
    }
  }
}

async function startOffset(context: ClientContext, topic: string, partition: number, from: NonNullable<TailOptions['fromOffset']>, signal?: AbortSignal): Promise<bigint> {
  if (from !== 'earliest' && from !== 'latest') {
    const text = String(from);
    if (!/^\d{1,19}$/.test(text)) throw new SluiceClientError('INVALID_ARGUMENT', `fromOffset must be an offset, 'earliest' or 'latest', got ${text}`);
    return BigInt(text);
  }
  const described = await context.api.describeTopic(topic, signal);
  const state = described.partitions.find((p) => p.partition === partition);
  if (!state) throw new SluiceClientError('INVALID_ARGUMENT', `topic ${topic} has no partition ${partition}`);
  return from === 'earliest' ? state.startOffset : state.endOffset;
}

/** Records answers from one SSE connection, until the server ends it; throws when it breaks. */
async function* streamAnswers(context: ClientContext, topic: string, partition: number, offset: bigint, options: TailOptions): AsyncGenerator<types.FetchResponse> {
  const stream = await context.api.http.openStream(`/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/stream`, {
    accept: MEDIA_EVENT_STREAM,
    // Last-Event-ID also on the first connection: resuming and starting are the same request.
    headers: { 'last-event-id': offset.toString() },
    signal: options.signal,
  });
  const idleTimeoutMs = options.idleTimeoutMs ?? TAIL_DEFAULTS.idleTimeoutMs;
  let idle = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      stream.close();
    }, idleTimeoutMs);
  };
  const reader = stream.body.getReader();
  try {
    if (!(stream.headers.get('content-type') ?? '').includes(MEDIA_EVENT_STREAM)) {
      throw new SluiceClientError('HTTP_404', `the live tail answered ${stream.headers.get('content-type') || 'no content type'}, not ${MEDIA_EVENT_STREAM}`, { status: stream.status });
    }
    const decoder = new TextDecoder();
    const parser = new SseParser();
    watch();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const why = idle ? `nothing for ${idleTimeoutMs} ms` : String(error instanceof Error && error.cause instanceof Error ? error.cause.message : error);
        throw new SluiceClientError('NETWORK_ERROR', `the live tail of ${topic}/${partition} broke off: ${why}`, { cause: error });
      }
      if (chunk.done) return;
      watch();
      for (const event of parser.push(decoder.decode(chunk.value, { stream: true }))) {
        if (event.event === 'records') yield parseJson<types.FetchResponse>(event.data);
        else if (event.event === 'error') throw errorOfEvent(event.data);
      }
    }
  } finally {
    clearTimeout(timer);
    stream.close();
    reader.releaseLock();
  }
}

/** Long polls on the JSON fetch route, one answer per request. */
async function* pollAnswers(context: ClientContext, topic: string, partition: number, offset: bigint, options: TailOptions): AsyncGenerator<types.FetchResponse> {
  const maxWaitMs = options.maxWaitMs ?? TAIL_DEFAULTS.maxWaitMs;
  for (;;) {
    const answer = await context.api.http.json<types.FetchResponse>('GET', `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records`, {
      query: { offset, maxWaitMs },
      signal: options.signal,
      extraTimeoutMs: maxWaitMs,
    });
    yield answer;
    offset = BigInt(answer.nextOffset);
  }
}

function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new SluiceClientError('BAD_RESPONSE', 'a live tail event is not JSON', { cause: error });
  }
}

function errorOfEvent(data: string): SluiceClientError {
  const body = parseJson<{ error?: { code?: string; message?: string } & Record<string, unknown> }>(data);
  const { code, message, ...details } = body.error ?? {};
  if (typeof code !== 'string') return new SluiceClientError('BAD_RESPONSE', 'the live tail sent an error event without a code');
  return new SluiceClientError(code as ErrorCode, `live tail: ${code}: ${message ?? ''}`, { details });
}
