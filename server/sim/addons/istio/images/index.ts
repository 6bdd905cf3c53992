/**
 * Istio's images as the embedded cluster runs them. istiod (`istio/pilot`): /ready on 8080 and the
 * injection and validation webhooks on 15017. A proxy (`istio/proxyv2`): istio-init's
 * istio-iptables run, or the agent: /healthz/ready on 15021, app-health and merged stats on
 * 15020, Envoy's stats on 15090. The traffic a proxy carries is the data plane's (later) work.
 */
import { pathOnly, request, respond } from '../../../images/http.js';
import { NetworkError, type ContainerBehaviour, type ContainerContext, type HttpResponse, type ImageBehaviourEntry } from '../../../images/types.js';
import type { ImageRef } from '../../../images/image.js';
import { UBUNTU_OS_RELEASE } from '../../../images/behaviours/os.js';
import { pilotAgent } from './pilot-agent.js';
import { handleWebhook, type MeshReader } from '../inject/webhook.js';
import { synczJson, type ConfigDistribution } from '../xds/distribution.js';
import { addServerStats, adminServe } from '../envoy/admin.js';
import { AGENT_PORTS, gatewayServe, routerPorts } from '../envoy/gateway.js';
import { EnvoyProxy, type ProxyRegistry } from '../envoy/proxy.js';
import { prometheusText } from '../envoy/upstream-stats.js';
import { ISTIO_VERSION } from '../version.js';

const isIstio = (repository: string, name: string) => repository === `istio/${name}` || repository.endsWith(`/istio/${name}`) || repository === `release/${name}` || repository === `testing/${name}`;

