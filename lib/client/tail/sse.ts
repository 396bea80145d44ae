/**
 * A Server-Sent Events parser (the WHATWG HTML "event stream" interpretation), small and by hand.
 * Why not EventSource: it cannot send an Authorization header (the API key), it is absent in Node
 * before 22 without a flag, and it hides the status of a failed connection (a 416 or 401 would look
 * like an endless reconnect). So the client reads the stream with fetch (a streamed body works in
 * Node and in browsers) and parses it here.
 */

export interface ServerSentEvent {
  /** `message` when the stream names none. */
  readonly event: string;
  readonly data: string;
  /** The last event id seen on the stream so far (ids persist across events, per the spec). */
  readonly lastEventId: string;
}

export class SseParser {
  #buffer = '';
  #skipLf = false;
  #event = '';
  #data: string[] = [];
  #lastEventId = '';
  /** The reconnection time the server asked for (`retry:`), if any. */
  retryMs: number | undefined;
  /** Comment lines seen (heartbeats): a stream that only sends comments is still alive. */
  comments = 0;

  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): ServerSentEvent[] {
    this.#buffer += text;
    const events: ServerSentEvent[] = [];
    for (;;) {
      // The \n of a \r\n whose \r ended the previous chunk.
      if (this.#skipLf && this.#buffer.length > 0) {
        if (this.#buffer.startsWith('\n')) this.#buffer = this.#buffer.slice(1);
        this.#skipLf = false;
      }
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (!match) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      // A \r at the very end may be the first half of a \r\n.
      if (match[0] === '\r' && this.#buffer.length === 0) this.#skipLf = true;
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  #line(line: string): ServerSentEvent | undefined {
    if (line === '') {
      // A blank line dispatches the event; without data there is none (the spec's rule).
      const data = this.#data;
      const event = this.#event || 'message';
      this.#data = [];
      this.#event = '';
      return data.length === 0 ? undefined : { event, data: data.join('\n'), lastEventId: this.#lastEventId };
    }
    if (line.startsWith(':')) {
      this.comments++;
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }
}
