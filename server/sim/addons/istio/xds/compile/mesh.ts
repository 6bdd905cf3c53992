/**
 * istiod's service registry, as its Kubernetes and ServiceEntry controllers build it: Services with
 * their ports and protocols, the ready endpoints behind each port (from EndpointSlices, else
 * Endpoints) with the pods' labels, identity and sidecar mark, ServiceEntry hosts, and the mesh
 * config from the `istio` ConfigMap. Built from raw store objects, so the compiler stays pure.
 */
import { parse as parseYaml } from 'yaml';
import { objects, record, stringMap, strings } from './shape.js';

type Obj = Record<string, any>;

/** Istio's protocol for a port (pkg/config/protocol): from appProtocol, else the port name's prefix. */
export type IstioProtocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'GRPC-Web' | 'HTTPS' | 'TLS' | 'TCP' | 'Mongo' | 'MySQL' | 'Redis' | 'UDP' | 'UnsupportedProtocol';

export interface MeshServicePort {
  name: string;
  port: number;
  /** Kubernetes targetPort (number, or a container port name); ServiceEntry `targetPort` or the port itself. */
  targetPort: number | string;
  protocol: IstioProtocol;
}

export interface MeshPod {
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  serviceAccount: string;
}

export interface MeshEndpoint {
  address: string;
  /** The port the endpoint listens on for this service port (the resolved targetPort). */
  port: number;
  pod?: MeshPod;
  /** Labels subsets select by: the pod's, or a ServiceEntry endpoint's. */
  labels: Readonly<Record<string, string>>;
  /** `istio` when the workload carries `security.istio.io/tlsMode: istio` (has a sidecar). */
  tlsMode?: 'istio';
}

export interface MeshService {
  /** `reviews.default.svc.cluster.local`, or a ServiceEntry host. */
  hostname: string;
  name: string;
  namespace: string;
  /** ClusterIP or the ServiceEntry's first address; absent for headless Services and address-less entries. */
  address?: string;
  ports: MeshServicePort[];
  /** Ready endpoints by service port number. */
  endpoints: Record<number, MeshEndpoint[]>;
  /** `networking.istio.io/exportTo` (Services) or `spec.exportTo` (ServiceEntries); absent: everywhere. */
  exportTo?: string[];
  /** Where it came from: a Kubernetes Service, or a ServiceEntry with its location and resolution. */
  registry: 'Kubernetes' | 'External';
  meshExternal: boolean;
  /** Istio's resolution: ClientSideLB (EDS), DNSLB (STRICT_DNS), DNSRoundRobinLB (LOGICAL_DNS), Passthrough (ORIGINAL_DST). */
  resolution: 'ClientSideLB' | 'DNSLB' | 'DNSRoundRobinLB' | 'Passthrough';
  /** A Kubernetes Service's pod selector (the pods it targets whether ready or not: a gateway's ports). */
  selector?: Readonly<Record<string, string>>;
  /** The ServiceEntry behind it, for istioctl. */
  serviceEntry?: { name: string; namespace: string };
}

/** The part of meshConfig the data plane reads. */
export interface MeshConfig {
  accessLogFile?: string;
  accessLogEncoding: 'TEXT' | 'JSON';
  accessLogFormat?: string;
  /** `outboundTrafficPolicy.mode`: ALLOW_ANY (default) or REGISTRY_ONLY. */
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** meshConfig.connectTimeout (default 10s). */
  connectTimeoutMs: number;
  enableAutoMtls: boolean;
  rootNamespace: string;
  trustDomain: string;
  /** meshConfig.defaultHttpRetryPolicy (an HTTPRetry), replacing Istio's default for routes without `retries`. */
  defaultHttpRetryPolicy?: Obj;
}

export interface MeshView {
  services: MeshService[];
  /** Every pod with an IP, for a proxy's own labels and the Services that select it (inbound ports, gateway ports). */
  pods: MeshPodInfo[];
  meshConfig: MeshConfig;
}

export interface MeshPodInfo extends MeshPod {
  ip: string;
  containerPorts: { name?: string; containerPort: number }[];
}

export const DEFAULT_MESH_CONFIG: MeshConfig = { accessLogEncoding: 'TEXT', outboundTrafficPolicy: 'ALLOW_ANY', connectTimeoutMs: 10_000, enableAutoMtls: true, rootNamespace: 'istio-system', trustDomain: 'cluster.local' };

