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
import type { Listener, RouteConfiguration } from '../xds/types.js';
import { accessLogLine } from './access-log.js';
import { serveChain, httpChainFor, type Downstream } from './hcm.js';
import { proxyWorkload } from './hcm-metrics.js';
import type { EnvoyProxy, ProxyRegistry } from './proxy.js';
import { clusterManager, ephemeralPort, type UpstreamWire } from './router-upstream.js';
import { inboundSecurity } from './inbound-security.js';

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

function outboundListener(proxy: EnvoyProxy, ip: string, port: number): Listener | undefined {
  const ls = proxy.config!.listeners;
  return (
    ls.find((l) => l.direction === 'outbound' && l.address === ip && l.port === port) ??
    ls.find((l) => l.direction === 'outbound' && l.address === '0.0.0.0' && l.port === port) ??
    ls.find((l) => l.name === 'virtualOutbound')
  );
}

function isOriginalDst(proxy: EnvoyProxy, cluster: string): boolean {
  if (cluster === 'PassthroughCluster' || cluster === 'InboundPassthroughCluster' || cluster === 'InboundPassthroughClusterIpv4') return true;
  return proxy.cluster(cluster)?.type === 'ORIGINAL_DST';
}

async function outbound(proxy: EnvoyProxy, call: OutboundCall, next: Next<OutboundCall>): Promise<HttpResponse> {
  const ip = proxy.ctx.net.resolve(call.target.host);
  // DNS failed: the app never opens a connection, Envoy never sees it.
  if (ip === null) return next(call);
  const port = call.target.port;
  const start = proxy.ctx.now();
  const downstreamLocal = `${ip}:${port}`;
  const downstreamRemote = `${call.source.ip}:${ephemeralPort(proxy.ctx.random)}`;
  const clientDeadline = call.timeoutMs !== undefined ? start.getTime() + call.timeoutMs : undefined;
  const send = (target: RequestTarget, req: HttpRequest, timeoutMs: number | undefined, transport?: OutboundCall['transport']) => {
    const until = [clientDeadline, timeoutMs !== undefined ? proxy.ctx.now().getTime() + timeoutMs : undefined].filter((x): x is number => x !== undefined);
    if (until.length) deadlines.set(req, Math.min(...until));
    return next({ source: call.source, target, req, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(transport ? { transport } : {}) });
  };
  const wire: UpstreamWire = (target, req, o) => send(target, req, o.timeoutMs, o.transport);
  const listener = outboundListener(proxy, ip, port);
  const chain = listener && (httpChainFor(listener, port, undefined) ?? listener.filterChains.find((c) => c.tcp));
  if (listener && chain?.http) {
    const downstream: Downstream = { remoteAddress: downstreamRemote, localAddress: downstreamLocal, ...(clientDeadline !== undefined ? { clientDeadline } : {}) };
    return serveChain(proxy, listener, chain.http, call.req, downstream, { wire, fixedTarget: (cluster) => (isOriginalDst(proxy, cluster) ? { host: ip, port } : undefined) });
  }
  // A TCP proxy (or no listener at all: Istio's default ALLOW_ANY passes it through).
  const cluster = chain?.tcp?.cluster ?? 'PassthroughCluster';
  if (cluster === 'BlackHoleCluster') {
    tcpLog(proxy, { start, bytes: [0, 0], cluster, downstreamLocal, downstreamRemote });
    throw new NetworkError('ECONNRESET', call.target.host, port);
  }
  if (isOriginalDst(proxy, cluster)) {
    try {
      const res = await send({ host: ip, port }, call.req, call.timeoutMs);
      tcpLog(proxy, { start, bytes: wireBytes(call.req, res), upstreamHost: downstreamLocal, cluster, upstreamLocal: `${proxy.identity.podIP}:${ephemeralPort(proxy.ctx.random)}`, downstreamLocal, downstreamRemote });
      return res;
    } catch (e) {
      tcpLog(proxy, { start, flags: ['UF'], bytes: wireBytes(call.req, undefined), upstreamHost: downstreamLocal, cluster, downstreamLocal, downstreamRemote });
      throw e;
    }
  }
  const r = await clusterManager().attempt(proxy, { cluster, req: call.req, ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}) }, wire);
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

async function inbound(registry: ProxyRegistry, proxy: EnvoyProxy, call: InboundCall, next: Next<InboundCall>): Promise<HttpResponse> {
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
  const listener: Listener = proxy.config!.listeners.find((l) => l.name === 'virtualInbound')!;
  const chain = decision.chain;
  if (!chain.http) {
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
  const routes = chain.http.routeConfig ?? proxy.config!.routes.find((r) => r.name === chain.http!.routeConfigName) ?? defaultInboundRoutes(call.port, call.service);
  const hcm = { ...chain.http, routeConfig: routes };
  const peerProxy = call.source.pod ? registry.get(call.source.pod.namespace, call.source.pod.name) : undefined;
  const exchanged = peerProxy && call.req.headers['x-envoy-peer-metadata-id'] !== undefined;
  const deadline = deadlines.get(call.req);
  const downstream: Downstream = {
    remoteAddress: downstreamRemote,
    localAddress: downstreamLocal,
    ...(call.transport ? { transport: call.transport } : {}),
    ...(exchanged ? { peer: proxyWorkload(peerProxy) } : {}),
    ...(deadline !== undefined ? { clientDeadline: deadline } : {}),
    ...(call.service ? { service: { namespace: call.service.namespace, name: call.service.name } } : {}),
  };
  const wire: UpstreamWire = (target, req) => next({ ...call, port: target.port, req, source: { ...call.source, ip: '127.0.0.6' } });
  return serveChain(proxy, listener, hcm, call.req, downstream, {
    wire,
    upstreamBindIP: '127.0.0.6',
    fixedTarget: (cluster) => (cluster.startsWith('inbound|') ? { host: podIP, port: Number(cluster.split('|')[1]) || call.port } : isOriginalDst(proxy, cluster) ? { host: podIP, port: call.port } : undefined),
    ...('deny' in decision ? { preReply: { ...decision.deny, flags: [] } } : {}),
  });
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
