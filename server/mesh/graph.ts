/**
 * The mesh graph of one cluster, as Kiali draws it: gateways, Services and workloads (app and
 * version) with their pods' ready and sidecar state, and traffic edges with request rate and
 * 5xx share over a window, from the differences of `istio_requests_total` between two scrapes
 * of each proxy. Pure: the watcher (watcher.ts) feeds it what it read from the cluster.
 */
import type { Sample } from './prometheus.js';
import { seriesKey } from './prometheus.js';

export interface PodInfo {
  uid: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Deployment (or other owner) name, as Istio's `destination_workload` names it. */
  workload: string;
  phase: string;
  ready: boolean;
  sidecar: boolean;
  gateway: boolean;
  podIP?: string;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  selector: Record<string, string>;
}

/** One scrape of one proxy: when, and its `istio_requests_total` samples. */
export interface Scrape {
  t: number;
  samples: Sample[];
}

export type NodeKind = 'gateway' | 'service' | 'workload' | 'unknown';

export interface MeshPod {
  name: string;
  phase: string;
  ready: boolean;
  sidecar: boolean;
}

export interface MeshNode {
  id: string;
  kind: NodeKind;
  namespace: string;
  name: string;
  app?: string;
  version?: string;
  pods: MeshPod[];
}

export interface MeshEdge {
  id: string;
  source: string;
  target: string;
  /** Requests per second over the window; 0 for an edge that only shows a Service's selector. */
  rate: number;
  /** Requests seen in the window. */
  requests: number;
  /** Share of those answered 5xx (0..1), null without requests. */
  errorShare: number | null;
  /** True for traffic seen in the metrics, false for a Service → workload edge from its selector alone. */
  traffic: boolean;
}

export interface SplitVersion {
  version: string;
  requests: number;
  rate: number;
  share: number | null;
}

export interface TrafficSplit {
  namespace: string;
  service: string;
  requests: number;
  versions: SplitVersion[];
}

export interface MeshGraph {
  at: string;
  /** Seconds the rates are averaged over (the longest span between a proxy's two scrapes). */
  windowSeconds: number;
  nodes: MeshNode[];
  edges: MeshEdge[];
  splits: TrafficSplit[];
  /** Things the picture could not read (a proxy that did not answer), in words. */
  problems: string[];
}

/** Namespaces of the cluster's own machinery: never drawn. */
const HIDDEN_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);
/** Istio's control plane is drawn only through its gateways. */
const ISTIO_SYSTEM = 'istio-system';

export const isGatewayPod = (labels: Record<string, string>) =>
  labels.istio === 'ingressgateway' || labels.istio === 'egressgateway' || labels['gateway.networking.k8s.io/gateway-name'] !== undefined;

interface PodObject {
  metadata?: { uid?: string; name?: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: { kind?: string; name?: string }[]; deletionTimestamp?: string };
  spec?: { containers?: { name?: string }[]; initContainers?: { name?: string; restartPolicy?: string }[] };
  status?: { phase?: string; podIP?: string; conditions?: { type?: string; status?: string }[] };
}

interface ServiceObject {
  metadata?: { name?: string; namespace?: string };
  spec?: { selector?: Record<string, string> };
}

