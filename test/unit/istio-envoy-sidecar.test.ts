/**
 * The sidecar interceptor with hand-built configs: which requests Envoy takes (and which bypass
 * it as iptables' exclusions do), the outbound listener by original destination, PassthroughCluster
 * and BlackHoleCluster, and the inbound side (filter chain, 127.0.0.6 to the app, the headers
 * the app and the caller see, the reset of a plain-text client against STRICT).
 */
import { describe, expect, it } from 'vitest';
import { ProxyRegistry } from '../../server/sim/addons/istio/envoy/proxy.js';
import { sidecarInterceptor } from '../../server/sim/addons/istio/envoy/sidecar.js';
import { inboundRouteConfig } from '../../server/sim/addons/istio/xds/compile/inbound.js';
import type { FilterChain, Listener } from '../../server/sim/addons/istio/xds/types.js';
import type { HttpResponse } from '../../server/sim/images/types.js';
import type { InboundCall, NetworkPod, OutboundCall } from '../../server/sim/network/types.js';
import { cluster, endpoint, get, httpListener, makeProxy, reply, toCluster, vhost, type Fixture } from '../helpers/istio-envoy.js';

const netPod = (name: string, ip: string, labels: Record<string, string> = {}): NetworkPod => ({ namespace: 'default', name, uid: name, ip, nodeName: 'node-1', hostNetwork: false, labels, annotations: {}, object: () => ({}) as never });
const PP = netPod('productpage-v1-6b746f74dc-9stvs', '10.244.0.10', { app: 'productpage', version: 'v1' });
const REVIEWS_POD = netPod('reviews-v1-5d4f8b7c9d-abcde', '10.244.1.1', { app: 'reviews', version: 'v1' });
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';

function clientProxy(extraListeners: Listener[] = []): Fixture {
  const f = makeProxy({
    routes: [{ name: '9080', ignorePortInHostMatching: true, virtualHosts: [vhost('reviews.default.svc.cluster.local:9080', ['reviews', '10.96.0.50'], [toCluster(REVIEWS, { name: 'default', decorator: 'reviews.default.svc.cluster.local:9080/*' })])] }],
    listeners: [httpListener(9080), ...extraListeners],
    clusters: [cluster(REVIEWS)],
    endpoints: [{ cluster: REVIEWS, endpoints: [endpoint('10.244.1.1', 9080)] }],
  });
  (f.proxy.ctx.net as { resolve: (h: string) => string | null }).resolve = (h) => ({ reviews: '10.96.0.50', '10.96.0.50': '10.96.0.50', 'example.com': '93.184.216.34', '93.184.216.34': '93.184.216.34' })[h] ?? null;
  return f;
}

function recorder<C>(answer: (c: C) => HttpResponse | Promise<HttpResponse> = () => reply(200, 'app', { server: 'Werkzeug/3.0' })) {
  const calls: C[] = [];
  return { calls, next: async (c: C) => (calls.push(c), answer(c)) };
}

