/**
 * The pod network of one embedded cluster: which pod owns which IP and which ports its
 * containers listen on, cluster DNS, Service balancing over ready endpoints, and the per-pod
 * interception chain every request passes (outbound in the sender, inbound in the receiver).
 */
import type { ClusterApi } from '../addons/api.js';
import type { ContainerBehaviour, ContainerContext, ContainerNetwork, HttpRequest, HttpResponse, RequestOptions, RequestTarget, Transport } from '../images/types.js';
import { NetworkError } from '../images/types.js';
import type { PodInterceptors } from './interceptors.js';
import { ServiceDirectory, isIPv4, type Endpoint, type ServicePort, type ServiceView } from './services.js';
import type { InboundCall, InboundPath, NetworkPod, OutboundCall } from './types.js';
import { ServiceResolveError, withDeadline, type ServiceRef } from './service-calls.js';

/**
 * How long a connection to an address nobody owns takes to fail without a timeout: Linux gives
 * up on a SYN after 6 retries, about 127 s (curl then says "Couldn't connect to server").
 */
const UNROUTABLE_MS = 127_000;

/** One container listening in a pod. */
export interface ListeningContainer {
  name: string;
  ctx: ContainerContext;
  behaviour: ContainerBehaviour;
  ports: number[];
  /**
   * A main process started with stdin open (`kubectl run -it`): it waits for `kubectl attach`
   * and runs on the attached terminal. Resolves with the process's exit code.
   */
  interactive?: { attach(io: AttachedIO): Promise<number> };
}

/** What an attached client brings: its stdin, its output streams, whether it has a terminal. */
export interface AttachedIO {
  stdin: { on(event: 'data', cb: (chunk: Buffer | string) => void): unknown; on(event: 'end', cb: () => void): unknown } | null;
  stdout: { write(chunk: Buffer | string): void };
  stderr: { write(chunk: Buffer | string): void };
  tty: boolean;
  signal: AbortSignal;
}

export interface PodEntry {
  pod: NetworkPod;
  containers: Map<string, ListeningContainer>;
}

export class ClusterNetwork {
  readonly services: ServiceDirectory;
  private readonly byKey = new Map<string, PodEntry>();
  private readonly byIP = new Map<string, PodEntry>();
  /** Node InternalIP → node name, for requests a pod sends to a NodePort. */
  readonly nodeIPs = new Map<string, string>();
  private readonly portWatchers = new Set<() => void>();

  constructor(
    cluster: ClusterApi,
    private readonly random: () => number = Math.random,
    /** The cluster's per-pod interception chain (ClusterApi.interceptors). */
    readonly interceptors: PodInterceptors = cluster.interceptors,
  ) {
    this.services = new ServiceDirectory(cluster, random);
  }

  close(): void {
    this.services.close();
    this.byKey.clear();
    this.byIP.clear();
  }

  // ---- pods ---------------------------------------------------------------------------------

  addPod(pod: NetworkPod): PodEntry {
    const key = `${pod.namespace}/${pod.name}`;
    const existing = this.byKey.get(key);
    if (existing && existing.pod.uid === pod.uid) return existing;
    if (existing) this.removePod(existing.pod);
    const entry: PodEntry = { pod, containers: new Map() };
    this.byKey.set(key, entry);
    // hostNetwork pods share the node's address; nothing here serves on it.
    if (!pod.hostNetwork && pod.ip) this.byIP.set(pod.ip, entry);
    return entry;
  }

  removePod(pod: { namespace: string; name: string; uid: string }): void {
    const key = `${pod.namespace}/${pod.name}`;
    const entry = this.byKey.get(key);
    if (!entry || entry.pod.uid !== pod.uid) return;
    this.byKey.delete(key);
    if (this.byIP.get(entry.pod.ip) === entry) this.byIP.delete(entry.pod.ip);
  }

