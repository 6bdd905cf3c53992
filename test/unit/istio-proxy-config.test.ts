/**
 * `istioctl proxy-config` tables from hand-built ProxyConfigs, through the admin's config dump as
 * the real istioctl reads it: column order and paddings (5, listeners 1), sort orders, filters,
 * domain folding, 404 virtual hosts, the DESTINATION RULE / VIRTUAL SERVICE columns, jsonpb
 * field names for -o json, Envoy's ?mask=, and the endpoints table from /clusters.
 */
import { describe, expect, it } from 'vitest';
import { configDump, type BootstrapInfo } from '../../server/sim/addons/istio/envoy/admin-dump.js';
import {
  bootstrapSummary,
  clusterDump,
  clusterSummary,
  describeRouteDomains,
  endpointsSummary,
  listenerSummary,
  routeSummary,
} from '../../server/sim/addons/istio/istioctl/config-dump.js';
import type { Cluster, ProxyConfig, Route } from '../../server/sim/addons/istio/xds/types.js';

const identity = { id: 'productpage-v1-abc.default', podName: 'productpage-v1-abc', namespace: 'default', podIP: '10.244.1.9', type: 'sidecar' as const, labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' };
const info: BootstrapInfo = { identity, domain: 'default.svc.cluster.local', startedAt: new Date('2026-12-06T05:00:00Z'), clusterId: 'Kubernetes' };

const cb = { maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, maxRequestsPerConnection: 0 };
const svcCluster = (host: string, port: number, subset?: string, dr?: string): Cluster => ({
  name: `outbound|${port}|${subset ?? ''}|${host}`,
  direction: 'outbound',
  type: 'EDS',
  service: { hostname: host, port, ...(subset ? { subset } : {}) },
  ...(dr ? { destinationRule: { name: dr, namespace: 'default' } } : {}),
  lbPolicy: 'LEAST_REQUEST',
  circuitBreakers: cb,
  connectTimeoutMs: 10000,
});
const plain = (name: string, type: Cluster['type']): Cluster => ({ name, direction: 'static', type, lbPolicy: type === 'ORIGINAL_DST' ? 'PASSTHROUGH' : 'ROUND_ROBIN', circuitBreakers: cb, connectTimeoutMs: 10000 });

const route = (match: Route['match'], cluster: string, vs?: string): Route => ({ match, route: { clusters: [{ cluster, weight: 100 }], timeoutMs: 0 }, ...(vs ? { virtualService: { name: vs, namespace: 'default' } } : {}) });

const domains = (svc: string) => {
  const fqdn = `${svc}.default.svc.cluster.local`;
  return [fqdn, `${fqdn}:9080`, svc, `${svc}:9080`, `${svc}.default.svc`, `${svc}.default.svc:9080`, `${svc}.default`, `${svc}.default:9080`, '10.96.4.4', '10.96.4.4:9080'];
};

const config: ProxyConfig = {
  version: '2026-12-06T05:00:00Z/3',
  proxy: identity,
  listeners: [
    {
      name: '0.0.0.0_9080', address: '0.0.0.0', port: 9080, direction: 'outbound',
      filterChains: [
        { match: { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] }, http: { routeConfigName: '9080' } },
        { match: {}, tcp: { cluster: 'PassthroughCluster' } },
      ],
    },
    { name: '10.96.0.10_53', address: '10.96.0.10', port: 53, direction: 'outbound', filterChains: [{ match: {}, tcp: { cluster: 'outbound|53||kube-dns.kube-system.svc.cluster.local' } }] },
    { name: 'virtualOutbound', address: '0.0.0.0', port: 15001, direction: 'outbound', filterChains: [{ match: {}, tcp: { cluster: 'PassthroughCluster' } }] },
    {
      name: 'virtualInbound', address: '0.0.0.0', port: 15006, direction: 'inbound',
      filterChains: [
        { match: { destinationPort: 15006 }, tcp: { cluster: 'BlackHoleCluster' } },
        {
          match: { destinationPort: 9080, transportProtocol: 'tls', applicationProtocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] },
          http: { routeConfig: { name: 'inbound|9080||', virtualHosts: [{ name: 'inbound|http|9080', domains: ['*'], routes: [route({ path: { prefix: '/' } }, 'inbound|9080||')] }] }, rbac: [{ action: 'DENY', policies: [{ name: 'ns[default]-policy[deny-get]-rule[0]', rule: { to: [{ methods: ['GET'] }] } }] }] },
          requireClientCertificate: true,
        },
      ],
    },
  ],
  routes: [
    {
      name: '9080',
      virtualHosts: [
        { name: 'reviews.default.svc.cluster.local:9080', domains: domains('reviews'), routes: [route({ path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, 'outbound|9080|v2|reviews.default.svc.cluster.local', 'reviews'), route({ path: { prefix: '/' } }, 'outbound|9080|v1|reviews.default.svc.cluster.local', 'reviews')] },
        { name: 'details.default.svc.cluster.local:9080', domains: domains('details'), routes: [route({ path: { prefix: '/' } }, 'outbound|9080||details.default.svc.cluster.local')] },
        { name: 'allow_any', domains: ['*'], routes: [route({ path: { prefix: '/' } }, 'PassthroughCluster')] },
        { name: 'block_all', domains: ['blocked.example'], routes: [] },
      ],
    },
    { name: '80', virtualHosts: [{ name: 'istio-ingressgateway.istio-system.svc.cluster.local:80', domains: ['istio-ingressgateway.istio-system.svc.cluster.local', 'istio-ingressgateway.istio-system'], routes: [route({ path: { prefix: '/' } }, 'outbound|80||istio-ingressgateway.istio-system.svc.cluster.local')] }] },
  ],
  clusters: [
    svcCluster('reviews.default.svc.cluster.local', 9080, 'v2', 'reviews'),
    svcCluster('reviews.default.svc.cluster.local', 9080, undefined, 'reviews'),
    svcCluster('details.default.svc.cluster.local', 9080),
    svcCluster('reviews.default.svc.cluster.local', 9080, 'v1', 'reviews'),
    plain('PassthroughCluster', 'ORIGINAL_DST'),
    plain('BlackHoleCluster', 'STATIC'),
    { ...plain('inbound|9080||', 'ORIGINAL_DST'), direction: 'inbound' },
  ],
  endpoints: [{ cluster: 'outbound|9080||details.default.svc.cluster.local', endpoints: [{ address: '10.244.2.4', port: 9080, health: 'HEALTHY', tlsMode: 'istio' }] }],
};

