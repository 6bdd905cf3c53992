/**
 * Envoy's HTTP connection manager for one request on one listener: the filter chain's route
 * table (RDS or inline), the request headers Istio's proxies add or strip, the router, the
 * response headers (`server`, x-envoy-upstream-service-time, decorator), then the access log
 * line and the standard metrics. Sidecars (envoy/sidecar.ts) and gateways (envoy/gateway.ts)
 * both serve HTTP through `serveHttp`.
 */
import { createHash } from 'node:crypto';
import { NetworkError, type HttpRequest, type HttpResponse, type RequestTarget, type Transport } from '../../../images/types.js';
import { spiffeId, type FilterChain, type HttpConnectionManager, type Listener, type Route, type RouteConfiguration } from '../xds/types.js';
import { accessLogLine, type AccessLogEntry } from './access-log.js';
import { selectRoute, selectVirtualHost } from './hcm-match.js';
import { endpointWorkload, proxyWorkload, recordRequest, UNKNOWN_WORKLOAD, type RequestMetricsInput, type WorkloadInfo } from './hcm-metrics.js';
import { localResponse, NO_ROUTE, type LocalReply } from './local-reply.js';
import type { EnvoyProxy } from './proxy.js';
import { runRoute, type RouterEnv, type RouterOutcome } from './router.js';
import type { UpstreamWire } from './router-upstream.js';
import { formatFlags } from './access-log.js';

/** The downstream connection a request arrived on. */
export interface Downstream {
  /** %DOWNSTREAM_REMOTE_ADDRESS%, `ip:port`. */
  remoteAddress: string;
  /** %DOWNSTREAM_LOCAL_ADDRESS%, `ip:port` (the original destination for a sidecar's outbound). */
  localAddress: string;
  /** The connection's TLS (inbound mTLS from a sidecar); plain text when absent. */
  transport?: Transport;
  /** The calling workload when it is known by metadata exchange (a sidecar'd pod), for source_* labels. */
  peer?: WorkloadInfo;
  /** When (ms since the epoch, by the proxy's clock) the client stops waiting: the log says DC, code 0. */
  clientDeadline?: number;
  /** Gateways facing outside callers: append the client's address to x-forwarded-for, set x-envoy-external-address. */
  useRemoteAddress?: boolean;
  /** For inbound: the Service the request was balanced through (destination_service). */
  service?: { namespace: string; name: string };
}

export interface ServeOptions {
  /** How the proxy puts a request on the network; default: the proxy container's own `net.request`. */
  wire?: UpstreamWire;
  /** Clusters not balanced by the cluster manager (inbound, PassthroughCluster): their fixed address. */
  fixedTarget?(cluster: string): RequestTarget | undefined;
  /** The address the proxy binds for fixed-target upstreams (127.0.0.6 for a sidecar's inbound cluster). */
  upstreamBindIP?: string;
  /** A reply decided before routing (the inbound RBAC filter's 403): logged like any request. */
  preReply?: LocalReply;
}

const PEER_HEADERS = ['x-envoy-peer-metadata', 'x-envoy-peer-metadata-id'];

/** Envoy's request headers it does not take from an external client (ConnectionManagerUtility::cleanInternalHeaders). */
const EXTERNAL_STRIPPED = [
  'x-envoy-decorator-operation',
  'x-envoy-downstream-service-cluster',
  'x-envoy-downstream-service-node',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-external-address',
  'x-envoy-force-trace',
  'x-envoy-internal',
  'x-envoy-ip-tags',
  'x-envoy-max-retries',
  'x-envoy-original-path',
  'x-envoy-retriable-status-codes',
  'x-envoy-retry-grpc-on',
  'x-envoy-retry-on',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-hedge-on-per-try-timeout',
];


/** The first HTTP filter chain of a listener whose match fits this connection (Envoy's filter chain match, enough for HTTP listeners). */
export function httpChainFor(listener: Listener, port: number, transport: Transport | undefined): FilterChain | undefined {
  const proto = transport?.tls ? 'tls' : 'raw_buffer';
  return listener.filterChains.find((c) => {
    if (!c.http) return false;
    const m = c.match;
    if (m.destinationPort !== undefined && m.destinationPort !== port) return false;
    if (m.transportProtocol && m.transportProtocol !== proto) return false;
    if (m.serverNames?.length && !(transport?.tls && m.serverNames.includes(transport.tls.sni))) return false;
    return true;
  });
}

