/**
 * Envoy's HTTP connection manager for one request on one listener: the filter chain's route
 * table (RDS or inline), the request headers Istio's proxies add or strip, the router, the
 * response headers (`server`, x-envoy-upstream-service-time, decorator), then the access log
 * line and the standard metrics. Sidecars (envoy/sidecar.ts) and gateways (envoy/gateway.ts)
 * both serve HTTP through `serveHttp`.
 */
import { createHash } from 'node:crypto';
import { NetworkError, type HttpRequest, type HttpResponse, type RequestTarget, type Transport } from '../../../images/types.js';
import { spiffeId, type FilterChain, type HttpConnectionManager, type Listener, type RouteConfiguration } from '../xds/types.js';
import { accessLogLine } from './access-log.js';
import { selectRoute, selectVirtualHost } from './hcm-match.js';
import { endpointWorkload, proxyWorkload, recordRequest, UNKNOWN_WORKLOAD, type WorkloadInfo } from './hcm-metrics.js';
import { localResponse, NO_ROUTE, type LocalReply } from './local-reply.js';
import type { EnvoyProxy } from './proxy.js';
import { runRoute, type RouterOutcome } from './router.js';
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

function uuid(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 32; i++) hex += Math.floor(random() * 16).toString(16);
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

/** The request headers the HCM completes before routing (Istio's proxy_headers.go and Envoy's defaults). */
function downstreamHeaders(proxy: EnvoyProxy, listener: Listener, hcm: HttpConnectionManager | undefined, req: HttpRequest, downstream: Downstream): HttpRequest {
  const headers = { ...req.headers };
  if (!headers['x-request-id']) headers['x-request-id'] = uuid(proxy.ctx.random);
  if (!headers['x-forwarded-proto']) headers['x-forwarded-proto'] = 'http';
  if (downstream.useRemoteAddress) {
    // An edge proxy: the peer's address goes into x-forwarded-for and x-envoy-external-address,
    // and the peer's own x-envoy-* control headers are dropped. Current Envoy counts no address as
    // internal unless internal_address_config lists it, which Istio leaves empty (so no x-envoy-internal).
    const ip = downstream.remoteAddress.replace(/:\d+$/, '');
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']},${ip}` : ip;
    for (const h of EXTERNAL_STRIPPED) delete headers[h];
    headers['x-envoy-external-address'] = ip;
  }
  if (listener.direction === 'inbound') {
    // Metadata exchange and the caller's decorator are for the proxies, not the app.
    for (const h of PEER_HEADERS) delete headers[h];
    delete headers['x-envoy-decorator-operation'];
    const tls = downstream.transport?.tls;
    if (tls) {
      const xfcc = clientCertDetails(proxy, tls.clientIdentity);
      const mode = hcm?.forwardClientCertDetails ?? 'APPEND_FORWARD';
      headers['x-forwarded-client-cert'] = mode === 'APPEND_FORWARD' && headers['x-forwarded-client-cert'] ? `${headers['x-forwarded-client-cert']},${xfcc}` : xfcc;
    } else delete headers['x-forwarded-client-cert'];
  }
  return { method: req.method, path: req.path, headers, body: req.body };
}

type Finished = { response: HttpResponse; outcome: RouterOutcome; routeName?: string };
type Progress = Partial<RouterOutcome> & { routeName?: string };