describe('outbound', () => {
  it('passes through untouched until the proxy has its first config, and never for a gateway pod', async () => {
    const registry = new ProxyRegistry();
    const f = clientProxy();
    f.proxy.config = undefined;
    registry.add(f.proxy);
    const sc = sidecarInterceptor(registry);
    const call: OutboundCall = { source: PP, target: { host: 'reviews', port: 9080 }, req: get('/', 'reviews:9080') };
    const r = recorder<OutboundCall>();
    await sc.outbound!(call, r.next);
    expect(r.calls[0]).toBe(call);
    expect(f.logs).toEqual([]);
  });

  it("a Service's port: the HTTP listener, the endpoint Envoy picks, mTLS to it, the log line", async () => {
    const registry = new ProxyRegistry();
    const f = clientProxy();
    registry.add(f.proxy);
    const r = recorder<OutboundCall>();
    const res = await sidecarInterceptor(registry).outbound!({ source: PP, target: { host: 'reviews', port: 9080 }, req: get('/reviews/0', 'reviews:9080') }, r.next);
    expect(res.headers.server).toBe('envoy');
    expect(r.calls[0]!.target).toEqual({ host: '10.244.1.1', port: 9080 });
    expect(r.calls[0]!.transport?.tls?.sni).toBe('outbound_.9080_._.reviews.default.svc.cluster.local');
    expect(r.calls[0]!.req.headers['x-envoy-decorator-operation']).toBe('reviews.default.svc.cluster.local:9080/*');
    expect(f.logs[0]).toMatch(/"GET \/reviews\/0 HTTP\/1.1" 200 - via_upstream .* "reviews:9080" "10.244.1.1:9080" outbound\|9080\|\|reviews.default.svc.cluster.local 10.244.0.10:\d+ 10.96.0.50:9080 10.244.0.10:\d+ - default$/);
  });

  it('an address no listener knows: virtualOutbound → PassthroughCluster, the original destination, a TCP log line', async () => {
    const registry = new ProxyRegistry();
    const virtualOutbound: Listener = { name: 'virtualOutbound', address: '0.0.0.0', port: 15001, direction: 'outbound', filterChains: [{ match: {}, tcp: { cluster: 'PassthroughCluster' } }] };
    const f = clientProxy([virtualOutbound]);
    registry.add(f.proxy);
    const r = recorder<OutboundCall>();
    await sidecarInterceptor(registry).outbound!({ source: PP, target: { host: 'example.com', port: 8443 }, req: get('/', 'example.com:8443') }, r.next);
    expect(r.calls[0]!.target).toEqual({ host: '93.184.216.34', port: 8443 });
    expect(r.calls[0]!.transport).toBeUndefined();
    expect(f.logs[0]).toMatch(/^\[[^\]]+\] "- - -" 0 - - - "-" \d+ \d+ \d+ - "-" "-" "-" "-" "93.184.216.34:8443" PassthroughCluster 10.244.0.10:\d+ 93.184.216.34:8443 10.244.0.10:\d+ - -$/);
  });

  it('REGISTRY_ONLY: BlackHoleCluster resets the connection', async () => {
    const registry = new ProxyRegistry();
    const f = clientProxy([{ name: 'virtualOutbound', address: '0.0.0.0', port: 15001, direction: 'outbound', filterChains: [{ match: {}, tcp: { cluster: 'BlackHoleCluster' } }] }]);
    registry.add(f.proxy);
    const r = recorder<OutboundCall>();
    await expect(sidecarInterceptor(registry).outbound!({ source: PP, target: { host: 'example.com', port: 8443 }, req: get('/', 'example.com') }, r.next)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(r.calls).toHaveLength(0);
  });

  it('a name DNS does not know never reaches Envoy', async () => {
    const registry = new ProxyRegistry();
    const f = clientProxy();
    registry.add(f.proxy);
    const r = recorder<OutboundCall>();
    const call: OutboundCall = { source: PP, target: { host: 'nope', port: 80 }, req: get('/', 'nope') };
    await sidecarInterceptor(registry).outbound!(call, r.next);
    expect(r.calls[0]).toBe(call);
  });
});

