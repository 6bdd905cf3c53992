/**
 * The API's proxy subresources, as kube-apiserver serves them:
 * `/api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH` and the same for pods.
 * The target is chosen as the registry's ResourceLocation chooses it (Service port by number
 * or name → a random ready address of the Endpoints subset carrying that port name; a pod's
 * IP and the given or first declared port), then the request is forwarded the way the
 * apiserver's proxy transport forwards it: method, headers (minus hop-by-hop and the
 * credentials the apiserver consumed), body, with X-Forwarded-* set; the answer comes back
 * with its status and headers, redirects and HTML links rewritten under the proxy path, and
 * failures to reach the backend as 503 `error trying to reach service: ...`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterApi } from '../addons/api.js';
import type { SubresourceRequest } from '../apiserver/server.js';
import { ApiError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../images/types.js';
import { NetworkError } from '../images/types.js';
import type { ClusterNetwork } from '../network/network.js';
import { readBody, toHttpRequest, writeHttpResponse } from '../network/http-bridge.js';

type Obj = Record<string, any>;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const serviceUnavailable = (message: string) => new ApiError(503, 'ServiceUnavailable', message);

/** utilnet.SplitSchemeNamePort: "name", "name:port" or "scheme:name:port". */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | null {
  const parts = id.split(':');
  let scheme = '';
  let name: string;
  let port = '';
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) [name, port] = parts as [string, string];
  else if (parts.length === 3) [scheme, name, port] = parts as [string, string, string];
  else return null;
  if (!name || (scheme !== '' && scheme !== 'http' && scheme !== 'https')) return null;
  return { scheme, name, port };
}

interface Location {
  ip: string;
  port: number;
}

export class ApiProxy {
  constructor(
    private readonly cluster: ClusterApi,
    private readonly network: ClusterNetwork,
    private readonly random: () => number = Math.random,
  ) {}

  private bucket(resource: string): string {
    const d = this.cluster.kinds.lookup('', 'v1', resource);
    if (!d) throw new Error(`embedded cluster has no ${resource}`);
    return d.bucket;
  }

  /** The Service's ResourceLocation (pkg/registry/core/service/storage). */
  serviceLocation(namespace: string, id: string): Location & { scheme: string } {
    const parsed = splitSchemeNamePort(id);
    if (!parsed) throw ApiError.badRequest(`invalid service request "${id}"`);
    let { port: portName } = parsed;
    const { name, scheme } = parsed;
    if (/^-?\d+$/.test(portName)) {
      const svc = this.cluster.store.peek(this.bucket('services'), namespace, name) as Obj | undefined;
      if (!svc) throw ApiError.notFound({ group: '', resource: 'services' }, name);
      const p = (svc.spec?.ports ?? []).find((x: Obj) => Number(x.port) === Number(portName));
      if (!p) throw serviceUnavailable(`no service port ${Number(portName)} found for service "${name}"`);
      portName = p.name ?? '';
    }
    const eps = this.cluster.store.peek(this.bucket('endpoints'), namespace, name) as Obj | undefined;
    if (!eps) throw ApiError.notFound({ group: '', resource: 'endpoints' }, name);
    const subsets: Obj[] = eps.subsets ?? [];
    if (subsets.length === 0) throw serviceUnavailable(`no endpoints available for service "${name}"`);
    const seed = Math.floor(this.random() * subsets.length);
    for (let i = 0; i < subsets.length; i++) {
      const ss = subsets[(seed + i) % subsets.length]!;
      const addrs: Obj[] = ss.addresses ?? [];
      if (addrs.length === 0) continue;
      const p = (ss.ports ?? []).find((x: Obj) => (x.name ?? '') === portName);
      if (!p) continue;
      const a = addrs[Math.floor(this.random() * addrs.length) % addrs.length]!;
      return { scheme, ip: a.ip, port: p.port };
    }
    throw serviceUnavailable(`no endpoints available for service "${id}"`);
  }

