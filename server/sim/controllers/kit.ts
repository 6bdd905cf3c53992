/**
 * What every workload controller shares: the resources it reads and writes, a watch that feeds a
 * work queue, timestamps as the API formats them, quantities, and writes that treat a conflict
 * as "look again later" the way client-go controllers requeue.
 */
import { ApiError } from '../errors.js';
import type { ClusterApi } from '../addons/api.js';
import type { KubeObject, OwnerReference } from '../types.js';
import type { StoreEvent } from '../storage/store.js';
import { WorkQueue } from '../storage/workqueue.js';
import type { ResourceDef } from '../registry/resource.js';

export type Obj = Record<string, any>;

/** Milliseconds the pod lifecycle's stages take (kubelet/stages.ts); tests pass tiny values, the playground realistic ones. */
export interface KubeletTimings {
  /** Pod created → bound to a node. */
  schedule: number;
  /** Image pull (when the node does not have the image yet). */
  pull: number;
  /** Container created → started. */
  start: number;
  /** Started → passing its readiness probe (containers with a readinessProbe only). */
  ready: number;
  /** Deletion → the pod object is gone (the simulated graceful shutdown). */
  terminate: number;
  /** How long a container that runs to completion runs in the default runtime (Jobs, init containers). */
  run: number;
  /** First crash-loop back-off (doubles per restart, capped at 30× this, as 10 s → 300 s). */
  backoff: number;
  /** Multiplier for probe initialDelaySeconds (1 = real seconds, 0 = ignore them). */
  probeDelayScale: number;
  /** Up to this many ms added at random to the pull, start and readiness stages (kwok's jitter); 0: none. */
  jitter: number;
}

/**
 * The playground's pacing: real durations compressed (an image pull of seconds to minutes takes
 * 400 ms, initialDelaySeconds run at a quarter) while keeping their order: scheduling < container
 * start < first readiness probe < image pull.
 */
export const DEFAULT_TIMINGS: KubeletTimings = { schedule: 50, pull: 400, start: 100, ready: 250, terminate: 1500, run: 3000, backoff: 10_000, probeDelayScale: 0.25, jitter: 0 };
export const ZERO_TIMINGS: KubeletTimings = { schedule: 0, pull: 0, start: 0, ready: 0, terminate: 0, run: 0, backoff: 0, probeDelayScale: 0, jitter: 0 };

