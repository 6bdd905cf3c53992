/**
 * kube-apiserver's rbac/bootstrap-roles post-start hook plus kubeadm's init phases: creates
 * the default policy objects that are missing (a learner's deleted `view` comes back at the
 * next start, as on a real cluster).
 */
import type { ObjectStore } from '../../../storage/store.js';
import type { ResourceRegistry } from '../../registry.js';
import type { RestStorage } from '../../rest.js';
import { ApiError } from '../../../errors.js';
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES, BOOTSTRAP_ROLE_BINDINGS, BOOTSTRAP_ROLES, KUBEADM_OBJECTS } from './bootstrap-policy.js';
import type { KubeObject } from '../../../types.js';

const PLURAL: Record<string, string> = { ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings' };

export async function ensureBootstrapPolicy(store: ObjectStore, registry: ResourceRegistry, rest: RestStorage): Promise<void> {
  for (const o of [...BOOTSTRAP_CLUSTER_ROLES, ...BOOTSTRAP_CLUSTER_ROLE_BINDINGS, ...BOOTSTRAP_ROLES, ...BOOTSTRAP_ROLE_BINDINGS, ...KUBEADM_OBJECTS]) {
    const def = registry.lookup('rbac.authorization.k8s.io', 'v1', PLURAL[o.kind])!;
    const ns = o.metadata.namespace ?? '';
    if (store.has(def.bucket, ns, o.metadata.name)) continue;
    try {
      await rest.create(def, ns, structuredClone(o) as KubeObject, { fieldManager: o.metadata.labels ? 'kube-apiserver' : 'kubeadm' });
    } catch (e) {
      // A namespace not there yet (API-only clusters without kube-public) is no reason to fail start-up.
      if (!(e instanceof ApiError) || (e.code !== 404 && e.code !== 409)) throw e;
    }
  }
}