const dump = configDump(info, config, { includeEds: true });
const lines = (t: string) => t.split('\n').filter(Boolean);

describe('proxy-config clusters', () => {
  it('prints istioctl columns with padding 5, sorted by FQDN, subset, port, direction', () => {
    expect(clusterSummary(dump, {})).toBe(
      [
        'SERVICE FQDN                          PORT     SUBSET     DIRECTION     TYPE             DESTINATION RULE',
        '                                      9080     -          inbound       ORIGINAL_DST     ',
        'BlackHoleCluster                      -        -          -             STATIC           ',
        'PassthroughCluster                    -        -          -             ORIGINAL_DST     ',
        'agent                                 -        -          -             STATIC           ',
        'details.default.svc.cluster.local     9080     -          outbound      EDS              ',
        'prometheus_stats                      -        -          -             STATIC           ',
        'reviews.default.svc.cluster.local     9080     -          outbound      EDS              reviews.default',
        'reviews.default.svc.cluster.local     9080     v1         outbound      EDS              reviews.default',
        'reviews.default.svc.cluster.local     9080     v2         outbound      EDS              reviews.default',
        'sds-grpc                              -        -          -             STATIC           ',
        'xds-grpc                              -        -          -             STATIC           ',
        '',
      ].join('\n'),
    );
  });

  it('filters by substring of the name as istioctl does (--fqdn, --subset, --port, --direction)', () => {
    expect(lines(clusterSummary(dump, { fqdn: 'reviews', subset: 'v2' })).slice(1).map((l) => l.split(/ +/)[2])).toEqual(['v2']);
    expect(lines(clusterSummary(dump, { direction: 'inbound' })).length).toBe(2);
    expect(lines(clusterSummary(dump, { port: 9080 })).length).toBe(6);
  });

  it('-o json is jsonpb: camelCase fields, Struct metadata kept as written, 4-space indent', () => {
    const text = clusterDump(dump, { fqdn: 'reviews', subset: 'v1' }, 'json');
    expect(text.startsWith('[\n    {\n        "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",\n        "name": "outbound|9080|v1|reviews.default.svc.cluster.local",')).toBe(true);
    const [c] = JSON.parse(text) as Record<string, any>[];
    expect(c!.edsClusterConfig.serviceName).toBe('outbound|9080|v1|reviews.default.svc.cluster.local');
    expect(c!.lbPolicy).toBe('LEAST_REQUEST');
    expect(c!.metadata.filterMetadata.istio).toEqual({ services: [{ host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }], default_original_port: 9080, subset: 'v1', config: '/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews' });
    expect(c!.circuitBreakers.thresholds[0].maxPendingRequests).toBe(4294967295);
  });
});

