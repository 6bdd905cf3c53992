/**
 * An instructor's request about a learner held by another replica, re-issued to that replica:
 * JSON (the resets), a server-sent event stream (a reset's progress) and the live view's WebSocket,
 * streamed through. The target URL comes only from the store (what replicas registered there),
 * and the request carries only this replica's instructor token and a mark saying it was forwarded
 * (the receiver never forwards a marked request again): never the browser's cookies or headers.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Response } from 'express';
import { WebSocket, type WebSocketServer } from 'ws';

/** Set on forwarded requests, naming the replica that forwarded it. */
export const FORWARDED_BY = 'x-playground-forwarded-by';

/** What the instructor is told when the other replica refuses this one's instructor token. */
export const ADMIN_TOKEN_NOT_SHARED =
  'the learner’s playground pod refused this pod’s instructor token: the replicas must share the admin token (--admin-token / PLAYGROUND_ADMIN_TOKEN, the playground-secrets Secret in deploy/)';

/** A forwarded request that reached a replica not holding the learner either (409), instead of going round. */
export const FORWARDED_NOT_HERE = 'this request was forwarded here by another playground pod, but this learner is not on this pod either: it is not forwarded again';

export interface ForwardTarget {
  /** The replica's name (for messages). */
  name: string;
  /** Its base URL as registered in the store. */
  url: string;
}

export interface ForwarderOptions {
  /** This replica's instructor token: every replica of one deployment shares it. */
  adminToken: string;
  /** This replica's name, sent in the forwarded mark. */
  from: string;
  /** For a JSON request's answer (a cluster reset takes seconds). Default 60 s. */
  requestTimeoutMs?: number;
  /** For the first byte of a stream's answer, and a WebSocket's handshake. Default 10 s. */
  connectTimeoutMs?: number;
  /** A stream with nothing (not even its 25 s keep-alive) for this long is ended. Default 60 s. */
  idleTimeoutMs?: number;
}

class ForwardTimeout extends Error {}

/** A refusal as status and message, from what went wrong reaching the target. */
function unreachable(target: ForwardTarget, err: Error, timeoutMs: number): { status: number; message: string } {
  if (err instanceof ForwardTimeout) return { status: 504, message: `this learner’s playground pod (${target.name}) did not answer within ${timeoutMs / 1000} s` };
  const code = (err as NodeJS.ErrnoException).code;
  return { status: 503, message: `could not reach this learner’s playground pod (${target.name} at ${target.url}): ${code ?? err.message}` };
}

/** The target's refusal, passed on; its 401 means the replicas do not share the token, which is said plainly. */
function refusal(target: ForwardTarget, status: number, body: string): { status: number; message: string } {
  if (status === 401) return { status: 502, message: `${ADMIN_TOKEN_NOT_SHARED} (${target.name})` };
  let message = body.trim();
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // a plain-text answer (the WebSocket handshake's refusals)
  }
  return { status, message: message || `${status} ${http.STATUS_CODES[status] ?? ''}`.trim() };
}

const MAX_ANSWER_BYTES = 1024 * 1024;

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ANSWER_BYTES) return void res.destroy(new Error('answer too large'));
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

export class Forwarder {
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;

  constructor(private readonly options: ForwarderOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  }

  /** Headers of our own, none of the instructor's browser's. */
  private headers(extra: Record<string, string | number> = {}): Record<string, string | number> {
    return { authorization: `Bearer ${this.options.adminToken}`, [FORWARDED_BY]: this.options.from, ...extra };
  }

  private request(target: ForwardTarget, method: string, path: string, headers: Record<string, string | number>): http.ClientRequest {
    const url = new URL(path, target.url);
    return (url.protocol === 'https:' ? https : http).request(url, { method, headers });
  }

  /** A JSON request (the resets): the target's answer, status and body, becomes this one's. */
  json(target: ForwardTarget, method: 'POST', path: string, body: unknown, res: Response): Promise<void> {
    const payload = Buffer.from(JSON.stringify(body ?? {}));
    return new Promise<void>((resolve) => {
      const up = this.request(target, method, path, this.headers({ accept: 'application/json', 'content-type': 'application/json', 'content-length': payload.length }));
      const timer = setTimeout(() => up.destroy(new ForwardTimeout()), this.requestTimeoutMs);
      const answer = (status: number, json: unknown) => {
        clearTimeout(timer);
        if (!res.headersSent) res.status(status).json(json);
        resolve();
      };
      up.on('error', (err) => {
        const r = unreachable(target, err, this.requestTimeoutMs);
        answer(r.status, { error: r.message });
      });
      up.on('response', (r) => {
        readBody(r).then(
          (text) => {
            const status = r.statusCode ?? 502;
            if (status >= 400) {
              const refused = refusal(target, status, text);
              return answer(refused.status, { error: refused.message });
            }
            try {
              answer(status, text ? JSON.parse(text) : {});
            } catch {
              answer(502, { error: `this learner’s playground pod (${target.name}) answered with something that is not JSON` });
            }
          },
          (err: Error) => up.destroy(err),
        );
      });
      res.on('close', () => up.destroy());
      up.end(payload);
    });
  }

