/**
 * How the router reaches upstreams: the cluster manager (envoy/upstream*, the upstream helper's:
 * load balancing, circuit breakers, outlier detection, TLS) behind one interface, the wire a
 * proxy sends on, and a plain send to a fixed address (inbound clusters, PassthroughCluster)
 * that words failures as Envoy does.
 */
import { NetworkError, type HttpRequest, type HttpResponse, type RequestOptions, type RequestTarget, type Transport } from '../../../images/types.js';
import { spiffeId, type Cluster, type LbEndpoint } from '../xds/types.js';
import type { EnvoyProxy } from './proxy.js';
import type { UpstreamAttempt, UpstreamResult } from './upstream-types.js';

/** Puts one request on the pod network from the proxy (an interceptor's `next`, or the gateway's own net). */
export type UpstreamWire = (target: RequestTarget, req: HttpRequest, opts: RequestOptions) => Promise<HttpResponse>;

/** One attempt to a CDS cluster: the upstream helper's cluster manager implements it. */
export interface ClusterManager {
  attempt(proxy: EnvoyProxy, attempt: UpstreamAttempt, wire: UpstreamWire): Promise<UpstreamResult>;
  /** The cluster's retry budget (max_retries) before a retry; false: overflow, no retry. Absent: unlimited. */
  acquireRetry?(proxy: EnvoyProxy, cluster: string): boolean;
  /** A granted retry has finished (`succeeded`: its answer needs no further retry). */
  releaseRetry?(proxy: EnvoyProxy, cluster: string, succeeded: boolean): void;
}

export const ephemeralPort = (random: () => number) => 32768 + Math.floor(random() * 28232);

const CONNECT_REFUSED = 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused';
const CONNECT_TIMEOUT = 'upstream connect error or disconnect/reset before headers. reset reason: connection timeout';
const TERMINATION = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';

function failed(status: number, body: string, details: string, flag: string, failure: UpstreamResult['failure'], now: Date, upstreamHost?: string): UpstreamResult {
  const buf = Buffer.from(body, 'utf8');
  const headers: Record<string, string> = { 'content-length': String(buf.length) };
  if (buf.length) headers['content-type'] = 'text/plain';
  headers.date = now.toUTCString();
  return { response: { status, headers, body: buf }, flags: [flag], details, fromUpstream: false, ...(upstreamHost ? { upstreamHost } : {}), ...(failure ? { failure } : {}) };
}

/** The result of an attempt that never left (no such cluster, no healthy endpoint). */
export const clusterNotFound = (now: Date): UpstreamResult => failed(503, '', 'cluster_not_found', 'NC', 'cluster-not-found', now);
export const noHealthyUpstream = (now: Date): UpstreamResult => failed(503, 'no healthy upstream', 'no_healthy_upstream', 'UH', 'no-healthy-upstream', now);

/**
 * Sends to one address and turns the network's failures into Envoy's: refused → 503 UF
 * connection_failure, reset → 503 UC connection_termination, an unroutable address → UF timeout.
 */
export async function sendTo(proxy: EnvoyProxy, wire: UpstreamWire, target: RequestTarget, req: HttpRequest, opts: { timeoutMs?: number; transport?: Transport; bindIP?: string }, endpoint?: LbEndpoint): Promise<UpstreamResult> {
  const upstreamHost = `${target.host}:${target.port}`;
  const started = proxy.ctx.now().getTime();
  try {
    const response = await wire(target, req, { ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.transport ? { transport: opts.transport } : {}) });
    return {
      response,
      flags: [],
      details: 'via_upstream',
      fromUpstream: true,
      upstreamHost,
      upstreamLocalAddress: `${opts.bindIP ?? proxy.identity.podIP}:${ephemeralPort(proxy.ctx.random)}`,
      serviceTimeMs: proxy.ctx.now().getTime() - started,
      ...(endpoint ? { endpoint } : {}),
    };
  } catch (e) {
    const now = proxy.ctx.now();
    const code = e instanceof NetworkError ? e.code : 'ECONNRESET';
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') return failed(503, CONNECT_REFUSED, 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_Connection_refused}', 'UF', 'connect-failure', now, upstreamHost);
    if (code === 'ETIMEDOUT') return failed(503, CONNECT_TIMEOUT, 'upstream_reset_before_response_started{connection_timeout}', 'UF', 'connect-failure', now, upstreamHost);
    return failed(503, TERMINATION, 'upstream_reset_before_response_started{connection_termination}', 'UC', 'reset', now, upstreamHost);
  }
}

/** What TLS a cluster's connection to this endpoint carries: the DR's mode, or Istio's auto mTLS. */
export function transportFor(proxy: EnvoyProxy, cluster: Cluster, ep: LbEndpoint): Transport | undefined {
  const mtls = cluster.tls === 'ISTIO_MUTUAL' || (cluster.tls === undefined && ep.tlsMode === 'istio');
  if (!mtls) return undefined;
  const sni = cluster.sni ?? cluster.name.replace(/^outbound\|(\d+)\|([^|]*)\|(.*)$/, (_m, port: string, subset: string, host: string) => `outbound_.${port}_.${subset}_.${host}`);
  return { tls: { sni, clientIdentity: spiffeId(proxy.identity.namespace, proxy.identity.serviceAccount) } };
}

/**
 * A minimal cluster manager (random healthy endpoint, auto mTLS, no circuit breaking or outlier
 * detection), used until the upstream helper's `envoy/upstream.ts` is wired in through
 * `setClusterManager`.
 */
export const basicClusterManager: ClusterManager = {
  async attempt(proxy, a, wire) {
    const now = proxy.ctx.now();
    const config = proxy.config;
    const cluster = config?.clusters.find((c) => c.name === a.cluster);
    if (!config || !cluster) return clusterNotFound(now);
    const all = (config.endpoints.find((e) => e.cluster === a.cluster)?.endpoints ?? []).filter((e) => e.health === 'HEALTHY');
    const fresh = a.avoidHosts?.length ? all.filter((e) => !a.avoidHosts!.includes(`${e.address}:${e.port}`)) : all;
    const pool = fresh.length ? fresh : all;
    if (!pool.length) return noHealthyUpstream(now);
    const ep = pool[Math.floor(proxy.ctx.random() * pool.length)]!;
    const transport = transportFor(proxy, cluster, ep);
    return sendTo(proxy, wire, { host: ep.address, port: ep.port }, a.req, { ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}), ...(transport ? { transport } : {}) }, ep);
  },
};

let current: ClusterManager = basicClusterManager;

/** The cluster manager every proxy's router uses (the upstream helper's implementation once it lands). */
export function clusterManager(): ClusterManager {
  return current;
}

export function setClusterManager(cm: ClusterManager): void {
  current = cm;
}
