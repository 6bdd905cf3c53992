/**
 * A small in-memory pod network for tests and benchmarks of workload behaviours: pods with
 * IPs, ClusterIP services with cluster DNS names, random balancing over endpoints, and faults
 * (a pod down, a pod hanging). The embedded cluster's real network lives in server/sim/network.
 */
import { behaviourForImage } from '../known-images.js';
import { NetworkError, type ContainerBehaviour, type ContainerContext, type ContainerNetwork, type HttpRequest, type HttpResponse, type RequestTarget } from '../types.js';

export interface MemoryPodSpec {
  name: string;
  namespace?: string;
  image: string;
  labels?: Record<string, string>;
  env?: Record<string, string>;
  command?: string[];
  args?: string[];
  containerName?: string;
  /** Overrides the image's behaviour (e.g. a failing backend). */
  behaviour?: ContainerBehaviour;
}

interface Pod {
  ctx: ContainerContext;
  behaviour: ContainerBehaviour;
  fault: 'none' | 'down' | 'hang' | 'reset';
}

interface Service {
  name: string;
  namespace: string;
  clusterIP: string;
  ports: { port: number; targetPort: number }[];
  selector: Record<string, string>;
}

export class MemoryNetwork {
  readonly logs = new Map<string, string[]>();
  /** Every request delivered to a pod: what an interception point would see. */
  readonly delivered: { from: string; to: string; req: HttpRequest }[] = [];
  private pods = new Map<string, Pod>();
  private services: Service[] = [];
  private nextPodIP = 5;
  private nextServiceIP = 10;

  constructor(
    private readonly opts: { now?: () => Date; random?: () => number; domain?: string; /** Keep `delivered` and logs (default true; benchmarks turn it off). */ record?: boolean } = {},
  ) {}

  addPod(spec: MemoryPodSpec): ContainerContext {
    const namespace = spec.namespace ?? 'default';
    const podIP = `10.244.1.${this.nextPodIP++}`;
    const lines: string[] = [];
    this.logs.set(spec.name, lines);
    const ctx: ContainerContext = {
      podName: spec.name,
      namespace,
      podIP,
      nodeName: 'worker-1',
      hostname: spec.name,
      containerName: spec.containerName ?? 'main',
      image: spec.image,
      command: spec.command,
      args: spec.args,
      env: spec.env ?? {},
      labels: spec.labels ?? {},
      log: (line) => {
        if (this.opts.record !== false) lines.push(line);
      },
      net: undefined as unknown as ContainerNetwork,
      now: this.opts.now ?? (() => new Date()),
      random: this.opts.random ?? Math.random,
    };
    ctx.net = this.networkFor(ctx);
    const behaviour = spec.behaviour ?? behaviourForImage(spec.image);
    ctx.behaviour = behaviour;
    this.pods.set(podIP, { ctx, behaviour, fault: 'none' });
    behaviour.start?.(ctx);
    return ctx;
  }

  addService(name: string, selector: Record<string, string>, ports: { port: number; targetPort?: number }[], namespace = 'default'): string {
    const clusterIP = `10.96.100.${this.nextServiceIP++}`;
    this.services.push({ name, namespace, clusterIP, selector, ports: ports.map((p) => ({ port: p.port, targetPort: p.targetPort ?? p.port })) });
    return clusterIP;
  }

  setFault(podName: string, fault: Pod['fault']): void {
    for (const p of this.pods.values()) if (p.ctx.podName === podName) p.fault = fault;
  }

  pod(podName: string): ContainerContext {
    for (const p of this.pods.values()) if (p.ctx.podName === podName) return p.ctx;
    throw new Error(`no pod ${podName}`);
  }

  /** Cluster DNS from a namespace: svc, svc.ns, svc.ns.svc.<domain>, and the search path. */
  resolve(fromNamespace: string, host: string): string | null {
    const domain = this.opts.domain ?? 'cluster.local';
    const name = host.replace(/\.$/, '');
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return name;
    for (const s of this.services) {
      const forms = [`${s.name}.${s.namespace}.svc.${domain}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`];
      if (s.namespace === fromNamespace) forms.push(s.name);
      if (forms.includes(name)) return s.clusterIP;
    }
    return null;
  }

