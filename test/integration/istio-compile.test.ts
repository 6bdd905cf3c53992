/**
 * istiod's config generation in the embedded cluster: our istioctl installs the demo profile,
 * the real kubectl applies the real Bookinfo and its networking samples, and the config istiod
 * pushed to productpage's sidecar and to the ingress gateway (read from the cluster's running
 * proxies) follows every change: the VirtualServices and DestinationRules applied, pods going
 * away, the mesh config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { proxiesOf } from '../../server/sim/addons/istio/index.js';
import type { ProxyConfig } from '../../server/sim/addons/istio/xds/types.js';
import { REFERENCE_DIR } from '../helpers/reference.js';
import { bash, type Run } from '../helpers/istio-workdir.js';

const cluster = await EmbeddedCluster.start({ workloads: true });
const SAMPLES = path.join(REFERENCE_DIR, 'samples');
const REVIEWS = 'reviews.default.svc.cluster.local';

let dir: string;
let env: Record<string, string>;

function sh(script: string, input?: string): Promise<Run> {
  return bash(script, { cwd: dir, env, input });
}

async function ok(script: string): Promise<string> {
  const r = await sh(script);
  expect(r.code, `${script}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-compile-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'istioctl'), await bundleIstioctl(), { mode: 0o755 });
  await cluster.writeKubeconfig(path.join(dir, 'kubeconfig'));
  env = { PATH: `${path.join(dir, 'bin')}:${process.env.PATH!}`, HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig'), KUBECACHEDIR: path.join(dir, 'kcache') };
  await ok('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s');
  await ok(`kubectl label namespace default istio-injection=enabled && kubectl apply -f ${SAMPLES}/bookinfo.yaml && kubectl wait --for=condition=Ready pod --all --timeout=90s`);
}, 240_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The config istiod last pushed to the proxy of the (first) pod with this label. */
async function pushed(selector: string, ns = 'default'): Promise<ProxyConfig> {
  const pod = (await ok(`kubectl get pod -n ${ns} -l ${selector} -o jsonpath='{.items[0].metadata.name}'`)).trim();
  const proxy = proxiesOf(cluster.store)?.get(ns, pod);
  expect(proxy, `no running proxy for ${ns}/${pod}`).toBeDefined();
  expect(proxy!.config, `no config pushed to ${ns}/${pod}`).toBeDefined();
  return proxy!.config!;
}

const reviewsRoutes = (c: ProxyConfig) => c.routes.find((r) => r.name === '9080')!.virtualHosts.find((v) => v.name === `${REVIEWS}:9080`)!.routes;
const edsOf = (c: ProxyConfig, cluster: string) =>
  c.endpoints
    .find((e) => e.cluster === cluster)
    ?.endpoints.map((e) => `${e.address}:${e.port}`)
    .sort();