export const EMPTY_MESH: MeshView = { services: [], pods: [], meshConfig: DEFAULT_MESH_CONFIG };

/** Raw objects from the cluster's store. */
export interface MeshObjects {
  services: Obj[];
  endpointSlices: Obj[];
  endpoints: Obj[];
  pods: Obj[];
  serviceEntries: Obj[];
  /** The `istio` ConfigMap's `mesh` key (YAML). */
  meshYaml?: string;
  domainSuffix?: string;
}

const PREFIXES: [string, IstioProtocol][] = [
  ['grpc-web', 'GRPC-Web'],
  ['http2', 'HTTP2'],
  ['https', 'HTTPS'],
  ['http', 'HTTP'],
  ['grpc', 'GRPC'],
  ['tcp', 'TCP'],
  ['tls', 'TLS'],
  ['mongo', 'Mongo'],
  ['mysql', 'MySQL'],
  ['redis', 'Redis'],
  ['udp', 'UDP'],
];

/** Istio's protocol parse (protocol.Parse): case-insensitive, whole word. */
export function parseProtocol(s: string | undefined): IstioProtocol | undefined {
  if (!s) return undefined;
  const l = s.toLowerCase();
  return PREFIXES.find(([p]) => p === l)?.[1];
}

/** Ports that default to TCP when their name says nothing (SMTP, DNS, MySQL, MongoDB). */
const WELL_KNOWN_TCP = new Set([25, 53, 3306, 27017]);

/** kube.ConvertProtocol: UDP by L4 protocol; else appProtocol (when set) or the port name, up to its first `-` (`grpc-web` whole). */
export function portProtocol(name: string | undefined, l4: string | undefined, appProtocol?: string, port?: number): IstioProtocol {
  if ((l4 ?? 'TCP').toUpperCase() === 'UDP') return 'UDP';
  let n = name ?? '';
  if (appProtocol) {
    if (appProtocol === 'kubernetes.io/h2c') return 'HTTP2';
    if (appProtocol === 'kubernetes.io/ws') return 'HTTP';
    if (appProtocol === 'kubernetes.io/wss') return 'HTTPS';
    n = appProtocol;
  }
  if (n.toLowerCase().startsWith('grpc-web')) return 'GRPC-Web';
  const p = parseProtocol(n.split('-')[0]!);
  if (!p && port !== undefined && WELL_KNOWN_TCP.has(port)) return 'TCP';
  return p ?? 'UnsupportedProtocol';
}

/** HTTP routing applies (IsHTTPOrSniffed): HTTP, HTTP2, gRPC, or unknown (protocol sniffing). */
export const isHttpOrSniffed = (p: IstioProtocol) => p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-Web' || p === 'UnsupportedProtocol';

const msOf = (d: unknown, fallback: number): number => {
  if (typeof d !== 'string') return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d.trim());
  if (!m) return fallback;
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms']);
};

export function parseMeshConfig(yaml: string | undefined): MeshConfig {
  let m: Obj = {};
  try {
    const parsed = yaml ? parseYaml(yaml) : undefined;
    if (parsed && typeof parsed === 'object') m = parsed as Obj;
  } catch {
    // istiod keeps its defaults when the mesh config does not parse.
  }
  const enc = String(m.accessLogEncoding ?? 'TEXT').toUpperCase();
  return {
    ...(typeof m.accessLogFile === 'string' && m.accessLogFile ? { accessLogFile: m.accessLogFile } : {}),
    accessLogEncoding: enc === 'JSON' ? 'JSON' : 'TEXT',
    ...(typeof m.accessLogFormat === 'string' && m.accessLogFormat ? { accessLogFormat: m.accessLogFormat } : {}),
    outboundTrafficPolicy: m.outboundTrafficPolicy?.mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY',
    connectTimeoutMs: msOf(m.connectTimeout, 10_000),
    enableAutoMtls: m.enableAutoMtls !== false,
    rootNamespace: typeof m.rootNamespace === 'string' && m.rootNamespace ? m.rootNamespace : 'istio-system',
    trustDomain: typeof m.trustDomain === 'string' && m.trustDomain ? m.trustDomain : 'cluster.local',
    ...(m.defaultHttpRetryPolicy && typeof m.defaultHttpRetryPolicy === 'object' ? { defaultHttpRetryPolicy: m.defaultHttpRetryPolicy as Obj } : {}),
  };
}