/**
 * Serves one HTTP request arriving on `listener` (a sidecar's outbound or inbound listener, or a
 * gateway's): picks the filter chain by the downstream's local port and TLS, routes, proxies,
 * logs. Never throws for what Envoy answers itself (no route: 404 NR); rejects with ETIMEDOUT
 * only once the client has given up (clientDeadline).
 */
export function serveHttp(proxy: EnvoyProxy, listener: Listener, req: HttpRequest, downstream: Downstream, opts: ServeOptions = {}): Promise<HttpResponse> {
  const port = Number(downstream.localAddress.split(':').pop());
  const chain = httpChainFor(listener, port, downstream.transport);
  return serveChain(proxy, listener, chain?.http, req, downstream, opts);
}

function routeConfigOf(proxy: EnvoyProxy, hcm: HttpConnectionManager | undefined): RouteConfiguration | undefined {
  if (!hcm) return undefined;
  if (hcm.routeConfig) return hcm.routeConfig;
  return proxy.config?.routes.find((r) => r.name === hcm.routeConfigName);
}

const HEX = '0123456789abcdef';

function uuid(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 32; i++) hex += HEX[Math.floor(random() * 16)];
  // Version 4, RFC 4122 variant, as Envoy's random UUIDs.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** What metadata exchange sends for this proxy (its identity does not change while it runs). */
const peerHeaders = new WeakMap<EnvoyProxy, { id: string; metadata: string }>();
function peerMetadataOf(proxy: EnvoyProxy): { id: string; metadata: string } {
  let p = peerHeaders.get(proxy);
  if (!p) {
    const id = proxy.identity;
    const w = proxyWorkload(proxy);
    p = {
      id: `${id.type}~${id.podIP}~${id.id}~${id.namespace}.svc.cluster.local`,
      metadata: Buffer.from(JSON.stringify({ CLUSTER_ID: 'Kubernetes', NAME: id.podName, NAMESPACE: id.namespace, WORKLOAD_NAME: w.workload, LABELS: id.labels, SERVICE_ACCOUNT: id.serviceAccount })).toString('base64'),
    };
    peerHeaders.set(proxy, p);
  }
  return p;
}

const xfccCache = new WeakMap<EnvoyProxy, Map<string, string>>();
/** x-forwarded-client-cert for a client identity: this proxy's own id, the (stand-in) certificate hash, the client's URI SAN. */
function clientCertDetails(proxy: EnvoyProxy, clientIdentity: string): string {
  let byClient = xfccCache.get(proxy);
  if (!byClient) xfccCache.set(proxy, (byClient = new Map()));
  let xfcc = byClient.get(clientIdentity);
  if (xfcc === undefined) {
    const by = spiffeId(proxy.identity.namespace, proxy.identity.serviceAccount);
    const hash = createHash('sha256').update(clientIdentity).digest('hex');
    xfcc = `By=${by};Hash=${hash};Subject="";URI=${clientIdentity}`;
    if (byClient.size > 1000) byClient.clear();
    byClient.set(clientIdentity, xfcc);
  }
  return xfcc;
}

/**
 * A copy of `headers` without the names in `skip`: the same names in the same order as a spread
 * followed by deletes, but the copy stays a fast object (a delete turns it into a dictionary).
 */
export function copyHeaders(headers: Readonly<Record<string, string>>, skip?: ReadonlySet<string>): Record<string, string> {
  if (!skip) return { ...headers };
  const out: Record<string, string> = {};
  for (const k in headers) {
    if (skip.has(k)) continue;
    // A plain assignment to `__proto__` would set the prototype, not copy the header.
    if (k === '__proto__') Object.defineProperty(out, k, { value: headers[k], enumerable: true, writable: true, configurable: true });
    else out[k] = headers[k]!;
  }
  return out;
}

