/**
 * The server side of SPDY/3 as Kubernetes uses it (moby/spdystream, k8s.io/apimachinery
 * httpstream/spdy): the client opens streams whose SYN_STREAM headers say what they are
 * (`streamtype`, `port`, `requestid`), the server accepts each with an empty SYN_REPLY, and
 * then both sides exchange DATA frames, half-closing with FIN and aborting with RST_STREAM.
 * PINGs are echoed. There is no flow control: spdystream ignores WINDOW_UPDATE and never
 * sends one, so none is enforced here either.
 *
 * Not spdy-transport's Connection: it requires HTTP pseudo-headers (`:method`, `:path`) on
 * every SYN_STREAM, which spdystream never sends, and it stalls after 64 KiB waiting for
 * window updates that never come. Only its copy of the SPDY/3 header-compression dictionary
 * (from the SPDY/3 spec) is used.
 *
 * The session runs over any Duplex: a raw socket after `Upgrade: SPDY/3.1`, or a WebSocket
 * carrying SPDY bytes in binary messages (kubectl 1.31+ port-forward).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const spdyDictionaries = require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<string, Buffer>;
const HEADER_DICTIONARY: Buffer = spdyDictionaries[3]!;

const SPDY_VERSION = 3;
const CONTROL_BIT = 0x80;
const FLAG_FIN = 0x01;
const MAX_DATA_FRAME = 32 * 1024;
const MAX_HEADER_BLOCK = 256 * 1024;

const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

/** RST_STREAM status codes (SPDY/3 section 2.6.3). */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  Cancel: 5,
  InternalError: 6,
  StreamAlreadyClosed: 9,
} as const;

const GOAWAY_OK = 0;
const GOAWAY_PROTOCOL_ERROR = 1;

class ProtocolError extends Error {}

/** One zlib context per direction, kept for the whole session, as SPDY header compression requires. */
class HeaderCodec {
  private readonly inflater = zlib.createInflate({ dictionary: HEADER_DICTIONARY });
  private readonly deflater = zlib.createDeflate({ dictionary: HEADER_DICTIONARY, windowBits: 11 });
  private failure: Error | undefined;

  constructor() {
    // A broken stream is fatal for the session; remember it so later calls fail at once.
    const fail = (err: Error) => (this.failure ??= err);
    this.inflater.on('error', fail);
    this.deflater.on('error', fail);
  }

  async decode(block: Buffer): Promise<Record<string, string>> {
    const raw = await this.pass(this.inflater, block).catch((err: Error) => {
      throw new ProtocolError(`invalid header block: ${err.message}`);
    });
    return parseHeaderBlock(raw);
  }

  encode(headers: Record<string, string>): Promise<Buffer> {
    return this.pass(this.deflater, serializeHeaderBlock(headers));
  }

  /** Feeds one block through a long-lived zlib stream and collects what a sync flush yields. */
  private pass(z: zlib.Inflate | zlib.Deflate, input: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const out: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer) => {
        size += c.length;
        // Header blocks are a few hundred bytes; a huge one is a decompression bomb.
        if (size > MAX_HEADER_BLOCK) {
          const err = new Error(`header block larger than ${MAX_HEADER_BLOCK} bytes`);
          this.failure ??= err;
          onError(err);
          return;
        }
        out.push(c);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        z.off('data', onData);
        z.off('error', onError);
      };
      z.on('data', onData);
      z.once('error', onError);
      z.write(input);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        cleanup();
        if (this.failure) reject(this.failure);
        else resolve(Buffer.concat(out));
      });
    });
  }

  close(): void {
    this.inflater.close();
    this.deflater.close();
  }
}

/** Names are lower-case in SPDY; multiple values of one name are NUL-separated (we keep the first). */
function parseHeaderBlock(raw: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let off = 0;
  const need = (n: number) => {
    if (off + n > raw.length) throw new ProtocolError('truncated header block');
  };
  need(4);
  const pairs = raw.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < pairs; i++) {
    need(4);
    const nameLen = raw.readUInt32BE(off);
    off += 4;
    need(nameLen);
    const name = raw.subarray(off, off + nameLen).toString('utf8').toLowerCase();
    off += nameLen;
    need(4);
    const valueLen = raw.readUInt32BE(off);
    off += 4;
    need(valueLen);
    const value = raw.subarray(off, off + valueLen).toString('utf8');
    off += valueLen;
    headers[name] = value.split('\0')[0] ?? '';
  }
  return headers;
}

function serializeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Resolves at the transport's next 'drain' or 'close', leaving no listener behind. */
function drained(transport: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      transport.off('drain', done);
      transport.off('close', done);
      resolve();
    };
    transport.on('drain', done);
    transport.on('close', done);
  });
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | body.length, 4);
  return Buffer.concat([head, body]);
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

/**
 * A client-initiated stream. Readable: the client's DATA, ending at its FIN. Writable: our
 * DATA, `end()` sends FIN. `reset()` aborts it with RST_STREAM.
 */
export class SpdyStream extends Duplex {
  remoteReset = false;
  private accepted = false;
  private localDone = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Record<string, string>,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Sends the (empty) SYN_REPLY that lets the client use the stream. */
  accept(): void {
    if (this.accepted) return;
    this.accepted = true;
    this.session.reply(this.id);
  }

  reset(status: number = RstStatus.Cancel): void {
    this.localDone = true;
    this.session.rst(this.id, status);
    this.session.forget(this.id);
    this.destroy();
  }

