/**
 * istiod's config generation against the real Bookinfo manifests and networking samples: the
 * mesh view is built from bookinfo.yaml's Services and Deployments (pods as the Deployments would
 * make them, sidecar-injected), then each sample's listeners, routes, clusters and endpoints are
 * checked against what pilot writes for them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REFERENCE_DIR } from '../helpers/reference.js';
import { compileProxyConfig, inboundPorts } from '../../server/sim/addons/istio/xds/compile/index.js';
import { buildMeshView } from '../../server/sim/addons/istio/xds/compile/mesh.js';
import type { ProxyNode, ProxySnapshot } from '../../server/sim/addons/istio/xds/distribution.js';
import type { ProxyConfig, Route, RouteConfiguration } from '../../server/sim/addons/istio/xds/types.js';
import { selectVirtualHost } from '../../server/sim/addons/istio/envoy/hcm-match.js';

type Obj = Record<string, any>;

const sample = (name: string): Obj[] =>
  parseAllDocuments(fs.readFileSync(path.join(REFERENCE_DIR, 'samples', name), 'utf8'))
    .map((d) => d.toJS() as Obj)
    .filter(Boolean)
    .map((o, i) => ({ ...o, metadata: { namespace: 'default', creationTimestamp: `2026-01-01T00:00:0${i}Z`, ...o.metadata } }));

const bookinfo = sample('bookinfo.yaml');
const demo = JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, 'istio_demo_install_1.30.json'), 'utf8')) as Obj;

/** The ratings fault-injection samples (samples/bookinfo/networking/virtual-service-ratings-test-{delay,abort}.yaml of Istio 1.30.3; not in the reference folder). */
const ratingsFault = (fault: Obj): Obj => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'ratings', namespace: 'default', creationTimestamp: '2026-01-01T00:00:09Z' },
  spec: { hosts: ['ratings'], http: [{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], fault, route: [{ destination: { host: 'ratings', subset: 'v1' } }] }, { route: [{ destination: { host: 'ratings', subset: 'v1' } }] }] },
});

interface World {
  services: Obj[];
  pods: Obj[];
  serviceEntries?: Obj[];
  meshYaml?: string;
}

/** Pods as the Deployments make them (injected: tlsMode label), ClusterIPs and EndpointSlices as the cluster would assign them. */
function bookinfoWorld(): World {
  const services: Obj[] = bookinfo.filter((o) => o.kind === 'Service').map((s, i) => ({ ...s, spec: { ...s.spec, clusterIP: `10.96.0.${20 + i}` } }));
  const pods: Obj[] = bookinfo
    .filter((o) => o.kind === 'Deployment')
    .map((d, i) => ({
      kind: 'Pod',
      metadata: { name: `${d.metadata.name}-abc${i}`, namespace: 'default', labels: { ...d.spec.template.metadata.labels, 'security.istio.io/tlsMode': 'istio' } },
      spec: { serviceAccountName: d.spec.template.spec.serviceAccountName, containers: d.spec.template.spec.containers },
      status: { phase: 'Running', podIP: `10.244.1.${10 + i}` },
    }));
  for (const gw of demo.services.filter((s: Obj) => s.name.endsWith('gateway')))
    services.push({ kind: 'Service', metadata: { name: gw.name, namespace: 'istio-system' }, spec: { type: gw.type, ports: gw.ports.map((p: Obj) => ({ protocol: 'TCP', ...p })), selector: gw.selector, clusterIP: gw.name.includes('ingress') ? '10.96.1.1' : '10.96.1.2' } });
  pods.push({
    kind: 'Pod',
    metadata: { name: 'istio-ingressgateway-5c8d9b7f6-x1', namespace: 'istio-system', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway', 'sidecar.istio.io/inject': 'false' } },
    spec: { serviceAccountName: 'istio-ingressgateway-service-account', containers: [{ name: 'istio-proxy', ports: [{ containerPort: 15021 }, { containerPort: 8080 }, { containerPort: 8443 }, { containerPort: 15090, name: 'http-envoy-prom' }] }] },
    status: { phase: 'Running', podIP: '10.244.1.50' },
  });
  return { services, pods, meshYaml: 'accessLogFile: /dev/stdout\n' };
}

function slicesFor(w: World): Obj[] {
  return w.services.map((s) => {
    const sel: Record<string, string> = s.spec.selector ?? {};
    const pods = w.pods.filter((p) => p.metadata.namespace === s.metadata.namespace && Object.entries(sel).every(([k, v]) => p.metadata.labels[k] === v));
    return {
      kind: 'EndpointSlice',
      metadata: { name: `${s.metadata.name}-x`, namespace: s.metadata.namespace, labels: { 'kubernetes.io/service-name': s.metadata.name } },
      addressType: 'IPv4',
      ports: (s.spec.ports ?? []).map((p: Obj) => ({ name: p.name ?? '', port: typeof p.targetPort === 'number' ? p.targetPort : p.port, protocol: 'TCP' })),
      endpoints: pods.map((p) => ({ addresses: [p.status.podIP], conditions: { ready: true }, targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace } })),
    };
  });
}

function snapshot(w: World, config: { virtualServices?: Obj[]; destinationRules?: Obj[]; gateways?: Obj[]; sidecars?: Obj[] } = {}): ProxySnapshot {
  return {
    version: 'v1',
    virtualServices: config.virtualServices ?? [],
    destinationRules: config.destinationRules ?? [],
    gateways: config.gateways ?? [],
    serviceEntries: w.serviceEntries ?? [],
    sidecars: config.sidecars ?? [],
    peerAuthentications: [],
    authorizationPolicies: [],
    mesh: buildMeshView({ services: w.services, endpointSlices: slicesFor(w), endpoints: [], pods: w.pods, serviceEntries: w.serviceEntries ?? [], meshYaml: w.meshYaml }),
  };
}

function proxyOf(w: World, prefix: string, type: 'sidecar' | 'router' = 'sidecar'): ProxyNode {
  const p = w.pods.find((x) => x.metadata.name.startsWith(prefix))!;
  return { id: `${p.metadata.name}.${p.metadata.namespace}`, podName: p.metadata.name, namespace: p.metadata.namespace, podIP: p.status.podIP, type, labels: p.metadata.labels, serviceAccount: p.spec.serviceAccountName, istioVersion: '1.30.3', clusterId: 'Kubernetes' };
}

