/**
 * The core set every cluster runs, with or without nodes: namespace lifecycle (the system
 * namespaces and each namespace's defaults and deletion), the garbage collector and the CRD
 * finalizer. They work across every served resource, so they are built over the registry
 * itself rather than the narrow API; they take part in settle() like any controller.
 */
import type { ObjectStore } from '../../storage/store.js';
import type { ResourceRegistry } from '../../registry/registry.js';
import type { RestStorage } from '../../registry/rest.js';
import { CRDFinalizer } from '../../registry/crd-finalizer.js';
import { NamespaceController } from '../../controllers/namespace.js';
import { GarbageCollector } from '../../controllers/garbagecollector.js';
import { ClusterRoleAggregation } from '../../registry/kinds/rbac/aggregation.js';
import { LegacyTokenController } from '../../registry/kinds/authentication/legacy-tokens.js';
import { BootstrapPolicyReconciler, ensureBootstrapPolicy, ensureControllerServiceAccounts } from '../../registry/kinds/rbac/bootstrap.js';
import { serviceAccountAdmission } from '../../registry/kinds/core/serviceaccount-admission.js';
import type { AddOn } from '../api.js';

/** caPem: the cluster's CA, which the root-CA publisher puts in each namespace's kube-root-ca.crt. */
export function controlPlane(internals: { store: ObjectStore; registry: ResourceRegistry; rest: RestStorage; caPem?: string }): AddOn {
  return {
    name: 'control-plane',
    async start(api) {
      const { store, registry, rest } = internals;
      const namespaces = new NamespaceController(store, registry, rest, internals.caPem);
      const gc = new GarbageCollector(store, registry, rest);
      const crdFinalizer = new CRDFinalizer(store, registry, rest);
      const aggregation = new ClusterRoleAggregation(store, registry, rest);
      const policy = new BootstrapPolicyReconciler(store, registry, rest);
      const legacyTokens = rest.auth ? new LegacyTokenController(store, registry, rest, rest.auth.tokens) : undefined;
      const unregister = [
        ...(legacyTokens ? [api.controllers.register({ name: 'tokens', idle: () => legacyTokens.idle() })] : []),
        api.controllers.register({ name: 'rbac-bootstrap', idle: () => policy.idle(), resync: () => (ensureBootstrapPolicy(store), ensureControllerServiceAccounts(store)) }),
        api.controllers.register({ name: 'clusterrole-aggregation', idle: () => aggregation.idle(), resync: () => aggregation.resync() }),
        api.admission.register(serviceAccountAdmission(store)),
        api.controllers.register({ name: 'garbage-collector', idle: () => gc.idle() }),
        api.controllers.register({ name: 'namespace', idle: () => namespaces.idle() }),
        api.controllers.register({ name: 'crd-finalizer', idle: () => crdFinalizer.idle() }),
      ];
      await namespaces.bootstrap();
      ensureBootstrapPolicy(store);
      ensureControllerServiceAccounts(store);
      aggregation.resync();
      return () => {
        aggregation.stop();
        policy.stop();
        legacyTokens?.stop();
        for (const u of unregister) u();
        namespaces.stop();
        gc.stop();
        crdFinalizer.stop();
      };
    },
  };
}
