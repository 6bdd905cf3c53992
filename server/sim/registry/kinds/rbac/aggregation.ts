/**
 * kube-controller-manager's clusterrole-aggregation controller: a ClusterRole with an
 * aggregationRule gets, as its rules, the rules of every ClusterRole its selectors match (in
 * name order, each distinct rule once). That is how admin, edit and view grow when a CRD's
 * installer adds `aggregate-to-view` roles.
 */
import type { ObjectStore } from '../../../storage/store.js';
import type { ResourceRegistry } from '../../registry.js';
import type { RestStorage } from '../../rest.js';
import { StoreReconciler } from '../../../controllers/store-reconciler.js';
import { selectorMatches } from '../../strategies/workloads.js';
import { CLUSTER_ROLES } from './evaluator.js';

type Obj = Record<string, any>;

/** The rules an aggregated ClusterRole gets: per selector, matching roles in name order, each distinct rule once. */
export function aggregatedRules(name: string, selectors: Obj[], clusterRoles: Obj[]): Obj[] {
  const rules: Obj[] = [];
  const seen = new Set<string>();
  const all = [...clusterRoles].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const selector of selectors) {
    for (const src of all) {
      if (src.metadata.name === name || !selectorMatches(selector, src.metadata.labels ?? {})) continue;
      for (const rule of src.rules ?? []) {
        const key = JSON.stringify(rule);
        if (seen.has(key)) continue;
        seen.add(key);
        rules.push(rule);
      }
    }
  }
  return rules;
}

export class ClusterRoleAggregation extends StoreReconciler {
  constructor(store: ObjectStore, registry: ResourceRegistry, rest: RestStorage) {
    super(store, registry, rest, (e, enqueue) => {
      if (e.bucket !== CLUSTER_ROLES) return;
      // Any role's labels or rules may feed an aggregated one: look at each aggregated role again.
      for (const cr of store.list(CLUSTER_ROLES, undefined, true) as Obj[]) if (cr.aggregationRule) enqueue(cr.metadata.name);
    });
  }

  /** Reconciles every aggregated ClusterRole (at start and after a restore). */
  resync(): void {
    for (const cr of this.store.list(CLUSTER_ROLES, undefined, true) as Obj[]) if (cr.aggregationRule) this.enqueue(cr.metadata.name);
  }

  protected async reconcile(name: string): Promise<void> {
    const cr = this.store.peek(CLUSTER_ROLES, '', name) as Obj | undefined;
    const selectors: Obj[] = cr?.aggregationRule?.clusterRoleSelectors ?? [];
    if (!cr || !cr.aggregationRule) return;
    const rules = aggregatedRules(name, selectors, this.store.list(CLUSTER_ROLES, undefined, true) as Obj[]);
    if (JSON.stringify(rules) === JSON.stringify(cr.rules ?? [])) return;
    const def = this.registry.lookup('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
    try {
      await this.rest.update(def, '', name, { ...structuredClone(cr), rules }, { fieldManager: 'clusterrole-aggregation-controller' });
    } catch {
      this.enqueue(name); // a conflicting write in between: look again
    }
  }
}