describe('proxy-config listeners', () => {
  it('prints addresses by port with padding 1, chains by destination, inline routes and passthrough', () => {
    expect(listenerSummary(dump, { verbose: true })).toBe(
      [
        'ADDRESSES  PORT  MATCH                                                                 DESTINATION',
        '10.96.0.10 53    ALL                                                                   Cluster: outbound|53||kube-dns.kube-system.svc.cluster.local',
        '0.0.0.0    9080  Trans: raw_buffer; App: http/1.1,h2c                                  Route: 9080',
        '0.0.0.0    9080  ALL                                                                   PassthroughCluster',
        '0.0.0.0    15001 ALL                                                                   PassthroughCluster',
        '0.0.0.0    15006 Addr: *:15006                                                         Non-HTTP/Non-TCP',
        '0.0.0.0    15006 Trans: tls; App: istio-http/1.0,istio-http/1.1,istio-h2; Addr: *:9080 Cluster: inbound|9080||',
        '0.0.0.0    15021 ALL                                                                   Inline Route: /healthz/ready*',
        '0.0.0.0    15090 ALL                                                                   Inline Route: /stats/prometheus*',
        '',
      ].join('\n'),
    );
  });

  it('non-verbose prints the type; --port and --type filter', () => {
    expect(lines(listenerSummary(dump, { verbose: false, port: 9080 }))).toEqual(['ADDRESSES PORT TYPE', '0.0.0.0   9080 HTTP+TCP']);
    expect(lines(listenerSummary(dump, { verbose: false, type: 'tcp' })).map((l) => l.split(/ +/)[1])).toEqual(['PORT', '53', '15001']);
  });
});