  private networkFor(from: ContainerContext): ContainerNetwork {
    return {
      resolve: (host) => (host === 'localhost' ? '127.0.0.1' : this.resolve(from.namespace, host)),
      request: (target, req, opts) => this.request(from, target, req, opts?.timeoutMs),
    };
  }

  private async request(from: ContainerContext, target: RequestTarget, req: HttpRequest, timeoutMs?: number): Promise<HttpResponse> {
    const host = target.host;
    let ip = host === 'localhost' || host === '127.0.0.1' ? from.podIP : this.resolve(from.namespace, host);
    if (ip === null) throw new NetworkError('ENOTFOUND', host, target.port);
    let port = target.port;
    const svc = this.services.find((s) => s.clusterIP === ip);
    if (svc) {
      const sp = svc.ports.find((p) => p.port === port);
      const endpoints = [...this.pods.values()].filter(
        (p) => p.ctx.namespace === svc.namespace && Object.entries(svc.selector).every(([k, v]) => p.ctx.labels[k] === v),
      );
      // A ClusterIP port nobody serves, or no endpoints: kube-proxy rejects the connection.
      if (!sp || endpoints.length === 0) throw new NetworkError('ECONNREFUSED', host, port);
      const pick = endpoints[Math.floor((this.opts.random ?? Math.random)() * endpoints.length) % endpoints.length];
      ip = pick.ctx.podIP;
      port = sp.targetPort;
    }
    const pod = this.pods.get(ip);
    const ports = pod ? (pod.behaviour.listening?.(pod.ctx) ?? pod.behaviour.portsFor?.(pod.ctx) ?? pod.behaviour.ports) : [];
    if (!pod || pod.fault === 'down' || !ports.includes(port) || !pod.behaviour.serve) throw new NetworkError('ECONNREFUSED', host, target.port);
    if (pod.fault === 'reset') throw new NetworkError('ECONNRESET', host, target.port);
    if (this.opts.record !== false) this.delivered.push({ from: from.podName, to: pod.ctx.podName, req });
    const serving = pod.fault === 'hang' ? new Promise<HttpResponse>(() => {}) : pod.behaviour.serve(req, pod.ctx, { localPort: port, remoteAddress: from.podIP });
    if (timeoutMs === undefined) return serving;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new NetworkError('ETIMEDOUT', host, target.port)), timeoutMs);
      serving.then(
        (r) => (clearTimeout(timer), resolve(r)),
        (e) => (clearTimeout(timer), reject(e)),
      );
    });
  }
}

/** Bookinfo as bookinfo.yaml deploys it: four services, six pods. */
export function deployBookinfo(net: MemoryNetwork, tag = '1.20.3', registry = 'docker.io/istio'): Record<string, ContainerContext> {
  const pods: Record<string, ContainerContext> = {};
  const deploy = (app: string, version: string, podName: string) => {
    pods[`${app}-${version}`] = net.addPod({
      name: podName,
      image: `${registry}/examples-bookinfo-${app}-${version}:${tag}`,
      labels: { app, version },
      containerName: app,
      env: app === 'reviews' ? { LOG_DIR: '/tmp/logs' } : {},
    });
  };
  for (const app of ['details', 'ratings', 'reviews', 'productpage']) net.addService(app, { app }, [{ port: 9080 }]);
  deploy('details', 'v1', 'details-v1-558b8b4b76-2llld');
  deploy('ratings', 'v1', 'ratings-v1-7dc98c7588-vzftc');
  deploy('reviews', 'v1', 'reviews-v1-7f99cc4496-gdxfn');
  deploy('reviews', 'v2', 'reviews-v2-7d79d5bd5d-8zzqd');
  deploy('reviews', 'v3', 'reviews-v3-7dbcdcbc56-m8dph');
  deploy('productpage', 'v1', 'productpage-v1-6987489c74-lpkgl');
  return pods;
}
