/**
 * `kubectl port-forward`: the portforward.k8s.io protocol, served as the kubelet serves it.
 *
 * kubectl 1.31+ upgrades to a WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io` and runs
 * SPDY inside its binary messages (client-go tools/portforward tunneling_dialer.go); with
 * KUBECTL_PORT_FORWARD_WEBSOCKETS=false, or when that upgrade fails, it upgrades the HTTP
 * connection itself (`Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`).
 * Both are served here by the same SPDY session.
 *
 * For each local connection kubectl opens two streams with the same `requestid` and `port`
 * headers: `streamtype: error` (which it only reads) and `streamtype: data`. Once both exist
 * we dial the port; bytes flow on the data stream; any failure is written as text on the error
 * stream, which kubectl prints as `an error occurred forwarding L -> R: TEXT` and then drops
 * the whole forward ("error: lost connection to pod"), exactly as against a real cluster.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type RawData, type WebSocket } from 'ws';
import { ApiError } from '../../errors.js';
import { SpdySession, type SpdyStream, RstStatus } from './spdy.js';
import { acceptWebSocket, negotiate, offeredProtocols, refuseUpgrade, upgradeKind } from './upgrade.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The kubelet's channel protocol for port-forward over a plain WebSocket. */
export const CHANNEL_PROTOCOL_V4 = 'v4.channel.k8s.io';
export const WEBSOCKET_SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';

/** The kubelet's default (--streaming-connection-idle-timeout aside): pairs must complete within it. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** containerd waits this long for the second direction once the first has ended (socat-like). */
const HALF_CLOSE_GRACE_MS = 1_000;

export interface PortForwardPod {
  /** Pod name, for defaults below. */
  name: string;
  uid?: string;
  /**
   * What the kubelet names the pod in errors: with containerd, the 64-hex sandbox id (the uid
   * printed after it is empty). Derived from the uid/name when not given.
   */
  sandboxId?: string;
  /** The sandbox's network namespace path as containerd reports it. Derived when not given. */
  netnsPath?: string;
}

/**
 * Dials `port` inside the pod. Reject with an Error whose `code` is 'ECONNREFUSED' when nothing
 * listens (the usual case): the error text then reads like containerd's. Any other rejection's
 * message is reported as the reason the port could not be reached.
 */
export type PortConnect = (port: number) => Promise<Duplex>;

/**
 * Serves a `pods/NAME/portforward` upgrade. The pod must already be checked (exists, Running);
 * `connect` reaches a port inside it. Never throws: problems are answered on the socket.
 */
export function handlePortForwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  connect: PortConnect,
  pod: PortForwardPod = { name: 'pod' },
): void {
  const identity = podIdentity(pod);
  const kind = upgradeKind(req);
  if (kind === 'websocket') {
    const offered = offeredProtocols(req);
    const tunnelProtocol = WEBSOCKET_SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL;
    if (offered.includes(tunnelProtocol)) {
      void acceptWebSocket(req, socket, head, tunnelProtocol).then((ws) => {
        if (!ws) return;
        // SPDY bytes ride in binary messages; message boundaries carry no meaning.
        const tunnel = createWebSocketStream(ws, { allowHalfOpen: false });
        tunnel.on('error', () => tunnel.destroy());
        serve(new SpdySession(tunnel), connect, identity);
      });
      return;
    }
    // The kubelet's older WebSocket protocol (@kubernetes/client-node's PortForward): ports fixed
    // in the query, one connection per port for the life of the WebSocket.
    const protocol = offered.length === 0 ? '' : negotiate(offered, [tunnelProtocol, CHANNEL_PROTOCOL_V4]);
    if (protocol instanceof ApiError) {
      refuseUpgrade(socket, protocol);
      return;
    }
    let ports: number[];
    try {
      ports = parsePortForwardPorts(req.url ?? '/');
    } catch (err) {
      refuseUpgrade(socket, err instanceof ApiError ? err : ApiError.badRequest(String(err)));
      return;
    }
    void acceptWebSocket(req, socket, head, protocol).then((ws) => {
      if (ws) serveChannels(ws, ports, connect, identity);
    });
    return;
  }
  if (kind === 'spdy') {
    const offered = headerValues(req, 'x-stream-protocol-version');
    if (offered.length === 0) {
      refuseUpgrade(socket, ApiError.badRequest('unable to upgrade: X-Stream-Protocol-Version is required'));
      return;
    }
    if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
      refuseUpgrade(
        socket,
        new ApiError(
          403,
          'Forbidden',
          `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`,
        ),
      );
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Connection: Upgrade\r\n' +
        'Upgrade: SPDY/3.1\r\n' +
        `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
    );
    if (head.length) socket.unshift(head);
    serve(new SpdySession(socket), connect, identity);
    return;
  }
  refuseUpgrade(socket, ApiError.badRequest('Upgrade request required'));
}

function headerValues(req: IncomingMessage, name: string): string[] {
  const raw = req.headers[name];
  const joined = Array.isArray(raw) ? raw.join(',') : raw ?? '';
  return joined
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

interface Identity {
  sandboxId: string;
  netnsPath: string;
}

function podIdentity(pod: PortForwardPod): Identity {
  const digest = createHash('sha256').update(pod.uid ?? pod.name).digest('hex');
  const u = createHash('sha256').update(`netns:${digest}`).digest('hex');
  return {
    sandboxId: pod.sandboxId ?? digest,
    netnsPath: pod.netnsPath ?? `/var/run/netns/cni-${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20, 32)}`,
  };
}

/** The text containerd + kubelet put on the error stream when the port cannot be reached. */
export function portForwardErrorText(port: number, err: unknown, identity: Identity): string {
  const code = (err as { code?: unknown } | null)?.code;
  const reason =
    code === 'ECONNREFUSED'
      ? `failed to connect to localhost:${port} inside namespace "${identity.sandboxId}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `
      : err instanceof Error
        ? err.message
        : String(err);
  return `error forwarding port ${port} to pod ${identity.sandboxId}, uid : failed to execute portforward in network namespace "${identity.netnsPath}": ${reason}`;
}

