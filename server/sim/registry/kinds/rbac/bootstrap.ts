/**
 * kube-apiserver's rbac/bootstrap-roles post-start hook plus kubeadm's init phases: creates
 * the default policy objects that are missing (a learner's deleted `view` comes back at the
 * next start, as on a real cluster). Written straight to the store, as the hook's objects are
 * trusted and fixed: going through the REST path for ~150 objects would multiply a cold start.
 */
import { randomUUID } from 'node:crypto';
import { bucketOf, type ObjectStore } from '../../../storage/store.js';
import type { KubeObject } from '../../../types.js';
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES, BOOTSTRAP_ROLE_BINDINGS, BOOTSTRAP_ROLES, KUBEADM_OBJECTS } from './bootstrap-policy.js';
import { CONTROLLER_CLUSTER_ROLE_BINDINGS, CONTROLLER_CLUSTER_ROLES, CONTROLLER_ROLE_BINDINGS, CONTROLLER_ROLES, CONTROLLER_SERVICE_ACCOUNTS } from './controller-policy.js';
import { aggregatedRules } from './aggregation.js';
import { CLUSTER_ROLES } from './evaluator.js';
import { StoreReconciler } from '../../../controllers/store-reconciler.js';
import type { ResourceRegistry } from '../../registry.js';
import type { RestStorage } from '../../rest.js';

type Obj = Record<string, any>;

const PLURAL: Record<string, string> = { ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings' };
const NAMESPACES = bucketOf('', 'namespaces');
const SERVICE_ACCOUNTS = bucketOf('', 'serviceaccounts');

/** kube-controller-manager's start: each controller's ServiceAccount in kube-system, if missing. */
export function ensureControllerServiceAccounts(store: ObjectStore, now: Date = new Date()): void {
  if (!store.has(NAMESPACES, '', 'kube-system')) return;
  const created = now.toISOString().replace(/\.\d+Z$/, 'Z');
  for (const name of CONTROLLER_SERVICE_ACCOUNTS) {
    if (store.has(SERVICE_ACCOUNTS, 'kube-system', name)) continue;
    store.create(SERVICE_ACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'kube-system', uid: randomUUID(), creationTimestamp: created } } as KubeObject);
  }
}

const DEFAULT_OBJECTS = [
  ...BOOTSTRAP_CLUSTER_ROLES,
  ...CONTROLLER_CLUSTER_ROLES,
  ...BOOTSTRAP_CLUSTER_ROLE_BINDINGS,
  ...CONTROLLER_CLUSTER_ROLE_BINDINGS,
  ...BOOTSTRAP_ROLES,
  ...CONTROLLER_ROLES,
  ...BOOTSTRAP_ROLE_BINDINGS,
  ...CONTROLLER_ROLE_BINDINGS,
  ...KUBEADM_OBJECTS,
];
/** Aggregated roles in dependency order: edit aggregates view, admin aggregates edit. */
const AGGREGATED = ['view', 'edit', 'admin'];

export function ensureBootstrapPolicy(store: ObjectStore, now: Date = new Date()): void {
  const created = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const fresh = new Set<string>();
  for (const o of DEFAULT_OBJECTS) {
    const bucket = bucketOf('rbac.authorization.k8s.io', PLURAL[o.kind]);
    const ns = o.metadata.namespace ?? '';
    if (store.has(bucket, ns, o.metadata.name)) continue;
    if (ns && !store.has(NAMESPACES, '', ns)) continue;
    // The store keeps its own copy: the shared template is never stored.
    store.create(bucket, { ...o, metadata: { ...o.metadata, uid: randomUUID(), creationTimestamp: created } } as KubeObject);
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

const keyOf = (bucket: string, ns: string, name: string) => `${bucket}|${ns}|${name}`;
const DEFAULTS_BY_KEY = new Map(DEFAULT_OBJECTS.map((o) => [keyOf(bucketOf('rbac.authorization.k8s.io', PLURAL[o.kind]), o.metadata.namespace ?? '', o.metadata.name), o]));

/**
 * What kube-apiserver's bootstrap reconciliation does at each start, done whenever a default
 * object is deleted or loses rules or subjects: missing objects come back, missing rules and
 * subjects are added (extra ones stay), a changed roleRef is put back. A real cluster waits for
 * its next restart; the playground's learner, who cannot restart kube-apiserver, would otherwise
 * lock themselves out for good with one `kubectl delete clusterrole --all`.
 */
export class BootstrapPolicyReconciler extends StoreReconciler {
  constructor(store: ObjectStore, registry: ResourceRegistry, rest: RestStorage) {
    super(store, registry, rest, (e, enqueue) => {
      const key = keyOf(e.bucket, e.namespace, e.object.metadata.name ?? '');
      if (e.type !== 'ADDED' && DEFAULTS_BY_KEY.has(key)) enqueue(key);
    });
  }

  protected async reconcile(key: string): Promise<void> {
    const want = DEFAULTS_BY_KEY.get(key);
    if (!want) return;
    const [bucket, ns, name] = key.split('|') as [string, string, string];
    if (ns && !this.store.has(NAMESPACES, '', ns)) return;
    const have = this.store.get(bucket, ns, name) as Obj | undefined;
    if (!have || have.metadata.deletionTimestamp) {
      if (have) return; // being deleted (finalizers): the next event brings it back
      ensureBootstrapPolicy(this.store);
      return;
    }
    let changed = false;
    if (want.kind === 'ClusterRole' || want.kind === 'Role') {
      if (!want.aggregationRule) {
        const rules: Obj[] = Array.isArray(have.rules) ? have.rules : [];
        for (const r of want.rules as Obj[]) {
          if (rules.some((x) => JSON.stringify(x) === JSON.stringify(r))) continue;
          rules.push(structuredClone(r));
          changed = true;
        }
        have.rules = rules;
      } else if (JSON.stringify(have.aggregationRule) !== JSON.stringify(want.aggregationRule)) {
        have.aggregationRule = structuredClone(want.aggregationRule);
        changed = true;
      }
    } else {
      if (JSON.stringify(have.roleRef) !== JSON.stringify(want.roleRef)) {
        have.roleRef = structuredClone(want.roleRef);
        changed = true;
      }
      const subjects: Obj[] = Array.isArray(have.subjects) ? have.subjects : [];
      for (const s of (want.subjects ?? []) as Obj[]) {
        if (subjects.some((x) => x.kind === s.kind && x.name === s.name && (x.namespace ?? '') === (s.namespace ?? ''))) continue;
        subjects.push(structuredClone(s));
        changed = true;
      }
      if (subjects.length) have.subjects = subjects;
    }
    if (changed) this.store.update(bucket, have as KubeObject);
  }
}
