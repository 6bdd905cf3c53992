/**
 * client-go's EventRecorder: core/v1 Events named `<object>.<hex time>`, with repeats of the same
 * reason and message folded into one Event whose count grows (the EventCorrelator's aggregation).
 */
import type { ClusterApi } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { isConflictOrGone, microISO, nowISO, type Obj, type Resources } from './kit.js';

export interface EventSource {
  component: string;
  host?: string;
}

/** client-go's EventSourceObjectSpamFilter: a burst of 25 per source, object, type, reason and message, then one per 5 minutes. */
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number }>();
  private readonly spam = new Map<string, { tokens: number; at: number }>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastNanos = 0n;

  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    /** kube-apiserver's --event-ttl (1 h): older Events disappear, which also bounds memory. */
    private readonly ttlMs = 3_600_000,
  ) {
    this.sweeper = setInterval(() => this.expire(), Math.min(60_000, ttlMs));
    this.sweeper.unref?.();
  }

  /** Removes Events last seen more than the TTL ago (etcd leases do this in kube). */
  expire(now = Date.now()): void {
    const old: { ns: string; name: string }[] = [];
    this.cluster.store.scan((bucket, o) => {
      if (bucket !== this.res.events.bucket) return;
      const e = o as Obj;
      const last = Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp);
      if (Number.isFinite(last) && last + this.ttlMs < now) old.push({ ns: e.metadata.namespace, name: e.metadata.name });
    });
    for (const { ns, name } of old) this.cluster.store.delete(this.res.events.bucket, ns, name);
  }

  normal(obj: KubeObject, reason: string, message: string, source: EventSource, fieldPath?: string): void {
    this.record(obj, 'Normal', reason, message, source, fieldPath);
  }

  warning(obj: KubeObject, reason: string, message: string, source: EventSource, fieldPath?: string): void {
    this.record(obj, 'Warning', reason, message, source, fieldPath);
  }

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource, fieldPath?: string): void {
    if (this.stopped) return;
    if (this.spammed([source.component, source.host ?? '', obj.kind, obj.metadata.namespace ?? '', obj.metadata.name, obj.metadata.uid ?? '', obj.apiVersion, type, reason, message].join('\u0000'))) return;
    const involved = {
      kind: obj.kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: obj.metadata.resourceVersion,
      ...(fieldPath ? { fieldPath } : {}),
    };
    const snapshot = structuredClone(involved);
    const at = new Date();
    this.chain = this.chain.then(() => this.write(snapshot, type, reason, message, source, at)).catch((e) => {
      if (!this.stopped && !isConflictOrGone(e)) console.error('sim events: could not record event:', (e as Error).message);
    });
  }

  /** Whether the spam filter drops this event (a probe failing every period stops writing after its burst). */
  private spammed(key: string, now = Date.now()): boolean {
    let b = this.spam.get(key);
    if (!b) {
      b = { tokens: SPAM_BURST, at: now };
      this.spam.set(key, b);
      if (this.spam.size > 5000) this.spam.delete(this.spam.keys().next().value!);
    }
    b.tokens = Math.min(SPAM_BURST, b.tokens + (now - b.at) / SPAM_REFILL_MS);
    b.at = now;
    if (b.tokens < 1) return true;
    b.tokens -= 1;
    return false;
  }

  private uniqueNanos(at: Date): string {
    let n = BigInt(at.getTime()) * 1_000_000n;
    if (n <= this.lastNanos) n = this.lastNanos + 1n;
    this.lastNanos = n;
    return n.toString(16);
  }

  private async write(involved: Obj, type: string, reason: string, message: string, source: EventSource, at: Date): Promise<void> {
    if (this.stopped) return;
    // Events about cluster-scoped objects (nodes) live in `default`, as the recorder puts them.
    const namespace = involved.namespace || 'default';
    const key = [involved.uid, involved.fieldPath ?? '', type, reason, message, source.component, source.host ?? ''].join('\u0000');
    const prev = this.seen.get(key);
    if (prev) {
      const live = this.cluster.store.get(this.res.events.bucket, prev.namespace, prev.name) as Obj | undefined;
      if (live) {
        live.count = (live.count ?? 1) + 1;
        live.lastTimestamp = nowISO(at);
        await this.cluster.rest.update(this.res.events, prev.namespace, prev.name, live);
        return;
      }
    }
    const name = `${involved.name}.${this.uniqueNanos(at)}`;
    const ev = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involved,
      reason,
      message,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      firstTimestamp: nowISO(at),
      lastTimestamp: nowISO(at),
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    try {
      await this.cluster.rest.create(this.res.events, namespace, ev);
    } catch (e) {
      // The namespace may be going away; an event that cannot be stored is dropped, as in kube.
      if (e && typeof e === 'object' && 'code' in e && (e as { code: number }).code === 403) return;
      throw e;
    }
    this.seen.set(key, { name, namespace, count: 1 });
    if (this.seen.size > 5000) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Resolves when every event recorded so far has been written. */
  async idle(): Promise<void> {
    let c: Promise<void>;
    do {
      c = this.chain;
      await c;
    } while (c !== this.chain);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
  }
}

export { microISO };