interface Pair {
  requestId: string;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

function serve(session: SpdySession, connect: PortConnect, identity: Identity): void {
  const pairs = new Map<string, Pair>();

  session.on('stream', (stream) => {
    const problem = invalidStream(stream.headers);
    if (problem) {
      // The kubelet rejects such a stream before replying to it.
      stream.reset(RstStatus.ProtocolError);
      return;
    }
    stream.accept();
    const streamType = stream.headers.streamtype!;
    const requestId = stream.headers.requestid || requestIdFromStreamId(streamType, stream.id);
    let pair = pairs.get(requestId);
    if (!pair) {
      const created: Pair = {
        requestId,
        timer: setTimeout(() => {
          pairs.delete(requestId);
          created.error?.end(`(conn=${identity.sandboxId}, request=${requestId}) timed out waiting for streams`);
          created.data?.end();
        }, STREAM_CREATION_TIMEOUT_MS),
      };
      pair = created;
      pairs.set(requestId, pair);
    }
    const slot = streamType === 'error' ? 'error' : 'data';
    if (pair[slot]) {
      const msg = `error processing stream for request ${requestId}: ${slot} stream already assigned`;
      if (pair.error) pair.error.write(msg);
      stream.reset(RstStatus.ProtocolError);
      return;
    }
    pair[slot] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void forward(pair.data, pair.error, Number(stream.headers.port), connect, identity);
    }
  });

  session.on('close', () => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    pairs.clear();
  });
}

function invalidStream(headers: Record<string, string>): string | undefined {
  const port = headers.port;
  if (!port) return '"port" header is required';
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const streamType = headers.streamtype;
  if (!streamType) return '"streamType" header is required';
  if (streamType !== 'error' && streamType !== 'data') return `invalid stream type "${streamType}"`;
  return undefined;
}

/** Very old clients send no requestid; the kubelet pairs streams by their ids instead. */
function requestIdFromStreamId(streamType: string, id: number): string {
  return String(streamType === 'error' ? id : id - 2);
}

