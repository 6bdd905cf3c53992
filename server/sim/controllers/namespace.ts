/**
 * Namespace lifecycle: the namespaces every cluster has, the per-namespace objects the
 * ServiceAccount and root-CA publisher controllers create (kube-root-ca.crt is recreated when
 * deleted and reset when edited), and deletion of a Terminating namespace's contents, reported in
 * the namespace's deletion conditions, before its `kubernetes` finalizer is removed.
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
const CONFIGMAPS = bucketOf('', 'configmaps');
const ROOT_CA_NAME = 'kube-root-ca.crt';
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The conditions the namespace deleter maintains, in its order, with their "all is well" reason and message. */
const DELETION_CONDITIONS: [type: string, okReason: string, okMessage: string][] = [
  ['NamespaceDeletionDiscoveryFailure', 'ResourcesDiscovered', 'All resources successfully discovered'],
  ['NamespaceDeletionGroupVersionParsingFailure', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
  ['NamespaceDeletionContentFailure', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
  ['NamespaceContentRemaining', 'ContentRemoved', 'All content successfully removed'],
  ['NamespaceFinalizersRemaining', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'],
];
/** Stands in for the cluster's CA where none is given (unit tests building the controller alone). */
const PLACEHOLDER_CA = '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2Vy\ndmVyLWNhQGVtYmVkZGVkLXNpbTAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAw\nMDBaMCMxITAfBgNVBAMMGGVtYmVkZGVkLWNsdXN0ZXItY2EtZmFrZTBZMBMGByqG\n-----END CERTIFICATE-----\n';

export class NamespaceController extends StoreReconciler {
  constructor(store: ObjectStore, registry: ResourceRegistry, rest: RestStorage, private readonly rootCA: string = PLACEHOLDER_CA) {
    super(store, registry, rest, (e, enqueue) => {
      if (e.bucket === NAMESPACES) enqueue(e.object.metadata.name!);
      // The root CA publisher watches its ConfigMap: deleted or edited, it is put back.
      else if (e.bucket === CONFIGMAPS && e.object.metadata.name === ROOT_CA_NAME && e.namespace) enqueue(e.namespace);
      if (e.type === 'DELETED' && e.namespace) {
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
    await this.publishRootCA(name);
  }

  /** rootcacertpublisher's syncNamespace: create the ConfigMap, or reset its data and description. */
  private async publishRootCA(ns: string): Promise<void> {
    const def = this.registry.lookup('', 'v1', 'configmaps')!;
    const live = this.store.get(CONFIGMAPS, ns, ROOT_CA_NAME) as Obj | undefined;
    if (!live) {
      return this.ensure('', 'configmaps', ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_NAME, namespace: ns, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } }, data: { 'ca.crt': this.rootCA } } as KubeObject);
    }
    if (live.metadata.deletionTimestamp) return;
    const data = { 'ca.crt': this.rootCA };
    if (JSON.stringify(live.data ?? {}) === JSON.stringify(data) && live.metadata.annotations?.['kubernetes.io/description']) return;
    const upd = structuredClone(live);
    upd.data = data;
    delete upd.binaryData;
    upd.metadata.annotations = { ...(upd.metadata.annotations ?? {}), 'kubernetes.io/description': ROOT_CA_DESCRIPTION };
    try {
      await this.rest.update(def, ns, ROOT_CA_NAME, upd as KubeObject, { fieldManager: 'kube-controller-manager' });
    } catch (e) {
      // A newer write wins the race; its event brings us back.
      if (!(e instanceof ApiError) || (e.code !== 409 && e.code !== 404)) throw e;
    }
  }

  private async ensure(group: string, resource: string, ns: string, obj: KubeObject): Promise<void> {
    const def = this.registry.lookup(group, 'v1', resource)!;
    if (this.store.has(def.bucket, ns, obj.metadata.name!)) return;
    try {
      await this.rest.create(def, ns, obj, { fieldManager: 'kube-controller-manager' });
    } catch (e) {
      // The namespace may have started terminating in between: nothing to create then.
      if (!(e instanceof ApiError) || (e.code !== 409 && e.code !== 403 && e.code !== 404)) throw e;
    }
  }

  /** Deletes everything in a Terminating namespace; once empty, drops the `kubernetes` finalizer. */
  private async finalize(ns: Obj): Promise<void> {
    const name = ns.metadata.name as string;
    for (const def of this.registry.buckets()) {
      if (!def.namespaced) continue;
      for (const o of this.store.list(def.bucket, name)) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          await this.rest.delete(def, name, o.metadata.name!, { propagationPolicy: 'Background' });
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    }
    // What is left after this round (graceful pods, objects held by finalizers), as the deleter reports it.
    const byResource = new Map<string, number>();
    const byFinalizer = new Map<string, number>();
    for (const def of this.registry.buckets()) {
      if (!def.namespaced) continue;
      const left = this.store.list(def.bucket, name);
      if (!left.length) continue;
      byResource.set(`${def.resource}.${def.group}`, left.length);
      for (const o of left) for (const f of o.metadata.finalizers ?? []) byFinalizer.set(f, (byFinalizer.get(f) ?? 0) + 1);
    }
    await this.writeDeletionConditions(name, byResource, byFinalizer);
    if (byResource.size > 0) return;
    const def = this.registry.lookup('', 'v1', 'namespaces')!;
    const live = this.store.get(NAMESPACES, '', name) as Obj | undefined;
    if (!live || !(live.spec?.finalizers ?? []).includes('kubernetes')) return;
    live.spec.finalizers = live.spec.finalizers.filter((f: string) => f !== 'kubernetes');
    await this.rest.update(def, '', name, live, { fieldManager: 'kube-controller-manager' });
  }

  /** namespaceConditionUpdater: each deleter condition, failing or its "ok" variant; written only on change. */
  private async writeDeletionConditions(name: string, byResource: Map<string, number>, byFinalizer: Map<string, number>): Promise<void> {
    const failing = new Map<string, { reason: string; message: string }>();
    if (byResource.size) {
      const parts = [...byResource].map(([r, n]) => `${r} has ${n} resource instances`).sort();
      failing.set('NamespaceContentRemaining', { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${parts.join(', ')}` });
    }
    if (byFinalizer.size) {
      const parts = [...byFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      failing.set('NamespaceFinalizersRemaining', { reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}` });
    }
    const live = this.store.get(NAMESPACES, '', name) as Obj | undefined;
    if (!live) return;
    const conditions: Obj[] = structuredClone(live.status?.conditions ?? []);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    let changed = false;
    for (const [type, okReason, okMessage] of DELETION_CONDITIONS) {
      const f = failing.get(type);
      const next = { type, status: f ? 'True' : 'False', reason: f?.reason ?? okReason, message: f?.message ?? okMessage };
      const old = conditions.find((c) => c.type === type);
      if (!old) {
        conditions.push({ ...next, lastTransitionTime: now });
        changed = true;
      } else if (old.status !== next.status || old.reason !== next.reason || old.message !== next.message) {
        if (old.status !== next.status) old.lastTransitionTime = now;
        Object.assign(old, next);
        changed = true;
      }
    }
    if (!changed) return;
    const def = this.registry.lookup('', 'v1', 'namespaces')!;
    const upd = structuredClone(live);
    upd.status = { ...(upd.status ?? {}), conditions };
    try {
      await this.rest.update(def, '', name, upd as KubeObject, { fieldManager: 'kube-controller-manager' }, 'status');
    } catch (e) {
      if (!(e instanceof ApiError) || (e.code !== 409 && e.code !== 404)) throw e;
    }
  }
}
