/**
 * The garbage collector: deletes dependents whose owners are gone (background propagation),
 * deletes dependents first for owners with the foregroundDeletion finalizer, and strips owner
 * references for owners with the orphan finalizer, as kube-controller-manager's GC does.
 */
import { ApiError } from '../errors.js';
import type { KubeObject, OwnerReference } from '../types.js';
import type { ObjectStore } from '../storage/store.js';
import type { ResourceRegistry } from '../registry/registry.js';
import type { RestStorage } from '../registry/rest.js';
import type { ResourceDef } from '../registry/resource.js';
import { StoreReconciler } from './store-reconciler.js';

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

interface Dependent {
  def: ResourceDef;
  namespace: string;
  name: string;
  refs: OwnerReference[];
  deleting: boolean;
}

export class GarbageCollector extends StoreReconciler {
  constructor(store: ObjectStore, registry: ResourceRegistry, rest: RestStorage) {
    super(store, registry, rest, (e, enqueue) => {
      const m = e.object.metadata;
      const key = `${e.bucket}|${m.namespace ?? ''}|${m.name}`;
      if (e.type === 'DELETED') enqueue(`owner-gone|${m.uid}|${m.namespace ?? ''}`);
      else if (m.deletionTimestamp && (m.finalizers ?? []).some((f) => f === ORPHAN || f === FOREGROUND)) enqueue(`owner|${key}`);
      if (e.type !== 'DELETED' && m.ownerReferences?.length) enqueue(`dependent|${key}`);
      // A dependent leaving may unblock a foreground owner.
      if (e.type === 'DELETED' || m.deletionTimestamp) for (const r of m.ownerReferences ?? []) enqueue(`owner-uid|${r.uid}|${m.namespace ?? ''}`);
    });
  }

  private dependentsOf(uid: string): Dependent[] {
    const out: Dependent[] = [];
    const defs = new Map(this.registry.buckets().map((d) => [d.bucket, d]));
    this.store.scan((bucket, o) => {
      const refs = o.metadata.ownerReferences;
      if (!refs?.some((r) => r.uid === uid)) return;
      const def = defs.get(bucket);
      if (def) out.push({ def, namespace: o.metadata.namespace ?? '', name: o.metadata.name!, refs, deleting: !!o.metadata.deletionTimestamp });
    });
    return out;
  }

  /** Finds a live owner by reference; namespaced owners live in the dependent's namespace. */
  private ownerExists(ref: OwnerReference, namespace: string): boolean {
    const def = this.registry.byApiVersionKind(ref.apiVersion, ref.kind);
    if (!def) return true; // unknown kinds: be conservative, as the GC is with unresolvable owners
    const o = this.store.peek(def.bucket, def.namespaced ? namespace : '', ref.name);
    return !!o && o.metadata.uid === ref.uid;
  }

  protected async reconcile(key: string): Promise<void> {
    const [kind, ...rest] = key.split('|');
    if (kind === 'owner-gone' || kind === 'owner-uid') {
      const [uid] = rest;
      for (const d of this.dependentsOf(uid)) await this.checkDependent(d);
      if (kind === 'owner-uid') this.queueOwnerByUid(uid);
      return;
    }
    const [bucket, namespace, name] = rest;
    const def = this.registry.buckets().find((d) => d.bucket === bucket);
    if (!def) return;
    // Read only (the writes below take their own copies): no copy per event, and a state restore sends hundreds.
    const o = this.store.peek(bucket, namespace, name);
    if (!o) return;
    if (kind === 'dependent') {
      await this.checkDependent({ def, namespace, name, refs: o.metadata.ownerReferences ?? [], deleting: !!o.metadata.deletionTimestamp });
    } else if (kind === 'owner') {
      await this.processOwner(def, o);
    }
  }

  private queueOwnerByUid(uid: string): void {
    this.store.scan((bucket, o) => {
      if (o.metadata.uid === uid && o.metadata.deletionTimestamp) this.enqueue(`owner|${bucket}|${o.metadata.namespace ?? ''}|${o.metadata.name}`);
    });
  }

  /** A dependent whose owners are all gone is deleted; one with some owners left loses the dead references. */
  private async checkDependent(d: Dependent): Promise<void> {
    const live = this.store.peek(d.def.bucket, d.namespace, d.name);
    if (!live) return;
    const refs = live.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const alive = refs.filter((r) => this.ownerExists(r, d.namespace));
    const deletingForeground = refs.some((r) => this.ownerInForeground(r, d.namespace));
    if (alive.length === refs.length && !deletingForeground) return;
    if (alive.length === 0 || (deletingForeground && alive.every((r) => this.ownerInForeground(r, d.namespace)))) {
      if (live.metadata.deletionTimestamp) return;
      await this.quietly(() => this.rest.delete(d.def, d.namespace, d.name, { propagationPolicy: deletingForeground ? 'Foreground' : 'Background' }));
      return;
    }
    if (alive.length < refs.length) {
      const updated = structuredClone(live);
      updated.metadata.ownerReferences = alive;
      await this.quietly(() => this.rest.update(d.def, d.namespace, d.name, updated, { fieldManager: 'kube-controller-manager' }));
    }
  }

  private ownerInForeground(ref: OwnerReference, namespace: string): boolean {
    const def = this.registry.byApiVersionKind(ref.apiVersion, ref.kind);
    if (!def) return false;
    const o = this.store.peek(def.bucket, def.namespaced ? namespace : '', ref.name);
    return !!o && o.metadata.uid === ref.uid && !!o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).includes(FOREGROUND);
  }

  private async processOwner(def: ResourceDef, owner: Readonly<KubeObject>): Promise<void> {
    const finalizers = owner.metadata.finalizers ?? [];
    const uid = owner.metadata.uid!;
    const ns = owner.metadata.namespace ?? '';
    if (finalizers.includes(ORPHAN)) {
      for (const d of this.dependentsOf(uid)) {
        const live = this.store.get(d.def.bucket, d.namespace, d.name);
        if (!live) continue;
        live.metadata.ownerReferences = (live.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (!live.metadata.ownerReferences.length) delete live.metadata.ownerReferences;
        await this.quietly(() => this.rest.update(d.def, d.namespace, d.name, live, { fieldManager: 'kube-controller-manager' }));
      }
      await this.removeFinalizer(def, ns, owner.metadata.name!, ORPHAN);
      return;
    }
    if (finalizers.includes(FOREGROUND)) {
      const deps = this.dependentsOf(uid);
      for (const d of deps) if (!d.deleting) await this.quietly(() => this.rest.delete(d.def, d.namespace, d.name, { propagationPolicy: 'Foreground' }));
      const blocking = this.dependentsOf(uid).filter((d) => d.refs.some((r) => r.uid === uid && r.blockOwnerDeletion));
      if (blocking.length === 0) await this.removeFinalizer(def, ns, owner.metadata.name!, FOREGROUND);
    }
  }

  private async removeFinalizer(def: ResourceDef, ns: string, name: string, finalizer: string): Promise<void> {
    const live = this.store.get(def.bucket, ns, name);
    if (!live || !(live.metadata.finalizers ?? []).includes(finalizer)) return;
    live.metadata.finalizers = live.metadata.finalizers!.filter((f) => f !== finalizer);
    await this.quietly(() => this.rest.update(def, ns, name, live, { fieldManager: 'kube-controller-manager' }));
  }

  private async quietly(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      // Someone else got there first; the next event brings us back if work remains.
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
  }
}