/** Headers the inbound side takes off (metadata exchange, the caller's decorator), and the client's xfcc without mTLS. */
const INBOUND_DROPPED = new Set([...PEER_HEADERS, 'x-envoy-decorator-operation']);
const INBOUND_PLAIN_DROPPED = new Set([...INBOUND_DROPPED, 'x-forwarded-client-cert']);
const EXTERNAL_DROPPED = new Set(EXTERNAL_STRIPPED);
/** The response headers an outbound side takes off the upstream's answer. */
const OUTBOUND_RESPONSE_DROPPED = new Set(['x-envoy-decorator-operation', ...PEER_HEADERS]);

/** The request headers the HCM completes before routing (Istio's proxy_headers.go and Envoy's defaults). */
function downstreamHeaders(proxy: EnvoyProxy, listener: Listener, hcm: HttpConnectionManager | undefined, req: HttpRequest, downstream: Downstream): HttpRequest {
  const inbound = listener.direction === 'inbound';
  const tls = inbound ? downstream.transport?.tls : undefined;
  const innerDrop = inbound ? (tls ? INBOUND_DROPPED : INBOUND_PLAIN_DROPPED) : undefined;
  const drop = downstream.useRemoteAddress ? (innerDrop ? new Set([...EXTERNAL_DROPPED, ...innerDrop]) : EXTERNAL_DROPPED) : innerDrop;
  // One copy that leaves out what the steps below drop (none of them adds a dropped name back before dropping it).
  const headers = copyHeaders(req.headers, drop);
  if (!headers['x-request-id']) headers['x-request-id'] = uuid(proxy.ctx.random);
  if (!headers['x-forwarded-proto']) headers['x-forwarded-proto'] = 'http';
  if (downstream.useRemoteAddress) {
    // An edge proxy: the peer's address goes into x-forwarded-for and x-envoy-external-address,
    // and the peer's own x-envoy-* control headers are dropped. Current Envoy counts no address as
    // internal unless internal_address_config lists it, which Istio leaves empty (so no x-envoy-internal).
    const ip = downstream.remoteAddress.replace(/:\d+$/, '');
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']},${ip}` : ip;
    headers['x-envoy-external-address'] = ip;
  }
  if (tls) {
    // Metadata exchange and the caller's decorator are for the proxies, not the app (dropped above).
    const xfcc = clientCertDetails(proxy, tls.clientIdentity);
    const mode = hcm?.forwardClientCertDetails ?? 'APPEND_FORWARD';
    headers['x-forwarded-client-cert'] = mode === 'APPEND_FORWARD' && headers['x-forwarded-client-cert'] ? `${headers['x-forwarded-client-cert']},${xfcc}` : xfcc;
  }
  return { method: req.method, path: req.path, headers, body: req.body };
}

type Finished = { response: HttpResponse; outcome: RouterOutcome; routeName?: string };
type Progress = Partial<RouterOutcome> & { routeName?: string };

function localOutcome(proxy: EnvoyProxy, reply: LocalReply): Finished {
  const response = localResponse(reply, proxy.ctx.now());
  return { response, outcome: { response: localResponse(reply, proxy.ctx.now()), flags: reply.flags ?? [], details: reply.details, fromUpstream: false } };
}

/** The proxy container's own network, for a proxy serving without an interceptor's wire (a gateway). */
function containerWire(proxy: EnvoyProxy): UpstreamWire {
  return (t, rq, o) => proxy.ctx.net.request(t, rq, o);
}

/** A request's routing as started: answered locally at once, or the router's outcome to come. */
type Routing = { finished: Finished } | { pending: Promise<RouterOutcome>; r: Route; outbound: boolean };

/**
 * Routes a request up to the router's exchange (synchronously; serveChain awaits the router itself,
 * one async frame less per request than an async route()).
 */
