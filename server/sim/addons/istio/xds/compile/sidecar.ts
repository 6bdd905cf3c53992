/**
 * A sidecar's outbound side (pilot's listener.go / httproute.go): a `0.0.0.0_<port>` listener per
 * HTTP service port with RDS route configuration `<port>`, whose virtual hosts are the services on
 * that port (with their Host-header domains) and the VirtualServices bound to `mesh`; a
 * `<vip>_<port>` TCP proxy listener per TCP service port; the `allow_any`/`block_all` catch-all.
 */
import type { FilterChain, HashPolicy, Listener, Route, RouteConfiguration, VirtualHost } from '../types.js';
import { hostMatches, resolveShortname, visibleFrom } from './hosts.js';
import { isHttpOrSniffed, type MeshConfig, type MeshService } from './mesh.js';
import { strings } from './shape.js';
import { buildVirtualServiceRoutes, defaultRoute, MESH_GATEWAY, subsetKey, vsGateways, type RouteContext } from './routes.js';

type Obj = Record<string, any>;

export interface SidecarContext {
  proxyNamespace: string;
  proxyLabels: Readonly<Record<string, string>>;
  /** Services visible from the proxy's namespace. */
  services: MeshService[];
  /** VirtualServices visible from the proxy's namespace (exportTo already applied). */
  virtualServices: Obj[];
  mesh: MeshConfig;
  domainSuffix: string;
  /** The consistent-hash key of a cluster's DestinationRule (index.ts binds it to the proxy's rules). */
  hashFor?(cluster: string): HashPolicy | undefined;
}

