/**
 * Envoy's cluster manager in the embedded cluster (envoy/upstream*.ts): cluster and host lookup,
 * circuit breakers under real concurrency, outlier detection on the proxy's clock, load-balancer
 * distributions, the connection's TLS, and the local replies and stats learners read (DATAPLANE.md §2, §7).
 * The upstream is a fake send function whose answers the tests release by hand.
 */
import { describe, expect, it } from 'vitest';
import { NetworkError, type ContainerContext, type HttpRequest, type HttpResponse, type RequestOptions, type RequestTarget } from '../../server/sim/images/types.js';
import { EnvoyProxy } from '../../server/sim/addons/istio/envoy/proxy.js';
import { ClusterManager, type UpstreamSend } from '../../server/sim/addons/istio/envoy/upstream.js';
import { prometheusText, statsText } from '../../server/sim/addons/istio/envoy/upstream-stats.js';
import type { Cluster, LbEndpoint, OutlierDetection, ProxyConfig } from '../../server/sim/addons/istio/xds/types.js';

const HTTPBIN = 'outbound|8000||httpbin.default.svc.cluster.local';
const MAX = 4294967295;
const UNLIMITED = { maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX, maxRequestsPerConnection: 0 };

/** A small deterministic PRNG (mulberry32), so distributions are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ep = (address: string, extra: Partial<LbEndpoint> = {}): LbEndpoint => ({
  address,
  port: 8080,
  health: 'HEALTHY',
  tlsMode: 'istio',
  pod: { namespace: 'default', name: `httpbin-${address}`, labels: { app: 'httpbin' }, serviceAccount: 'httpbin' },
  ...extra,
});

function cluster(extra: Partial<Cluster> = {}): Cluster {
  return {
    name: HTTPBIN,
    direction: 'outbound',
    type: 'EDS',
    service: { hostname: 'httpbin.default.svc.cluster.local', port: 8000 },
    lbPolicy: 'LEAST_REQUEST',
    circuitBreakers: { ...UNLIMITED },
    connectTimeoutMs: 10000,
    sni: 'outbound_.8000_._.httpbin.default.svc.cluster.local',
    ...extra,
  };
}

function setup(opts: { clusters?: Cluster[]; endpoints?: LbEndpoint[]; seed?: number; proxyConfig?: string } = {}) {
  let nowMs = Date.parse('2026-12-06T05:00:00Z');
  const ctx = {
    podName: 'fortio-deploy-1',
    namespace: 'default',
    podIP: '10.244.1.9',
    nodeName: 'node-1',
    hostname: 'fortio-deploy-1',
    containerName: 'istio-proxy',
    image: 'docker.io/istio/proxyv2:1.30.3',
    env: (opts.proxyConfig ? { PROXY_CONFIG: opts.proxyConfig } : {}) as Record<string, string>,
    labels: {},
    log: () => {},
    net: { request: () => Promise.reject(new Error('use the fake send')), resolve: () => null },
    now: () => new Date(nowMs),
    random: seeded(opts.seed ?? 7),
  } satisfies ContainerContext;
  const proxy = new EnvoyProxy({ id: 'fortio-deploy-1.default', podName: 'fortio-deploy-1', namespace: 'default', podIP: '10.244.1.9', type: 'sidecar', labels: {}, serviceAccount: 'fortio' }, ctx);
  const clusters = opts.clusters ?? [cluster()];
  const config: ProxyConfig = {
    version: '1',
    proxy: proxy.identity,
    listeners: [],
    routes: [],
    clusters,
    endpoints: clusters.map((c) => ({ cluster: c.name, endpoints: opts.endpoints ?? [ep('10.244.2.30')] })),
  };
  proxy.apply(config);
  const upstream = new FakeUpstream();
  const cm = new ClusterManager(proxy, upstream.send);
  const stat = (name: string) => proxy.stats.counters.get(`cluster.${HTTPBIN};.${name}`) ?? 0;
  return { proxy, cm, upstream, stat, advance: (ms: number) => (nowMs += ms) };
}

interface Call {
  target: RequestTarget;
  req: HttpRequest;
  opts: RequestOptions;
  answer(status?: number): void;
  fail(code: NetworkError['code']): void;
}

/** An upstream whose calls wait until the test answers them, or answer at once by a rule. */
class FakeUpstream {
  readonly calls: Call[] = [];
  /** When set, calls answer at once with this status per host (`ip`); otherwise they wait. */
  auto?: (host: string) => number | NetworkError['code'];
  readonly send: UpstreamSend = (target, req, opts) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const call: Call = {
        target,
        req,
        opts,
        answer: (status = 200) => resolve({ status, headers: { 'content-length': '2' }, body: Buffer.from('ok') }),
        fail: (code) => reject(new NetworkError(code, target.host, target.port)),
      };
      this.calls.push(call);
      const rule = this.auto?.(target.host);
      if (typeof rule === 'number') call.answer(rule);
      else if (rule) call.fail(rule);
    });
  waiting(): Call[] {
    return this.calls.filter((c) => !(c as Call & { done?: boolean }).done);
  }
}

