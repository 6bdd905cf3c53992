/**
 * Outbound clusters and their endpoints (pilot's cluster_builder.go, cluster_traffic_policy.go,
 * xds/endpoints): one cluster per service port and one per DestinationRule subset, the rule's
 * trafficPolicy merged with the subset's and the port's, Istio's circuit-breaker defaults, and the
 * clusters every Envoy has (PassthroughCluster, BlackHoleCluster, the bootstrap's).
 */
import type { CircuitBreakers, Cluster, ClusterLoadAssignment, HashPolicy, LbEndpoint, OutlierDetection, UpstreamTls } from '../types.js';
import { hostMatches, resolveShortname, visibleFrom } from './hosts.js';
import type { MeshConfig, MeshService, MeshServicePort } from './mesh.js';
import { durationMs, subsetKey } from './routes.js';
import { objects, record, stringMap } from './shape.js';

type Obj = Record<string, any>;

const MAX = 4294967295;

/** getDefaultCircuitBreakerThresholds: Istio lifts Envoy's 1024/3 defaults to 2^32-1. */
export const ISTIO_DEFAULT_CIRCUIT_BREAKERS: CircuitBreakers = { maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX, maxRequestsPerConnection: 0 };
/** Envoy's own defaults, for bootstrap clusters nobody configured. */
export const ENVOY_DEFAULT_CIRCUIT_BREAKERS: CircuitBreakers = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3, maxRequestsPerConnection: 0 };

/** `outbound_.9080_.v1_.reviews.default.svc.cluster.local` (model.BuildDNSSrvSubsetKey). */
export const sniFor = (port: number, subset: string | undefined, hostname: string) => `outbound_.${port}_.${subset ?? ''}_.${hostname}`;