  /** The pod's ResourceLocation (pkg/registry/core/pod/strategy.go). */
  podLocation(namespace: string, id: string): Location & { scheme: string } {
    const parsed = splitSchemeNamePort(id);
    if (!parsed) throw ApiError.badRequest(`invalid pod request "${id}"`);
    const pod = this.cluster.store.peek(this.bucket('pods'), namespace, parsed.name) as Obj | undefined;
    if (!pod) throw ApiError.notFound({ group: '', resource: 'pods' }, parsed.name);
    let port = parsed.port;
    if (!port) {
      for (const c of pod.spec?.containers ?? []) {
        if (c.ports?.length) {
          port = String(c.ports[0].containerPort);
          break;
        }
      }
    }
    const ip: string = pod.status?.podIP ?? '';
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || ip.startsWith('127.') || ip === '0.0.0.0') throw ApiError.badRequest('address not allowed');
    const scheme = parsed.scheme;
    // Without a port Go dials the scheme's default one; a port name is looked up like /etc/services does.
    const wellKnown: Record<string, number> = { '': scheme === 'https' ? 443 : 80, http: 80, https: 443 };
    const n = /^\d+$/.test(port) ? Number(port) : wellKnown[port];
    if (n === undefined) throw serviceUnavailable(`error trying to reach service: dial tcp: lookup tcp/${port}: unknown port`);
    return { scheme, ip, port: n };
  }

  private controlPlaneIP(): string {
    for (const n of this.cluster.store.list(this.bucket('nodes'), undefined, true) as Obj[]) {
      if (n.metadata.labels?.['node-role.kubernetes.io/control-plane'] === undefined) continue;
      const ip = (n.status?.addresses ?? []).find((a: Obj) => a.type === 'InternalIP')?.address;
      if (ip) return ip;
    }
    return '127.0.0.1';
  }

  async serve(kind: 'services' | 'pods', ctx: SubresourceRequest & { res: ServerResponse }): Promise<void> {
    const { req, res, namespace, name } = ctx;
    const loc = kind === 'services' ? this.serviceLocation(namespace, name) : this.podLocation(namespace, name);
    if (loc.scheme === 'https') throw ApiError.notSupported(`proxying to an https backend (${kind}/${name})`);
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    const query = q < 0 ? '' : raw.slice(q);
    const m = rawPath.match(/^(.*?\/(?:services|pods)\/[^/]+\/proxy)(\/.*)?$/);
    const prefix = m?.[1] ?? rawPath;
    const subpath = m?.[2] ?? '';
    const method = req.method ?? 'GET';
    // The apiserver redirects a bare `.../proxy` so that relative links resolve under it.
    if (subpath === '' && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(301, { Location: `${rawPath}/${query}`, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(method === 'HEAD' ? undefined : `<a href="${rawPath}/${query}">Moved Permanently</a>.\n\n`);
      return;
    }
    const body = await readBody(req);
    const forwarded = this.forwardedRequest(req, body, `${subpath || '/'}${query}`, prefix + subpath);
    const entry = this.network.podByIP(loc.ip);
    let answer: HttpResponse;
    try {
      if (!entry) throw new NetworkError('ECONNREFUSED', loc.ip, loc.port);
      answer = await this.network.toPod(entry, loc.port, forwarded, { ip: this.controlPlaneIP() }, 'apiserver-proxy');
    } catch (e) {
      if (e instanceof NetworkError) throw serviceUnavailable(`error trying to reach service: ${dialError(e, loc)}`);
      throw e;
    }
    const host = req.headers.host ?? '';
    writeHttpResponse(res, this.rewriteResponse(answer, prefix, host, `${loc.ip}:${loc.port}`), method, HOP_BY_HOP);
  }

  private forwardedRequest(req: IncomingMessage, body: Buffer, path: string, forwardedUri: string): HttpRequest {
    const r = toHttpRequest(req, body);
    const headers: Record<string, string> = {};
    const connectionTokens = (r.headers['connection'] ?? '').split(',').map((t) => t.trim().toLowerCase());
    for (const [k, v] of Object.entries(r.headers)) {
      // The authentication filter removes the credentials it consumed before any handler runs.
      if (HOP_BY_HOP.has(k) || connectionTokens.includes(k) || k === 'authorization') continue;
      headers[k] = v;
    }
    headers['x-forwarded-uri'] = forwardedUri;
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    headers['x-forwarded-proto'] = 'https';
    const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${client}` : client;
    if (!('accept-encoding' in r.headers)) headers['accept-encoding'] = 'gzip';
    return { method: r.method, path, headers, body };
  }

  /** proxy.Transport: Location headers and HTML links that point at the backend move under the proxy path. */
  private rewriteResponse(answer: HttpResponse, prefix: string, host: string, backend: string): HttpResponse {
    const headers = { ...answer.headers };
    const rewrite = (target: string): string => {
      let u: URL;
      try {
        u = new URL(target, `http://${backend}/`);
      } catch {
        return target;
      }
      const absolute = /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
      if (absolute && u.host !== backend && u.host !== host) return target;
      if (!absolute && !target.startsWith('/')) return target;
      const path = u.pathname.startsWith(prefix) ? u.pathname : prefix + u.pathname;
      return `https://${host}${path}${u.search}${u.hash}`;
    };
    if (headers['location']) return { ...answer, headers: { ...headers, location: rewrite(headers['location']) } };
    const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'text/html' || headers['content-encoding']) return answer;
    const html = answer.body.toString('utf8');
    const out = html.replace(/(<(?:a|link|area|base|form|img|script|iframe|frame|input|object|embed|source|video|audio)\b[^>]*?\s(?:href|src|action)\s*=\s*)(["'])(\/[^"']*)\2/gi, (_m, pre: string, qt: string, url: string) => {
      if (url.startsWith('//')) return `${pre}${qt}${url}${qt}`;
      return `${pre}${qt}${url.startsWith(prefix) ? url : prefix + url}${qt}`;
    });
    if (out === html) return answer;
    const body = Buffer.from(out, 'utf8');
    return { ...answer, headers: { ...headers, 'content-length': String(body.length) }, body };
  }
}

function dialError(e: NetworkError, loc: Location): string {
  const addr = `${loc.ip}:${loc.port}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'ECONNRESET':
      return `read tcp ${addr}: read: connection reset by peer`;
    default:
      return `dial tcp: lookup ${e.host}: no such host`;
  }
}