describe('proxy-config routes', () => {
  it('folds domains, shows the VirtualService, skips passthrough routes, a route-less vhost is a 404', () => {
    expect(routeSummary(dump, { verbose: true })).toBe(
      [
        'NAME               VHOST NAME                                                 DOMAINS                                  MATCH                  VIRTUAL SERVICE',
        '80                 istio-ingressgateway.istio-system.svc.cluster.local:80     istio-ingressgateway.istio-system        /*                     ',
        '9080               reviews.default.svc.cluster.local:9080                     reviews, reviews.default + 1 more...     /*                     reviews.default',
        '9080               reviews.default.svc.cluster.local:9080                     reviews, reviews.default + 1 more...     /*                     reviews.default',
        '9080               details.default.svc.cluster.local:9080                     details, details.default + 1 more...     /*                     ',
        '9080               block_all                                                  blocked.example                          /*                     404',
        '                   backend                                                    *                                        /stats/prometheus*     ',
        '                   backend                                                    *                                        /healthz/ready*        ',
        'inbound|9080||     inbound|http|9080                                          *                                        /*                     ',
        '',
      ].join('\n'),
    );
  });

  it('--name picks one route configuration; non-verbose counts virtual hosts', () => {
    expect(lines(routeSummary(dump, { verbose: false, name: '9080' }))).toEqual(['NAME     VIRTUAL HOSTS', '9080     4']);
  });

  it('folds .svc.cluster.local and .svc expansions and drops ported names', () => {
    expect(describeRouteDomains(['a.b.svc.cluster.local', 'a', 'a.b.svc', 'a.b'])).toBe('a, a.b');
    expect(describeRouteDomains(['*'])).toBe('*');
    expect(describeRouteDomains(['x.example:80', 'x.example'])).toBe('x.example');
  });
});

describe('the admin config dump', () => {
  it('keeps only the masked fields of each config, as Envoy does with ?mask=', () => {
    const masked = configDump(info, config, { mask: ['dynamic_active_clusters'] }) as { configs: Record<string, unknown>[] };
    const clusters = masked.configs.find((c) => String(c['@type']).endsWith('ClustersConfigDump'))!;
    expect(Object.keys(clusters)).toEqual(['@type', 'dynamic_active_clusters']);
    expect(masked.configs.find((c) => String(c['@type']).endsWith('BootstrapConfigDump'))).toEqual({ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump' });
    expect(masked.configs.some((c) => String(c['@type']).endsWith('EndpointsConfigDump'))).toBe(false);
  });

  it('names the proxy as Istio does and reports the Istio and Envoy versions', () => {
    expect(bootstrapSummary(dump)).toMatch(/^Istio Version:       1\.30\.\d+\nIstio Proxy Version: [0-9a-f]{40}\nEnvoy Version:       1\.\d+\.\d+-dev\/Clean\/RELEASE\/BoringSSL\n$/);
    const b = (dump as { configs: { bootstrap?: { node: { id: string } } }[] }).configs[0]!.bootstrap!;
    expect(b.node.id).toBe('sidecar~10.244.1.9~productpage-v1-abc.default~default.svc.cluster.local');
  });
});

describe('proxy-config endpoints', () => {
  it('sorts hosts by address and port, marks ejected hosts FAILED', () => {
    const clusters = {
      cluster_statuses: [
        { name: 'outbound|9080||reviews.default.svc.cluster.local', host_statuses: [
          { address: { socket_address: { address: '10.244.2.5', port_value: 9080 } }, health_status: { eds_health_status: 'HEALTHY' } },
          { address: { socket_address: { address: '10.244.1.6', port_value: 9080 } }, health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true } },
        ] },
        { name: 'xds-grpc', host_statuses: [{ address: { pipe: { path: './etc/istio/proxy/XDS' } }, health_status: { eds_health_status: 'HEALTHY' } }] },
      ],
    };
    expect(endpointsSummary(clusters, {})).toBe(
      [
        'ENDPOINT                         STATUS      OUTLIER CHECK     CLUSTER',
        '10.244.1.6:9080                  HEALTHY     FAILED            outbound|9080||reviews.default.svc.cluster.local',
        '10.244.2.5:9080                  HEALTHY     OK                outbound|9080||reviews.default.svc.cluster.local',
        'unix://./etc/istio/proxy/XDS     HEALTHY     OK                xds-grpc',
        '',
      ].join('\n'),
    );
    expect(lines(endpointsSummary(clusters, { status: 'unhealthy' }))).toEqual(['ENDPOINT     STATUS     OUTLIER CHECK     CLUSTER']);
  });
});
