/**
 * Live tail (docs/api-v1.md "Live tail"): Server-Sent Events over one partition. Each `records` event
 * carries the JSON fetch answer and `id: <nextOffset>`, so a reconnect with `Last-Event-ID` resumes
 * exactly after the last event received. Waiting for records is the engine's long poll (woken at once
 * by appends in this process, backing off otherwise), one wait per heartbeat interval, so a quiet
 * stream sends a comment line at least every heartbeatMs.
 */
import { MEDIA_EVENT_STREAM } from '../../api/media-types.ts';
import { isApiKeyPrincipal, type ApiKeys } from '../../auth/api-keys.ts';
import { DEFAULTS } from '../../defaults.ts';
import { SluiceError } from '../../errors.ts';
import type { Engine, FetchResult } from '../../log/engine.ts';
import { errorResponse, invalid, type Handlers } from '../router.ts';
import type { HttpRequest, StreamingBody } from '../types.ts';
import { jsonFetchAnswer } from './fetch.ts';

export interface StreamOptions {
  /** A comment line at least this often on a quiet stream (proxies close idle connections). @default DEFAULTS.streamHeartbeatMs */
  readonly heartbeatMs?: number;
  /**
   * Ends a stream after this long; the client reconnects with Last-Event-ID (EventSource does so by
   * itself). In Lambda it must end before the function's timeout. 0: never. @default 0
   */
  readonly maxStreamMs?: number;
  readonly now?: () => number;
  /** Where unexpected errors in a running stream are reported. */
  readonly logError?: (error: unknown, request: HttpRequest) => void;
}

const MAX_OFFSET = 0x7fffffffffffffffn;

/** Where a stream starts: Last-Event-ID, else `offset`, else the end of the log (only what arrives from now on). */
function startOffset(lastEventId: string | undefined, offset: string | undefined): bigint | undefined {
  if (lastEventId === undefined) return offset === undefined ? undefined : BigInt(offset);
  if (!/^\d{1,19}$/.test(lastEventId) || BigInt(lastEventId) > MAX_OFFSET) {
    throw invalid('last-event-id: expected a decimal offset below 2^63 (the id of the last event received)', 'last-event-id');
  }
  return BigInt(lastEventId);
}

export function streamHandlers(engine: Engine, keys: Pick<ApiKeys, 'isLive'>, options: StreamOptions = {}): Pick<Handlers, 'streamRecords'> {
  const heartbeatMs = Math.max(options.heartbeatMs ?? DEFAULTS.streamHeartbeatMs, 1);
  const maxStreamMs = options.maxStreamMs ?? 0;

  const now = options.now ?? Date.now;
  return {
    async streamRecords({ request, params, query, principal }) {
      const topic = params.topic;
      const partition = Number(params.partition);
      const offset = startOffset(request.headers['last-event-id'], query.offset) ?? (await engine.partitionState(topic, partition)).endOffset;
      // Unknown topics and offsets outside the log are answered (404, 416) before the stream starts.
      const first = await engine.fetch(topic, partition, { offset, maxWaitMs: 0 });
      return {
        status: 200,
        headers: {
          'content-type': `${MEDIA_EVENT_STREAM}; charset=utf-8`,
          'cache-control': 'no-cache, no-transform',
          // nginx and similar proxies would otherwise buffer the stream
          'x-accel-buffering': 'no',
        },
        stream: events({ topic, partition, offset, first, request, keyId: isApiKeyPrincipal(principal) ? principal.keyId : undefined }),
      };
    },
  };

  async function* events(start: { topic: string; partition: number; offset: bigint; first: FetchResult; request: HttpRequest; keyId?: string }): StreamingBody {
    const { topic, partition, request, keyId } = start;
    const signal = request.signal;
    const startedAt = now();
    let offset = start.offset;
    let result = start.first;
    // The opening comment flushes the headers at once; `retry` is how long EventSource waits to reconnect.
    yield `: ${topic}/${partition} from ${offset}\nretry: 1000\n\n`;
    let commentAt = now();
    while (!signal?.aborted) {
      // A key revoked while its stream runs ends it (checked per round, cached like authentication).
      if (keyId !== undefined && !(await keys.isLive(keyId))) {
        yield `event: error\ndata: ${errorResponse(new SluiceError('UNAUTHORIZED', 'the API key of this stream was revoked')).body}\n\n`;
        return;
      }
      if (result.batches.length > 0 || result.nextOffset !== offset) {
        const answer = jsonFetchAnswer(result, offset, undefined);
        offset = BigInt(answer.nextOffset);
        yield `event: records\nid: ${answer.nextOffset}\ndata: ${JSON.stringify(answer)}\n\n`;
      }
      if (now() - commentAt >= heartbeatMs) {
        yield ': keep-alive\n\n';
        commentAt = now();
      }
      const remainingMs = maxStreamMs > 0 ? startedAt + maxStreamMs - now() : Infinity;
      if (remainingMs <= 0) return;
      const caughtUp = offset >= result.highWatermark;
      const maxWaitMs = caughtUp ? Math.max(1, Math.min(heartbeatMs - (now() - commentAt), remainingMs)) : 0;
      try {
        result = await engine.fetch(topic, partition, { offset, maxWaitMs, signal });
      } catch (error) {
        // The stream has started: the error travels as an event (retention passed the offset, say), and the stream ends.
        yield `event: error\ndata: ${errorResponse(error, (e) => options.logError?.(e, request)).body}\n\n`;
        return;
      }
    }
  }
}
