/**
 * Envoy's HTTP path with hand-built ProxyConfigs: virtual host and route selection, route
 * actions (weights, rewrites, redirects, direct responses, header operations, faults, timeouts,
 * retries, mirroring), the headers Istio's proxies add, the access log line and the metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttp, type Downstream } from '../../server/sim/addons/istio/envoy/hcm.js';
import { basicClusterManager, setClusterManager } from '../../server/sim/addons/istio/envoy/router-upstream.js';
import { backoffMs } from '../../server/sim/addons/istio/envoy/router.js';
import { clusterStatPrefix, envoyClusterManager } from '../../server/sim/addons/istio/envoy/upstream.js';
import type { Route, RouteConfiguration } from '../../server/sim/addons/istio/xds/types.js';
import { cluster, endpoint, get, makeProxy, reply, seeded, toCluster, vhost, type Fixture } from '../helpers/istio-envoy.js';

const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';
const V1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const V2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';
const V3 = 'outbound|9080|v3|reviews.default.svc.cluster.local';
const DOMAINS = ['reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local:9080', 'reviews', 'reviews:9080', 'reviews.default', 'reviews.default:9080', '10.96.0.50', '10.96.0.50:9080'];
const down: Downstream = { remoteAddress: '10.244.0.10:45678', localAddress: '10.96.0.50:9080' };

function reviewsProxy(routes: Route[], more: Partial<Parameters<typeof makeProxy>[0]> = {}): Fixture {
  const rc: RouteConfiguration = { name: '9080', virtualHosts: [vhost('reviews.default.svc.cluster.local:9080', DOMAINS, routes), vhost('allow_any', ['*'], [{ name: 'allow_any', match: {}, route: { clusters: [{ cluster: 'PassthroughCluster', weight: 1 }], timeoutMs: 0 } }])] };
  const f = makeProxy({
    routes: [rc],
    clusters: [cluster(REVIEWS), cluster(V1), cluster(V2), cluster(V3), cluster('outbound|9080||ratings.default.svc.cluster.local')],
    endpoints: [
      { cluster: REVIEWS, endpoints: [endpoint('10.244.1.1', 9080, 'reviews', 'v1')] },
      { cluster: V1, endpoints: [endpoint('10.244.1.1', 9080, 'reviews', 'v1')] },
      { cluster: V2, endpoints: [endpoint('10.244.1.2', 9080, 'reviews', 'v2')] },
      { cluster: V3, endpoints: [endpoint('10.244.1.3', 9080, 'reviews', 'v3')] },
      { cluster: 'outbound|9080||ratings.default.svc.cluster.local', endpoints: [endpoint('10.244.2.1', 9080, 'ratings', 'v1')] },
    ],
    ...more,
  });
  f.upstreams.set('*', (req, t) => reply(200, `${t.host} ${req.path}`, { 'content-type': 'text/plain', server: 'Werkzeug' }));
  return f;
}

const serve = (f: Fixture, req = get('/reviews/0', 'reviews:9080'), d: Downstream = down) => serveHttp(f.proxy, f.proxy.config!.listeners[0]!, req, d, { wire: f.wire });
const bodyOf = (r: { body: Buffer }) => r.body.toString();

afterEach(() => setClusterManager(basicClusterManager));

describe('virtual host selection (Envoy domain search order)', () => {
  const rc = (): RouteConfiguration => ({
    name: '80',
    virtualHosts: [
      vhost('any', ['*'], [{ name: 'any', ...toCluster('c-any') }]),
      vhost('prefix', ['api.*'], [{ name: 'prefix', ...toCluster('c-prefix') }]),
      vhost('suffix-short', ['*.com'], [{ name: 'suffix-short', ...toCluster('c-suffix-short') }]),
      vhost('suffix-long', ['*.example.com'], [{ name: 'suffix-long', ...toCluster('c-suffix-long') }]),
      vhost('exact', ['www.example.com', 'www.example.com:80'], [{ name: 'exact', ...toCluster('c-exact') }]),
    ],
  });
  const cases: [string, string][] = [
    ['www.example.com', 'exact'],
    ['WWW.Example.COM:80', 'exact'],
    ['foo.example.com', 'suffix-long'],
    ['foo.other.com', 'suffix-short'],
    ['api.internal', 'prefix'],
    ['api.example.com', 'suffix-long'],
    ['example.org', 'any'],
    // Envoy matches the authority with its port: `*.com` does not end `:8080`.
    ['www.example.com:8080', 'any'],
  ];
  for (const [host, want] of cases) {
    it(`${host} → ${want}`, async () => {
      const f = makeProxy({ routes: [rc()], listeners: [{ name: '0.0.0.0_80', address: '0.0.0.0', port: 80, direction: 'outbound', filterChains: [{ match: {}, http: { routeConfigName: '80' } }] }] });
      const res = await serveHttp(f.proxy, f.proxy.config!.listeners[0]!, get('/', host), { remoteAddress: '10.244.0.10:40000', localAddress: '10.96.0.9:80' }, { wire: f.wire });
      // The cluster does not exist: 503 NC, but the access log names the route that was chosen.
      expect(res.status).toBe(503);
      expect(f.logs[0]).toMatch(new RegExp(` ${want}$`));
      expect(f.logs[0]).toContain(` NC cluster_not_found `);
    });
  }

  it('no virtual host for the authority: 404 NR route_not_found, empty body', async () => {
    const f = makeProxy({ routes: [{ name: '9080', virtualHosts: [vhost('x', ['reviews'], [toCluster(REVIEWS)])] }] });
    const res = await serve(f, get('/', 'ratings:9080'));
    expect(res.status).toBe(404);
    expect(res.headers['content-length']).toBe('0');
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.headers.server).toBe('envoy');
    expect(f.logs[0]).toMatch(/"GET \/ HTTP\/1.1" 404 NR route_not_found - "-" 0 0 \d+ - "-" "curl\/8.16.0" "[0-9a-f-]{36}" "ratings:9080" "-" - - 10.96.0.50:9080 10.244.0.10:45678 - -$/);
    expect(f.sent).toHaveLength(0);
  });

  it('ignore_port_in_host_matching: the domain without a port serves any port', async () => {
    const f = makeProxy({ routes: [{ name: '9080', ignorePortInHostMatching: true, virtualHosts: [vhost('reviews', ['reviews'], [{ name: 'r', ...toCluster('c') }])] }] });
    await serve(f, get('/', 'Reviews:9080'));
    expect(f.logs[0]).toMatch(/ r$/);
  });

  it('an unknown route config name is no route as well', async () => {
    const f = makeProxy({ routes: [] });
    expect((await serve(f)).status).toBe(404);
  });
});

describe('route match', () => {
  const routes: Route[] = [
    { name: 'exact', match: { path: { exact: '/exact' } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } },
    { name: 'ci', match: { path: { prefix: '/CASE' }, caseInsensitive: true }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } },
    { name: 'regex', match: { path: { regex: '/r/[0-9]+' } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } },
    { name: 'jason', match: { path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, route: { clusters: [{ cluster: V2, weight: 1 }], timeoutMs: 0 } },
    { name: 'post', match: { headers: [{ name: ':method', match: { exact: 'POST' } }] }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } },
    { name: 'authority', match: { headers: [{ name: ':authority', match: { regex: 'reviews\\.default(:9080)?' } }] }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } },
    { name: 'present', match: { headers: [{ name: 'x-canary', present: true }] }, route: { clusters: [{ cluster: V3, weight: 1 }], timeoutMs: 0 } },
    { name: 'without', match: { path: { prefix: '/without' }, headers: [{ name: 'x-team', match: { exact: 'a' }, invert: true }] }, route: { clusters: [{ cluster: V3, weight: 1 }], timeoutMs: 0 } },
    { name: 'query', match: { queryParams: [{ name: 'u', match: { exact: 'test' } }] }, route: { clusters: [{ cluster: V3, weight: 1 }], timeoutMs: 0 } },
    { name: 'query-present', match: { queryParams: [{ name: 'debug', present: true }] }, route: { clusters: [{ cluster: V3, weight: 1 }], timeoutMs: 0 } },
    { name: 'default', match: { path: { prefix: '/' } }, route: { clusters: [{ cluster: REVIEWS, weight: 1 }], timeoutMs: 0 } },
  ];
  const cases: [string, Parameters<typeof get>, string, string?][] = [
    ['exact path, query ignored', ['/exact?x=1', 'reviews'], 'exact'],
    ['exact path is not a prefix', ['/exact/more', 'reviews'], 'default'],
    ['case-insensitive prefix', ['/case/x', 'reviews'], 'ci'],
    ['regex matches the whole path', ['/r/42', 'reviews'], 'regex'],
    ['regex does not match a longer path', ['/r/42/x', 'reviews'], 'default'],
    ['header exact', ['/', 'reviews', { 'end-user': 'jason' }], 'jason'],
    ['header exact is case-sensitive', ['/', 'reviews', { 'end-user': 'Jason' }], 'default'],
    [':authority regex', ['/', 'reviews.default:9080'], 'authority'],
    ['present', ['/', 'reviews', { 'x-canary': '' }], 'present'],
    ['inverted header matches another value', ['/without', 'reviews', { 'x-team': 'b' }], 'without'],
    ['inverted header does not match its value', ['/without', 'reviews', { 'x-team': 'a' }], 'default'],
    ['inverted header: a missing header does not match (Envoy)', ['/without', 'reviews'], 'default'],
    ['query param exact', ['/?u=test', 'reviews'], 'query'],
    ['query param other value', ['/?u=normal', 'reviews'], 'default'],
    ['query param present', ['/p?a=1&debug', 'reviews'], 'query-present'],
  ];
  for (const [what, args, want] of cases) {
    it(what, async () => {
      const f = reviewsProxy(routes);
      await serve(f, get(...args));
      expect(f.logs[0]).toMatch(new RegExp(` ${want}$`));
    });
  }

  it(':method matches the request method', async () => {
    const f = reviewsProxy(routes);
    await serve(f, { ...get('/', 'reviews'), method: 'POST' });
    expect(f.logs[0]).toMatch(/ post$/);
  });

  it('a hostile regex runs in linear time', async () => {
    const f = reviewsProxy([{ name: 'evil', match: { path: { regex: '(a+)+$' } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } }, toCluster(REVIEWS, { name: 'default' })]);
    const t = Date.now();
    await serve(f, get('/' + 'a'.repeat(5000) + '!', 'reviews'));
    expect(Date.now() - t).toBeLessThan(2000);
    expect(f.logs[0]).toMatch(/ default$/);
  });
});

describe('weighted clusters', () => {
  it('splits by weight per request (binomial bounds)', async () => {
    const f = reviewsProxy([{ name: 'split', match: {}, route: { clusters: [{ cluster: V1, weight: 80 }, { cluster: V3, weight: 20 }], timeoutMs: 0 } }], { random: seeded(42) });
    const n = 2000;
    for (let i = 0; i < n; i++) await serve(f);
    const v3 = f.sent.filter((s) => s.target.host === '10.244.1.3').length;
    const sd = Math.sqrt(n * 0.2 * 0.8);
    expect(f.sent).toHaveLength(n);
    expect(Math.abs(v3 - n * 0.2)).toBeLessThan(4.5 * sd);
  });

  it('a zero weight never receives traffic', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 0 }, { cluster: V3, weight: 100 }], timeoutMs: 0 } }]);
    for (let i = 0; i < 200; i++) await serve(f);
    expect(f.sent.every((s) => s.target.host === '10.244.1.3')).toBe(true);
  });
});

describe('rewrite, redirect, direct response, header operations', () => {
  it('prefix rewrite keeps the query; x-envoy-original-path upstream; the log shows the original path', async () => {
    const f = reviewsProxy([{ name: 'rw', match: { path: { prefix: '/v1/reviews' } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, prefixRewrite: '/reviews' } }]);
    const res = await serve(f, get('/v1/reviews/0?x=1', 'reviews'));
    expect(bodyOf(res)).toBe('10.244.1.1 /reviews/0?x=1');
    expect(f.sent[0]!.req.headers['x-envoy-original-path']).toBe('/v1/reviews/0?x=1');
    expect(f.logs[0]).toContain('"GET /v1/reviews/0?x=1 HTTP/1.1" 200');
  });

  it('regex rewrite substitutes groups; host rewrite sets the authority', async () => {
    const f = reviewsProxy([{ match: { path: { prefix: '/' } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, regexRewrite: { pattern: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' }, hostRewrite: 'backend.internal' } }]);
    await serve(f, get('/service/foo/v1/api', 'reviews'));
    expect(f.sent[0]!.req.path).toBe('/v1/api/instance/foo');
    expect(f.sent[0]!.req.headers.host).toBe('backend.internal');
  });

  it('redirect: 301 with a location on the same host, query kept', async () => {
    const f = reviewsProxy([{ name: 'r', match: { path: { prefix: '/old' } }, redirect: { pathRedirect: '/new', responseCode: 301 } }]);
    const res = await serve(f, get('/old?a=b', 'reviews:9080'));
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('http://reviews:9080/new?a=b');
    expect(res.headers['content-length']).toBe('0');
    expect(f.sent).toHaveLength(0);
    expect(f.logs[0]).toContain('301 - direct_response');
  });

  it('redirect with an authority and a code', async () => {
    const f = reviewsProxy([{ match: {}, redirect: { hostRedirect: 'example.com', schemeRedirect: 'https', responseCode: 302 } }]);
    const res = await serve(f, get('/x', 'reviews:9080'));
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://example.com/x');
  });

  it('direct response with a text/plain body', async () => {
    const f = reviewsProxy([{ name: 'dr', match: {}, directResponse: { status: 503, body: 'maintenance' } }]);
    const res = await serve(f);
    expect(res.status).toBe(503);
    expect(bodyOf(res)).toBe('maintenance');
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['content-length']).toBe('11');
  });

  it('request and response headers: per cluster, then the route (set, add, remove)', async () => {
    const f = reviewsProxy([
      {
        match: {},
        requestHeaders: { set: { 'x-route': 'r' }, remove: ['x-drop'] },
        responseHeaders: { add: { 'x-resp': 'route' }, remove: ['server-timing'] },
        route: { clusters: [{ cluster: V1, weight: 1, requestHeaders: { set: { 'x-cluster': 'v1', 'x-route': 'cluster' } }, responseHeaders: { set: { 'x-resp': 'cluster' } } }], timeoutMs: 0 },
      },
    ]);
    f.upstreams.set('*', () => reply(200, 'ok', { 'server-timing': 'x' }));
    const res = await serve(f, get('/', 'reviews', { 'x-drop': '1' }));
    expect(f.sent[0]!.req.headers).toMatchObject({ 'x-route': 'r', 'x-cluster': 'v1' });
    expect(f.sent[0]!.req.headers['x-drop']).toBeUndefined();
    expect(res.headers['x-resp']).toBe('cluster,route');
    expect(res.headers['server-timing']).toBeUndefined();
  });
});

describe('fault injection', () => {
  it('abort 100%: the code, FI fault_filter_abort, body `fault filter abort` (18 bytes), nothing sent', async () => {
    const f = reviewsProxy([{ match: {}, fault: { abort: { httpStatus: 500, percentage: 100 } }, route: { clusters: [{ cluster: 'outbound|9080|v1|ratings.default.svc.cluster.local', weight: 1 }], timeoutMs: 0 } }]);
    const res = await serve(f, get('/ratings/0', 'reviews:9080'));
    expect(res.status).toBe(500);
    expect(bodyOf(res)).toBe('fault filter abort');
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['x-envoy-upstream-service-time']).toBeUndefined();
    expect(f.sent).toHaveLength(0);
    expect(f.logs[0]).toMatch(/"GET \/ratings\/0 HTTP\/1.1" 500 FI fault_filter_abort - "-" 0 18 \d+ - "-" "curl\/8.16.0" "[^"]+" "reviews:9080" "-" outbound\|9080\|v1\|ratings.default.svc.cluster.local - /);
  });

  it('delay 100%: DI, the request still goes through, and the duration includes the delay', async () => {
    const f = reviewsProxy([{ match: {}, fault: { delay: { fixedDelayMs: 120, percentage: 100 } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } }]);
    const t = Date.now();
    const res = await serve(f);
    expect(Date.now() - t).toBeGreaterThanOrEqual(115);
    expect(res.status).toBe(200);
    const m = / 200 DI via_upstream - "-" 0 \d+ (\d+) (\d+) /.exec(f.logs[0]!);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(115);
  });

  it('a client that hangs up during the delay: nothing is sent upstream, the log says DI,DC', async () => {
    const f = reviewsProxy([{ name: 'd', match: {}, fault: { delay: { fixedDelayMs: 200, percentage: 100 } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } }]);
    await expect(serve(f, undefined, { ...down, clientDeadline: Date.now() + 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await new Promise((r) => setTimeout(r, 250));
    expect(f.sent).toHaveLength(0);
    expect(f.logs).toHaveLength(1);
    expect(f.logs[0]).toMatch(/ 0 DI,DC downstream_remote_disconnect .* d$/);
  });

  it('abort at 30% aborts about 30% (binomial bounds)', async () => {
    const f = reviewsProxy([{ match: {}, fault: { abort: { httpStatus: 503, percentage: 30 } }, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0 } }], { random: seeded(7) });
    const n = 1000;
    let aborted = 0;
    for (let i = 0; i < n; i++) if ((await serve(f)).status === 503) aborted++;
    expect(Math.abs(aborted - 300)).toBeLessThan(4.5 * Math.sqrt(n * 0.3 * 0.7));
  });
});

describe('timeouts and retries', () => {
  it('route timeout: 504 UT response_timeout `upstream request timeout` at the timeout', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 100 } }]);
    // The upstream would answer after 5 s: the 504 well before that is the timeout's (the upper
    // bound leaves a loaded machine's stalls room).
    f.upstreams.set('*', () => new Promise((r) => setTimeout(() => r(reply(200, 'late')), 5000).unref()));
    const t = Date.now();
    const res = await serve(f);
    const took = Date.now() - t;
    expect(res.status).toBe(504);
    expect(bodyOf(res)).toBe('upstream request timeout');
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(3000);
    expect(f.logs[0]).toContain(' 504 UT response_timeout - "-" 0 24 ');
  });

  it('retries 5xx with a new x-envoy-attempt-count each try, until success', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, retry: { numRetries: 3, retryOn: ['5xx'] } } }]);
    let n = 0;
    f.upstreams.set('*', () => (++n < 3 ? reply(503, 'busy') : reply(200, 'ok')));
    const res = await serve(f);
    expect(res.status).toBe(200);
    expect(f.sent.map((s) => s.req.headers['x-envoy-attempt-count'])).toEqual(['1', '2', '3']);
    expect(f.logs[0]).toContain(' 200 - via_upstream ');
  });

  it('retries exhausted: the last upstream answer with URX', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, retry: { numRetries: 2, retryOn: ['gateway-error'] } } }]);
    f.upstreams.set('*', () => reply(503, ''));
    const res = await serve(f);
    expect(res.status).toBe(503);
    expect(f.sent).toHaveLength(3);
    expect(f.logs[0]).toContain(' 503 URX via_upstream ');
  });

  it('does not retry what retry_on does not name', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, retry: { numRetries: 2, retryOn: ['connect-failure', 'refused-stream', 'retriable-status-codes'], retriableStatusCodes: [503] } } }]);
    f.upstreams.set('*', () => reply(500, 'err'));
    expect((await serve(f)).status).toBe(500);
    expect(f.sent).toHaveLength(1);
    expect(f.logs[0]).toContain(' 500 - via_upstream ');
  });

  it('retriable-status-codes and retriable-4xx', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, retry: { numRetries: 1, retryOn: ['retriable-status-codes', 'retriable-4xx'], retriableStatusCodes: [418] } } }]);
    f.upstreams.set('*', () => reply(418));
    await serve(f);
    expect(f.sent).toHaveLength(2);
    f.sent.length = 0;
    f.upstreams.set('*', () => reply(409));
    await serve(f);
    expect(f.sent).toHaveLength(2);
  });

  it('connect failure: 503 UF, retried on connect-failure; exhausted adds URX', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, retry: { numRetries: 2, retryOn: ['connect-failure'] } } }]);
    f.upstreams.clear();
    const res = await serve(f);
    expect(res.status).toBe(503);
    expect(f.sent).toHaveLength(3);
    expect(bodyOf(res)).toMatch(/^upstream connect error or disconnect\/reset before headers\./);
    expect(f.logs[0]).toMatch(/ 503 UF,URX upstream_reset_before_response_started\{[^}]+\} /);
  });

  it('per-try timeout: each try is cut off and retried', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, retry: { numRetries: 1, perTryTimeoutMs: 60, retryOn: ['5xx'] } } }]);
    let n = 0;
    f.upstreams.set('*', () => (++n === 1 ? new Promise((r) => setTimeout(() => r(reply(200, 'late')), 500)) : reply(200, 'second')));
    const res = await serve(f);
    expect(bodyOf(res)).toBe('second');
    expect(f.sent.map((s) => s.req.headers['x-envoy-attempt-count'])).toEqual(['1', '2']);
    expect(f.sent[0]!.timeoutMs).toBe(60);
    expect(f.sent.map((s) => s.req.headers['x-envoy-expected-rq-timeout-ms'])).toEqual(['60', '60']);
  });

  it("Envoy's backoff: 25 ms base, jittered, capped at 250 ms", () => {
    const r = seeded(3);
    for (let i = 0; i < 200; i++) {
      expect(backoffMs(1, r)).toBeLessThan(25);
      expect(backoffMs(2, r)).toBeLessThan(75);
      expect(backoffMs(9, r)).toBeLessThan(250);
    }
    expect(backoffMs(5, () => 0.999)).toBe(249);
  });
});

describe('the retry budget (DestinationRule connectionPool.http.maxRetries)', () => {
  it('a retry holds the budget until its answer; meanwhile another request is not retried (UO, upstream_rq_retry_overflow)', async () => {
    setClusterManager(envoyClusterManager);
    const f = reviewsProxy([toCluster(V1, {}, { retry: { numRetries: 2, retryOn: ['5xx'] } })], {
      clusters: [cluster(V1, { circuitBreakers: { maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 1, maxRequestsPerConnection: 0 } })],
    });
    let retryArrived!: () => void;
    const arrived = new Promise<void>((r) => (retryArrived = r));
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const tries = new Map<string, number>();
    f.upstreams.set('*', async (req) => {
      const n = (tries.get(req.path) ?? 0) + 1;
      tries.set(req.path, n);
      if (req.path === '/a' && n === 2) {
        retryArrived();
        await gate;
        return reply(200, 'a ok');
      }
      return req.path === '/c' && n > 1 ? reply(200, 'c ok') : reply(503, 'busy');
    });
    const stat = (name: string) => f.proxy.stats.counters.get(clusterStatPrefix(V1) + name) ?? 0;

    const a = serve(f, get('/a', 'reviews:9080'));
    await arrived; // A's retry is in flight and holds the only retry
    const b = await serve(f, get('/b', 'reviews:9080'));
    expect(b.status).toBe(503);
    expect(tries.get('/b')).toBe(1);
    expect(f.logs.find((l) => l.includes('"GET /b ')), 'B').toContain(' 503 UO via_upstream ');
    expect(stat('upstream_rq_retry_overflow')).toBe(1);

    openGate();
    expect((await a).status).toBe(200);
    expect(tries.get('/a')).toBe(2);
    // The budget is back: C is retried.
    const c = await serve(f, get('/c', 'reviews:9080'));
    expect([c.status, tries.get('/c')]).toEqual([200, 2]);
    expect([stat('upstream_rq_retry'), stat('upstream_rq_retry_success'), stat('upstream_rq_retry_overflow')]).toEqual([2, 2, 1]);
  });
});

describe('mirroring', () => {
  it('sends a fire-and-forget copy to the mirror cluster with a -shadow authority', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, mirrors: [{ cluster: V2, percentage: 100 }] } }]);
    f.upstreams.set('10.244.1.2:9080', () => new Promise(() => {}));
    const res = await serve(f, get('/reviews/1', 'reviews:9080'));
    expect(bodyOf(res)).toBe('10.244.1.1 /reviews/1');
    const shadow = f.sent.find((s) => s.target.host === '10.244.1.2');
    expect(shadow?.req.headers.host).toBe('reviews-shadow:9080');
    expect(f.logs).toHaveLength(1);
  });

  it('mirrors about the percentage asked (binomial bounds)', async () => {
    const f = reviewsProxy([{ match: {}, route: { clusters: [{ cluster: V1, weight: 1 }], timeoutMs: 0, mirrors: [{ cluster: V2, percentage: 25 }] } }], { random: seeded(11) });
    const n = 1000;
    for (let i = 0; i < n; i++) await serve(f);
    const shadows = f.sent.filter((s) => s.target.host === '10.244.1.2').length;
    expect(Math.abs(shadows - 250)).toBeLessThan(4.5 * Math.sqrt(n * 0.25 * 0.75));
  });
});

describe('headers and the access log', () => {
  it('outbound: request id, x-forwarded-proto, attempt count, decorator, peer metadata upstream; server: envoy and service time back', async () => {
    const f = reviewsProxy([{ name: 'default', match: {}, decorator: 'reviews.default.svc.cluster.local:9080/*', route: { clusters: [{ cluster: REVIEWS, weight: 1 }], timeoutMs: 0 } }]);
    f.upstreams.set('*', () => reply(200, 'ok', { server: 'istio-envoy', 'x-envoy-decorator-operation': 'x', 'x-envoy-upstream-service-time': '7' }));
    const res = await serve(f);
    const h = f.sent[0]!.req.headers;
    expect(h['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-envoy-attempt-count']).toBe('1');
    // No route timeout (Istio's default): no expected-timeout header.
    expect(h['x-envoy-expected-rq-timeout-ms']).toBeUndefined();
    expect(h['x-envoy-decorator-operation']).toBe('reviews.default.svc.cluster.local:9080/*');
    expect(h['x-envoy-peer-metadata-id']).toBe('sidecar~10.244.0.10~productpage-v1-6b746f74dc-9stvs.default~default.svc.cluster.local');
    expect(res.headers.server).toBe('envoy');
    expect(res.headers['x-envoy-upstream-service-time']).toMatch(/^\d+$/);
    expect(res.headers['x-envoy-decorator-operation']).toBeUndefined();
    expect(f.sent[0]!.transport?.tls).toEqual({ sni: 'outbound_.9080_._.reviews.default.svc.cluster.local', clientIdentity: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' });
  });

  it('an edge proxy (useRemoteAddress): x-forwarded-for and x-envoy-external-address; the peer\'s own x-envoy-* control headers dropped', async () => {
    const f = reviewsProxy([toCluster(REVIEWS)]);
    await serve(f, get('/', 'reviews', { 'x-envoy-retry-on': '5xx', 'x-envoy-internal': 'true', 'x-forwarded-for': '1.2.3.4' }), { ...down, remoteAddress: '172.18.0.1:50000', useRemoteAddress: true });
    const h = f.sent[0]!.req.headers;
    expect(h).toMatchObject({ 'x-forwarded-for': '1.2.3.4,172.18.0.1', 'x-envoy-external-address': '172.18.0.1' });
    expect(h['x-envoy-retry-on']).toBeUndefined();
    expect(h['x-envoy-internal']).toBeUndefined();
  });

  it('keeps a request id the client sent', async () => {
    const f = reviewsProxy([toCluster(REVIEWS)]);
    await serve(f, get('/', 'reviews', { 'x-request-id': 'abc' }));
    expect(f.sent[0]!.req.headers['x-request-id']).toBe('abc');
  });

  it("the default TEXT format, field for field, times from the proxy's clock", async () => {
    const f = reviewsProxy([{ name: 'default', match: {}, route: { clusters: [{ cluster: REVIEWS, weight: 1 }], timeoutMs: 0 } }], { now: () => new Date('2026-11-25T21:26:18.409Z') });
    f.upstreams.set('*', () => reply(418, 'I am a teapot!'));
    await serve(f, get('/status/418', 'reviews:9080', { 'x-request-id': '84961386-6d84-929d-98bd-c5aee93b5c88' }));
    expect(f.logs[0]).toMatch(
      /^\[2026-11-25T21:26:18\.409Z\] "GET \/status\/418 HTTP\/1\.1" 418 - via_upstream - "-" 0 14 0 0 "-" "curl\/8\.16\.0" "84961386-6d84-929d-98bd-c5aee93b5c88" "reviews:9080" "10\.244\.1\.1:9080" outbound\|9080\|\|reviews\.default\.svc\.cluster\.local 10\.244\.0\.10:\d+ 10\.96\.0\.50:9080 10\.244\.0\.10:45678 - default$/,
    );
  });

  it('no access log when meshConfig has none', async () => {
    const f = reviewsProxy([toCluster(REVIEWS)], { accessLog: false });
    await serve(f);
    expect(f.logs).toEqual([]);
  });

  it('a client that gives up: code 0, DC downstream_remote_disconnect', async () => {
    const f = reviewsProxy([{ name: 'default', match: {}, route: { clusters: [{ cluster: REVIEWS, weight: 1 }], timeoutMs: 0 } }]);
    f.upstreams.set('*', () => new Promise((r) => setTimeout(() => r(reply(200)), 400)));
    await expect(serve(f, undefined, { ...down, clientDeadline: Date.now() + 80 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(f.logs[0]).toMatch(/"GET \/reviews\/0 HTTP\/1.1" 0 DC downstream_remote_disconnect - "-" 0 0 \d+ - /);
  });

  it('records istio_requests_total labels (reporter=source) and the duration histogram', async () => {
    const f = reviewsProxy([toCluster(V2, { name: 'default' })]);
    await serve(f);
    await serve(f);
    const prom = f.proxy.stats.renderPrometheus();
    const total = prom.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
    expect(total).toHaveLength(1);
    const labels = Object.fromEntries([...total[0]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    expect(total[0]).toMatch(/\} 2$/);
    expect(labels).toMatchObject({
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_app: 'productpage',
      source_version: 'v1',
      destination_workload: 'reviews-v2',
      destination_app: 'reviews',
      destination_version: 'v2',
      destination_service: 'reviews.default.svc.cluster.local',
      destination_service_name: 'reviews',
      destination_service_namespace: 'default',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
      connection_security_policy: 'unknown',
    });
    expect(prom).toMatch(/^istio_request_duration_milliseconds_count\{[^}]+\} 2$/m);
    expect(prom).toMatch(new RegExp(`^istio_response_bytes_sum\\{[^}]+\\} ${2 * '10.244.1.2 /reviews/0'.length}$`, 'm'));
  });
});

describe('the cluster manager seam', () => {
  it('the router asks the cluster manager for each attempt and avoids hosts already tried', async () => {
    const seen: { cluster: string; avoid?: string[] }[] = [];
    setClusterManager({
      async attempt(_p, a) {
        seen.push({ cluster: a.cluster, ...(a.avoidHosts ? { avoid: a.avoidHosts } : {}) });
        return { response: reply(503, 'overflow'), flags: ['UO'], details: 'upstream_reset_before_response_started{overflow}', fromUpstream: false, failure: 'overflow' };
      },
    });
    const f = reviewsProxy([toCluster(V1, {}, { retry: { numRetries: 2, retryOn: ['5xx'] } })]);
    const res = await serve(f);
    expect(res.status).toBe(503);
    // Envoy does not retry its own overflow.
    expect(seen).toEqual([{ cluster: V1 }]);
    expect(f.logs[0]).toContain(' 503 UO upstream_reset_before_response_started{overflow} ');
  });
});
