/**
 * kube-apiserver's rbac/bootstrap-roles post-start hook plus kubeadm's init phases: creates
 * the default policy objects that are missing (a learner's deleted `view` comes back at the
 * next start, as on a real cluster). Written straight to the store, as the hook's objects are
 * trusted and fixed: going through the REST path for ~70 objects would multiply a cold start.
 */
import { randomUUID } from 'node:crypto';
import { bucketOf, type ObjectStore } from '../../../storage/store.js';
import type { KubeObject } from '../../../types.js';
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES, BOOTSTRAP_ROLE_BINDINGS, BOOTSTRAP_ROLES, KUBEADM_OBJECTS } from './bootstrap-policy.js';
import { aggregatedRules } from './aggregation.js';
import { CLUSTER_ROLES } from './evaluator.js';

type Obj = Record<string, any>;

const PLURAL: Record<string, string> = { ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings' };
const NAMESPACES = bucketOf('', 'namespaces');
/** Aggregated roles in dependency order: edit aggregates view, admin aggregates edit. */
const AGGREGATED = ['view', 'edit', 'admin'];

export function ensureBootstrapPolicy(store: ObjectStore, now: Date = new Date()): void {
  const created = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const fresh = new Set<string>();
  for (const o of [...BOOTSTRAP_CLUSTER_ROLES, ...BOOTSTRAP_CLUSTER_ROLE_BINDINGS, ...BOOTSTRAP_ROLES, ...BOOTSTRAP_ROLE_BINDINGS, ...KUBEADM_OBJECTS]) {
    const bucket = bucketOf('rbac.authorization.k8s.io', PLURAL[o.kind]);
    const ns = o.metadata.namespace ?? '';
    if (store.has(bucket, ns, o.metadata.name)) continue;
    if (ns && !store.has(NAMESPACES, '', ns)) continue;
    const obj = structuredClone(o) as KubeObject;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = created;
    store.create(bucket, obj);
    if (o.kind === 'ClusterRole') fresh.add(o.metadata.name);
  }
  // The aggregation controller would fill these moments later; a new cluster has them filled.
  for (const name of AGGREGATED) {
    if (!fresh.has(name)) continue;
    const cr = store.get(CLUSTER_ROLES, '', name) as Obj | undefined;
    if (!cr?.aggregationRule) continue;
    cr.rules = aggregatedRules(name, cr.aggregationRule.clusterRoleSelectors ?? [], store.list(CLUSTER_ROLES, undefined, true) as Obj[]);
    store.update(CLUSTER_ROLES, cr as KubeObject);
  }
}
