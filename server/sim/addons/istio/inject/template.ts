/**
 * Sidecar injection as Istio 1.30 shapes the pod (injection-template.yaml and
 * pkg/kube/inject: the `sidecar` template, probe rewriting, the status annotation). Pure: the
 * webhook (images/pilot.ts) and `istioctl kube-inject` give it the pod and the injector's values.
 */

import YAML from 'yaml';

type Obj = Record<string, any>;

/** PROXY_CONFIG: the pod's `proxy.istio.io/config` annotation as istiod's protoToJSON writes it; `{}` without one. */
function proxyConfigEnv(pod: Obj): string {
  const text = pod.metadata?.annotations?.['proxy.istio.io/config'];
  if (typeof text !== 'string' || !text.trim()) return '{}\n';
  try {
    const v = YAML.parse(text) as unknown;
    return JSON.stringify(v && typeof v === 'object' ? v : {}) + '\n';
  } catch {
    return '{}\n';
  }
}

export interface InjectorValues {
  hub: string;
  tag: string;
  /** global.proxy.image */
  image: string;
  istioNamespace: string;
  revision: string;
  clusterId: string;
  meshId: string;
  trustDomain: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  rewriteAppHTTPProbe: boolean;
  /** Every node's kubelet ≥ 1.33 (DetectNativeSidecar), and not opted out. */
  nativeSidecar: boolean;
}

export const defaultInjectorValues: InjectorValues = {
  hub: 'docker.io/istio',
  tag: '1.30.3',
  image: 'proxyv2',
  istioNamespace: 'istio-system',
  revision: 'default',
  clusterId: 'Kubernetes',
  meshId: 'cluster.local',
  trustDomain: 'cluster.local',
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } },
  rewriteAppHTTPProbe: true,
  nativeSidecar: false,
};

/** The injector ConfigMap's `values` (JSON) and the `values` ConfigMap's profile, as istiod reads them. */
export function injectorValuesFrom(valuesJson: string | undefined, meshConfig?: Obj, nativeSidecar = false): InjectorValues {
  let v: Obj = {};
  try {
    v = valuesJson ? JSON.parse(valuesJson) : {};
  } catch {
    v = {};
  }
  const g: Obj = v.global ?? {};
  const proxy: Obj = g.proxy ?? {};
  const res: Obj = proxy.resources ?? {};
  return {
    hub: g.hub ?? defaultInjectorValues.hub,
    tag: String(g.tag ?? defaultInjectorValues.tag),
    image: proxy.image ?? defaultInjectorValues.image,
    istioNamespace: g.istioNamespace ?? defaultInjectorValues.istioNamespace,
    revision: v.revision || 'default',
    clusterId: g.multiCluster?.clusterName || 'Kubernetes',
    meshId: g.meshID || meshConfig?.trustDomain || 'cluster.local',
    trustDomain: meshConfig?.trustDomain || 'cluster.local',
    resources: {
      requests: canonical({ ...defaultInjectorValues.resources.requests, ...(res.requests ?? {}) }),
      limits: canonical({ ...defaultInjectorValues.resources.limits, ...(res.limits ?? {}) }),
    },
    rewriteAppHTTPProbe: v.sidecarInjectorWebhook?.rewriteAppHTTPProbe !== false,
    nativeSidecar,
  };
}

/** A quantity as Go's resource.Quantity re-serialises it (2000m → 2, 1024Mi → 1Gi). */
export function canonicalQuantity(q: string): string {
  const m = /^(\d+)(m|Ki|Mi|Gi)$/.exec(String(q));
  if (!m) return String(q);
  let n = Number(m[1]);
  let unit = m[2]!;
  if (unit === 'm') return n % 1000 === 0 ? String(n / 1000) : q;
  const units = ['Ki', 'Mi', 'Gi', 'Ti'];
  let i = units.indexOf(unit);
  while (n % 1024 === 0 && n > 0 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  unit = units[i]!;
  return `${n}${unit}`;
}

const canonical = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, canonicalQuantity(v)]));