/** Configs in pilot's order: oldest first, then by namespace and name. */
export function byCreation(a: Obj, b: Obj): number {
  const ta = String(a.metadata?.creationTimestamp ?? '');
  const tb = String(b.metadata?.creationTimestamp ?? '');
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata?.namespace}/${a.metadata?.name}`;
  const kb = `${b.metadata?.namespace}/${b.metadata?.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Config istiod converted from the Gateway API (model.UseGatewaySemantics). */
export const gatewaySemantics = (vs: Obj) => vs.metadata?.annotations?.['internal.istio.io/route-semantics'] === 'gateway';

/** A VirtualService with its hosts as pilot stores them: lower case, short names resolved in its namespace. */
export function resolvedHosts(vs: Obj): string[] {
  let hosts = vsHosts.get(vs);
  if (!hosts) vsHosts.set(vs, (hosts = strings(vs.spec?.hosts).map((h) => resolveShortname(h, vs.metadata.namespace))));
  return hosts;
}
const vsHosts = new WeakMap<Obj, string[]>();

/** Host-header domains for a service (generateVirtualHostDomains, ports ignored as IgnorePortInHostMatching does). */
export function serviceDomains(svc: MeshService, proxyNamespace: string, suffix: string): { domains: string[]; alt: string[] } {
  const h = svc.hostname;
  const isIp = /^[\d.]+$/.test(h) || h.includes(':');
  const alt: string[] = isIp ? [] : [`${h}.`];
  const kubeSuffix = `.svc.${suffix}`;
  const ih = h.indexOf('.svc.');
  if (h.endsWith(kubeSuffix) && ih > 0) {
    const dot = h.indexOf('.');
    const ns = h.slice(dot + 1, ih);
    if (ns === proxyNamespace) alt.push(h.slice(0, dot), `${h.slice(0, ih)}.svc`, h.slice(0, ih));
    else alt.push(h.slice(0, ih), `${h.slice(0, ih)}.svc`);
  }
  let domains = [h, ...alt];
  if (svc.resolution === 'Passthrough' && svc.registry === 'Kubernetes') domains = [...domains, ...domains.map((d) => `*.${d}`)];
  if (svc.address && svc.address !== '0.0.0.0') domains.push(svc.address);
  return { domains, alt };
}

interface Wrapper {
  port: number;
  services: MeshService[];
  vsHosts: string[];
  routes: Route[];
}

/** The RDS configuration `<port>` of a sidecar. */
export function sidecarRouteConfig(port: number, ctx: SidecarContext): RouteConfiguration {
  const registry = new Map<string, MeshService>();
  for (const s of ctx.services) if (s.ports.some((p) => p.port === port)) registry.set(s.hostname, { ...s, ports: s.ports.filter((p) => p.port === port) });
  const wildServices = [...registry.keys()].filter((h) => h.startsWith('*'));
  // Destinations resolve against the services on this port only, as pilot's servicesByName: a destination without a port on another port's service keeps the listener's port.
  const routeCtx: RouteContext = { listenerPort: port, gateways: new Set([MESH_GATEWAY]), proxyLabels: ctx.proxyLabels, proxyNamespace: ctx.proxyNamespace, lookup: (h) => registry.get(h), ...(ctx.mesh.defaultHttpRetryPolicy ? { defaultRetry: ctx.mesh.defaultHttpRetryPolicy } : {}), ...(ctx.hashFor ? { hashFor: ctx.hashFor } : {}) };
  let vss = ctx.virtualServices.filter((vs) => vsGateways(vs).includes(MESH_GATEWAY)).sort(byCreation);
  // Outside port 80, only VirtualServices for a known service count (pilot's "hack to keep consistent").
  if (port !== 80) vss = vss.filter((vs) => resolvedHosts(vs).some((h) => (h.startsWith('*') ? [...registry.keys()].some((s) => hostMatches(h, s)) : registry.has(h) || wildServices.some((s) => hostMatches(h, s)))));
  // Each service belongs to one VirtualService: an exact host first, else the most specific wildcard, first come.
  const owner = new Map<string, Obj>();
  for (const vs of vss) for (const h of resolvedHosts(vs)) if (!h.startsWith('*') && registry.has(h) && !owner.has(h)) owner.set(h, vs);
  const wildVss = vss.some((vs) => resolvedHosts(vs).some((h) => h.startsWith('*')));
  for (const svcHost of wildVss ? registry.keys() : []) {
    if (owner.has(svcHost)) continue;
    let best: { vs: Obj; len: number } | undefined;
    for (const vs of vss) for (const h of resolvedHosts(vs)) if (h.startsWith('*') && hostMatches(h, svcHost) && (!best || h.length > best.len)) best = { vs, len: h.length };
    if (best) owner.set(svcHost, best.vs);
  }
  const wrappers: Wrapper[] = [];
  for (const vs of vss) {
    const routes = buildVirtualServiceRoutes(vs, routeCtx);
    if (!routes.length) continue;
    const vsHosts: string[] = [];
    const services: MeshService[] = [];
    for (const h of resolvedHosts(vs)) {
      if (!h.startsWith('*')) {
        const svc = registry.get(h);
        if (svc) {
          if (owner.get(h) === vs) services.push(svc);
        } else vsHosts.push(h);
        continue;
      }
      // Gateway API routes (gateway semantics) keep wildcard hosts as plain hosts.
      if (gatewaySemantics(vs)) {
        vsHosts.push(h);
        continue;
      }
      let found = false;
      for (const [svcHost, svc] of registry) {
        if (!hostMatches(h, svcHost)) continue;
        found = true;
        if (owner.get(svcHost) === vs && !services.includes(svc)) services.push(svc);
      }
      if (!found) vsHosts.push(h);
    }
    // Gateway semantics: the route applies only if one of its services is in its namespace, or the proxy is (pilot checks, then keeps them all).
    if (gatewaySemantics(vs) && !services.some((s) => s.namespace === vs.metadata.namespace || ctx.proxyNamespace === vs.metadata.namespace)) continue;
    const httpServices = services.filter((s) => s.ports.some((p) => isHttpOrSniffed(p.protocol)));
    if (httpServices.length) wrappers.push({ port, services: httpServices, vsHosts, routes });
    else if (port === 80) wrappers.push({ port: 80, services: [], vsHosts, routes });
  }
  const claimed = new Set(wrappers.flatMap((w) => w.services.map((s) => s.hostname)));
  for (const svc of registry.values()) {
    if (claimed.has(svc.hostname)) continue;
    const p = svc.ports[0]!;
    if (!isHttpOrSniffed(p.protocol)) continue;
    const r = defaultRoute(svc.hostname, port, ctx.mesh.defaultHttpRetryPolicy);
    const hash = ctx.hashFor?.(r.route!.clusters[0]!.cluster);
    if (hash) r.route!.hashPolicy = [hash];
    wrappers.push({ port, services: [svc], vsHosts: [], routes: [r] });
  }
  const names = new Set<string>();
  const seenDomains = new Set<string>();
  const knownFqdn = new Set<string>();
  for (const w of wrappers) for (const s of w.services) knownFqdn.add(`${s.hostname}:${w.port}`), knownFqdn.add(s.hostname);
  const vhosts: VirtualHost[] = [];
  const build = (hostname: string, w: Wrapper, svc: MeshService | undefined) => {
    const name = `${hostname}:${w.port}`;
    if (names.has(name)) return;
    names.add(name);
    const { domains, alt } = svc ? serviceDomains(svc, ctx.proxyNamespace, ctx.domainSuffix) : { domains: [hostname], alt: [] as string[] };
    const kept = domains.filter((d) => {
      const l = d.toLowerCase();
      if (seenDomains.has(l)) return false;
      if (alt.includes(d) && knownFqdn.has(d)) return false;
      seenDomains.add(l);
      return true;
    });
    if (kept.length) vhosts.push({ name, domains: kept, routes: [...w.routes] });
  };
  for (const w of wrappers) {
    for (const h of w.vsHosts) build(h, w, undefined);
    for (const s of w.services) build(s.hostname, w, s);
  }
  vhosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  vhosts.push(catchAllVirtualHost(ctx.mesh));
  return { name: String(port), virtualHosts: vhosts, ignorePortInHostMatching: true };
}

/** buildCatchAllVirtualHost: ALLOW_ANY → PassthroughCluster; REGISTRY_ONLY → 502 `block_all`. */
export function catchAllVirtualHost(mesh: MeshConfig): VirtualHost {
  if (mesh.outboundTrafficPolicy === 'REGISTRY_ONLY') return { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { path: { prefix: '/' } }, directResponse: { status: 502 } }] };
  return { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { path: { prefix: '/' } }, route: { clusters: [{ cluster: 'PassthroughCluster', weight: 100 }], timeoutMs: 0 } }] };
}