const isPodRunning = (p: Obj) => !!p.status?.podIP && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

function podInfo(p: Obj): MeshPodInfo {
  const containerPorts = [...(p.spec?.containers ?? [])].flatMap((c: Obj) => (c.ports ?? []).map((cp: Obj) => ({ name: cp.name, containerPort: Number(cp.containerPort) })));
  return {
    namespace: p.metadata.namespace,
    name: p.metadata.name,
    labels: p.metadata.labels ?? {},
    serviceAccount: p.spec?.serviceAccountName || p.spec?.serviceAccount || 'default',
    ip: p.status.podIP,
    containerPorts,
  };
}

/** A Service port's targetPort on one pod: numbers as they are, names through the pod's container ports. */
export function resolveTargetPort(target: number | string, pod: { containerPorts: { name?: string; containerPort: number }[] } | undefined): number | undefined {
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  return pod?.containerPorts.find((c) => c.name === target)?.containerPort;
}

const exportToOf = (annotation: unknown): string[] | undefined =>
  typeof annotation === 'string' && annotation.trim()
    ? annotation
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

function kubeService(svc: Obj, slices: Obj[], eps: Obj | undefined, pods: Map<string, MeshPodInfo>, suffix: string): MeshService | undefined {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return undefined; // aliases: not simulated (see README)
  const ns = svc.metadata.namespace;
  const ports: MeshServicePort[] = objects(spec.ports).map((p) => ({
    name: typeof p.name === 'string' ? p.name : '',
    port: Number(p.port),
    targetPort: p.targetPort ?? Number(p.port),
    protocol: portProtocol(p.name, p.protocol, typeof p.appProtocol === 'string' ? p.appProtocol : undefined, Number(p.port)),
  }));
  const endpoints: Record<number, MeshEndpoint[]> = {};
  const withPod = (ip: string, targetRef: Obj | undefined): { pod?: MeshPodInfo } => {
    const pod = targetRef?.kind === 'Pod' ? pods.get(`${targetRef.namespace ?? ns}/${targetRef.name}`) : undefined;
    return pod && pod.ip === ip ? { pod } : {};
  };
  const push = (sp: MeshServicePort, address: string, port: number, targetRef: Obj | undefined) => {
    // Endpoints are keyed by port number, and pilot builds no cluster for UDP: a UDP port sharing
    // its number with a TCP one (kube-dns's 53) must not add its addresses a second time.
    if (sp.protocol === 'UDP') return;
    const { pod } = withPod(address, targetRef);
    const labels = pod?.labels ?? {};
    (endpoints[sp.port] ??= []).push({
      address,
      port,
      ...(pod ? { pod: { namespace: pod.namespace, name: pod.name, labels: pod.labels, serviceAccount: pod.serviceAccount } } : {}),
      labels,
      ...(labels['security.istio.io/tlsMode'] === 'istio' ? { tlsMode: 'istio' as const } : {}),
    });
  };
  if (slices.length) {
    for (const slice of slices) {
      if (slice.addressType && slice.addressType !== 'IPv4') continue;
      for (const sp of ports) {
        const ep = objects(slice.ports).find((p) => (p.name ?? '') === sp.name);
        if (!ep || ep.port == null) continue;
        for (const e of objects(slice.endpoints)) {
          // istiod sends ready endpoints only (unready ones when the Service publishes them); never terminating ones.
          const ready = e.conditions?.ready !== false || (spec.publishNotReadyAddresses && !e.conditions?.terminating);
          if (!ready) continue;
          for (const a of strings(e.addresses)) push(sp, a, Number(ep.port), e.targetRef);
        }
      }
    }
  } else if (eps) {
    for (const subset of objects(eps.subsets)) {
      const sports = objects(subset.ports);
      for (const sp of ports) {
        const ep = sports.find((p) => (p.name ?? '') === sp.name) ?? (ports.length === 1 && sports.length === 1 ? sports[0] : undefined);
        if (!ep) continue;
        for (const a of objects(subset.addresses)) if (typeof a.ip === 'string') push(sp, a.ip, Number(ep.port), a.targetRef);
      }
    }
  }
  const headless = !spec.clusterIP || spec.clusterIP === 'None';
  return {
    hostname: `${svc.metadata.name}.${ns}.svc.${suffix}`,
    name: svc.metadata.name,
    namespace: ns,
    ...(headless ? {} : { address: spec.clusterIP }),
    ports,
    endpoints,
    ...(exportToOf(svc.metadata.annotations?.['networking.istio.io/exportTo']) ? { exportTo: exportToOf(svc.metadata.annotations?.['networking.istio.io/exportTo']) } : {}),
    registry: 'Kubernetes',
    meshExternal: false,
    ...(Object.keys(stringMap(spec.selector)).length ? { selector: stringMap(spec.selector) } : {}),
    resolution: headless ? 'Passthrough' : 'ClientSideLB',
  };
}

