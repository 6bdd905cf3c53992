/**
 * mccutchen/go-httpbin v2.15.0 (Istio's samples/httpbin, port 8080), as httpbin/handlers.go and
 * helpers.go answer: indented JSON (`application/json; charset=utf-8`), header values as arrays
 * with the Host header added, origin = X-Forwarded-For's first entry or the peer's ip:port,
 * /status/{code} with its special cases, /delay/{d} up to 10 s, Go's mux 404/405, and one
 * slog line per request on stdout (the mirroring task reads them with kubectl logs).
 */
import { pathOnly, queryParams, reasonPhrase, respond } from '../http.js';
import type { ConnectionInfo, ContainerBehaviour, ContainerContext, HttpRequest, HttpResponse, ImageBehaviourEntry } from '../types.js';
import { goG, parseGoDuration } from '../shell/commands/fortio/go-format.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
/** httpbin's default -max-duration. */
const MAX_DURATION_NS = 10e9;

/** Go's textproto.CanonicalMIMEHeaderKey: `x-b3-traceid` → `X-B3-Traceid`. */
export const canonicalHeader = (name: string) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());

/** encoding/json with SetIndent("", "  ") and SetEscapeHTML(false), plus its trailing newline. */
const goJson = (v: unknown) => JSON.stringify(v, null, 2).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029') + '\n';

