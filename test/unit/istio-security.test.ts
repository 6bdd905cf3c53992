/**
 * Inbound security of a sidecar as Istio 1.30 generates and Envoy enforces it: PeerAuthentication
 * resolution (mesh < namespace < workload < port, oldest wins, UNSET inherits), the
 * `virtualInbound` filter chains per mode and the chain a connection lands on, and the RBAC
 * filters AuthorizationPolicies compile to with their 403 details (DATAPLANE.md §2).
 */
import { describe, expect, it } from 'vitest';
import type { ProxySnapshot } from '../../server/sim/addons/istio/xds/distribution.js';
import { applyPeerAuthenticationToEndpoints, compileInbound, composePeerAuthentication, effectivePeerAuthentication, mtlsModeForPort, namespaceMtlsMode, peerAuthenticationsForWorkload, type InboundPort } from '../../server/sim/addons/istio/xds/compile/inbound.js';
import { EnvoyProxy } from '../../server/sim/addons/istio/envoy/proxy.js';
import { inboundCaptured, inboundSecurity, matchFilterChain, type InboundSecurityResult } from '../../server/sim/addons/istio/envoy/inbound-security.js';
import type { ContainerContext } from '../../server/sim/images/types.js';
import type { InboundCall, NetworkPod } from '../../server/sim/network/types.js';
import { spiffeId, type Cluster, type ClusterLoadAssignment, type ProxyConfig } from '../../server/sim/addons/istio/xds/types.js';

type Obj = Record<string, any>;

let clock = Date.parse('2026-12-01T10:00:00Z');
/** Objects as the API server stores them: each created one second after the previous. */
function obj(kind: 'PeerAuthentication' | 'AuthorizationPolicy', namespace: string, name: string, spec: Obj, extra: Obj = {}): Obj {
  clock += 1000;
  return { apiVersion: 'security.istio.io/v1', kind, metadata: { name, namespace, creationTimestamp: new Date(clock).toISOString().replace('.000Z', 'Z'), ...extra }, spec };
}
const pa = (ns: string, name: string, spec: Obj, extra?: Obj) => obj('PeerAuthentication', ns, name, spec, extra);
const ap = (ns: string, name: string, spec: Obj, extra?: Obj) => obj('AuthorizationPolicy', ns, name, spec, extra);

function snapshot(peerAuthentications: Obj[] = [], authorizationPolicies: Obj[] = []): ProxySnapshot {
  return { version: 'v1', virtualServices: [], destinationRules: [], gateways: [], serviceEntries: [], sidecars: [], peerAuthentications, authorizationPolicies };
}

const HTTPBIN = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };
const HTTPBIN_PORTS: InboundPort[] = [{ port: 8080, protocol: 'http', servicePort: 8000, hostname: 'httpbin.foo.svc.cluster.local' }];

/** A running proxy holding the inbound part of a config, as the sidecar would after a push. */
function proxyWith(snap: ProxySnapshot, workload = HTTPBIN, ports = HTTPBIN_PORTS): EnvoyProxy {
  const identity = { id: `httpbin-1.${workload.namespace}`, podName: 'httpbin-1', namespace: workload.namespace, podIP: '10.244.1.9', type: 'sidecar' as const, labels: workload.labels, serviceAccount: 'httpbin' };
  const proxy = new EnvoyProxy(identity, { now: () => new Date('2026-01-01T00:00:00Z'), random: () => 0.5, log: () => {} } as unknown as ContainerContext);
  const inbound = compileInbound(snap, workload, ports);
  const config: ProxyConfig = { version: snap.version, proxy: identity, listeners: inbound.listeners, routes: [], clusters: inbound.clusters, endpoints: [] };
  proxy.apply(config);
  return proxy;
}

const fakePod = (namespace: string, name: string, ip: string, object: Obj = {}): NetworkPod => ({ namespace, name, uid: name, ip, nodeName: 'node-1', hostNetwork: false, labels: {}, annotations: {}, object: () => object as never });

