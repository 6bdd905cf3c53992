/**
 * Bookinfo productpage (Python Flask under gunicorn): the page, sign in/out with Flask's
 * signed `session` cookie, the JSON API, and calls to details/reviews/ratings carrying the
 * headers the real one forwards (end-user when signed in, tracing, cookie, user-agent).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isoSeconds, parseCookieHeader, pathOnly, queryParams, respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ContainerBehaviour, ContainerContext, HttpRequest, HttpResponse } from '../types.js';
import { B3, PROPAGATED, bookinfoImage, callPeer, hex, parseJson, peer, pyJson } from './bookinfo-common.js';
import { DEBIAN_OS_RELEASE } from './os.js';
import { FLASK_404, FLASK_405, flaskRedirect, renderIndexPage, renderProductPage, type Product } from './bookinfo-productpage-page.js';

export const PRODUCTS: Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

export const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
export const RATINGS_UNAVAILABLE = 'Sorry, product ratings are currently unavailable for this book.';

interface State {
  /** Flask's app.secret_key is os.urandom(24) per process: sessions do not survive a restart or cross replicas. */
  secret: Buffer;
  counters: Map<string, number>;
}
const states = new WeakMap<ContainerContext, State>();
function stateOf(ctx: ContainerContext): State {
  let s = states.get(ctx);
  if (!s) {
    s = { secret: randomBytes(24), counters: new Map() };
    states.set(ctx, s);
  }
  return s;
}

const b64url = (b: Buffer) => b.toString('base64url');

/** A Flask-shaped session cookie value: base64(payload).base64(timestamp).signature. */
function signSession(ctx: ContainerContext, data: Record<string, string>): string {
  const payload = b64url(Buffer.from(JSON.stringify(data)));
  const ts = Buffer.alloc(4);
  ts.writeUInt32BE(Math.floor(ctx.now().getTime() / 1000));
  const signed = `${payload}.${b64url(ts)}`;
  return `${signed}.${b64url(createHmac('sha1', stateOf(ctx).secret).update(signed).digest())}`;
}

