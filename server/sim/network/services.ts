/**
 * What kube-proxy and CoreDNS know: Services by ClusterIP and by DNS name, their ready
 * endpoints (from the Endpoints objects the endpoints controller writes, or the pods their
 * selector picks when no Endpoints object exists), and which node ports they own.
 */
import type { ClusterApi } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import type { ResourceDef } from '../registry/resource.js';
import { selectorMatches } from '../registry/strategies/workloads.js';

type Obj = Record<string, any>;

export const CLUSTER_DOMAIN = 'cluster.local';

export interface ServicePort {
  name: string;
  port: number;
  protocol: string;
  targetPort: number | string;
  nodePort?: number;
}

export interface ServiceView {
  namespace: string;
  name: string;
  /** '' when none, 'None' for headless Services. */
  clusterIP: string;
  type: string;
  ports: ServicePort[];
  selector?: Record<string, string>;
}

export interface Endpoint {
  ip: string;
  port: number;
  /** The pod behind the address, when the Endpoints object names one. */
  pod?: { namespace: string; name: string };
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
export const isIPv4 = (s: string) => IPV4.test(s);

// A write replaces the stored object, so a stored object's view never changes.
const views = new WeakMap<object, ServiceView>();

function view(s: Obj): ServiceView {
  let v = views.get(s);
  if (!v) views.set(s, (v = buildView(s)));
  return v;
}

function buildView(s: Obj): ServiceView {
  const spec = s.spec ?? {};
  return {
    namespace: s.metadata.namespace ?? 'default',
    name: s.metadata.name,
    clusterIP: typeof spec.clusterIP === 'string' ? spec.clusterIP : '',
    type: spec.type ?? 'ClusterIP',
    ports: (spec.ports ?? []).map((p: Obj) => ({
      name: p.name ?? '',
      port: Number(p.port),
      protocol: p.protocol ?? 'TCP',
      targetPort: p.targetPort ?? p.port,
      ...(typeof p.nodePort === 'number' ? { nodePort: p.nodePort } : {}),
    })),
    ...(spec.selector && typeof spec.selector === 'object' ? { selector: spec.selector } : {}),
  };
}

/** A Service port's target on one pod: a number, or a named container port (undefined: none). */
export function resolveTargetPort(port: ServicePort, pod: Obj): number | undefined {
  const t = port.targetPort;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(String(t))) return Number(t);
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === t && (p.protocol ?? 'TCP') === port.protocol) return p.containerPort;
  return undefined;
}