const passthroughChain = (mesh: MeshConfig): FilterChain => ({ match: {}, tcp: { cluster: mesh.outboundTrafficPolicy === 'REGISTRY_ONLY' ? 'BlackHoleCluster' : 'PassthroughCluster', statPrefix: mesh.outboundTrafficPolicy === 'REGISTRY_ONLY' ? 'BlackHoleCluster' : 'PassthroughCluster' } });

/** Outbound listeners and their route configurations. */
export function sidecarOutbound(ctx: SidecarContext): { listeners: Listener[]; routes: RouteConfiguration[] } {
  const httpPorts = new Set<number>();
  const listeners: Listener[] = [];
  // TLS to a host without an address (ServiceEntry `https`/`tls` ports): one 0.0.0.0 listener per port, a chain per SNI.
  const sniChains = new Map<number, FilterChain[]>();
  for (const svc of ctx.services)
    for (const p of svc.ports) {
      if (p.protocol === 'UDP') continue;
      if (isHttpOrSniffed(p.protocol)) httpPorts.add(p.port);
      else if (!svc.address && (p.protocol === 'TLS' || p.protocol === 'HTTPS')) {
        const cluster = subsetKey(p.port, undefined, svc.hostname);
        const chains = sniChains.get(p.port) ?? [];
        chains.push({ match: { transportProtocol: 'tls', serverNames: [svc.hostname] }, tcp: { cluster, statPrefix: cluster } });
        sniChains.set(p.port, chains);
      } else if (svc.address) {
        const name = `${svc.address}_${p.port}`;
        if (!listeners.some((l) => l.name === name)) {
          const cluster = subsetKey(p.port, undefined, svc.hostname);
          listeners.push({ name, address: svc.address, port: p.port, direction: 'outbound', filterChains: [{ match: {}, tcp: { cluster, statPrefix: cluster } }] });
        }
      }
    }
  const routes: RouteConfiguration[] = [];
  for (const port of [...httpPorts].sort((a, b) => a - b)) {
    listeners.push({
      name: `0.0.0.0_${port}`,
      address: '0.0.0.0',
      port,
      direction: 'outbound',
      // Protocol sniffing: HTTP goes to the route configuration; anything else passes through.
      filterChains: [...(sniChains.get(port) ?? []), { match: { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] }, http: { routeConfigName: String(port) } }, passthroughChain(ctx.mesh)],
    });
    routes.push(sidecarRouteConfig(port, ctx));
  }
  for (const [port, chains] of sniChains) if (!httpPorts.has(port)) listeners.push({ name: `0.0.0.0_${port}`, address: '0.0.0.0', port, direction: 'outbound', filterChains: [...chains, passthroughChain(ctx.mesh)] });
  listeners.sort((a, b) => a.port - b.port || (a.name < b.name ? -1 : 1));
  // 15001: what iptables redirects; connections to no known port pass through (or are dropped, REGISTRY_ONLY).
  listeners.push({ name: 'virtualOutbound', address: '0.0.0.0', port: 15001, direction: 'outbound', filterChains: [passthroughChain(ctx.mesh)] });
  return { listeners, routes };
}

/** Services a proxy in `ns` may reach (Service `networking.istio.io/exportTo`, ServiceEntry `exportTo`). */
export function visibleServices(services: MeshService[], ns: string): MeshService[] {
  return services.filter((s) => visibleFrom(s.exportTo, s.namespace, ns));
}