function readSession(ctx: ContainerContext, req: HttpRequest): Record<string, string> {
  const raw = parseCookieHeader(req.headers['cookie']).get('session');
  if (!raw) return {};
  const parts = raw.split('.');
  if (parts.length !== 3) return {};
  const expected = b64url(createHmac('sha1', stateOf(ctx).secret).update(`${parts[0]}.${parts[1]}`).digest());
  if (expected !== parts[2]) return {};
  try {
    return JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** productpage.getForwardHeaders: a child B3 span, end-user from the session, then the listed incoming headers. */
function forwardHeaders(ctx: ContainerContext, req: HttpRequest, user: string): Record<string, string> {
  const h: Record<string, string> = {};
  const incoming = req.headers;
  h['x-b3-traceid'] = incoming['x-b3-traceid'] ?? hex(ctx, 32);
  h['x-b3-spanid'] = hex(ctx, 16);
  if (incoming['x-b3-spanid']) h['x-b3-parentspanid'] = incoming['x-b3-spanid'];
  h['x-b3-sampled'] = incoming['x-b3-sampled'] ?? '1';
  for (const k of B3.slice(4)) if (incoming[k] !== undefined) h[k] = incoming[k];
  if (user) h['end-user'] = user;
  for (const k of PROPAGATED) if (incoming[k] !== undefined) h[k] = incoming[k];
  return h;
}

interface Fetched {
  status: number;
  body: Record<string, unknown>;
}

async function fetchFromPeer(
  ctx: ContainerContext,
  name: 'details' | 'reviews' | 'ratings',
  path: string,
  headers: Record<string, string>,
  attempts: number,
  unavailable: string,
): Promise<Fetched> {
  const target = peer(ctx, name);
  let res: HttpResponse | null = null;
  for (let i = 0; i < attempts; i++) {
    ctx.log(`DEBUG:urllib3.connectionpool:Starting new HTTP connection (1): ${target.host}:${target.port}`);
    res = await callPeer(ctx, target, path, headers, 3000);
    if (res) ctx.log(`DEBUG:urllib3.connectionpool:http://${target.host}:${target.port} "GET ${path} HTTP/1.1" ${res.status} ${res.headers['content-length'] ?? res.body.length}`);
    if (res && res.status === 200) break;
  }
  const counters = stateOf(ctx).counters;
  const status = res && res.status ? res.status : 500;
  const key = `${name}|${status}`;
  counters.set(key, (counters.get(key) ?? 0) + 1);
  if (res && res.status === 200) {
    const parsed = parseJson(res.body);
    if (parsed && typeof parsed === 'object') return { status: 200, body: parsed as Record<string, unknown> };
    return { status: 500, body: { error: unavailable } };
  }
  return { status, body: { error: unavailable } };
}

function metrics(ctx: ContainerContext): string {
  let out = '# HELP request_result_total Backend request count by result\n# TYPE request_result_total counter\n';
  for (const [k, v] of stateOf(ctx).counters) {
    const [app, code] = k.split('|');
    out += `request_result_total{destination_app="${app}",response_code="${code}"} ${v}.0\n`;
  }
  return out;
}

export function productpageBehaviour(): ContainerBehaviour {
  const html = { 'content-type': 'text/html; charset=utf-8', server: 'gunicorn', connection: 'keep-alive' };
  const json = { 'content-type': 'application/json', server: 'gunicorn', connection: 'keep-alive' };
  return {
    ports: [9080],
    readyAfterMs: 1000,
    files: { '/etc/os-release': DEBIAN_OS_RELEASE, '/opt/microservices/productpage.py': '# productpage service (simulated)\n' },
    // src/productpage/Dockerfile: WORKDIR /opt/microservices, ENV FLOOD_FACTOR. Non-root like details (USER 1000) is assumed.
    user: '1000',
    workingDir: '/opt/microservices',
    env: { FLOOD_FACTOR: '0' },
    unsupportedPrograms: ['python', 'python3', 'pip', 'pip3', 'gunicorn'],
    start(ctx) {
      const t = `${isoSeconds(ctx.now())} +0000`;
      ctx.log(`[${t}] [1] [INFO] Starting gunicorn 23.0.0`);
      ctx.log(`[${t}] [1] [INFO] Listening at: http://[::]:9080 (1)`);
      ctx.log(`[${t}] [1] [INFO] Using worker: sync`);
      ctx.log(`[${t}] [7] [INFO] Booting worker with pid: 7`);
    },
    async serve(req, ctx) {
      const path = pathOnly(req.path);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const session = readSession(ctx, req);
      const user = session.user ?? '';
      const headOnly = (r: HttpResponse) => (req.method === 'HEAD' ? { ...r, body: Buffer.alloc(0) } : r);
      const notAllowed = (allow: string) => respond(ctx, 405, FLASK_405, { ...html, allow });

      if (path === '/login') {
        if (method !== 'POST') return notAllowed('OPTIONS, POST');
        const form = new URLSearchParams(req.body.toString('utf8'));
        const username = form.get('username') ?? queryParams(req.path).get('username');
        // Flask: redirect(request.referrer); werkzeug renders a missing referrer as the string "None".
        const location = req.headers['referer'] ?? 'None';
        const cookie =
          username === null
            ? 'session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/'
            : `session=${signSession(ctx, { ...session, user: username })}; HttpOnly; Path=/`;
        return respond(ctx, 302, flaskRedirect(location), { ...html, location, vary: 'Cookie', 'set-cookie': cookie });
      }
      if (path === '/logout') {
        if (method !== 'GET') return notAllowed('GET, HEAD, OPTIONS');
        const location = req.headers['referer'] ?? 'None';
        const rest = { ...session };
        delete rest.user;
        const cookie = Object.keys(rest).length
          ? `session=${signSession(ctx, rest)}; HttpOnly; Path=/`
          : 'session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/';
        return headOnly(respond(ctx, 302, flaskRedirect(location), { ...html, location, vary: 'Cookie', 'set-cookie': cookie }));
      }
      if (method !== 'GET') {
        const known = path === '/' || path === '/index.html' || path === '/health' || path === '/productpage' || path === '/metrics' || path.startsWith('/api/v1/products');
        return known ? notAllowed('GET, HEAD, OPTIONS') : respond(ctx, 404, FLASK_404, html);
      }
      if (path === '/' || path === '/index.html') return headOnly(respond(ctx, 200, renderIndexPage(), html));
      if (path === '/health') return headOnly(respond(ctx, 200, 'Product page is healthy', html));
      if (path === '/metrics') return headOnly(respond(ctx, 200, metrics(ctx), { ...html, 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
      if (path === '/productpage') {
        const headers = forwardHeaders(ctx, req, user);
        const details = await fetchFromPeer(ctx, 'details', '/details/0', headers, 1, DETAILS_UNAVAILABLE);
        // productpage tries reviews twice (the "bug introduced explicitly" for the fault-injection task).
        const reviews = await fetchFromPeer(ctx, 'reviews', '/reviews/0', headers, 2, REVIEWS_UNAVAILABLE);
        const page = renderProductPage({
          user,
          product: PRODUCTS[0],
          detailsOk: details.status === 200,
          details: details.body,
          reviewsOk: reviews.status === 200,
          reviews: reviews.body as never,
        });
        return headOnly(respond(ctx, 200, page, { ...html, vary: 'Cookie' }));
      }
      if (path === '/api/v1/products') return headOnly(respond(ctx, 200, pyJson(PRODUCTS), json));
      const api = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/.exec(path);
      if (api) {
        const id = api[1];
        const headers = forwardHeaders(ctx, req, user);
        const r =
          api[2] === 'reviews'
            ? await fetchFromPeer(ctx, 'reviews', `/reviews/${id}`, headers, 2, REVIEWS_UNAVAILABLE)
            : api[2] === 'ratings'
              ? await fetchFromPeer(ctx, 'ratings', `/ratings/${id}`, headers, 1, RATINGS_UNAVAILABLE)
              : await fetchFromPeer(ctx, 'details', `/details/${id}`, headers, 1, DETAILS_UNAVAILABLE);
        return headOnly(respond(ctx, r.status, pyJson(r.body), json));
      }
      return respond(ctx, 404, FLASK_404, html);
    },
  };
}

export const bookinfoProductpage: ImageBehaviourEntry = {
  name: 'bookinfo-productpage',
  matches: (img) => bookinfoImage(img)?.service === 'productpage' && bookinfoImage(img)?.version === 1,
  create: () => productpageBehaviour(),
};
