/**
 * Looking inside the data plane as a learner does, with the real kubectl and our istioctl (bundled
 * as the release bundles it) in a real shell: `istioctl proxy-config` and `istioctl x describe pod`
 * on Bookinfo's injected pods (through a port-forward to Envoy's loopback-only admin), their
 * errors for pods without a sidecar or that do not exist, and `pilot-agent request GET stats` in
 * the istio-proxy container.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import { sidecarInterceptor } from '../../server/sim/addons/istio/envoy/sidecar.js';
import { ProxyRegistry } from '../../server/sim/addons/istio/envoy/proxy.js';
import { basicClusterManager, clusterManager } from '../../server/sim/addons/istio/envoy/router-upstream.js';
import { CIRCUIT_BREAKING_DR, bash, type Run } from '../helpers/istio-workdir.js';

const cluster = await EmbeddedCluster.start({ workloads: true });

let dir: string;
let env: Record<string, string>;

function sh(script: string): Promise<Run> {
  return bash(script, { cwd: dir, env });
}

async function ok(script: string): Promise<string> {
  const r = await sh(script);
  if (r.code !== 0) throw new Error(`${script} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A table's rows as cells, cut where the header's columns start. */
function table(text: string, columns: string[]): string[][] {
  const lines = text.split('\n').filter((l) => l.length);
  const starts = columns.map((c) => lines[0]!.indexOf(c));
  expect(starts.every((s) => s >= 0)).toBe(true);
  return lines.map((l) => starts.map((s, i) => l.slice(s, starts[i + 1]).trim()));
}

