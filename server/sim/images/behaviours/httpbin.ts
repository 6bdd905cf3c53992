/**
 * httpbin, which Istio's tasks use to show what a request looked like after the mesh touched it
 * (/headers shows the headers a sidecar added). Two flavours: mccutchen/go-httpbin (Istio's
 * current samples, port 8080, header values as arrays) and the Python httpbin (kong/httpbin,
 * kennethreitz/httpbin, port 80, header values as strings).
 */
import { pathOnly, queryParams, respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ConnectionInfo, ContainerBehaviour, ContainerContext, HttpRequest } from '../types.js';

const titleCase = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());

function headerMap(req: HttpRequest, goStyle: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of Object.keys(req.headers).sort()) out[titleCase(name)] = goStyle ? [req.headers[name]] : req.headers[name];
  return out;
}

function argsOf(req: HttpRequest, goStyle: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of queryParams(req.path)) {
    if (goStyle) ((out[k] ??= []) as string[]).push(v);
    else out[k] = v;
  }
  return out;
}

export function httpbinBehaviour(goStyle: boolean): ContainerBehaviour {
  const port = goStyle ? 8080 : 80;
  const json = (ctx: ContainerContext, status: number, body: unknown) =>
    respond(ctx, status, JSON.stringify(body, null, 2) + '\n', { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true' });
  const requestInfo = (req: HttpRequest, conn: ConnectionInfo) => ({
    args: argsOf(req, goStyle),
    headers: headerMap(req, goStyle),
    method: req.method,
    origin: conn.remoteAddress,
    url: `http://${req.headers['host'] ?? 'httpbin'}${req.path}`,
  });
  return {
    ports: [port],
    readyAfterMs: 100,
    userland: goStyle ? 'distroless' : 'debian',
    start(ctx) {
      if (goStyle) ctx.log(`time="${ctx.now().toISOString()}" msg="go-httpbin listening on http://0.0.0.0:${port}"`);
      else ctx.log(`[${ctx.now().toISOString()}] [1] [INFO] Listening at: http://0.0.0.0:${port} (1)`);
    },
    async serve(req, ctx, conn) {
      const path = pathOnly(req.path);
      const status = /^\/status\/(\d{3})$/.exec(path);
      const delay = /^\/delay\/(\d+(?:\.\d+)?)$/.exec(path);
      if (path === '/headers') return json(ctx, 200, { headers: headerMap(req, goStyle) });
      if (path === '/ip') return json(ctx, 200, { origin: conn.remoteAddress });
      if (path === '/user-agent') return json(ctx, 200, { 'user-agent': req.headers['user-agent'] ?? '' });
      if (path === '/get' && (req.method === 'GET' || req.method === 'HEAD')) return json(ctx, 200, requestInfo(req, conn));
      if (['/post', '/put', '/patch', '/delete'].includes(path)) {
        if (req.method !== path.slice(1).toUpperCase()) return respond(ctx, 405, '', { allow: path.slice(1).toUpperCase() });
        const body = req.body.toString('utf8');
        const form = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(body)) : {};
        return json(ctx, 200, { ...requestInfo(req, conn), data: Object.keys(form).length ? '' : body, form });
      }
      if (path === '/anything' || path.startsWith('/anything/')) return json(ctx, 200, { ...requestInfo(req, conn), data: req.body.toString('utf8') });
      if (status) return respond(ctx, Number(status[1]), '', { 'content-type': 'text/plain; charset=utf-8' });
      if (delay) {
        const seconds = Math.min(Number(delay[1]), 10);
        await new Promise((r) => setTimeout(r, seconds * 1000));
        return json(ctx, 200, requestInfo(req, conn));
      }
      if (path === '/') return respond(ctx, 200, '<!DOCTYPE html>\n<html>\n<head><title>httpbin</title></head>\n<body>\n<h1>httpbin</h1>\n<p>A simple HTTP Request &amp; Response Service.</p>\n</body>\n</html>\n', { 'content-type': 'text/html; charset=utf-8' });
      return respond(ctx, 404, goStyle ? '{"status_code":404,"error":"Not Found"}\n' : '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.  If you entered the URL manually please check your spelling and try again.</p>\n', {
        'content-type': goStyle ? 'application/json; charset=utf-8' : 'text/html',
      });
    },
  };
}

export const pythonHttpbin: ImageBehaviourEntry = {
  name: 'httpbin',
  matches: (img) => img.repository === 'kong/httpbin' || img.repository === 'kennethreitz/httpbin' || img.repository === 'citizenstig/httpbin',
  create: () => httpbinBehaviour(false),
};