const rds = (c: ProxyConfig, name: string): RouteConfiguration => {
  const r = c.routes.find((x) => x.name === name);
  if (!r) throw new Error(`no route configuration ${name}: ${c.routes.map((x) => x.name).join(', ')}`);
  return r;
};
const vhost = (c: ProxyConfig, routeName: string, vh: string) => {
  const v = rds(c, routeName).virtualHosts.find((x) => x.name === vh);
  if (!v) throw new Error(`no virtual host ${vh} in ${routeName}: ${rds(c, routeName).virtualHosts.map((x) => x.name).join(', ')}`);
  return v;
};
const clustersOf = (r: Route) => r.route?.clusters.map((c) => `${c.cluster}${r.route!.clusters.length > 1 ? `@${c.weight}` : ''}`);

const REVIEWS = 'reviews.default.svc.cluster.local';
const w = bookinfoWorld();
const productpage = proxyOf(w, 'productpage-v1');
const compile = (config: Parameters<typeof snapshot>[1] = {}, proxy = productpage) => compileProxyConfig(snapshot(w, config), proxy);
const allV1 = sample('virtual-service-all-v1.yaml');
const drAll = sample('destination-rule-all.yaml');

describe('sidecar outbound without VirtualServices', () => {
  const c = compile();

  it('has a 0.0.0.0_9080 listener routing HTTP by RDS 9080, the virtualOutbound passthrough, and the sidecar catch-all clusters', () => {
    const l = c.listeners.find((x) => x.name === '0.0.0.0_9080')!;
    expect(l).toMatchObject({ address: '0.0.0.0', port: 9080, direction: 'outbound' });
    expect(l.filterChains[0]!.http).toEqual({ routeConfigName: '9080' });
    expect(l.filterChains[1]!.tcp?.cluster).toBe('PassthroughCluster');
    expect(c.listeners.find((x) => x.name === 'virtualOutbound')?.port).toBe(15001);
    expect(c.clusters.map((x) => x.name)).toEqual(expect.arrayContaining(['BlackHoleCluster', 'PassthroughCluster', 'InboundPassthroughCluster', 'agent', 'prometheus_stats', 'sds-grpc', 'xds-grpc']));
    // The gateways' TCP ports become <vip>_<port> TCP proxies, as Istio does for non-HTTP ports.
    expect(c.listeners.find((x) => x.name === '10.96.1.1_31400')?.filterChains[0]!.tcp?.cluster).toBe('outbound|31400||istio-ingressgateway.istio-system.svc.cluster.local');
  });

  it('serves each service as a virtual host <fqdn>:<port> with its Host names, short names only from its own namespace, then allow_any', () => {
    const r = rds(c, '9080');
    expect(r.ignorePortInHostMatching).toBe(true);
    expect(r.virtualHosts.map((v) => v.name)).toEqual(['details.default.svc.cluster.local:9080', 'productpage.default.svc.cluster.local:9080', 'ratings.default.svc.cluster.local:9080', `${REVIEWS}:9080`, 'allow_any']);
    const reviewsClusterIP = w.services.find((s) => s.metadata.name === 'reviews')!.spec.clusterIP;
    expect(vhost(c, '9080', `${REVIEWS}:9080`).domains).toEqual([REVIEWS, `${REVIEWS}.`, 'reviews', 'reviews.default.svc', 'reviews.default', reviewsClusterIP]);
    // From istio-system (the gateway's namespace) Bookinfo's services have no short name.
    const gw = compileProxyConfig(snapshot(w), { ...productpage, namespace: 'istio-system' });
    expect(vhost(gw, '9080', `${REVIEWS}:9080`).domains).toEqual([REVIEWS, `${REVIEWS}.`, 'reviews.default', 'reviews.default.svc', reviewsClusterIP]);
    expect(vhost(c, '9080', 'allow_any')).toEqual({ name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { path: { prefix: '/' } }, route: { clusters: [{ cluster: 'PassthroughCluster', weight: 100 }], timeoutMs: 0 } }] });
  });

  it('the Host header finds its virtual host with or without the port (ignore_port_in_host_matching); unknown hosts go to allow_any', () => {
    const r = rds(c, '9080');
    const ip = w.services.find((s) => s.metadata.name === 'reviews')!.spec.clusterIP;
    for (const host of ['reviews:9080', 'reviews', 'reviews.default:9080', `${REVIEWS}:9080`, `${REVIEWS}.:9080`, `${ip}:9080`, 'REVIEWS:9080']) expect(selectVirtualHost(r, host)?.name, host).toBe(`${REVIEWS}:9080`);
    expect(selectVirtualHost(r, 'example.com:9080')?.name).toBe('allow_any');
  });

  it('routes each host by one route "default" with Istio\'s default retries, no timeout, and the decorator <fqdn>:<port>/*', () => {
    expect(vhost(c, '9080', `${REVIEWS}:9080`).routes).toEqual([
      {
        name: 'default',
        match: { path: { prefix: '/' } },
        route: { clusters: [{ cluster: `outbound|9080||${REVIEWS}`, weight: 100 }], timeoutMs: 0, retry: { numRetries: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [503] } },
        decorator: `${REVIEWS}:9080/*`,
      },
    ]);
  });

  it('has one cluster per service port with auto mTLS, Istio\'s circuit-breaker defaults and LEAST_REQUEST, and EDS of the ready pods with their identity', () => {
    const cl = c.clusters.find((x) => x.name === `outbound|9080||${REVIEWS}`)!;
    expect(cl).toEqual({
      name: `outbound|9080||${REVIEWS}`,
      direction: 'outbound',
      type: 'EDS',
      service: { hostname: REVIEWS, port: 9080 },
      lbPolicy: 'LEAST_REQUEST',
      circuitBreakers: { maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, maxRequestsPerConnection: 0 },
      sni: `outbound_.9080_._.${REVIEWS}`,
      connectTimeoutMs: 10000,
    });
    const eds = c.endpoints.find((x) => x.cluster === `outbound|9080||${REVIEWS}`)!;
    expect(eds.endpoints.map((e) => `${e.address}:${e.port} ${e.pod?.name} ${e.pod?.labels.version} ${e.pod?.serviceAccount} ${e.tlsMode} ${e.health}`)).toEqual([
      expect.stringMatching(/^10\.244\.1\.\d+:9080 reviews-v1-abc\d v1 bookinfo-reviews istio HEALTHY$/),
      expect.stringMatching(/reviews-v2-abc\d v2 bookinfo-reviews istio HEALTHY$/),
      expect.stringMatching(/reviews-v3-abc\d v3 bookinfo-reviews istio HEALTHY$/),
    ]);
    expect(c.accessLog).toEqual({ path: '/dev/stdout', encoding: 'TEXT' });
  });

  it('leaves unready endpoints out of EDS and has no access log without accessLogFile', () => {
    const snap = snapshot({ ...w, meshYaml: '' });
    const slices = slicesFor(w).map((s) => (s.metadata.name === 'reviews-x' ? { ...s, endpoints: s.endpoints.map((e: Obj, i: number) => (i === 0 ? { ...e, conditions: { ready: false } } : e)) } : s));
    const view = buildMeshView({ services: w.services, endpointSlices: slices, endpoints: [], pods: w.pods, serviceEntries: [] });
    const cfg = compileProxyConfig({ ...snap, mesh: view }, productpage);
    expect(cfg.endpoints.find((x) => x.cluster === `outbound|9080||${REVIEWS}`)!.endpoints.map((e) => e.pod?.labels.version)).toEqual(['v2', 'v3']);
    expect(cfg.accessLog).toBeUndefined();
  });
});