const get = (path = '/get'): HttpRequest => ({ method: 'GET', path, headers: { host: 'httpbin:8000' }, body: Buffer.alloc(0) });
/** Lets queued microtasks (connection handshakes) run. */
const settle = async () => {
  for (let i = 0; i < 60; i++) await Promise.resolve();
};

describe('cluster and host lookup', () => {
  it('an unknown cluster is 503 NC cluster_not_found with an empty body', async () => {
    const { cm } = setup();
    const r = await cm.attempt({ cluster: 'outbound|9080|v9|reviews.default.svc.cluster.local', req: get() });
    expect(r).toMatchObject({ flags: ['NC'], details: 'cluster_not_found', fromUpstream: false });
    expect(r.response.status).toBe(503);
    expect(r.response.body.length).toBe(0);
    expect(r.upstreamHost).toBeUndefined();
  });

  it('a cluster without endpoints is 503 UH no_healthy_upstream, body "no healthy upstream" (19 bytes)', async () => {
    const { cm, stat } = setup({ endpoints: [] });
    const r = await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(r).toMatchObject({ flags: ['UH'], details: 'no_healthy_upstream' });
    expect(r.response.status).toBe(503);
    expect(r.response.body.toString()).toBe('no healthy upstream');
    expect(r.response.headers['content-length']).toBe('19');
    expect(r.response.headers['content-type']).toBe('text/plain');
    expect(stat('upstream_cx_none_healthy')).toBe(1);
  });

  it('unhealthy EDS hosts: UH with outlier detection (Istio sets panic 0), Envoy\'s 50% panic routes to them otherwise', async () => {
    const od: OutlierDetection = { consecutive5xx: 5, intervalMs: 10000, baseEjectionTimeMs: 30000, maxEjectionPercent: 100 };
    const withOd = setup({ clusters: [cluster({ outlierDetection: od })], endpoints: [ep('10.244.2.30', { health: 'UNHEALTHY' })] });
    expect((await withOd.cm.attempt({ cluster: HTTPBIN, req: get() })).flags).toEqual(['UH']);
    const plain = setup({ endpoints: [ep('10.244.2.30', { health: 'UNHEALTHY' })] });
    plain.upstream.auto = () => 200;
    const r = await plain.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(r.response.status).toBe(200);
    expect(plain.stat('lb_healthy_panic')).toBe(1);
  });

  it('an answer comes back via_upstream with the host, the local address and the service time', async () => {
    const { cm, upstream, stat } = setup();
    upstream.auto = () => 200;
    const r = await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(r).toMatchObject({ flags: [], details: 'via_upstream', fromUpstream: true, upstreamHost: '10.244.2.30:8080' });
    expect(r.upstreamLocalAddress).toMatch(/^10\.244\.1\.9:(\d+)$/);
    const port = Number(r.upstreamLocalAddress!.split(':')[1]);
    expect(port).toBeGreaterThanOrEqual(32768);
    expect(port).toBeLessThanOrEqual(60999);
    expect(upstream.calls[0]!.target).toEqual({ host: '10.244.2.30', port: 8080 });
    // Keep-alive: the next request reuses the connection and its source port.
    const again = await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(again.upstreamLocalAddress).toBe(r.upstreamLocalAddress);
    expect(stat('upstream_cx_total')).toBe(1);
    expect(stat('upstream_rq_total')).toBe(2);
    expect(stat('upstream_rq_200')).toBe(2);
    expect(stat('upstream_rq_2xx')).toBe(2);
  });

  it('an answer with `connection: close` ends its connection: the next request opens another', async () => {
    const { cm, upstream, stat } = setup();
    const closing: UpstreamSend = (target, req, opts) => upstream.send(target, req, opts).then((r) => ({ ...r, headers: { ...r.headers, connection: 'close' } }));
    upstream.auto = () => 200;
    const first = await cm.attempt({ cluster: HTTPBIN, req: get() }, closing);
    const second = await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(first.response.status).toBe(200);
    expect(second.upstreamLocalAddress).not.toBe(first.upstreamLocalAddress);
    expect(stat('upstream_cx_total')).toBe(2);
    expect(stat('upstream_cx_destroy_remote')).toBe(1);
    expect(stat('upstream_cx_destroy_remote_with_active_rq')).toBe(0);
  });
});

