/**
 * The sidecar as the pod network's interception point (what iptables redirection to 15001/15006
 * is to a real pod). Outbound: a request of a pod whose istio-proxy has its config takes the
 * listener of its original destination (a Service's `0.0.0.0_<port>` HTTP listener, or
 * virtualOutbound's PassthroughCluster for anything else), then Envoy picks the endpoint and
 * sends it straight to the pod with the connection's TLS. Inbound: a request to a sidecar'd
 * pod's port passes the inbound listener (mTLS/RBAC, then the HCM) before the app gets it,
 * from 127.0.0.6 as Envoy's inbound passthrough binds.
 *
 * Bypassed as Istio excludes them: the proxy's own ports (15000, 15020, 15021, 15090), a gateway
 * (router) pod's traffic, and any pod whose proxy has had no push yet (a real sidecar is not
 * Ready then; the request passes through untouched, as with the agent still starting).
 */
import { NetworkError, type HttpRequest, type HttpResponse, type RequestTarget } from '../../../images/types.js';
import type { InboundCall, Next, OutboundCall, PodInterceptor } from '../../../network/types.js';
import type { FilterChain, HttpConnectionManager, Listener, RouteConfiguration } from '../xds/types.js';
import { accessLogLine } from './access-log.js';
import { serveChain, httpChainFor, type Downstream, type ServeOptions } from './hcm.js';
import { proxyWorkload } from './hcm-metrics.js';
import type { EnvoyProxy, ProxyRegistry } from './proxy.js';
import { clusterManager, ephemeralPort, type UpstreamWire } from './router-upstream.js';
import { inboundSecurity, virtualInbound } from './inbound-security.js';

/** Ports iptables does not redirect inbound (INBOUND_PORTS_EXCLUDE) plus Envoy's admin. */
const EXCLUDED_INBOUND = new Set([15000, 15020, 15021, 15090]);

/**
 * When the sender of an upstream request stops waiting for it (its client gave up, or its route
 * or per-try timeout fired): Envoy resets the stream, so the receiving sidecar logs DC. Keyed by
 * the request object, which the network hands unchanged from one sidecar to the other.
 */
const deadlines = new WeakMap<HttpRequest, number>();

const ipOf = (address: string) => address.replace(/:\d+$/, '');

function wireBytes(req: HttpRequest | undefined, res: HttpResponse | undefined): [number, number] {
  const head = (first: string, h: Record<string, string>) => first.length + 2 + Object.entries(h).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) + 2;
  const rx = req ? head(`${req.method} ${req.path} HTTP/1.1`, req.headers) + req.body.length : 0;
  const tx = res ? head(`HTTP/1.1 ${res.status} X`, res.headers) + res.body.length : 0;
  return [rx, tx];
}

/** A TCP proxy's access log line (`"- - -" 0 …`). */
function tcpLog(proxy: EnvoyProxy, e: { start: Date; flags?: string[]; details?: string; bytes: [number, number]; upstreamHost?: string; cluster?: string; upstreamLocal?: string; downstreamLocal: string; downstreamRemote: string; sni?: string }): void {
  const line = accessLogLine(proxy.config?.accessLog, {
    start: e.start,
    responseCode: 0,
    flags: e.flags ?? [],
    ...(e.details ? { details: e.details } : {}),
    bytesReceived: e.bytes[0],
    bytesSent: e.bytes[1],
    durationMs: proxy.ctx.now().getTime() - e.start.getTime(),
    ...(e.upstreamHost ? { upstreamHost: e.upstreamHost } : {}),
    ...(e.cluster ? { upstreamCluster: e.cluster } : {}),
    ...(e.upstreamLocal ? { upstreamLocalAddress: e.upstreamLocal } : {}),
    downstreamLocalAddress: e.downstreamLocal,
    downstreamRemoteAddress: e.downstreamRemote,
    ...(e.sni ? { requestedServerName: e.sni } : {}),
  });
  if (line !== undefined) proxy.ctx.log(line);
}

/** What an outbound connection to `ip:port` lands on: its listener and filter chain (HTTP, or TCP proxy). */
interface OutboundTarget {
  listener: Listener | undefined;
  chain: FilterChain | undefined;
}

// Per pushed listener list (a push replaces the list): the listener and chain each original destination takes.
const outboundTargets = new WeakMap<Listener[], { length: number; byAddress: Map<string, OutboundTarget> }>();

