/**
 * Envoy's cluster manager for one proxy: for each attempt the router hands it (upstream-types.ts)
 * it finds the cluster in the proxy's current CDS/EDS config, picks a host (load balancer, health,
 * outlier ejections, panic threshold), takes a connection from that host's HTTP/1.1 pool under
 * the cluster's circuit breakers, and sends the request with the connection's TLS (auto mTLS or
 * the DestinationRule's mode). Failures before an answer become Envoy's local replies.
 *
 * Concurrency is real: the pools count connections, pending and active requests across all the
 * attempts in flight, so connectionPool limits overflow exactly when Envoy's would.
 */
import type { HttpRequest, HttpResponse, RequestOptions, RequestTarget, Transport } from '../../../images/types.js';
import { NetworkError } from '../../../images/types.js';
import { spiffeId, type Cluster, type LbEndpoint } from '../xds/types.js';
import type { EnvoyProxy } from './proxy.js';
import { LoadBalancer } from './upstream-lb.js';
import { OutlierDetector } from './upstream-outlier.js';
import * as replies from './upstream-replies.js';
import type { ClusterManager as RouterClusterManager } from './router-upstream.js';
import type { UpstreamAttempt, UpstreamResult } from './upstream-types.js';

/** How the cluster manager puts a request on the wire: the sidecar's interceptor `next`, or a gateway's `ctx.net.request`. */
export type UpstreamSend = (target: RequestTarget, req: HttpRequest, opts: RequestOptions) => Promise<HttpResponse>;

/** Envoy's panic threshold when Istio leaves it alone (no outlierDetection in the DestinationRule). */
const ENVOY_DEFAULT_PANIC_PERCENT = 50;
/** Linux's default ip_local_port_range, where upstream connections' source ports come from. */
const EPHEMERAL_LOW = 32768;
const EPHEMERAL_HIGH = 60999;
/**
 * A new connection is usable only after its handshake: a random 1–11 turns of the microtask
 * queue, short against a request's round trip through two sidecars (as a local TCP+TLS connect
 * is against an HTTP exchange) and jittered as real connects are. Requests queue (pending)
 * meanwhile. Tuned on Istio's circuit-breaking task: fortio -c 2 -n 20 gives 3–8 503s, -c 3 -n 30
 * 15–17 (istio.io shows 3 and 19). Retuned from 14 when the round trip lost promise turns (a
 * faster hot path): 8 runs each gave the same spread as before.
 */
const CONNECT_TURNS_MAX = 11;

interface Conn {
  id: number;
  state: 'connecting' | 'ready' | 'closed';
  busy: boolean;
  /** Requests this connection may still carry (maxRequestsPerConnection); Infinity when unlimited. */
  remaining: number;
  localPort: number;
  /** Whether a request has completed on it (a refused first request is a connect failure). */
  used: boolean;
}

type StreamFailure = 'overflow-pending' | 'overflow-requests' | 'connect-failure';

interface Waiter {
  settle(r: Conn | StreamFailure): void;
}

/** A place in a host's queue: settles with a connection (or a failure); `waiter` gives the place up. */
type QueuedStream = Promise<Conn | StreamFailure> & { waiter?: Waiter };

function idleConnection(pool: HostPool): Conn | undefined {
  for (const c of pool.conns) if (c.state === 'ready' && !c.busy) return c;
  return undefined;
}

/** Clears an attempt's timer, if it has one (a function declaration: no per-request named closure). */
function clearer(timer: NodeJS.Timeout | undefined): () => void {
  return () => {
    if (timer) clearTimeout(timer);
  };
}

/** One host's HTTP/1.1 connection pool. */
class HostPool {
  readonly conns: Conn[] = [];
  readonly waiters: Waiter[] = [];
  activeRequests = 0;
  /** Per-host counters Envoy prints in /clusters. */
  cxTotal = 0;
  cxConnectFail = 0;
  rqTotal = 0;
  rqError = 0;
  rqSuccess = 0;
  rqTimeout = 0;

  constructor(readonly endpoint: LbEndpoint) {}
}

/** A cluster as the cluster manager runs it: its resource counts, pools, LB and outlier detector. */
class ClusterRuntime {
  connections = 0;
  pending = 0;
  requests = 0;
  retries = 0;
  readonly pools = new Map<string, HostPool>();
  /** The EDS endpoint list last seen (a new array means an update). */
  endpoints: readonly LbEndpoint[] | undefined;
  readonly lb: LoadBalancer;
  readonly outlier: OutlierDetector | undefined;
  /** Full stat names by suffix, built once: the same string objects keep Map lookups cheap on every request. */
  private readonly names = new Map<string, string>();
  private readonly prefix: string;

  constructor(
    /** The latest CDS object for it (replaced by equal-policy pushes). */
    public cluster: Cluster,
    readonly fingerprint: string,
    random: () => number,
    nowMs: () => number,
    inc: (stat: string) => void,
    onEjectionsChanged: () => void,
  ) {
    this.prefix = clusterStatPrefix(cluster.name);
    this.lb = new LoadBalancer(cluster.lbPolicy, random);
    this.outlier = cluster.outlierDetection ? new OutlierDetector(cluster.outlierDetection, nowMs, (s) => inc(`outlier_detection.${s}`), onEjectionsChanged) : undefined;
  }