/** The pods worth drawing, from a pod list as the API returns it. */
export function podsFrom(items: unknown[]): PodInfo[] {
  const out: PodInfo[] = [];
  for (const raw of items as PodObject[]) {
    const md = raw.metadata ?? {};
    if (!md.name || !md.namespace || HIDDEN_NAMESPACES.has(md.namespace)) continue;
    const labels = md.labels ?? {};
    const gateway = isGatewayPod(labels);
    if (md.namespace === ISTIO_SYSTEM && !gateway) continue;
    const owner = md.ownerReferences?.[0];
    const hash = labels['pod-template-hash'];
    let workload = md.name;
    if (owner?.name) workload = owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name;
    // A gateway's proxy is its main container; a sidecar is `istio-proxy` next to the app (native sidecars are init containers).
    const sidecar = !gateway && [...(raw.spec?.containers ?? []), ...(raw.spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
    const proxied = gateway || sidecar;
    out.push({
      uid: md.uid ?? `${md.namespace}/${md.name}`,
      namespace: md.namespace,
      name: md.name,
      labels,
      workload,
      phase: md.deletionTimestamp ? 'Terminating' : (raw.status?.phase ?? 'Unknown'),
      ready: raw.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      sidecar,
      gateway,
      ...(proxied && raw.status?.podIP ? { podIP: raw.status.podIP } : {}),
    });
  }
  return out;
}

export function servicesFrom(items: unknown[]): ServiceInfo[] {
  const out: ServiceInfo[] = [];
  for (const raw of items as ServiceObject[]) {
    const md = raw.metadata ?? {};
    if (!md.name || !md.namespace || HIDDEN_NAMESPACES.has(md.namespace)) continue;
    out.push({ namespace: md.namespace, name: md.name, selector: raw.spec?.selector ?? {} });
  }
  return out;
}

/** Whether a pod should be scraped: a proxy (sidecar or gateway) that is running with an address. */
export const scrapeable = (p: PodInfo) => p.podIP !== undefined && p.phase === 'Running';

const selects = (selector: Record<string, string>, labels: Record<string, string>) => {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
};

const workloadId = (ns: string, name: string) => `wl:${ns}/${name}`;
const serviceId = (ns: string, name: string) => `svc:${ns}/${name}`;
const UNKNOWN = 'unknown';

interface Counted {
  labels: Record<string, string>;
  delta: number;
  rate: number;
}

/**
 * The increase of each series between a pod's two scrapes. A series missing from the earlier
 * scrape started at 0 in between; one that went down was reset (the proxy restarted).
 */
export function deltas(base: Scrape, current: Scrape): Counted[] {
  const dt = (current.t - base.t) / 1000;
  if (dt <= 0) return [];
  const before = new Map(base.samples.map((s) => [seriesKey(s.labels), s.value]));
  const out: Counted[] = [];
  for (const s of current.samples) {
    const prev = before.get(seriesKey(s.labels)) ?? 0;
    const delta = s.value >= prev ? s.value - prev : s.value;
    if (delta > 0) out.push({ labels: s.labels, delta, rate: delta / dt });
  }
  return out;
}

export function buildGraph(input: {
  pods: PodInfo[];
  services: ServiceInfo[];
  /** Per pod uid: its oldest scrape in the window and its newest one. */
  scrapes: Map<string, { base: Scrape; current: Scrape }>;
  problems?: string[];
  now?: number;
}): MeshGraph {
  const nodes = new Map<string, MeshNode>();
  const edges = new Map<string, MeshEdge & { errors: number }>();
  const workloadNode = (ns: string, name: string, kind: NodeKind = 'workload'): MeshNode => {
    const id = workloadId(ns, name);
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { id, kind, namespace: ns, name, pods: [] }));
    return n;
  };
  for (const p of input.pods) {
    const n = workloadNode(p.namespace, p.workload, p.gateway ? 'gateway' : 'workload');
    if (p.gateway) n.kind = 'gateway';
    n.app ??= p.labels.app ?? p.labels['app.kubernetes.io/name'];
    n.version ??= p.labels.version ?? p.labels['app.kubernetes.io/version'];
    n.pods.push({ name: p.name, phase: p.phase, ready: p.ready, sidecar: p.sidecar });
  }
  const addEdge = (source: string, target: string, traffic: boolean, c?: Counted) => {
    const id = `${source}>${target}`;
    let e = edges.get(id);
    if (!e) edges.set(id, (e = { id, source, target, rate: 0, requests: 0, errorShare: null, traffic, errors: 0 }));
    if (traffic) e.traffic = true;
    if (c) {
      e.rate += c.rate;
      e.requests += c.delta;
      if (c.labels.response_code?.startsWith('5')) e.errors += c.delta;
    }
  };
  for (const s of input.services) {
    const selected = input.pods.filter((p) => p.namespace === s.namespace && selects(s.selector, p.labels));
    // istio-system's Services are drawn only when they front a gateway; a Service without a selector (`kubernetes`) only when it has traffic.
    if ((s.namespace === ISTIO_SYSTEM && selected.length === 0) || Object.keys(s.selector).length === 0) continue;
    nodes.set(serviceId(s.namespace, s.name), { id: serviceId(s.namespace, s.name), kind: 'service', namespace: s.namespace, name: s.name, pods: [] });
    for (const w of new Set(selected.map((p) => p.workload))) addEdge(serviceId(s.namespace, s.name), workloadId(s.namespace, w), false);
  }

  // A request between two proxies is reported by both: the destination's report is the one
  // counted, the source's only when no scraped proxy reports the destination side.
  const reporting = new Set<string>();
  for (const p of input.pods) if (input.scrapes.has(p.uid)) reporting.add(workloadId(p.namespace, p.workload));
  const counted: Counted[] = [];
  let window = 0;
  for (const { base, current } of input.scrapes.values()) {
    window = Math.max(window, (current.t - base.t) / 1000);
    for (const c of deltas(base, current)) {
      const l = c.labels;
      if (l.reporter === 'destination') counted.push(c);
      else if (l.reporter === 'source' && !reporting.has(workloadId(l.destination_workload_namespace ?? '', l.destination_workload ?? ''))) counted.push(c);
    }
  }
  // Services by the workloads they select: a report that names no service (a request by pod IP)
  // is drawn through the Service fronting its destination, the one named like the app when several do.
  const servicesOf = new Map<string, ServiceInfo[]>();
  for (const s of input.services) {
    for (const w of new Set(input.pods.filter((p) => p.namespace === s.namespace && selects(s.selector, p.labels)).map((p) => workloadId(p.namespace, p.workload)))) {
      servicesOf.set(w, [...(servicesOf.get(w) ?? []), s]);
    }
  }
  const serviceFor = (l: Record<string, string>): ServiceInfo | undefined => {
    const candidates = servicesOf.get(workloadId(l.destination_workload_namespace ?? '', l.destination_workload ?? '')) ?? [];
    return candidates.find((s) => s.name === l.destination_canonical_service || s.name === l.destination_app) ?? (candidates.length === 1 ? candidates[0] : undefined);
  };
  const splits = new Map<string, TrafficSplit & { byVersion: Map<string, SplitVersion> }>();
  for (const c of counted) {
    let l = c.labels;
    if (!l.destination_service_name || l.destination_service_name === UNKNOWN) {
      const s = serviceFor(l);
      if (s) l = { ...l, destination_service_name: s.name, destination_service_namespace: s.namespace };
    }
    let source = UNKNOWN;
    if (l.source_workload && l.source_workload !== UNKNOWN && l.source_workload_namespace) {
      source = workloadNode(l.source_workload_namespace, l.source_workload).id;
    } else if (!nodes.has(UNKNOWN)) nodes.set(UNKNOWN, { id: UNKNOWN, kind: 'unknown', namespace: '', name: 'unknown', pods: [] });
    const svcNs = l.destination_service_namespace;
    const svcName = l.destination_service_name;
    const hasService = svcName && svcName !== UNKNOWN && svcNs && svcNs !== UNKNOWN;
    const hasWorkload = l.destination_workload && l.destination_workload !== UNKNOWN && l.destination_workload_namespace;
    let svc: string | undefined;
    if (hasService) {
      svc = serviceId(svcNs, svcName);
      if (!nodes.has(svc)) nodes.set(svc, { id: svc, kind: 'service', namespace: svcNs, name: svcName, pods: [] });
      addEdge(source, svc, true, c);
    }
    if (hasWorkload) {
      const wl = workloadNode(l.destination_workload_namespace!, l.destination_workload!);
      wl.version ??= l.destination_version !== UNKNOWN ? l.destination_version : undefined;
      addEdge(svc ?? source, wl.id, true, c);
    }
    if (hasService) {
      const key = `${svcNs}/${svcName}`;
      let split = splits.get(key);
      if (!split) splits.set(key, (split = { namespace: svcNs, service: svcName, requests: 0, versions: [], byVersion: new Map() }));
      const version = l.destination_version && l.destination_version !== UNKNOWN ? l.destination_version : (l.destination_canonical_revision ?? UNKNOWN);
      let v = split.byVersion.get(version);
      if (!v) split.byVersion.set(version, (v = { version, requests: 0, rate: 0, share: null }));
      v.requests += c.delta;
      v.rate += c.rate;
      split.requests += c.delta;
    }
  }
  // Versions a Service selects but that served nothing lately show as 0 %, so a split to 100 % v1 still lists v2 and v3.
  for (const s of input.services) {
    const split = splits.get(`${s.namespace}/${s.name}`);
    if (!split) continue;
    for (const p of input.pods) {
      const version = p.labels.version;
      if (version && p.namespace === s.namespace && selects(s.selector, p.labels) && !split.byVersion.has(version)) {
        split.byVersion.set(version, { version, requests: 0, rate: 0, share: null });
      }
    }
  }
  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    at: new Date(input.now ?? Date.now()).toISOString(),
    windowSeconds: Math.round(window * 10) / 10,
    nodes: [...nodes.values()].map((n) => ({ ...n, pods: n.pods.sort((a, b) => a.name.localeCompare(b.name)) })).sort(byId),
    edges: [...edges.values()]
      .map(({ errors, ...e }) => ({ ...e, rate: round(e.rate), errorShare: e.requests > 0 ? round(errors / e.requests) : null }))
      .sort(byId),
    splits: [...splits.values()]
      .map(({ byVersion, ...s }) => ({
        ...s,
        versions: [...byVersion.values()]
          .map((v) => ({ ...v, rate: round(v.rate), share: s.requests > 0 ? round(v.requests / s.requests) : null }))
          .sort((a, b) => a.version.localeCompare(b.version)),
      }))
      .sort((a, b) => `${a.namespace}/${a.service}`.localeCompare(`${b.namespace}/${b.service}`)),
    problems: input.problems ?? [],
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
