/**
 * istiod's config generation (pilot's `networking/core`): one proxy's ProxyConfig from the
 * snapshot of Istio config it may see and the mesh view (Services, endpoints, pods,
 * ServiceEntries, mesh config) that came with it. Pure: the same inputs give the same config.
 * Sidecars: outbound listeners/routes (sidecar.ts), inbound (inbound.ts), clusters (clusters.ts);
 * routers: the Gateways' listeners and routes (gateway.ts) and the same outbound clusters.
 */
import type { Compiler } from '../distribution.js';
import type { ProxyConfig } from '../types.js';
import { buildOutboundClusters, byAge, hashPolicyFor, staticClusters } from './clusters.js';
import { gatewayConfig } from './gateway.js';
import { applyPeerAuthenticationToEndpoints, compileInbound, type InboundPort } from './inbound.js';
import { EMPTY_MESH, portProtocol, resolveTargetPort, type MeshView } from './mesh.js';
import { sidecarOutbound, visibleServices } from './sidecar.js';
import { scopeServices, scopeVirtualServices, sidecarScopeFor } from './sidecar-scope.js';

/** The pod's ports that Services select it on, with their protocol (for the inbound side). */
export function inboundPorts(mesh: MeshView, pod: { namespace: string; podName: string; labels: Readonly<Record<string, string>> }): InboundPort[] {
  const info = mesh.pods.find((p) => p.namespace === pod.namespace && p.name === pod.podName);
  const out: InboundPort[] = [];
  for (const svc of mesh.services) {
    if (svc.registry !== 'Kubernetes' || svc.namespace !== pod.namespace || !svc.selector) continue;
    if (!Object.entries(svc.selector).every(([k, v]) => pod.labels[k] === v)) continue;
    for (const p of svc.ports) {
      if (p.protocol === 'UDP') continue;
      const port = resolveTargetPort(p.targetPort, info);
      if (port === undefined || out.some((o) => o.port === port)) continue;
      const protocol = p.protocol === 'UnsupportedProtocol' ? undefined : p.protocol.toLowerCase();
      out.push({ port, servicePort: p.port, hostname: svc.hostname, ...(protocol ? { protocol } : {}) });
    }
  }
  return out.sort((a, b) => a.port - b.port);
}

export const compileProxyConfig: Compiler = (snapshot, proxy) => {
  const mesh = snapshot.mesh ?? EMPTY_MESH;
  // A Sidecar resource narrows what a sidecar (never a gateway) imports.
  const scope = proxy.type === 'sidecar' ? sidecarScopeFor(snapshot.sidecars, proxy.namespace, proxy.labels, mesh.meshConfig.rootNamespace) : undefined;
  const services = scopeServices(visibleServices(mesh.services, proxy.namespace), scope);
  const { clusters, endpoints } = buildOutboundClusters(services, { destinationRules: snapshot.destinationRules, proxyNamespace: proxy.namespace, proxyLabels: proxy.labels, mesh: mesh.meshConfig });
  // Routes carry the consistent-hash key of their destination's DestinationRule (pilot's hashForService / hashForVirtualService).
  const consistentHash = snapshot.destinationRules.some((d) => JSON.stringify(d.spec ?? {}).includes('consistentHash'));
  const drs = consistentHash ? [...snapshot.destinationRules].sort(byAge) : [];
  const byHost = new Map(services.map((s) => [s.hostname, s]));
  const hashFor = consistentHash
    ? (cluster: string) => {
        const [dir, port, subset, host] = cluster.split('|');
        if (dir !== 'outbound' || !host) return undefined;
        return hashPolicyFor(drs, byHost.get(host), host, Number(port), subset || undefined, { proxyNamespace: proxy.namespace, proxyLabels: proxy.labels, mesh: mesh.meshConfig });
      }
    : undefined;
  const config: ProxyConfig = { version: snapshot.version, proxy, listeners: [], routes: [], clusters: [], endpoints: applyPeerAuthenticationToEndpoints(endpoints, clusters, snapshot.peerAuthentications, mesh.meshConfig.rootNamespace) };
  if (proxy.type === 'router') {
    const gw = gatewayConfig({ proxy, gateways: snapshot.gateways, virtualServices: snapshot.virtualServices, mesh, ...(hashFor ? { hashFor } : {}) });
    config.listeners = gw.listeners;
    config.routes = gw.routes;
    config.clusters = [...clusters, ...staticClusters(mesh.meshConfig, false)];
  } else {
    const meshConfig = scope?.outboundTrafficPolicy ? { ...mesh.meshConfig, outboundTrafficPolicy: scope.outboundTrafficPolicy } : mesh.meshConfig;
    const out = sidecarOutbound({ proxyNamespace: proxy.namespace, proxyLabels: proxy.labels, services, virtualServices: scopeVirtualServices(snapshot.virtualServices, scope), mesh: meshConfig, domainSuffix: 'cluster.local', ...(hashFor ? { hashFor } : {}) });
    const inbound = compileInbound(snapshot, { namespace: proxy.namespace, labels: proxy.labels }, inboundPorts(mesh, proxy), { rootNamespace: mesh.meshConfig.rootNamespace });
    config.listeners = [...out.listeners, ...inbound.listeners];
    if (inbound.warnings) config.istiodLog = inbound.warnings;
    config.routes = out.routes;
    config.clusters = [...inbound.clusters, ...clusters, ...staticClusters(mesh.meshConfig, true)];
  }
  const m = mesh.meshConfig;
  if (m.accessLogFile) config.accessLog = { path: m.accessLogFile, encoding: m.accessLogEncoding, ...(m.accessLogFormat ? { format: m.accessLogFormat } : {}) };
  return config;
};
