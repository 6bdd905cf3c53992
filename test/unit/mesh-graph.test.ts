import { describe, expect, it } from 'vitest';
import { ProxyStats, type IstioRequestLabels } from '../../server/sim/addons/istio/envoy/stats.js';
import { MAX_SERIES_PER_PROXY, parseRequestsTotal } from '../../server/mesh/prometheus.js';
import { buildGraph, podsFrom, servicesFrom, type Scrape } from '../../server/mesh/graph.js';

/** Labels as Istio's stats filter writes them for a request from one workload to another. */
const request = (reporter: 'source' | 'destination', from: string, to: { svc: string; workload: string; version: string }, code = 200): IstioRequestLabels => ({
  reporter,
  source_workload: from,
  source_canonical_service: from.replace(/-v\d+$/, ''),
  source_canonical_revision: 'v1',
  source_workload_namespace: from === 'istio-ingressgateway' ? 'istio-system' : 'default',
  source_principal: 'spiffe://cluster.local/ns/default/sa/x',
  source_app: from.replace(/-v\d+$/, ''),
  source_version: 'v1',
  source_cluster: 'Kubernetes',
  destination_workload: to.workload,
  destination_workload_namespace: 'default',
  destination_principal: 'spiffe://cluster.local/ns/default/sa/y',
  destination_app: to.svc,
  destination_version: to.version,
  destination_service: `${to.svc}.default.svc.cluster.local`,
  destination_canonical_service: to.svc,
  destination_canonical_revision: to.version,
  destination_service_name: to.svc,
  destination_service_namespace: 'default',
  destination_cluster: 'Kubernetes',
  request_protocol: 'http',
  response_code: String(code),
  grpc_response_status: '',
  response_flags: '-',
  connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
});

