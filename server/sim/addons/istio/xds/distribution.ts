/**
 * istiod's config distribution, an in-process stand-in for xDS: proxies subscribe with their
 * node identity; istiod (while one runs) computes a per-proxy snapshot from the mesh's Istio
 * config and pushes it; each push is acknowledged by the proxy's handler. proxy-status reads the
 * sent/acked state per type through istiod's /debug/syncz. The routing that uses a snapshot is the
 * data plane's work: it only consumes `ProxySnapshot`.
 */

import type { ProxyConfig, ProxyIdentity } from './types.js';
import type { MeshView } from './compile/mesh.js';

type Obj = Record<string, any>;

/** The kinds a proxy's config is computed from, by store bucket (`group/resource`). */
export const CONFIG_BUCKETS = [
  'networking.istio.io/virtualservices',
  'networking.istio.io/destinationrules',
  'networking.istio.io/gateways',
  'networking.istio.io/serviceentries',
  'networking.istio.io/sidecars',
  'security.istio.io/peerauthentications',
  'security.istio.io/authorizationpolicies',
] as const;

export type ConfigBucket = (typeof CONFIG_BUCKETS)[number];

/** A proxy as it connects: its identity (xds/types.ts) plus what proxy-status shows of it. */
export interface ProxyNode extends ProxyIdentity {
  istioVersion: string;
  clusterId: string;
}

/** What one proxy is told: the Istio config visible from its namespace (exportTo `*` or its own namespace; the root namespace's for mesh-wide policy). */
export interface ProxySnapshot {
  version: string;
  virtualServices: Obj[];
  destinationRules: Obj[];
  gateways: Obj[];
  serviceEntries: Obj[];
  sidecars: Obj[];
  peerAuthentications: Obj[];
  authorizationPolicies: Obj[];
  /** istiod's service registry and mesh config at this push (absent: an istiod that reads no cluster, as in unit tests). */
  mesh?: MeshView;
}

export const XDS_TYPES = ['CDS', 'LDS', 'EDS', 'RDS'] as const;
export type XdsType = (typeof XDS_TYPES)[number];

export interface SyncState {
  proxy: ProxyNode;
  istiod: string;
  /** Per type: the nonce last sent, and the one the proxy acknowledged. */
  sent: Partial<Record<XdsType, string>>;
  acked: Partial<Record<XdsType, string>>;
  connectedAt: Date;
  /** The connection's id as istiod logs it: `<proxy id>-<n>`. */
  connection: string;
}

export interface ConfigSource {
  list(bucket: ConfigBucket): Obj[];
  /** istiod's registry (Services, endpoints, pods, ServiceEntries) and mesh config; read once per push. */
  mesh?(): MeshView;
}

/** istiod's config generation for one proxy (xds/compile/): the snapshot turned into listeners, routes, clusters, endpoints. */
export type Compiler = (snapshot: ProxySnapshot, proxy: ProxyNode) => ProxyConfig;

type Handler = (snapshot: ProxySnapshot, config: ProxyConfig) => void;

interface Subscription {
  proxy: ProxyNode;
  handler: Handler;
  state?: SyncState;
  latest?: ProxySnapshot;
  /** The generation messages last logged for this proxy (istiod logs them when they change, not on every push). */
  logged?: string;
}

const visible = (o: Obj, ns: string, root: string) => {
  const objNs = o.metadata?.namespace;
  if (objNs === ns || objNs === root) return true;
  const exportTo: unknown = o.spec?.exportTo;
  return !Array.isArray(exportTo) || exportTo.length === 0 || exportTo.includes('*') || exportTo.includes(ns);
};

export class ConfigDistribution {
  private readonly subs = new Set<Subscription>();
  /** Running istiods in start order; proxies talk to the first. */
  private readonly istiods: string[] = [];
  private readonly logs = new Map<string, (line: string) => void>();
  private connections = 0;
  private generation = 0;
  private pending = false;
  private meshAt?: { generation: number; view: MeshView | undefined };

  constructor(
    private readonly source: ConfigSource,
    private readonly now: () => Date,
    private readonly rootNamespace = 'istio-system',
    private readonly compile: Compiler = emptyConfig,
  ) {}

  /** A proxy connects; it gets a snapshot now when an istiod serves, and on every change after. */
  subscribe(proxy: ProxyNode, handler: Handler): () => void {
    const sub: Subscription = { proxy, handler };
    this.subs.add(sub);
    if (this.istiod) this.push(sub);
    return () => {
      this.subs.delete(sub);
      if (sub.state) this.log(sub.state.istiod, `info\tads\tADS: "${sub.proxy.id}" ${sub.state.connection} terminated`);
    };
  }

  /** An istiod started serving: proxies without one connect to it. */
  istiodUp(name: string, log?: (line: string) => void): void {
    if (!this.istiods.includes(name)) this.istiods.push(name);
    if (log) this.logs.set(name, log);
    this.reconnect();
  }

  /** An istiod stopped: its proxies reconnect to another, or stay disconnected. */
  istiodDown(name: string): void {
    const i = this.istiods.indexOf(name);
    if (i >= 0) this.istiods.splice(i, 1);
    this.logs.delete(name);
    this.reconnect();
  }

