/**
 * A gateway's listeners (istio-ingressgateway, istio-egressgateway, Gateway API gateways): the
 * `router` proxy listens only on the ports its LDS listeners name (no Gateway bound to a port:
 * nothing listens there, and a connection through the NodePort is refused as on a real node),
 * and serves requests arriving on them by the listener's HTTP connection manager.
 */
import { NetworkError, type ConnectionInfo, type HttpRequest, type HttpResponse } from '../../../images/types.js';
import type { Listener } from '../xds/types.js';
import { serveHttp } from './hcm.js';
import type { EnvoyProxy } from './proxy.js';
import { ephemeralPort } from './router-upstream.js';

/** The pilot-agent's and Envoy's own ports, open from the start: status 15021, merged stats 15020, Envoy's stats 15090. */
export const AGENT_PORTS: readonly number[] = [15020, 15021, 15090];

/** The gateway listeners istiod pushed (`0.0.0.0_8080`, …). */
export function gatewayListeners(proxy: EnvoyProxy): Listener[] {
  const ls = proxy.config?.listeners;
  if (!ls) return [];
  // Every request through the gateway asks: filtered once per pushed listener list.
  let known = byList.get(ls);
  if (!known || known.length !== ls.length) byList.set(ls, (known = { length: ls.length, gateway: ls.filter((l) => l.direction === 'gateway') }));
  return known.gateway;
}

const byList = new WeakMap<Listener[], { length: number; gateway: Listener[] }>();

/** Every port a router proxy accepts connections on right now. */
export function routerPorts(proxy: EnvoyProxy): readonly number[] {
  const gateway = gatewayListeners(proxy);
  // The network asks on every request to the gateway pod: computed once per pushed listener list.
  let ports = portsOf.get(gateway);
  if (!ports) {
    const set = new Set<number>(AGENT_PORTS);
    for (const l of gateway) set.add(l.port);
    portsOf.set(gateway, (ports = [...set]));
  }
  return ports;
}

const portsOf = new WeakMap<Listener[], readonly number[]>();

export async function gatewayServe(proxy: EnvoyProxy, req: HttpRequest, conn: ConnectionInfo): Promise<HttpResponse> {
  const listener = gatewayListeners(proxy).find((l) => l.port === conn.localPort);
  // The listener went away between accept and this request (a push removed it): Envoy closes the connection.
  if (!listener) throw new NetworkError('ECONNRESET', proxy.identity.podIP, conn.localPort);
  // No HTTP chain (a TCP or TLS server, which this simulation does not carry): Envoy drops an HTTP request on it.
  if (!listener.filterChains.some((c) => c.http)) throw new NetworkError('ECONNRESET', proxy.identity.podIP, conn.localPort);
  // An edge proxy: the client's address goes into x-forwarded-for and x-envoy-external-address.
  const res = await serveHttp(proxy, listener, req, {
    remoteAddress: `${conn.remoteAddress}:${ephemeralPort(proxy.ctx.random)}`,
    localAddress: `${proxy.identity.podIP}:${conn.localPort}`,
    useRemoteAddress: true,
  });
  // Envoy's HTTP/1.1 codec writes header names lower-case (`server: istio-envoy`).
  return { ...res, headerCase: 'lower' };
}
