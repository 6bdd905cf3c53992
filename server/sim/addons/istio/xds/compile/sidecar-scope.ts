/**
 * The `Sidecar` resource as pilot's SidecarScope applies it to a sidecar proxy: the one selecting
 * the workload, else its namespace's default, else the root namespace's; its egress `hosts`
 * (`<namespace>/<dns name>`) limit the services and VirtualServices the proxy gets, and its
 * `outboundTrafficPolicy` replaces the mesh's. Egress listeners with their own `port`/`bind` and
 * the `ingress` section are not generated (the catch-all egress listener's hosts apply to all).
 */
import { hostMatches } from './hosts.js';
import type { MeshService } from './mesh.js';
import { resolvedHosts } from './sidecar.js';
import { objects, record, stringMap, strings } from './shape.js';

type Obj = Record<string, any>;

export interface SidecarScope {
  /** Which Sidecar applies (for istioctl). */
  sidecar: { name: string; namespace: string };
  /** Egress hosts as `[namespace, dns name]`; `.` already resolved to the proxy's namespace. */
  hosts: [string, string][];
  outboundTrafficPolicy?: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

const oldestFirst = (a: Obj, b: Obj) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || String(a.metadata?.name).localeCompare(String(b.metadata?.name));

/** The Sidecar for a proxy, undefined when none applies (everything is visible). */
export function sidecarScopeFor(sidecars: Obj[], proxyNamespace: string, labels: Readonly<Record<string, string>>, rootNamespace: string): SidecarScope | undefined {
  const sorted = [...sidecars].sort(oldestFirst);
  const selecting = sorted.find((s) => {
    const sel = stringMap(record(record(s.spec)?.workloadSelector)?.labels);
    return s.metadata.namespace === proxyNamespace && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
  });
  const noSelector = (ns: string) => sorted.find((s) => s.metadata.namespace === ns && !Object.keys(stringMap(record(record(s.spec)?.workloadSelector)?.labels)).length);
  const sc = selecting ?? noSelector(proxyNamespace) ?? noSelector(rootNamespace);
  if (!sc) return undefined;
  const hosts: [string, string][] = [];
  for (const egress of objects(record(sc.spec)?.egress))
    for (const h of strings(egress.hosts)) {
      const i = h.indexOf('/');
      if (i < 0) continue; // validation requires namespace/dnsName
      const ns = h.slice(0, i);
      hosts.push([ns === '.' ? proxyNamespace : ns, h.slice(i + 1).toLowerCase()]);
    }
  const mode = record(record(sc.spec)?.outboundTrafficPolicy)?.mode;
  return { sidecar: { name: sc.metadata.name, namespace: sc.metadata.namespace }, hosts, ...(mode === 'REGISTRY_ONLY' || mode === 'ALLOW_ANY' ? { outboundTrafficPolicy: mode } : {}) };
}

const nsMatches = (want: string, ns: string) => want === '*' || want === ns;

/** Services the Sidecar's egress hosts import. */
export function scopeServices(services: MeshService[], scope: SidecarScope | undefined): MeshService[] {
  if (!scope) return services;
  return services.filter((s) => scope.hosts.some(([ns, h]) => ns !== '~' && nsMatches(ns, s.namespace) && (h === '*' || hostMatches(h, s.hostname))));
}

/** VirtualServices the Sidecar's egress hosts import: from a matching namespace, with a matching host. */
export function scopeVirtualServices(vss: Obj[], scope: SidecarScope | undefined): Obj[] {
  if (!scope) return vss;
  return vss.filter((vs) => scope.hosts.some(([ns, h]) => ns !== '~' && nsMatches(ns, vs.metadata.namespace) && (h === '*' || resolvedHosts(vs).some((vh) => hostMatches(h, vh)))));
}
