/**
 * The server side of RFC 6455 WebSockets, text messages only, for the local server's notification
 * channel. Node has a WebSocket client but no server, and this channel sends and receives a few
 * small JSON messages: a handshake, frame decoding (masked client frames, fragments), ping/pong and
 * the close handshake are all it needs, so it is written here rather than pulled in as a dependency.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE = { normal: 1000, goingAway: 1001, protocolError: 1002, unsupportedData: 1003, tooBig: 1009, policy: 1008 } as const;

export interface WebSocketOptions {
  /** Largest message accepted (all fragments); larger closes the connection with 1009. */
  readonly maxMessageBytes: number;
  /** A ping this often; a connection that has not answered the previous one is dropped. 0: none. */
  readonly pingIntervalMs: number;
}

/** One accepted connection. */
export class ServerWebSocket {
  readonly #socket: Duplex;
  readonly #options: WebSocketOptions;
  #buffer: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentBytes = 0;
  #closed = false;
  #awaitingPong = false;
  #pinger?: NodeJS.Timeout;
  onMessage: (text: string) => void = () => {};
  onClose: () => void = () => {};

  constructor(socket: Duplex, options: WebSocketOptions, head?: Buffer) {
    this.#socket = socket;
    this.#options = options;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    // Bytes that came with the upgrade request: handled once the owner has set onMessage.
    if (head && head.length > 0) queueMicrotask(() => this.#receive(head));
    socket.on('close', () => this.#gone());
    socket.on('error', () => this.#gone());
    if (options.pingIntervalMs > 0) {
      this.#pinger = setInterval(() => {
        if (this.#awaitingPong) return this.#socket.destroy();
        this.#awaitingPong = true;
        this.#frame(OP_PING, Buffer.alloc(0));
      }, options.pingIntervalMs);
      this.#pinger.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(text: string): void {
    if (!this.#closed) this.#frame(OP_TEXT, Buffer.from(text, 'utf8'));
  }

  /** Starts the close handshake; the socket ends after the peer's close frame or at once if it is gone. */
  close(code: number = CLOSE.normal, reason = ''): void {
    if (this.#closed) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2, 'utf8');
    this.#frame(OP_CLOSE, payload);
    this.#gone();
    // The close frame is flushed, then the connection ends without waiting for the peer's reply.
    this.#socket.end(() => this.#socket.destroy());
  }

  /** Drops the connection without a handshake (shutdown). */
  terminate(): void {
    this.#gone();
    this.#socket.destroy();
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pinger);
    this.onClose();
  }

  #frame(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | opcode; // FIN, no extensions; server frames are not masked
    if (length < 126) header[1] = length;
    else if (length < 65536) {
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    this.#socket.write(Buffer.concat([header, payload]));
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (!this.#closed) {
      const frame = this.#nextFrame();
      if (!frame) return;
      this.#handle(frame.fin, frame.opcode, frame.payload);
    }
  }

  /** One whole frame off the buffer, unmasked; undefined until it has arrived. */
  #nextFrame(): { fin: boolean; opcode: number; payload: Buffer } | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    const fin = (b[0] & 0x80) !== 0;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const long = b.readBigUInt64BE(2);
      if (long > BigInt(this.#options.maxMessageBytes)) return this.#fail(CLOSE.tooBig, 'message too large');
      length = Number(long);
      offset = 10;
    }
    if (!masked) return this.#fail(CLOSE.protocolError, 'client frames must be masked');
    if ((b[0] & 0x70) !== 0) return this.#fail(CLOSE.protocolError, 'no extensions were agreed');
    if (this.#fragmentBytes + length > this.#options.maxMessageBytes) return this.#fail(CLOSE.tooBig, 'message too large');
    if (b.length < offset + 4 + length) return undefined;
    const mask = b.subarray(offset, offset + 4);
    const payload = Buffer.from(b.subarray(offset + 4, offset + 4 + length));
    for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    this.#buffer = b.subarray(offset + 4 + length);
    return { fin, opcode, payload };
  }

  #handle(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) return this.#frame(OP_PONG, payload);
    if (opcode === OP_PONG) {
      this.#awaitingPong = false;
      return;
    }
    if (opcode === OP_CLOSE) {
      this.#frame(OP_CLOSE, payload.subarray(0, 2));
      this.#gone();
      this.#socket.end();
      return;
    }
    if (opcode === OP_BINARY) return void this.#fail(CLOSE.unsupportedData, 'text messages only');
    if (opcode !== OP_TEXT && opcode !== OP_CONTINUATION) return void this.#fail(CLOSE.protocolError, `unknown opcode ${opcode}`);
    if ((opcode === OP_TEXT) === this.#fragments.length > 0) return void this.#fail(CLOSE.protocolError, 'bad fragmentation');
    this.#fragments.push(payload);
    this.#fragmentBytes += payload.length;
    if (!fin) return;
    const message = Buffer.concat(this.#fragments);
    this.#fragments = [];
    this.#fragmentBytes = 0;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(message);
    } catch {
      return void this.#fail(1007, 'messages must be UTF-8');
    }
    this.onMessage(text);
  }

  #fail(code: number, reason: string): undefined {
    this.close(code, reason);
    this.#buffer = Buffer.alloc(0);
    return undefined;
  }
}

/**
 * Completes the opening handshake of an upgrade request, or answers 400 and closes the socket when
 * it is not a WebSocket version 13 request.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, options: WebSocketOptions): ServerWebSocket | undefined {
  const key = req.headers['sec-websocket-key'];
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (req.method !== 'GET' || upgrade !== 'websocket' || typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return undefined;
  }
  const accept = createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
  return new ServerWebSocket(socket, options, head);
}
