/**
 * One running Envoy (the `istio-proxy` agent of a sidecar, or a gateway): the config it last
 * accepted from istiod, and its runtime state. The sidecar interceptor and the gateway's
 * listeners route requests through it; its admin port (15000) and stats ports read it.
 *
 * SKELETON (lead): the data-plane helpers fill in runtime state (stats, outlier detection,
 * connection pools, access log) here.
 */
import type { ContainerContext } from '../../../images/types.js';
import type { Cluster, LbEndpoint, ProxyConfig, ProxyIdentity } from '../xds/types.js';
import { ProxyStats } from './stats.js';


export class EnvoyProxy {
  /** The last config istiod pushed and this proxy accepted; undefined until the first push. */
  config: ProxyConfig | undefined;
  readonly stats = new ProxyStats();
  /** When the agent started Envoy (the admin's uptime and the bootstrap's last_updated). */
  readonly startedAt: Date;

  constructor(
    readonly identity: ProxyIdentity,
    /** The istio-proxy container: its log is where the access log goes, its clock and random drive timing. */
    readonly ctx: ContainerContext,
  ) {
    this.startedAt = ctx.now();
  }

  /** A push from istiod (CDS/LDS/EDS/RDS at once). Throwing NACKs it. */
  apply(config: ProxyConfig): void {
    this.config = config;
  }

  // Clusters by name, rebuilt when the pushed list changes (every request looks its cluster up).
  private clusterIndex: { of: Cluster[]; length: number; byName: Map<string, Cluster> } | undefined;

  /** The cluster named `name` in the accepted config (the first, as a linear search would find). */
  cluster(name: string | undefined): Cluster | undefined {
    const clusters = this.config?.clusters;
    if (!clusters || name === undefined) return undefined;
    let index = this.clusterIndex;
    if (!index || index.of !== clusters || index.length !== clusters.length) {
      const byName = new Map<string, Cluster>();
      for (const c of clusters) if (!byName.has(c.name)) byName.set(c.name, c);
      index = this.clusterIndex = { of: clusters, length: clusters.length, byName };
    }
    return index.byName.get(name);
  }

  private endpointIndex: { of: ProxyConfig['endpoints']; length: number; byCluster: Map<string, ProxyConfig['endpoints'][number]> } | undefined;

  /** The EDS endpoints of cluster `name` in the accepted config (the first assignment, as a linear search would find). */
  endpoints(name: string): LbEndpoint[] | undefined {
    const all = this.config?.endpoints;
    if (!all) return undefined;
    let index = this.endpointIndex;
    if (!index || index.of !== all || index.length !== all.length) {
      const byCluster = new Map<string, ProxyConfig['endpoints'][number]>();
      for (const e of all) if (!byCluster.has(e.cluster)) byCluster.set(e.cluster, e);
      index = this.endpointIndex = { of: all, length: all.length, byCluster };
    }
    return index.byCluster.get(name)?.endpoints;
  }
}

/** The running proxies of one cluster, by pod (`<namespace>/<pod>`). */
export class ProxyRegistry {
  // By namespace, then pod name: every request looks its proxies up, and no key string is built for it.
  private readonly byPod = new Map<string, Map<string, EnvoyProxy>>();

  add(proxy: EnvoyProxy): () => void {
    const { namespace, podName } = proxy.identity;
    let pods = this.byPod.get(namespace);
    if (!pods) this.byPod.set(namespace, (pods = new Map()));
    pods.set(podName, proxy);
    return () => {
      const now = this.byPod.get(namespace);
      if (now?.get(podName) !== proxy) return;
      now.delete(podName);
      if (now.size === 0) this.byPod.delete(namespace);
    };
  }

  get(namespace: string, podName: string): EnvoyProxy | undefined {
    return this.byPod.get(namespace)?.get(podName);
  }

  all(): EnvoyProxy[] {
    const out: EnvoyProxy[] = [];
    for (const pods of this.byPod.values()) out.push(...pods.values());
    return out;
  }
}
