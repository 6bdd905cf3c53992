/**
 * The browser end of the terminal WebSocket (protocol: server/terminal/protocol.ts).
 *
 * Owns everything about the link and nothing about rendering: reconnecting with backoff,
 * liveness pings, flow-control acks (sent only once the renderer has *processed* output, so
 * a slow browser slows the shell instead of buffering without bound), and the session's
 * lifecycle states. The renderer is reached through the small TerminalSink interface.
 */
import {
  ACK_EVERY_BYTES,
  ACK_IDLE_MS,
  type ClientMessage,
  type ServerMessage,
  decodeServerMessage,
  encodeMessage,
} from '../../server/terminal/protocol.js';

export interface TerminalSink {
  /** Forget everything on screen: a (re)attach replays the whole screen next. */
  reset(): void;
  /** Render output; call `processed` once it has been parsed. */
  write(data: Uint8Array, processed: () => void): void;
  size(): { cols: number; rows: number };
}

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected'; sessionId: string }
  | { kind: 'reconnecting'; attempt: number; retryAt: number }
  /** The shell exited; only an explicit restart starts a new one. */
  | { kind: 'ended'; code: number | null; signal: number | null }
  /** Another tab attached to the same session. */
  | { kind: 'detached'; reason: string }
  /** The session cookie is missing or stale. */
  | { kind: 'unauthorized' };

export interface ConnectionOptions {
  url: string;
  onState(state: ConnectionState): void;
  /** Resolves true when the server refuses us for lack of credentials (WebSocket closes hide the status). */
  isUnauthorized(): Promise<boolean>;
  onLatency?(milliseconds: number): void;
  onServerError?(message: string): void;
}

const BACKOFF_MS = [250, 1000, 2000, 4000, 8000, 15000];
const PING_EVERY_MS = 15_000;
const PONG_TIMEOUT_MS = 10_000;
/** Characters per input message: JSON escaping can grow a character to 6 bytes, and the
 * server caps control messages at MAX_CONTROL_MESSAGE_BYTES (64 KiB). */
const INPUT_CHUNK_CHARS = 8 * 1024;
/** Input typed while disconnected is kept (up to this much) and sent on reconnect. */
const MAX_PENDING_INPUT_CHARS = 64 * 1024;

export class TerminalConnection {
  private socket: WebSocket | null = null;
  private stateValue: ConnectionState = { kind: 'connecting' };
  private attempt = 0;
  private retryTimer = 0;
  private pingTimer = 0;
  private pongTimer = 0;
  private ackTimer = 0;
  private nextPingId = 1;
  private pendingPing: { id: number; sentAt: number } | null = null;
  private unackedProcessed = 0;
  private pendingInput: string[] = [];
  private pendingInputChars = 0;
  private attached = false;
  /** Bumped per socket so late write callbacks never ack on a newer socket. */
  private generation = 0;

  constructor(
    private readonly sink: TerminalSink,
    private readonly options: ConnectionOptions,
  ) {
    window.addEventListener('online', () => this.retryNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.retryNow();
    });
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Connect, or start over after `ended` / `detached` (a new shell / taking the session back). */
  connect(): void {
    window.clearTimeout(this.retryTimer);
    this.dropSocket();
    this.attempt = 0;
    this.open();
  }

  sendInput(data: string): void {
    if (!data) return;
    if (!this.attached) {
      if (this.pendingInputChars + data.length <= MAX_PENDING_INPUT_CHARS) {
        this.pendingInput.push(data);
        this.pendingInputChars += data.length;
      }
      return;
    }
    for (const chunk of chunkInput(data)) this.send({ t: 'input', d: chunk });
  }

  resize(cols: number, rows: number): void {
    if (this.attached) this.send({ t: 'resize', cols, rows });
  }