  /** A server-sent event stream, passed through as it comes; ended when either side goes. */
  sse(target: ForwardTarget, path: string, res: Response): void {
    const up = this.request(target, 'GET', path, this.headers({ accept: 'text/event-stream' }));
    const timer = setTimeout(() => up.destroy(new ForwardTimeout()), this.connectTimeoutMs);
    const fail = (status: number, message: string) => {
      if (!res.headersSent) res.status(status).json({ error: message });
      else res.end();
    };
    up.on('error', (err) => {
      clearTimeout(timer);
      const r = unreachable(target, err, this.connectTimeoutMs);
      fail(r.status, r.message);
    });
    up.on('response', (r) => {
      clearTimeout(timer);
      const status = r.statusCode ?? 502;
      if (status !== 200) {
        void readBody(r).then(
          (text) => {
            const refused = refusal(target, status, text);
            fail(refused.status, refused.message);
          },
          () => fail(502, `this learner’s playground pod (${target.name}) broke off its answer`),
        );
        return;
      }
      // The target's own keep-alive comes every 25 s: silence past the idle timeout is a dead stream.
      up.setTimeout(this.idleTimeoutMs, () => up.destroy(new ForwardTimeout()));
      res.writeHead(200, { 'content-type': r.headers['content-type'] ?? 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.flushHeaders();
      r.pipe(res);
      r.on('error', () => res.end());
    });
    res.on('close', () => up.destroy());
    up.end();
  }

  /**
   * The live view's WebSocket: opened to the target first, and only then accepted here (a refusal
   * is passed on as the handshake's answer). Read-only both ways: the viewer's frames go nowhere.
   */
  watch(target: ForwardTarget, path: string, req: http.IncomingMessage, socket: Duplex, head: Buffer, server: WebSocketServer, refuse: (status: number, message: string) => void): void {
    const url = new URL(path, target.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const upstream = new WebSocket(url, { headers: this.headers() as Record<string, string>, handshakeTimeout: this.connectTimeoutMs, perMessageDeflate: false });
    let settled = false;
    const gone = () => {
      if (!settled) upstream.terminate();
    };
    socket.once('close', gone);
    upstream.on('unexpected-response', (_req, r) => {
      settled = true;
      void readBody(r).then(
        (text) => {
          const refused = refusal(target, r.statusCode ?? 502, text);
          refuse(refused.status, refused.message);
        },
        () => refuse(502, `this learner’s playground pod (${target.name}) broke off its answer`),
      );
      // Its answer read, the handshake that will never complete is dropped.
      r.once('end', () => upstream.terminate());
    });
    upstream.on('error', (err) => {
      if (settled) return;
      settled = true;
      // The ws client reports its handshake timeout as a plain error.
      const timedOut = /timed out/i.test(err.message);
      const r = unreachable(target, timedOut ? new ForwardTimeout() : err, this.connectTimeoutMs);
      refuse(r.status, r.message);
    });
    // Frames that come before the viewer's side is accepted wait for it (the screen comes first).
    let view: WebSocket | undefined;
    const pending: { data: WebSocket.RawData; isBinary: boolean }[] = [];
    const pass = (data: WebSocket.RawData, isBinary: boolean) => {
      if (!view) return void pending.push({ data, isBinary });
      if (view.readyState !== WebSocket.OPEN) return;
      // A viewer that cannot keep up is dropped (it can reopen), as on the learner's own replica.
      if (view.bufferedAmount > 8 * 1024 * 1024) return void view.close(1013, 'viewer too slow');
      view.send(data, { binary: isBinary });
    };
    upstream.on('message', pass);
    upstream.on('close', (code, reason) => {
      if (view?.readyState !== WebSocket.OPEN) return;
      const passable = (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
      view.close(passable ? code : 1011, passable ? reason.toString() : 'the learner’s playground pod closed the view');
    });
    upstream.once('open', () => {
      settled = true;
      socket.off('close', gone);
      server.handleUpgrade(req, socket, head, (ws) => {
        view = ws;
        ws.on('error', () => {});
        // Read-only: nothing the viewer sends goes anywhere.
        ws.on('message', () => {});
        ws.once('close', () => upstream.close());
        for (const p of pending.splice(0)) pass(p.data, p.isBinary);
        if (upstream.readyState !== WebSocket.OPEN) ws.close(1011, 'the learner’s playground pod closed the view');
      });
    });
  }
}