describe('inbound', () => {
  const chains = (mode: 'STRICT' | 'PERMISSIVE'): FilterChain[] => {
    const http = { routeConfig: inboundRouteConfig('inbound|9080||', 9080, 'reviews.default.svc.cluster.local'), serverName: 'istio-envoy', forwardClientCertDetails: 'APPEND_FORWARD' as const };
    const tls: FilterChain = { name: '0.0.0.0_9080', match: { destinationPort: 9080, transportProtocol: 'tls', applicationProtocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] }, http, requireClientCertificate: true };
    const plain: FilterChain = { name: '0.0.0.0_9080', match: { destinationPort: 9080, transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] }, http };
    return mode === 'STRICT' ? [tls] : [tls, plain];
  };
  function server(mode: 'STRICT' | 'PERMISSIVE' = 'PERMISSIVE') {
    const registry = new ProxyRegistry();
    const f = makeProxy({
      routes: [],
      listeners: [{ name: 'virtualInbound', address: '0.0.0.0', port: 15006, direction: 'inbound', filterChains: chains(mode) }],
      clusters: [cluster('inbound|9080||', { direction: 'inbound', type: 'ORIGINAL_DST' })],
      pod: { name: REVIEWS_POD.name, namespace: 'default', ip: REVIEWS_POD.ip, labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'bookinfo-reviews' },
    });
    registry.add(f.proxy);
    const client = clientProxy();
    registry.add(client.proxy);
    return { registry, f, sc: sidecarInterceptor(registry) };
  }
  const inboundCall = (extra: Partial<InboundCall> = {}): InboundCall => ({ destination: REVIEWS_POD, port: 9080, req: get('/reviews/0', 'reviews:9080'), source: { ip: '10.244.0.10', pod: PP }, via: 'pod', service: { namespace: 'default', name: 'reviews', port: 9080 }, ...extra });

  it('mTLS from a sidecar: the app gets the request from 127.0.0.6 with x-forwarded-client-cert, without peer metadata or decorator', async () => {
    const { f, sc } = server();
    const r = recorder<InboundCall>();
    const req = get('/reviews/0', 'reviews:9080', { 'x-envoy-peer-metadata-id': 'sidecar~10.244.0.10~productpage.default~default.svc.cluster.local', 'x-envoy-peer-metadata': 'e30=', 'x-envoy-decorator-operation': 'reviews.default.svc.cluster.local:9080/*', 'x-request-id': 'rid-1' });
    const res = await sc.inbound!(inboundCall({ req, transport: { tls: { sni: 'outbound_.9080_._.reviews.default.svc.cluster.local', clientIdentity: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' } } }), r.next);
    const got = r.calls[0]!;
    expect(got.source.ip).toBe('127.0.0.6');
    expect(got.port).toBe(9080);
    expect(got.req.headers['x-forwarded-client-cert']).toMatch(/^By=spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-reviews;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-productpage$/);
    expect(got.req.headers['x-envoy-peer-metadata']).toBeUndefined();
    expect(got.req.headers['x-envoy-decorator-operation']).toBeUndefined();
    expect(res.headers.server).toBe('istio-envoy');
    expect(res.headers['x-envoy-decorator-operation']).toBe('reviews.default.svc.cluster.local:9080/*');
    expect(f.logs[0]).toMatch(/"GET \/reviews\/0 HTTP\/1.1" 200 - via_upstream - "-" 0 3 \d+ \d+ "-" "curl\/8.16.0" "rid-1" "reviews:9080" "10.244.1.1:9080" inbound\|9080\|\| 127.0.0.6:\d+ 10.244.1.1:9080 10.244.0.10:\d+ outbound_.9080_._.reviews.default.svc.cluster.local default$/);
    const prom = f.proxy.stats.renderPrometheus();
    expect(prom).toMatch(/istio_requests_total\{reporter="destination",source_workload="productpage-v1",.*connection_security_policy="mutual_tls".*\} 1/);
  });

  it('plain text from outside the mesh (PERMISSIVE): no client cert header, source unknown in the metrics', async () => {
    const { f, sc } = server();
    const r = recorder<InboundCall>();
    const res = await sc.inbound!(inboundCall({ source: { ip: '10.244.5.5' } }), r.next);
    expect(res.status).toBe(200);
    expect(r.calls[0]!.req.headers['x-forwarded-client-cert']).toBeUndefined();
    expect(r.calls[0]!.req.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.proxy.stats.renderPrometheus()).toMatch(/istio_requests_total\{reporter="destination",source_workload="unknown",.*connection_security_policy="none".*\} 1/);
  });

  it('plain text against STRICT: the connection is reset, the proxy logs NR filter_chain_not_found', async () => {
    const { f, sc } = server('STRICT');
    const r = recorder<InboundCall>();
    await expect(sc.inbound!(inboundCall({ source: { ip: '10.244.5.5' } }), r.next)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(r.calls).toHaveLength(0);
    expect(f.logs[0]).toMatch(/^\[[^\]]+\] "- - -" 0 NR filter_chain_not_found - "-" 0 0 \d+ - "-" "-" "-" "-" "-" - - 10.244.1.1:9080 10.244.5.5:\d+ - -$/);
  });

  it("the agent's ports bypass Envoy", async () => {
    const { f, sc } = server('STRICT');
    const r = recorder<InboundCall>();
    const call = inboundCall({ port: 15021, source: { ip: '10.244.5.5' } });
    await sc.inbound!(call, r.next);
    expect(r.calls[0]).toBe(call);
    expect(f.logs).toEqual([]);
  });

  it('an app that refuses the connection: 503 UF after the inbound retries', async () => {
    const { f, sc } = server();
    const { NetworkError } = await import('../../server/sim/images/types.js');
    const r = recorder<InboundCall>(() => {
      throw new NetworkError('ECONNREFUSED', '10.244.1.1', 9080);
    });
    const res = await sc.inbound!(inboundCall(), r.next);
    expect(res.status).toBe(503);
    expect(r.calls).toHaveLength(3);
    expect(f.logs[0]).toMatch(/ 503 UF,URX upstream_reset_before_response_started\{/);
  });
});
