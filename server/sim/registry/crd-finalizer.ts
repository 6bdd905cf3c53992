/**
 * What apiextensions-apiserver's finalizer controller does: a CustomResourceDefinition being
 * deleted first loses all its custom objects, then its `customresourcecleanup` finalizer.
 */
import type { ObjectStore } from '../storage/store.js';
import { bucketOf } from '../storage/store.js';
import { CRD_BUCKET, type ResourceRegistry } from './registry.js';
import type { RestStorage } from './rest.js';
import { StoreReconciler } from '../controllers/store-reconciler.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

type Obj = Record<string, any>;

export class CRDFinalizer extends StoreReconciler {
  constructor(store: ObjectStore, registry: ResourceRegistry, rest: RestStorage) {
    super(store, registry, rest, (e, enqueue) => {
      if (e.bucket === CRD_BUCKET && e.type !== 'DELETED' && e.object.metadata.deletionTimestamp) enqueue(e.object.metadata.name!);
    });
  }

  protected async reconcile(name: string): Promise<void> {
    const crd = this.store.get(CRD_BUCKET, '', name) as Obj | undefined;
    if (!crd?.metadata.deletionTimestamp) return;
    this.store.dropBucket(bucketOf(crd.spec?.group ?? '', crd.spec?.names?.plural ?? ''));
    const finalizers: string[] = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) return;
    crd.metadata.finalizers = finalizers.filter((f) => f !== CRD_CLEANUP_FINALIZER);
    const def = this.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    await this.rest.update(def, '', name, crd, { fieldManager: 'kube-apiserver' });
  }
}
