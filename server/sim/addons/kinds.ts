/**
 * How an add-on's kinds reach the cluster: the one place that knows what the registry offers for
 * adding a resource: a CustomResourceDefinition (created through the API, so the registry,
 * discovery, OpenAPI, tables and SSA follow it as they follow kubectl-applied CRDs), or a kind
 * written in code, which the registry serves as it serves the built-in kinds (addKind).
 */
import type { ResourceRegistry } from '../registry/registry.js';
import type { RestStorage } from '../registry/rest.js';
import type { ClusterKinds, KindDefinition } from './api.js';

export function clusterKinds(registry: ResourceRegistry, rest: RestStorage): ClusterKinds {
  const lookup = (group: string, version: string, resource: string) => registry.lookup(group, version, resource);
  return {
    lookup,
    require(group, version, resource) {
      const d = lookup(group, version, resource);
      if (!d) throw new Error(`embedded cluster has no ${group || 'core'}/${version} ${resource}`);
      return d;
    },
    async register(def: KindDefinition) {
      if ('builtin' in def) {
        const withdraw = registry.addKind(def.builtin);
        return async () => withdraw();
      }
      const crds = lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
      const name = def.crd.metadata.name!;
      await rest.create(crds, '', structuredClone(def.crd), { fieldManager: 'embedded-cluster-addon' });
      return async () => {
        await rest.delete(crds, '', name).catch(() => undefined);
      };
    },
  };
}
