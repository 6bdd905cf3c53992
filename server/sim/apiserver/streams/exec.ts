/**
 * `kubectl exec` / `kubectl attach`: the remotecommand streaming protocol over WebSocket.
 *
 * kubectl 1.30+ asks for `v5.channel.k8s.io` only (client-go NewWebSocketExecutor); older
 * clients and @kubernetes/client-node also offer `v4.channel.k8s.io`. Every binary message is
 * one channel byte followed by data: 0 stdin, 1 stdout, 2 stderr, 3 error (a `Status` JSON
 * written once, when the command ends), 4 resize (`{"Width":W,"Height":H}`), and in v5 only
 * 255 close (`[255, 0]`: the client has no more stdin). kubectl stops reading stdout/stderr
 * and reports the Status when the server closes the WebSocket normally, so the order at the
 * end is: output, Status on channel 3, close 1000.
 *
 * When a WebSocket upgrade fails, kubectl retries the same request over SPDY
 * (`Upgrade: SPDY/3.1`, X-Stream-Protocol-Version v4.channel.k8s.io…); so does a user who
 * sets KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false. The embedded cluster answers that with a
 * loud "not supported" rather than half an implementation.
 */
import type { IncomingMessage } from 'node:http';
import { EventEmitter } from 'node:events';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { ApiError } from '../../errors.js';
import { acceptWebSocket, negotiate, offeredProtocols, refuseUpgrade, upgradeKind } from './upgrade.js';

export const STREAM_PROTOCOL_V5 = 'v5.channel.k8s.io';
export const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';
/** In the order we prefer them when a client offers both. */
export const SUPPORTED_EXEC_PROTOCOLS = [STREAM_PROTOCOL_V5, STREAM_PROTOCOL_V4] as const;

/** The channel byte that prefixes every message. */
export const Channel = {
  Stdin: 0,
  Stdout: 1,
  Stderr: 2,
  Error: 3,
  Resize: 4,
  Close: 255,
} as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

export interface ExecParams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** Empty for attach. */
  command: string[];
  /** Resolved by the caller against the pod (see containers.ts); may be '' before that. */
  container: string;
}

export interface TerminalSize {
  width: number;
  height: number;
}

export interface ExecOutput {
  write(chunk: Buffer | string): void;
}

/** What a command running "in the container" gets. */
export interface ExecIO {
  /** The client's stdin, ending when the client closes it (v5) or goes away; null without -i. */
  stdin: Readable | null;
  /** Silently drops output when the client did not ask for the stream. */
  stdout: ExecOutput;
  /** With a TTY there is no separate stderr: writes go to stdout, as a terminal merges them. */
  stderr: ExecOutput;
  /** Emits 'resize' with a TerminalSize each time the client's terminal changes size. */
  resize: EventEmitter;
  /** The most recent size the client reported (kubectl sends one as soon as it attaches). */
  terminalSize(): TerminalSize | undefined;
  /** Aborted when the client goes away before the command ends. */
  signal: AbortSignal;
  tty: boolean;
}

/**
 * Thrown (or rejected) by a `run` callback when the command could not be started at all,
 * as opposed to a command that ran and exited non-zero (which is a resolved exit code).
 * The kubelet reports it as an InternalError that kubectl prints as
 * `error: Internal error occurred: error executing command in container: MESSAGE`.
 */
export class ExecStartError extends Error {
  override name = 'ExecStartError';
}

export type ExecRun = (io: ExecIO) => Promise<number>;

const falsy = new Set(['0', 'f', 'false']);

/** Query booleans as apimachinery converts them: absent, "0", "f", "false" are false, anything else true. */
function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !falsy.has(v.toLowerCase());
}

function searchParams(url: string | URL): URLSearchParams {
  return typeof url === 'string' ? new URL(url, 'http://localhost').searchParams : url.searchParams;
}

/** PodExecOptions from `.../pods/NAME/exec?command=sh&command=-c&...&container=c&stdin=true&tty=true`. */
export function parseExecQuery(url: string | URL): ExecParams {
  const params = parseAttachQuery(url);
  const command = searchParams(url).getAll('command');
  if (command.length === 0) throw ApiError.badRequest('you must specify at least one command for the container');
  return { ...params, command };
}

/** PodAttachOptions: the exec query without a command. */
export function parseAttachQuery(url: string | URL): ExecParams {
  const q = searchParams(url);
  const tty = queryBool(q, 'tty');
  return {
    stdin: queryBool(q, 'stdin'),
    stdout: queryBool(q, 'stdout'),
    // The kubelet drops stderr when a TTY is requested: a terminal has only one output.
    stderr: tty ? false : queryBool(q, 'stderr'),
    tty,
    command: [],
    container: q.get('container') ?? '',
  };
}