function pilotBehaviour(reader: MeshReader, xds: ConfigDistribution, onReady: () => void): ContainerBehaviour {
  return {
    ports: [8080, 15010, 15012, 15014, 15017],
    userland: 'distroless',
    user: 'istio-proxy',
    readyAfterMs: 0,
    start(ctx) {
      const t = ctx.now().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
      // pilot-discovery prints its flags in order, then the mesh config it loads (a short excerpt).
      ctx.log(`${t}\tinfo\tFLAG: --clusterID="Kubernetes"`);
      ctx.log(`${t}\tinfo\tFLAG: --domain="cluster.local"`);
      ctx.log(`${t}\tinfo\tFLAG: --log_output_level="default:info"`);
      ctx.log(`${t}\tinfo\tFLAG: --monitoringAddr=":15014"`);
      ctx.log(`${t}\tinfo\tklog\tConfig not passed: using in cluster default`);
      ctx.log(`${t}\tinfo\tinitializing mesh configuration ./etc/istio/config/mesh`);
      ctx.log(`${t}\tinfo\tserver\tDiscovery service started`);
    },
    // istiod serves xDS for as long as its container runs.
    run(ctx, signal) {
      xds.istiodUp(ctx.podName, ctx.log);
      onReady();
      return new Promise((resolve) => signal.addEventListener('abort', () => (xds.istiodDown(ctx.podName), resolve(0)), { once: true }));
    },
    async serve(req, ctx, conn) {
      if (conn.localPort === 15017) {
        const reply = handleWebhook(req.method, req.path, req.headers['content-type'], req.body, reader, ctx.namespace);
        if (reply) return respond(ctx, reply.status, reply.body, { 'content-type': reply.contentType });
      }
      if (conn.localPort === 8080 && req.method === 'GET' && pathOnly(req.path) === '/debug/syncz') return respond(ctx, 200, synczJson(xds.syncz()), { 'content-type': 'application/json' });
      if (conn.localPort === 8080 && req.method === 'GET' && req.path.split('?')[0] === '/ready') return respond(ctx, 200, '', { 'content-type': 'text/plain; charset=utf-8' });
      return respond(ctx, 404, '404 page not found\n', { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    },
  };
}

type Prober = { httpGet?: { path?: string; port?: number | string; scheme?: string; httpHeaders?: { name: string; value: string }[] }; tcpSocket?: { port?: number | string }; timeoutSeconds?: number };

function probersOf(ctx: ContainerContext): Record<string, Prober> {
  try {
    return JSON.parse(ctx.env.ISTIO_KUBE_APP_PROBERS ?? '{}') as Record<string, Prober>;
  } catch {
    return {};
  }
}

/** The agent's app-health endpoint: the app container's original probe, run from inside the pod. */
async function appHealth(ctx: ContainerContext, prober: Prober): Promise<HttpResponse> {
  const timeoutMs = (prober.timeoutSeconds ?? 1) * 1000;
  try {
    if (prober.httpGet) {
      const headers: Record<string, string> = { 'user-agent': 'istio-probe/1.0' };
      for (const h of prober.httpGet.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
      const res = await ctx.net.request({ host: 'localhost', port: Number(prober.httpGet.port) }, request('GET', prober.httpGet.path || '/', headers), { timeoutMs });
      return respond(ctx, res.status >= 200 && res.status < 400 ? 200 : res.status, '', {});
    }
    if (prober.tcpSocket) {
      // A TCP probe only needs the port to accept: any answer will do.
      await ctx.net.request({ host: 'localhost', port: Number(prober.tcpSocket.port) }, request('GET', '/'), { timeoutMs });
      return respond(ctx, 200, '', {});
    }
  } catch {
    return respond(ctx, 500, '', {});
  }
  return respond(ctx, 200, '', {});
}

const STATS = '# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n# TYPE istio_agent_startup_complete gauge\nistio_agent_startup_complete 1\n';

function iptablesLog(ctx: ContainerContext): void {
  const t = ctx.now().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  ctx.log(`${t}\tinfo\tIstio iptables environment:`);
  ctx.log(`${t}\tinfo\tIstio iptables variables:\nPROXY_PORT=15001\nPROXY_INBOUND_CAPTURE_PORT=15006\nPROXY_TUNNEL_PORT=15008\nPROXY_UID=1337\nPROXY_GID=1337\nINBOUND_INTERCEPTION_MODE=REDIRECT\nINBOUND_TPROXY_MARK=1337\nINBOUND_TPROXY_ROUTE_TABLE=133\nINBOUND_PORTS_INCLUDE=*\nINBOUND_PORTS_EXCLUDE=15090,15021,15020\nOUTBOUND_IP_RANGES_INCLUDE=*\nOUTBOUND_IP_RANGES_EXCLUDE=\nKUBE_VIRT_INTERFACES=\nENABLE_INBOUND_IPV6=false\nDNS_CAPTURE=false\nDRY_RUN=false`);
  ctx.log(`${t}\tinfo\tRunning iptables-restore with the following input:`);
  ctx.log(`${t}\tinfo\tIptables rules applied`);
}

/**
 * istio/proxyv2 is built on istio/base (Ubuntu with curl, iptables, iproute2, tcpdump, … and
 * bash) unless its tag says `-distroless`; pilot-agent and envoy are in /usr/local/bin of both.
 */
function proxyImage(image: ImageRef): Pick<ContainerBehaviour, 'userland' | 'missingPrograms' | 'unsupportedPrograms' | 'files' | 'programs'> {
  const distroless = /-distroless$/.test(image.tag ?? '');
  return {
    userland: distroless ? 'distroless' : 'debian',
    missingPrograms: ['wget', 'nslookup'],
    unsupportedPrograms: ['envoy', ...(distroless ? [] : ['iptables', 'ip6tables', 'iptables-save', 'iptables-restore', 'nft', 'ip', 'ping', 'tcpdump', 'netstat', 'lsof', 'nc', 'kdig', 'conntrack', 'sudo', 'hexdump'])],
    ...(distroless ? {} : { files: { '/etc/os-release': UBUNTU_OS_RELEASE } }),
    programs: { 'pilot-agent': pilotAgent },
  };
}

function proxyBehaviour(xds: ConfigDistribution, registry: ProxyRegistry, image: ImageRef): ContainerBehaviour {
  let proxy: EnvoyProxy | undefined;
  return {
    // 15000 is Envoy's admin, bound to 127.0.0.1 (serve refuses anyone else).
    ports: [15000, 15020, 15021, 15090],
    portsFor: (ctx) => (ctx.args?.[0] === 'istio-iptables' ? [] : [15000, 15020, 15021, 15090]),
    // A gateway's Envoy also listens on the ports its pushed listeners name (envoy/gateway.ts).
    listening: (ctx) => (ctx.args?.[0] === 'istio-iptables' ? [] : proxy?.identity.type === 'router' ? [15000, ...routerPorts(proxy)] : [15000, ...AGENT_PORTS]),
    ...proxyImage(image),
    user: 'istio-proxy',
    readyAfterMs: 0,
    start(ctx) {
      if (ctx.args?.[0] === 'istio-iptables') return iptablesLog(ctx);
      const t = ctx.now().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
      ctx.log(`${t}\tinfo\tFLAG: --concurrency="0"`);
      ctx.log(`${t}\tinfo\tFLAG: --domain="${ctx.namespace}.svc.cluster.local"`);
      ctx.log(`${t}\tinfo\tVersion 1.30.3-${'0'.repeat(40)}-Clean`);
      ctx.log(`${t}\tinfo\tProxy role\tips=[${ctx.podIP}] type=${ctx.args?.[1] === 'router' ? 'router' : 'sidecar'} id=${ctx.podName}.${ctx.namespace} domain=${ctx.namespace}.svc.cluster.local`);
      ctx.log(`${t}\tinfo\tEnvoy proxy is ready`);
    },
    // istio-init runs istio-iptables and exits; the agent runs until it is stopped.
    run(ctx, signal) {
      if (ctx.args?.[0] === 'istio-iptables') return Promise.resolve(0);
      const id = `${ctx.podName}.${ctx.namespace}`;
      const type = ctx.args?.[1] === 'router' ? 'router' : 'sidecar';
      const identity = { id, podName: ctx.podName, namespace: ctx.namespace, podIP: ctx.podIP, type, labels: ctx.labels, serviceAccount: ctx.env.SERVICE_ACCOUNT || 'default' } as const;
      const envoy = (proxy = new EnvoyProxy(identity, ctx));
      addServerStats(envoy);
      const unregister = registry.add(envoy);
      const unsubscribe = xds.subscribe({ ...identity, istioVersion: tagOf(ctx.image), clusterId: ctx.env.ISTIO_META_CLUSTER_ID || 'Kubernetes' }, (_snapshot, config) => {
        envoy.apply(config);
        if (type === 'router') ctx.net.portsChanged?.();
      });
      return new Promise((resolve) => signal.addEventListener('abort', () => (unsubscribe(), unregister(), resolve(0)), { once: true }));
    },
    async serve(req, ctx, conn) {
      const path = pathOnly(req.path);
      // A gateway's own listeners first: a Gateway may bind any port, 15021 aside.
      if (proxy && proxy.identity.type === 'router' && !AGENT_PORTS.includes(conn.localPort) && conn.localPort !== 15000) return gatewayServe(proxy, req, conn);
      if (req.method === 'GET' && conn.localPort === 15021 && path === '/healthz/ready') return respond(ctx, 200, '', {});
      if (req.method === 'GET' && (conn.localPort === 15090 || conn.localPort === 15020) && path === '/stats/prometheus') return respond(ctx, 200, proxy ? prometheusText(proxy, conn.localPort) : STATS, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      if (conn.localPort === 15020 && path === '/healthz/ready') return respond(ctx, 200, '', {});
      if (conn.localPort === 15020 && path.startsWith('/app-health/')) {
        const prober = probersOf(ctx)[path];
        if (!prober) return respond(ctx, 404, '', {});
        return appHealth(ctx, prober);
      }
      if (conn.localPort === 15000) {
        if (conn.remoteAddress !== '127.0.0.1' || !proxy) throw new NetworkError('ECONNREFUSED', ctx.podIP, 15000);
        return adminServe(proxy, req);
      }
      return respond(ctx, 404, '', {});
    },
  };
}

const tagOf = (image: string) => (/:([^/:@]+)(@.*)?$/.exec(image)?.[1] ?? ISTIO_VERSION);

/** istiod's image; its webhooks read the mesh's ConfigMaps and nodes through `reader`, and it serves `xds`. */
export function istioPilotImage(reader: MeshReader, xds: ConfigDistribution, onReady: () => void = () => {}): ImageBehaviourEntry {
  return {
    name: 'istio/pilot',
    matches: (img) => isIstio(img.repository, 'pilot'),
    create: () => pilotBehaviour(reader, xds, onReady),
  };
}

/** The proxies' image: the agent subscribes to `xds` while it runs. */
export function istioProxyImage(xds: ConfigDistribution, registry: ProxyRegistry): ImageBehaviourEntry {
  return {
    name: 'istio/proxyv2',
    matches: (img) => isIstio(img.repository, 'proxyv2'),
    create: (image) => proxyBehaviour(xds, registry, image),
  };
}