describe('the config istiod pushes to productpage\'s sidecar', () => {
  it('without Istio config: every Bookinfo service on 0.0.0.0_9080, route "default", EDS = the ready pods kubectl shows', async () => {
    const c = await pushed('app=productpage');
    expect(c.proxy).toMatchObject({ namespace: 'default', type: 'sidecar', serviceAccount: 'bookinfo-productpage' });
    expect(c.listeners.map((l) => l.name)).toContain('0.0.0.0_9080');
    const vhosts = c.routes.find((r) => r.name === '9080')!.virtualHosts.map((v) => v.name);
    expect(vhosts).toEqual(['details.default.svc.cluster.local:9080', 'productpage.default.svc.cluster.local:9080', 'ratings.default.svc.cluster.local:9080', `${REVIEWS}:9080`, 'allow_any']);
    const clusterIP = (await ok(`kubectl get svc reviews -o jsonpath='{.spec.clusterIP}'`)).trim();
    expect(c.routes.find((r) => r.name === '9080')!.virtualHosts.find((v) => v.name === `${REVIEWS}:9080`)!.domains).toContain(clusterIP);
    expect(reviewsRoutes(c).map((r) => [r.name, r.route?.clusters.map((x) => x.cluster)])).toEqual([['default', [`outbound|9080||${REVIEWS}`]]]);
    const ips = (await ok(`kubectl get pods -l app=reviews -o jsonpath='{range .items[*]}{.status.podIP}{"\\n"}{end}'`)).trim().split('\n');
    expect(edsOf(c, `outbound|9080||${REVIEWS}`)).toEqual(ips.map((ip) => `${ip}:9080`).sort());
    expect(c.endpoints.find((e) => e.cluster === `outbound|9080||${REVIEWS}`)!.endpoints.every((e) => e.tlsMode === 'istio' && e.pod?.serviceAccount === 'bookinfo-reviews')).toBe(true);
    // The inbound side (inbound.ts) for the port productpage's Service targets.
    expect(c.listeners.map((l) => l.name)).toContain('virtualInbound');
    expect(c.clusters.map((x) => x.name)).toContain('inbound|9080||');
    // The demo profile's meshConfig.accessLogFile.
    expect(c.accessLog).toEqual({ path: '/dev/stdout', encoding: 'TEXT' });
  });

  it('destination-rule-all and virtual-service-all-v1 applied: subset clusters, every route to v1', async () => {
    await ok(`kubectl apply -f ${SAMPLES}/destination-rule-all.yaml -f ${SAMPLES}/virtual-service-all-v1.yaml`);
    const c = await pushed('app=productpage');
    expect(c.clusters.filter((x) => x.service?.hostname === REVIEWS).map((x) => x.name)).toEqual([`outbound|9080||${REVIEWS}`, `outbound|9080|v1|${REVIEWS}`, `outbound|9080|v2|${REVIEWS}`, `outbound|9080|v3|${REVIEWS}`]);
    expect(reviewsRoutes(c).map((r) => r.route?.clusters.map((x) => x.cluster))).toEqual([[`outbound|9080|v1|${REVIEWS}`]]);
    const v1 = (await ok(`kubectl get pods -l app=reviews,version=v1 -o jsonpath='{.items[0].status.podIP}'`)).trim();
    expect(edsOf(c, `outbound|9080|v1|${REVIEWS}`)).toEqual([`${v1}:9080`]);
  });

  it('virtual-service-reviews-test-v2 replaces the reviews rule: jason to v2, the rest to v1', async () => {
    await ok(`kubectl apply -f ${SAMPLES}/virtual-service-reviews-test-v2.yaml`);
    const r = reviewsRoutes(await pushed('app=productpage'));
    expect(r.map((x) => [x.match.headers, x.route?.clusters.map((y) => y.cluster)])).toEqual([
      [[{ name: 'end-user', match: { exact: 'jason' } }], [`outbound|9080|v2|${REVIEWS}`]],
      [undefined, [`outbound|9080|v1|${REVIEWS}`]],
    ]);
  });

  it('reviews-v3 scaled to zero: its endpoints leave EDS once its pod is gone', async () => {
    await ok('kubectl scale deployment reviews-v3 --replicas=0 && kubectl wait --for=delete pod -l app=reviews,version=v3 --timeout=60s');
    const c = await pushed('app=productpage');
    expect(edsOf(c, `outbound|9080|v3|${REVIEWS}`)).toEqual([]);
    expect(edsOf(c, `outbound|9080||${REVIEWS}`)).toHaveLength(2);
  });

  it('the istio ConfigMap without accessLogFile: no access log in the next push', async () => {
    const mesh = await ok(`kubectl -n istio-system get configmap istio -o jsonpath='{.data.mesh}'`);
    expect(mesh).toContain('accessLogFile: /dev/stdout');
    const patch = JSON.stringify({ data: { mesh: mesh.replace(/^accessLogFile:.*\n?/m, '') } });
    await ok(`kubectl -n istio-system patch configmap istio --type merge -p '${patch.replace(/'/g, "'\\''")}'`);
    expect((await pushed('app=productpage')).accessLog).toBeUndefined();
  });
});

describe('the config istiod pushes to the ingress gateway', () => {
  it('bookinfo-gateway: listener 0.0.0.0_8080, RDS http.8080, the bookinfo routes to productpage', async () => {
    await ok(`kubectl apply -f ${SAMPLES}/bookinfo-gateway.yaml`);
    const c = await pushed('istio=ingressgateway', 'istio-system');
    expect(c.proxy.type).toBe('router');
    expect(c.listeners.map((l) => [l.name, l.filterChains[0]!.http?.routeConfigName])).toEqual([['0.0.0.0_8080', 'http.8080']]);
    const vh = c.routes.find((r) => r.name === 'http.8080')!.virtualHosts;
    expect(vh.map((v) => [v.name, v.domains])).toEqual([['*:8080', ['*']]]);
    expect(vh[0]!.routes.map((r) => r.match.path)).toEqual([{ exact: '/productpage' }, { prefix: '/static' }, { exact: '/login' }, { exact: '/logout' }, { prefix: '/api/v1/products' }]);
    expect(new Set(vh[0]!.routes.flatMap((r) => r.route!.clusters.map((x) => x.cluster)))).toEqual(new Set(['outbound|9080||productpage.default.svc.cluster.local']));
  });
});
