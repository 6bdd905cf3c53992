/**
 * The terminal's WebSocket endpoint: handshake and protocol (see protocol.ts). The HTTP
 * layer has already authenticated the request and checked its Origin; this turns the
 * upgraded socket into a session attachment and validates every message it receives.
 * Bad input (invalid JSON, unknown messages, binary frames) is answered with an `error`
 * message; a frame over `maxPayload` makes ws close that one socket with 1009. Neither
 * touches the session: its shell goes on and the next connection gets the replay.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MAX_CONTROL_MESSAGE_BYTES, decodeClientMessage, encodeMessage, type ServerMessage } from './protocol.js';
import type { ShellSpec, TerminalSessions } from './sessions.js';

/** Room for the largest valid message (64 Ki characters of input, JSON-escaped). */
export const DEFAULT_MAX_PAYLOAD = 4 * MAX_CONTROL_MESSAGE_BYTES;

export interface TerminalUpgradeOptions {
  sessions: TerminalSessions;
  maxPayload?: number;
  /**
   * A socket that answers no WebSocket ping for this long is dropped, so a vanished browser
   * (suspended laptop, dead proxy: no TCP close ever comes) detaches and its session can be
   * reaped when idle. Default 30 s.
   */
  heartbeatMs?: number;
}

export type TerminalUpgrade = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  sessionId: string,
  spec: () => Promise<ShellSpec>,
) => void;

export function createTerminalUpgrade(options: TerminalUpgradeOptions): TerminalUpgrade {
  const { sessions } = options;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    // Output is already compact and the hot path; compression would cost more than it saves on a LAN.
    perMessageDeflate: false,
    clientTracking: false,
  });

  return (req, socket, head, sessionId, spec) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Oversized or malformed frames surface here before ws closes the socket (1009/1002).
      ws.on('error', () => {});
      let alive = true;
      ws.on('pong', () => {
        alive = true;
      });
      ws.on('message', (data, isBinary) => {
        alive = true;
        onMessage(sessions, sessionId, ws, data, isBinary);
      });
      const heartbeat = setInterval(() => {
        if (!alive) {
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, heartbeatMs);
      heartbeat.unref();
      ws.once('close', () => clearInterval(heartbeat));
      void sessions.attach(sessionId, ws, spec);
    });
  };
}

function onMessage(sessions: TerminalSessions, sessionId: string, ws: WebSocket, data: RawData, isBinary: boolean): void {
  if (isBinary) {
    reply(ws, { t: 'error', message: 'binary frames are not accepted: send JSON text messages' });
    return;
  }
  const raw = Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data).toString('utf8');
  const decoded = decodeClientMessage(raw);
  if (!decoded.ok) {
    reply(ws, { t: 'error', message: decoded.error });
    return;
  }
  const message = decoded.message;
  switch (message.t) {
    case 'input':
      sessions.input(sessionId, ws, message.d);
      break;
    case 'resize':
      sessions.resize(sessionId, ws, message.cols, message.rows);
      break;
    case 'ack':
      sessions.ack(sessionId, ws, message.bytes);
      break;
    case 'ping':
      reply(ws, { t: 'pong', id: message.id });
      break;
  }
}

function reply(ws: WebSocket, message: ServerMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(encodeMessage(message));
}
