/**
 * The sidecar as the pod network's interception point (what iptables redirection to 15001/15006
 * is to a real pod): outbound requests of a pod with an `istio-proxy` go through its Envoy's
 * outbound listeners, inbound requests through its inbound listener.
 * SKELETON (lead): passes everything through until the data-plane work lands.
 */
import type { PodInterceptor } from '../../../network/types.js';
import type { ProxyRegistry } from './proxy.js';

export function sidecarInterceptor(registry: ProxyRegistry): PodInterceptor {
  return {
    name: 'istio-sidecar',
    appliesTo: (pod) => !!registry.get(pod.namespace, pod.name),
  };
}