describe('EDS and CDS updates', () => {
  it('a host that leaves EDS has its idle connections closed; a cluster that leaves CDS is NC', async () => {
    const { cm, upstream, stat, proxy } = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN' })], endpoints: [ep('10.244.2.30'), ep('10.244.2.31')] });
    upstream.auto = () => 200;
    await cm.attempt({ cluster: HTTPBIN, req: get() });
    await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(stat('upstream_cx_total')).toBe(2);
    proxy.apply({ ...proxy.config!, endpoints: [{ cluster: HTTPBIN, endpoints: [ep('10.244.2.31')] }] });
    await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(stat('upstream_cx_destroy_local')).toBe(1);
    expect(proxy.stats.gauges.get(`cluster.${HTTPBIN};.upstream_cx_active`)).toBe(1);
    expect(cm.clustersText()).not.toContain('10.244.2.30');
    proxy.apply({ ...proxy.config!, clusters: [], endpoints: [] });
    expect((await cm.attempt({ cluster: HTTPBIN, req: get() })).flags).toEqual(['NC']);
  });
});

describe('the connection and its TLS', () => {
  it('auto mTLS: ISTIO_MUTUAL with the cluster SNI and the proxy\'s SPIFFE id to sidecar endpoints, plain text to others', async () => {
    const { cm, upstream } = setup({ endpoints: [ep('10.244.2.30'), ep('10.244.2.31', { tlsMode: undefined })], clusters: [cluster({ lbPolicy: 'ROUND_ROBIN' })] });
    upstream.auto = () => 200;
    await cm.attempt({ cluster: HTTPBIN, req: get() });
    await cm.attempt({ cluster: HTTPBIN, req: get() });
    const byHost = new Map(upstream.calls.map((c) => [c.target.host, c.opts.transport]));
    expect(byHost.get('10.244.2.30')).toEqual({ tls: { sni: 'outbound_.8000_._.httpbin.default.svc.cluster.local', clientIdentity: 'spiffe://cluster.local/ns/default/sa/fortio' } });
    expect(byHost.get('10.244.2.31')).toEqual({});
  });

  it('DISABLE sends plain text even to a sidecar; ISTIO_MUTUAL to a server without one is 503 UC connection_termination', async () => {
    const off = setup({ clusters: [cluster({ tls: 'DISABLE' })] });
    off.upstream.auto = () => 200;
    await off.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(off.upstream.calls[0]!.opts.transport).toEqual({});

    const on = setup({ clusters: [cluster({ tls: 'ISTIO_MUTUAL' })], endpoints: [ep('10.244.2.31', { tlsMode: undefined })] });
    on.upstream.auto = () => 200;
    const r = await on.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(r).toMatchObject({ flags: ['UC'], details: 'upstream_reset_before_response_started{connection_termination}', upstreamHost: '10.244.2.31:8080' });
    expect(r.response.status).toBe(503);
    expect(r.response.body.toString()).toBe('upstream connect error or disconnect/reset before headers. reset reason: connection termination');
    expect(on.upstream.calls).toHaveLength(0);
  });

  it('connection refused is 503 UF with Envoy\'s details and body; a reset is UC', async () => {
    const { cm, upstream, stat } = setup();
    upstream.auto = () => 'ECONNREFUSED';
    const r = await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(r).toMatchObject({ flags: ['UF'], details: 'upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}', transportFailureReason: 'delayed_connect_error:_Connection_refused', failure: 'connect-failure', upstreamHost: '10.244.2.30:8080' });
    expect(r.upstreamLocalAddress).toBeUndefined();
    expect(r.response.body.toString()).toBe('upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused');
    expect(stat('upstream_cx_connect_fail')).toBe(1);
    expect(stat('upstream_rq_total')).toBe(0);
    expect(stat('upstream_rq_503')).toBe(1);

    upstream.auto = () => 'ECONNRESET';
    const reset = await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(reset).toMatchObject({ flags: ['UC'], failure: 'reset' });
    // A wire that throws (a bug elsewhere) is a reset too, not an exception out of the proxy.
    const thrown = await cm.attempt({ cluster: HTTPBIN, req: get() }, () => {
      throw new Error('boom');
    });
    expect(thrown).toMatchObject({ flags: ['UC'], failure: 'reset' });
  });

  it('an attempt past its deadline is 504 UT, and the connection it held is closed', async () => {
    const { cm, upstream, stat } = setup();
    const r = await cm.attempt({ cluster: HTTPBIN, req: get(), timeoutMs: 20 });
    expect(r).toMatchObject({ flags: ['UT'], details: 'response_timeout', failure: 'timeout' });
    expect(r.response.status).toBe(504);
    expect(r.response.body.toString()).toBe('upstream request timeout');
    expect(stat('upstream_rq_timeout')).toBe(1);
    expect(stat('upstream_cx_destroy_local_with_active_rq')).toBe(1);
    // The late answer changes nothing.
    upstream.calls[0]!.answer(200);
    await settle();
    expect(stat('upstream_rq_200')).toBe(0);
  });
});