interface CallOpts {
  port?: number;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** The caller's identity: `<ns>/<sa>` for an mTLS caller; absent for plain text. */
  from?: string;
  sourceIp?: string;
}
function call(o: CallOpts = {}): InboundCall {
  const [ns, sa] = o.from?.split('/') ?? [];
  return {
    destination: fakePod('foo', 'httpbin-1', '10.244.1.9'),
    port: o.port ?? 8080,
    req: { method: o.method ?? 'GET', path: o.path ?? '/ip', headers: { host: 'httpbin.foo:8000', ...o.headers }, body: Buffer.alloc(0) },
    source: { ip: o.sourceIp ?? '10.244.1.7' },
    via: 'pod',
    ...(ns && sa && { transport: { tls: { sni: 'outbound_.8000_._.httpbin.foo.svc.cluster.local', clientIdentity: spiffeId(ns, sa) } } }),
  };
}

const outcome = (r: InboundSecurityResult) => ('allow' in r ? 'allow' : 'reset' in r ? `reset ${r.details}` : `403 ${r.deny.details}`);

describe('PeerAuthentication resolution (pilot ComposePeerAuthentication)', () => {
  const compose = (configs: Obj[], workload = HTTPBIN) => composePeerAuthentication(peerAuthenticationsForWorkload(configs, workload));

  it('defaults to PERMISSIVE without any policy', () => {
    expect(compose([]).mode).toBe('PERMISSIVE');
  });

  it('workload beats namespace beats mesh, whatever their order of creation', () => {
    const mesh = pa('istio-system', 'default', { mtls: { mode: 'STRICT' } });
    const ns = pa('foo', 'default', { mtls: { mode: 'DISABLE' } });
    const wl = pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'PERMISSIVE' } });
    expect(compose([mesh]).mode).toBe('STRICT');
    expect(compose([mesh, ns]).mode).toBe('DISABLE');
    expect(compose([wl, ns, mesh]).mode).toBe('PERMISSIVE');
    // Another namespace's policy and a selector that does not match do not apply.
    expect(compose([mesh, pa('bar', 'default', { mtls: { mode: 'DISABLE' } })]).mode).toBe('STRICT');
    expect(compose([mesh, pa('foo', 'other', { selector: { matchLabels: { app: 'other' } }, mtls: { mode: 'DISABLE' } })]).mode).toBe('STRICT');
  });

  it('a root-namespace policy with a selector is ignored by pilot (though istioctl lists it as applied)', () => {
    const rootSel = pa('istio-system', 'httpbin-strict', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'STRICT' } });
    expect(compose([rootSel]).mode).toBe('PERMISSIVE');
    expect(effectivePeerAuthentication([rootSel], HTTPBIN)).toMatchObject({ mode: 'PERMISSIVE', applied: ['httpbin-strict.istio-system'] });
  });

  it('UNSET inherits from the tier above', () => {
    const mesh = pa('istio-system', 'default', { mtls: { mode: 'STRICT' } });
    const nsUnset = pa('foo', 'default', { mtls: { mode: 'UNSET' } });
    const wlNoMtls = pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } } });
    expect(compose([mesh, nsUnset, wlNoMtls]).mode).toBe('STRICT');
    expect(compose([pa('istio-system', 'm', {}), nsUnset]).mode).toBe('PERMISSIVE');
  });

  it('the oldest policy of a tier wins; at equal times the first name', () => {
    const older = pa('foo', 'zz-older', { mtls: { mode: 'DISABLE' } });
    const newer = pa('foo', 'aa-newer', { mtls: { mode: 'STRICT' } });
    expect(compose([newer, older]).mode).toBe('DISABLE');
    const t = '2026-12-01T12:00:00Z';
    const b = pa('foo', 'b', { mtls: { mode: 'STRICT' } }, { creationTimestamp: t });
    const a = pa('foo', 'a', { mtls: { mode: 'DISABLE' } }, { creationTimestamp: t });
    expect(compose([b, a]).mode).toBe('DISABLE');
  });

  it('port-level modes come from the workload policy, keyed by container port; UNSET takes the workload mode', () => {
    const ns = pa('foo', 'default', { mtls: { mode: 'STRICT' } });
    const wl = pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, portLevelMtls: { '8080': { mode: 'DISABLE' }, '9000': { mode: 'UNSET' } } });
    const merged = compose([ns, wl]);
    expect(merged.mode).toBe('STRICT');
    expect(mtlsModeForPort(merged, 8080)).toBe('DISABLE');
    expect(mtlsModeForPort(merged, 9000)).toBe('STRICT');
    expect(mtlsModeForPort(merged, 80)).toBe('STRICT');
    // portLevelMtls on a namespace-wide policy has no effect.
    expect(mtlsModeForPort(compose([pa('foo', 'ns2', { mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } })]), 8080)).toBe('STRICT');
  });

  it('effectivePeerAuthentication gives istioctl x describe the mode, port modes and applied policies', () => {
    const mesh = pa('istio-system', 'default', { mtls: { mode: 'STRICT' } });
    const wl = pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } });
    const eff = effectivePeerAuthentication([wl, mesh, pa('bar', 'default', { mtls: { mode: 'DISABLE' } })], HTTPBIN);
    expect(eff.mode).toBe('STRICT');
    expect([...eff.perPort]).toEqual([[8080, 'PERMISSIVE']]);
    expect(eff.applied).toEqual(['default.istio-system', 'httpbin.foo']);
  });

  it('namespaceMtlsMode (what auto mTLS reads): namespace, else mesh, else unknown', () => {
    const mesh = pa('istio-system', 'default', { mtls: { mode: 'STRICT' } });
    const ns = pa('legacy', 'default', { mtls: { mode: 'DISABLE' } });
    expect(namespaceMtlsMode([], 'foo')).toBeUndefined();
    expect(namespaceMtlsMode([mesh], 'foo')).toBe('STRICT');
    expect(namespaceMtlsMode([mesh, ns], 'legacy')).toBe('DISABLE');
    expect(namespaceMtlsMode([pa('istio-system', 'm', {})], 'foo')).toBe('PERMISSIVE');
  });
});