  private get istiod(): string | undefined {
    return this.istiods[0];
  }

  private reconnect(): void {
    for (const s of this.subs) {
      if (s.state?.istiod === this.istiod) continue;
      s.state = undefined;
      if (this.istiod) this.push(s);
    }
  }

  get serving(): string | undefined {
    return this.istiod;
  }

  /** The last snapshot a proxy accepted (what the data plane routes by), if any. */
  latest(proxyId: string): ProxySnapshot | undefined {
    for (const s of this.subs) if (s.proxy.id === proxyId) return s.latest;
    return undefined;
  }

  /** The mesh's config changed: push to every proxy once the current turn ends (changes coalesce, like istiod's debounce). */
  configChanged(): void {
    this.generation++;
    if (this.pending || !this.istiod) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      for (const s of this.subs) this.push(s);
    });
  }

  /** The registry as of this generation: every change that moves it calls configChanged, so one read serves every proxy of a push. */
  private meshView(): MeshView | undefined {
    if (!this.source.mesh) return undefined;
    if (this.meshAt?.generation !== this.generation) this.meshAt = { generation: this.generation, view: this.source.mesh() };
    return this.meshAt.view;
  }

  /** The config objects as of this generation, read once per push rather than once per proxy (each read copies them). */
  private configAt?: { generation: number; lists: Map<ConfigBucket, ReturnType<ConfigSource['list']>> };

  private configList(b: ConfigBucket): ReturnType<ConfigSource['list']> {
    if (this.configAt?.generation !== this.generation) this.configAt = { generation: this.generation, lists: new Map() };
    let list = this.configAt.lists.get(b);
    if (!list) this.configAt.lists.set(b, (list = this.source.list(b)));
    return list;
  }

  snapshotFor(proxy: ProxyNode): ProxySnapshot {
    const mesh = this.meshView();
    const pick = (b: ConfigBucket) => this.configList(b).filter((o) => visible(o, proxy.namespace, this.rootNamespace));
    return {
      version: `${this.now().toISOString()}/${this.generation}`,
      virtualServices: pick('networking.istio.io/virtualservices'),
      destinationRules: pick('networking.istio.io/destinationrules'),
      gateways: pick('networking.istio.io/gateways'),
      serviceEntries: pick('networking.istio.io/serviceentries'),
      sidecars: pick('networking.istio.io/sidecars'),
      peerAuthentications: pick('security.istio.io/peerauthentications'),
      authorizationPolicies: pick('security.istio.io/authorizationpolicies'),
      ...(mesh ? { mesh } : {}),
    };
  }

  private push(sub: Subscription): void {
    if (!this.istiod) return;
    const snapshot = this.snapshotFor(sub.proxy);
    const nonce = `${snapshot.version}`;
    let state = sub.state;
    if (!state) {
      state = { proxy: sub.proxy, istiod: this.istiod, sent: {}, acked: {}, connectedAt: this.now(), connection: `${sub.proxy.id}-${++this.connections}` };
      this.log(this.istiod, `info\tads\tADS: new connection for node:${state.connection}`);
    }
    sub.state = state;
    for (const t of XDS_TYPES) state.sent[t] = nonce;
    try {
      const config = this.compile(snapshot, sub.proxy);
      const messages = (config.istiodLog ?? []).join('\n');
      if (messages !== (sub.logged ?? '')) for (const line of config.istiodLog ?? []) this.log(this.istiod, line);
      sub.logged = messages;
      sub.handler(snapshot, config);
      sub.latest = snapshot;
      for (const t of XDS_TYPES) state.acked[t] = nonce;
    } catch {
      // A proxy that rejects the config NACKs it: sent but not acknowledged (STALE).
    }
  }

  private log(istiod: string, line: string): void {
    const t = this.now().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    this.logs.get(istiod)?.(`${t}\t${line}`);
  }

  /** Every connected proxy's sync state, as istiod's /debug/syncz reports it. */
  syncz(): SyncState[] {
    return [...this.subs].flatMap((s) => (s.state ? [s.state] : []));
  }
}

/** No config generation: a proxy with no listeners (what a proxy has before istiod answers). */
export const emptyConfig: Compiler = (snapshot, proxy) => ({ version: snapshot.version, proxy, listeners: [], routes: [], clusters: [], endpoints: [] });

/** istiod's /debug/syncz body: one entry per connected proxy, per-type sent/acked nonces. */
export function synczJson(states: SyncState[]): string {
  return JSON.stringify(
    states.map((s) => ({
      cluster_id: s.proxy.clusterId,
      proxy: s.proxy.id,
      proxy_type: s.proxy.type,
      istio_version: s.proxy.istioVersion,
      istiod: s.istiod,
      cluster_sent: s.sent.CDS ?? '',
      cluster_acked: s.acked.CDS ?? '',
      listener_sent: s.sent.LDS ?? '',
      listener_acked: s.acked.LDS ?? '',
      endpoint_sent: s.sent.EDS ?? '',
      endpoint_acked: s.acked.EDS ?? '',
      route_sent: s.sent.RDS ?? '',
      route_acked: s.acked.RDS ?? '',
    })),
  );
}
