/**
 * Lambda response streaming ↔ the application: how the live tail (Server-Sent Events) is served in
 * AWS. API Gateway's HTTP API buffers whole answers (and cuts them at 30 s), so the stream route has a
 * function of its own behind a Function URL with invoke mode RESPONSE_STREAM; the Function URL sends
 * the same event shape as the HTTP API (./http-adapter.ts). The runtime hands the handler a writable
 * response stream (`awslambda.streamifyResponse`); the status and headers go first, as the prelude
 * (`awslambda.HttpResponseStream.from`), then each chunk as the application yields it.
 */
import type { HttpHandler } from '../http/types.ts';
import { requestFromEvent, type HttpEventV2 } from './http-adapter.ts';

/** The parts of the runtime's response stream (a Node Writable) this adapter uses. */
export interface ResponseStream {
  write(chunk: string | Uint8Array): boolean;
  end(): void;
  on(event: 'close' | 'error' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'error' | 'drain', listener: () => void): unknown;
}

/** `awslambda.HttpResponseStream` of the Node.js runtime: writes the prelude, returns the stream for the body. */
export interface StreamingRuntime {
  from(stream: ResponseStream, prelude: { statusCode: number; headers: Record<string, string> }): ResponseStream;
}

export function streamingHttpHandler(app: HttpHandler, runtime: StreamingRuntime): (event: HttpEventV2, responseStream: ResponseStream) => Promise<void> {
  return async (event, responseStream) => {
    // The client going away closes the response stream: that ends the application's wait at once.
    const gone = new AbortController();
    const leave = () => gone.abort();
    responseStream.on('close', leave);
    responseStream.on('error', leave);
    try {
      const response = await app({ ...requestFromEvent(event), signal: gone.signal });
      const out = runtime.from(responseStream, { statusCode: response.status, headers: response.headers });
      try {
        if (response.stream) {
          for await (const chunk of response.stream) {
            if (gone.signal.aborted) break;
            if (!out.write(chunk)) await drained(out, gone.signal);
          }
        } else if (response.body !== undefined) {
          out.write(response.body);
        }
      } finally {
        out.end();
      }
    } finally {
      responseStream.off('close', leave);
      responseStream.off('error', leave);
    }
  };
}

function drained(out: ResponseStream, gone: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      gone.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done);
    gone.addEventListener('abort', done, { once: true });
  });
}
