/**
 * Hand-built proxies for the Envoy unit tests: an EnvoyProxy with a recording log, a seeded
 * random, and a ProxyConfig made of the listener/route/cluster pieces a test names; upstream
 * "pods" are functions answering by address.
 */
import { request } from '../../server/sim/images/http.js';
import type { ContainerContext, HttpRequest, HttpResponse, RequestTarget, Transport } from '../../server/sim/images/types.js';
import { EnvoyProxy } from '../../server/sim/addons/istio/envoy/proxy.js';
import type { Cluster, ClusterLoadAssignment, LbEndpoint, Listener, ProxyConfig, Route, RouteConfiguration, VirtualHost } from '../../server/sim/addons/istio/xds/types.js';

/** Mulberry32: a small seeded PRNG so statistical tests are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Sent {
  target: RequestTarget;
  req: HttpRequest;
  transport?: Transport;
  timeoutMs?: number;
}

export type Upstream = (req: HttpRequest, target: RequestTarget) => Promise<HttpResponse> | HttpResponse;

export function reply(status: number, body = '', headers: Record<string, string> = {}): HttpResponse {
  const b = Buffer.from(body);
  return { status, headers: { 'content-length': String(b.length), ...headers }, body: b };
}

export function cluster(name: string, extra: Partial<Cluster> = {}): Cluster {
  const m = /^outbound\|(\d+)\|([^|]*)\|(.*)$/.exec(name);
  return {
    name,
    direction: 'outbound',
    type: 'EDS',
    ...(m ? { service: { hostname: m[3]!, port: Number(m[1]), ...(m[2] ? { subset: m[2] } : {}) } } : {}),
    lbPolicy: 'ROUND_ROBIN',
    circuitBreakers: { maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, maxRequestsPerConnection: 0 },
    connectTimeoutMs: 10000,
    ...extra,
  };
}

export function endpoint(address: string, port: number, app = 'reviews', version = 'v1', extra: Partial<LbEndpoint> = {}): LbEndpoint {
  return { address, port, health: 'HEALTHY', tlsMode: 'istio', pod: { namespace: 'default', name: `${app}-${version}-5d4f8b7c9d-abcde`, labels: { app, version }, serviceAccount: `bookinfo-${app}` }, ...extra };
}

export function vhost(name: string, domains: string[], routes: Route[]): VirtualHost {
  return { name, domains, routes };
}

export const toCluster = (cluster: string, extra: Partial<Route> = {}, action: Partial<NonNullable<Route['route']>> = {}): Route => ({
  match: {},
  route: { clusters: [{ cluster, weight: 100 }], timeoutMs: 0, ...action },
  ...extra,
});

export function httpListener(port: number, routeConfigName = String(port)): Listener {
  return { name: `0.0.0.0_${port}`, address: '0.0.0.0', port, direction: 'outbound', filterChains: [{ match: {}, http: { routeConfigName } }] };
}

export interface Fixture {
  proxy: EnvoyProxy;
  logs: string[];
  sent: Sent[];
  /** Answers by `ip:port` (or `*`). */
  upstreams: Map<string, Upstream>;
  wire: (target: RequestTarget, req: HttpRequest, o: { timeoutMs?: number; transport?: Transport }) => Promise<HttpResponse>;
}

export function makeProxy(opts: {
  routes: RouteConfiguration[];
  clusters?: Cluster[];
  endpoints?: ClusterLoadAssignment[];
  listeners?: Listener[];
  random?: () => number;
  now?: () => Date;
  accessLog?: boolean;
  type?: 'sidecar' | 'router';
  pod?: { name: string; namespace: string; ip: string; labels: Record<string, string>; serviceAccount: string };
}): Fixture {
  const logs: string[] = [];
  const sent: Sent[] = [];
  const upstreams = new Map<string, Upstream>();
  const pod = opts.pod ?? { name: 'productpage-v1-6b746f74dc-9stvs', namespace: 'default', ip: '10.244.0.10', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' };
  const wire: Fixture['wire'] = async (target, req, o) => {
    sent.push({ target, req, ...(o.transport ? { transport: o.transport } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
    const up = upstreams.get(`${target.host}:${target.port}`) ?? upstreams.get('*');
    if (!up) {
      const { NetworkError } = await import('../../server/sim/images/types.js');
      throw new NetworkError('ECONNREFUSED', target.host, target.port);
    }
    return up(req, target);
  };
  const ctx = {
    podName: pod.name,
    namespace: pod.namespace,
    podIP: pod.ip,
    nodeName: 'node-1',
    hostname: pod.name,
    containerName: 'istio-proxy',
    image: 'docker.io/istio/proxyv2:1.30.3',
    env: { ISTIO_META_WORKLOAD_NAME: pod.name.replace(/-[a-z0-9]+-[a-z0-9]{5}$/, '') },
    labels: pod.labels,
    log: (line: string) => void logs.push(line),
    net: { request: (t: RequestTarget, r: HttpRequest, o: { timeoutMs?: number; transport?: Transport } = {}) => wire(t, r, o), resolve: () => null },
    now: opts.now ?? (() => new Date()),
    random: opts.random ?? seeded(1),
  } as unknown as ContainerContext;
  const proxy = new EnvoyProxy({ id: `${pod.name}.${pod.namespace}`, podName: pod.name, namespace: pod.namespace, podIP: pod.ip, type: opts.type ?? 'sidecar', labels: pod.labels, serviceAccount: pod.serviceAccount }, ctx);
  const config: ProxyConfig = {
    version: '2026-01-01T00:00:00Z/1',
    proxy: proxy.identity,
    listeners: opts.listeners ?? [httpListener(9080)],
    routes: opts.routes,
    clusters: opts.clusters ?? [],
    endpoints: opts.endpoints ?? [],
    ...(opts.accessLog === false ? {} : { accessLog: { path: '/dev/stdout', encoding: 'TEXT' as const } }),
  };
  proxy.apply(config);
  return { proxy, logs, sent, upstreams, wire };
}

export const get = (path: string, host: string, headers: Record<string, string> = {}) => request('GET', path, { host, 'user-agent': 'curl/8.16.0', ...headers });