function outboundTarget(proxy: EnvoyProxy, ip: string, port: number): OutboundTarget {
  const ls = proxy.config!.listeners;
  let cache = outboundTargets.get(ls);
  if (!cache || cache.length !== ls.length) outboundTargets.set(ls, (cache = { length: ls.length, byAddress: new Map() }));
  const key = `${ip}:${port}`;
  let t = cache.byAddress.get(key);
  if (!t) {
    const listener =
      ls.find((l) => l.direction === 'outbound' && l.address === ip && l.port === port) ??
      ls.find((l) => l.direction === 'outbound' && l.address === '0.0.0.0' && l.port === port) ??
      ls.find((l) => l.name === 'virtualOutbound');
    const chain = listener && (httpChainFor(listener, port, undefined) ?? listener.filterChains.find((c) => c.tcp));
    t = { listener, chain };
    // Pod IPs come and go: a long-lived config must not grow without bound.
    if (cache.byAddress.size > 5000) cache.byAddress.clear();
    cache.byAddress.set(key, t);
  }
  return t;
}

function isOriginalDst(proxy: EnvoyProxy, cluster: string): boolean {
  if (cluster === 'PassthroughCluster' || cluster === 'InboundPassthroughCluster' || cluster === 'InboundPassthroughClusterIpv4') return true;
  return proxy.cluster(cluster)?.type === 'ORIGINAL_DST';
}

/** Puts one of the sidecar's upstream requests on the wire, noting when its sender stops waiting (the receiving sidecar logs DC then). */
function sendOutbound(proxy: EnvoyProxy, call: OutboundCall, next: Next<OutboundCall>, clientDeadline: number | undefined, target: RequestTarget, req: HttpRequest, timeoutMs: number | undefined, transport?: OutboundCall['transport']): Promise<HttpResponse> {
  const tryDeadline = timeoutMs !== undefined ? proxy.ctx.now().getTime() + timeoutMs : undefined;
  const until = clientDeadline === undefined ? tryDeadline : tryDeadline === undefined ? clientDeadline : Math.min(clientDeadline, tryDeadline);
  if (until !== undefined) deadlines.set(req, until);
  const out: OutboundCall = { source: call.source, target, req };
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (transport) out.transport = transport;
  return next(out);
}

// Closures made by factories, not `const f = () => …` in the hot path: tsx (esbuild keepNames)
// wraps every such named closure in a defineProperty call, once per request.
function outboundWire(proxy: EnvoyProxy, call: OutboundCall, next: Next<OutboundCall>, clientDeadline: number | undefined): UpstreamWire {
  return (target, req, o) => sendOutbound(proxy, call, next, clientDeadline, target, req, o.timeoutMs, o.transport);
}

function outboundFixedTarget(proxy: EnvoyProxy, ip: string, port: number): (cluster: string) => RequestTarget | undefined {
  return (cluster) => (isOriginalDst(proxy, cluster) ? { host: ip, port } : undefined);
}

/** An HTTP listener's request goes through the HCM; anything else is a TCP proxy (outboundTcp). Not async: one promise less per request. */
function outbound(proxy: EnvoyProxy, call: OutboundCall, next: Next<OutboundCall>): Promise<HttpResponse> {
  try {
    const ip = proxy.ctx.net.resolve(call.target.host);
    // DNS failed: the app never opens a connection, Envoy never sees it.
    if (ip === null) return next(call);
    const port = call.target.port;
    const start = proxy.ctx.now();
    const downstreamLocal = `${ip}:${port}`;
    const downstreamRemote = `${call.source.ip}:${ephemeralPort(proxy.ctx.random)}`;
    const clientDeadline = call.timeoutMs !== undefined ? start.getTime() + call.timeoutMs : undefined;
    const { listener, chain } = outboundTarget(proxy, ip, port);
    if (listener && chain?.http) {
      const downstream: Downstream = { remoteAddress: downstreamRemote, localAddress: downstreamLocal };
      if (clientDeadline !== undefined) downstream.clientDeadline = clientDeadline;
      return serveChain(proxy, listener, chain.http, call.req, downstream, { wire: outboundWire(proxy, call, next, clientDeadline), fixedTarget: outboundFixedTarget(proxy, ip, port) });
    }
    return outboundTcp(proxy, call, next, { ip, port, start, downstreamLocal, downstreamRemote, clientDeadline, chain });
  } catch (e) {
    return Promise.reject(e);
  }
}