/** The Status the kubelet writes on the error channel when the command has ended. */
export function exitStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

function startFailureStatus(err: unknown): Record<string, unknown> {
  const why = err instanceof Error ? err.message : String(err);
  const apiError = ApiError.internal(`error executing command in container: ${why}`);
  const { kind: _kind, apiVersion: _apiVersion, ...status } = apiError.toStatus();
  return status;
}

/**
 * Serves an exec (or attach) upgrade request. `params` must already be validated and the
 * container resolved (parseExecQuery + resolveContainer); `run` is the command, resolving
 * with its exit code. Never throws: protocol problems are answered on the socket.
 */
export function handleExecUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  params: ExecParams,
  run: ExecRun,
): void {
  const kind = upgradeKind(req);
  if (kind === 'spdy') {
    refuseUpgrade(
      socket,
      new ApiError(
        501,
        'NotImplemented',
        'exec and attach over SPDY are not supported by the embedded cluster (kubectl 1.30+ uses WebSockets unless KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)',
      ),
    );
    return;
  }
  if (kind === 'none') {
    refuseUpgrade(socket, ApiError.badRequest('Upgrade request required'));
    return;
  }
  if (!params.stdin && !params.stdout && !params.stderr) {
    refuseUpgrade(socket, ApiError.badRequest('you must specify at least 1 of stdin, stdout, stderr'));
    return;
  }
  const protocol = negotiate(offeredProtocols(req), SUPPORTED_EXEC_PROTOCOLS);
  if (protocol instanceof ApiError) {
    refuseUpgrade(socket, protocol);
    return;
  }
  void acceptWebSocket(req, socket, head, protocol).then((ws) => {
    if (ws) serveSession(ws, protocol, params, run);
  });
}

function serveSession(ws: WebSocket, protocol: string, params: ExecParams, run: ExecRun): void {
  const abort = new AbortController();
  const resize = new EventEmitter();
  let lastSize: TerminalSize | undefined;
  let finished = false;

  const stdin = params.stdin ? new PassThrough() : null;

  const send = (channel: Channel, data: Buffer | string) => {
    if (finished || ws.readyState !== ws.OPEN) return;
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    if (payload.length === 0) return;
    ws.send(Buffer.concat([Buffer.from([channel]), payload]));
  };
  const output = (enabled: boolean, channel: Channel): ExecOutput => ({
    write: (chunk) => {
      if (enabled) send(channel, chunk);
    },
  });

  const io: ExecIO = {
    stdin,
    stdout: output(params.stdout, Channel.Stdout),
    stderr: params.tty ? output(params.stdout, Channel.Stdout) : output(params.stderr, Channel.Stderr),
    resize,
    terminalSize: () => lastSize,
    signal: abort.signal,
    tty: params.tty,
  };

  ws.on('message', (raw: RawData, isBinary: boolean) => {
    const data = toBuffer(raw);
    if (!isBinary || data.length === 0) return;
    const channel = data[0];
    const body = data.subarray(1);
    switch (channel) {
      case Channel.Stdin:
        if (stdin && !stdin.writableEnded) stdin.write(body);
        break;
      case Channel.Resize: {
        const size = parseResize(body);
        if (size) {
          lastSize = size;
          resize.emit('resize', size);
        }
        break;
      }
      case Channel.Close:
        // v5 only: `[255, 0]` half-closes stdin. Other channels are not closable by the client.
        if (protocol === STREAM_PROTOCOL_V5 && body[0] === Channel.Stdin && stdin && !stdin.writableEnded) stdin.end();
        break;
      default:
        break;
    }
  });

  const clientGone = () => {
    if (stdin && !stdin.writableEnded) stdin.end();
    if (!finished) abort.abort();
  };
  ws.on('close', clientGone);
  ws.on('error', clientGone);

  const finish = (status: Record<string, unknown>) => {
    if (finished) return;
    if (ws.readyState === ws.OPEN) {
      ws.send(Buffer.concat([Buffer.from([Channel.Error]), Buffer.from(JSON.stringify(status))]));
      ws.close(1000);
    }
    finished = true;
    if (stdin && !stdin.writableEnded) stdin.end();
  };

  let running: Promise<number>;
  try {
    running = run(io);
  } catch (err) {
    running = Promise.reject(err);
  }
  running.then(
    (code) => finish(exitStatus(Number.isInteger(code) ? code : 1, params.command)),
    (err) => finish(startFailureStatus(err)),
  );
}

function toBuffer(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}

function parseResize(body: Buffer): TerminalSize | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const width = Number(parsed.Width);
    const height = Number(parsed.Height);
    if (!Number.isFinite(width) || !Number.isFinite(height)) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}
