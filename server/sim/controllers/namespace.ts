/**
 * Namespace lifecycle: the namespaces every cluster has, the per-namespace objects the
 * ServiceAccount and root-CA publisher controllers create, and deletion of a Terminating
 * namespace's contents before its `kubernetes` finalizer is removed.
 */
import { ApiError } from '../errors.js';
import type { KubeObject } from '../types.js';
import type { ObjectStore } from '../storage/store.js';
import { bucketOf } from '../storage/store.js';
import type { ResourceRegistry } from '../registry/registry.js';
import type { RestStorage } from '../registry/rest.js';
import { StoreReconciler } from './store-reconciler.js';

type Obj = Record<string, any>;

export const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];
const NAMESPACES = bucketOf('', 'namespaces');
const ROOT_CA = '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2Vy\ndmVyLWNhQGVtYmVkZGVkLXNpbTAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAw\nMDBaMCMxITAfBgNVBAMMGGVtYmVkZGVkLWNsdXN0ZXItY2EtZmFrZTBZMBMGByqG\n-----END CERTIFICATE-----\n';

export class NamespaceController extends StoreReconciler {
  constructor(store: ObjectStore, registry: ResourceRegistry, rest: RestStorage) {
    super(store, registry, rest, (e, enqueue) => {
      if (e.bucket === NAMESPACES) enqueue(e.object.metadata.name!);
      else if (e.type === 'DELETED' && e.namespace) {
        const ns = store.get(NAMESPACES, '', e.namespace) as Obj | undefined;
        if (ns?.metadata.deletionTimestamp) enqueue(e.namespace);
      }
    });
  }

  /** Creates the system namespaces (synchronously enough for a cold start). */
  async bootstrap(): Promise<void> {
    const def = this.registry.lookup('', 'v1', 'namespaces')!;
    for (const name of SYSTEM_NAMESPACES) {
      if (!this.store.has(NAMESPACES, '', name)) await this.rest.create(def, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    for (const ns of this.store.list(NAMESPACES)) await this.reconcile(ns.metadata.name!);
  }

  protected async reconcile(name: string): Promise<void> {
    const ns = this.store.get(NAMESPACES, '', name) as Obj | undefined;
    if (!ns) return;
    if (ns.metadata.deletionTimestamp) return this.finalize(ns);
    await this.ensure('', 'serviceaccounts', name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    await this.ensure('', 'configmaps', name, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace: name, annotations: { 'kubernetes.io/description': "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters." } },
      data: { 'ca.crt': ROOT_CA },
    });
  }

  private async ensure(group: string, resource: string, ns: string, obj: KubeObject): Promise<void> {
    const def = this.registry.lookup(group, 'v1', resource)!;
    if (this.store.has(def.bucket, ns, obj.metadata.name!)) return;
    try {
      await this.rest.create(def, ns, obj, { fieldManager: resource === 'serviceaccounts' ? 'kube-controller-manager' : 'kube-controller-manager' });
    } catch (e) {
      // The namespace may have started terminating in between: nothing to create then.
      if (!(e instanceof ApiError) || (e.code !== 409 && e.code !== 403 && e.code !== 404)) throw e;
    }
  }

  /** Deletes everything in a Terminating namespace; once empty, drops the `kubernetes` finalizer. */
  private async finalize(ns: Obj): Promise<void> {
    const name = ns.metadata.name as string;
    let remaining = 0;
    for (const def of this.registry.buckets()) {
      if (!def.namespaced) continue;
      for (const o of this.store.list(def.bucket, name)) {
        remaining++;
        if (o.metadata.deletionTimestamp) continue;
        try {
          await this.rest.delete(def, name, o.metadata.name!, { propagationPolicy: 'Background' });
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    }
    if (remaining > 0) {
      // Re-check after this round's deletions (and any finalizers) have settled.
      const still = this.registry.buckets().some((d) => d.namespaced && this.store.count(d.bucket, name) > 0);
      if (still) return;
    }
    const def = this.registry.lookup('', 'v1', 'namespaces')!;
    const live = this.store.get(NAMESPACES, '', name) as Obj | undefined;
    if (!live || !(live.spec?.finalizers ?? []).includes('kubernetes')) return;
    live.spec.finalizers = live.spec.finalizers.filter((f: string) => f !== 'kubernetes');
    await this.rest.update(def, '', name, live, { fieldManager: 'kube-controller-manager' });
  }
}
