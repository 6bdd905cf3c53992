/**
 * A gateway's (router's) listeners and routes (pilot's gateway.go): the Istio `Gateway` objects
 * whose selector matches the pod, their servers merged per port; each server port is served on
 * the container port the gateway's Service maps it to (80 → 8080: listener `0.0.0.0_8080`, RDS
 * `http.8080`); virtual hosts per server host from the VirtualServices that name the Gateway.
 *
 * Supported: HTTP servers, and HTTPS servers that terminate TLS (SIMPLE/MUTUAL) as a filter chain
 * by SNI. Not generated: TLS PASSTHROUGH/AUTO_PASSTHROUGH, TCP/TLS routes, `httpsRedirect`.
 */
import type { HashPolicy, Listener, Route, RouteConfiguration, VirtualHost } from '../types.js';
import { intersectHosts, visibleFrom } from './hosts.js';
import { resolveTargetPort, type MeshService, type MeshView } from './mesh.js';
import { objects, record, stringMap, strings } from './shape.js';
import { buildVirtualServiceRoutes, isCatchAll, vsGateways, type RouteContext } from './routes.js';
import { byCreation, resolvedHosts } from './sidecar.js';

type Obj = Record<string, any>;

export interface GatewayContext {
  proxy: { namespace: string; podName: string; labels: Readonly<Record<string, string>> };
  gateways: Obj[];
  virtualServices: Obj[];
  mesh: MeshView;
  hashFor?(cluster: string): HashPolicy | undefined;
}

interface BoundServer {
  gateway: string;
  server: Obj;
  /** The container port it listens on. */
  listenPort: number;
  tls: boolean;
}

/** The gateway pod's container port for a server port: through a Service in its namespace that selects it, else the server port itself. */
function listenPortFor(serverPort: number, ctx: GatewayContext): number {
  const pod = ctx.mesh.pods.find((p) => p.namespace === ctx.proxy.namespace && p.name === ctx.proxy.podName);
  for (const svc of ctx.mesh.services) {
    if (svc.registry !== 'Kubernetes' || svc.namespace !== ctx.proxy.namespace || !svc.selector) continue;
    if (!Object.entries(svc.selector).every(([k, v]) => ctx.proxy.labels[k] === v)) continue;
    const p = svc.ports.find((sp) => sp.port === serverPort);
    if (!p) continue;
    const t = resolveTargetPort(p.targetPort, pod);
    if (t !== undefined) return t;
  }
  return serverPort;
}

/** Servers of the Gateways selecting this pod (PILOT_SCOPE_GATEWAY_TO_NAMESPACE off: from any namespace). */
function boundServers(ctx: GatewayContext): BoundServer[] {
  const out: BoundServer[] = [];
  for (const gw of [...ctx.gateways].sort(byCreation)) {
    const sel = stringMap(record(gw.spec)?.selector);
    if (!Object.entries(sel).every(([k, v]) => ctx.proxy.labels[k] === v)) continue;
    for (const server of objects(record(gw.spec)?.servers)) {
      const port = record(server.port);
      const proto = String(port?.protocol ?? '').toUpperCase();
      const number = Number(port?.number);
      if (!Number.isInteger(number) || number <= 0) continue;
      const mode = String(record(server.tls)?.mode ?? '');
      const http = proto === 'HTTP' || proto === 'HTTP2' || proto === 'GRPC';
      const terminating = (proto === 'HTTPS' || proto === 'TLS') && (mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL' || mode === 'ISTIO_MUTUAL');
      if (!http && !(proto === 'HTTPS' && terminating)) continue; // passthrough and TCP servers: not generated (see above)
      out.push({ gateway: `${gw.metadata.namespace}/${gw.metadata.name}`, server, listenPort: listenPortFor(number, ctx), tls: proto === 'HTTPS' });
    }
  }
  return out;
}

/** `ns/host` server hosts as seen from a VirtualService's namespace (host.NamesForNamespace). */
function serverHostsFor(hosts: string[], vsNamespace: string): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const i = h.indexOf('/');
    if (i < 0) out.push(h.toLowerCase());
    else {
      const ns = h.slice(0, i);
      if (ns === '*' || ns === vsNamespace || ns === '.') out.push(h.slice(i + 1).toLowerCase());
    }
  }
  return out;
}