describe('the Bookinfo networking samples', () => {
  it('destination-rule-all: a cluster per subset with its own SNI, EDS limited to the subset\'s pods', () => {
    const c = compile({ destinationRules: drAll });
    const names = c.clusters.filter((x) => x.service?.hostname === REVIEWS).map((x) => x.name);
    expect(names).toEqual([`outbound|9080||${REVIEWS}`, `outbound|9080|v1|${REVIEWS}`, `outbound|9080|v2|${REVIEWS}`, `outbound|9080|v3|${REVIEWS}`]);
    const v2 = c.clusters.find((x) => x.name === `outbound|9080|v2|${REVIEWS}`)!;
    expect(v2).toMatchObject({ service: { hostname: REVIEWS, port: 9080, subset: 'v2' }, destinationRule: { name: 'reviews', namespace: 'default' }, sni: `outbound_.9080_.v2_.${REVIEWS}` });
    expect(v2.tls).toBeUndefined();
    expect(c.endpoints.find((x) => x.cluster === v2.name)!.endpoints.map((e) => e.pod?.name)).toEqual([expect.stringMatching(/^reviews-v2-/)]);
    expect(c.clusters.find((x) => x.name === 'outbound|9080|v2-mysql|ratings.default.svc.cluster.local')).toBeDefined();
    expect(c.endpoints.find((x) => x.cluster === 'outbound|9080|v2-mysql|ratings.default.svc.cluster.local')!.endpoints).toEqual([]);
  });

  it('virtual-service-all-v1: every host routes to subset v1; without DestinationRules those clusters do not exist (503 NC)', () => {
    const c = compile({ virtualServices: allV1 });
    const r = vhost(c, '9080', `${REVIEWS}:9080`).routes;
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ match: { path: { prefix: '/' } }, route: { clusters: [{ cluster: `outbound|9080|v1|${REVIEWS}`, weight: 100 }], timeoutMs: 0, retry: { numRetries: 2 } }, decorator: `${REVIEWS}:9080/*`, virtualService: { name: 'reviews', namespace: 'default' } });
    expect(r[0]!.name).toBeUndefined(); // access log: `-`
    expect(c.clusters.some((x) => x.name === `outbound|9080|v1|${REVIEWS}`)).toBe(false);
    expect(compile({ virtualServices: allV1, destinationRules: drAll }).clusters.some((x) => x.name === `outbound|9080|v1|${REVIEWS}`)).toBe(true);
    // productpage's VS binds to the mesh too; the gateway routes belong to the `bookinfo` VS.
    expect(clustersOf(vhost(c, '9080', 'productpage.default.svc.cluster.local:9080').routes[0]!)).toEqual(['outbound|9080|v1|productpage.default.svc.cluster.local']);
  });

  it('virtual-service-reviews-test-v2: end-user jason to v2, everyone else v1', () => {
    const c = compile({ virtualServices: sample('virtual-service-reviews-test-v2.yaml'), destinationRules: drAll });
    const r = vhost(c, '9080', `${REVIEWS}:9080`).routes;
    expect(r.map((x) => [x.match, clustersOf(x)])).toEqual([
      [{ path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, [`outbound|9080|v2|${REVIEWS}`]],
      [{ path: { prefix: '/' } }, [`outbound|9080|v1|${REVIEWS}`]],
    ]);
  });

  it('virtual-service-reviews-50-v3: weighted v1/v3, decorated with the VirtualService name', () => {
    const c = compile({ virtualServices: sample('virtual-service-reviews-50-v3.yaml'), destinationRules: drAll });
    const [r] = vhost(c, '9080', `${REVIEWS}:9080`).routes;
    expect(clustersOf(r!)).toEqual([`outbound|9080|v1|${REVIEWS}@50`, `outbound|9080|v3|${REVIEWS}@50`]);
    expect(r!.decorator).toBe('reviews:9080/*');
  });

  it('virtual-service-reviews-v3: all to v3', () => {
    const c = compile({ virtualServices: sample('virtual-service-reviews-v3.yaml'), destinationRules: drAll });
    expect(vhost(c, '9080', `${REVIEWS}:9080`).routes.map(clustersOf)).toEqual([[`outbound|9080|v3|${REVIEWS}`]]);
  });

  it('ratings test delay and abort: the fault on jason\'s route only', () => {
    const delay = compile({ virtualServices: [ratingsFault({ delay: { percentage: { value: 100.0 }, fixedDelay: '7s' } })], destinationRules: drAll });
    const r = vhost(delay, '9080', 'ratings.default.svc.cluster.local:9080').routes;
    expect(r[0]!.fault).toEqual({ delay: { fixedDelayMs: 7000, percentage: 100 } });
    expect(r[1]!.fault).toBeUndefined();
    const abort = compile({ virtualServices: [ratingsFault({ abort: { percentage: { value: 100.0 }, httpStatus: 500 } })], destinationRules: drAll });
    expect(vhost(abort, '9080', 'ratings.default.svc.cluster.local:9080').routes[0]!.fault).toEqual({ abort: { httpStatus: 500, percentage: 100 } });
  });

  it('bookinfo-gateway (server port 8080): listener 0.0.0.0_8080, RDS http.8080, virtual host *:8080 with the bookinfo routes', () => {
    const gwProxy = proxyOf(w, 'istio-ingressgateway', 'router');
    const objs = sample('bookinfo-gateway.yaml');
    const c = compileProxyConfig(snapshot(w, { gateways: objs.filter((o) => o.kind === 'Gateway'), virtualServices: [...objs.filter((o) => o.kind === 'VirtualService'), ...allV1] }), gwProxy);
    expect(c.listeners.map((l) => l.name)).toEqual(['0.0.0.0_8080']);
    expect(c.listeners[0]).toMatchObject({ port: 8080, direction: 'gateway', filterChains: [{ http: { routeConfigName: 'http.8080', serverName: 'istio-envoy' } }] });
    const r = rds(c, 'http.8080');
    expect(r.virtualHosts.map((v) => [v.name, v.domains])).toEqual([['*:8080', ['*']]]);
    expect(r.virtualHosts[0]!.routes.map((x) => [x.match.path, clustersOf(x), x.virtualService?.name])).toEqual([
      [{ exact: '/productpage' }, ['outbound|9080||productpage.default.svc.cluster.local'], 'bookinfo'],
      [{ prefix: '/static' }, ['outbound|9080||productpage.default.svc.cluster.local'], 'bookinfo'],
      [{ exact: '/login' }, ['outbound|9080||productpage.default.svc.cluster.local'], 'bookinfo'],
      [{ exact: '/logout' }, ['outbound|9080||productpage.default.svc.cluster.local'], 'bookinfo'],
      [{ prefix: '/api/v1/products' }, ['outbound|9080||productpage.default.svc.cluster.local'], 'bookinfo'],
    ]);
    expect(r.virtualHosts[0]!.routes[0]!.decorator).toBe('productpage.default.svc.cluster.local:9080/productpage');
    // The gateway has the mesh's clusters, not the sidecar's inbound passthrough.
    expect(c.clusters.some((x) => x.name === 'outbound|9080||productpage.default.svc.cluster.local')).toBe(true);
    expect(c.clusters.some((x) => x.name === 'InboundPassthroughCluster')).toBe(false);
    // The mesh VS for productpage does not reach the gateway; bookinfo's does not reach sidecars.
    expect(vhost(compile({ virtualServices: objs.filter((o) => o.kind === 'VirtualService') }), '9080', 'productpage.default.svc.cluster.local:9080').routes[0]!.name).toBe('default');
  });

  it('a server on port 80 listens on the container port the gateway Service maps it to (8080); hosts intersect with the VirtualService\'s', () => {
    const gwProxy = proxyOf(w, 'istio-ingressgateway', 'router');
    const gateway = { kind: 'Gateway', metadata: { name: 'httpbin-gateway', namespace: 'default' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*.example.com'] }] } };
    const httpbin = vs('httpbin', { hosts: ['httpbin.example.com', 'other.org'], gateways: ['httpbin-gateway'], http: [{ match: [{ uri: { prefix: '/status' } }], route: [{ destination: { host: 'details', port: { number: 9080 } } }] }] });
    const c = compileProxyConfig(snapshot(w, { gateways: [gateway], virtualServices: [httpbin] }), gwProxy);
    expect(c.listeners.map((l) => [l.name, l.filterChains[0]!.http?.routeConfigName])).toEqual([['0.0.0.0_8080', 'http.8080']]);
    const r = rds(c, 'http.8080');
    expect(r.virtualHosts.map((v) => [v.name, v.domains, v.routes.map((x) => x.decorator)])).toEqual([['httpbin.example.com:80', ['httpbin.example.com'], ['details.default.svc.cluster.local:9080/status*']]]);
  });

  it('a Gateway with no VirtualService: a virtual host with no routes (404 NR); a Gateway for other pods: no listener', () => {
    const gwProxy = proxyOf(w, 'istio-ingressgateway', 'router');
    const gw = sample('bookinfo-gateway.yaml').filter((o) => o.kind === 'Gateway');
    const c = compileProxyConfig(snapshot(w, { gateways: gw }), gwProxy);
    expect(rds(c, 'http.8080').virtualHosts).toEqual([{ name: 'blackhole:8080', domains: ['*'], routes: [] }]);
    const other = compileProxyConfig(snapshot(w, { gateways: gw.map((g) => ({ ...g, spec: { ...g.spec, selector: { istio: 'egressgateway' } } })) }), gwProxy);
    expect(other.listeners).toEqual([]);
  });
});

const vs = (name: string, spec: Obj, ns = 'default'): Obj => ({ kind: 'VirtualService', metadata: { name, namespace: ns, creationTimestamp: '2026-01-02T00:00:00Z' }, spec });
const reviewsRoutes = (c: ProxyConfig) => vhost(c, '9080', `${REVIEWS}:9080`).routes;

describe('VirtualService features', () => {
  it('translates every match form; sourceLabels and sourceNamespace decide at compile time; route names join http and match names', () => {
    const spec = {
      hosts: ['reviews'],
      http: [
        { name: 'from-ratings', match: [{ sourceLabels: { app: 'ratings' } }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
        { name: 'other-ns', match: [{ sourceNamespace: 'other' }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
        {
          name: 'matches',
          match: [
            { name: 'm1', uri: { regex: '/reviews/\\d+' }, ignoreUriCase: true, method: { exact: 'GET' }, authority: { prefix: 'reviews' }, headers: { 'X-Test': { exact: 'a' }, present: {} }, queryParams: { q: { prefix: 'x' }, flag: {} } },
            { uri: { exact: '/e' }, withoutHeaders: { 'end-user': { exact: 'jason' } }, sourceLabels: { app: 'productpage' } },
          ],
          route: [{ destination: { host: 'reviews', subset: 'v2' } }],
        },
        { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
      ],
    };
    const r = reviewsRoutes(compile({ virtualServices: [vs('reviews', spec)] }));
    expect(r.map((x) => x.name)).toEqual(['matches.m1', 'matches', undefined]);
    expect(r[0]!.match).toEqual({
      path: { regex: '/reviews/\\d+' },
      caseInsensitive: true,
      headers: [
        { name: 'present', present: true },
        { name: 'x-test', match: { exact: 'a' } },
        { name: ':method', match: { exact: 'GET' } },
        { name: ':authority', match: { prefix: 'reviews' } },
      ],
      queryParams: [
        { name: 'q', match: { prefix: 'x' } },
        { name: 'flag', present: true },
      ],
    });
    expect(r[1]!.match).toEqual({ path: { exact: '/e' }, headers: [{ name: 'end-user', match: { exact: 'jason' }, invert: true }] });
    // ratings' sidecar gets the sourceLabels rule first.
    expect(reviewsRoutes(compile({ virtualServices: [vs('reviews', spec)] }, proxyOf(w, 'ratings-v1')))[0]!.name).toBe('from-ratings');
  });

  it('rewrite, authority, header operations (route and per destination), timeout, retries, mirror and its percentage', () => {
    const spec = {
      hosts: ['reviews.default.svc.cluster.local'],
      http: [
        {
          match: [{ uri: { prefix: '/old' } }],
          rewrite: { uri: '/new', authority: 'reviews-new' },
          headers: { request: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] }, response: { set: { 'x-r': 'r' }, remove: ['server'] } },
          timeout: '0.5s',
          retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,503' },
          mirror: { host: 'ratings' },
          mirrorPercentage: { value: 25.5 },
          route: [{ destination: { host: 'reviews', subset: 'v1' }, headers: { request: { set: { 'x-d': 'd' } } } }],
        },
        {
          retries: { attempts: 0 },
          mirror: { host: 'details', port: { number: 9080 } },
          route: [
            { destination: { host: 'reviews', subset: 'v1' }, weight: 90, headers: { response: { add: { 'x-w': 'v1' } } } },
            { destination: { host: 'reviews', subset: 'v2' }, weight: 10 },
            { destination: { host: 'reviews', subset: 'v3' }, weight: 0 },
          ],
        },
      ],
    };
    const [a, b] = reviewsRoutes(compile({ virtualServices: [vs('reviews', spec)] }));
    expect(a!.route).toEqual({
      clusters: [{ cluster: `outbound|9080|v1|${REVIEWS}`, weight: 100 }],
      timeoutMs: 500,
      prefixRewrite: '/new',
      hostRewrite: 'reviews-new',
      mirrors: [{ cluster: 'outbound|9080||ratings.default.svc.cluster.local', percentage: 25.5 }],
      retry: { numRetries: 3, perTryTimeoutMs: 2000, retryOn: ['gateway-error', 'retriable-status-codes'], retriableStatusCodes: [503] },
    });
    expect(a!.requestHeaders).toEqual({ set: { 'x-a': '1', 'x-d': 'd' }, add: { 'x-b': '2' }, remove: ['x-c'] });
    expect(a!.responseHeaders).toEqual({ set: { 'x-r': 'r' }, remove: ['server'] });
    expect(b!.route).toEqual({
      clusters: [
        { cluster: `outbound|9080|v1|${REVIEWS}`, weight: 90, responseHeaders: { add: { 'x-w': 'v1' } } },
        { cluster: `outbound|9080|v2|${REVIEWS}`, weight: 10 },
      ],
      timeoutMs: 0,
      mirrors: [{ cluster: 'outbound|9080||details.default.svc.cluster.local', percentage: 100 }],
    });
  });

  it('redirect and direct response', () => {
    const spec = {
      hosts: ['reviews'],
      http: [
        { match: [{ uri: { exact: '/r' } }], redirect: { uri: '/x', authority: 'details:9080', redirectCode: 302 } },
        { match: [{ uri: { exact: '/p' } }], redirect: { uri: '/x', port: 8000 } },
        { directResponse: { status: 418, body: { string: 'teapot' } } },
      ],
    };
    const r = reviewsRoutes(compile({ virtualServices: [vs('reviews', spec)] }));
    expect(r[0]!.redirect).toEqual({ responseCode: 302, pathRedirect: '/x', hostRedirect: 'details:9080' });
    expect(r[1]!.redirect).toEqual({ responseCode: 301, pathRedirect: '/x', portRedirect: 8000 });
    expect(r[2]).toMatchObject({ directResponse: { status: 418, body: 'teapot' }, decorator: 'reviews:9080/*' });
  });

  it('a VirtualService only for gateways does not reach sidecars; `mesh` in gateways does; exportTo hides it elsewhere (done by the snapshot)', () => {
    const gwOnly = vs('reviews', { hosts: ['reviews'], gateways: ['bookinfo-gateway'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }] });
    expect(reviewsRoutes(compile({ virtualServices: [gwOnly] }))[0]!.name).toBe('default');
    const both = { ...gwOnly, spec: { ...gwOnly.spec, gateways: ['bookinfo-gateway', 'mesh'] } };
    expect(clustersOf(reviewsRoutes(compile({ virtualServices: [both] }))[0]!)).toEqual([`outbound|9080|v3|${REVIEWS}`]);
  });

  it('a wildcard host in another namespace binds the services it covers; a VS whose rules all miss this proxy leaves the default route', () => {
    const wild = vs('all', { hosts: ['*.default.svc.cluster.local'], http: [{ route: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v2' } }] }] }, 'other');
    const c = compile({ virtualServices: [wild] });
    expect(clustersOf(vhost(c, '9080', 'details.default.svc.cluster.local:9080').routes[0]!)).toEqual([`outbound|9080|v2|${REVIEWS}`]);
    const missed = vs('reviews', { hosts: ['reviews'], http: [{ match: [{ sourceLabels: { app: 'nobody' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] });
    expect(reviewsRoutes(compile({ virtualServices: [missed] }))[0]!.name).toBe('default');
  });

  it('Gateway API routes (gateway semantics) bound to the mesh apply only with the service or the proxy in their namespace', () => {
    const gamma = { ...vs('other~reviews', { hosts: [REVIEWS], gateways: ['mesh'], http: [{ name: 'other.r.0', route: [{ destination: { host: REVIEWS, port: { number: 9080 }, subset: 'v3' } }] }] }, 'other'), metadata: { name: 'other~reviews', namespace: 'other', annotations: { 'internal.istio.io/route-semantics': 'gateway' } } };
    expect(reviewsRoutes(compile({ virtualServices: [gamma] }))[0]!.name).toBe('default');
    expect(reviewsRoutes(compileProxyConfig(snapshot(w, { virtualServices: [gamma] }), { ...productpage, namespace: 'other' }))[0]!.name).toBe('other.r.0');
  });
});

describe('DestinationRule traffic policy', () => {
  const dr = (spec: Obj): Obj => ({ kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'default' }, spec: { host: 'reviews', ...spec } });

  it('connectionPool → circuit breakers, outlierDetection with Envoy\'s defaults for unset fields, loadBalancer, tls; subsets and ports override', () => {
    const c = compile({
      destinationRules: [
        dr({
          trafficPolicy: {
            connectionPool: { tcp: { maxConnections: 1, connectTimeout: '2s' }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } },
            outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '3m', maxEjectionPercent: 100 },
            loadBalancer: { simple: 'ROUND_ROBIN' },
          },
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' }, outlierDetection: { consecutiveGatewayErrors: 2 }, tls: { mode: 'ISTIO_MUTUAL' } } },
            { name: 'v3', labels: { version: 'v3' }, trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, connectionPool: { http: { http2MaxRequests: 7, maxRetries: 4 } } }] } },
          ],
        }),
      ],
    });
    const get = (n: string) => c.clusters.find((x) => x.name === n)!;
    expect(get(`outbound|9080||${REVIEWS}`)).toMatchObject({
      lbPolicy: 'ROUND_ROBIN',
      connectTimeoutMs: 2000,
      circuitBreakers: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 4294967295, maxRequestsPerConnection: 1 },
      outlierDetection: { consecutive5xx: 1, intervalMs: 1000, baseEjectionTimeMs: 180000, maxEjectionPercent: 100, minHealthPercent: 0 },
    });
    expect(get(`outbound|9080|v1|${REVIEWS}`).circuitBreakers.maxConnections).toBe(1);
    expect(get(`outbound|9080|v2|${REVIEWS}`)).toMatchObject({ lbPolicy: 'RANDOM', tls: 'ISTIO_MUTUAL', sni: `outbound_.9080_.v2_.${REVIEWS}`, outlierDetection: { consecutive5xx: 5, consecutiveGatewayErrors: 2, intervalMs: 10000, baseEjectionTimeMs: 30000, maxEjectionPercent: 10 } });
    expect(get(`outbound|9080|v3|${REVIEWS}`).circuitBreakers).toEqual({ maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 7, maxRetries: 4, maxRequestsPerConnection: 0 });
    expect(get(`outbound|9080|v3|${REVIEWS}`).lbPolicy).toBe('ROUND_ROBIN');
  });

  it('two DestinationRules for one host in one namespace act as one: the older one\'s policy, every subset', () => {
    const older = { ...dr({ trafficPolicy: { loadBalancer: { simple: 'RANDOM' } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }] }), metadata: { name: 'reviews-a', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' } };
    const newer = { ...dr({ trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } }, subsets: [{ name: 'v1', labels: { version: 'v9' } }, { name: 'v2', labels: { version: 'v2' } }] }), metadata: { name: 'reviews-b', namespace: 'default', creationTimestamp: '2026-01-02T00:00:00Z' } };
    const c = compile({ destinationRules: [newer, older] });
    const rc = c.clusters.filter((x) => x.service?.hostname === REVIEWS);
    expect(rc.map((x) => [x.name, x.lbPolicy, x.destinationRule?.name])).toEqual([
      [`outbound|9080||${REVIEWS}`, 'RANDOM', 'reviews-a'],
      [`outbound|9080|v1|${REVIEWS}`, 'RANDOM', 'reviews-a'],
      [`outbound|9080|v2|${REVIEWS}`, 'RANDOM', 'reviews-a'],
    ]);
    expect(c.endpoints.find((e) => e.cluster === `outbound|9080|v1|${REVIEWS}`)!.endpoints.map((e) => e.pod?.labels.version)).toEqual(['v1']);
  });

  it('consistentHash: a RING_HASH/MAGLEV cluster and the hash key on the routes to it, per destination', () => {
    const rule = dr({ trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'X-User' } } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v3', labels: { version: 'v3' }, trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: {} } } } }] });
    const plain = compile({ destinationRules: [rule] });
    expect(plain.clusters.find((x) => x.name === `outbound|9080||${REVIEWS}`)!.lbPolicy).toBe('RING_HASH');
    expect(plain.clusters.find((x) => x.name === `outbound|9080|v3|${REVIEWS}`)!.lbPolicy).toBe('MAGLEV');
    expect(reviewsRoutes(plain)[0]!.route!.hashPolicy).toEqual([{ header: 'x-user' }]);
    expect(vhost(plain, '9080', 'details.default.svc.cluster.local:9080').routes[0]!.route!.hashPolicy).toBeUndefined();
    const split = compile({ destinationRules: [rule], virtualServices: sample('virtual-service-reviews-50-v3.yaml') });
    expect(reviewsRoutes(split)[0]!.route!.hashPolicy).toEqual([{ header: 'x-user' }, { sourceIp: true }]);
  });

  it('tls DISABLE turns auto mTLS off; a DestinationRule in the proxy\'s namespace wins over the service\'s', () => {
    const local = { ...dr({ trafficPolicy: { tls: { mode: 'DISABLE' } } }), metadata: { name: 'mine', namespace: 'istio-system' }, spec: { host: REVIEWS, trafficPolicy: { tls: { mode: 'DISABLE' } } } };
    const svcNs = dr({ trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } });
    const gw = proxyOf(w, 'istio-ingressgateway', 'router');
    const c = compileProxyConfig(snapshot(w, { destinationRules: [svcNs, local] }), gw);
    const cl = c.clusters.find((x) => x.name === `outbound|9080||${REVIEWS}`)!;
    expect(cl.tls).toBe('DISABLE');
    expect(cl.destinationRule).toEqual({ name: 'mine', namespace: 'istio-system' });
    expect(compile({ destinationRules: [svcNs, local] }).clusters.find((x) => x.name === `outbound|9080||${REVIEWS}`)!.tls).toBe('ISTIO_MUTUAL');
  });
});

describe('ServiceEntries and mesh config', () => {
  it('an HTTPS ServiceEntry port without addresses is a 0.0.0.0_443 listener with a TLS chain per SNI to its cluster', () => {
    const se = (host: string) => ({ kind: 'ServiceEntry', metadata: { name: host, namespace: 'default' }, spec: { hosts: [host], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], resolution: 'DNS', location: 'MESH_EXTERNAL' } });
    const c = compileProxyConfig(snapshot({ ...w, serviceEntries: [se('www.google.com'), se('edition.cnn.com')] }), productpage);
    const l = c.listeners.find((x) => x.name === '0.0.0.0_443')!;
    expect(l.filterChains.map((f) => [f.match.serverNames, f.tcp?.cluster])).toEqual([
      [['www.google.com'], 'outbound|443||www.google.com'],
      [['edition.cnn.com'], 'outbound|443||edition.cnn.com'],
      [undefined, 'PassthroughCluster'],
    ]);
  });

  it('meshConfig.defaultHttpRetryPolicy replaces Istio\'s default retries where a route sets none; a fault without percentage never fires', () => {
    const world = { ...w, meshYaml: 'defaultHttpRetryPolicy:\n  attempts: 5\n  retryOn: 5xx\n' };
    const c = compileProxyConfig(snapshot(world, { virtualServices: [vs('reviews', { hosts: ['reviews'], http: [{ fault: { abort: { httpStatus: 503 } }, route: [{ destination: { host: 'reviews' } }] }] })] }), productpage);
    expect(reviewsRoutes(c)[0]!.route!.retry).toEqual({ numRetries: 5, retryOn: ['5xx'] });
    expect(reviewsRoutes(c)[0]!.fault).toEqual({ abort: { httpStatus: 503, percentage: 0 } });
    expect(vhost(c, '9080', 'details.default.svc.cluster.local:9080').routes[0]!.route!.retry).toEqual({ numRetries: 5, retryOn: ['5xx'] });
    const off = compileProxyConfig(snapshot({ ...w, meshYaml: 'defaultHttpRetryPolicy:\n  attempts: 0\n' }), productpage);
    expect(vhost(off, '9080', 'details.default.svc.cluster.local:9080').routes[0]!.route!.retry).toBeUndefined();
  });

  it('a MESH_EXTERNAL DNS entry is a STRICT_DNS cluster without auto mTLS, an HTTP virtual host on its port; REGISTRY_ONLY blocks the rest', () => {
    const se = { kind: 'ServiceEntry', metadata: { name: 'httpbin-ext', namespace: 'default' }, spec: { hosts: ['httpbin.org'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS', location: 'MESH_EXTERNAL' } };
    const world = { ...w, serviceEntries: [se], meshYaml: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\naccessLogFile: /dev/stdout\naccessLogEncoding: JSON\n' };
    const c = compileProxyConfig(snapshot(world), productpage);
    expect(c.clusters.find((x) => x.name === 'outbound|80||httpbin.org')).toMatchObject({ type: 'STRICT_DNS', tls: 'DISABLE', service: { hostname: 'httpbin.org', port: 80 } });
    expect(c.endpoints.find((x) => x.cluster === 'outbound|80||httpbin.org')!.endpoints).toEqual([{ address: 'httpbin.org', port: 80, health: 'HEALTHY' }]);
    expect(vhost(c, '80', 'httpbin.org:80').domains).toEqual(['httpbin.org', 'httpbin.org.']);
    expect(vhost(c, '80', 'block_all').routes[0]!.directResponse).toEqual({ status: 502 });
    expect(c.listeners.find((l) => l.name === 'virtualOutbound')!.filterChains[0]!.tcp?.cluster).toBe('BlackHoleCluster');
    expect(c.accessLog).toEqual({ path: '/dev/stdout', encoding: 'JSON' });
  });
});

describe('the mesh view', () => {
  const svc = (name: string, spec: Obj, annotations?: Record<string, string>): Obj => ({ kind: 'Service', metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) }, spec });
  const pod = (name: string, ip: string, labels: Record<string, string>, ports: Obj[] = []): Obj => ({ kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { serviceAccountName: 'sa', containers: [{ name: 'app', ports }] }, status: { phase: 'Running', podIP: ip } });

  it('reads Endpoints when a Service has no EndpointSlices; a named targetPort resolves through the pod; protocols come from appProtocol, then the port name', () => {
    const view = buildMeshView({
      services: [svc('web', { clusterIP: '10.96.5.5', selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http-alt', appProtocol: 'http' }, { name: 'tcp-db', port: 5432 }, { name: 'grpc-x', port: 9000 }, { port: 81, name: 'other' }] })],
      endpointSlices: [],
      endpoints: [{ kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.3.3', targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default' } }], notReadyAddresses: [{ ip: '10.244.3.4' }], ports: [{ name: 'web', port: 8081 }, { name: 'tcp-db', port: 5432 }] }] }],
      pods: [pod('web-1', '10.244.3.3', { app: 'web' }, [{ name: 'http-alt', containerPort: 8081 }])],
      serviceEntries: [],
    });
    const s = view.services[0]!;
    expect(s.ports.map((p) => p.protocol)).toEqual(['HTTP', 'TCP', 'GRPC', 'UnsupportedProtocol']);
    expect(s.endpoints[80]).toEqual([{ address: '10.244.3.3', port: 8081, pod: { namespace: 'default', name: 'web-1', labels: { app: 'web' }, serviceAccount: 'sa' }, labels: { app: 'web' } }]);
    expect(inboundPorts(view, { namespace: 'default', podName: 'web-1', labels: { app: 'web' } })).toEqual([
      { port: 81, servicePort: 81, hostname: 'web.default.svc.cluster.local' },
      { port: 5432, protocol: 'tcp', servicePort: 5432, hostname: 'web.default.svc.cluster.local' },
      { port: 8081, protocol: 'http', servicePort: 80, hostname: 'web.default.svc.cluster.local' },
      { port: 9000, protocol: 'grpc', servicePort: 9000, hostname: 'web.default.svc.cluster.local' },
    ]);
  });

  it('protocols as kube.ConvertProtocol: appProtocol over the name, grpc-web whole, well-known ports TCP, UDP never routed', () => {
    const view = buildMeshView({
      services: [svc('p', { clusterIP: '10.96.7.7', ports: [{ name: 'tcp-x', port: 1, appProtocol: 'http' }, { name: 'grpc-web-x', port: 2 }, { name: 'dns-tcp', port: 53 }, { name: 'dns', port: 53, protocol: 'UDP' }, { name: 'x', port: 3, appProtocol: 'kubernetes.io/h2c' }, { name: 'mysql', port: 3306 }, { name: 'web', port: 3307 }] })],
      endpointSlices: [],
      endpoints: [],
      pods: [],
      serviceEntries: [],
    });
    expect(view.services[0]!.ports.map((p) => p.protocol)).toEqual(['HTTP', 'GRPC-Web', 'TCP', 'UDP', 'HTTP2', 'MySQL', 'UnsupportedProtocol']);
    const c = compileProxyConfig({ ...snapshot({ services: [], pods: [] }), mesh: view }, productpage);
    expect(c.listeners.map((l) => l.name).filter((n) => n !== 'virtualOutbound' && n !== 'virtualInbound')).toEqual(['0.0.0.0_1', '0.0.0.0_2', '0.0.0.0_3', '10.96.7.7_53', '10.96.7.7_3306', '0.0.0.0_3307']);
  });

  it('a headless Service is an ORIGINAL_DST cluster without EDS whose domains also match subdomains; a STATIC ServiceEntry is EDS to its endpoints by subset labels', () => {
    const world: World = {
      services: [svc('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'http', port: 8080 }] })],
      pods: [pod('db-0', '10.244.4.4', { app: 'db' })],
      serviceEntries: [{ kind: 'ServiceEntry', metadata: { name: 'vms', namespace: 'default' }, spec: { hosts: ['vm.internal'], addresses: ['240.0.0.1'], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 8080, name: 'http', protocol: 'HTTP', targetPort: 9090 }], endpoints: [{ address: '192.168.0.1', labels: { version: 'a', 'security.istio.io/tlsMode': 'istio' } }, { address: '192.168.0.2', labels: { version: 'b' } }] } }],
    };
    const snap = snapshot(world, { destinationRules: [{ kind: 'DestinationRule', metadata: { name: 'vm', namespace: 'default' }, spec: { host: 'vm.internal', subsets: [{ name: 'a', labels: { version: 'a' } }] } }] });
    const c = compileProxyConfig(snap, { ...productpage, labels: {} });
    expect(c.clusters.find((x) => x.name === 'outbound|8080||db.default.svc.cluster.local')).toMatchObject({ type: 'ORIGINAL_DST', lbPolicy: 'PASSTHROUGH' });
    expect(c.endpoints.some((e) => e.cluster === 'outbound|8080||db.default.svc.cluster.local')).toBe(false);
    expect(vhost(c, '8080', 'db.default.svc.cluster.local:8080').domains).toEqual(['db.default.svc.cluster.local', 'db.default.svc.cluster.local.', 'db', 'db.default.svc', 'db.default', '*.db.default.svc.cluster.local', '*.db.default.svc.cluster.local.', '*.db', '*.db.default.svc', '*.db.default']);
    expect(c.clusters.find((x) => x.name === 'outbound|8080|a|vm.internal')).toMatchObject({ type: 'EDS', sni: 'outbound_.8080_.a_.vm.internal' });
    expect(c.endpoints.find((e) => e.cluster === 'outbound|8080|a|vm.internal')!.endpoints).toEqual([{ address: '192.168.0.1', port: 9090, tlsMode: 'istio', health: 'HEALTHY' }]);
    expect(vhost(c, '8080', 'vm.internal:8080').domains).toEqual(['vm.internal', 'vm.internal.', '240.0.0.1']);
  });

  it('a Service exported only to its own namespace is invisible from others', () => {
    const world: World = { services: [svc('private', { clusterIP: '10.96.6.6', ports: [{ name: 'http', port: 7000 }] }, { 'networking.istio.io/exportTo': '.' })], pods: [] };
    expect(compileProxyConfig(snapshot(world), productpage).clusters.some((x) => x.name.includes('private'))).toBe(true);
    expect(compileProxyConfig(snapshot(world), { ...productpage, namespace: 'other' }).clusters.some((x) => x.name.includes('private'))).toBe(false);
  });
});