describe('auto mTLS and DISABLE (EDS mtls_checker.go)', () => {
  const cluster = (name: string, tls?: Cluster['tls']): Cluster => ({ name, direction: 'outbound', type: 'EDS', lbPolicy: 'LEAST_REQUEST', circuitBreakers: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 1, maxRetries: 1, maxRequestsPerConnection: 0 }, connectTimeoutMs: 10_000, ...(tls && { tls }) });
  const ep = (ns: string, port: number) => ({ address: '10.244.1.9', port, pod: { namespace: ns, name: 'httpbin-1', labels: { app: 'httpbin' }, serviceAccount: 'httpbin' }, tlsMode: 'istio' as const, health: 'HEALTHY' as const });
  const cla = (name: string, ns: string, port = 8080): ClusterLoadAssignment => ({ cluster: name, endpoints: [ep(ns, port)] });

  it('an endpoint whose workload is DISABLE on its port loses tlsMode under auto mTLS only', () => {
    const pas = [pa('foo', 'default', { mtls: { mode: 'DISABLE' } }), pa('bar', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, portLevelMtls: { '9090': { mode: 'DISABLE' } } })];
    const auto = 'outbound|8000||httpbin.foo.svc.cluster.local';
    const dr = 'outbound|8000||httpbin.foo.svc.cluster.local-dr';
    const out = applyPeerAuthenticationToEndpoints([cla(auto, 'foo'), cla(dr, 'foo'), cla('outbound|8000||httpbin.bar.svc.cluster.local', 'bar'), cla('outbound|9090||httpbin.bar.svc.cluster.local', 'bar', 9090)], [cluster(auto), cluster(dr, 'ISTIO_MUTUAL'), cluster('outbound|8000||httpbin.bar.svc.cluster.local'), cluster('outbound|9090||httpbin.bar.svc.cluster.local')], pas);
    expect(out.map((a) => a.endpoints[0]!.tlsMode ?? 'plain')).toEqual(['plain', 'istio', 'istio', 'plain']);
  });
});