  private open(): void {
    const generation = ++this.generation;
    this.attached = false;
    this.setState(this.attempt === 0 ? { kind: 'connecting' } : this.stateValue);
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.options.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      // Sent before `hello` so a new shell starts at the browser's size: a shell resized
      // right after it printed its prompt redraws that prompt askew.
      const { cols, rows } = this.sink.size();
      socket.send(encodeMessage({ t: 'resize', cols, rows }));
      this.startPinging();
    });
    socket.addEventListener('message', (event) => {
      if (generation !== this.generation) return;
      if (typeof event.data === 'string') this.onControl(event.data);
      else this.onOutput(new Uint8Array(event.data as ArrayBuffer), generation);
    });
    socket.addEventListener('close', () => {
      if (generation !== this.generation) return;
      this.socket = null;
      this.attached = false;
      this.stopPinging();
      const kind = this.stateValue.kind;
      if (kind === 'ended' || kind === 'detached' || kind === 'unauthorized') return;
      if (!opened) {
        void this.options.isUnauthorized().then((unauthorized) => {
          if (generation !== this.generation) return;
          if (unauthorized) this.setState({ kind: 'unauthorized' });
          else this.scheduleRetry();
        });
        return;
      }
      this.scheduleRetry();
    });
  }

  private onControl(raw: string): void {
    const decoded = decodeServerMessage(raw);
    if (!decoded.ok) {
      console.warn('terminal: ignoring invalid server message:', decoded.error);
      return;
    }
    const message: ServerMessage = decoded.message;
    switch (message.t) {
      case 'hello': {
        this.attempt = 0;
        this.attached = true;
        this.unackedProcessed = 0;
        this.sink.reset();
        const { cols, rows } = this.sink.size();
        if (cols !== message.cols || rows !== message.rows) this.send({ t: 'resize', cols, rows });
        this.flushPendingInput();
        this.setState({ kind: 'connected', sessionId: message.sessionId });
        break;
      }
      case 'pong':
        if (this.pendingPing?.id === message.id) {
          this.options.onLatency?.(performance.now() - this.pendingPing.sentAt);
          this.pendingPing = null;
          window.clearTimeout(this.pongTimer);
        }
        break;
      case 'exit':
        this.setState({ kind: 'ended', code: message.code, signal: message.signal });
        this.dropSocket();
        break;
      case 'detached':
        this.setState({ kind: 'detached', reason: message.reason });
        this.dropSocket();
        break;
      case 'error':
        console.warn('terminal: server rejected a message:', message.message);
        this.options.onServerError?.(message.message);
        break;
    }
  }

  private onOutput(data: Uint8Array, generation: number): void {
    this.sink.write(data, () => {
      if (generation !== this.generation) return;
      this.unackedProcessed += data.byteLength;
      if (this.unackedProcessed >= ACK_EVERY_BYTES) {
        this.flushAck();
      } else {
        window.clearTimeout(this.ackTimer);
        this.ackTimer = window.setTimeout(() => this.flushAck(), ACK_IDLE_MS);
      }
    });
  }

  private flushAck(): void {
    window.clearTimeout(this.ackTimer);
    if (this.unackedProcessed > 0 && this.socket?.readyState === WebSocket.OPEN) {
      this.send({ t: 'ack', bytes: this.unackedProcessed });
      this.unackedProcessed = 0;
    }
  }

  private flushPendingInput(): void {
    const pending = this.pendingInput.join('');
    this.pendingInput = [];
    this.pendingInputChars = 0;
    if (pending) this.sendInput(pending);
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  private startPinging(): void {
    this.stopPinging();
    this.pingTimer = window.setInterval(() => {
      if (this.pendingPing) return;
      const id = this.nextPingId++;
      this.pendingPing = { id, sentAt: performance.now() };
      this.send({ t: 'ping', id });
      // A silent peer (suspended laptop, dead proxy) never closes the socket by itself.
      this.pongTimer = window.setTimeout(() => {
        this.dropSocket();
        this.scheduleRetry();
      }, PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  private stopPinging(): void {
    window.clearInterval(this.pingTimer);
    window.clearTimeout(this.pongTimer);
    this.pendingPing = null;
  }

  private scheduleRetry(): void {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? 15000;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.setState({ kind: 'reconnecting', attempt: this.attempt, retryAt: Date.now() + delay });
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.open(), delay);
  }

  private retryNow(): void {
    if (this.stateValue.kind !== 'reconnecting' || this.socket) return;
    window.clearTimeout(this.retryTimer);
    this.open();
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.attached = false;
    this.generation++;
    this.stopPinging();
    window.clearTimeout(this.ackTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
  }

  private setState(state: ConnectionState): void {
    this.stateValue = state;
    this.options.onState(state);
  }
}

/** Splits input into protocol-sized messages without cutting a surrogate pair in half. */
export function chunkInput(data: string, size = INPUT_CHUNK_CHARS): string[] {
  if (data.length <= size) return [data];
  const chunks: string[] = [];
  let start = 0;
  while (start < data.length) {
    let end = Math.min(start + size, data.length);
    const last = data.charCodeAt(end - 1);
    if (end < data.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(data.slice(start, end));
    start = end;
  }
  return chunks;
}