async function forward(data: SpdyStream, error: SpdyStream, port: number, connect: PortConnect, identity: Identity): Promise<void> {
  let target: Duplex;
  try {
    target = await connect(port);
  } catch (err) {
    if (!error.destroyed) error.end(portForwardErrorText(port, err, identity));
    if (!data.destroyed) data.end();
    return;
  }
  if (data.destroyed) {
    // kubectl gave up on this connection while we were dialing.
    target.destroy();
    if (!error.destroyed && !error.writableEnded) error.end();
    return;
  }

  await new Promise<void>((resolve) => {
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const done = () => {
      if (settled) return;
      settled = true;
      if (grace) clearTimeout(grace);
      resolve();
    };
    // When one direction has finished, give the other a moment to drain, then stop.
    const oneDirectionDone = () => {
      if (grace || settled) return;
      grace = setTimeout(done, HALF_CLOSE_GRACE_MS);
    };
    let toTargetDone = false;
    let fromTargetDone = false;
    const check = () => {
      if (toTargetDone && fromTargetDone) done();
      else oneDirectionDone();
    };

    data.on('data', (chunk: Buffer) => {
      if (!target.destroyed && !target.write(chunk)) data.pause();
    });
    target.on('drain', () => data.resume());
    data.on('end', () => {
      toTargetDone = true;
      if (!target.destroyed) target.end();
      check();
    });

    target.on('data', (chunk: Buffer) => {
      if (data.destroyed || data.writableEnded) return;
      if (!data.write(chunk)) target.pause();
    });
    data.on('drain', () => target.resume());
    target.on('end', () => {
      fromTargetDone = true;
      check();
    });

    const abort = () => {
      toTargetDone = true;
      fromTargetDone = true;
      done();
    };
    data.on('close', () => {
      if (data.remoteReset) abort();
    });
    target.on('close', () => {
      fromTargetDone = true;
      check();
    });
    target.on('error', (err: Error) => {
      if (!error.destroyed && !error.writableEnded) error.write(portForwardErrorText(port, err, identity));
      abort();
    });
  });

  if (!target.destroyed) target.destroy();
  if (!data.destroyed && !data.writableEnded) data.end();
  if (!error.destroyed && !error.writableEnded) error.end();
}

/**
 * Ports of a WebSocket port-forward: `ports` as kube-apiserver takes them (PodPortForwardOptions),
 * or `port` as the kubelet does; repeated or comma-separated. Errors worded as the kubelet's.
 */
export function parsePortForwardPorts(url: string | URL): number[] {
  const q = typeof url === 'string' ? new URL(url, 'http://localhost').searchParams : url.searchParams;
  const values = [...q.getAll('ports'), ...q.getAll('port')];
  if (values.length === 0) throw ApiError.badRequest('query parameter "port" is required');
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') throw ApiError.badRequest('query parameter "port" cannot be empty');
    for (const part of value.split(',')) {
      const port = /^\d+$/.test(part) ? Number(part) : NaN;
      if (!Number.isInteger(port) || port > 65535) {
        throw ApiError.badRequest(`unable to parse "${value}" as a port: strconv.ParseUint: parsing "${part}": invalid syntax`);
      }
      if (port < 1) throw ApiError.badRequest(`port "${value}" must be > 0`);
      ports.push(port);
    }
  }
  return ports;
}

/**
 * Channel 2i carries port i's bytes both ways, channel 2i+1 its error text (server to client).
 * Each channel starts with the port number, two bytes little-endian, as the kubelet writes it.
 */
function serveChannels(ws: WebSocket, ports: number[], connect: PortConnect, identity: Identity): void {
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  const targets: Array<Duplex | undefined> = [];
  const pending: Buffer[][] = ports.map(() => []);

  ports.forEach((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
  });

  ws.on('message', (raw: RawData, isBinary: boolean) => {
    const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (!isBinary || data.length === 0) return;
    const channel = data[0]!;
    if (channel % 2 !== 0 || channel / 2 >= ports.length) return;
    const i = channel / 2;
    const target = targets[i];
    if (target) target.write(data.subarray(1));
    else pending[i]!.push(data.subarray(1));
  });

  const finished = ports.map(async (port, i) => {
    let target: Duplex;
    try {
      target = await connect(port);
    } catch (err) {
      send(2 * i + 1, Buffer.from(portForwardErrorText(port, err, identity)));
      return;
    }
    if (ws.readyState !== ws.OPEN) {
      target.destroy();
      return;
    }
    targets[i] = target;
    for (const chunk of pending[i]!.splice(0)) target.write(chunk);
    target.on('data', (chunk: Buffer) => send(2 * i, chunk));
    await new Promise<void>((resolve) => {
      target.once('close', () => resolve());
      target.once('end', () => resolve());
      target.once('error', (err: Error) => {
        send(2 * i + 1, Buffer.from(portForwardErrorText(port, err, identity)));
        resolve();
      });
      ws.once('close', () => resolve());
    });
    target.destroy();
  });

  ws.on('close', () => {
    for (const target of targets) target?.destroy();
  });
  void Promise.all(finished).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}