export class ServiceDirectory {
  private readonly servicesDef: ResourceDef;
  private readonly endpointsDef: ResourceDef;
  private readonly podsDef: ResourceDef;
  private byIP: Map<string, ServiceView> | null = null;
  private byNodePort: Map<number, { svc: ServiceView; port: ServicePort }> | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly random: () => number = Math.random,
  ) {
    const need = (g: string, r: string) => {
      const d = cluster.kinds.lookup(g, 'v1', r);
      if (!d) throw new Error(`embedded cluster has no ${r}`);
      return d;
    };
    this.servicesDef = need('', 'services');
    this.endpointsDef = need('', 'endpoints');
    this.podsDef = need('', 'pods');
    this.unsubscribe = cluster.store.onAnyChange((e) => {
      if (e.bucket === this.servicesDef.bucket) {
        this.byIP = null;
        this.byNodePort = null;
      }
    });
  }

  close(): void {
    this.unsubscribe();
  }

  get servicesBucket(): string {
    return this.servicesDef.bucket;
  }

  all(): ServiceView[] {
    return (this.cluster.store.list(this.servicesDef.bucket, undefined, true) as Obj[]).map(view);
  }

  get(namespace: string, name: string): ServiceView | undefined {
    const s = this.cluster.store.peek(this.servicesDef.bucket, namespace, name);
    return s ? view(s as Obj) : undefined;
  }

  byClusterIP(ip: string): ServiceView | undefined {
    if (!this.byIP) {
      const m = new Map<string, ServiceView>();
      for (const s of this.all()) if (s.clusterIP && s.clusterIP !== 'None') m.set(s.clusterIP, s);
      this.byIP = m;
    }
    return this.byIP.get(ip);
  }

  /**
   * Cluster DNS as a pod in `fromNamespace` sees it (resolv.conf: search NS.svc.cluster.local
   * svc.cluster.local cluster.local, ndots:5): an IPv4 address or null (NXDOMAIN).
   */
  resolve(host: string, fromNamespace: string): string | null {
    if (isIPv4(host)) return host;
    const absolute = host.endsWith('.');
    const name = host.replace(/\.$/, '').toLowerCase();
    if (!name) return null;
    const suffix = `.${CLUSTER_DOMAIN}`;
    const candidates: string[] = [];
    const dots = name.split('.').length - 1;
    const searched = [`${name}.${fromNamespace}.svc${suffix}`, `${name}.svc${suffix}`, `${name}${suffix}`];
    if (absolute) candidates.push(name);
    else if (dots >= 5) candidates.push(name, ...searched);
    else candidates.push(...searched, name);
    for (const fqdn of candidates) {
      const ip = this.lookupFQDN(fqdn);
      if (ip) return ip;
    }
    return null;
  }

  private lookupFQDN(fqdn: string): string | null {
    const suffix = `.${CLUSTER_DOMAIN}`;
    if (!fqdn.endsWith(suffix)) return null;
    const labels = fqdn.slice(0, -suffix.length).split('.');
    // <svc>.<ns>.svc
    if (labels.length === 3 && labels[2] === 'svc') {
      const svc = this.get(labels[1]!, labels[0]!);
      if (!svc) return null;
      if (svc.clusterIP === 'None') {
        // Headless: an A record per ready endpoint; a client takes one of them.
        const ips = [...new Set(this.readyAddresses(svc).map((e) => e.ip))];
        return ips.length ? ips[Math.floor(this.random() * ips.length) % ips.length]! : null;
      }
      return svc.clusterIP || null;
    }
    // <hostname>.<subdomain>.<ns>.svc: a pod's own record under its headless Service (StatefulSets).
    if (labels.length === 4 && labels[3] === 'svc') {
      const [host, subdomain, ns] = labels as [string, string, string];
      const svc = this.get(ns, subdomain);
      if (!svc || svc.clusterIP !== 'None') return null;
      const pod = (this.cluster.store.list(this.podsDef.bucket, ns, true) as Obj[]).find(
        (p) => p.spec?.hostname === host && p.spec?.subdomain === subdomain && p.status?.podIP && !p.metadata.deletionTimestamp,
      );
      return pod ? (pod.status.podIP as string) : null;
    }
    // <a-b-c-d>.<ns>.pod
    if (labels.length === 3 && labels[2] === 'pod') {
      const ip = labels[0]!.replace(/-/g, '.');
      return isIPv4(ip) ? ip : null;
    }
    return null;
  }

  /** Every ready address of the Service, whatever the port. */
  private readyAddresses(svc: ServiceView): Endpoint[] {
    const eps = this.cluster.store.peek(this.endpointsDef.bucket, svc.namespace, svc.name) as Obj | undefined;
    if (eps) return (eps.subsets ?? []).flatMap((ss: Obj) => (ss.addresses ?? []).map((a: Obj) => ({ ip: a.ip, port: 0 })));
    return this.selectedPods(svc).map((p) => ({ ip: p.status.podIP, port: 0 }));
  }

  private selectedPods(svc: ServiceView): Obj[] {
    if (!svc.selector) return [];
    return (this.cluster.store.list(this.podsDef.bucket, svc.namespace, true) as Obj[]).filter(
      (p) =>
        selectorMatches({ matchLabels: svc.selector }, p.metadata.labels ?? {}) &&
        p.status?.podIP &&
        !p.metadata.deletionTimestamp &&
        (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
    );
  }

  /**
   * The ready endpoints behind one Service port, as kube-proxy programs them: the Endpoints
   * subset ports named like the Service port carry each pod's resolved targetPort.
   */
  endpoints(svc: ServiceView, port: ServicePort): Endpoint[] {
    const eps = this.cluster.store.peek(this.endpointsDef.bucket, svc.namespace, svc.name) as Obj | undefined;
    if (eps) {
      const out: Endpoint[] = [];
      for (const ss of eps.subsets ?? []) {
        const p = (ss.ports ?? []).find((x: Obj) => (x.name ?? '') === port.name && (x.protocol ?? 'TCP') === port.protocol);
        if (!p) continue;
        for (const a of ss.addresses ?? []) {
          const ref = a.targetRef;
          out.push({ ip: a.ip, port: p.port, ...(ref?.kind === 'Pod' ? { pod: { namespace: ref.namespace ?? svc.namespace, name: ref.name } } : {}) });
        }
      }
      return out;
    }
    // No endpoints controller (a bare cluster): what it would have written.
    const out: Endpoint[] = [];
    for (const p of this.selectedPods(svc)) {
      const target = resolveTargetPort(port, p);
      if (target !== undefined) out.push({ ip: p.status.podIP, port: target, pod: { namespace: svc.namespace, name: p.metadata.name } });
    }
    return out;
  }

  /** Picks one endpoint at random, as kube-proxy's iptables rules do. */
  pick(endpoints: Endpoint[]): Endpoint | undefined {
    if (endpoints.length === 0) return undefined;
    return endpoints[Math.floor(this.random() * endpoints.length) % endpoints.length];
  }

  /** Every (nodePort → service port) a NodePort or LoadBalancer Service owns. */
  nodePorts(): Map<number, { svc: ServiceView; port: ServicePort }> {
    if (this.byNodePort) return this.byNodePort;
    const out = new Map<number, { svc: ServiceView; port: ServicePort }>();
    for (const svc of this.all()) {
      if (svc.type !== 'NodePort' && svc.type !== 'LoadBalancer') continue;
      for (const p of svc.ports) if (p.nodePort && p.protocol === 'TCP') out.set(p.nodePort, { svc, port: p });
    }
    this.byNodePort = out;
    return out;
  }
}

export type { KubeObject };