/** slog's TextHandler quoting. */
const slogValue = (s: string) => (s === '' || /[\s"=]|[^\x20-\x7e\u00a0-\uffff]/.test(s) ? JSON.stringify(s) : s);

interface Ctx {
  ctx: ContainerContext;
  req: HttpRequest;
  conn: ConnectionInfo;
  extra: Record<string, string>;
}

/** The ephemeral port a connection came from: the simulated network carries only the address. */
const peerPorts = new WeakMap<ContainerContext, number>();
function clientIP(c: Ctx): string {
  const h = c.req.headers;
  for (const k of ['fly-client-ip', 'cf-connecting-ip', 'fastly-client-ip', 'true-client-ip']) if (h[k]) return h[k];
  if (h['x-forwarded-for']) return h['x-forwarded-for'].split(',')[0].trim();
  let port = peerPorts.get(c.ctx);
  if (port === undefined) port = 32768 + Math.floor(c.ctx.random() * 28000);
  peerPorts.set(c.ctx, port >= 60999 ? 32768 : port + 1);
  return `${c.conn.remoteAddress}:${port}`;
}

function headersOf(req: HttpRequest): Record<string, string[]> {
  const all: Record<string, string> = { ...req.headers, host: req.headers['host'] ?? '' };
  const out: Record<string, string[]> = {};
  for (const name of Object.keys(all).sort((a, b) => (canonicalHeader(a) < canonicalHeader(b) ? -1 : 1))) out[canonicalHeader(name)] = [all[name]];
  return out;
}

function argsOf(req: HttpRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const k of [...new Set(queryParams(req.path).keys())].sort()) out[k] = queryParams(req.path).getAll(k);
  return out;
}

function urlOf(req: HttpRequest): string {
  const h = req.headers;
  const scheme = h['x-forwarded-proto'] || h['x-forwarded-protocol'] || (h['x-forwarded-ssl'] === 'on' ? 'https' : 'http');
  return `${scheme}://${h['host'] ?? ''}${req.path}`;
}

const json = (c: Ctx, status: number, body: unknown, headers: Record<string, string> = {}) => respond(c.ctx, status, goJson(body), { ...c.extra, ...headers, 'content-type': JSON_TYPE });

function writeError(c: Ctx, status: number, detail?: string): HttpResponse {
  return json(c, status, { status_code: status, error: reasonPhrase(status), ...(detail ? { detail } : {}) });
}

function noBody(c: Ctx) {
  return { args: argsOf(c.req), headers: headersOf(c.req), method: c.req.method, origin: clientIP(c), url: urlOf(c.req) };
}

function withBody(c: Ctx): HttpResponse {
  const base = noBody(c);
  const raw = c.req.body.toString('utf8');
  const type = (c.req.headers['content-type'] ?? '').split(';')[0].trim();
  let form: Record<string, string[]> = {};
  let parsed: unknown = null;
  if (raw && type === 'application/x-www-form-urlencoded') {
    const p = new URLSearchParams(raw);
    form = {};
    for (const k of [...new Set(p.keys())].sort()) form[k] = p.getAll(k);
  } else if (raw && type === 'application/json') {
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      return writeError(c, 400, `error parsing request body: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return json(c, 200, { ...base, data: raw, files: {}, form, json: parsed });
}

/** /status/{code}'s special cases (createSpecialCases, no prefix). */
function status(c: Ctx, code: number): HttpResponse {
  const redirect = { location: '/redirect/1' };
  const special: Record<number, { headers?: Record<string, string>; body?: string }> = {
    300: { headers: { location: '/image/jpeg' }, body: '<!doctype html>\n<head>\n<title>Multiple Choices</title>\n</head>\n<body>\n<ul>\n<li><a href="/image/jpeg">/image/jpeg</a></li>\n<li><a href="/image/png">/image/png</a></li>\n<li><a href="/image/svg">/image/svg</a></li>\n</body>\n</html>' },
    301: { headers: redirect },
    302: { headers: redirect },
    303: { headers: redirect },
    305: { headers: redirect },
    307: { headers: redirect },
    308: { headers: { location: '/image/jpeg' }, body: '<!doctype html>\n<head>\n<title>Permanent Redirect</title>\n</head>\n<body>Permanently redirected to <a href="/image/jpeg">/image/jpeg</a>\n</body>\n</html>' },
    401: { headers: { 'www-authenticate': 'Basic realm="Fake Realm"' } },
    402: { headers: { 'x-more-info': 'http://vimeo.com/22053820' }, body: 'Fuck you, pay me!' },
    406: {
      headers: { 'content-type': JSON_TYPE },
      body: '{\n  "message": "Client did not request a supported media type",\n  "accept": [\n    "image/webp",\n    "image/svg+xml",\n    "image/jpeg",\n    "image/png",\n    "image/"\n  ]\n}\n',
    },
    407: { headers: { 'proxy-authenticate': 'Basic realm="Fake Realm"' } },
    418: { headers: { 'x-more-info': 'http://tools.ietf.org/html/rfc2324' }, body: "I'm a teapot!" },
  };
  const s = special[code];
  return respond(c.ctx, code, s?.body ?? '', { ...c.extra, 'content-type': TEXT_TYPE, ...(s?.headers ?? {}) });
}

/** Weighted choice for /status/200:0.5,503:0.5 (parseWeightedChoices). */
function weighted(c: Ctx, raw: string): number | string {
  const choices: { code: number; weight: number }[] = [];
  for (const part of raw.split(',')) {
    const [codeStr, w] = part.split(':');
    const code = Number(codeStr);
    if (!/^\d+$/.test(codeStr)) return `strconv.Atoi: parsing "${codeStr}": invalid syntax`;
    const weight = w === undefined ? 1 : Number(w);
    if (Number.isNaN(weight)) return `strconv.ParseFloat: parsing "${w}": invalid syntax`;
    choices.push({ code, weight });
  }
  const total = choices.reduce((a, b) => a + b.weight, 0);
  let r = c.ctx.random() * total;
  for (const ch of choices) {
    if (r < ch.weight) return ch.code;
    r -= ch.weight;
  }
  return choices[choices.length - 1].code;
}

async function route(c: Ctx): Promise<HttpResponse> {
  const { req } = c;
  const path = pathOnly(req.path);
  const only = (allowed: string[]) => (allowed.includes(req.method) ? null : respond(c.ctx, 405, 'Method Not Allowed\n', { ...c.extra, allow: allowed.join(', '), 'content-type': TEXT_TYPE, 'x-content-type-options': 'nosniff' }));
  switch (path) {
    case '/':
      return only(['GET', 'HEAD']) ?? respond(c.ctx, 200, INDEX, { ...c.extra, 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' camo.githubusercontent.com", 'content-type': HTML_TYPE });
    case '/get':
      return only(['GET', 'HEAD']) ?? json(c, 200, noBody(c));
    case '/post':
    case '/put':
    case '/patch':
    case '/delete':
      return only([path.slice(1).toUpperCase()]) ?? withBody(c);
    case '/headers':
      return json(c, 200, { headers: headersOf(req) });
    case '/ip':
      return json(c, 200, { origin: clientIP(c) });
    case '/user-agent':
      return json(c, 200, { 'user-agent': req.headers['user-agent'] ?? '' });
    case '/hostname':
      return json(c, 200, { hostname: 'go-httpbin' });
    case '/uuid':
      return json(c, 200, { uuid: crypto.randomUUID() });
    case '/response-headers': {
      const q = queryParams(req.path);
      const args = argsOf(req);
      const headers: Record<string, string> = {};
      for (const [k, vs] of Object.entries(args)) headers[k.toLowerCase()] = vs.join(', ');
      return respond(c.ctx, 200, goJson(Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v]))), { ...c.extra, 'content-type': q.get('Content-Type') ?? q.get('content-type') ?? JSON_TYPE, ...headers });
    }
  }
  if (path === '/anything' || path.startsWith('/anything/')) return req.method === 'HEAD' ? json(c, 200, noBody(c)) : withBody(c);
  const st = /^\/status\/([^/]+)$/.exec(path);
  if (st) {
    const raw = decodeURIComponent(st[1]);
    if (!raw.includes(',')) {
      if (!/^[-+]?\d+$/.test(raw)) return writeError(c, 400, `invalid status code: "${raw}": strconv.Atoi: parsing "${raw}": invalid syntax`);
      const code = Number(raw);
      if (code < 100 || code > 599) return writeError(c, 400, `invalid status code: ${code} not in range [100, 599]`);
      return status(c, code);
    }
    const code = weighted(c, raw);
    return typeof code === 'string' ? writeError(c, 400, code) : status(c, code);
  }
  const delay = /^\/delay\/([^/]+)$/.exec(path);
  if (delay) {
    const raw = decodeURIComponent(delay[1]);
    let ns = parseGoDuration(raw);
    if (ns === null) {
      const secs = Number(raw);
      if (raw.trim() === '' || Number.isNaN(secs)) return writeError(c, 400, `invalid duration: strconv.ParseFloat: parsing "${raw}": invalid syntax`);
      ns = Math.trunc(secs * 1000) * 1e6;
    }
    if (ns > MAX_DURATION_NS) return writeError(c, 400, `invalid duration: duration ${goDurationShort(ns)} longer than 10s`);
    if (ns < 0) return writeError(c, 400, `invalid duration: duration ${goDurationShort(ns)} shorter than 0s`);
    await new Promise((r) => setTimeout(r, ns / 1e6));
    return withBody({ ...c, extra: { ...c.extra, 'server-timing': `initial_delay;dur=${goG(ns / 1e6)};desc="initial delay"` } });
  }
  return respond(c.ctx, 404, '404 page not found\n', { ...c.extra, 'content-type': TEXT_TYPE, 'x-content-type-options': 'nosniff' });
}

function goDurationShort(ns: number): string {
  const s = ns / 1e9;
  return Number.isInteger(s) ? `${s}s` : `${goG(s)}s`;
}

const INDEX = '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>go-httpbin</title>\n</head>\n<body>\n<h1>go-httpbin</h1>\n<p>A golang port of the venerable <a href="https://httpbin.org/">httpbin.org</a> HTTP request &amp; response testing service.</p>\n</body>\n</html>\n';

/** net/http writes the handler's headers sorted by name, then Date and Content-Length. */
function goHeaderOrder(res: HttpResponse): HttpResponse {
  const { date, 'content-length': length, ...rest } = res.headers;
  const headers: Record<string, string> = {};
  for (const k of Object.keys(rest).sort((a, b) => (canonicalHeader(a) < canonicalHeader(b) ? -1 : 1))) headers[k] = rest[k];
  if (date !== undefined) headers.date = date;
  if (length !== undefined) headers['content-length'] = length;
  return { ...res, headers };
}

function slogTime(d: Date): string {
  return d.toISOString();
}

export function goHttpbinBehaviour(): ContainerBehaviour {
  return {
    ports: [8080],
    readyAfterMs: 100,
    userland: 'distroless',
    start(ctx) {
      ctx.log(`time=${slogTime(ctx.now())} level=INFO msg="go-httpbin listening on http://0.0.0.0:8080"`);
    },
    async serve(req, ctx, conn) {
      const t0 = performance.now();
      // preflight middleware: CORS headers on every response.
      const extra: Record<string, string> = { 'access-control-allow-origin': req.headers['origin'] || '*', 'access-control-allow-credentials': 'true' };
      const c: Ctx = { ctx, req, conn, extra };
      let res = goHeaderOrder(await route(c));
      if (req.method === 'HEAD') res = { ...res, body: Buffer.alloc(0) };
      const ms = performance.now() - t0;
      const level = res.status >= 500 ? 'ERROR' : res.status >= 400 ? 'WARN' : 'INFO';
      ctx.log(
        `time=${slogTime(ctx.now())} level=${level} msg=${slogValue(`${res.status} ${req.method} ${req.path} ${ms.toFixed(1)}ms`)} status=${res.status} method=${req.method} uri=${slogValue(req.path)} ` +
          `size_bytes=${res.body.length} duration_ms=${goG(ms)} user_agent=${slogValue(req.headers['user-agent'] ?? '')} client_ip=${slogValue(clientIP({ ...c }))}`,
      );
      return res;
    },
  };
}

export const goHttpbin: ImageBehaviourEntry = {
  name: 'go-httpbin',
  matches: (img) => img.repository === 'mccutchen/go-httpbin',
  create: () => goHttpbinBehaviour(),
};