async function outboundTcp(
  proxy: EnvoyProxy,
  call: OutboundCall,
  next: Next<OutboundCall>,
  c: { ip: string; port: number; start: Date; downstreamLocal: string; downstreamRemote: string; clientDeadline: number | undefined; chain: FilterChain | undefined },
): Promise<HttpResponse> {
  const { ip, port, start, downstreamLocal, downstreamRemote, clientDeadline, chain } = c;
  // A TCP proxy (or no listener at all: Istio's default ALLOW_ANY passes it through).
  const cluster = chain?.tcp?.cluster ?? 'PassthroughCluster';
  if (cluster === 'BlackHoleCluster') {
    tcpLog(proxy, { start, bytes: [0, 0], cluster, downstreamLocal, downstreamRemote });
    throw new NetworkError('ECONNRESET', call.target.host, port);
  }
  if (isOriginalDst(proxy, cluster)) {
    try {
      const res = await sendOutbound(proxy, call, next, clientDeadline, { host: ip, port }, call.req, call.timeoutMs);
      tcpLog(proxy, { start, bytes: wireBytes(call.req, res), upstreamHost: downstreamLocal, cluster, upstreamLocal: `${proxy.identity.podIP}:${ephemeralPort(proxy.ctx.random)}`, downstreamLocal, downstreamRemote });
      return res;
    } catch (e) {
      tcpLog(proxy, { start, flags: ['UF'], bytes: wireBytes(call.req, undefined), upstreamHost: downstreamLocal, cluster, downstreamLocal, downstreamRemote });
      throw e;
    }
  }
  const r = await clusterManager().attempt(proxy, { cluster, req: call.req, ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}) }, outboundWire(proxy, call, next, clientDeadline));
  tcpLog(proxy, { start, flags: r.flags, bytes: wireBytes(call.req, r.fromUpstream ? r.response : undefined), ...(r.upstreamHost ? { upstreamHost: r.upstreamHost } : {}), cluster, ...(r.upstreamLocalAddress ? { upstreamLocal: r.upstreamLocalAddress } : {}), downstreamLocal, downstreamRemote });
  // A TCP proxy that could not reach an upstream closes the client's connection.
  if (!r.fromUpstream) throw new NetworkError('ECONNRESET', call.target.host, port);
  return r.response;
}

/** Istio's inbound route when the inbound chain carries no route table of its own: everything to the app. */
function defaultInboundRoutes(port: number, service: InboundCall['service']): RouteConfiguration {
  const decorator = service ? `${service.name}.${service.namespace}.svc.cluster.local:${service.port}/*` : undefined;
  return {
    name: `inbound|${port}||`,
    virtualHosts: [{ name: `inbound|http|${port}`, domains: ['*'], routes: [{ name: 'default', match: {}, route: { clusters: [{ cluster: `inbound|${port}||`, weight: 1 }], timeoutMs: 0 }, ...(decorator ? { decorator } : {}) }] }],
  };
}

// The HCM of an inbound chain with its RDS route table, per pushed config.
const inboundHcms = new WeakMap<HttpConnectionManager, { routes: RouteConfiguration; hcm: HttpConnectionManager }>();

function inboundWire(call: InboundCall, next: Next<InboundCall>): UpstreamWire {
  return (target, req) => next({ ...call, port: target.port, req, source: { ...call.source, ip: '127.0.0.6' } });
}

function inboundFixedTarget(proxy: EnvoyProxy, podIP: string, port: number): (cluster: string) => RequestTarget | undefined {
  return (cluster) => (cluster.startsWith('inbound|') ? { host: podIP, port: Number(cluster.split('|')[1]) || port } : isOriginalDst(proxy, cluster) ? { host: podIP, port } : undefined);
}