  /** `upstream_rq_200`, `upstream_rq_2xx`, `upstream_rq_completed` for a code, with the cluster's prefix (built once per code). */
  codeNames(code: number): readonly [string, string, string] {
    let names = this.byCode.get(code);
    if (!names) {
      names = [this.statName(`upstream_rq_${code}`), this.statName(`upstream_rq_${Math.floor(code / 100)}xx`), this.statName('upstream_rq_completed')];
      this.byCode.set(code, names);
    }
    return names;
  }

  private readonly byCode = new Map<number, readonly [string, string, string]>();

  /** The names of the gauges every request moves (LOAD_GAUGES), with the cluster's prefix. */
  get loadNames(): readonly string[] {
    return (this.load ??= LOAD_GAUGES.map((g) => this.statName(g)));
  }

  private load: string[] | undefined;

  statName(suffix: string): string {
    let n = this.names.get(suffix);
    if (n === undefined) this.names.set(suffix, (n = this.prefix + suffix));
    return n;
  }

  pool(ep: LbEndpoint): HostPool {
    const key = hostKey(ep);
    let p = this.pools.get(key);
    if (!p) this.pools.set(key, (p = new HostPool(ep)));
    return p;
  }
}

const NO_ENDPOINTS: LbEndpoint[] = [];

/** The gauges publishLoad writes on every change of a cluster's load. */
const LOAD_GAUGES = [
  'upstream_cx_active',
  'upstream_rq_active',
  'upstream_rq_pending_active',
  'circuit_breakers.default.cx_open',
  'circuit_breakers.default.rq_open',
  'circuit_breakers.default.rq_pending_open',
  'circuit_breakers.default.rq_retry_open',
  'circuit_breakers.default.remaining_cx',
  'circuit_breakers.default.remaining_pending',
  'circuit_breakers.default.remaining_rq',
  'circuit_breakers.default.remaining_retries',
];
const hostKey = (ep: { address: string; port: number }) => `${ep.address}:${ep.port}`;

/** Envoy's stat prefix for a cluster: Istio delimits its cluster names with `;` (alt_stat_name). */
export function clusterStatPrefix(name: string): string {
  return name.includes('|') ? `cluster.${name};.` : `cluster.${name}.`;
}

/** `outbound_.9080_.v1_.reviews.default.svc.cluster.local` from `outbound|9080|v1|reviews.default.svc.cluster.local`. */
function sniOf(cluster: Cluster): string {
  if (cluster.sni) return cluster.sni;
  const [dir, port, subset, host] = cluster.name.split('|');
  return `${dir}_.${port}_.${subset || ''}_.${host}`;
}

const managers = new WeakMap<EnvoyProxy, ClusterManager>();

export class ClusterManager {
  private readonly runtimes = new Map<string, ClusterRuntime>();
  private nextConnId = 1;
  private seenConfig: unknown;

  constructor(
    readonly proxy: EnvoyProxy,
    private readonly send: UpstreamSend = (target, req, opts) => proxy.ctx.net.request(target, req, opts),
  ) {
    // The proxy's cluster manager is the latest one made for it; only it reports gauges.
    managers.set(proxy, this);
    proxy.stats.addCollector((emit) => managers.get(proxy) === this && this.collect(emit));
  }