describe('circuit breakers under concurrency', () => {
  const istioTask = { maxConnections: 1, maxPendingRequests: 1, maxRequests: MAX, maxRetries: MAX, maxRequestsPerConnection: 1 };

  it('while the first connection is still connecting, its request is the one pending: the rest overflow', async () => {
    const { cm, upstream, stat } = setup({ clusters: [cluster({ circuitBreakers: istioTask })] });
    const attempts = Array.from({ length: 3 }, () => cm.attempt({ cluster: HTTPBIN, req: get() }));
    await settle();
    expect(upstream.calls).toHaveLength(1);
    expect(stat('upstream_rq_pending_total')).toBe(1);
    expect(stat('upstream_rq_pending_overflow')).toBe(2);
    upstream.calls[0]!.answer(200);
    expect((await Promise.all(attempts)).map((r) => r.response.status)).toEqual([200, 503, 503]);
  });

  it('the circuit-breaking task\'s limits: one in flight, one queued, the rest overflow with 503 UO', async () => {
    const { cm, upstream, stat, proxy } = setup({ clusters: [cluster({ circuitBreakers: istioTask })] });
    const first = cm.attempt({ cluster: HTTPBIN, req: get() });
    await settle();
    expect(upstream.calls).toHaveLength(1);
    const attempts = [first, ...Array.from({ length: 5 }, () => cm.attempt({ cluster: HTTPBIN, req: get() }))];
    await settle();
    // One request on the wire; of the other five one is pending and four overflowed.
    expect(upstream.calls).toHaveLength(1);
    expect(stat('upstream_rq_pending_overflow')).toBe(4);
    expect(stat('upstream_rq_pending_total')).toBe(2);
    expect(stat('upstream_cx_overflow')).toBe(1);
    expect(proxy.stats.snapshot().get(`cluster.${HTTPBIN};.upstream_rq_pending_active`)).toBeUndefined(); // not included by default
    // The live gauges, as the admin endpoint reads them.
    expect(proxy.stats.gauges.get(`cluster.${HTTPBIN};.upstream_rq_pending_active`)).toBe(1);
    expect(proxy.stats.gauges.get(`cluster.${HTTPBIN};.circuit_breakers.default.rq_pending_open`)).toBe(1);
    expect(proxy.stats.gauges.get(`cluster.${HTTPBIN};.upstream_cx_active`)).toBe(1);
    upstream.calls[0]!.answer(200);
    await settle();
    // maxRequestsPerConnection 1: the first connection closed, the queued request got a new one.
    expect(upstream.calls).toHaveLength(2);
    upstream.calls[1]!.answer(200);
    const results = await Promise.all(attempts);
    const codes = results.map((r) => r.response.status).sort();
    expect(codes).toEqual([200, 200, 503, 503, 503, 503]);
    const uo = results.find((r) => r.response.status === 503)!;
    expect(uo).toMatchObject({ flags: ['UO'], details: 'upstream_reset_before_response_started{overflow}' });
    expect(uo.upstreamHost).toBeUndefined();
    expect(uo.response.body.toString()).toBe('upstream connect error or disconnect/reset before headers. reset reason: overflow');
    expect(uo.response.body.length).toBe(81);
    expect(uo.response.headers['x-envoy-overloaded']).toBe('true');
    expect(stat('upstream_cx_total')).toBe(2);
    expect(stat('upstream_cx_max_requests')).toBe(2);
    expect(stat('upstream_rq_503')).toBe(4);
  });

  it('many concurrent attempts against a slow upstream: overflow counts exactly what the limits leave out', async () => {
    const limits = { maxConnections: 3, maxPendingRequests: 5, maxRequests: MAX, maxRetries: MAX, maxRequestsPerConnection: 0 };
    const { cm, upstream, stat } = setup({ clusters: [cluster({ circuitBreakers: limits })] });
    const attempts = Array.from({ length: 40 }, () => cm.attempt({ cluster: HTTPBIN, req: get() }));
    await settle();
    // One host: the first request opens a connection; 3 connections max, 5 may queue; 40 - 3 - 5 overflow… but
    // connections only open as the queue needs them, so the queue fills first.
    expect(upstream.calls.length).toBeLessThanOrEqual(3);
    expect(stat('upstream_rq_pending_overflow')).toBe(40 - 5);
    // Answer everything as it comes; the queued five go out over the kept-alive connections.
    while (upstream.calls.some((c) => !(c as any).done)) {
      for (const c of upstream.calls) if (!(c as any).done) ((c as any).done = true), c.answer(200);
      await settle();
    }
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.response.status === 200)).toHaveLength(5);
    expect(results.filter((r) => r.flags.includes('UO'))).toHaveLength(35);
    expect(stat('upstream_cx_total')).toBeLessThanOrEqual(3);
  });

  it('maxRequests (http2MaxRequests) caps active requests across connections', async () => {
    const limits = { maxConnections: MAX, maxPendingRequests: MAX, maxRequests: 2, maxRetries: MAX, maxRequestsPerConnection: 0 };
    const { cm, upstream, stat } = setup({ clusters: [cluster({ circuitBreakers: limits })] });
    const attempts = Array.from({ length: 5 }, () => cm.attempt({ cluster: HTTPBIN, req: get() }));
    await settle();
    expect(upstream.calls).toHaveLength(2);
    for (const c of upstream.calls) c.answer(200);
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.flags.includes('UO'))).toHaveLength(3);
    expect(stat('upstream_rq_pending_overflow')).toBe(3);
  });

  it('without limits, concurrent requests each get a connection that is kept for the next ones', async () => {
    const { cm, upstream, stat } = setup();
    const attempts = Array.from({ length: 20 }, () => cm.attempt({ cluster: HTTPBIN, req: get() }));
    await settle();
    expect(upstream.calls).toHaveLength(20);
    for (const c of upstream.calls) c.answer(200);
    await Promise.all(attempts);
    upstream.auto = () => 200;
    for (let i = 0; i < 20; i++) await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(stat('upstream_cx_total')).toBe(20);
    expect(stat('upstream_rq_total')).toBe(40);
  });

  it('maxRetries: the router\'s retries are refused once the budget is in use', () => {
    const limits = { ...UNLIMITED, maxRetries: 1 };
    const { cm, stat } = setup({ clusters: [cluster({ circuitBreakers: limits })] });
    expect(cm.acquireRetry(HTTPBIN)).toBe(true);
    expect(cm.acquireRetry(HTTPBIN)).toBe(false);
    expect(stat('upstream_rq_retry_overflow')).toBe(1);
    cm.releaseRetry(HTTPBIN, true);
    expect(cm.acquireRetry(HTTPBIN)).toBe(true);
    expect(stat('upstream_rq_retry')).toBe(2);
    expect(stat('upstream_rq_retry_success')).toBe(1);
  });
});