/** Not async: an HTTP chain's request is the HCM's promise itself (one promise less per request). */
function inbound(registry: ProxyRegistry, proxy: EnvoyProxy, call: InboundCall, next: Next<InboundCall>): Promise<HttpResponse> {
  try {
    const start = proxy.ctx.now();
    const podIP = proxy.identity.podIP || call.destination.ip;
    const downstreamLocal = `${podIP}:${call.port}`;
    const downstreamRemote = `${call.source.ip}:${ephemeralPort(proxy.ctx.random)}`;
    const decision = inboundSecurity(proxy, call);
    const sni = call.transport?.tls?.sni;
    if ('reset' in decision) {
      // No filter chain takes the connection (plain text against STRICT), or network RBAC closed it.
      tcpLog(proxy, { start, flags: decision.flags, details: decision.details, bytes: [0, 0], ...(decision.chain?.tcp ? { cluster: decision.chain.tcp.cluster } : {}), downstreamLocal, downstreamRemote, ...(sni ? { sni } : {}) });
      throw new NetworkError('ECONNRESET', call.destination.ip, call.port);
    }
    const listener = virtualInbound(proxy);
    const chain = decision.chain;
    if (!chain.http) return inboundTcp(proxy, call, next, chain, { start, downstreamLocal, downstreamRemote, sni });
    const hcm = inboundHcm(proxy, chain.http, call.port, call.service);
    const peerProxy = call.source.pod ? registry.get(call.source.pod.namespace, call.source.pod.name) : undefined;
    const exchanged = peerProxy && call.req.headers['x-envoy-peer-metadata-id'] !== undefined;
    const deadline = deadlines.get(call.req);
    const downstream: Downstream = { remoteAddress: downstreamRemote, localAddress: downstreamLocal };
    if (call.transport) downstream.transport = call.transport;
    if (exchanged) downstream.peer = proxyWorkload(peerProxy);
    if (deadline !== undefined) downstream.clientDeadline = deadline;
    if (call.service) downstream.service = { namespace: call.service.namespace, name: call.service.name };
    const opts: ServeOptions = { wire: inboundWire(call, next), upstreamBindIP: '127.0.0.6', fixedTarget: inboundFixedTarget(proxy, podIP, call.port) };
    if ('deny' in decision) opts.preReply = { ...decision.deny, flags: [] };
    return serveChain(proxy, listener!, hcm, call.req, downstream, opts);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The chain's HCM with its route table: inline (Istio's inbound chains), by RDS name, or Istio's default to the app. */
function inboundHcm(proxy: EnvoyProxy, http: HttpConnectionManager, port: number, service: InboundCall['service']): HttpConnectionManager {
  if (http.routeConfig) return http;
  const named = proxy.config!.routes.find((r) => r.name === http.routeConfigName);
  if (!named) return { ...http, routeConfig: defaultInboundRoutes(port, service) };
  let cached = inboundHcms.get(http);
  if (!cached || cached.routes !== named) inboundHcms.set(http, (cached = { routes: named, hcm: { ...http, routeConfig: named } }));
  return cached.hcm;
}

async function inboundTcp(proxy: EnvoyProxy, call: InboundCall, next: Next<InboundCall>, chain: FilterChain, c: { start: Date; downstreamLocal: string; downstreamRemote: string; sni: string | undefined }): Promise<HttpResponse> {
  const { start, downstreamLocal, downstreamRemote, sni } = c;
  // A TCP chain: Envoy proxies the bytes to the app (from 127.0.0.6), or drops them (BlackHoleCluster).
  const cluster = chain.tcp?.cluster ?? 'InboundPassthroughCluster';
  const upstreamLocal = `127.0.0.6:${ephemeralPort(proxy.ctx.random)}`;
  if (cluster === 'BlackHoleCluster') {
    tcpLog(proxy, { start, bytes: [0, 0], cluster, downstreamLocal, downstreamRemote });
    throw new NetworkError('ECONNRESET', call.destination.ip, call.port);
  }
  try {
    const res = await next({ ...call, source: { ...call.source, ip: '127.0.0.6' } });
    tcpLog(proxy, { start, bytes: wireBytes(call.req, res), upstreamHost: downstreamLocal, cluster, upstreamLocal, downstreamLocal, downstreamRemote, ...(sni ? { sni } : {}) });
    return res;
  } catch (e) {
    tcpLog(proxy, { start, flags: ['UF'], bytes: wireBytes(call.req, undefined), upstreamHost: downstreamLocal, cluster, downstreamLocal, downstreamRemote, ...(sni ? { sni } : {}) });
    throw e;
  }
}

const active = (p: EnvoyProxy | undefined): p is EnvoyProxy => !!p && p.identity.type === 'sidecar' && !!p.config;

export function sidecarInterceptor(registry: ProxyRegistry): PodInterceptor {
  return {
    name: 'istio-sidecar',
    appliesTo: (pod) => !!registry.get(pod.namespace, pod.name),
    outbound(call, next) {
      const proxy = registry.get(call.source.namespace, call.source.name);
      if (!active(proxy)) return next(call);
      return outbound(proxy, call, next);
    },
    inbound(call, next) {
      const proxy = registry.get(call.destination.namespace, call.destination.name);
      if (!active(proxy) || EXCLUDED_INBOUND.has(call.port)) return next(call);
      return inbound(registry, proxy, call, next);
    },
  };
}