  /**
   * One attempt of the router: resolves with the upstream's response or Envoy's local reply.
   * `send` overrides the constructor's for this attempt (the sidecar's interceptor passes its
   * `next` per call); the pools and detectors are the proxy's, shared by every attempt.
   */
  async attempt(a: UpstreamAttempt, send: UpstreamSend = this.send): Promise<UpstreamResult> {
    const ctx = this.proxy.ctx;
    const cluster = this.proxy.cluster(a.cluster);
    if (!cluster) return replies.clusterNotFound(ctx);
    const rt = this.runtime(cluster);

    const endpoint = this.chooseEndpoint(rt, a);
    if (!endpoint) {
      this.stat(rt, 'upstream_cx_none_healthy');
      return replies.noHealthyUpstream(ctx);
    }
    const pool = rt.pool(endpoint);
    const host = hostKey(endpoint);
    const tls = this.tlsFor(cluster, endpoint);

    const deadline = a.timeoutMs !== undefined && a.timeoutMs > 0 ? a.timeoutMs : undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    // Without a deadline there is nothing to race against.
    const timeout =
      deadline === undefined
        ? undefined
        : new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => ((timedOut = true), resolve('timeout')), deadline);
            timer.unref?.();
          });
    const clear = clearer(timer);

    // ---- a connection from the pool (or a place in its queue) ----
    // An idle connection (or an overflow) is known at once: no promise, no turn of the queue.
    const stream = this.newStream(rt, pool);
    const got = stream instanceof Promise ? (timeout ? await Promise.race([stream, timeout]) : await stream) : stream;
    if (got === 'timeout') {
      // Still queued: give the place up (Envoy cancels the pending stream).
      const waiter = (stream as QueuedStream).waiter;
      if (waiter) this.cancelWaiter(rt, pool, waiter);
      (stream as QueuedStream).then((c) => typeof c === 'object' && this.release(rt, pool, c, 'ok'), () => {});
      this.stat(rt, 'upstream_rq_timeout');
      this.stat(rt, 'upstream_rq_cancelled');
      this.chargeCode(rt, 504);
      return { ...replies.requestTimeout(ctx), upstreamHost: host, endpoint };
    }
    if (got === 'overflow-pending') {
      clear();
      this.chargeCode(rt, 503);
      return replies.overflow(ctx);
    }
    if (got === 'overflow-requests') {
      clear();
      this.chargeCode(rt, 503);
      return { ...replies.overflow(ctx), upstreamHost: host, endpoint };
    }
    if (got === 'connect-failure') {
      clear();
      this.chargeCode(rt, 503);
      rt.outlier?.putHttpResponseCode(host, 503);
      return { ...replies.connectRefused(ctx), upstreamHost: host, endpoint };
    }
    const conn = got;
    const upstreamLocalAddress = `${this.proxy.identity.podIP}:${conn.localPort}`;
    const where = { upstreamHost: host, upstreamLocalAddress, endpoint };

    // ISTIO_MUTUAL to a server without a sidecar: its plain-text port answers the ClientHello with garbage and closes.
    if (tls === 'ISTIO_MUTUAL' && endpoint.tlsMode !== 'istio') {
      clear();
      this.release(rt, pool, conn, 'remote');
      this.chargeCode(rt, 503);
      pool.rqError++;
      rt.outlier?.putHttpResponseCode(host, 503);
      return { ...replies.connectionTermination(ctx), ...where };
    }

    // ---- the exchange ----
    const started = ctx.now().getTime();
    const opts: RequestOptions = { transport: this.transport(cluster, tls) };
    if (deadline !== undefined) opts.timeoutMs = deadline;
    let sent: Promise<HttpResponse>;
    try {
      sent = send({ host: endpoint.address, port: endpoint.port }, a.req, opts);
    } catch (e) {
      // A wire that throws instead of rejecting is still just a failed exchange.
      sent = Promise.reject(e);
    }
    let outcome: { response: HttpResponse } | { error: unknown } | 'timeout';
    if (timeout) {
      const sending = sent.then(
        (response) => ({ response }),
        (error: unknown) => ({ error }),
      );
      outcome = await Promise.race([sending, timeout]);
    } else {
      // Nothing to race: await the exchange itself (one promise and one turn less per request).
      try {
        outcome = { response: await sent };
      } catch (error) {
        outcome = { error };
      }
    }
    clear();
    if (outcome === 'timeout' || timedOut) {
      // Envoy resets the stream; on HTTP/1.1 that closes the connection.
      this.release(rt, pool, conn, 'local');
      this.stat(rt, 'upstream_rq_timeout');
      pool.rqTimeout++;
      pool.rqError++;
      this.chargeCode(rt, 504);
      rt.outlier?.putHttpResponseCode(host, 504);
      return { ...replies.requestTimeout(ctx), ...where };
    }
    if ('error' in outcome) {
      const code = outcome.error instanceof NetworkError ? outcome.error.code : undefined;
      if ((code === 'ECONNREFUSED' || code === 'ENOTFOUND') && !conn.used) {
        // The connection never came up: Envoy fails every request queued on this host.
        this.connectFailed(rt, pool, conn);
        this.chargeCode(rt, 503);
        rt.outlier?.putHttpResponseCode(host, 503);
        return { ...replies.connectRefused(ctx), upstreamHost: host, endpoint };
      }
      this.release(rt, pool, conn, 'remote');
      pool.rqError++;
      this.chargeCode(rt, 503);
      rt.outlier?.putHttpResponseCode(host, 503);
      if (code === 'ETIMEDOUT') {
        this.stat(rt, 'upstream_cx_connect_timeout');
        return { ...replies.connectTimeout(ctx), upstreamHost: host, endpoint };
      }
      this.stat(rt, 'upstream_rq_rx_reset');
      return { ...replies.connectionTermination(ctx), ...where };
    }
    conn.used = true;
    const response = outcome.response;
    // An HTTP/1.1 answer with `connection: close` ends the connection (Envoy won't reuse it).
    this.release(rt, pool, conn, (response.headers.connection ?? '').toLowerCase() === 'close' ? 'remote' : 'ok', false);
    if (response.status >= 500) pool.rqError++;
    else pool.rqSuccess++;
    this.chargeCode(rt, response.status);
    rt.outlier?.putHttpResponseCode(host, response.status);
    return { response, flags: [], details: 'via_upstream', fromUpstream: true, upstreamHost: host, upstreamLocalAddress, endpoint, serviceTimeMs: Math.max(0, ctx.now().getTime() - started) };
  }

  /**
   * The cluster's retry budget (max_retries): the router asks before each retry; false means the
   * retry circuit breaker is open (upstream_rq_retry_overflow) and the last answer stands.
   */
  acquireRetry(clusterName: string): boolean {
    const cluster = this.proxy.cluster(clusterName);
    if (!cluster) return true;
    const rt = this.runtime(cluster);
    if (rt.retries >= cluster.circuitBreakers.maxRetries) {
      this.proxy.stats.inc(rt.statName('upstream_rq_retry_overflow'));
      return false;
    }
    rt.retries++;
    this.proxy.stats.inc(rt.statName('upstream_rq_retry'));
    this.publishLoad(rt);
    return true;
  }

  /** A retry granted by acquireRetry has finished; `succeeded` counts upstream_rq_retry_success. */
  releaseRetry(clusterName: string, succeeded = false): void {
    const rt = this.runtimes.get(clusterName);
    if (rt && rt.retries > 0) {
      rt.retries--;
      this.publishLoad(rt);
    }
    if (succeeded) this.proxy.stats.inc(clusterStatPrefix(clusterName) + 'upstream_rq_retry_success');
  }

  /** Envoy's `/clusters` text (admin endpoint): limits, then per host its counters and health flags. */
  clustersText(): string {
    const out: string[] = [];
    for (const cluster of this.proxy.config?.clusters ?? []) {
      const n = cluster.name;
      const cb = cluster.circuitBreakers;
      out.push(`${n}::observability_name::${n}`);
      out.push(`${n}::default_priority::max_connections::${cb.maxConnections}`, `${n}::default_priority::max_pending_requests::${cb.maxPendingRequests}`, `${n}::default_priority::max_requests::${cb.maxRequests}`, `${n}::default_priority::max_retries::${cb.maxRetries}`);
      out.push(`${n}::high_priority::max_connections::1024`, `${n}::high_priority::max_pending_requests::1024`, `${n}::high_priority::max_requests::1024`, `${n}::high_priority::max_retries::3`);
      out.push(`${n}::added_via_api::${cluster.direction === 'static' ? 'false' : 'true'}`);
      if (cluster.type === 'EDS') out.push(`${n}::eds_service_name::${n}`);
      const rt = this.runtime(cluster);
      for (const ep of this.endpointsOf(cluster)) {
        const h = `${n}::${hostKey(ep)}`;
        const p = rt.pools.get(hostKey(ep));
        const flags: string[] = [];
        if (rt.outlier?.isEjected(hostKey(ep))) flags.push('/failed_outlier_check');
        if (ep.health === 'UNHEALTHY') flags.push('/failed_eds_health');
        if (ep.health === 'DRAINING') flags.push('/eds_status_draining');
        out.push(
          `${h}::cx_active::${p?.conns.length ?? 0}`,
          `${h}::cx_connect_fail::${p?.cxConnectFail ?? 0}`,
          `${h}::cx_total::${p?.cxTotal ?? 0}`,
          `${h}::rq_active::${p?.activeRequests ?? 0}`,
          `${h}::rq_error::${p?.rqError ?? 0}`,
          `${h}::rq_success::${p?.rqSuccess ?? 0}`,
          `${h}::rq_timeout::${p?.rqTimeout ?? 0}`,
          `${h}::rq_total::${p?.rqTotal ?? 0}`,
          `${h}::hostname::`,
          `${h}::health_flags::${flags.length ? flags.join('') : 'healthy'}`,
          `${h}::weight::1`,
          `${h}::region::`,
          `${h}::zone::`,
          `${h}::sub_zone::`,
          `${h}::canary::false`,
          `${h}::priority::0`,
          `${h}::success_rate::-1`,
          `${h}::local_origin_success_rate::-1`,
        );
      }
    }
    return out.length ? out.join('\n') + '\n' : '';
  }

  /**
   * One host as the admin's `/clusters` shows it: ejected by outlier detection, and its counters
   * (read by the admin through clusterManagerOf).
   */
  hostHealth(clusterName: string, host: string): { failedOutlierCheck: boolean; stats: Record<string, number> } | undefined {
    const cluster = this.proxy.cluster(clusterName);
    if (!cluster) return undefined;
    const rt = this.runtime(cluster);
    const p = rt.pools.get(host);
    return {
      failedOutlierCheck: !!rt.outlier?.isEjected(host),
      stats: { cx_active: p?.conns.length ?? 0, cx_connect_fail: p?.cxConnectFail ?? 0, cx_total: p?.cxTotal ?? 0, rq_active: p?.activeRequests ?? 0, rq_error: p?.rqError ?? 0, rq_success: p?.rqSuccess ?? 0, rq_timeout: p?.rqTimeout ?? 0, rq_total: p?.rqTotal ?? 0 },
    };
  }

  /** Whether outlier detection has ejected `host` (`ip:port`) from `cluster` right now. */
  isEjected(clusterName: string, host: string): boolean {
    const cluster = this.proxy.cluster(clusterName);
    return !!cluster && !!this.runtime(cluster).outlier?.isEjected(host);
  }

  // ---- clusters and hosts ---------------------------------------------------------------------

  /** The runtime for the cluster as currently configured; a changed cluster (CDS update) starts afresh, as Envoy's does. */
  private runtime(cluster: Cluster): ClusterRuntime {
    let rt = this.runtimes.get(cluster.name);
    // The same Cluster object (no push since): nothing to compare.
    const fingerprint = rt?.cluster === cluster ? rt.fingerprint : JSON.stringify([cluster.type, cluster.lbPolicy, cluster.circuitBreakers, cluster.outlierDetection ?? null, cluster.tls ?? null]);
    if (!rt || rt.fingerprint !== fingerprint) {
      const ctx = this.proxy.ctx;
      const made: ClusterRuntime = new ClusterRuntime(cluster, fingerprint, () => ctx.random(), () => ctx.now().getTime(), (s) => this.proxy.stats.inc(made.statName(s)), () => this.publish(made));
      this.runtimes.set(cluster.name, (rt = made));
      this.publish(rt);
    } else rt.cluster = cluster;
    const eps = this.endpointsOf(cluster);
    if (eps !== rt.endpoints) {
      // An EDS update: detectors follow the hosts; idle pools of hosts that left are dropped.
      rt.endpoints = eps;
      const keys = eps.map(hostKey);
      rt.outlier?.setHosts(keys);
      const live = new Set(keys);
      for (const [key, pool] of rt.pools) if (!live.has(key) && pool.activeRequests === 0 && pool.waiters.length === 0) this.dropPool(rt, key, pool);
      this.publish(rt);
    }
    if (this.proxy.config !== this.seenConfig) this.forgetRemovedClusters();
    return rt;
  }

  /** Closes a departed host's idle connections and forgets its pool. */
  private dropPool(rt: ClusterRuntime, key: string, pool: HostPool): void {
    for (const conn of [...pool.conns]) this.close(rt, pool, conn, 'local', false);
    rt.pools.delete(key);
  }

  /** A CDS update removed clusters: their runtimes go (attempts in flight keep theirs until done). */
  private forgetRemovedClusters(): void {
    this.seenConfig = this.proxy.config;
    const names = new Set((this.proxy.config?.clusters ?? []).map((c) => c.name));
    for (const name of [...this.runtimes.keys()]) if (!names.has(name)) this.runtimes.delete(name);
  }

  private endpointsOf(cluster: Cluster): LbEndpoint[] {
    return this.proxy.endpoints(cluster.name) ?? NO_ENDPOINTS;
  }

  /** Healthy hosts minus ejected ones; all hosts when the healthy share is under the panic threshold. */
  private chooseEndpoint(rt: ClusterRuntime, a: UpstreamAttempt): LbEndpoint | undefined {
    const cluster = rt.cluster;
    const all = this.endpointsOf(cluster);
    if (all.length === 0) return undefined;
    const healthy = all.filter((ep) => ep.health === 'HEALTHY' && !rt.outlier?.isEjected(hostKey(ep)));
    const panicPercent = cluster.outlierDetection ? (cluster.outlierDetection.minHealthPercent ?? 0) : ENVOY_DEFAULT_PANIC_PERCENT;
    let usable = healthy;
    if ((100 * healthy.length) / all.length < panicPercent) {
      this.proxy.stats.inc(rt.statName('lb_healthy_panic'));
      usable = all;
    }
    const hosts = usable.map((ep) => ({ key: hostKey(ep), ep, activeRequests: rt.pools.get(hostKey(ep))?.activeRequests ?? 0 }));
    return rt.lb.pick(hosts, a.avoidHosts)?.ep;
  }

  /** Auto mTLS (no DestinationRule tls): mTLS exactly to endpoints whose pod has a sidecar. */
  private tlsFor(cluster: Cluster, ep: LbEndpoint): 'ISTIO_MUTUAL' | 'DISABLE' | 'SIMPLE' | 'MUTUAL' {
    if (cluster.tls === undefined) return ep.tlsMode === 'istio' ? 'ISTIO_MUTUAL' : 'DISABLE';
    return cluster.tls;
  }

  private transport(cluster: Cluster, tls: 'ISTIO_MUTUAL' | 'DISABLE' | 'SIMPLE' | 'MUTUAL'): Transport {
    // Per pushed cluster object and mode (this manager's proxy identity does not change).
    let byMode = this.transports.get(cluster);
    if (!byMode) this.transports.set(cluster, (byMode = new Map()));
    let t = byMode.get(tls);
    if (!t) byMode.set(tls, (t = this.makeTransport(cluster, tls)));
    return t;
  }

  private readonly transports = new WeakMap<Cluster, Map<string, Transport>>();

  private makeTransport(cluster: Cluster, tls: 'ISTIO_MUTUAL' | 'DISABLE' | 'SIMPLE' | 'MUTUAL'): Transport {
    if (tls === 'DISABLE') return {};
    // SIMPLE/MUTUAL originate TLS with the DestinationRule's own certificates: no mesh identity.
    const clientIdentity = tls === 'ISTIO_MUTUAL' ? spiffeId(this.proxy.identity.namespace, this.proxy.identity.serviceAccount) : '';
    return { tls: { sni: sniOf(cluster), clientIdentity } };
  }

  // ---- the connection pool (Envoy's ConnPoolImplBase for HTTP/1.1) -----------------------------

  /** A ready connection now, a place in the host's queue, or an overflow. */
  private newStream(rt: ClusterRuntime, pool: HostPool): Conn | StreamFailure | QueuedStream {
    const idle = idleConnection(pool);
    if (idle) return this.attach(rt, pool, idle);
    if (rt.pending >= rt.cluster.circuitBreakers.maxPendingRequests) {
      this.stat(rt, 'upstream_rq_pending_overflow');
      return 'overflow-pending';
    }
    let waiter: Waiter | undefined;
    const queued: QueuedStream = new Promise<Conn | StreamFailure>((resolve) => {
      waiter = { settle: resolve };
      pool.waiters.push(waiter);
      rt.pending++;
      this.stat(rt, 'upstream_rq_pending_total');
      this.tryCreateConnection(rt, pool);
      this.publishLoad(rt);
    });
    queued.waiter = waiter;
    return queued;
  }

  /** Takes a stream onto a ready connection, unless max_requests is reached (also counted as a pending overflow). */
  private attach(rt: ClusterRuntime, pool: HostPool, conn: Conn): Conn | StreamFailure {
    if (rt.requests >= rt.cluster.circuitBreakers.maxRequests) {
      this.stat(rt, 'upstream_rq_pending_overflow');
      return 'overflow-requests';
    }
    conn.busy = true;
    conn.remaining--;
    rt.requests++;
    pool.activeRequests++;
    pool.rqTotal++;
    this.stat(rt, 'upstream_rq_total');
    this.publishLoad(rt);
    return conn;
  }

  /** Opens a connection when the queue outgrows the connections already being opened, within max_connections. */
  private tryCreateConnection(rt: ClusterRuntime, pool: HostPool): void {
    const connecting = pool.conns.filter((c) => c.state === 'connecting').length;
    if (pool.waiters.length <= connecting) return;
    const canCreate = rt.connections < rt.cluster.circuitBreakers.maxConnections;
    if (!canCreate) this.stat(rt, 'upstream_cx_overflow');
    // A host with no connection at all always gets one, or its queue could never drain (Envoy does the same).
    if (!canCreate && pool.conns.length > 0) return;
    const maxPerConn = rt.cluster.circuitBreakers.maxRequestsPerConnection;
    const conn: Conn = {
      id: this.nextConnId++,
      state: 'connecting',
      busy: false,
      remaining: maxPerConn > 0 ? maxPerConn : Infinity,
      localPort: EPHEMERAL_LOW + Math.floor(this.proxy.ctx.random() * (EPHEMERAL_HIGH - EPHEMERAL_LOW + 1)),
      used: false,
    };
    pool.conns.push(conn);
    pool.cxTotal++;
    rt.connections++;
    this.stat(rt, 'upstream_cx_total');
    this.stat(rt, 'upstream_cx_http1_total');
    let p = Promise.resolve();
    const turns = 1 + Math.floor(this.proxy.ctx.random() * CONNECT_TURNS_MAX);
    for (let i = 1; i < turns; i++) p = p.then(() => undefined);
    void p.then(() => {
      if (conn.state !== 'connecting') return;
      conn.state = 'ready';
      this.drain(rt, pool, conn);
    });
  }

  /** Hands an idle connection to the queue's head (Envoy's onUpstreamReady). */
  private drain(rt: ClusterRuntime, pool: HostPool, conn: Conn): void {
    while (conn.state === 'ready' && !conn.busy && pool.waiters.length > 0) {
      const w = pool.waiters.shift()!;
      rt.pending--;
      w.settle(this.attach(rt, pool, conn));
    }
  }

  private cancelWaiter(rt: ClusterRuntime, pool: HostPool, w: Waiter): void {
    const i = pool.waiters.indexOf(w);
    if (i < 0) return;
    pool.waiters.splice(i, 1);
    rt.pending--;
    this.publishLoad(rt);
  }

  /** A stream is done with its connection: reuse it, or close it (max requests reached, reset, timeout). */
  private release(rt: ClusterRuntime, pool: HostPool, conn: Conn, how: 'ok' | 'local' | 'remote', withActiveRequest = true): void {
    if (!conn.busy) return;
    conn.busy = false;
    rt.requests--;
    pool.activeRequests--;
    if (how !== 'ok') {
      this.close(rt, pool, conn, how, withActiveRequest);
    } else if (conn.remaining <= 0) {
      this.stat(rt, 'upstream_cx_max_requests');
      this.close(rt, pool, conn, 'local', false);
    } else if (this.runtimes.get(rt.cluster.name) !== rt) {
      // The cluster was replaced (CDS update): its old pools drain.
      this.close(rt, pool, conn, 'local', false);
    } else this.drain(rt, pool, conn);
    if (pool.waiters.length > 0) this.tryCreateConnection(rt, pool);
    this.publishLoad(rt);
  }

  private close(rt: ClusterRuntime, pool: HostPool, conn: Conn, how: 'local' | 'remote', withActiveRequest: boolean): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    const i = pool.conns.indexOf(conn);
    if (i >= 0) pool.conns.splice(i, 1);
    rt.connections--;
    this.stat(rt, 'upstream_cx_destroy');
    this.stat(rt, `upstream_cx_destroy_${how}`);
    if (withActiveRequest) {
      this.stat(rt, 'upstream_cx_destroy_with_active_rq');
      this.stat(rt, `upstream_cx_destroy_${how}_with_active_rq`);
    }
  }

  /** A refused connect: the connection goes, its would-be request was never sent, and the host's queue fails with it. */
  private connectFailed(rt: ClusterRuntime, pool: HostPool, conn: Conn): void {
    conn.busy = false;
    rt.requests--;
    pool.activeRequests--;
    pool.rqTotal--;
    pool.cxConnectFail++;
    this.stat(rt, 'upstream_rq_total', -1);
    this.stat(rt, 'upstream_cx_connect_fail');
    conn.state = 'closed';
    const i = pool.conns.indexOf(conn);
    if (i >= 0) pool.conns.splice(i, 1);
    rt.connections--;
    this.stat(rt, 'upstream_cx_destroy');
    this.stat(rt, 'upstream_cx_destroy_remote');
    for (const w of pool.waiters.splice(0)) {
      rt.pending--;
      this.stat(rt, 'upstream_rq_pending_failure_eject');
      w.settle('connect-failure');
    }
    this.publishLoad(rt);
  }

  private stat(rt: ClusterRuntime, s: string, by = 1): void {
    this.proxy.stats.inc(rt.statName(s), by);
  }

  /** Envoy's per-code upstream stats, charged for answers and for local resets alike. */
  private chargeCode(rt: ClusterRuntime, code: number): void {
    const stats = this.proxy.stats;
    const [exact, klass, completed] = rt.codeNames(code);
    stats.inc(exact);
    stats.inc(klass);
    stats.inc(completed);
  }

  // ---- gauges ---------------------------------------------------------------------------------

  /** The cluster's gauges now: circuit breaker state, membership, active counts, ejections. */
  private gauges(rt: ClusterRuntime): [string, number][] {
    const cluster = rt.cluster;
    const cb = cluster.circuitBreakers;
    const eps = this.endpointsOf(cluster);
    const healthy = eps.filter((ep) => ep.health === 'HEALTHY' && !rt.outlier?.isEjected(hostKey(ep))).length;
    const gauges: [string, number][] = [
      ['upstream_cx_active', rt.connections],
      ['upstream_rq_active', rt.requests],
      ['upstream_rq_pending_active', rt.pending],
      ['membership_total', eps.length],
      ['membership_healthy', healthy],
      ['membership_degraded', 0],
      ['membership_excluded', 0],
      ['circuit_breakers.default.cx_open', rt.connections >= cb.maxConnections ? 1 : 0],
      ['circuit_breakers.default.cx_pool_open', 0],
      ['circuit_breakers.default.rq_open', rt.requests >= cb.maxRequests ? 1 : 0],
      ['circuit_breakers.default.rq_pending_open', rt.pending >= cb.maxPendingRequests ? 1 : 0],
      ['circuit_breakers.default.rq_retry_open', rt.retries >= cb.maxRetries ? 1 : 0],
      ['circuit_breakers.default.remaining_cx', Math.max(0, cb.maxConnections - rt.connections)],
      ['circuit_breakers.default.remaining_pending', Math.max(0, cb.maxPendingRequests - rt.pending)],
      ['circuit_breakers.default.remaining_rq', Math.max(0, cb.maxRequests - rt.requests)],
      ['circuit_breakers.default.remaining_retries', Math.max(0, cb.maxRetries - rt.retries)],
      ['circuit_breakers.high.cx_open', 0],
      ['circuit_breakers.high.cx_pool_open', 0],
      ['circuit_breakers.high.rq_open', 0],
      ['circuit_breakers.high.rq_pending_open', 0],
      ['circuit_breakers.high.rq_retry_open', 0],
    ];
    if (rt.outlier) gauges.push(['outlier_detection.ejections_active', rt.outlier.ejectedCount()]);
    return gauges;
  }

  /**
   * Writes the cluster's gauges into the proxy's stats as they change, so any reader of
   * `proxy.stats.gauges` (the admin endpoint) sees live values.
   */
  private publish(rt: ClusterRuntime): void {
    if (this.runtimes.get(rt.cluster.name) !== rt) return;
    for (const [name, value] of this.gauges(rt)) this.proxy.stats.set(rt.statName(name), value);
  }

  /** The gauges every request moves (connections, requests, the circuit breakers), written straight into the stats. */
  private publishLoad(rt: ClusterRuntime): void {
    if (this.runtimes.get(rt.cluster.name) !== rt) return;
    const cb = rt.cluster.circuitBreakers;
    const stats = this.proxy.stats;
    const n = rt.loadNames;
    // In LOAD_GAUGES' order.
    stats.set(n[0]!, rt.connections);
    stats.set(n[1]!, rt.requests);
    stats.set(n[2]!, rt.pending);
    stats.set(n[3]!, rt.connections >= cb.maxConnections ? 1 : 0);
    stats.set(n[4]!, rt.requests >= cb.maxRequests ? 1 : 0);
    stats.set(n[5]!, rt.pending >= cb.maxPendingRequests ? 1 : 0);
    stats.set(n[6]!, rt.retries >= cb.maxRetries ? 1 : 0);
    stats.set(n[7]!, Math.max(0, cb.maxConnections - rt.connections));
    stats.set(n[8]!, Math.max(0, cb.maxPendingRequests - rt.pending));
    stats.set(n[9]!, Math.max(0, cb.maxRequests - rt.requests));
    stats.set(n[10]!, Math.max(0, cb.maxRetries - rt.retries));
  }


  /** At collection time: every configured cluster's gauges, and the counters Envoy creates at zero. */
  private collect(emit: (name: string, value: number, type: 'counter' | 'gauge') => void): void {
    for (const cluster of this.proxy.config?.clusters ?? []) {
      const p = clusterStatPrefix(cluster.name);
      const rt = this.runtime(cluster);
      for (const [name, value] of this.gauges(rt)) emit(p + name, value, 'gauge');
      for (const name of CLUSTER_COUNTERS) emit(p + name, 0, 'counter');
      if (rt.outlier) for (const name of OUTLIER_COUNTERS) emit(p + `outlier_detection.${name}`, 0, 'counter');
    }
  }
}