export const nowISO = (d: Date = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');
/** metav1.MicroTime, as Events' eventTime and Leases' renewTime carry it. */
export const microISO = (d: Date = new Date()) => `${d.toISOString().slice(0, 23)}000Z`;

export class Resources {
  readonly pods: ResourceDef;
  readonly nodes: ResourceDef;
  readonly services: ResourceDef;
  readonly endpoints: ResourceDef;
  readonly endpointSlices: ResourceDef;
  readonly events: ResourceDef;
  readonly leases: ResourceDef;
  readonly deployments: ResourceDef;
  readonly replicaSets: ResourceDef;
  readonly daemonSets: ResourceDef;
  readonly statefulSets: ResourceDef;
  readonly jobs: ResourceDef;
  readonly cronJobs: ResourceDef;
  readonly replicationControllers: ResourceDef;
  readonly hpas: ResourceDef;

  constructor(cluster: ClusterApi) {
    const need = (g: string, v: string, r: string) => {
      const d = cluster.kinds.lookup(g, v, r);
      if (!d) throw new Error(`embedded cluster has no ${g || 'core'}/${v} ${r}`);
      return d;
    };
    this.pods = need('', 'v1', 'pods');
    this.nodes = need('', 'v1', 'nodes');
    this.services = need('', 'v1', 'services');
    this.endpoints = need('', 'v1', 'endpoints');
    this.endpointSlices = need('discovery.k8s.io', 'v1', 'endpointslices');
    this.events = need('', 'v1', 'events');
    this.leases = need('coordination.k8s.io', 'v1', 'leases');
    this.deployments = need('apps', 'v1', 'deployments');
    this.replicaSets = need('apps', 'v1', 'replicasets');
    this.daemonSets = need('apps', 'v1', 'daemonsets');
    this.statefulSets = need('apps', 'v1', 'statefulsets');
    this.jobs = need('batch', 'v1', 'jobs');
    this.cronJobs = need('batch', 'v1', 'cronjobs');
    this.replicationControllers = need('', 'v1', 'replicationcontrollers');
    this.hpas = need('autoscaling', 'v2', 'horizontalpodautoscalers');
  }
}

/** A queue fed by store events of some buckets; `keyOf` maps an event to the keys to reconcile. */
export class Informer {
  readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private stopped = false;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly buckets: string[],
    private readonly keyOf: (e: StoreEvent) => string[] | string | undefined,
    reconcile: (key: string) => Promise<void>,
  ) {
    this.queue = new WorkQueue(async (key) => {
      try {
        await reconcile(key);
      } catch (e) {
        // A conflict or a vanished object means someone else wrote first: look again.
        if (e instanceof ApiError && (e.code === 409 || e.code === 404)) this.after(5, key);
        else throw e;
      }
    });
    const set = new Set(buckets);
    this.unsubscribe = cluster.store.onAnyChange((e) => {
      if (!set.has(e.bucket)) return;
      const keys = keyOf(e);
      if (keys === undefined) return;
      for (const k of Array.isArray(keys) ? keys : [keys]) this.queue.add(k);
    });
  }

  /** Re-queues a key later (minReadySeconds, progress deadlines, retries); one timer per key, the earliest wins. */
  after(ms: number, key: string): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    const existing = this.pending.get(key);
    if (existing && existing.at <= at) return;
    if (existing) {
      clearTimeout(existing.timer);
      this.timers.delete(existing.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pending.delete(key);
      this.queue.add(key);
    }, ms);
    timer.unref?.();
    this.timers.add(timer);
    this.pending.set(key, { at, timer });
  }

  add(key: string): void {
    this.queue.add(key);
  }

  /** Looks at everything again, as after a relist (a snapshot restore emits no events). */
  resync(): void {
    const wanted = new Set(this.buckets);
    const keys = new Set<string>();
    this.cluster.store.scan((bucket, o) => {
      if (!wanted.has(bucket)) return;
      const k = this.keyOf({ type: 'ADDED', bucket, namespace: o.metadata.namespace ?? '', rv: 0, object: o as KubeObject });
      for (const x of k === undefined ? [] : Array.isArray(k) ? k : [k]) keys.add(x);
    });
    for (const k of keys) this.queue.add(k);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.queue.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** What the controller manager asks of every controller an Informer drives. */
export abstract class InformerController {
  protected abstract readonly informer: Informer;

  idle(): Promise<void> {
    return this.informer.idle();
  }

  resync(): void {
    this.informer.resync();
  }

  stop(): void {
    this.informer.stop();
  }
}

export const nsKey = (o: { metadata: { namespace?: string; name?: string } } | Obj): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/**
 * Objects of one bucket and namespace that pass `keep`, copying only those (store.list copies
 * everything, which controllers reconciling on every pod change cannot afford).
 */
export function selectObjects(cluster: ClusterApi, bucket: string, namespace: string | undefined, keep: (o: Readonly<KubeObject>) => boolean): Obj[] {
  // One bucket's (namespace's) objects, not a scan of the whole store: a restore calls this per owner.
  const out: Obj[] = [];
  for (const o of cluster.store.list(bucket, namespace, true)) if (keep(o)) out.push(structuredClone(o) as Obj);
  return out.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/** Objects whose controller is the object with this uid. */
export function ownedBy(cluster: ClusterApi, bucket: string, namespace: string, uid: string): Obj[] {
  return selectObjects(cluster, bucket, namespace, (o) => !!o.metadata.ownerReferences?.some((r) => r.controller && r.uid === uid));
}

export function controllerRef(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

/** The queue key of an object's controller, when that controller is a `kind` (pods → their ReplicaSet). */
export function controllerKey(o: KubeObject, kind: string): string | undefined {
  const ref = controllerRef(o);
  return ref?.kind === kind ? `${o.metadata.namespace}/${ref.name}` : undefined;
}

export function ownerRefTo(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Writes status through the status subresource, as controllers do; a no-op write is skipped. */
export async function writeStatus(cluster: ClusterApi, def: ResourceDef, obj: KubeObject, status: Obj): Promise<KubeObject> {
  if (JSON.stringify((obj as Obj).status ?? {}) === JSON.stringify(status)) return obj;
  const upd = structuredClone(obj) as Obj;
  upd.status = status;
  return cluster.rest.update(def, obj.metadata.namespace ?? '', obj.metadata.name!, upd, {}, 'status');
}

/** Drops zero and undefined members, as Go's `omitempty` leaves them out of the JSON. */
export function omitEmpty<T extends Obj>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === 0) delete o[k];
  return o;
}

const SUFFIXES: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };

/** A resource.Quantity as a number (cores for cpu, bytes for memory). */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return 0;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return 0;
  return Number(m[1]) * (SUFFIXES[m[2]] ?? 1);
}

