/**
 * Forwarding an instructor's request to the replica holding the learner (server/workshops/forward.ts),
 * against a real HTTP peer standing for that replica: what the peer receives is only this replica's
 * instructor token and the forwarded mark (never the browser's cookies or other headers); its answer
 * comes back as it was, its 401 as "share the admin token"; a peer that is down, silent or idle is
 * answered plainly; an event stream passes through as it comes and ends with either side.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_NOT_SHARED, FORWARDED_BY, Forwarder, type ForwardTarget } from '../../server/workshops/forward.js';
import { jsonBody } from '../../server/http/json-body.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The replica the instructor talks to: forwards everything to `target`. */
async function front(target: ForwardTarget, forwarder: Forwarder): Promise<string> {
  const app = express();
  app.use(jsonBody({ limitBytes: 16 * 1024 }));
  app.post('/api/reset', (req, res) => void forwarder.json(target, 'POST', '/api/reset?x=1', req.body, res));
  app.get('/api/events', (_req, res) => forwarder.sse(target, '/api/events', res));
  return listen(app);
}

const forwarder = (o: Partial<ConstructorParameters<typeof Forwarder>[0]> = {}) => new Forwarder({ adminToken: 'instructor-token-0000', from: 'pod-a:8080', ...o });
const post = (base: string, body: unknown) =>
  fetch(`${base}/api/reset`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: 'pg_admin_8080=browser-cookie; pg_learner=someone', authorization: 'Bearer browser', 'x-extra': 'mine' }, body: JSON.stringify(body) });

describe('forwarding to the learner’s replica', () => {
  it('sends only the instructor token and the forwarded mark, and passes the answer back as it was', async () => {
    let seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string } | undefined;
    const peer = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, headers: req.headers, body };
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ phase: 'building', startedAt: 7 }));
      });
    });
    const base = await front({ name: 'pod-b:8080', url: peer }, forwarder());
    const res = await post(base, { trackId: 't', stepId: 's' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ phase: 'building', startedAt: 7 });
    expect(seen).toMatchObject({ method: 'POST', url: '/api/reset?x=1', body: '{"trackId":"t","stepId":"s"}' });
    expect(seen!.headers.authorization).toBe('Bearer instructor-token-0000');
    expect(seen!.headers[FORWARDED_BY]).toBe('pod-a:8080');
    expect(seen!.headers.cookie).toBeUndefined();
    expect(seen!.headers['x-extra']).toBeUndefined();
  });

  it('passes a refusal on in its own words, and says a 401 means the replicas do not share the admin token', async () => {
    const peer = await listen((req, res) => {
      const status = req.url === '/api/reset?x=1' && req.headers.authorization === 'Bearer right-token-00000' ? 409 : 401;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: status === 409 ? 'a reset is still running' : 'instructor access needed' }));
    });
    const refused = await post(await front({ name: 'pod-b:8080', url: peer }, forwarder({ adminToken: 'right-token-00000' })), {});
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({ error: 'a reset is still running' });
    const wrong = await post(await front({ name: 'pod-b:8080', url: peer }, forwarder()), {});
    expect(wrong.status).toBe(502);
    expect(await wrong.json()).toEqual({ error: `${ADMIN_TOKEN_NOT_SHARED} (pod-b:8080)` });
  });

  it('answers 503 for a replica that is not listening and 504 for one that never answers', async () => {
    const closed = await listen(() => {});
    const port = new URL(closed).port;
    const s = servers.pop()!;
    await new Promise((r) => s.close(r));
    const down = await post(await front({ name: 'pod-b:8080', url: `http://127.0.0.1:${port}` }, forwarder()), {});
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ error: `could not reach this learner’s playground pod (pod-b:8080 at http://127.0.0.1:${port}): ECONNREFUSED` });

    const silent = await listen(() => {});
    const hung = await post(await front({ name: 'pod-b:8080', url: silent }, forwarder({ requestTimeoutMs: 300 })), {});
    expect(hung.status).toBe(504);
    expect(await hung.json()).toEqual({ error: 'this learner’s playground pod (pod-b:8080) did not answer within 0.3 s' });
  });

  it('streams events through as they come, and ends the peer’s stream when the instructor goes', async () => {
    let write: (s: string) => void = () => {};
    let peerClosed!: Promise<void>;
    const peer = await listen((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.flushHeaders();
      write = (s) => res.write(s);
      peerClosed = new Promise((r) => req.socket.once('close', () => r()));
    });
    const base = await front({ name: 'pod-b:8080', url: peer }, forwarder());
    const controller = new AbortController();
    const res = await fetch(`${base}/api/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const next = async () => Buffer.from((await reader.read()).value!).toString('utf8');
    write('event: reset\ndata: {"phase":"building"}\n\n');
    expect(await next()).toBe('event: reset\ndata: {"phase":"building"}\n\n');
    write('event: reset\ndata: {"phase":"done"}\n\n');
    expect(await next()).toBe('event: reset\ndata: {"phase":"done"}\n\n');
    controller.abort();
    await peerClosed;
  });

  it('ends a stream the peer stopped feeding (not even its keep-alive) after the idle timeout', async () => {
    const peer = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    });
    const res = await fetch(`${await front({ name: 'pod-b:8080', url: peer }, forwarder({ idleTimeoutMs: 300 }))}/api/events`);
    expect(res.status).toBe(200);
    const started = Date.now();
    expect(await res.text()).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