/** Counters Envoy creates with every cluster (so `/stats` shows them at 0 before anything happens). */
const CLUSTER_COUNTERS = [
  'lb_healthy_panic',
  'upstream_cx_close_notify',
  'upstream_cx_connect_attempts_exceeded',
  'upstream_cx_connect_fail',
  'upstream_cx_connect_timeout',
  'upstream_cx_destroy',
  'upstream_cx_destroy_local',
  'upstream_cx_destroy_local_with_active_rq',
  'upstream_cx_destroy_remote',
  'upstream_cx_destroy_remote_with_active_rq',
  'upstream_cx_destroy_with_active_rq',
  'upstream_cx_http1_total',
  'upstream_cx_http2_total',
  'upstream_cx_max_requests',
  'upstream_cx_none_healthy',
  'upstream_cx_overflow',
  'upstream_cx_pool_overflow',
  'upstream_cx_protocol_error',
  'upstream_cx_total',
  'upstream_rq_cancelled',
  'upstream_rq_completed',
  'upstream_rq_maintenance_mode',
  'upstream_rq_max_duration_reached',
  'upstream_rq_pending_failure_eject',
  'upstream_rq_pending_overflow',
  'upstream_rq_pending_total',
  'upstream_rq_per_try_idle_timeout',
  'upstream_rq_per_try_timeout',
  'upstream_rq_retry',
  'upstream_rq_retry_backoff_exponential',
  'upstream_rq_retry_backoff_ratelimited',
  'upstream_rq_retry_limit_exceeded',
  'upstream_rq_retry_overflow',
  'upstream_rq_retry_success',
  'upstream_rq_rx_reset',
  'upstream_rq_timeout',
  'upstream_rq_total',
  'upstream_rq_tx_reset',
];

const OUTLIER_COUNTERS = [
  'ejections_consecutive_5xx',
  'ejections_detected_consecutive_5xx',
  'ejections_detected_consecutive_gateway_failure',
  'ejections_enforced_consecutive_5xx',
  'ejections_enforced_consecutive_gateway_failure',
  'ejections_enforced_total',
  'ejections_overflow',
  'ejections_total',
];

/** The router's entry (router-upstream.ts `setClusterManager`): each proxy's own cluster manager, sending on the router's wire. */
export const envoyClusterManager: RouterClusterManager = {
  attempt: (proxy, a, wire) => clusterManagerOf(proxy).attempt(a, wire),
  acquireRetry: (proxy, cluster) => clusterManagerOf(proxy).acquireRetry(cluster),
  releaseRetry: (proxy, cluster, succeeded) => clusterManagerOf(proxy).releaseRetry(cluster, succeeded),
};

/** The proxy's one cluster manager (pools and detectors live as long as the proxy). */
export function clusterManagerOf(proxy: EnvoyProxy, send?: UpstreamSend): ClusterManager {
  return managers.get(proxy) ?? new ClusterManager(proxy, send);
}
