/**
 * Istio's standard request metrics (the stats filter) for one request at one end: reporter
 * `source` on the client's sidecar (and gateways), `destination` on the server's, with the peer
 * known from metadata exchange (a caller without a sidecar is `unknown`).
 */
import { spiffeId, type LbEndpoint } from '../xds/types.js';
import type { EnvoyProxy } from './proxy.js';
import type { IstioRequestLabels, IstioSeriesHandle, ProxyStats } from './stats.js';

/** A workload as the metrics' source_* / destination_* labels name it. */
export interface WorkloadInfo {
  workload: string;
  namespace: string;
  app: string;
  version: string;
  principal: string;
  canonicalService: string;
  canonicalRevision: string;
}

export const UNKNOWN_WORKLOAD: WorkloadInfo = { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: 'unknown', canonicalService: 'unknown', canonicalRevision: 'latest' };

/** `reviews-v1-7f99cc4496-xk2cf` → `reviews-v1` (a Deployment's pod: ReplicaSet hash and pod suffix). */
export function workloadFromPodName(name: string): string {
  const m = /^(.*)-[a-z0-9]{6,10}-[a-z0-9]{5}$/.exec(name);
  if (m) return m[1]!;
  const s = /^(.*)-[a-z0-9]{5}$/.exec(name);
  return s ? s[1]! : name;
}

export function workloadOf(pod: { namespace: string; name: string; labels: Readonly<Record<string, string>>; serviceAccount?: string }, workloadName?: string): WorkloadInfo {
  const l = pod.labels;
  const workload = workloadName || workloadFromPodName(pod.name);
  const app = l.app ?? l['app.kubernetes.io/name'] ?? 'unknown';
  return {
    workload,
    namespace: pod.namespace,
    app,
    version: l.version ?? l['app.kubernetes.io/version'] ?? 'unknown',
    principal: pod.serviceAccount ? spiffeId(pod.namespace, pod.serviceAccount) : 'unknown',
    canonicalService: l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l.app ?? workload,
    canonicalRevision: l['service.istio.io/canonical-revision'] ?? l['app.kubernetes.io/version'] ?? l.version ?? 'latest',
  };
}

const workloads = new WeakMap<EnvoyProxy, WorkloadInfo>();
/** A proxy's own workload (fixed while it runs: a pod's labels that name it do not change its identity here). */
export function proxyWorkload(proxy: EnvoyProxy): WorkloadInfo {
  let w = workloads.get(proxy);
  if (!w) {
    const id = proxy.identity;
    w = workloadOf({ namespace: id.namespace, name: id.podName, labels: id.labels, serviceAccount: id.serviceAccount }, proxy.ctx.env.ISTIO_META_WORKLOAD_NAME);
    workloads.set(proxy, w);
  }
  return w;
}

const endpointWorkloads = new WeakMap<object, WorkloadInfo>();
/** The workload behind an endpoint (EDS carries its pod), computed once per pushed endpoint. */
export function endpointWorkload(ep: LbEndpoint | undefined): WorkloadInfo {
  if (!ep?.pod) return UNKNOWN_WORKLOAD;
  let w = endpointWorkloads.get(ep.pod);
  if (!w) endpointWorkloads.set(ep.pod, (w = workloadOf({ ...ep.pod })));
  return w;
}

export interface RequestMetricsInput {
  reporter: 'source' | 'destination';
  source: WorkloadInfo;
  destination: WorkloadInfo;
  /** FQDN of the destination Service, or `unknown`. */
  destinationService?: string;
  responseCode: number;
  flags: string;
  mtls: boolean;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

/**
 * The series a request's labels name, per proxy stats, then by the source and destination
 * workloads (objects made once per proxy or pushed endpoint), then by the few per-request values:
 * 25 labels and their key are built once per series, not once per request.
 */
const seriesCache = new WeakMap<ProxyStats, WeakMap<WorkloadInfo, WeakMap<WorkloadInfo, Map<string, IstioSeriesHandle>>>>();

export function recordRequest(proxy: EnvoyProxy, m: RequestMetricsInput): void {
  const stats = proxy.stats;
  let bySource = seriesCache.get(stats);
  if (!bySource) seriesCache.set(stats, (bySource = new WeakMap()));
  let byDestination = bySource.get(m.source);
  if (!byDestination) bySource.set(m.source, (byDestination = new WeakMap()));
  let byRest = byDestination.get(m.destination);
  if (!byRest) byDestination.set(m.destination, (byRest = new Map()));
  const key = `${m.reporter}\u0000${m.destinationService ?? 'unknown'}\u0000${m.responseCode}\u0000${m.flags}\u0000${m.mtls ? 1 : 0}`;
  let series = byRest.get(key);
  if (!series) {
    // Flags and codes a learner's faults produce are few; a bound keeps a pathological mix from growing it.
    if (byRest.size > 1000) byRest.clear();
    byRest.set(key, (series = stats.series(requestLabels(m))));
  }
  stats.observe(series, m.durationMs, m.requestBytes, m.responseBytes);
}

function requestLabels(m: RequestMetricsInput): IstioRequestLabels {
  const svc = m.destinationService ?? 'unknown';
  const svcName = svc === 'unknown' ? 'unknown' : svc.split('.')[0]!;
  const svcNs = svc === 'unknown' ? m.destination.namespace : (svc.split('.')[1] ?? m.destination.namespace);
  return {
    reporter: m.reporter,
    source_workload: m.source.workload,
    source_canonical_service: m.source.canonicalService,
    source_canonical_revision: m.source.canonicalRevision,
    source_workload_namespace: m.source.namespace,
    source_principal: m.mtls || m.reporter === 'source' ? m.source.principal : 'unknown',
    source_app: m.source.app,
    source_version: m.source.version,
    source_cluster: m.source.workload === 'unknown' ? 'unknown' : 'Kubernetes',
    destination_workload: m.destination.workload,
    destination_workload_namespace: m.destination.namespace,
    destination_principal: m.mtls || m.reporter === 'destination' ? m.destination.principal : 'unknown',
    destination_app: m.destination.app,
    destination_version: m.destination.version,
    destination_service: svc,
    destination_canonical_service: m.destination.canonicalService,
    destination_canonical_revision: m.destination.canonicalRevision,
    destination_service_name: svcName,
    destination_service_namespace: svcNs,
    destination_cluster: m.destination.workload === 'unknown' ? 'unknown' : 'Kubernetes',
    request_protocol: 'http',
    response_code: String(m.responseCode),
    grpc_response_status: '',
    response_flags: m.flags,
    connection_security_policy: m.reporter === 'destination' ? (m.mtls ? 'mutual_tls' : 'none') : 'unknown',
  };
}
