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
 * sets KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false. That path is served too (exec-spdy.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { ApiError } from '../../errors.js';
import { acceptWebSocket, negotiate, offeredProtocols, refuseUpgrade, upgradeKind } from './upgrade.js';
import { parseResize, startExec, type ExecParams, type ExecRun } from './exec-session.js';
import { handleExecSpdyUpgrade } from './exec-spdy.js';

export {
  ExecStartError,
  exitStatus,
  type ExecIO,
  type ExecOutput,
  type ExecParams,
  type ExecRun,
  type TerminalSize,
} from './exec-session.js';

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
    if (!params.stdin && !params.stdout && !params.stderr) {
      refuseUpgrade(socket, ApiError.badRequest('you must specify at least 1 of stdin, stdout, stderr'));
      return;
    }
    handleExecSpdyUpgrade(req, socket, head, params, run);
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
    if (ws) serveWebSocket(ws, protocol, params, run);
  });
}

function serveWebSocket(ws: WebSocket, protocol: string, params: ExecParams, run: ExecRun): void {
  const send = (channel: Channel, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  const session = startExec(params, run, {
    stdout: (data) => send(Channel.Stdout, data),
    stderr: (data) => send(Channel.Stderr, data),
    finish: (status) => {
      // kubectl reads the Status, then stops at the normal closure.
      send(Channel.Error, Buffer.from(JSON.stringify(status)));
      if (ws.readyState === ws.OPEN) ws.close(1000);
    },
  });

  ws.on('message', (raw: RawData, isBinary: boolean) => {
    const data = toBuffer(raw);
    if (!isBinary || data.length === 0) return;
    const body = data.subarray(1);
    switch (data[0]) {
      case Channel.Stdin:
        session.stdin(body);
        break;
      case Channel.Resize: {
        const size = parseResize(body);
        if (size) session.resize(size);
        break;
      }
      case Channel.Close:
        // v5 only: `[255, 0]` half-closes stdin. Other channels are not closable by the client.
        if (protocol === STREAM_PROTOCOL_V5 && body[0] === Channel.Stdin) session.stdinEnd();
        break;
      default:
        break;
    }
  });
  ws.on('close', () => session.clientGone());
  ws.on('error', () => session.clientGone());
}

function toBuffer(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}