async function route(proxy: EnvoyProxy, listener: Listener, hcm: HttpConnectionManager | undefined, req: HttpRequest, opts: ServeOptions, scheme: string, signal: { readonly aborted: boolean } | undefined, progress: Progress): Promise<Finished> {
  const now = () => proxy.ctx.now();
  const local = (reply: LocalReply): RouterOutcome => ({ response: localResponse(reply, now()), flags: reply.flags ?? [], details: reply.details, fromUpstream: false });
  if (opts.preReply) return { response: localResponse(opts.preReply, now()), outcome: local(opts.preReply) };
  const rc = routeConfigOf(proxy, hcm);
  const vh = rc && selectVirtualHost(rc, req.headers.host ?? '');
  const r = vh && selectRoute(vh, req);
  if (!r) return { response: localResponse(NO_ROUTE, now()), outcome: local(NO_ROUTE) };
  if (r.name) progress.routeName = r.name;
  const outbound = listener.direction !== 'inbound';
  const routed = { ...req, headers: { ...req.headers } };
  if (outbound) {
    if (r.decorator) routed.headers['x-envoy-decorator-operation'] = r.decorator;
    if (proxy.identity.type === 'sidecar') {
      const peer = peerMetadataOf(proxy);
      routed.headers['x-envoy-peer-metadata-id'] = peer.id;
      routed.headers['x-envoy-peer-metadata'] = peer.metadata;
    }
  }
  const outcome = await runRoute({ proxy, wire: opts.wire ?? ((t, rq, o) => proxy.ctx.net.request(t, rq, o)), ...(opts.fixedTarget ? { fixedTarget: opts.fixedTarget } : {}), ...(opts.upstreamBindIP ? { upstreamBindIP: opts.upstreamBindIP } : {}), scheme, ...(signal ? { signal } : {}), progress }, r, routed);
  const headers = { ...outcome.response.headers };
  if (outbound) {
    delete headers['x-envoy-decorator-operation'];
    for (const h of PEER_HEADERS) delete headers[h];
  } else if (r.decorator) headers['x-envoy-decorator-operation'] = r.decorator;
  if (outcome.fromUpstream && outcome.serviceTimeMs !== undefined) headers['x-envoy-upstream-service-time'] = String(Math.max(0, Math.round(outcome.serviceTimeMs)));
  return { response: { ...outcome.response, headers }, outcome, ...(r.name ? { routeName: r.name } : {}) };
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
  const routing = route(proxy, listener, hcm, dreq, opts, scheme, gone, progress);
  let finished: Finished | undefined;
  if (downstream.clientDeadline !== undefined) {
    const left = downstream.clientDeadline - start.getTime();
    finished = await new Promise<Finished | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), Math.max(0, left));
      routing.then((f) => (clearTimeout(t), resolve(f)), () => (clearTimeout(t), resolve(undefined)));
    });
  } else finished = await routing;

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
  // route() hands back a response and headers of its own making: set server in place, no second copy.
  const response = finished.response;
  response.headers.server = serverName;
  report(proxy, listener, downstream, dreq, start, end, response, finished.outcome, finished.routeName);
  return response;
}

/** The access log line and the request metrics for one finished (or abandoned) request. */
function report(proxy: EnvoyProxy, listener: Listener, downstream: Downstream, req: HttpRequest, start: Date, end: Date, response: HttpResponse, outcome: RouterOutcome, routeName: string | undefined): void {
  const durationMs = end.getTime() - start.getTime();
  const logHeaders = outcome.upstreamRequest?.headers['x-envoy-original-path'] ? { ...req.headers, 'x-envoy-original-path': outcome.upstreamRequest.headers['x-envoy-original-path'] } : req.headers;
  const line = accessLogLine(proxy.config?.accessLog, {
    start,
    req: logHeaders === req.headers ? req : { ...req, headers: logHeaders },
    responseHeaders: response.headers,
    responseCode: response.status,
    flags: outcome.flags,
    details: outcome.details,
    ...(outcome.transportFailureReason ? { transportFailureReason: outcome.transportFailureReason } : {}),
    bytesReceived: req.body.length,
    bytesSent: response.body.length,
    durationMs,
    ...(outcome.upstreamHost ? { upstreamHost: outcome.upstreamHost } : {}),
    ...(outcome.cluster ? { upstreamCluster: outcome.cluster } : {}),
    ...(outcome.upstreamLocalAddress ? { upstreamLocalAddress: outcome.upstreamLocalAddress } : {}),
    downstreamLocalAddress: downstream.localAddress,
    downstreamRemoteAddress: downstream.remoteAddress,
    ...(downstream.transport?.tls ? { requestedServerName: downstream.transport.tls.sni } : {}),
    ...(routeName ? { routeName } : {}),
  });
  if (line !== undefined) proxy.ctx.log(line);

  const inbound = listener.direction === 'inbound';
  const self = proxyWorkload(proxy);
  const mtls = !!downstream.transport?.tls;
  const destService = inbound
    ? downstream.service
      ? `${downstream.service.name}.${downstream.service.namespace}.svc.cluster.local`
      : undefined
    : (proxy.cluster(outcome.cluster)?.service?.hostname ?? (outcome.cluster === 'PassthroughCluster' ? req.headers.host?.replace(/:\d+$/, '') : undefined));
  recordRequest(proxy, {
    reporter: inbound ? 'destination' : 'source',
    source: inbound ? (downstream.peer ?? UNKNOWN_WORKLOAD) : self,
    destination: inbound ? self : endpointWorkload(outcome.endpoint),
    ...(destService ? { destinationService: destService } : {}),
    responseCode: response.status,
    flags: formatFlags(outcome.flags),
    mtls,
    durationMs,
    requestBytes: req.body.length,
    responseBytes: response.body.length,
  });
}