describe('outlier detection', () => {
  const od = (extra: Partial<OutlierDetection> = {}): OutlierDetection => ({ consecutive5xx: 3, intervalMs: 10000, baseEjectionTimeMs: 30000, maxEjectionPercent: 100, ...extra });
  const two = [ep('10.244.2.30'), ep('10.244.2.31')];
  const bad = (host: string) => (host === '10.244.2.30' ? 500 : 200);

  it('consecutive 5xx eject a host at once; it returns after baseEjectionTime, then after twice that', async () => {
    const { cm, upstream, stat, advance, proxy } = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN', outlierDetection: od() })], endpoints: two });
    upstream.auto = bad;
    const hostsOf = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await cm.attempt({ cluster: HTTPBIN, req: get() })).upstreamHost!);
      return out;
    };
    await hostsOf(6); // round robin: three 500s from .30
    expect(stat('outlier_detection.ejections_enforced_consecutive_5xx')).toBe(1);
    expect(stat('outlier_detection.ejections_detected_consecutive_5xx')).toBe(1);
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(true);
    expect(new Set(await hostsOf(10))).toEqual(new Set(['10.244.2.31:8080']));
    expect(cm.clustersText()).toContain(`${HTTPBIN}::10.244.2.30:8080::health_flags::/failed_outlier_check\n`);
    expect(cm.clustersText()).toContain(`${HTTPBIN}::10.244.2.31:8080::health_flags::healthy\n`);
    proxy.ctx.env.PROXY_CONFIG = JSON.stringify({ proxyStatsMatcher: { inclusionPrefixes: ['cluster.outbound'] } });
    expect(statsText(proxy)).toContain(`cluster.${HTTPBIN};.outlier_detection.ejections_active: 1\n`);

    advance(29_999);
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(true);
    advance(1); // the interval tick at 30 s
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(false);
    expect(proxy.stats.gauges.get(`cluster.${HTTPBIN};.outlier_detection.ejections_active`)).toBe(0);
    expect((await hostsOf(4)).filter((h) => h === '10.244.2.30:8080').length).toBeGreaterThan(0);
    // Three more failures: ejected again, now for 2 × 30 s.
    await hostsOf(4);
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(true);
    advance(50_000);
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(true);
    advance(10_000);
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(false);
    expect(stat('outlier_detection.ejections_enforced_total')).toBe(2);
  });

  it('a 1 ms interval over days of quiet costs no more than the ticks that matter', async () => {
    const { cm, upstream, advance } = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN', outlierDetection: od({ intervalMs: 1, baseEjectionTimeMs: 36_000_000 }) })], endpoints: two });
    upstream.auto = bad;
    for (let i = 0; i < 6; i++) await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(true);
    advance(35_999_999);
    const t0 = performance.now();
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(true);
    advance(1);
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(false);
    advance(5 * 36_000_000);
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(false);
    // Tens of millions of 1 ms ticks, walked one by one, would take seconds.
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('maxEjectionPercent (Envoy\'s 10% default) stops ejections of a small pool: ejections_overflow', async () => {
    const { cm, upstream, stat } = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN', outlierDetection: od({ maxEjectionPercent: 10 }) })], endpoints: two });
    upstream.auto = bad;
    for (let i = 0; i < 6; i++) await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(false);
    expect(stat('outlier_detection.ejections_overflow')).toBe(1);
  });

  it('gateway errors only eject when consecutiveGatewayErrors is set', async () => {
    const gw = setup({ clusters: [cluster({ outlierDetection: od({ consecutive5xx: 0, consecutiveGatewayErrors: 2 }) })], endpoints: two });
    gw.upstream.auto = () => 502;
    await gw.cm.attempt({ cluster: HTTPBIN, req: get(), avoidHosts: [] });
    for (let i = 0; i < 4; i++) await gw.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(gw.stat('outlier_detection.ejections_enforced_consecutive_gateway_failure')).toBeGreaterThanOrEqual(1);
    const fiveOnly = setup({ clusters: [cluster({ outlierDetection: od({ consecutive5xx: 0 }) })], endpoints: two });
    fiveOnly.upstream.auto = () => 502;
    for (let i = 0; i < 12; i++) await fiveOnly.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(fiveOnly.stat('outlier_detection.ejections_enforced_total')).toBe(0);
  });

  it('with every host ejected: no healthy upstream, unless minHealthPercent puts the pool in panic', async () => {
    const all = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN', outlierDetection: od({ consecutive5xx: 1 }) })], endpoints: two });
    all.upstream.auto = () => 500;
    await all.cm.attempt({ cluster: HTTPBIN, req: get() });
    await all.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect((await all.cm.attempt({ cluster: HTTPBIN, req: get() })).flags).toEqual(['UH']);

    const panic = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN', outlierDetection: od({ consecutive5xx: 1, minHealthPercent: 50 }) })], endpoints: two });
    panic.upstream.auto = () => 500;
    await panic.cm.attempt({ cluster: HTTPBIN, req: get() });
    await panic.cm.attempt({ cluster: HTTPBIN, req: get() });
    const r = await panic.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(r.response.status).toBe(500);
    expect(panic.stat('lb_healthy_panic')).toBeGreaterThanOrEqual(1);
  });

  it('a refused connection counts as a 5xx for the detector', async () => {
    const { cm, upstream } = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN', outlierDetection: od() })], endpoints: two });
    upstream.auto = (h) => (h === '10.244.2.30' ? 'ECONNREFUSED' : 200);
    for (let i = 0; i < 6; i++) await cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(cm.isEjected(HTTPBIN, '10.244.2.30:8080')).toBe(true);
  });
});