function entryServices(se: Obj): MeshService[] {
  const spec = record(se.spec) ?? {};
  const ns = se.metadata.namespace;
  const resolution = String(spec.resolution ?? 'NONE');
  const res: MeshService['resolution'] = resolution === 'DNS' ? 'DNSLB' : resolution === 'DNS_ROUND_ROBIN' ? 'DNSRoundRobinLB' : resolution === 'STATIC' ? 'ClientSideLB' : 'Passthrough';
  const ports: MeshServicePort[] = objects(spec.ports)
    .filter((p) => Number.isInteger(p.number) && p.number > 0)
    .map((p) => ({
      name: typeof p.name === 'string' ? p.name : '',
      port: Number(p.number),
      targetPort: Number.isInteger(p.targetPort) && p.targetPort > 0 ? Number(p.targetPort) : Number(p.number),
      protocol: parseProtocol(typeof p.protocol === 'string' ? p.protocol : undefined) ?? 'UnsupportedProtocol',
    }));
  const out: MeshService[] = [];
  for (const h of strings(spec.hosts)) {
    const endpoints: Record<number, MeshEndpoint[]> = {};
    for (const sp of ports) {
      const list: MeshEndpoint[] = [];
      const eps = objects(spec.endpoints).filter((e) => typeof e.address === 'string');
      if (eps.length) {
        for (const e of eps) {
          const named = Number(record(e.ports)?.[sp.name]);
          const port = Number.isInteger(named) && named > 0 ? named : Number(sp.targetPort);
          const labels = stringMap(e.labels);
          list.push({ address: e.address, port, labels, ...(labels['security.istio.io/tlsMode'] === 'istio' ? { tlsMode: 'istio' as const } : {}) });
        }
      } else if (res === 'DNSLB' || res === 'DNSRoundRobinLB') {
        // DNS resolution without endpoints: Envoy resolves the host itself.
        list.push({ address: h, port: Number(sp.targetPort), labels: {} });
      }
      if (list.length) endpoints[sp.port] = list;
    }
    out.push({
      hostname: String(h).toLowerCase(),
      name: String(h),
      namespace: ns,
      ...(strings(spec.addresses)[0] ? { address: strings(spec.addresses)[0]!.split('/')[0] } : {}),
      ports,
      endpoints,
      ...(Array.isArray(spec.exportTo) ? { exportTo: strings(spec.exportTo) } : {}),
      registry: 'External',
      meshExternal: spec.location !== 'MESH_INTERNAL',
      resolution: res,
      serviceEntry: { name: se.metadata.name, namespace: ns },
    });
  }
  return out;
}

export function buildMeshView(o: MeshObjects): MeshView {
  const suffix = o.domainSuffix ?? 'cluster.local';
  const pods = new Map<string, MeshPodInfo>();
  for (const p of o.pods) if (isPodRunning(p)) pods.set(`${p.metadata.namespace}/${p.metadata.name}`, podInfo(p));
  const slicesBy = new Map<string, Obj[]>();
  for (const s of o.endpointSlices) {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const k = `${s.metadata.namespace}/${svc}`;
    slicesBy.set(k, [...(slicesBy.get(k) ?? []), s]);
  }
  const epsBy = new Map<string, Obj>(o.endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  const services: MeshService[] = [];
  for (const svc of o.services) {
    const k = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const s = kubeService(svc, slicesBy.get(k) ?? [], epsBy.get(k), pods, suffix);
    if (s) services.push(s);
  }
  for (const se of o.serviceEntries) if (!record(se.spec)?.workloadSelector) services.push(...entryServices(se));
  return { services, pods: [...pods.values()], meshConfig: parseMeshConfig(o.meshYaml) };
}
