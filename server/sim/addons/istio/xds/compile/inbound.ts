/**
 * Inbound generation for a sidecar: the `virtualInbound` listener's filter chains per port, with
 * the mTLS mode PeerAuthentications give (mesh-wide, namespace, workload, port) and the RBAC
 * filters AuthorizationPolicies compile to; and the `inbound|<port>||` clusters.
 * SKELETON (lead): nothing until the security work lands.
 */
import type { ProxySnapshot } from '../distribution.js';
import type { Cluster, Listener } from '../types.js';

export interface InboundPort {
  /** The container port traffic arrives on (targetPort). */
  port: number;
  /** The Service port name's protocol (`http`, `http2`, `grpc`, `tcp`, …), when a Service names it. */
  protocol?: string;
}

export interface InboundConfig {
  listeners: Listener[];
  clusters: Cluster[];
}

export function compileInbound(snapshot: ProxySnapshot, pod: { namespace: string; labels: Readonly<Record<string, string>> }, ports: InboundPort[]): InboundConfig {
  void snapshot;
  void pod;
  void ports;
  return { listeners: [], clusters: [] };
}