describe('load balancing', () => {
  const three = [ep('10.244.2.30'), ep('10.244.2.31'), ep('10.244.2.32')];
  const counts = async (cm: ClusterManager, n: number, avoidHosts?: string[]) => {
    const c = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const h = (await cm.attempt({ cluster: HTTPBIN, req: get(), ...(avoidHosts ? { avoidHosts } : {}) })).upstreamHost!;
      c.set(h, (c.get(h) ?? 0) + 1);
    }
    return c;
  };

  it('ROUND_ROBIN takes the hosts in turn', async () => {
    const { cm, upstream } = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN' })], endpoints: three });
    upstream.auto = () => 200;
    expect([...(await counts(cm, 300)).values()]).toEqual([100, 100, 100]);
  });

  it('RANDOM and sequential LEAST_REQUEST spread within binomial bounds (n=3000, p=1/3, ±5σ)', async () => {
    for (const lbPolicy of ['RANDOM', 'LEAST_REQUEST'] as const) {
      const { cm, upstream } = setup({ clusters: [cluster({ lbPolicy })], endpoints: three, seed: 42 });
      upstream.auto = () => 200;
      const c = await counts(cm, 3000);
      expect(c.size).toBe(3);
      // σ = sqrt(3000 · 1/3 · 2/3) ≈ 25.8
      for (const v of c.values()) expect(Math.abs(v - 1000)).toBeLessThan(130);
    }
  });

  it('LEAST_REQUEST (two choices) steers away from a busy host: chosen only when both samples hit it (1/9)', async () => {
    const run = async (lbPolicy: 'LEAST_REQUEST' | 'RANDOM') => {
      const { cm, upstream, proxy } = setup({ clusters: [cluster({ lbPolicy })], endpoints: [three[0]!], seed: 5 });
      // Ten requests held on .30, then EDS adds two idle hosts.
      const held = Array.from({ length: 10 }, () => cm.attempt({ cluster: HTTPBIN, req: get() }));
      await settle();
      proxy.apply({ ...proxy.config!, endpoints: [{ cluster: HTTPBIN, endpoints: three }] });
      upstream.auto = () => 200;
      const c = await counts(cm, 900);
      for (const call of upstream.calls.slice(0, 10)) call.answer(200);
      await Promise.all(held);
      return c.get('10.244.2.30:8080') ?? 0;
    };
    // 900 · 1/9 = 100, σ ≈ 9.4: ±5σ.
    expect(Math.abs((await run('LEAST_REQUEST')) - 100)).toBeLessThan(47);
    // RANDOM ignores load: 300, σ ≈ 14.1.
    expect(Math.abs((await run('RANDOM')) - 300)).toBeLessThan(71);
  });

  it('retries avoid the previous hosts (up to 5 re-picks)', async () => {
    const rr = setup({ clusters: [cluster({ lbPolicy: 'ROUND_ROBIN' })], endpoints: three });
    rr.upstream.auto = () => 200;
    const c = await counts(rr.cm, 60, ['10.244.2.30:8080']);
    expect(c.get('10.244.2.30:8080')).toBeUndefined();
    const rnd = setup({ clusters: [cluster({ lbPolicy: 'RANDOM' })], endpoints: three, seed: 11 });
    rnd.upstream.auto = () => 200;
    // P(avoided host still chosen) = (1/3)^6 per attempt: 600 attempts expect 0.8; allow a few.
    expect((await counts(rnd.cm, 600, ['10.244.2.30:8080'])).get('10.244.2.30:8080') ?? 0).toBeLessThanOrEqual(5);
  });
});