const pod = (name: string, labels: Record<string, string>, opts: { ns?: string; ready?: boolean; sidecar?: boolean } = {}) => {
  const hash = 'abc123';
  const workload = name.replace(/-abc123-\w+$/, '');
  return {
    metadata: { uid: `uid-${name}`, name, namespace: opts.ns ?? 'default', labels: { ...labels, 'pod-template-hash': hash }, ownerReferences: [{ kind: 'ReplicaSet', name: `${workload}-${hash}` }] },
    spec: { containers: [{ name: labels.app ?? 'app' }, ...(opts.sidecar === false ? [] : [{ name: 'istio-proxy' }])] },
    status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
};

const PODS = [
  pod('istio-ingressgateway-abc123-aaaaa', { app: 'istio-ingressgateway', istio: 'ingressgateway' }, { ns: 'istio-system', sidecar: false }),
  pod('istiod-abc123-bbbbb', { app: 'istiod' }, { ns: 'istio-system', sidecar: false }),
  pod('productpage-v1-abc123-ccccc', { app: 'productpage', version: 'v1' }),
  pod('reviews-v1-abc123-ddddd', { app: 'reviews', version: 'v1' }),
  pod('reviews-v2-abc123-eeeee', { app: 'reviews', version: 'v2' }, { ready: false }),
  pod('reviews-v3-abc123-fffff', { app: 'reviews', version: 'v3' }),
  pod('details-v1-abc123-ggggg', { app: 'details', version: 'v1' }, { sidecar: false }),
  pod('coredns-abc123-hhhhh', { k8s: 'dns' }, { ns: 'kube-system', sidecar: false }),
];
const SERVICES = [
  { metadata: { name: 'productpage', namespace: 'default' }, spec: { selector: { app: 'productpage' } } },
  { metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' } } },
  { metadata: { name: 'details', namespace: 'default' }, spec: { selector: { app: 'details' } } },
  { metadata: { name: 'kubernetes', namespace: 'default' }, spec: {} },
  { metadata: { name: 'istio-ingressgateway', namespace: 'istio-system' }, spec: { selector: { istio: 'ingressgateway' } } },
  { metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { selector: { app: 'istiod' } } },
  { metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: { k8s: 'dns' } } },
];

const RV = (v: string) => ({ svc: 'reviews', workload: `reviews-${v}`, version: v });
const PP = { svc: 'productpage', workload: 'productpage-v1', version: 'v1' };
const DT = { svc: 'details', workload: 'details-v1', version: 'v1' };

/** Each proxy's stats, recorded as the sim's Envoy records them and read back from its Prometheus text. */
function proxies() {
  const stats = { gw: new ProxyStats(), pp: new ProxyStats(), r1: new ProxyStats(), r2: new ProxyStats(), r3: new ProxyStats() };
  const scrape = (t: number) =>
    new Map<string, Scrape>([
      ['uid-istio-ingressgateway-abc123-aaaaa', { t, samples: parseRequestsTotal(stats.gw.renderPrometheus()).samples }],
      ['uid-productpage-v1-abc123-ccccc', { t, samples: parseRequestsTotal(stats.pp.renderPrometheus()).samples }],
      ['uid-reviews-v1-abc123-ddddd', { t, samples: parseRequestsTotal(stats.r1.renderPrometheus()).samples }],
      ['uid-reviews-v2-abc123-eeeee', { t, samples: parseRequestsTotal(stats.r2.renderPrometheus()).samples }],
      ['uid-reviews-v3-abc123-fffff', { t, samples: parseRequestsTotal(stats.r3.renderPrometheus()).samples }],
    ]);
  /** A request through gateway → productpage → reviews vN (and details, which has no sidecar). */
  const page = (v: 'v1' | 'v2' | 'v3', reviewsCode = 200) => {
    stats.gw.recordRequest(request('source', 'istio-ingressgateway', PP), 5, 100, 1000);
    stats.pp.recordRequest(request('destination', 'istio-ingressgateway', PP), 5, 100, 1000);
    stats.pp.recordRequest(request('source', 'productpage-v1', RV(v), reviewsCode), 2, 100, 300);
    stats[v === 'v1' ? 'r1' : v === 'v2' ? 'r2' : 'r3'].recordRequest(request('destination', 'productpage-v1', RV(v), reviewsCode), 2, 100, 300);
    stats.pp.recordRequest(request('source', 'productpage-v1', DT), 1, 100, 200);
  };
  return { stats, scrape, page };
}

const windowOf = (a: Map<string, Scrape>, b: Map<string, Scrape>) => new Map([...b].map(([uid, current]) => [uid, { base: a.get(uid)!, current }]));

describe('the mesh graph from the proxies’ Prometheus text', () => {
  it('parses istio_requests_total out of the real exposition, escaped label values included', () => {
    const s = new ProxyStats();
    s.inc('cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total', 3);
    s.recordRequest({ ...request('source', 'a', RV('v1')), response_flags: 'say "hi"\\now' }, 1, 1, 1);
    s.recordRequest(request('source', 'a', RV('v1')), 1, 1, 1);
    s.recordRequest(request('source', 'a', RV('v1')), 1, 1, 1);
    const text = s.renderPrometheus();
    expect(text).toContain('# TYPE istio_requests_total counter');
    const { samples } = parseRequestsTotal(text);
    expect(samples).toHaveLength(2);
    expect(samples.find((x) => x.labels.response_flags === '-')?.value).toBe(2);
    expect(samples.find((x) => x.labels.response_flags !== '-')?.labels.response_flags).toBe('say "hi"\\now');
    expect(samples.every((x) => x.labels.destination_service === 'reviews.default.svc.cluster.local')).toBe(true);
  });

  it('skips lines that are not samples and survives garbage', () => {
    expect(parseRequestsTotal('istio_requests_total{a="b" 3\nistio_requests_total_x{a="b"} 4\nistio_requests_total NaNx\n\u0000\nistio_requests_total{reporter="source"} 7 1700000000\n')).toEqual({ samples: [{ labels: { reporter: 'source' }, value: 7 }], truncated: false });
  });

  it("keeps at most MAX_SERIES_PER_PROXY series of a proxy's exposition and says it cut the rest", () => {
    // A learner's pod can serve anything on 15020: a 5 MB exposition of tiny series must not become 300k objects.
    const lines = Array.from({ length: 300_000 }, (_, i) => `istio_requests_total{x="${i}"} 1`).join('\n');
    const parsed = parseRequestsTotal(lines);
    expect(parsed.truncated).toBe(true);
    expect(parsed.samples).toHaveLength(MAX_SERIES_PER_PROXY);
    expect(parsed.samples.at(-1)?.labels.x).toBe(String(MAX_SERIES_PER_PROXY - 1));
    // A series with absurdly many labels is dropped, and `__proto__` is only a label name.
    const wide = `istio_requests_total{${Array.from({ length: 100 }, (_, i) => `l${i}="v"`).join(',')}} 1\nistio_requests_total{__proto__="p"} 2`;
    expect(parseRequestsTotal(wide).samples.map((s) => [Object.keys(s.labels), s.value])).toEqual([[['__proto__'], 2]]);
  });

  it('draws gateway, services, versions and pods with ready and sidecar state, hiding the system namespaces', () => {
    const g = buildGraph({ pods: podsFrom(PODS), services: servicesFrom(SERVICES), scrapes: new Map() });
    expect(g.nodes.map((n) => `${n.kind} ${n.id}`)).toEqual([
      'service svc:default/details',
      'service svc:default/productpage',
      'service svc:default/reviews',
      'service svc:istio-system/istio-ingressgateway',
      'workload wl:default/details-v1',
      'workload wl:default/productpage-v1',
      'workload wl:default/reviews-v1',
      'workload wl:default/reviews-v2',
      'workload wl:default/reviews-v3',
      'gateway wl:istio-system/istio-ingressgateway',
    ]);
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    expect(byId.get('wl:default/reviews-v2')).toMatchObject({ app: 'reviews', version: 'v2', pods: [{ name: 'reviews-v2-abc123-eeeee', ready: false, sidecar: true }] });
    expect(byId.get('wl:default/details-v1')!.pods[0]).toMatchObject({ ready: true, sidecar: false });
    expect(g.edges.filter((e) => e.source === 'svc:default/reviews').map((e) => `${e.target} ${e.traffic} ${e.rate}`)).toEqual([
      'wl:default/reviews-v1 false 0',
      'wl:default/reviews-v2 false 0',
      'wl:default/reviews-v3 false 0',
    ]);
  });

  it('computes request rates and 5xx shares from two scrapes, counting each request once', () => {
    const { scrape, page } = proxies();
    page('v1'); // before the window: not counted
    const first = scrape(10_000);
    for (let i = 0; i < 10; i++) page('v1');
    for (let i = 0; i < 6; i++) page('v2', i < 3 ? 503 : 200);
    for (let i = 0; i < 4; i++) page('v3');
    const second = scrape(20_000);
    const g = buildGraph({ pods: podsFrom(PODS), services: servicesFrom(SERVICES), scrapes: windowOf(first, second) });
    expect(g.windowSeconds).toBe(10);
    const edge = (s: string, t: string) => g.edges.find((e) => e.source === s && e.target === t);
    // 20 requests in 10 s, seen by the gateway (source) and productpage (destination): counted once.
    expect(edge('wl:istio-system/istio-ingressgateway', 'svc:default/productpage')).toMatchObject({ rate: 2, requests: 20, errorShare: 0, traffic: true });
    expect(edge('svc:default/productpage', 'wl:default/productpage-v1')).toMatchObject({ rate: 2, requests: 20 });
    expect(edge('wl:default/productpage-v1', 'svc:default/reviews')).toMatchObject({ rate: 2, requests: 20, errorShare: 0.15 });
    expect(edge('svc:default/reviews', 'wl:default/reviews-v2')).toMatchObject({ rate: 0.6, requests: 6, errorShare: 0.5, traffic: true });
    // details has no sidecar: only productpage's source report knows those requests.
    expect(edge('wl:default/productpage-v1', 'svc:default/details')).toMatchObject({ rate: 2, requests: 20, errorShare: 0 });
    const reviews = g.splits.find((s) => s.service === 'reviews')!;
    expect(reviews.requests).toBe(20);
    expect(reviews.versions).toEqual([
      { version: 'v1', requests: 10, rate: 1, share: 0.5 },
      { version: 'v2', requests: 6, rate: 0.6, share: 0.3 },
      { version: 'v3', requests: 4, rate: 0.4, share: 0.2 },
    ]);
  });

  it('lists a version that served nothing in the window at 0 %, and reads a counter reset as a restart', () => {
    const { stats, scrape, page } = proxies();
    for (let i = 0; i < 5; i++) page('v1');
    const first = scrape(0);
    for (let i = 0; i < 2; i++) page('v1');
    const second = scrape(2_000);
    // reviews-v1's proxy restarted: its counters start again (2 requests since).
    const after = second.get('uid-reviews-v1-abc123-ddddd')!;
    const reset = { ...after, samples: after.samples.map((s) => ({ ...s, value: 2 })) };
    second.set('uid-reviews-v1-abc123-ddddd', reset);
    const g = buildGraph({ pods: podsFrom(PODS), services: servicesFrom(SERVICES), scrapes: windowOf(first, second) });
    expect(g.splits.find((s) => s.service === 'reviews')!.versions).toEqual([
      { version: 'v1', requests: 2, rate: 1, share: 1 },
      { version: 'v2', requests: 0, rate: 0, share: 0 },
      { version: 'v3', requests: 0, rate: 0, share: 0 },
    ]);
    expect(stats.r2.renderPrometheus()).not.toContain('istio_requests_total');
  });

  it('draws a report that names no service through the Service selecting its destination', () => {
    const s = new ProxyStats();
    const first: Scrape = { t: 0, samples: parseRequestsTotal(s.renderPrometheus()).samples };
    s.recordRequest({ ...request('destination', 'productpage-v1', RV('v3')), destination_service: 'unknown', destination_service_name: 'unknown' }, 1, 1, 1);
    const second: Scrape = { t: 1000, samples: parseRequestsTotal(s.renderPrometheus()).samples };
    const g = buildGraph({ pods: podsFrom(PODS), services: servicesFrom(SERVICES), scrapes: new Map([['uid-reviews-v3-abc123-fffff', { base: first, current: second }]]) });
    expect(g.edges.filter((e) => e.traffic).map((e) => e.id)).toEqual(['svc:default/reviews>wl:default/reviews-v3', 'wl:default/productpage-v1>svc:default/reviews']);
    expect(g.splits.find((x) => x.service === 'reviews')!.versions.find((v) => v.version === 'v3')!.share).toBe(1);
  });

  it('shows traffic from outside the mesh as coming from "unknown"', () => {
    const s = new ProxyStats();
    const first: Scrape = { t: 0, samples: parseRequestsTotal(s.renderPrometheus()).samples };
    s.recordRequest({ ...request('destination', 'x', PP), source_workload: 'unknown', source_workload_namespace: 'unknown' }, 1, 1, 1);
    const second: Scrape = { t: 1000, samples: parseRequestsTotal(s.renderPrometheus()).samples };
    const g = buildGraph({ pods: podsFrom(PODS), services: servicesFrom(SERVICES), scrapes: new Map([['uid-productpage-v1-abc123-ccccc', { base: first, current: second }]]) });
    expect(g.nodes.find((n) => n.id === 'unknown')?.kind).toBe('unknown');
    expect(g.edges.find((e) => e.source === 'unknown')).toMatchObject({ target: 'svc:default/productpage', rate: 1 });
  });
});