describe('the Sidecar resource', () => {
  const sc = (name: string, ns: string, spec: Obj): Obj => ({ kind: 'Sidecar', metadata: { name, namespace: ns, creationTimestamp: '2026-01-03T00:00:00Z' }, spec });

  it('egress hosts limit the services and VirtualServices a sidecar imports; its outboundTrafficPolicy replaces the mesh\'s; gateways ignore it', () => {
    const sidecars = [sc('default', 'default', { egress: [{ hosts: ['./ratings.default.svc.cluster.local', 'istio-system/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })];
    const c = compile({ sidecars, virtualServices: allV1 });
    expect(c.clusters.filter((x) => x.direction === 'outbound').map((x) => x.service!.hostname)).toEqual(expect.arrayContaining(['ratings.default.svc.cluster.local', 'istio-ingressgateway.istio-system.svc.cluster.local']));
    expect(c.clusters.some((x) => x.service?.hostname === REVIEWS)).toBe(false);
    expect(rds(c, '9080').virtualHosts.map((v) => v.name)).toEqual(['ratings.default.svc.cluster.local:9080', 'block_all']);
    expect(clustersOf(vhost(c, '9080', 'ratings.default.svc.cluster.local:9080').routes[0]!)).toEqual(['outbound|9080|v1|ratings.default.svc.cluster.local']);
    const gw = compileProxyConfig(snapshot(w, { sidecars }), proxyOf(w, 'istio-ingressgateway', 'router'));
    expect(gw.clusters.some((x) => x.service?.hostname === REVIEWS)).toBe(true);
  });

  it('a workloadSelector Sidecar applies to its workloads only, before the namespace\'s and the root namespace\'s', () => {
    const sidecars = [sc('only-details', 'default', { workloadSelector: { labels: { app: 'productpage' } }, egress: [{ hosts: ['./details.default.svc.cluster.local'] }] }), sc('mesh', 'istio-system', { egress: [{ hosts: ['*/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })];
    expect(rds(compile({ sidecars }), '9080').virtualHosts.map((v) => v.name)).toEqual(['details.default.svc.cluster.local:9080', 'allow_any']);
    const reviews = compile({ sidecars }, proxyOf(w, 'reviews-v1'));
    expect(rds(reviews, '9080').virtualHosts.map((v) => v.name)).toContain(`${REVIEWS}:9080`);
    expect(rds(reviews, '9080').virtualHosts.at(-1)!.name).toBe('block_all');
  });
});

describe('hostile config', () => {
  it('malformed VirtualServices, DestinationRules, Gateways, Sidecars and ServiceEntries compile without throwing', () => {
    const junk: unknown[] = [null, 7, 'x', [], {}, [null], [{}], { a: null }, true];
    for (const j of junk) {
      const spec = (over: Obj) => ({ hosts: ['reviews', '*'], ...over });
      const vss = [
        vs('a', spec({ http: j })),
        vs('b', spec({ http: [{ match: j, route: j, headers: j, retries: j, fault: j, mirror: j, rewrite: j, redirect: j === null ? undefined : j, timeout: j }] })),
        vs('c', spec({ http: [{ match: [{ uri: j, headers: j, queryParams: j, withoutHeaders: j, sourceLabels: j, gateways: j, port: j }], route: [{ destination: j, weight: j, headers: { request: j, response: j } }] }] })),
        vs('d', { hosts: j, gateways: j, http: [{ route: [{ destination: { host: 'reviews', subset: j, port: j } }] }] }),
        vs('e', spec({ http: [{ fault: { delay: j, abort: j }, retries: { attempts: 2, retryOn: j, perTryTimeout: j }, mirrorPercentage: j, mirrors: j, directResponse: j === null ? undefined : j }] })),
      ];
      const drs = [{ metadata: { name: 'x', namespace: 'default' }, spec: { host: j, trafficPolicy: j, subsets: j, exportTo: j } }, { metadata: { name: 'y', namespace: 'default' }, spec: { host: 'reviews', trafficPolicy: { connectionPool: j, outlierDetection: j, loadBalancer: j, tls: j, portLevelSettings: j }, subsets: [{ name: 'v1', labels: j, trafficPolicy: j }] } }];
      const gateways = [{ metadata: { name: 'g', namespace: 'default' }, spec: { selector: j, servers: j } }, { metadata: { name: 'h', namespace: 'default' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: j, hosts: j, tls: j }, { port: { number: 80, protocol: 'HTTP' }, hosts: j }] } }];
      const sidecars = [{ metadata: { name: 's', namespace: 'default' }, spec: { egress: j, workloadSelector: j, outboundTrafficPolicy: j } }];
      const serviceEntries = [{ metadata: { name: 'se', namespace: 'default' }, spec: { hosts: j, ports: j, endpoints: j, addresses: j, resolution: j } }];
      for (const proxy of [productpage, proxyOf(w, 'istio-ingressgateway', 'router')]) {
        const snap = snapshot({ ...w, serviceEntries: serviceEntries as Obj[] }, { virtualServices: vss, destinationRules: drs, gateways, sidecars });
        expect(() => compileProxyConfig(snap, proxy), `junk ${JSON.stringify(j)}`).not.toThrow();
      }
    }
  });
});
