/**
 * kube-proxy's NodePorts as real TCP listeners on every node's InternalIP (loopback addresses of
 * this machine), so `curl http://NODE_IP:NODE_PORT/` from the terminal reaches the workload.
 *
 * A listener exists only while its Service has a ready endpoint: kube-proxy REJECTs connections
 * to a Service without endpoints, which a client sees as "Connection refused", exactly what a
 * closed port gives.
 *
 * Every learner's shell shares the machine's loopback, so with a PeerGuard (the server runs as
 * root, each learner has a uid) a connection from another learner's uid is reset (peer-uid.ts).
 */
import type http from 'node:http';
import type { Server, Socket } from 'node:net';
import type { ClusterApi } from '../addons/api.js';
import { createBridgeServer } from './http-bridge.js';
import type { ClusterNetwork } from './network.js';
import { guardedServer, type PeerGuard } from './peer-uid.js';
import type { Endpoint } from './services.js';

type Obj = Record<string, any>;

interface Listener {
  ip: string;
  port: number;
  server: http.Server;
  /** What listens: the http server itself, or a guard in front of it. */
  front: Server;
  listening: Promise<void>;
}

export class NodePortListeners {
  private readonly listeners = new Map<string, Listener>();
  private readonly failed = new Map<string, string>();
  private readonly buckets: Set<string>;
  private readonly nodesBucket: string;
  private readonly unsubscribe: () => void;
  private readonly unwatchPorts: () => void;
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly network: ClusterNetwork,
    /** Other learners are refused (they share the machine's loopback); without it, anyone may connect. */
    private readonly guard?: PeerGuard,
  ) {
    const bucket = (g: string, r: string) => cluster.kinds.lookup(g, 'v1', r)?.bucket ?? `${g}/${r}`;
    this.nodesBucket = bucket('', 'nodes');
    this.buckets = new Set([bucket('', 'services'), bucket('', 'endpoints'), bucket('', 'pods'), this.nodesBucket]);
    this.unsubscribe = cluster.store.onAnyChange((e) => {
      if (this.buckets.has(e.bucket)) this.schedule();
    });
    // A gateway's Envoy opens its ports when istiod pushes a listener, without any object changing.
    this.unwatchPorts = network.onPortsChanged(() => this.schedule());
    this.schedule();
  }

  /** Addresses that could not be bound (another process holds the port), with the reason. */
  get bindErrors(): ReadonlyMap<string, string> {
    return this.failed;
  }

  /** The `ip:port` pairs currently listening. */
  addresses(): string[] {
    return [...this.listeners.keys()];
  }

  /** Resolves once the listeners match the cluster's state as of now. */
  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      await this.running;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.running.then(() => this.reconcile());
    });
  }

  private nodeIPs(): string[] {
    const ips: string[] = [];
    this.network.nodeIPs.clear();
    for (const n of this.cluster.store.list(this.nodesBucket, undefined, true) as Obj[]) {
      const ip = (n.status?.addresses ?? []).find((a: Obj) => a.type === 'InternalIP')?.address;
      if (typeof ip === 'string' && ip.startsWith('127.')) {
        ips.push(ip);
        this.network.nodeIPs.set(ip, n.metadata.name);
      }
    }
    return ips;
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const ips = this.nodeIPs();
    const want = new Set<string>();
    for (const [nodePort, { svc, port }] of this.network.services.nodePorts()) {
      // Also closed while no endpoint listens on its target port: kube-proxy DNATs the SYN to
      // the pod, whose kernel refuses it, so the client sees "Connection refused" either way.
      if (!this.network.services.endpoints(svc, port).some((ep) => this.network.serves(ep))) continue;
      for (const ip of ips) want.add(`${ip}:${nodePort}`);
    }
    const closing: Promise<void>[] = [];
    for (const [key, l] of this.listeners) {
      if (want.has(key)) continue;
      this.listeners.delete(key);
      closing.push(close(l));
    }
    for (const key of this.failed.keys()) if (!want.has(key)) this.failed.delete(key);
    const opening: Promise<void>[] = [];
    for (const key of want) {
      if (this.listeners.has(key) || this.failed.has(key)) continue;
      const [ip, portText] = key.split(':') as [string, string];
      const l = this.open(ip, Number(portText));
      this.listeners.set(key, l);
      opening.push(
        l.listening.catch((e: Error) => {
          if (this.listeners.get(key) === l) this.listeners.delete(key);
          this.failed.set(key, e.message);
          console.error(`sim network: cannot listen on NodePort ${key}: ${e.message}`);
        }),
      );
    }
    await Promise.all([...closing, ...opening]);
  }

  private open(ip: string, nodePort: number): Listener {
    // kube-proxy balances connections, not requests: a keep-alive connection stays on its pod.
    const chosen = new WeakMap<Socket, Endpoint>();
    const server = createBridgeServer(async (req, socket) => {
      const target = this.network.services.nodePorts().get(nodePort);
      if (!target) throw new Error('no such NodePort');
      let ep = chosen.get(socket);
      if (!ep) {
        ep = this.network.services.pick(this.network.services.endpoints(target.svc, target.port).filter((e) => this.network.serves(e)));
        if (!ep) throw new Error('no endpoints');
        chosen.set(socket, ep);
      }
      // externalTrafficPolicy Cluster: kube-proxy SNATs, so the pod sees the node's address.
      return this.network.toEndpoint(target.svc, target.port, ep, req, { ip }, 'nodeport', { host: ip, port: nodePort });
    });
    const front: Server = this.guard ? guardedServer(server, this.guard) : server;
    const listening = new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.listen(nodePort, ip, () => {
        front.off('error', reject);
        resolve();
      });
    });
    return { ip, port: nodePort, server, front, listening };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    this.unwatchPorts();
    await this.running;
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map(close));
  }
}

function close(l: Listener): Promise<void> {
  return l.listening.then(
    () =>
      new Promise<void>((resolve) => {
        l.front.close(() => resolve());
        l.server.closeAllConnections();
      }),
    () => undefined,
  );
}