/** Configs oldest first, as pilot orders them. */
export const byAge = (a: Obj, b: Obj) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`);

const drHosts = new WeakMap<Obj, string>();
/** A DestinationRule's host, resolved in its namespace (remembered per object: pushes reuse the same objects). */
function drHost(dr: Obj): string {
  let h = drHosts.get(dr);
  if (h === undefined) drHosts.set(dr, (h = typeof dr.spec?.host === 'string' && dr.spec.host ? resolveShortname(dr.spec.host, dr.metadata.namespace) : '\u0000no host'));
  return h;
}

/**
 * The DestinationRule for a host as a proxy sees it: the proxy's namespace first, then the
 * service's, then the root namespace, then any other exporting one; an exact host beats the most
 * specific wildcard. DestinationRules with a workloadSelector apply to their workloads only.
 * `drs` oldest first (sortByAge).
 */
export function destinationRuleFor(drs: Obj[], hostname: string, svcNamespace: string, proxyNamespace: string, proxyLabels: Readonly<Record<string, string>>, rootNamespace: string): Obj | undefined {
  const candidates = drs.filter((dr) => {
    const ws = record(record(dr.spec)?.workloadSelector) ? stringMap(dr.spec.workloadSelector.matchLabels) : undefined;
    if (ws && (dr.metadata.namespace !== proxyNamespace || !Object.entries(ws).every(([k, v]) => proxyLabels[k] === v))) return false;
    return visibleFrom(dr.spec?.exportTo, dr.metadata.namespace, proxyNamespace) && hostMatches(drHost(dr), hostname);
  });
  const best = (list: Obj[]) => {
    let pick: Obj | undefined;
    let score = -1;
    for (const dr of list) {
      const h = drHost(dr);
      const s = h === hostname ? Number.MAX_SAFE_INTEGER : h.length;
      // Oldest first on ties, as pilot sorts configs by creation time.
      if (s > score) (pick = dr), (score = s);
    }
    return pick;
  };
  for (const ns of [proxyNamespace, svcNamespace, rootNamespace]) {
    const b = best(candidates.filter((d) => d.metadata.namespace === ns));
    if (b) return mergeSameHost(b, candidates);
  }
  const b = best(candidates);
  return b && mergeSameHost(b, candidates);
}

/**
 * MergeDestinationRules: rules of one namespace for the same host (no workloadSelector) act as
 * one, the oldest first: its traffic policy unless it has none, every subset whose name is new.
 */
function mergeSameHost(first: Obj, candidates: Obj[]): Obj {
  if (record(first.spec)?.workloadSelector) return first;
  const same = candidates.filter((d) => d !== first && !d.spec?.workloadSelector && d.metadata.namespace === first.metadata.namespace && drHost(d) === drHost(first));
  if (!same.length) return first;
  const merged = { ...first, spec: { ...first.spec, subsets: objects(first.spec?.subsets) } };
  for (const d of same) {
    if (!record(merged.spec.trafficPolicy) && record(d.spec?.trafficPolicy)) merged.spec.trafficPolicy = d.spec.trafficPolicy;
    for (const sub of objects(d.spec?.subsets)) if (!merged.spec.subsets.some((x: Obj) => x.name === sub.name)) merged.spec.subsets.push(sub);
  }
  return merged;
}

interface Policy {
  connectionPool?: Obj;
  loadBalancer?: Obj;
  outlierDetection?: Obj;
  tls?: Obj;
}

/** A traffic policy with the port's portLevelSettings applied over it (each component wholesale). */
function forPort(v: unknown, port: number): Policy {
  const p = record(v);
  if (!p) return {};
  const out: Policy = { connectionPool: record(p.connectionPool), loadBalancer: record(p.loadBalancer), outlierDetection: record(p.outlierDetection), tls: record(p.tls) };
  const pls = objects(p.portLevelSettings).find((s) => Number(record(s.port)?.number) === port);
  if (pls) {
    if (record(pls.connectionPool)) out.connectionPool = pls.connectionPool;
    if (record(pls.loadBalancer)) out.loadBalancer = pls.loadBalancer;
    if (record(pls.outlierDetection)) out.outlierDetection = pls.outlierDetection;
    if (record(pls.tls)) out.tls = pls.tls;
  }
  return out;
}

/** MergeTrafficPolicy: the subset's components (and its port-level ones) replace the rule's. */
export function effectivePolicy(dr: Obj | undefined, port: number, subset?: Obj): Policy {
  const top = forPort(record(dr?.spec)?.trafficPolicy, port);
  if (!record(subset?.trafficPolicy)) return top;
  const sub = forPort(subset!.trafficPolicy, port);
  return {
    connectionPool: sub.connectionPool ?? top.connectionPool,
    loadBalancer: sub.loadBalancer ?? top.loadBalancer,
    outlierDetection: sub.outlierDetection ?? top.outlierDetection,
    tls: sub.tls ?? top.tls,
  };
}

function circuitBreakers(cp: Obj | undefined): CircuitBreakers {
  const cb = { ...ISTIO_DEFAULT_CIRCUIT_BREAKERS };
  if (!cp) return cb;
  const http = record(cp.http) ?? {};
  if (Number(http.http2MaxRequests) > 0) cb.maxRequests = Number(http.http2MaxRequests);
  if (Number(http.http1MaxPendingRequests) > 0) cb.maxPendingRequests = Number(http.http1MaxPendingRequests);
  if (Number(http.maxRetries) > 0) cb.maxRetries = Number(http.maxRetries);
  if (Number(http.maxRequestsPerConnection) > 0) cb.maxRequestsPerConnection = Number(http.maxRequestsPerConnection);
  if (Number(record(cp.tcp)?.maxConnections) > 0) cb.maxConnections = Number(cp.tcp.maxConnections);
  return cb;
}

/** applyOutlierDetection over Envoy's defaults (5 consecutive 5xx, 10s interval, 30s ejection, 10%); Istio's panic threshold is minHealthPercent (0). */
function outlierDetection(od: Obj | undefined): OutlierDetection | undefined {
  if (!od) return undefined;
  const out: OutlierDetection = { intervalMs: durationMs(od.interval) ?? 10_000, baseEjectionTimeMs: durationMs(od.baseEjectionTime) ?? 30_000, maxEjectionPercent: Number(od.maxEjectionPercent) > 0 ? Number(od.maxEjectionPercent) : 10 };
  // consecutive5xxErrors (or the deprecated consecutiveErrors): Envoy's 5 when unset; 0 disables.
  const c5 = od.consecutive5xxErrors ?? od.consecutiveErrors;
  out.consecutive5xx = c5 === undefined ? 5 : Number(c5);
  // Gateway errors count only when set (Envoy's default enforcement for them is 0%).
  if (od.consecutiveGatewayErrors !== undefined) out.consecutiveGatewayErrors = Number(od.consecutiveGatewayErrors);
  out.minHealthPercent = Number(od.minHealthPercent ?? 0);
  return out;
}

function lbPolicy(lb: Obj | undefined): Cluster['lbPolicy'] {
  if (record(lb?.consistentHash)) return lb!.consistentHash.maglev ? 'MAGLEV' : 'RING_HASH';
  switch (lb?.simple) {
    case 'RANDOM':
      return 'RANDOM';
    case 'ROUND_ROBIN':
      return 'ROUND_ROBIN';
    case 'PASSTHROUGH':
      return 'PASSTHROUGH';
    default:
      return 'LEAST_REQUEST';
  }
}

const clusterType = (svc: MeshService): Cluster['type'] => (svc.resolution === 'DNSLB' ? 'STRICT_DNS' : svc.resolution === 'DNSRoundRobinLB' ? 'LOGICAL_DNS' : svc.resolution === 'Passthrough' ? 'ORIGINAL_DST' : 'EDS');

export interface ClusterContext {
  destinationRules: Obj[];
  proxyNamespace: string;
  proxyLabels: Readonly<Record<string, string>>;
  mesh: MeshConfig;
}

function buildCluster(svc: MeshService, port: MeshServicePort, dr: Obj | undefined, subset: Obj | undefined, ctx: ClusterContext): Cluster {
  const pol = effectivePolicy(dr, port.port, subset);
  const subsetName: string | undefined = typeof subset?.name === 'string' ? subset.name : undefined;
  const lb = lbPolicy(pol.loadBalancer);
  let type = clusterType(svc);
  if (lb === 'PASSTHROUGH') type = 'ORIGINAL_DST';
  const c: Cluster = {
    name: subsetKey(port.port, subsetName, svc.hostname),
    direction: 'outbound',
    type,
    service: { hostname: svc.hostname, port: port.port, ...(subsetName ? { subset: subsetName } : {}) },
    ...(dr ? { destinationRule: { name: dr.metadata.name, namespace: dr.metadata.namespace } } : {}),
    lbPolicy: type === 'ORIGINAL_DST' ? 'PASSTHROUGH' : lb,
    circuitBreakers: circuitBreakers(pol.connectionPool),
    connectTimeoutMs: durationMs(record(pol.connectionPool?.tcp)?.connectTimeout) ?? ctx.mesh.connectTimeoutMs,
  };
  const od = outlierDetection(pol.outlierDetection);
  if (od) c.outlierDetection = od;
  const mode: string | undefined = pol.tls?.mode;
  const tls: UpstreamTls | undefined = mode === 'DISABLE' || mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL' ? mode : undefined;
  if (tls) {
    c.tls = tls;
    const sni = typeof pol.tls?.sni === 'string' && pol.tls.sni ? pol.tls.sni : undefined;
    if (tls === 'ISTIO_MUTUAL') c.sni = sni ?? sniFor(port.port, subsetName, svc.hostname);
    else if (tls !== 'DISABLE' && sni) c.sni = sni;
  } else if (svc.meshExternal || !ctx.mesh.enableAutoMtls) {
    // Auto mTLS never applies to mesh-external hosts, nor when the mesh turned it off.
    c.tls = 'DISABLE';
  } else {
    c.sni = sniFor(port.port, subsetName, svc.hostname);
  }
  return c;
}

function endpointsFor(svc: MeshService, port: MeshServicePort, subset: Obj | undefined): LbEndpoint[] {
  const want = stringMap(subset?.labels);
  return (svc.endpoints[port.port] ?? [])
    .filter((e) => Object.entries(want).every(([k, v]) => e.labels[k] === v))
    .map((e) => ({ address: e.address, port: e.port, ...(e.pod ? { pod: e.pod } : {}), ...(e.tlsMode ? { tlsMode: e.tlsMode } : {}), health: 'HEALTHY' as const }));
}

/** Every outbound cluster and load assignment for the services a proxy sees. */
export function buildOutboundClusters(services: MeshService[], ctx: ClusterContext): { clusters: Cluster[]; endpoints: ClusterLoadAssignment[] } {
  const clusters: Cluster[] = [];
  const endpoints: ClusterLoadAssignment[] = [];
  const drs = [...ctx.destinationRules].sort(byAge);
  for (const svc of services) {
    const dr = destinationRuleFor(drs, svc.hostname, svc.namespace, ctx.proxyNamespace, ctx.proxyLabels, ctx.mesh.rootNamespace);
    for (const port of svc.ports) {
      if (port.protocol === 'UDP') continue;
      const subsets: (Obj | undefined)[] = [undefined, ...objects(record(dr?.spec)?.subsets).filter((s) => typeof s.name === 'string' && s.name)];
      for (const subset of subsets) {
        const c = buildCluster(svc, port, dr, subset, ctx);
        clusters.push(c);
        // EDS for Kubernetes endpoints; DNS clusters carry theirs inline, which the proxy routes by the same way.
        if (c.type !== 'ORIGINAL_DST') endpoints.push({ cluster: c.name, endpoints: endpointsFor(svc, port, subset) });
      }
    }
  }
  return { clusters, endpoints };
}

/** The clusters every sidecar has besides the services': Istio's catch-alls and the bootstrap's. */
export function staticClusters(mesh: MeshConfig, sidecar: boolean): Cluster[] {
  const t = mesh.connectTimeoutMs;
  const out: Cluster[] = [
    { name: 'BlackHoleCluster', direction: 'static', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', circuitBreakers: { ...ENVOY_DEFAULT_CIRCUIT_BREAKERS }, connectTimeoutMs: t },
    ...(sidecar ? [{ name: 'InboundPassthroughCluster', direction: 'static' as const, type: 'ORIGINAL_DST' as const, lbPolicy: 'PASSTHROUGH' as const, circuitBreakers: { ...ISTIO_DEFAULT_CIRCUIT_BREAKERS }, connectTimeoutMs: t }] : []),
    { name: 'PassthroughCluster', direction: 'static', type: 'ORIGINAL_DST', lbPolicy: 'PASSTHROUGH', circuitBreakers: { ...ISTIO_DEFAULT_CIRCUIT_BREAKERS }, connectTimeoutMs: t },
    { name: 'agent', direction: 'static', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', circuitBreakers: { ...ENVOY_DEFAULT_CIRCUIT_BREAKERS }, connectTimeoutMs: 250 },
    { name: 'prometheus_stats', direction: 'static', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', circuitBreakers: { ...ENVOY_DEFAULT_CIRCUIT_BREAKERS }, connectTimeoutMs: 250 },
    { name: 'sds-grpc', direction: 'static', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', circuitBreakers: { ...ENVOY_DEFAULT_CIRCUIT_BREAKERS }, connectTimeoutMs: 1000 },
    { name: 'xds-grpc', direction: 'static', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', circuitBreakers: { maxConnections: 100000, maxPendingRequests: 100000, maxRequests: 100000, maxRetries: 3, maxRequestsPerConnection: 0 }, connectTimeoutMs: 1000 },
  ];
  return out;
}

/** consistentHashToHashPolicy: the DestinationRule's consistent-hash key for a destination (host, port, subset), if any. */
export function hashPolicyFor(drs: Obj[], svc: MeshService | undefined, hostname: string, port: number, subsetName: string | undefined, ctx: Omit<ClusterContext, 'destinationRules'>): HashPolicy | undefined {
  const dr = destinationRuleFor(drs, hostname, svc?.namespace ?? '', ctx.proxyNamespace, ctx.proxyLabels, ctx.mesh.rootNamespace);
  if (!dr) return undefined;
  const subset = subsetName ? objects(dr.spec?.subsets).find((s) => s.name === subsetName) : undefined;
  const ch = record(effectivePolicy(dr, port, subset).loadBalancer?.consistentHash);
  if (!ch) return undefined;
  if (ch.httpHeaderName) return { header: String(ch.httpHeaderName).toLowerCase() };
  if (record(ch.httpCookie)) {
    const ttl = durationMs(ch.httpCookie.ttl);
    return { cookie: { name: String(ch.httpCookie.name), ...(ch.httpCookie.path ? { path: String(ch.httpCookie.path) } : {}), ...(ttl !== undefined ? { ttlMs: ttl } : {}) } };
  }
  if (ch.useSourceIp) return { sourceIp: true };
  if (ch.httpQueryParameterName) return { queryParameter: String(ch.httpQueryParameterName) };
  return undefined;
}
