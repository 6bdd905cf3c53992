/**
 * exec/attach over SPDY, the transport kubectl falls back to when the WebSocket upgrade fails
 * (and uses outright with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, or before 1.30).
 *
 * As the kubelet serves it (remotecommand httpstream.go, protocol v4): the client names its
 * protocol versions in X-Stream-Protocol-Version, then opens one SPDY stream per standard
 * stream with a `streamtype` header (error, stdin, stdout, stderr, and resize with a TTY).
 * stdin ends with the stream's FIN; resize carries newline-separated `{"Width":W,"Height":H}`;
 * at the end the Status goes on the error stream, every stream is finished and the
 * connection goes away.
 */
import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream/promises';
import type { Duplex } from 'node:stream';
import { ApiError } from '../../errors.js';
import { parseResize, startExec, type ExecFeed, type ExecParams, type ExecRun } from './exec-session.js';
import { SpdySession, RstStatus, type SpdyStream } from './spdy.js';
import { refuseUpgrade } from './upgrade.js';

/** What the kubelet accepts over SPDY; v5 adds nothing SPDY lacks (streams half-close natively). */
const SPDY_EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STREAM_CREATION_TIMEOUT_MS = 30_000;

function clientProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['x-stream-protocol-version'];
  const joined = Array.isArray(raw) ? raw.join(',') : raw ?? '';
  return joined
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

export function handleExecSpdyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, params: ExecParams, run: ExecRun): void {
  const offered = clientProtocols(req);
  if (offered.length === 0) {
    refuseUpgrade(socket, ApiError.badRequest('unable to upgrade: X-Stream-Protocol-Version is required'));
    return;
  }
  const protocol = offered.find((p) => SPDY_EXEC_PROTOCOLS.includes(p));
  if (!protocol) {
    refuseUpgrade(
      socket,
      new ApiError(
        403,
        'Forbidden',
        `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_EXEC_PROTOCOLS.join(' ')}]`,
      ),
    );
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (head.length) socket.unshift(head);
  serve(new SpdySession(socket), params, run);
}

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

function serve(session: SpdySession, params: ExecParams, run: ExecRun): void {
  const streams = new Map<StreamType, SpdyStream>();
  const expected: StreamType[] = ['error'];
  if (params.stdin) expected.push('stdin');
  if (params.stdout) expected.push('stdout');
  if (params.stderr) expected.push('stderr');
  let feed: ExecFeed | undefined;

  const timeout = setTimeout(() => {
    // Nothing to report to: without its streams the client cannot read an error.
    if (!feed) session.goAway();
  }, STREAM_CREATION_TIMEOUT_MS);

  session.on('stream', (stream) => {
    const type = stream.headers.streamtype as StreamType | undefined;
    if (!type || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || streams.has(type)) {
      stream.reset(RstStatus.ProtocolError);
      return;
    }
    stream.accept();
    streams.set(type, stream);
    if (type === 'resize') watchResize(stream, () => feed);
    if (!feed && expected.every((t) => streams.has(t))) {
      clearTimeout(timeout);
      feed = begin();
    }
  });

  session.on('close', () => {
    clearTimeout(timeout);
    feed?.clientGone();
  });

  function begin(): ExecFeed {
    const stdin = streams.get('stdin');
    const started = startExec(params, run, {
      stdout: (data) => streams.get('stdout')?.write(data),
      stderr: (data) => streams.get('stderr')?.write(data),
      finish: (status) => {
        const error = streams.get('error')!;
        error.write(JSON.stringify(status));
        const ending = [...streams.values()].filter((s) => !s.destroyed && !s.writableEnded);
        for (const s of ending) s.end();
        // GOAWAY only after every FIN has been queued, or it would overtake them.
        void Promise.allSettled(ending.map((s) => finished(s, { readable: false }))).then(() => session.goAway());
      },
    });
    if (stdin) {
      stdin.on('data', (chunk: Buffer) => started.stdin(chunk));
      stdin.on('end', () => started.stdinEnd());
    }
    return started;
  }
}

function watchResize(stream: SpdyStream, feed: () => ExecFeed | undefined): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const size = parseResize(Buffer.from(line));
      if (size) feed()?.resize(size);
    }
  });
}
