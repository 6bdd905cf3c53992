/**
 * What objects a cluster holds, through the Kubernetes API only (so it works on every backend):
 * used to prove that a track's cleanup removes everything the track created.
 */
import type { Kubeconfig } from '../cluster/kubeconfig.js';
import { apiRequest } from '../checks/kinds/http.js';

/** Kinds that come and go on their own (controllers and the cluster make them), not a track's leftovers. */
const IGNORED = new Set(['events', 'events.events.k8s.io', 'leases.coordination.k8s.io', 'endpoints', 'endpointslices.discovery.k8s.io', 'controllerrevisions.apps', 'serviceaccounts/default', 'configmaps/kube-root-ca.crt']);

interface Resource {
  path: string;
  qualified: string;
}

async function getJson<T>(kc: Kubeconfig, path: string): Promise<T> {
  const res = await apiRequest(kc, path, { headers: { accept: 'application/json' } });
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return JSON.parse(res.body) as T;
}

async function listableResources(kc: Kubeconfig): Promise<Resource[]> {
  type ResourceList = { resources: { name: string; verbs: string[] }[] };
  const out: Resource[] = [];
  const add = (base: string, group: string, list: ResourceList) => {
    for (const r of list.resources) {
      if (r.name.includes('/') || !r.verbs.includes('list')) continue;
      out.push({ path: `${base}/${r.name}`, qualified: group ? `${r.name}.${group}` : r.name });
    }
  };
  add('/api/v1', '', await getJson<ResourceList>(kc, '/api/v1'));
  const groups = await getJson<{ groups: { name: string; preferredVersion: { groupVersion: string } }[] }>(kc, '/apis');
  for (const g of groups.groups) {
    add(`/apis/${g.preferredVersion.groupVersion}`, g.name, await getJson<ResourceList>(kc, `/apis/${g.preferredVersion.groupVersion}`));
  }
  return out;
}

/** Keys `resource.group namespace/name` of every object that is not owned by another and not self-managing. */
export async function inventory(kc: Kubeconfig): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const r of await listableResources(kc)) {
    if (IGNORED.has(r.qualified)) continue;
    let list: { items: { metadata: { name: string; namespace?: string; ownerReferences?: unknown[] } }[] };
    try {
      list = await getJson(kc, r.path);
    } catch {
      continue;
    }
    for (const item of list.items) {
      // Owned objects go with their owner; a leaked owner is what gets reported.
      if (item.metadata.ownerReferences?.length) continue;
      const key = `${r.qualified} ${item.metadata.namespace ? `${item.metadata.namespace}/` : ''}${item.metadata.name}`;
      if (IGNORED.has(`${r.qualified}/${item.metadata.name}`)) continue;
      keys.add(key);
    }
  }
  return keys;
}