function routeConfig(name: string, servers: BoundServer[], ctx: GatewayContext): RouteConfiguration {
  const byHost = new Map<string, { vh: VirtualHost; source?: Route[]; appended: boolean }>();
  const cache = new Map<string, Route[] | undefined>();
  for (const { gateway, server, tls } of servers) {
    const port = Number(server.port.number);
    const vss = ctx.virtualServices.filter((vs) => vsGateways(vs).includes(gateway)).sort(byCreation);
    for (const vs of vss) {
      const hosts = intersectHosts(serverHostsFor(strings(server.hosts), vs.metadata.namespace), resolvedHosts(vs));
      if (!hosts.length) continue;
      const key = `${gateway}|${vs.metadata.namespace}/${vs.metadata.name}`;
      let routes = cache.get(key);
      if (!cache.has(key)) {
        const visible = ctx.mesh.services.filter((s) => visibleFrom(s.exportTo, s.namespace, vs.metadata.namespace));
        const byName = new Map<string, MeshService>(visible.map((s) => [s.hostname, s]));
        const rc: RouteContext = { listenerPort: port, gateways: new Set([gateway]), proxyLabels: ctx.proxy.labels, proxyNamespace: ctx.proxy.namespace, lookup: (h) => byName.get(h), isTls: tls, ...(ctx.mesh.meshConfig.defaultHttpRetryPolicy ? { defaultRetry: ctx.mesh.meshConfig.defaultHttpRetryPolicy } : {}), ...(ctx.hashFor ? { hashFor: ctx.hashFor } : {}) };
        const built = buildVirtualServiceRoutes(vs, rc);
        routes = built.length ? built : undefined;
        cache.set(key, routes);
      }
      if (!routes) continue;
      for (const h of hosts) {
        const existing = byHost.get(h);
        if (existing) {
          existing.vh.routes.push(...routes);
          existing.appended = true;
        } else byHost.set(h, { vh: { name: `${h}:${port}`, domains: [h], routes: [...routes] }, source: routes, appended: false });
      }
    }
  }
  let vhosts: VirtualHost[];
  if (!byHost.size) {
    // No VirtualService: every request is 404 NR.
    vhosts = [{ name: `blackhole:${Number(servers[0]!.server.port.number)}`, domains: ['*'], routes: [] }];
  } else {
    // collapseDuplicateRoutes: hosts served by the very same routes share one virtual host (first name wins).
    const keys = [...byHost.keys()].sort((a, b) => (a.startsWith('*') !== b.startsWith('*') ? (a.startsWith('*') ? 1 : -1) : a < b ? -1 : a > b ? 1 : 0));
    const primary = new Map<Route[], VirtualHost>();
    vhosts = [];
    for (const k of keys) {
      const e = byHost.get(k)!;
      const p = !e.appended && e.source ? primary.get(e.source) : undefined;
      if (p) p.domains.push(...e.vh.domains);
      else {
        if (!e.appended && e.source) primary.set(e.source, e.vh);
        vhosts.push(e.vh);
      }
    }
    // SortVHostRoutes: catch-alls after the specific routes.
    for (const v of vhosts) v.routes = [...v.routes.filter((r) => !isCatchAll(r.match)), ...v.routes.filter((r) => isCatchAll(r.match))];
    vhosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return { name, virtualHosts: vhosts, ignorePortInHostMatching: true };
}

export function gatewayConfig(ctx: GatewayContext): { listeners: Listener[]; routes: RouteConfiguration[] } {
  const servers = boundServers(ctx);
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  const ports = [...new Set(servers.map((s) => s.listenPort))].sort((a, b) => a - b);
  for (const lp of ports) {
    const onPort = servers.filter((s) => s.listenPort === lp);
    const plain = onPort.filter((s) => !s.tls);
    const listener: Listener = { name: `0.0.0.0_${lp}`, address: '0.0.0.0', port: lp, direction: 'gateway', filterChains: [] };
    if (plain.length) {
      const name = `http.${lp}`;
      routes.push(routeConfig(name, plain, ctx));
      listener.filterChains.push({ match: {}, http: { routeConfigName: name, serverName: 'istio-envoy' } });
    }
    for (const s of onPort.filter((x) => x.tls)) {
      // gatewayRDSRouteName: https.<port>.<port name>.<gateway name>.<namespace>.
      const [ns, gwName] = s.gateway.split('/') as [string, string];
      const name = `https.${Number(s.server.port.number)}.${typeof s.server.port.name === 'string' ? s.server.port.name : ''}.${gwName}.${ns}`;
      routes.push(routeConfig(name, [s], ctx));
      const sni = strings(s.server.hosts).map((h) => (h.includes('/') ? h.split('/')[1]! : h)).filter((h) => h !== '*');
      listener.filterChains.push({ match: { transportProtocol: 'tls', ...(sni.length ? { serverNames: sni } : {}) }, http: { routeConfigName: name, serverName: 'istio-envoy' } });
    }
    listeners.push(listener);
  }
  return { listeners, routes };
}
