/**
 * The embedded cluster's etcd: objects keyed by group/resource, namespace and name, one global
 * monotonic resourceVersion, and a bounded event history that watches replay from. Objects are
 * cloned on the way in and out so no caller can change stored state behind the store's back.
 */
import { ApiError } from '../errors.js';
import type { KubeObject } from '../types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  /** `group/resource`, e.g. `apps/deployments` or `/pods`. */
  bucket: string;
  namespace: string;
  rv: number;
  object: KubeObject;
  /**
   * The object before a MODIFIED or DELETED change: filtered watches tell when it left their set,
   * and lists at an exact past resourceVersion roll changes back.
   */
  prev?: KubeObject;
}

export interface WatchFilter {
  bucket: string;
  /** Only this namespace; undefined for all. */
  namespace?: string;
}

export type WatchListener = (event: StoreEvent) => void;

export interface StoreSnapshot {
  rv: number;
  buckets: Record<string, KubeObject[]>;
}

const DEFAULT_HISTORY = 10_000;

export const bucketOf = (group: string, resource: string) => `${group}/${resource}`;
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class ObjectStore {
  private rv = 1;
  private readonly buckets = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<{ filter: WatchFilter; listener: WatchListener }>();
  private readonly anyListeners = new Set<WatchListener>();

  constructor(private readonly historyLimit = DEFAULT_HISTORY) {}

  /** The resourceVersion of the most recent write. */
  get currentRV(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch can still start after. */
  get oldestWatchableRV(): number {
    return this.history.length ? this.history[0].rv - 1 : this.rv;
  }

  private bucket(name: string): Map<string, KubeObject> {
    let b = this.buckets.get(name);
    if (!b) this.buckets.set(name, (b = new Map()));
    return b;
  }

  get(bucket: string, namespace: string, name: string): KubeObject | undefined {
    const o = this.buckets.get(bucket)?.get(keyOf(namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  /**
   * The stored object itself, for read-only callers (CRD schemas consulted on every custom
   * resource write). A write replaces the stored object, so its identity marks a revision.
   */
  peek(bucket: string, namespace: string, name: string): Readonly<KubeObject> | undefined {
    return this.buckets.get(bucket)?.get(keyOf(namespace, name));
  }

  /** Whether an object exists, without paying for a copy. */
  has(bucket: string, namespace: string, name: string): boolean {
    return this.buckets.get(bucket)?.has(keyOf(namespace, name)) ?? false;
  }

  /**
   * Objects sorted by namespace then name, as etcd's key order returns them. `shared` skips the
   * copies for read-only callers that serialise the result at once (list responses).
   */
  list(bucket: string, namespace?: string, shared = false): KubeObject[] {
    const b = this.buckets.get(bucket);
    if (!b) return [];
    const out: KubeObject[] = [];
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    for (const [k, o] of b) if (prefix === undefined || k.startsWith(prefix)) out.push(o);
    out.sort((a, b2) => cmp(a.metadata.namespace ?? '', b2.metadata.namespace ?? '') || cmp(a.metadata.name ?? '', b2.metadata.name ?? ''));
    return shared ? out : out.map((o) => structuredClone(o));
  }

  /**
   * Visits stored objects without copying them (controllers scanning for owner references).
   * The visitor must not keep or mutate what it is given.
   */
  scan(visit: (bucket: string, obj: Readonly<KubeObject>) => void): void {
    for (const [name, b] of this.buckets) for (const o of b.values()) visit(name, o);
  }

  /** Counts objects (no copies) — for namespace emptiness checks. */
  count(bucket: string, namespace?: string): number {
    const b = this.buckets.get(bucket);
    if (!b) return 0;
    if (namespace === undefined) return b.size;
    let n = 0;
    for (const k of b.keys()) if (k.startsWith(`${namespace}/`)) n++;
    return n;
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()];
  }

  /** Stores a new object; the caller has checked it does not exist. Returns the stored copy. */
  create(bucket: string, obj: KubeObject): KubeObject {
    return structuredClone(this.insert(bucket, structuredClone(obj)));
  }

  /** Stores `stored` itself (the caller hands it over and keeps no reference). */
  private insert(bucket: string, stored: KubeObject): KubeObject {
    const ns = stored.metadata.namespace ?? '';
    const key = keyOf(ns, stored.metadata.name!);
    const b = this.bucket(bucket);
    if (b.has(key)) throw new Error(`store: ${bucket} ${key} exists`);
    stored.metadata.resourceVersion = String(++this.rv);
    b.set(key, stored);
    this.emit({ type: 'ADDED', bucket, namespace: ns, rv: this.rv, object: stored });
    return stored;
  }

  /**
   * Replaces an object. `expectedRV`, when given, must match the stored version
   * (optimistic concurrency); the caller turns a `false` into a Conflict.
   */
  update(bucket: string, obj: KubeObject, expectedRV?: string): KubeObject | 'conflict' | 'missing' {
    const stored = this.replace(bucket, obj, expectedRV, true);
    return typeof stored === 'string' ? stored : structuredClone(stored);
  }

  /** update() without the copies when `copy` is false (the caller hands `obj` over). */
  private replace(bucket: string, obj: KubeObject, expectedRV: string | undefined, copy: boolean): KubeObject | 'conflict' | 'missing' {
    const ns = obj.metadata.namespace ?? '';
    const key = keyOf(ns, obj.metadata.name!);
    const b = this.bucket(bucket);
    const cur = b.get(key);
    if (!cur) return 'missing';
    if (expectedRV !== undefined && expectedRV !== cur.metadata.resourceVersion) return 'conflict';
    const stored = copy ? structuredClone(obj) : obj;
    stored.metadata.resourceVersion = String(++this.rv);
    b.set(key, stored);
    this.emit({ type: 'MODIFIED', bucket, namespace: ns, rv: this.rv, object: stored, prev: cur });
    return stored;
  }

  /** Removes an object; the DELETED event carries a fresh resourceVersion, as etcd's does. */
  delete(bucket: string, namespace: string, name: string): KubeObject | undefined {
    const b = this.buckets.get(bucket);
    const key = keyOf(namespace, name);
    const cur = b?.get(key);
    if (!b || !cur) return undefined;
    b.delete(key);
    const gone = structuredClone(cur);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', bucket, namespace, rv: this.rv, object: gone, prev: cur });
    return structuredClone(gone);
  }

  /** Drops a whole bucket (a CRD's objects once the CRD is gone), emitting DELETED events. */
  dropBucket(bucket: string): void {
    const b = this.buckets.get(bucket);
    if (!b) return;
    for (const o of [...b.values()]) this.delete(bucket, o.metadata.namespace ?? '', o.metadata.name!);
    this.buckets.delete(bucket);
  }

  /**
   * A bucket's objects as they were at resourceVersion `rv` (shared, read only), rebuilt by
   * rolling the history back; undefined when the history no longer reaches back that far.
   */
  listAt(bucket: string, rv: number, namespace?: string): KubeObject[] | undefined {
    if (rv < this.oldestWatchableRV) return undefined;
    const at = new Map<string, KubeObject>();
    for (const o of this.list(bucket, namespace, true)) at.set(keyOf(o.metadata.namespace ?? '', o.metadata.name!), o);
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const e = this.history[i];
      if (e.bucket !== bucket || (namespace !== undefined && e.namespace !== namespace)) continue;
      const key = keyOf(e.namespace, e.object.metadata.name!);
      if (e.type === 'ADDED') at.delete(key);
      else if (e.prev) at.set(key, e.prev);
    }
    return [...at.values()].sort((a, b2) => cmp(a.metadata.namespace ?? '', b2.metadata.namespace ?? '') || cmp(a.metadata.name ?? '', b2.metadata.name ?? ''));
  }

  /**
   * Subscribes to changes after `sinceRV` (replaying history first). Throws 410 Gone when the
   * history no longer reaches back that far, as the watch cache does.
   */
  watch(filter: WatchFilter, sinceRV: number, listener: WatchListener): () => void {
    if (sinceRV < this.oldestWatchableRV) {
      throw ApiError.gone(`too old resource version: ${sinceRV} (${this.oldestWatchableRV + 1})`);
    }
    for (const e of this.history) {
      if (e.rv > sinceRV && matches(filter, e)) listener(e);
    }
    const entry = { filter, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Every change to every bucket, for in-process controllers (GC, namespace lifecycle). */
  onAnyChange(listener: WatchListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > this.historyLimit) this.history = this.history.slice(this.history.length - Math.floor(this.historyLimit * 0.9));
    for (const { filter, listener } of [...this.listeners]) if (matches(filter, e)) safe(listener, e);
    for (const l of [...this.anyListeners]) safe(l, e);
  }

  snapshot(): StoreSnapshot {
    const buckets: Record<string, KubeObject[]> = {};
    for (const [name, b] of this.buckets) buckets[name] = [...b.values()].map((o) => structuredClone(o));
    return { rv: this.rv, buckets };
  }

  /** snapshot() as JSON text, without copying first: stored objects are replaced on write, never changed in place. */
  snapshotJson(): string {
    const buckets: Record<string, KubeObject[]> = {};
    for (const [name, b] of this.buckets) buckets[name] = [...b.values()];
    return JSON.stringify({ rv: this.rv, buckets });
  }

  /**
   * Replaces all state. The resourceVersion never goes backwards (clients may hold newer ones),
   * and the history is cleared so existing watches' resume points become 410 Gone.
   */
  restore(s: StoreSnapshot): void {
    this.buckets.clear();
    for (const [name, objs] of Object.entries(s.buckets)) {
      const b = this.bucket(name);
      for (const o of objs) b.set(keyOf(o.metadata.namespace ?? '', o.metadata.name!), structuredClone(o));
    }
    this.rv = Math.max(this.rv, s.rv) + 1;
    this.history = [];
  }

  /**
   * Makes the store hold `target`'s objects, except those `keep` picks (left as they are, on both
   * sides), as ordinary committed changes: watches, controllers and the persistence log see each
   * DELETED, ADDED and MODIFIED event, all in one synchronous pass so that no request runs
   * between two of them. An object equal apart from its resourceVersion and times is left alone. Buckets
   * in `last` are deleted after the others and created before them (CRDs: their objects go
   * first, and come after them). `target` is handed over: its objects are stored as they are (no copies).
   */
  replaceContents(target: StoreSnapshot, keep: (bucket: string, o: Readonly<KubeObject>) => boolean = () => false, last: readonly string[] = []): { added: number; modified: number; deleted: number; unchanged: number } {
    const counts = { added: 0, modified: 0, deleted: 0, unchanged: 0 };
    const wanted = new Map<string, Map<string, KubeObject>>();
    for (const [name, objs] of Object.entries(target.buckets)) {
      const m = new Map<string, KubeObject>();
      for (const o of objs) if (!keep(name, o)) m.set(keyOf(o.metadata.namespace ?? '', o.metadata.name!), o);
      wanted.set(name, m);
    }
    const rank = (b: string) => (last.includes(b) ? 1 : 0);
    const current = [...this.buckets.keys()].sort((a, b) => rank(a) - rank(b));
    for (const name of current) {
      const want = wanted.get(name);
      for (const [key, o] of [...(this.buckets.get(name) ?? new Map<string, KubeObject>())]) {
        if (keep(name, o)) continue;
        if (want?.has(key) && want.get(key)!.metadata.uid === o.metadata.uid) continue;
        this.delete(name, o.metadata.namespace ?? '', o.metadata.name!);
        counts.deleted++;
      }
    }
    const creating = [...wanted.keys()].sort((a, b) => rank(b) - rank(a));
    for (const name of creating) {
      for (const [key, o] of wanted.get(name)!) {
        const cur = this.buckets.get(name)?.get(key);
        // `target` is the caller's to give (a state just parsed): its objects are stored as they are.
        if (!cur) {
          this.insert(name, o);
          counts.added++;
        } else if (sameApartFromVersion(cur, o)) {
          counts.unchanged++;
        } else {
          this.replace(name, o, undefined, false);
          counts.modified++;
        }
      }
    }
    return counts;
  }

  close(): void {
    this.listeners.clear();
    this.anyListeners.clear();
  }
}

function matches(f: WatchFilter, e: StoreEvent): boolean {
  return f.bucket === e.bucket && (f.namespace === undefined || f.namespace === e.namespace);
}

function safe(l: WatchListener, e: StoreEvent): void {
  try {
    l(e);
  } catch (err) {
    // A misbehaving watcher must not break writes for everyone else.
    console.error('sim store: watch listener failed', err);
  }
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/**
 * Equal apart from resourceVersion and times: a state restored again over itself (its times
 * moved to the moment of the restore) leaves such objects alone, times and all. A walk rather
 * than two serialisations per object: a restore compares every object of the state.
 */
function sameApartFromVersion(a: KubeObject, b: KubeObject): boolean {
  return same(a, b, true);
}

function same(a: unknown, b: unknown, top = false): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return TIMESTAMP.test(a) && TIMESTAMP.test(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    // JSON writes undefined in an array as null.
    return a.length === bb.length && a.every((x, i) => same(x ?? null, bb[i] ?? null));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // Keys JSON would write: those with a value other than undefined (functions never occur in stored objects).
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const ak = keys(ao);
  if (ak.length !== keys(bo).length) return false;
  for (const k of ak) {
    if (!(k in bo) || bo[k] === undefined) return false;
    if (top && k === 'metadata') {
      const { resourceVersion: _a, ...am } = ao[k] as Record<string, unknown>;
      const { resourceVersion: _b, ...bm } = (bo[k] ?? {}) as Record<string, unknown>;
      if (!same(am, bm)) return false;
    } else if (!same(ao[k], bo[k])) return false;
  }
  return true;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