let productpage: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-observe-'));
  for (const [rel, text] of Object.entries(sampleFiles())) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'istioctl'), await bundleIstioctl(), { mode: 0o755 });
  await cluster.writeKubeconfig(path.join(dir, 'kubeconfig'));
  env = { PATH: `${path.join(dir, 'bin')}:${process.env.PATH!}`, HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig'), KUBECACHEDIR: path.join(dir, 'kcache') };
  await ok('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s');
  await ok('kubectl label namespace default istio-injection=enabled && kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml && kubectl wait --for=condition=Ready pod --all --timeout=90s');
  await ok('kubectl create namespace plain && kubectl run toolbox -n plain --image=curlimages/curl --command -- sleep 3600 && kubectl wait -n plain --for=condition=Ready pod/toolbox --timeout=60s');
  productpage = (await ok('kubectl get pod -l app=productpage -o jsonpath={.items[0].metadata.name}')).trim();
  await ok('kubectl apply -f samples/bookinfo/networking/destination-rule-all.yaml -f samples/bookinfo/networking/virtual-service-reviews-50-v3.yaml -f samples/bookinfo/networking/bookinfo-gateway.yaml');
}, 240_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('istioctl proxy-config', { timeout: 90_000 }, () => {
  it('lists the bootstrap clusters Envoy has from its start, with istioctl padding', async () => {
    const r = await sh(`istioctl proxy-config clusters ${productpage}`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = table(r.stdout, ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']);
    expect(rows[0]).toEqual(['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']);
    expect(rows).toContainEqual(['prometheus_stats', '-', '-', '-', 'STATIC', '']);
    expect(rows).toContainEqual(['xds-grpc', '-', '-', '-', 'STATIC', '']);
    // tabwriter padding 5: the header's second column starts 5 after the widest first cell.
    const widest = Math.max(...r.stdout.split('\n').filter(Boolean).map((l) => l.split(/ {2,}/)[0]!.length));
    expect(r.stdout.split('\n')[0]!.indexOf('PORT')).toBe(widest + 5);
  });

  it('lists the outbound clusters the DestinationRule made, with its name', async () => {
    const rows = table(await ok(`istioctl pc clusters ${productpage} --fqdn reviews`), ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']);
    expect(rows.slice(1)).toEqual(['-', 'v1', 'v2', 'v3'].map((subset) => ['reviews.default.svc.cluster.local', '9080', subset, 'outbound', 'EDS', 'reviews.default']));
    const v3 = table(await ok(`istioctl pc clusters ${productpage} --port 9080 --subset v3 --direction outbound`), ['SERVICE FQDN', 'PORT', 'SUBSET']);
    expect(v3.slice(1).map((r) => r[0])).toEqual(['reviews.default.svc.cluster.local']);
    // A workload names its first pod, as istioctl resolves `deployment/<name>`.
    expect(await ok('istioctl pc clusters deployment/productpage-v1.default --fqdn reviews')).toBe(await ok(`istioctl pc clusters ${productpage} --fqdn reviews`));
    const log = await sh(`istioctl pc log ${productpage}`);
    expect(log.code).toBe(1);
    expect(log.stderr).toMatch(/^Error: istioctl proxy-config log is not supported by the embedded cluster yet/);
  });

  it('lists listeners sorted by port, padding 1, with the static 15090 and 15021', async () => {
    const l = await ok(`istioctl pc listeners ${productpage}.default`);
    const lines = l.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^ADDRESSES +PORT +MATCH +DESTINATION$/);
    // Padding 1: PORT starts one column after the widest address.
    const widest = Math.max(...lines.map((x) => x.split(' ')[0]!.length));
    expect(lines[0]!.indexOf('PORT')).toBe(widest + 1);
    const ports = lines.slice(1).map((x) => Number(x.slice(lines[0]!.indexOf('PORT')).split(' ')[0]));
    expect(ports).toEqual([...ports].sort((a, b) => a - b));
    const cells = table(l, ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION']);
    expect(cells).toContainEqual(['0.0.0.0', '15021', 'ALL', 'Inline Route: /healthz/ready*']);
    expect(cells).toContainEqual(['0.0.0.0', '15090', 'ALL', 'Inline Route: /stats/prometheus*']);
    expect(cells).toContainEqual(['0.0.0.0', '9080', 'Trans: raw_buffer; App: http/1.1,h2c', 'Route: 9080']);
    expect(cells).toContainEqual(['0.0.0.0', '9080', 'ALL', 'PassthroughCluster']);
  });

  it('lists routes with collapsed domains, the VirtualService behind them, and the static routes', async () => {
    const rows = table(await ok(`istioctl pc routes ${productpage}`), ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE']);
    // Istio 1.30 adds the absolute FQDN (trailing dot) to a vhost's domains; istioctl does not fold it.
    expect(rows).toContainEqual(['9080', 'reviews.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local., reviews + 2 more...', '/*', 'reviews.default']);
    expect(rows).toContainEqual(['9080', 'details.default.svc.cluster.local:9080', 'details.default.svc.cluster.local., details + 2 more...', '/*', '']);
    expect(rows).toContainEqual(['', 'backend', '*', '/stats/prometheus*', '']);
    const gw = (await ok('kubectl get pod -n istio-system -l istio=ingressgateway -o jsonpath={.items[0].metadata.name}')).trim();
    const g = table(await ok(`istioctl pc routes ${gw}.istio-system --name http.8080`), ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE']);
    expect(g.slice(1)).toEqual(['/productpage', '/static*', '/login', '/logout', '/api/v1/products*'].map((m) => ['http.8080', '*:8080', '*', m, 'bookinfo.default']));
  });


  it('lists endpoints from /clusters: the bootstrap ones and the reviews pods', async () => {
    const r = await ok(`istioctl pc endpoints ${productpage} --cluster agent`);
    expect(table(r, ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'])).toEqual([
      ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'],
      ['127.0.0.1:15020', 'HEALTHY', 'OK', 'agent'],
    ]);
    const ips = (await ok(`kubectl get pods -l app=reviews -o jsonpath='{range .items[*]}{.status.podIP}{"\\n"}{end}'`)).trim().split('\n').sort();
    const rows = table(await ok(`istioctl pc endpoints ${productpage} --cluster 'outbound|9080||reviews.default.svc.cluster.local'`), ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER']);
    expect(rows.slice(1)).toEqual(ips.map((ip) => [`${ip}:9080`, 'HEALTHY', 'OK', 'outbound|9080||reviews.default.svc.cluster.local']));
  });


  it('prints JSON in jsonpb field names and the bootstrap summary', async () => {
    const j = JSON.parse(await ok(`istioctl pc cluster ${productpage} --fqdn xds-grpc -o json`)) as Record<string, unknown>[];
    expect(j.map((c) => c.name)).toEqual(['xds-grpc']);
    expect(j[0]).toHaveProperty('connectTimeout', '1s');
    expect(j[0]).toHaveProperty('loadAssignment.clusterName', 'xds-grpc');
    const b = await ok(`istioctl pc bootstrap ${productpage} -o short`);
    expect(b).toMatch(/^Istio Version:       1\.30\.\d+\nIstio Proxy Version: [0-9a-f]{40}\nEnvoy Version:       1\.\d+\.\d+-dev\/Clean\/RELEASE\/BoringSSL\n$/);
    const full = JSON.parse(await ok(`istioctl pc bootstrap ${productpage}`)) as { bootstrap: { node: { id: string } } };
    expect(full.bootstrap.node.id).toMatch(new RegExp(`^sidecar~\\d+\\.\\d+\\.\\d+\\.\\d+~${productpage}\\.default~default\\.svc\\.cluster\\.local$`));
  });

  it('fails like istioctl for a pod that does not exist and for one without a sidecar', async () => {
    const missing = await sh('istioctl proxy-config clusters nosuch-pod');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'Error: failed to execute command on nosuch-pod.default sidecar: failure running port forward process: failure running port forward process: building port forwarded: failed retrieving: pods "nosuch-pod" not found in the "default" namespace\n',
    );
    const plain = await sh('istioctl proxy-config clusters toolbox -n plain');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/\terror\tklog\tan error occurred forwarding (\d+) -> 15000: error forwarding port 15000 to pod [0-9a-f]{64}, uid : failed to execute portforward in network namespace "[^"]+": failed to connect to localhost:15000 inside namespace "[0-9a-f]{64}", IPv4: dial tcp4 127\.0\.0\.1:15000: connect: connection refused/);
    expect(plain.stderr).toMatch(/\nError: failed to execute command on toolbox\.plain sidecar: failure running port forward process: Get "http:\/\/localhost:\d+\/config_dump\?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters": EOF\n$/);
  });
});

describe('Envoy admin and pilot-agent in the istio-proxy container', { timeout: 90_000 }, () => {
  it('pilot-agent request GET stats prints Envoy stats; grep works on them', async () => {
    const r = await sh(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET stats | grep '^server.live'`);
    expect(r.stdout).toBe('server.live: 1\n');
    const own = await ok(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET stats | grep -E '^(server\\.state|listener_manager\\.total_listeners_active|cluster_manager\\.active_clusters):'`);
    expect(own).toMatch(/^cluster_manager\.active_clusters: \d+\nlistener_manager\.total_listeners_active: \d+\nserver\.state: 0\n$/);
    expect(Number(/active_clusters: (\d+)/.exec(own)![1])).toBeGreaterThan(4);
    const ready = await ok(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET ready`);
    expect(ready).toBe('LIVE\n\n');
  });

  it('pilot-agent request GET clusters and config_dump: the host lines and JSON of Envoy', async () => {
    const ip = (await ok('kubectl get pod -l app=reviews,version=v1 -o jsonpath={.items[0].status.podIP}')).trim();
    const flags = await ok(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET clusters | grep 'reviews.*health_flags'`);
    expect(flags).toContain(`outbound|9080|v1|reviews.default.svc.cluster.local::${ip}:9080::health_flags::healthy\n`);
    expect(await ok(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET clusters | grep -c '^xds-grpc::unix://./etc/istio/proxy/XDS::health_flags::healthy$'`)).toBe('1\n');
    const dump = JSON.parse(await ok(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET 'config_dump?mask=dynamic_route_configs'`)) as { configs: Record<string, unknown>[] };
    const routes = dump.configs.find((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump') as { dynamic_route_configs: { route_config: { name: string } }[] };
    expect(routes.dynamic_route_configs.map((r) => r.route_config.name)).toContain('9080');
    const bad = await sh(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET stats --debug-port 8080`);
    expect(bad.stderr).toBe('Error: debug port 8080 is not in allowed list [15000 15004 15020 15021]\ncommand terminated with exit code 1\n');
  });

  it('answers an unknown admin path with Envoy 404 text, which pilot-agent prints as is', async () => {
    const r = await ok(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET nosuch | head -2`);
    expect(r).toBe('invalid path. admin commands are:\n  /: Admin home page\n');
  });

  it('is reachable with curl on localhost inside the pod, and closed to other pods', async () => {
    const inside = await sh(`kubectl exec ${productpage} -c istio-proxy -- curl -s localhost:15000/ready`);
    expect(inside.stdout).toBe('LIVE\n');
    const ip = (await ok(`kubectl get pod ${productpage} -o jsonpath={.status.podIP}`)).trim();
    const outside = await sh(`kubectl exec -n plain toolbox -- curl -sS --max-time 5 http://${ip}:15000/ready`);
    expect(outside.code, JSON.stringify(outside)).not.toBe(0);
    expect(outside.stderr).toContain(`Failed to connect to ${ip} port 15000`);
  });

  it('the proxy image is Ubuntu-based: bash and curl are there, wget is not', async () => {
    const r = await sh(`kubectl exec ${productpage} -c istio-proxy -- bash -c 'grep ^ID= /etc/os-release; command -v curl; command -v wget || echo no-wget'`);
    expect(r.stdout).toBe('ID=ubuntu\n/usr/bin/curl\nno-wget\n');
  });
});

describe('the circuit-breaking task', { timeout: 90_000 }, () => {
  it('fortio trips the DestinationRule limits and pilot-agent shows the pending overflow', async (t) => {
    // Connection pools are the upstream work's cluster manager; until the router uses it, nothing overflows.
    if (typeof sidecarInterceptor(new ProxyRegistry()).outbound !== 'function' || clusterManager() === basicClusterManager) t.skip();
    await ok(`kubectl apply -f samples/httpbin/httpbin.yaml -f samples/httpbin/sample-client/fortio-deploy.yaml && kubectl apply -f - <<'EOF'
${CIRCUIT_BREAKING_DR}EOF
kubectl wait --for=condition=Ready pod -l app=fortio --timeout=90s && kubectl wait --for=condition=Ready pod -l app=httpbin --timeout=90s`);
    const fortio = (await ok('kubectl get pod -l app=fortio -o jsonpath={.items[0].metadata.name}')).trim();
    const load = await sh(`kubectl exec ${fortio} -c fortio -- /usr/bin/fortio load -c 3 -qps 0 -n 30 -loglevel Warning http://httpbin:8000/get`);
    const overflowed = Number(/Code 503 : (\d+)/.exec(load.stdout + load.stderr)?.[1] ?? 0);
    expect(overflowed, load.stdout + load.stderr).toBeGreaterThan(0);
    const stats = await ok(`kubectl exec ${fortio} -c istio-proxy -- pilot-agent request GET stats | grep httpbin | grep pending`);
    const stat = (k: string) => Number(new RegExp(`^cluster\\.outbound\\|8000\\|\\|httpbin\\.default\\.svc\\.cluster\\.local;\\.${k}: (\\d+)$`, 'm').exec(stats)?.[1] ?? NaN);
    expect(stat('upstream_rq_pending_overflow'), stats).toBe(overflowed);
    expect(stat('upstream_rq_pending_total')).toBeGreaterThan(0);
    expect(stats).toMatch(/^cluster\.outbound\|8000\|\|httpbin\.default\.svc\.cluster\.local;\.circuit_breakers\.default\.rq_pending_open: 0$/m);
    // Without the proxyStatsMatcher annotation a sidecar keeps no cluster.outbound stats.
    expect((await sh(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET stats | grep -c 'cluster.outbound'`)).stdout.trim()).toBe('0');
  }, 120_000);
});

describe('istioctl x describe pod', { timeout: 90_000 }, () => {
  it('describes a Bookinfo pod: ports, its Service, PeerAuthentication, the ingress gateway', async () => {
    const r = await sh(`istioctl x describe pod ${productpage}`);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`Pod: ${productpage}`);
    expect(lines[1]).toBe('   Pod Revision: default');
    expect(lines[2]).toMatch(/^ {3}Pod Ports: 9080 \(productpage\)/);
    expect(r.stdout).toContain('--------------------\nService: productpage\n   Port: http 9080/HTTP targets pod port 9080\nDestinationRule: productpage for "productpage"\n   Matching subsets: v1\n   No Traffic Policy\n');
    expect(r.stdout).toContain('--------------------\nEffective PeerAuthentication:\n   Workload mTLS mode: PERMISSIVE\n');
    expect(r.stdout).toMatch(/--------------------\nExposed on Ingress Gateway http:\/\/\d+\.\d+\.\d+\.\d+\nVirtualService: bookinfo\n   Match: \/productpage, Match: \/static\*, Match: \/login, Match: \/logout, Match: \/api\/v1\/products\*\n$/);
  });

  it('shows the subsets a reviews pod matches, its weighted route, and a PeerAuthentication in force', async () => {
    const rv = (await ok('kubectl get pod -l app=reviews,version=v3 -o jsonpath={.items[0].metadata.name}')).trim();
    await ok(`kubectl apply -f - <<'EOF'
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
EOF`);
    const r = await sh(`istioctl x describe pod ${rv}`);
    await ok('kubectl delete peerauthentication default -n istio-system');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'Service: reviews\n   Port: http 9080/HTTP targets pod port 9080\nDestinationRule: reviews for "reviews"\n   Matching subsets: v3\n      (Non-matching subsets v1,v2)\n   No Traffic Policy\nVirtualService: reviews\n   Route to host "reviews" subset "v3" with weight 50%\n',
    );
    expect(r.stdout).toContain('Effective PeerAuthentication:\n   Workload mTLS mode: STRICT\nApplied PeerAuthentication:\n   default.istio-system\n');
  });


  it('warns about a pod without a sidecar and then fails to reach its Envoy', async () => {
    const r = await sh('istioctl x describe pod toolbox.plain');
    expect(r.stdout).toContain('WARNING: toolbox.plain is not part of mesh; no Istio sidecar\n');
    expect(r.stderr).toMatch(/Error: failed to execute command on sidecar: failure running port forward process: Get "http:\/\/localhost:\d+\/config_dump": EOF\n$/);
    expect(r.code).toBe(1);
  });
});