/**
 * A pod's effective requests as the scheduler computes them: max(containers + every sidecar,
 * each regular init container + the sidecars started before it).
 */
export function podRequests(spec: Obj): Record<string, number> {
  const add = (into: Record<string, number>, c: Obj) => {
    for (const [k, v] of Object.entries(c?.resources?.requests ?? {})) into[k] = (into[k] ?? 0) + parseQuantity(v);
  };
  const running: Record<string, number> = {};
  for (const c of spec.containers ?? []) add(running, c);
  const sidecars: Record<string, number> = {};
  const initPeak: Record<string, number> = {};
  for (const c of spec.initContainers ?? []) {
    if (c?.restartPolicy === 'Always') {
      add(running, c);
      add(sidecars, c);
      continue;
    }
    const one: Record<string, number> = { ...sidecars };
    add(one, c);
    for (const [k, v] of Object.entries(one)) initPeak[k] = Math.max(initPeak[k] ?? 0, v);
  }
  for (const [k, v] of Object.entries(initPeak)) running[k] = Math.max(running[k] ?? 0, v);
  return running;
}

export function isPodActive(p: Obj): boolean {
  return !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

export function isPodReady(p: Obj): boolean {
  return (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
}

/** Ready for at least minReadySeconds (now is passed so callers can requeue for the rest). */
export function isPodAvailable(p: Obj, minReadySeconds: number, now: number): boolean {
  const c = (p.status?.conditions ?? []).find((x: Obj) => x.type === 'Ready');
  if (!c || c.status !== 'True') return false;
  if (!minReadySeconds) return true;
  return Date.parse(c.lastTransitionTime) + minReadySeconds * 1000 <= now;
}

/** Sets one condition in a list, keeping lastTransitionTime unless the status changes. */
export function setCondition(list: Obj[], cond: Obj, now: string, extraTimes: string[] = []): Obj[] {
  const i = list.findIndex((c) => c.type === cond.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Obj = { ...cond };
  for (const t of extraTimes) next[t] = prev && prev.status === cond.status && prev.reason === cond.reason && prev.message === cond.message ? prev[t] : now;
  next.lastTransitionTime = prev && prev.status === cond.status ? prev.lastTransitionTime : now;
  const out = [...list];
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;
export const isConflictOrGone = (e: unknown) => e instanceof ApiError && (e.code === 404 || e.code === 409);

/** Runs a write and ignores "someone else got there first" failures. */
export async function quietly<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (isConflictOrGone(e)) return undefined;
    throw e;
  }
}
