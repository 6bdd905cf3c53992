/**
 * Real sockets in front of simulated workloads: an HTTP/1.1 server (Node's parser, keep-alive)
 * whose requests become HttpRequests for a handler, and whose answers are written back as a
 * real server writes them. NodePort listeners and port-forward connections use it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpRequest, HttpResponse } from '../images/types.js';

const MAX_BODY = 16 * 1024 * 1024;

export type BridgeHandler = (req: HttpRequest, socket: Socket) => Promise<HttpResponse>;

/** `content-type` → `Content-Type`, as most servers spell header names on the wire. */
export function canonicalHeaderName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

export function toHttpRequest(req: IncomingMessage, body: Buffer): HttpRequest {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!.toLowerCase();
    const v = req.rawHeaders[i + 1]!;
    headers[k] = k in headers ? `${headers[k]}${k === 'cookie' ? '; ' : ', '}${v}` : v;
  }
  return { method: req.method ?? 'GET', path: req.url ?? '/', headers, body };
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new Error('request body too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes a simulated response on a real one: status, headers (cookies one per line), body. */
export function writeHttpResponse(res: ServerResponse, answer: HttpResponse, method: string, skip: ReadonlySet<string> = new Set()): void {
  res.sendDate = false;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(answer.headers)) {
    if (skip.has(k)) continue;
    headers[answer.headerCase === 'lower' ? k : canonicalHeaderName(k)] = k === 'set-cookie' ? v.split('\n') : v;
  }
  if (!('content-length' in answer.headers) && !('transfer-encoding' in answer.headers)) headers[answer.headerCase === 'lower' ? 'content-length' : 'Content-Length'] = String(answer.body.length);
  res.writeHead(answer.status, headers);
  res.end(method === 'HEAD' ? undefined : answer.body);
}

/**
 * An HTTP server whose requests go to `handler`. A handler failure drops the connection with a
 * reset, as a peer that refused or vanished does (the socket was already accepted).
 */
export function createBridgeServer(handler: BridgeHandler): http.Server {
  const server = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    void (async () => {
      try {
        const body = await readBody(req);
        const answer = await handler(toHttpRequest(req, body), req.socket);
        writeHttpResponse(res, answer, req.method ?? 'GET');
      } catch {
        const s = req.socket;
        if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
        else s.destroy();
      }
    })();
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  return server;
}