function startRoute(proxy: EnvoyProxy, listener: Listener, hcm: HttpConnectionManager | undefined, req: HttpRequest, opts: ServeOptions, scheme: string, signal: { readonly aborted: boolean } | undefined, progress: Progress): Routing {
  if (opts.preReply) return { finished: localOutcome(proxy, opts.preReply) };
  const rc = routeConfigOf(proxy, hcm);
  const vh = rc && selectVirtualHost(rc, req.headers.host ?? '');
  const r = vh && selectRoute(vh, req);
  if (!r) return { finished: localOutcome(proxy, NO_ROUTE) };
  if (r.name) progress.routeName = r.name;
  const outbound = listener.direction !== 'inbound';
  // The router copies the headers it sends, unless this side already made a copy to add its own.
  let routed = req;
  let owned = false;
  if (outbound && (r.decorator || proxy.identity.type === 'sidecar')) {
    owned = true;
    routed = { ...req, headers: { ...req.headers } };
    if (r.decorator) routed.headers['x-envoy-decorator-operation'] = r.decorator;
    if (proxy.identity.type === 'sidecar') {
      const peer = peerMetadataOf(proxy);
      routed.headers['x-envoy-peer-metadata-id'] = peer.id;
      routed.headers['x-envoy-peer-metadata'] = peer.metadata;
    }
  }
  const env: RouterEnv = { proxy, wire: opts.wire ?? containerWire(proxy), scheme, progress };
  if (opts.fixedTarget) env.fixedTarget = opts.fixedTarget;
  if (opts.upstreamBindIP) env.upstreamBindIP = opts.upstreamBindIP;
  if (signal) env.signal = signal;
  return { pending: runRoute(env, r, routed, owned), r, outbound };
}

/** The response the HCM sends for the router's outcome: this side's headers, a copy of its own. */
function endRoute(outcome: RouterOutcome, r: Route, outbound: boolean): Finished {
  const headers = copyHeaders(outcome.response.headers, outbound ? OUTBOUND_RESPONSE_DROPPED : undefined);
  if (!outbound && r.decorator) headers['x-envoy-decorator-operation'] = r.decorator;
  if (outcome.fromUpstream && outcome.serviceTimeMs !== undefined) headers['x-envoy-upstream-service-time'] = String(Math.max(0, Math.round(outcome.serviceTimeMs)));
  const response: HttpResponse = { ...outcome.response, headers };
  return r.name ? { response, outcome, routeName: r.name } : { response, outcome };
}

function startRouteSafely(proxy: EnvoyProxy, listener: Listener, hcm: HttpConnectionManager | undefined, req: HttpRequest, opts: ServeOptions, scheme: string, signal: { readonly aborted: boolean } | undefined, progress: Progress): Routing {
  try {
    return startRoute(proxy, listener, hcm, req, opts, scheme, signal, progress);
  } catch (e) {
    // As from an async route(): a failure before the router is a rejected routing, not a throw.
    return { pending: Promise.reject(e), r: undefined as unknown as Route, outbound: false };
  }
}

export async function serveChain(proxy: EnvoyProxy, listener: Listener, hcm: HttpConnectionManager | undefined, req: HttpRequest, downstream: Downstream, opts: ServeOptions = {}): Promise<HttpResponse> {
  const start = proxy.ctx.now();
  const dreq = downstreamHeaders(proxy, listener, hcm, req, downstream);
  const scheme = dreq.headers['x-forwarded-proto'] ?? 'http';
  const serverName = hcm?.serverName ?? (listener.direction === 'outbound' ? 'envoy' : 'istio-envoy');

  // Only a client with a deadline can go away first; the router only reads the flag, so a plain
  // object stands in for an AbortController (one per request showed in the mesh bench's profile).
  const gone = downstream.clientDeadline !== undefined ? { aborted: false } : undefined;
  const progress: Progress = {};
  const routing = startRouteSafely(proxy, listener, hcm, dreq, opts, scheme, gone, progress);
  let finished: Finished | undefined;
  if (downstream.clientDeadline !== undefined) {
    const left = downstream.clientDeadline - start.getTime();
    const settled: Promise<Finished> = 'finished' in routing ? Promise.resolve(routing.finished) : routing.pending.then((o) => endRoute(o, routing.r, routing.outbound));
    finished = await new Promise<Finished | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), Math.max(0, left));
      settled.then((f) => (clearTimeout(t), resolve(f)), () => (clearTimeout(t), resolve(undefined)));
    });
  } else if ('finished' in routing) finished = routing.finished;
  else finished = endRoute(await routing.pending, routing.r, routing.outbound);

  const end = proxy.ctx.now();
  if (!finished) {
    // The client hung up first: Envoy resets the upstream and logs the stream as DC, code 0.
    if (gone) gone.aborted = true;
    const empty = { status: 0, headers: {}, body: Buffer.alloc(0) };
    const { routeName, ...sofar } = progress;
    report(proxy, listener, downstream, dreq, start, end, empty, { ...sofar, response: empty, flags: [...(sofar.flags ?? []), 'DC'], details: 'downstream_remote_disconnect', fromUpstream: false }, routeName);
    const [host, p] = [downstream.localAddress.replace(/:\d+$/, ''), Number(downstream.localAddress.split(':').pop())];
    throw new NetworkError('ETIMEDOUT', host, p);
  }
  // endRoute() and localOutcome() hand back a response and headers of their own making: set server in place, no second copy.
  const response = finished.response;
  response.headers.server = serverName;
  report(proxy, listener, downstream, dreq, start, end, response, finished.outcome, finished.routeName);
  return response;
}