  pod(namespace: string, name: string): PodEntry | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }

  podByIP(ip: string): PodEntry | undefined {
    return this.byIP.get(ip);
  }

  /** Whether something serves at this pod address (a ready endpoint may still point at a closed port). */
  serves(ep: Endpoint): boolean {
    const entry = this.podByIP(ep.ip);
    return !!entry && !!this.listener(entry, ep.port);
  }

  /** The container of this pod listening on `port` with something that serves, if any. */
  listener(entry: PodEntry, port: number): ListeningContainer | undefined {
    for (const c of entry.containers.values()) if (c.behaviour.serve && listensOn(c, port)) return c;
    return undefined;
  }

  /** Calls `fn` whenever a container's live ports (`behaviour.listening`) change; returns the unsubscribe. */
  onPortsChanged(fn: () => void): () => void {
    this.portWatchers.add(fn);
    return () => void this.portWatchers.delete(fn);
  }

  // ---- what a container sees ------------------------------------------------------------------

  /** The network a container of this pod uses: its DNS view, and requests through its chain. */
  containerNetwork(pod: NetworkPod): ContainerNetwork {
    return {
      resolve: (host) => (host === 'localhost' ? '127.0.0.1' : this.services.resolve(host, pod.namespace)),
      request: (target, req, opts) => this.send(pod, target, req, opts),
      portsChanged: () => {
        for (const fn of this.portWatchers) fn();
      },
    };
  }

  /** Sends a request from a pod: localhost stays inside it, anything else passes its outbound chain. */
  send(source: NetworkPod, target: RequestTarget, req: HttpRequest, opts: RequestOptions = {}): Promise<HttpResponse> {
    const { timeoutMs, transport } = opts;
    const local = target.host === 'localhost' || target.host.startsWith('127.');
    const sending = local
      ? this.local(source, target, req)
      : this.interceptors.outbound({ source, target, req, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(transport ? { transport } : {}) }, (call) => this.wire(call));
    return withTimeout(sending, timeoutMs, target);
  }

  private async local(source: NetworkPod, target: RequestTarget, req: HttpRequest): Promise<HttpResponse> {
    const entry = this.pod(source.namespace, source.name);
    const c = entry && this.listener(entry, target.port);
    if (!c) throw new NetworkError('ECONNREFUSED', target.host, target.port);
    return c.behaviour.serve!(req, c.ctx, { localPort: target.port, remoteAddress: '127.0.0.1' });
  }

  /** What happens past the sender's chain: DNS, kube-proxy's Service balancing, the pod network. */
  private async wire(call: OutboundCall): Promise<HttpResponse> {
    const { target, source } = call;
    const ip = this.services.resolve(target.host, source.namespace);
    if (ip === null) throw new NetworkError('ENOTFOUND', target.host, target.port);
    const from = { ip: source.ip, pod: source };
    const svc = this.services.byClusterIP(ip);
    if (svc) {
      const port = svc.ports.find((p) => p.port === target.port && p.protocol === 'TCP');
      // kube-proxy has no rule for a port the Service does not declare: the packet goes nowhere.
      if (!port) return unroutable(target, call.timeoutMs);
      return this.toService(svc, port, call.req, from, 'pod', target, call.transport);
    }
    const nodePort = this.nodeIPs.has(ip) ? this.services.nodePorts().get(target.port) : undefined;
    if (nodePort) return this.toService(nodePort.svc, nodePort.port, call.req, from, 'pod', target, call.transport);
    const entry = this.podByIP(ip);
    if (!entry) {
      if (this.nodeIPs.has(ip)) throw new NetworkError('ECONNREFUSED', target.host, target.port);
      return unroutable(target, call.timeoutMs);
    }
    return this.toPod(entry, target.port, call.req, from, 'pod', target, undefined, call.transport);
  }

  /**
   * Balances one request over the Service's ready endpoints (kube-proxy rejects the connection
   * when there are none) and delivers it.
   */
  toService(
    svc: ServiceView,
    port: ServicePort,
    req: HttpRequest,
    source: InboundCall['source'],
    via: InboundPath,
    named: RequestTarget = { host: svc.clusterIP, port: port.port },
    transport?: Transport,
  ): Promise<HttpResponse> {
    const ep = this.services.pick(this.services.endpoints(svc, port));
    if (!ep) return Promise.reject(new NetworkError('ECONNREFUSED', named.host, named.port));
    return this.toEndpoint(svc, port, ep, req, source, via, named, transport);
  }

  /** Delivers to one endpoint of a Service (kube-proxy's choice for a connection). */
  toEndpoint(
    svc: ServiceView,
    port: ServicePort,
    ep: Endpoint,
    req: HttpRequest,
    source: InboundCall['source'],
    via: InboundPath,
    named: RequestTarget = { host: svc.clusterIP, port: port.port },
    transport?: Transport,
  ): Promise<HttpResponse> {
    const entry = this.podByIP(ep.ip);
    if (!entry) return Promise.reject(new NetworkError('ECONNREFUSED', named.host, named.port));
    return this.toPod(entry, ep.port, req, source, via, named, { namespace: svc.namespace, name: svc.name, port: port.port }, transport);
  }

  /**
   * kube-apiserver calling a Service (an admission webhook): it picks a ready endpoint itself
   * (proxy.ResolveEndpoint) and dials the pod's address from the control-plane node. There is
   * no TLS on the simulated network: the request arrives as plain HttpRequest, not HTTPS.
   */
  callFromControlPlane(ref: ServiceRef, req: HttpRequest, timeoutMs: number, controlPlaneIP: string): Promise<HttpResponse> {
    const svc = this.services.get(ref.namespace, ref.name);
    // The informer lister's NotFound: resource "service", singular.
    if (!svc) return Promise.reject(new ServiceResolveError(`service "${ref.name}" not found`));
    const port = svc.ports.find((p) => p.port === ref.port);
    if (!port) return Promise.reject(new ServiceResolveError(`no service port ${ref.port} found for service "${ref.name}"`));
    if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(svc.type)) return Promise.reject(new ServiceResolveError(`unsupported service type "${svc.type}"`));
    const ep = this.services.pick(this.services.endpoints(svc, port));
    if (!ep) return Promise.reject(new ServiceResolveError(`no endpoints available for service "${ref.name}"`));
    const entry = this.podByIP(ep.ip);
    const named = { host: ep.ip, port: ep.port };
    const sending = entry
      ? this.toPod(entry, ep.port, req, { ip: controlPlaneIP }, 'apiserver-proxy', named, { namespace: svc.namespace, name: svc.name, port: port.port })
      : Promise.reject(new NetworkError('ECONNREFUSED', ep.ip, ep.port));
    return withDeadline(sending, timeoutMs, ep.ip, ep.port);
  }

  /** Delivers a request to a pod's port through the pod's inbound chain. */
  toPod(
    entry: PodEntry,
    port: number,
    req: HttpRequest,
    source: InboundCall['source'],
    via: InboundPath,
    named: RequestTarget = { host: entry.pod.ip, port },
    service?: InboundCall['service'],
    transport?: Transport,
  ): Promise<HttpResponse> {
    const call: InboundCall = { destination: entry.pod, port, req, source, via, ...(service ? { service } : {}), ...(transport ? { transport } : {}) };
    return this.interceptors.inbound(call, async (c) => {
      const dest = this.pod(c.destination.namespace, c.destination.name) ?? entry;
      const listener = this.listener(dest, c.port);
      if (!listener) throw new NetworkError('ECONNREFUSED', named.host, named.port);
      return listener.behaviour.serve!(c.req, listener.ctx, { localPort: c.port, remoteAddress: c.source.ip });
    });
  }
}

/** A container's ports: live when its behaviour says so (an Envoy's listeners), else fixed at start. */
function listensOn(c: ListeningContainer, port: number): boolean {
  return c.behaviour.listening ? c.behaviour.listening(c.ctx).includes(port) : c.ports.includes(port);
}

function unroutable(target: RequestTarget, timeoutMs: number | undefined): Promise<HttpResponse> {
  return new Promise((_resolve, reject) => {
    const t = setTimeout(() => reject(new NetworkError('ETIMEDOUT', target.host, target.port)), timeoutMs ?? UNROUTABLE_MS);
    t.unref();
  });
}

function withTimeout(p: Promise<HttpResponse>, timeoutMs: number | undefined, target: RequestTarget): Promise<HttpResponse> {
  if (timeoutMs === undefined) return p;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new NetworkError('ETIMEDOUT', target.host, target.port)), timeoutMs);
    p.then(
      (r) => (clearTimeout(t), resolve(r)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

export { isIPv4 };