describe('virtualInbound filter chains (listener_inbound.go, filterchain_options.go)', () => {
  const chainsFor = (configs: Obj[], ports = HTTPBIN_PORTS) => {
    const cfg = compileInbound(snapshot(configs), HTTPBIN, ports);
    const l = cfg.listeners[0]!;
    return { l, cfg, port: (p: number) => l.filterChains.filter((c) => c.match.destinationPort === p) };
  };

  it('PERMISSIVE (default): a tls chain requiring a client certificate and a raw_buffer chain per port, an inbound cluster', () => {
    const { l, cfg, port } = chainsFor([]);
    expect(l).toMatchObject({ name: 'virtualInbound', address: '0.0.0.0', port: 15006, direction: 'inbound' });
    expect(port(8080).map((c) => [c.name, c.match.transportProtocol, !!c.requireClientCertificate])).toEqual([
      ['0.0.0.0_8080', 'tls', true],
      ['0.0.0.0_8080', 'raw_buffer', false],
    ]);
    expect(cfg.clusters.map((c) => [c.name, c.type, c.direction])).toEqual([['inbound|8080||', 'ORIGINAL_DST', 'inbound']]);
    const route = port(8080)[0]!.http!.routeConfig!;
    expect(route.name).toBe('inbound|8080||');
    expect(route.virtualHosts[0]).toMatchObject({ name: 'inbound|http|8000', domains: ['*'] });
    expect(route.virtualHosts[0]!.routes[0]).toMatchObject({ name: 'default', decorator: 'httpbin.foo.svc.cluster.local:8000/*', route: { clusters: [{ cluster: 'inbound|8080||' }], timeoutMs: 0 } });
    expect(port(8080)[0]!.http!.serverName).toBe('istio-envoy');
  });

  it('STRICT: only tls chains; DISABLE: only raw_buffer chains; for every port and the passthrough', () => {
    const strict = chainsFor([pa('istio-system', 'default', { mtls: { mode: 'STRICT' } })]);
    expect(strict.port(8080).map((c) => c.match.transportProtocol)).toEqual(['tls']);
    expect(strict.port(undefined as never).filter((c) => c.name !== 'virtualInbound-blackhole').every((c) => c.match.transportProtocol === 'tls')).toBe(true);
    const disable = chainsFor([pa('foo', 'default', { mtls: { mode: 'DISABLE' } })]);
    expect(disable.port(8080).map((c) => c.match.transportProtocol)).toEqual(['raw_buffer']);
    expect(disable.l.filterChains.some((c) => c.match.transportProtocol === 'tls')).toBe(false);
  });

  it('a port without a protocol name gets HTTP and TCP chains (protocol sniffing)', () => {
    const { port } = chainsFor([], [{ port: 9080, servicePort: 9080, hostname: 'reviews.default.svc.cluster.local' }]);
    expect(port(9080).map((c) => `${c.match.transportProtocol} ${c.http ? 'http' : 'tcp'} ${c.match.applicationProtocols?.join(',') ?? '-'}`)).toEqual([
      'tls http istio-http/1.0,istio-http/1.1,istio-h2',
      'raw_buffer http http/1.1,h2c',
      'tls tcp istio-peer-exchange,istio',
      'raw_buffer tcp -',
      'tls tcp -',
    ]);
  });

  it('a port-level mode on a port no Service targets gets its own passthrough chains', () => {
    const wl = pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '9999': { mode: 'DISABLE' }, '8080': { mode: 'PERMISSIVE' } } });
    const { port } = chainsFor([wl]);
    expect(port(9999).map((c) => [c.name, c.match.transportProtocol])).toEqual([
      ['virtualInbound-catchall-http', 'raw_buffer'],
      ['virtualInbound', 'raw_buffer'],
    ]);
    expect(port(8080).map((c) => c.match.transportProtocol)).toEqual(['tls', 'raw_buffer']);
  });

  it('the chain a connection lands on: port first, then transport, then ALPN; no backtracking', () => {
    const strict = chainsFor([pa('foo', 'default', { mtls: { mode: 'STRICT' } })]).l;
    expect(matchFilterChain(strict, 8080, 'tls')?.name).toBe('0.0.0.0_8080');
    expect(matchFilterChain(strict, 8080, 'raw_buffer')).toBeUndefined();
    // An undeclared port falls to the passthrough chains (the workload's mode applies there too).
    expect(matchFilterChain(strict, 3000, 'tls')?.name).toBe('virtualInbound-catchall-http');
    expect(matchFilterChain(strict, 3000, 'raw_buffer')).toBeUndefined();
    const permissive = chainsFor([]).l;
    expect(matchFilterChain(permissive, 3000, 'raw_buffer')?.name).toBe('virtualInbound-catchall-http');
  });
});

