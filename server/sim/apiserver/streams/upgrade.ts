/**
 * The HTTP side of the streaming subresources (exec, attach, portforward): deciding which
 * upgrade a client asked for, answering a refused upgrade with a kube-style `Status`, and
 * completing a WebSocket handshake with a negotiated subprotocol.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, type Status } from '../../errors.js';

export type UpgradeKind = 'websocket' | 'spdy' | 'none';

/** Which streaming transport the request asks for, from its `Upgrade` header. */
export function upgradeKind(req: IncomingMessage): UpgradeKind {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') return 'websocket';
  if (upgrade.startsWith('spdy/')) return 'spdy';
  return 'none';
}

/** Subprotocols the client offered, in its order of preference (first is most preferred). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  const joined = Array.isArray(raw) ? raw.join(',') : raw ?? '';
  return joined
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

const reasonPhrases: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

/**
 * Answers an upgrade request that will not be upgraded with a JSON `Status`, then closes the
 * socket. Clients decode this body: kubectl prints its message (e.g. `error: unable to upgrade
 * connection: ...` on the SPDY path).
 */
export function refuseUpgrade(socket: Duplex, error: ApiError | Status): void {
  const status = error instanceof ApiError ? error.toStatus() : error;
  const body = Buffer.from(JSON.stringify(status));
  const head =
    `HTTP/1.1 ${status.code} ${reasonPhrases[status.code] ?? 'Error'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${body.length}\r\n` +
    'Cache-Control: no-cache, private\r\n' +
    'Connection: close\r\n\r\n';
  if (socket.destroyed) return;
  socket.end(Buffer.concat([Buffer.from(head), body]));
}

/**
 * The first protocol the client offered that we support, as wsstream's handshake picks it
 * (client preference order), or an ApiError worded like kube-apiserver's.
 */
export function negotiate(offered: string[], supported: readonly string[]): string | ApiError {
  for (const protocol of offered) if (supported.includes(protocol)) return protocol;
  return ApiError.badRequest(
    `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`,
  );
}

// One server shared by every handler: with noServer it owns no socket, it only performs handshakes.
const handshaker = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  // The protocol is negotiated before the handshake; the request carries the choice.
  handleProtocols: (_offered, request) => (request as IncomingMessage & { negotiatedProtocol?: string }).negotiatedProtocol ?? false,
});

/**
 * Completes the WebSocket handshake, answering with `protocol` as the chosen subprotocol.
 * Resolves null when the handshake itself is malformed (ws has already answered 400).
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): Promise<WebSocket | null> {
  (req as IncomingMessage & { negotiatedProtocol?: string }).negotiatedProtocol = protocol;
  return new Promise((resolve) => {
    const onClose = () => resolve(null);
    socket.once('close', onClose);
    handshaker.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', onClose);
      resolve(ws);
    });
  });
}