describe('stats', () => {
  const fortioConfig = JSON.stringify({ proxyStatsMatcher: { inclusionPrefixes: ['cluster.outbound', 'cluster_manager', 'listener_manager', 'server', 'cluster.xds-grpc'] } });

  it('cluster stats appear only when proxyStatsMatcher includes them (Istio\'s default inclusion list hides them)', async () => {
    const hidden = setup();
    hidden.upstream.auto = () => 200;
    await hidden.cm.attempt({ cluster: HTTPBIN, req: get() });
    expect(statsText(hidden.proxy)).not.toContain('cluster.outbound');
    expect(prometheusText(hidden.proxy, 15090)).not.toContain('envoy_cluster_');

    const shown = setup({ proxyConfig: fortioConfig, clusters: [cluster({ circuitBreakers: { maxConnections: 1, maxPendingRequests: 1, maxRequests: MAX, maxRetries: MAX, maxRequestsPerConnection: 1 } })] });
    const first = shown.cm.attempt({ cluster: HTTPBIN, req: get() });
    await settle();
    const attempts = [first, ...Array.from({ length: 3 }, () => shown.cm.attempt({ cluster: HTTPBIN, req: get() }))];
    await settle();
    shown.upstream.calls[0]!.answer(200);
    await settle();
    shown.upstream.calls[1]!.answer(200);
    await Promise.all(attempts);
    const text = statsText(shown.proxy);
    const pending = text.split('\n').filter((l) => l.includes('httpbin') && l.includes('pending'));
    expect(pending).toEqual([
      `cluster.${HTTPBIN};.circuit_breakers.default.remaining_pending: 1`,
      `cluster.${HTTPBIN};.circuit_breakers.default.rq_pending_open: 0`,
      `cluster.${HTTPBIN};.circuit_breakers.high.rq_pending_open: 0`,
      `cluster.${HTTPBIN};.upstream_rq_pending_active: 0`,
      `cluster.${HTTPBIN};.upstream_rq_pending_failure_eject: 0`,
      `cluster.${HTTPBIN};.upstream_rq_pending_overflow: 2`,
      `cluster.${HTTPBIN};.upstream_rq_pending_total: 2`,
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual([...lines].sort());
    const prom = prometheusText(shown.proxy, 15090);
    expect(prom).toContain(`# TYPE envoy_cluster_upstream_rq_pending_overflow counter\nenvoy_cluster_upstream_rq_pending_overflow{cluster_name="${HTTPBIN}"} 2\n`);
    expect(prom).toContain(`envoy_cluster_upstream_rq{response_code="503",cluster_name="${HTTPBIN}"} 2\n`);
    expect(prom).toContain(`envoy_cluster_upstream_rq{response_code_class="2xx",cluster_name="${HTTPBIN}"} 2\n`);
    expect(prom).toContain('envoy_server_live{} 1\n');
  });

  it('Istio\'s standard metrics: istio_requests_total and the histograms, on 15090 and merged on 15020', () => {
    const { proxy } = setup();
    const labels = {
      reporter: 'source',
      source_workload: 'fortio-deploy',
      source_workload_namespace: 'default',
      destination_service: 'httpbin.default.svc.cluster.local',
      response_code: '200',
      response_flags: '-',
      connection_security_policy: 'unknown',
    };
    proxy.stats.recordRequest(labels, 3, 0, 520);
    proxy.stats.recordRequest(labels, 7, 0, 520);
    proxy.stats.recordRequest({ ...labels, response_code: '503', response_flags: 'UO' }, 0, 0, 81);
    const prom = prometheusText(proxy, 15090);
    const tags = 'reporter="source",source_workload="fortio-deploy",source_workload_namespace="default",destination_service="httpbin.default.svc.cluster.local",response_code="200",response_flags="-",connection_security_policy="unknown"';
    expect(prom).toContain(`# TYPE istio_requests_total counter\nistio_requests_total{${tags}} 2\n`);
    expect(prom).toContain(`istio_request_duration_milliseconds_bucket{${tags},le="5"} 1\n`);
    expect(prom).toContain(`istio_request_duration_milliseconds_bucket{${tags},le="10"} 2\n`);
    expect(prom).toContain(`istio_request_duration_milliseconds_bucket{${tags},le="+Inf"} 2\n`);
    expect(prom).toContain(`istio_request_duration_milliseconds_sum{${tags}} 10\n`);
    expect(prom).toContain(`istio_response_bytes_bucket{${tags},le="1000"} 2\n`);
    expect(prom).toContain('response_flags="UO"');
    const merged = prometheusText(proxy, 15020);
    expect(merged.startsWith('# TYPE istio_agent_startup_complete gauge\n')).toBe(true);
    expect(merged).toContain(`istio_requests_total{${tags}} 2\n`);
  });
});