/** `reviews.default.svc.cluster.local` for an inbound request's Service, built once per Service name. */
const serviceHosts = new Map<string, Map<string, string>>();
function serviceHost(service: { namespace: string; name: string }): string {
  let byName = serviceHosts.get(service.namespace);
  if (!byName) {
    if (serviceHosts.size > 1000) serviceHosts.clear();
    serviceHosts.set(service.namespace, (byName = new Map()));
  }
  let host = byName.get(service.name);
  if (host === undefined) {
    if (byName.size > 1000) byName.clear();
    byName.set(service.name, (host = `${service.name}.${service.namespace}.svc.cluster.local`));
  }
  return host;
}

/** The access log line and the request metrics for one finished (or abandoned) request. */
function report(proxy: EnvoyProxy, listener: Listener, downstream: Downstream, req: HttpRequest, start: Date, end: Date, response: HttpResponse, outcome: RouterOutcome, routeName: string | undefined): void {
  const durationMs = end.getTime() - start.getTime();
  const accessLog = proxy.config?.accessLog;
  if (accessLog) {
    const originalPath = outcome.upstreamRequest?.headers['x-envoy-original-path'];
    const entry: AccessLogEntry = {
      start,
      req: originalPath ? { ...req, headers: { ...req.headers, 'x-envoy-original-path': originalPath } } : req,
      responseHeaders: response.headers,
      responseCode: response.status,
      flags: outcome.flags,
      details: outcome.details,
      bytesReceived: req.body.length,
      bytesSent: response.body.length,
      durationMs,
      downstreamLocalAddress: downstream.localAddress,
      downstreamRemoteAddress: downstream.remoteAddress,
    };
    if (outcome.transportFailureReason) entry.transportFailureReason = outcome.transportFailureReason;
    if (outcome.upstreamHost) entry.upstreamHost = outcome.upstreamHost;
    if (outcome.cluster) entry.upstreamCluster = outcome.cluster;
    if (outcome.upstreamLocalAddress) entry.upstreamLocalAddress = outcome.upstreamLocalAddress;
    if (downstream.transport?.tls) entry.requestedServerName = downstream.transport.tls.sni;
    if (routeName) entry.routeName = routeName;
    const line = accessLogLine(accessLog, entry);
    if (line !== undefined) proxy.ctx.log(line);
  }

  const inbound = listener.direction === 'inbound';
  const self = proxyWorkload(proxy);
  const mtls = !!downstream.transport?.tls;
  const destService = inbound
    ? downstream.service
      ? serviceHost(downstream.service)
      : undefined
    : (proxy.cluster(outcome.cluster)?.service?.hostname ?? (outcome.cluster === 'PassthroughCluster' ? req.headers.host?.replace(/:\d+$/, '') : undefined));
  const metrics: RequestMetricsInput = {
    reporter: inbound ? 'destination' : 'source',
    source: inbound ? (downstream.peer ?? UNKNOWN_WORKLOAD) : self,
    destination: inbound ? self : endpointWorkload(outcome.endpoint),
    responseCode: response.status,
    flags: formatFlags(outcome.flags),
    mtls,
    durationMs,
    requestBytes: req.body.length,
    responseBytes: response.body.length,
  };
  if (destService) metrics.destinationService = destService;
  recordRequest(proxy, metrics);
}