/** `DetectNativeSidecar`: on when every node's kubelet is at least 1.33. */
export function nativeSidecarsFor(kubeletVersions: string[]): boolean {
  if (!kubeletVersions.length) return false;
  return kubeletVersions.every((v) => {
    const m = /^v?(\d+)\.(\d+)/.exec(v);
    return !!m && (Number(m[1]) > 1 || Number(m[2]) >= 33);
  });
}

export const STATUS_ANNOTATION = 'sidecar.istio.io/status';
const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public']);

/** Why a pod is not injected (webhook.go injectRequired), or undefined when it is. */
export function skipReason(pod: Obj, namespace: string): string | undefined {
  const meta: Obj = pod.metadata ?? {};
  if (pod.spec?.hostNetwork) return 'hostNetwork';
  if (IGNORED_NAMESPACES.has(namespace)) return 'ignored namespace';
  if (meta.annotations?.[STATUS_ANNOTATION]) return 'already injected';
  const label = meta.labels?.['sidecar.istio.io/inject'] ?? meta.annotations?.['sidecar.istio.io/inject'];
  if (label !== undefined && ['false', 'no', 'n', 'off'].includes(String(label).toLowerCase())) return 'opted out';
  return undefined;
}

/** The workload a pod belongs to, as Istio names it (its Deployment, else its controller, else the pod). */
export function workloadOf(pod: Obj, namespace: string, override?: { kind: string; name: string; apiVersion: string }): { name: string; owner: string } {
  if (override) {
    const [group, version] = override.apiVersion.includes('/') ? override.apiVersion.split('/') : ['', override.apiVersion];
    const base = group ? `apis/${group}/${version}` : `api/${version}`;
    return { name: override.name, owner: `kubernetes://${base}/namespaces/${namespace}/${override.kind.toLowerCase()}s/${override.name}` };
  }
  const ref: Obj | undefined = (pod.metadata?.ownerReferences ?? []).find((r: Obj) => r.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (ref) {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (ref.kind === 'ReplicaSet' && hash && String(ref.name).endsWith(`-${hash}`)) {
      const name = String(ref.name).slice(0, -hash.length - 1);
      return { name, owner: `kubernetes://apis/apps/v1/namespaces/${namespace}/deployments/${name}` };
    }
    const [group, version] = String(ref.apiVersion).includes('/') ? String(ref.apiVersion).split('/') : ['', ref.apiVersion];
    const base = group ? `apis/${group}/${version}` : `api/${version}`;
    return { name: ref.name, owner: `kubernetes://${base}/namespaces/${namespace}/${String(ref.kind).toLowerCase()}s/${ref.name}` };
  }
  const name = pod.metadata?.name || String(pod.metadata?.generateName ?? '').replace(/-$/, '');
  return { name, owner: `kubernetes://api/v1/namespaces/${namespace}/pods/${name}` };
}

const VOLUMES = ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert', 'istio-ca-crl'];

function volumes(): Obj[] {
  return [
    { name: 'workload-socket', emptyDir: {} },
    { name: 'credential-socket', emptyDir: {} },
    { name: 'workload-certs', emptyDir: {} },
    { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
    { name: 'istio-data', emptyDir: {} },
    {
      name: 'istio-podinfo',
      downwardAPI: {
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        ],
      },
    },
    { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
    { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
    { name: 'istio-ca-crl', configMap: { name: 'istio-ca-crl', optional: true } },
  ];
}

const VOLUME_MOUNTS: Obj[] = [
  { mountPath: '/var/run/secrets/workload-spiffe-uds', name: 'workload-socket' },
  { mountPath: '/var/run/secrets/credential-uds', name: 'credential-socket' },
  { mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'workload-certs' },
  { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
  { mountPath: '/var/run/secrets/istio/crl', name: 'istio-ca-crl' },
  { mountPath: '/var/lib/istio/data', name: 'istio-data' },
  { mountPath: '/etc/istio/proxy', name: 'istio-envoy' },
  { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
  { mountPath: '/etc/istio/pod', name: 'istio-podinfo' },
];

/** A ContainerPort as Go's encoding/json writes it (omitempty fields left out, field order kept). */
function portJson(p: Obj): string {
  const o: Obj = {};
  if (p.name) o.name = p.name;
  if (p.hostPort) o.hostPort = p.hostPort;
  o.containerPort = p.containerPort;
  if (p.protocol) o.protocol = p.protocol;
  if (p.hostIP) o.hostIP = p.hostIP;
  return JSON.stringify(o);
}

function podPorts(containers: Obj[]): string {
  const all = containers.flatMap((c) => (c.ports ?? []) as Obj[]);
  return ['[', ...all.map((p, i) => `    ${i ? ',' : ''}${portJson(p)}`), ']'].join('\n');
}

const PROBES: [string, string][] = [
  ['livenessProbe', 'livez'],
  ['readinessProbe', 'readyz'],
  ['startupProbe', 'startupz'],
];

/** A named port resolved to its number, as the prober rewrite does. */
function resolvePort(port: unknown, c: Obj): unknown {
  if (typeof port === 'string' && !/^\d+$/.test(port)) {
    const found = (c.ports ?? []).find((p: Obj) => p.name === port);
    return found ? found.containerPort : port;
  }
  return typeof port === 'string' ? Number(port) : port;
}

/** Rewrites HTTP/TCP/gRPC probes to the agent's 15020 and returns the original probers (ISTIO_KUBE_APP_PROBERS). */
function rewriteProbes(containers: Obj[]): Record<string, Obj> {
  const probers: Record<string, Obj> = {};
  for (const c of containers) {
    for (const [field, suffix] of PROBES) {
      const probe: Obj | undefined = c[field];
      if (!probe || probe.exec) continue;
      const path = `/app-health/${c.name}/${suffix}`;
      const original: Obj = {};
      if (probe.httpGet) {
        const h: Obj = {};
        if (probe.httpGet.path !== undefined) h.path = probe.httpGet.path;
        h.port = resolvePort(probe.httpGet.port, c);
        if (probe.httpGet.host) h.host = probe.httpGet.host;
        if (probe.httpGet.scheme) h.scheme = probe.httpGet.scheme;
        if (probe.httpGet.httpHeaders) h.httpHeaders = probe.httpGet.httpHeaders;
        original.httpGet = h;
      } else if (probe.tcpSocket) original.tcpSocket = { port: resolvePort(probe.tcpSocket.port, c), ...(probe.tcpSocket.host ? { host: probe.tcpSocket.host } : {}) };
      else if (probe.grpc) original.grpc = probe.grpc;
      else continue;
      if (probe.timeoutSeconds !== undefined) original.timeoutSeconds = probe.timeoutSeconds;
      probers[path] = original;
      const rewritten: Obj = { ...probe };
      delete rewritten.tcpSocket;
      delete rewritten.grpc;
      rewritten.httpGet = { path, port: 15020, ...(probe.httpGet?.scheme ? { scheme: 'HTTP' } : {}) };
      c[field] = rewritten;
    }
  }
  return probers;
}

function proxyContainer(pod: Obj, namespace: string, v: InjectorValues, apps: Obj[], probers: Record<string, Obj>, workload: { name: string; owner: string }): Obj {
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
  const resEnv = (name: string, resource: string, divisor?: string) => ({ name, valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } });
  const env: Obj[] = [
    { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
    { name: 'CA_ADDR', value: `istiod.${v.istioNamespace}.svc:15012` },
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('INSTANCE_IP', 'status.podIP'),
    fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldEnv('HOST_IP', 'status.hostIP'),
    resEnv('ISTIO_CPU_LIMIT', 'limits.cpu'),
    { name: 'PROXY_CONFIG', value: proxyConfigEnv(pod) },
    { name: 'ISTIO_META_POD_PORTS', value: podPorts(apps) },
    { name: 'ISTIO_META_APP_CONTAINERS', value: apps.map((c) => c.name).join(',') },
    resEnv('GOMEMLIMIT', 'limits.memory'),
    resEnv('GOMAXPROCS', 'limits.cpu', '1'),
    { name: 'ISTIO_META_CLUSTER_ID', value: v.clusterId },
    fieldEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: workload.name },
    { name: 'ISTIO_META_OWNER', value: workload.owner },
    { name: 'ISTIO_META_MESH_ID', value: v.meshId },
    { name: 'TRUST_DOMAIN', value: v.trustDomain },
  ];
  if (Object.keys(probers).length) env.push({ name: 'ISTIO_KUBE_APP_PROBERS', value: JSON.stringify(probers) });
  const c: Obj = {
    name: 'istio-proxy',
    image: `${v.hub}/${v.image}:${v.tag}`,
    args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
    env,
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    readinessProbe: { failureThreshold: 4, httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 15, timeoutSeconds: 3 },
    resources: structuredClone(v.resources),
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: true, runAsUser: 1337 },
    startupProbe: { failureThreshold: 600, httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 1, timeoutSeconds: 3 },
    volumeMounts: structuredClone(VOLUME_MOUNTS),
  };
  if (v.nativeSidecar) {
    c.lifecycle = { preStop: { exec: { command: ['pilot-agent', 'request', '--debug-port=15020', 'POST', 'drain'] } } };
    c.restartPolicy = 'Always';
  }
  void pod;
  void namespace;
  return c;
}

function initContainer(v: InjectorValues): Obj {
  return {
    name: 'istio-init',
    image: `${v.hub}/${v.image}:${v.tag}`,
    args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020', '--log_output_level=default:info'],
    resources: structuredClone(v.resources),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: false,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
  };
}

export interface InjectOptions {
  namespace: string;
  values: InjectorValues;
  /** The workload when it is known from outside the pod (kube-inject on a Deployment). */
  owner?: { kind: string; name: string; apiVersion: string };
}

/** The injected copy of a pod (or pod template: metadata + spec), or undefined when Istio would not inject it. */
export function injectPod(pod: Obj, opts: InjectOptions): Obj | undefined {
  if (skipReason(pod, opts.namespace)) return undefined;
  const v = { ...opts.values };
  const out: Obj = structuredClone(pod);
  out.metadata ??= {};
  out.spec ??= {};
  const meta: Obj = out.metadata;
  const spec: Obj = out.spec;
  if (meta.annotations?.['sidecar.istio.io/nativeSidecar'] === 'false') v.nativeSidecar = false;
  else if (meta.annotations?.['sidecar.istio.io/nativeSidecar'] === 'true') v.nativeSidecar = true;
  const apps: Obj[] = spec.containers ?? [];
  spec.containers = apps;
  const workload = workloadOf(pod, opts.namespace, opts.owner);
  const probers = v.rewriteAppHTTPProbe && meta.annotations?.['sidecar.istio.io/rewriteAppHTTPProbers'] !== 'false' ? rewriteProbes(apps) : {};
  const proxy = proxyContainer(pod, opts.namespace, v, apps, probers, workload);
  const inits: Obj[] = spec.initContainers ?? [];
  spec.initContainers = [...inits, initContainer(v), ...(v.nativeSidecar ? [proxy] : [])];
  if (!v.nativeSidecar) spec.containers = [...apps, proxy];
  spec.volumes = [...(spec.volumes ?? []), ...volumes()];

  const labels: Obj = meta.labels ?? {};
  const canonicalName = labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? workload.name;
  const canonicalRevision = labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest';
  meta.labels = { ...labels, 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': canonicalName, 'service.istio.io/canonical-revision': canonicalRevision };
  const first = apps[0]?.name;
  const status = {
    initContainers: v.nativeSidecar ? ['istio-init', 'istio-proxy'] : ['istio-init'],
    containers: v.nativeSidecar ? null : ['istio-proxy'],
    volumes: VOLUMES,
    imagePullSecrets: null,
    revision: v.revision,
  };
  meta.annotations = {
    ...(meta.annotations ?? {}),
    'istio.io/rev': v.revision,
    ...(first ? { 'kubectl.kubernetes.io/default-container': first, 'kubectl.kubernetes.io/default-logs-container': first } : {}),
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': '15020',
    'prometheus.io/scrape': 'true',
    [STATUS_ANNOTATION]: JSON.stringify(status),
  };
  return out;
}
