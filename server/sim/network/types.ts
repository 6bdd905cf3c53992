/**
 * The pod network's vocabulary: who is talking (a pod, or something outside the pod network),
 * and the per-pod interception point every request passes, which is what iptables redirection
 * is to a real sidecar: Istio's behaviour hangs there without the workloads knowing.
 */
import type { KubeObject } from '../types.js';
import type { HttpRequest, HttpResponse, RequestTarget, Transport } from '../images/types.js';

export type { Transport };

/** A pod as the network knows it: identity plus the latest stored object. */
export interface NetworkPod {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  nodeName: string;
  hostNetwork: boolean;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** The pod object as last seen (spec.containers tells whether a sidecar is present). */
  object(): Readonly<KubeObject>;
}

/** How a request reached a pod: from another pod, or from outside the pod network. */
export type InboundPath =
  /** Sent by a pod (through a Service or to a pod IP). */
  | 'pod'
  /** A NodePort (or LoadBalancer) listener on a node, i.e. kube-proxy. */
  | 'nodeport'
  /** kube-apiserver's services/pods proxy subresource. */
  | 'apiserver-proxy'
  /** The node's kubelet probing the pod (httpGet probes), from the node's address. */
  | 'kubelet';

/** A request leaving a pod, before DNS and Service balancing. */
export interface OutboundCall {
  source: NetworkPod;
  /** As the workload named it: a DNS name, a ClusterIP or a pod IP, and a port. */
  target: RequestTarget;
  req: HttpRequest;
  timeoutMs?: number;
  transport?: Transport;
}

/** A request arriving at a pod's port, after Service balancing. */
export interface InboundCall {
  destination: NetworkPod;
  port: number;
  req: HttpRequest;
  /** The peer's address as the destination sees it, and the pod when it is one. */
  source: { ip: string; pod?: NetworkPod };
  via: InboundPath;
  /** The Service the request was balanced through, when it was. */
  service?: { namespace: string; name: string; port: number };
  /** The connection's TLS, as the sender set it (plain text when absent). */
  transport?: Transport;
}

export type Next<C> = (call: C) => Promise<HttpResponse>;

/**
 * One link of the per-pod chain. `outbound` sees every request the pod sends (except to
 * localhost), `inbound` every request it receives on its pod IP (port-forward, which enters the
 * pod's network namespace at localhost, bypasses it as it bypasses iptables). Call `next` to
 * pass the request on (possibly changed, e.g. another target), or answer it yourself.
 */
export interface PodInterceptor {
  name: string;
  /** The pods this interceptor sits in; all pods when absent. */
  appliesTo?(pod: NetworkPod): boolean;
  outbound?(call: OutboundCall, next: Next<OutboundCall>): Promise<HttpResponse>;
  inbound?(call: InboundCall, next: Next<InboundCall>): Promise<HttpResponse>;
}