  override _read(): void {
    // Data is pushed as frames arrive; there is no flow control to apply.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.remoteReset) return callback();
    this.session.data(this.id, chunk, false).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.remoteReset || this.localDone) return callback();
    this.localDone = true;
    this.session.data(this.id, Buffer.alloc(0), true).then(() => {
      this.session.maybeForget(this);
      callback();
    }, callback);
  }

  /** @internal frames from the session */
  receive(data: Buffer, fin: boolean): void {
    if (data.length) this.push(data);
    if (fin) {
      this.push(null);
      this.session.maybeForget(this);
    }
  }

  /** @internal */
  receiveReset(): void {
    this.remoteReset = true;
    this.localDone = true;
    this.push(null);
    this.destroy();
  }

  get finishedBothWays(): boolean {
    return this.localDone && this.readableEnded;
  }
}

export interface SpdySessionEvents {
  stream: [SpdyStream];
  close: [];
}

/** One SPDY/3 server session over `transport`. Emits 'stream' for each SYN_STREAM, 'close' once. */
export class SpdySession extends EventEmitter<SpdySessionEvents> {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly codec = new HeaderCodec();
  private inbox: Buffer = Buffer.alloc(0);
  private inputChain: Promise<void> = Promise.resolve();
  private outputChain: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private closed = false;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.onBytes(chunk));
    transport.on('end', () => this.close());
    transport.on('close', () => this.close());
    transport.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends GOAWAY and tears everything down. */
  goAway(status = GOAWAY_OK): void {
    if (this.closed) return;
    const body = Buffer.alloc(8);
    body.writeUInt32BE(this.lastStreamId, 0);
    body.writeUInt32BE(status, 4);
    this.send(() => controlFrame(FrameType.GoAway, 0, body)).finally(() => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) {
      if (!stream.destroyed) stream.receiveReset();
    }
    this.streams.clear();
    this.codec.close();
    if (!this.transport.destroyed) this.transport.end();
    this.emit('close');
  }

  /** @internal */
  reply(id: number): void {
    void this.send(async () => {
      const body = Buffer.alloc(4);
      body.writeUInt32BE(id & 0x7fffffff);
      return controlFrame(FrameType.SynReply, 0, Buffer.concat([body, await this.codec.encode({})]));
    });
  }

  /** @internal */
  rst(id: number, status: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(status, 4);
    void this.send(() => controlFrame(FrameType.RstStream, 0, body));
  }

  /** @internal */
  async data(id: number, chunk: Buffer, fin: boolean): Promise<void> {
    if (chunk.length === 0) return this.send(() => dataFrame(id, fin ? FLAG_FIN : 0, chunk));
    for (let off = 0; off < chunk.length; off += MAX_DATA_FRAME) {
      const part = chunk.subarray(off, off + MAX_DATA_FRAME);
      const last = off + MAX_DATA_FRAME >= chunk.length;
      await this.send(() => dataFrame(id, fin && last ? FLAG_FIN : 0, part));
    }
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** @internal */
  maybeForget(stream: SpdyStream): void {
    if (stream.finishedBothWays) this.streams.delete(stream.id);
  }

  /** Frames leave in the order they were queued, each waiting for the transport to drain. */
  private send(build: () => Buffer | Promise<Buffer>): Promise<void> {
    const next = this.outputChain.then(async () => {
      if (this.closed) return;
      const frame = await build();
      if (this.closed || this.transport.destroyed) return;
      if (!this.transport.write(frame)) await drained(this.transport);
    });
    this.outputChain = next.catch(() => undefined);
    return next;
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    this.inbox = this.inbox.length ? Buffer.concat([this.inbox, chunk]) : chunk;
    while (this.inbox.length >= 8) {
      const length = this.inbox.readUInt32BE(4) & 0x00ffffff;
      if (this.inbox.length < 8 + length) break;
      const frame = this.inbox.subarray(0, 8 + length);
      this.inbox = this.inbox.subarray(8 + length);
      this.inputChain = this.inputChain
        .then(() => this.handleFrame(frame))
        .catch((err: unknown) => {
          this.goAway(err instanceof ProtocolError ? GOAWAY_PROTOCOL_ERROR : GOAWAY_OK);
        });
    }
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    if (this.closed) return;
    const flags = frame[4]!;
    const body = frame.subarray(8);
    if ((frame[0]! & CONTROL_BIT) === 0) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const stream = this.streams.get(id);
      if (!stream) {
        this.rst(id, RstStatus.InvalidStream);
        return;
      }
      stream.receive(Buffer.from(body), (flags & FLAG_FIN) !== 0);
      return;
    }
    const version = frame.readUInt16BE(0) & 0x7fff;
    if (version !== SPDY_VERSION) throw new ProtocolError(`unsupported SPDY version ${version}`);
    const type = frame.readUInt16BE(2);
    switch (type) {
      case FrameType.SynStream: {
        if (body.length < 10) throw new ProtocolError('short SYN_STREAM');
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.codec.decode(body.subarray(10));
        if (id === 0 || id % 2 === 0 || id <= this.lastStreamId) {
          this.rst(id, RstStatus.ProtocolError);
          return;
        }
        this.lastStreamId = id;
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        if ((flags & FLAG_FIN) !== 0) stream.receive(Buffer.alloc(0), true);
        this.emit('stream', stream);
        return;
      }
      case FrameType.RstStream: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const stream = this.streams.get(id);
        this.streams.delete(id);
        stream?.receiveReset();
        return;
      }
      case FrameType.Ping:
        // Our own pings would carry even ids; we send none, so every ping is the client's to echo.
        void this.send(() => controlFrame(FrameType.Ping, 0, Buffer.from(body)));
        return;
      case FrameType.GoAway:
        this.close();
        return;
      case FrameType.Headers:
        // Keep the shared decompression context in step even though the headers are unused.
        if (body.length >= 4) await this.codec.decode(body.subarray(4));
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, SYN_REPLY (we open no streams): nothing to do.
        return;
    }
  }
}
