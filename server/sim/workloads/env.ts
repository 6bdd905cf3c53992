/**
 * A container's environment as the kubelet builds it: the Docker-links style variables of the
 * Services in the pod's namespace (enableServiceLinks) and the `kubernetes` Service, then
 * envFrom, then env (value with $(VAR) expansion, fieldRef, resourceFieldRef, configMapKeyRef,
 * secretKeyRef), later entries winning.
 */
import type { ClusterApi } from '../addons/api.js';
import type { ServiceView } from '../network/services.js';

type Obj = Record<string, any>;

function serviceEnvName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** The variables kubelet's envvars.FromServices makes for one Service. */
export function serviceLinkEnv(svc: ServiceView): Record<string, string> {
  const out: Record<string, string> = {};
  if (!svc.clusterIP || svc.clusterIP === 'None' || svc.ports.length === 0) return out;
  const n = serviceEnvName(svc.name);
  const first = svc.ports[0]!;
  out[`${n}_SERVICE_HOST`] = svc.clusterIP;
  out[`${n}_SERVICE_PORT`] = String(first.port);
  for (const p of svc.ports) if (p.name) out[`${n}_SERVICE_PORT_${serviceEnvName(p.name)}`] = String(p.port);
  out[`${n}_PORT`] = `${first.protocol.toLowerCase()}://${svc.clusterIP}:${first.port}`;
  for (const p of svc.ports) {
    const prefix = `${n}_PORT_${p.port}_${p.protocol}`;
    out[prefix] = `${p.protocol.toLowerCase()}://${svc.clusterIP}:${p.port}`;
    out[`${prefix}_PROTO`] = p.protocol.toLowerCase();
    out[`${prefix}_PORT`] = String(p.port);
    out[`${prefix}_ADDR`] = svc.clusterIP;
  }
  return out;
}

/** `$(VAR)` references to earlier variables expand; `$$(VAR)` escapes; unknown ones stay as written. */
export function expandVars(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name]! : m;
  });
}

function labelPath(path: string, obj: Obj): string | undefined {
  const m = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
  if (!m) return undefined;
  return obj.metadata?.[m[1]!]?.[m[2]!] ?? '';
}

function fieldRef(path: string, pod: Obj, podIP: string, hostIP: string): string {
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    case 'metadata.labels':
    case 'metadata.annotations': {
      const m = pod.metadata?.[path.split('.')[1]!] ?? {};
      return Object.entries(m)
        .map(([k, v]) => `${k}="${String(v)}"`)
        .join('\n');
    }
    default:
      return labelPath(path, pod) ?? '';
  }
}

const CPU_DEFAULT = '1';
const MEMORY_DEFAULT = String(1024 * 1024 * 1024);

function quantityToNumber(q: string | undefined, kind: 'cpu' | 'memory'): number | undefined {
  if (q === undefined) return undefined;
  const m = String(q).match(/^([0-9.]+)([a-zA-Z]*)$/);
  if (!m) return undefined;
  const n = Number(m[1]);
  const units: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  const f = units[m[2]!];
  if (f === undefined) return undefined;
  return kind === 'cpu' ? n * f : Math.round(n * f);
}

function resourceField(ref: Obj, container: Obj): string {
  const [kind, res] = String(ref.resource ?? '').split('.') as [string, string];
  const raw = container.resources?.[kind]?.[res === 'cpu' ? 'cpu' : 'memory'];
  const divisor = quantityToNumber(ref.divisor ?? '1', res === 'cpu' ? 'cpu' : 'memory') ?? 1;
  const value = quantityToNumber(raw, res === 'cpu' ? 'cpu' : 'memory') ?? Number(res === 'cpu' ? CPU_DEFAULT : MEMORY_DEFAULT);
  return String(Math.ceil(value / divisor));
}

export interface EnvSources {
  cluster: ClusterApi;
  services: ServiceView[];
}

function lookupData(cluster: ClusterApi, resource: 'configmaps' | 'secrets', namespace: string, name: string): Obj | undefined {
  const def = cluster.kinds.lookup('', 'v1', resource);
  if (!def) return undefined;
  const obj = cluster.store.peek(def.bucket, namespace, name) as Obj | undefined;
  if (!obj) return undefined;
  if (resource === 'configmaps') return obj.data ?? {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(obj.data ?? {})) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
  for (const [k, v] of Object.entries(obj.stringData ?? {})) out[k] = v;
  return out;
}

/** The environment of one container of `pod`, as the kubelet would set it. */
export function containerEnv(src: EnvSources, pod: Obj, container: Obj, podIP: string, hostIP: string): Record<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  if (pod.spec?.enableServiceLinks !== false) {
    for (const s of src.services) if (s.namespace === ns) Object.assign(env, serviceLinkEnv(s));
  }
  const kube = src.services.find((s) => s.namespace === 'default' && s.name === 'kubernetes');
  if (kube) Object.assign(env, serviceLinkEnv(kube));

  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref?.name) continue;
    const data = lookupData(src.cluster, from.configMapRef ? 'configmaps' : 'secrets', ns, ref.name) ?? {};
    for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ''}${k}`] = String(v);
  }
  for (const e of container.env ?? []) {
    if (!e?.name) continue;
    if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) env[e.name] = fieldRef(vf.fieldRef.fieldPath ?? '', pod, podIP, hostIP);
      else if (vf.resourceFieldRef) env[e.name] = resourceField(vf.resourceFieldRef, container);
      else if (vf.configMapKeyRef || vf.secretKeyRef) {
        const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
        const data = lookupData(src.cluster, vf.configMapKeyRef ? 'configmaps' : 'secrets', ns, ref.name ?? '');
        const v = data?.[ref.key];
        if (v !== undefined) env[e.name] = String(v);
      }
      continue;
    }
    env[e.name] = expandVars(String(e.value ?? ''), env);
  }
  return env;
}
