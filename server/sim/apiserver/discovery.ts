/**
 * Discovery documents: the legacy ones (/api, /apis, /api/v1, /apis/G/V) and the aggregated
 * apidiscovery.k8s.io v2/v2beta1 lists kubectl 1.30+ asks for first.
 */
import type { ResourceDef } from '../registry/resource.js';
import { compareKubeVersions } from '../registry/registry.js';

interface GroupInfo {
  name: string;
  /** Versions, preferred first. */
  versions: string[];
}

/** Groups in the order kube-apiserver lists them: built-in order, then CRD groups alphabetically. */
export function groups(defs: ResourceDef[]): GroupInfo[] {
  const map = new Map<string, Set<string>>();
  for (const d of defs) {
    if (!d.group) continue;
    if (!map.has(d.group)) map.set(d.group, new Set());
    map.get(d.group)!.add(d.version);
  }
  // CRD groups share GroupPriorityMinimum 1000, below every built-in group: ties go by name.
  const crdGroups = new Set(defs.filter((d) => d.crd).map((d) => d.group));
  const builtin = [...map.keys()].filter((g) => !crdGroups.has(g));
  const custom = [...map.keys()].filter((g) => crdGroups.has(g)).sort();
  return [...builtin, ...custom].map((name) => ({ name, versions: [...map.get(name)!].sort(compareKubeVersions) }));
}

const gv = (g: string, v: string) => (g ? `${g}/${v}` : v);

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(defs: ResourceDef[]): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups(defs).map((g) => apiGroup(g)),
  };
}

function apiGroup(g: GroupInfo): object {
  return {
    name: g.name,
    versions: g.versions.map((v) => ({ groupVersion: gv(g.name, v), version: v })),
    preferredVersion: { groupVersion: gv(g.name, g.versions[0]), version: g.versions[0] },
  };
}

export function apiGroupDoc(defs: ResourceDef[], name: string): object | undefined {
  const g = groups(defs).find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) } : undefined;
}

function subresourceKind(d: ResourceDef, sub: string): { group: string; version: string; kind: string } {
  if (sub === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  const extra = d.extraSubresources?.find((e) => e.name === sub);
  if (extra) return { group: extra.group ?? '', version: extra.version ?? 'v1', kind: extra.kind };
  return { group: d.group, version: d.version, kind: d.kind };
}

function subresources(d: ResourceDef): { name: string; verbs: string[] }[] {
  const out: { name: string; verbs: string[] }[] = [];
  if (d.status) out.push({ name: 'status', verbs: ['get', 'patch', 'update'] });
  if (d.scale) out.push({ name: 'scale', verbs: ['get', 'patch', 'update'] });
  for (const e of d.extraSubresources ?? []) out.push({ name: e.name, verbs: e.verbs });
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function apiResourceList(defs: ResourceDef[], group: string, version: string): object | undefined {
  const mine = defs.filter((d) => d.group === group && d.version === version).sort((a, b) => (a.resource < b.resource ? -1 : 1));
  if (!mine.length) return undefined;
  const resources: object[] = [];
  for (const d of mine) {
    resources.push({
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
      ...(d.shortNames?.length ? { shortNames: d.shortNames } : {}),
      ...(d.categories?.length ? { categories: d.categories } : {}),
    });
    for (const s of subresources(d)) {
      const k = subresourceKind(d, s.name);
      resources.push({
        name: `${d.resource}/${s.name}`,
        singularName: '',
        namespaced: d.namespaced,
        ...(k.group !== d.group || k.version !== d.version ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv(group, version), resources };
}

/** apidiscovery.k8s.io/{v2,v2beta1} APIGroupDiscoveryList for /api (core) or /apis (the rest). */
export function aggregated(defs: ResourceDef[], legacy: boolean, apiVersion: 'v2' | 'v2beta1'): object {
  const items: object[] = [];
  const groupInfos: GroupInfo[] = legacy ? [{ name: '', versions: ['v1'] }] : groups(defs);
  for (const g of groupInfos) {
    items.push({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: defs
          .filter((d) => d.group === g.name && d.version === v)
          .sort((a, b) => (a.resource < b.resource ? -1 : 1))
          .map((d) => ({
            resource: d.resource,
            responseKind: { group: d.group, version: d.version, kind: d.kind },
            scope: d.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: d.singular,
            verbs: d.verbs,
            ...(d.shortNames?.length ? { shortNames: d.shortNames } : {}),
            ...(d.categories?.length ? { categories: d.categories } : {}),
            ...(subresources(d).length
              ? { subresources: subresources(d).map((s) => ({ subresource: s.name, responseKind: subresourceKind(d, s.name), verbs: s.verbs })) }
              : {}),
          })),
        freshness: 'Current',
      })),
    });
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${apiVersion}`, metadata: {}, items };
}