describe('inboundSecurity: mTLS modes against callers', () => {
  it('STRICT resets a plain-text caller (filter_chain_not_found, NR) and admits an mTLS one with its identity', () => {
    const proxy = proxyWith(snapshot([pa('istio-system', 'default', { mtls: { mode: 'STRICT' } })]));
    const plain = inboundSecurity(proxy, call());
    expect(plain).toMatchObject({ reset: true, details: 'filter_chain_not_found', flags: ['NR'] });
    const mtls = inboundSecurity(proxy, call({ from: 'foo/curl' }));
    expect(mtls).toMatchObject({ allow: true, peer: 'spiffe://cluster.local/ns/foo/sa/curl' });
    if ('allow' in mtls) expect(mtls.chain.requireClientCertificate).toBe(true);
  });

  it('PERMISSIVE admits both; DISABLE admits plain text and resets an mTLS connection', () => {
    const permissive = proxyWith(snapshot());
    expect(outcome(inboundSecurity(permissive, call()))).toBe('allow');
    expect(outcome(inboundSecurity(permissive, call({ from: 'foo/curl' })))).toBe('allow');
    const disable = proxyWith(snapshot([pa('foo', 'default', { mtls: { mode: 'DISABLE' } })]));
    expect(inboundSecurity(disable, call())).toMatchObject({ allow: true, peer: undefined });
    expect(outcome(inboundSecurity(disable, call({ from: 'foo/curl' })))).toBe('reset filter_chain_not_found');
  });

  it('a port-level PERMISSIVE under a STRICT namespace admits plain text on that port only', () => {
    const proxy = proxyWith(
      snapshot([pa('foo', 'default', { mtls: { mode: 'STRICT' } }), pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })]),
      HTTPBIN,
      [...HTTPBIN_PORTS, { port: 9090, protocol: 'http', servicePort: 9090, hostname: 'httpbin.foo.svc.cluster.local' }],
    );
    expect(outcome(inboundSecurity(proxy, call({ port: 8080 })))).toBe('allow');
    expect(outcome(inboundSecurity(proxy, call({ port: 9090 })))).toBe('reset filter_chain_not_found');
  });

  it('counts what Envoy counts: the listener\'s no_filter_chain_match, the RBAC filter\'s allowed/denied', () => {
    const strict = proxyWith(snapshot([pa('istio-system', 'default', { mtls: { mode: 'STRICT' } })], [ap('foo', 'deny-post', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] })]));
    inboundSecurity(strict, call());
    inboundSecurity(strict, call({ from: 'foo/curl' }));
    inboundSecurity(strict, call({ from: 'foo/curl', method: 'POST' }));
    expect(Object.fromEntries(strict.stats.counters)).toEqual({
      'listener.0.0.0.0_15006.no_filter_chain_match': 1,
      'http.inbound_0.0.0.0_8080.rbac.allowed': 1,
      'http.inbound_0.0.0.0_8080.rbac.denied': 1,
    });
  });

  it('iptables captures every inbound port but istio-init\'s -d list (15090, 15021, 15020 by default)', () => {
    const injected = (b: string, d: string) => fakePod('foo', 'p', '10.0.0.1', { spec: { initContainers: [{ name: 'istio-init', args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', b, '-d', d] }] } });
    const pod = injected('*', '15090,15021,15020');
    expect([8080, 15020, 15021, 15090, 9090].map((p) => inboundCaptured(pod, p))).toEqual([true, false, false, false, true]);
    const some = injected('8080', '15090,15021,15020,9090');
    expect([8080, 9090, 3000].map((p) => inboundCaptured(some, p))).toEqual([true, false, false]);
    expect(inboundCaptured(fakePod('foo', 'p', '10.0.0.1'), 15020)).toBe(false);
  });

  it('a proxy with no config yet has no inbound listener: the connection is reset', () => {
    const proxy = new EnvoyProxy({ id: 'x.foo', podName: 'x', namespace: 'foo', podIP: '10.0.0.1', type: 'sidecar', labels: {}, serviceAccount: 'default' }, { now: () => new Date('2026-01-01T00:00:00Z'), random: () => 0.5, log: () => {} } as unknown as ContainerContext);
    expect(outcome(inboundSecurity(proxy, call()))).toBe('reset filter_chain_not_found');
  });
});

describe('AuthorizationPolicy → RBAC filters and their verdicts', () => {
  const decide = (policies: Obj[], o: CallOpts, pas: Obj[] = []) => outcome(inboundSecurity(proxyWith(snapshot(pas, policies)), call(o)));
  const sel = { selector: { matchLabels: { app: 'httpbin' } } };

  it('no policy allows everything; an empty-spec ALLOW policy denies everything with [none]', () => {
    expect(decide([], {})).toBe('allow');
    const denyAll = ap('foo', 'allow-nothing', {});
    expect(decide([denyAll], {})).toBe('403 rbac_access_denied_matched_policy[none]');
    expect(decide([denyAll], { from: 'foo/curl' })).toBe('403 rbac_access_denied_matched_policy[none]');
  });

  it('a rule `{}` allows everything; an empty DENY never matches', () => {
    expect(decide([ap('foo', 'allow-all', { rules: [{}] })], {})).toBe('allow');
    expect(decide([ap('foo', 'deny-none', { action: 'DENY' })], {})).toBe('allow');
  });

  it('the deny-all then allow-GET-from-a-principal task', () => {
    const denyAll = ap('foo', 'allow-nothing', {});
    const allowGet = ap('foo', 'httpbin-viewer', { ...sel, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/curl'] } }], to: [{ operation: { methods: ['GET'] } }] }] });
    expect(decide([denyAll, allowGet], { from: 'foo/curl' })).toBe('allow');
    expect(decide([denyAll, allowGet], { from: 'foo/curl', method: 'POST' })).toBe('403 rbac_access_denied_matched_policy[none]');
    expect(decide([denyAll, allowGet], { from: 'bar/curl' })).toBe('403 rbac_access_denied_matched_policy[none]');
    // A plain-text caller has no principal (PERMISSIVE lets it connect; RBAC still denies).
    expect(decide([denyAll, allowGet], {})).toBe('403 rbac_access_denied_matched_policy[none]');
  });

  it('DENY wins over ALLOW and names the matched rule', () => {
    const allowAll = ap('foo', 'allow-all', { rules: [{}] });
    const deny = ap('foo', 'deny-headers', { ...sel, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/status/*'] } }] }, { to: [{ operation: { paths: ['/headers'] } }] }] });
    expect(decide([allowAll, deny], { path: '/headers?x=1' })).toBe('403 rbac_access_denied_matched_policy[ns[foo]-policy[deny-headers]-rule[1]]');
    expect(decide([allowAll, deny], { path: '/status/418' })).toBe('403 rbac_access_denied_matched_policy[ns[foo]-policy[deny-headers]-rule[0]]');
    expect(decide([allowAll, deny], { path: '/ip' })).toBe('allow');
  });

  it('a root-namespace policy applies mesh-wide; another namespace\'s does not; targetRef policies skip sidecars', () => {
    expect(decide([ap('istio-system', 'deny-all', { action: 'DENY', rules: [{}] })], {})).toBe('403 rbac_access_denied_matched_policy[ns[istio-system]-policy[deny-all]-rule[0]]');
    expect(decide([ap('bar', 'deny-all', { action: 'DENY', rules: [{}] })], {})).toBe('allow');
    expect(decide([ap('foo', 'gw', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' }], action: 'DENY', rules: [{}] })], {})).toBe('allow');
    expect(decide([ap('foo', 'other', { selector: { matchLabels: { app: 'other' } }, action: 'DENY', rules: [{}] })], {})).toBe('allow');
  });

  it('AUDIT never denies', () => {
    expect(decide([ap('foo', 'audit', { action: 'AUDIT', rules: [{}] })], {})).toBe('allow');
  });

  it('CUSTOM is refused: what it matches is denied, as istiod does for a provider it cannot use', () => {
    const custom = ap('foo', 'ext-authz', { action: 'CUSTOM', provider: { name: 'sample-ext-authz-http' }, rules: [{ to: [{ operation: { paths: ['/headers'] } }] }] });
    expect(decide([custom], { path: '/headers' })).toBe('403 rbac_access_denied_matched_policy[istio-ext-authz-sample-ext-authz-http-ns[foo]-policy[ext-authz]-rule[0]-deny-due-to-bad-CUSTOM-action]');
    expect(decide([custom], { path: '/ip' })).toBe('allow');
    const cfg = compileInbound(snapshot([], [custom]), HTTPBIN, HTTPBIN_PORTS);
    expect(cfg.warnings).toEqual(['error\tauthorization\tProcessed authorization policy: failed to process CUSTOM action for provider sample-ext-authz-http, will generate deny configs: external authorization (CUSTOM) is not supported in this simulator']);
  });

  describe('each field', () => {
    const deny = (rule: Obj) => [ap('foo', 'd', { action: 'DENY', rules: [rule] })];
    const denied = (rule: Obj, o: CallOpts) => decide(deny(rule), o).startsWith('403');

    it('principals: exact, prefix*, *suffix, * (any authenticated); never a plain-text caller', () => {
      expect(denied({ from: [{ source: { principals: ['cluster.local/ns/foo/sa/curl'] } }] }, { from: 'foo/curl' })).toBe(true);
      expect(denied({ from: [{ source: { principals: ['cluster.local/ns/foo/sa/curl'] } }] }, { from: 'foo/other' })).toBe(false);
      expect(denied({ from: [{ source: { principals: ['cluster.local/ns/foo/*'] } }] }, { from: 'foo/other' })).toBe(true);
      expect(denied({ from: [{ source: { principals: ['*/sa/curl'] } }] }, { from: 'bar/curl' })).toBe(true);
      expect(denied({ from: [{ source: { principals: ['*'] } }] }, { from: 'bar/curl' })).toBe(true);
      expect(denied({ from: [{ source: { principals: ['*'] } }] }, {})).toBe(false);
    });

    it('notPrincipals match a plain-text caller (it has no principal to exclude)', () => {
      expect(denied({ from: [{ source: { notPrincipals: ['cluster.local/ns/foo/sa/curl'] } }] }, {})).toBe(true);
      expect(denied({ from: [{ source: { notPrincipals: ['cluster.local/ns/foo/sa/curl'] } }] }, { from: 'foo/curl' })).toBe(false);
    });

    it('namespaces and notNamespaces', () => {
      expect(denied({ from: [{ source: { namespaces: ['bar'] } }] }, { from: 'bar/curl' })).toBe(true);
      expect(denied({ from: [{ source: { namespaces: ['bar'] } }] }, { from: 'foo/curl' })).toBe(false);
      expect(denied({ from: [{ source: { namespaces: ['ba*'] } }] }, { from: 'bar/curl' })).toBe(true);
      expect(denied({ from: [{ source: { namespaces: ['legacy'] } }] }, {})).toBe(false);
      expect(denied({ from: [{ source: { notNamespaces: ['foo'] } }] }, { from: 'bar/curl' })).toBe(true);
      expect(denied({ from: [{ source: { notNamespaces: ['foo'] } }] }, { from: 'foo/curl' })).toBe(false);
    });

    it('ipBlocks and notIpBlocks (addresses and CIDRs against the peer address)', () => {
      expect(denied({ from: [{ source: { ipBlocks: ['10.244.1.0/24'] } }] }, { sourceIp: '10.244.1.7' })).toBe(true);
      expect(denied({ from: [{ source: { ipBlocks: ['10.244.2.0/24', '10.244.1.8'] } }] }, { sourceIp: '10.244.1.7' })).toBe(false);
      expect(denied({ from: [{ source: { ipBlocks: ['10.244.1.7'] } }] }, { sourceIp: '10.244.1.7' })).toBe(true);
      expect(denied({ from: [{ source: { notIpBlocks: ['10.244.1.7'] } }] }, { sourceIp: '10.244.1.7' })).toBe(false);
    });

    it('methods, paths (exact, prefix*, *suffix, templates; query ignored), ports, hosts (case-insensitive)', () => {
      expect(denied({ to: [{ operation: { methods: ['POST', 'PUT'] } }] }, { method: 'POST' })).toBe(true);
      expect(denied({ to: [{ operation: { methods: ['POST'] } }] }, { method: 'GET' })).toBe(false);
      expect(denied({ to: [{ operation: { notMethods: ['GET'] } }] }, { method: 'DELETE' })).toBe(true);
      expect(denied({ to: [{ operation: { paths: ['/status/*'] } }] }, { path: '/status/200' })).toBe(true);
      expect(denied({ to: [{ operation: { paths: ['*/json'] } }] }, { path: '/anything/json?q=1' })).toBe(true);
      expect(denied({ to: [{ operation: { paths: ['/ip'] } }] }, { path: '/ip/' })).toBe(false);
      expect(denied({ to: [{ operation: { paths: ['/anything/{*}/end'] } }] }, { path: '/anything/a/end' })).toBe(true);
      expect(denied({ to: [{ operation: { paths: ['/anything/{*}/end'] } }] }, { path: '/anything/a/b/end' })).toBe(false);
      expect(denied({ to: [{ operation: { paths: ['/anything/{**}/end'] } }] }, { path: '/anything/a/b/end' })).toBe(true);
      expect(denied({ to: [{ operation: { ports: ['8080'] } }] }, {})).toBe(true);
      expect(denied({ to: [{ operation: { ports: ['9090'] } }] }, {})).toBe(false);
      expect(denied({ to: [{ operation: { hosts: ['HTTPBIN.foo:8000'] } }] }, {})).toBe(true);
      expect(denied({ to: [{ operation: { hosts: ['httpbin.foo'] } }] }, {})).toBe(false);
      expect(denied({ to: [{ operation: { hosts: ['httpbin*'] } }] }, {})).toBe(true);
    });

    it('from × to × when must all hold; lists within from or to are alternatives', () => {
      const rule = { from: [{ source: { namespaces: ['bar'] } }, { source: { ipBlocks: ['10.9.0.0/16'] } }], to: [{ operation: { methods: ['GET'], paths: ['/ip'] } }] };
      expect(denied(rule, { from: 'bar/curl' })).toBe(true);
      expect(denied(rule, { sourceIp: '10.9.1.1' })).toBe(true);
      expect(denied(rule, { from: 'bar/curl', path: '/headers' })).toBe(false);
      expect(denied(rule, { from: 'foo/curl' })).toBe(false);
    });

    it('when: request.headers, source.ip, source.namespace, source.principal, destination.port', () => {
      expect(denied({ when: [{ key: 'request.headers[X-Token]', values: ['admin'] }] }, { headers: { 'x-token': 'admin' } })).toBe(true);
      expect(denied({ when: [{ key: 'request.headers[X-Token]', values: ['admin'] }] }, { headers: { 'x-token': 'guest' } })).toBe(false);
      expect(denied({ when: [{ key: 'request.headers[X-Token]', notValues: ['admin'] }] }, {})).toBe(true);
      expect(denied({ when: [{ key: 'source.ip', values: ['10.244.1.0/24'] }] }, {})).toBe(true);
      expect(denied({ when: [{ key: 'source.namespace', values: ['foo'] }] }, { from: 'foo/curl' })).toBe(true);
      expect(denied({ when: [{ key: 'source.namespace', values: ['foo'] }] }, {})).toBe(false);
      expect(denied({ when: [{ key: 'source.principal', values: ['cluster.local/ns/foo/sa/curl'] }] }, { from: 'foo/curl' })).toBe(true);
      expect(denied({ when: [{ key: 'destination.port', values: ['8080'] }] }, {})).toBe(true);
      expect(denied({ when: [{ key: 'destination.port', values: ['80'] }] }, {})).toBe(false);
    });

    it('request.auth.* never matches (no JWT is verified here), and istiod says so', () => {
      expect(denied({ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }, { headers: { authorization: 'Bearer x' } })).toBe(false);
      const cfg = compileInbound(snapshot([], deny({ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] })), HTTPBIN, HTTPBIN_PORTS);
      expect(cfg.warnings?.join('\n')).toMatch(/request\.auth\.claims\[iss\].*never matches/);
    });

    it('an unknown when key drops the rule (pilot skips invalid rules) and istiod logs it', () => {
      expect(denied({ when: [{ key: 'source.bogus', values: ['x'] }] }, {})).toBe(false);
      const cfg = compileInbound(snapshot([], [ap('foo', 'd', { action: 'DENY', rules: [{ when: [{ key: 'source.bogus', values: ['x'] }] }, { when: [{ key: 'other', values: ['y'] }] }] })]), HTTPBIN, HTTPBIN_PORTS);
      expect(cfg.warnings).toEqual(['error\tauthorization\tProcessed authorization policy: 2 errors occurred:\n\t* skipped invalid rule ns[foo]-policy[d]-rule[0]: unknown attribute source.bogus\n\t* skipped invalid rule ns[foo]-policy[d]-rule[1]: unknown attribute other\n']);
    });
  });

  it('on a TCP port: ALLOW rules with HTTP fields are dropped, DENY rules lose them; a TCP denial closes the connection', () => {
    const tcpPorts: InboundPort[] = [{ port: 6379, protocol: 'tcp', servicePort: 6379, hostname: 'redis.foo.svc.cluster.local' }];
    const run = (policies: Obj[], o: CallOpts = {}) => outcome(inboundSecurity(proxyWith(snapshot([], policies), HTTPBIN, tcpPorts), call({ port: 6379, ...o })));
    expect(run([ap('foo', 'allow-get', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] })])).toBe('reset rbac_access_denied_matched_policy[none]');
    expect(run([ap('foo', 'deny-get', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] })], { method: 'POST' })).toBe('reset rbac_access_denied_matched_policy[ns[foo]-policy[deny-get]-rule[0]]');
    expect(run([ap('foo', 'allow-port', { rules: [{ to: [{ operation: { ports: ['6379'] } }] }] })])).toBe('allow');
  });
});
