/**
 * The mesh picture read from a learner's own embedded cluster through the server's API, as the
 * page reads it: Istio (demo profile) and Bookinfo with sidecars installed as a learner installs
 * them (our istioctl, real kubectl, the release's samples), traffic from inside the mesh, then
 * edges with rates from the proxies' own `istio_requests_total` (pods/proxy on :15020). A second
 * learner sees their own (empty) cluster, never the first one's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import type { MeshGraph } from '../../server/mesh/graph.js';
import { exchangeToken, startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import type { SimBackend } from '../../server/cluster/sim-backend.js';

let pg: TestPlayground;
let cookiesB: string;
let dir: string;
let env: Record<string, string>;

function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd: dir, env, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

const mesh = async (cookie: string) => {
  const res = await fetch(new URL('/api/mesh', pg.baseUrl), { headers: { cookie } });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as MeshGraph;
};

beforeAll(async () => {
  pg = await startTestPlayground({});
  // Learner A (pg.cookies) gets their cluster on first use; that is the one we set up.
  await mesh(pg.cookies);
  const [learnerA] = [...(pg.backend as SimBackend).pids().keys()];
  const access = await pg.backend.acquire(learnerA!);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-picture-'));
  for (const [rel, text] of Object.entries(sampleFiles())) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'istioctl'), await bundleIstioctl(), { mode: 0o755 });
  env = { PATH: `${path.join(dir, 'bin')}:${process.env.PATH!}`, HOME: dir, KUBECONFIG: access.kubeconfigPath, KUBECACHEDIR: path.join(dir, 'kcache') };
  const install = await sh('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s');
  expect(install.code, install.stderr).toBe(0);
  const app = await sh('kubectl label namespace default istio-injection=enabled && kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml && kubectl wait --for=condition=Ready pod --all --timeout=90s');
  expect(app.code, app.stderr).toBe(0);
  cookiesB = await exchangeToken(pg.url);
}, 240_000);

afterAll(async () => {
  await pg?.close();
  if (pg) fs.rmSync(pg.dataDir, { recursive: true, force: true });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the mesh picture of a learner’s cluster', { timeout: 120_000 }, () => {
  it('draws the gateway, Bookinfo’s services and versions, pods ready with sidecars', async () => {
    const g = await mesh(pg.cookies);
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining(['wl:istio-system/istio-ingressgateway', 'svc:default/productpage', 'svc:default/reviews', 'wl:default/reviews-v1', 'wl:default/reviews-v2', 'wl:default/reviews-v3']));
    expect(ids.some((id) => id.includes('istiod'))).toBe(false);
    const reviews2 = g.nodes.find((n) => n.id === 'wl:default/reviews-v2')!;
    expect(reviews2).toMatchObject({ kind: 'workload', app: 'reviews', version: 'v2' });
    expect(reviews2.pods).toEqual([expect.objectContaining({ ready: true, sidecar: true, phase: 'Running' })]);
    expect(g.nodes.find((n) => n.id === 'wl:istio-system/istio-ingressgateway')!.kind).toBe('gateway');
  });

  it('shows productpage → reviews with a request rate and which reviews version answered', async () => {
    await mesh(pg.cookies); // a scrape before the traffic: the rates are differences from it
    const traffic = await sh(
      `P=$(kubectl get pod -l app=ratings -o jsonpath='{.items[0].metadata.name}'); for i in 1 2 3 4 5 6 7 8 9; do kubectl exec "$P" -c ratings -- curl -sS -o /dev/null -w '%{http_code}\\n' productpage:9080/productpage || exit 1; done`,
    );
    expect(traffic.code, traffic.stderr).toBe(0);
    expect(traffic.stdout.trim().split('\n')).toEqual(Array(9).fill('200'));
    let g!: MeshGraph;
    await expect
      .poll(
        async () => {
          g = await mesh(pg.cookies);
          return g.edges.find((e) => e.source === 'wl:default/productpage-v1' && e.target === 'svc:default/reviews')?.requests ?? 0;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(9);
    const edge = (s: string, t: string) => g.edges.find((e) => e.source === s && e.target === t);
    expect(edge('wl:default/productpage-v1', 'svc:default/reviews')).toMatchObject({ traffic: true, errorShare: 0 });
    expect(edge('wl:default/productpage-v1', 'svc:default/reviews')!.rate).toBeGreaterThan(0);
    expect(edge('wl:default/ratings-v1', 'svc:default/productpage')).toMatchObject({ requests: 9, traffic: true });
    expect(edge('wl:default/productpage-v1', 'svc:default/details')).toMatchObject({ requests: 9 });
    const split = g.splits.find((s) => s.service === 'reviews')!;
    expect(split.requests).toBe(9);
    expect(split.versions.map((v) => v.version)).toEqual(['v1', 'v2', 'v3']);
    expect(split.versions.reduce((n, v) => n + v.requests, 0)).toBe(9);
    // reviews v2 and v3 call ratings; v1 does not.
    const v23 = split.versions.filter((v) => v.version !== 'v1').reduce((n, v) => n + v.requests, 0);
    expect(edge('svc:default/ratings', 'wl:default/ratings-v1')?.requests ?? 0).toBe(v23);
  });

  it('answers another learner with their own cluster only', async () => {
    const g = await mesh(cookiesB);
    expect(g.nodes.filter((n) => n.kind !== 'service' || n.namespace !== 'default' || n.name !== 'kubernetes')).toEqual([]);
    expect(g.edges).toEqual([]);
    // The learner comes from the cookie alone: nothing in the request names a cluster.
    const res = await fetch(new URL('/api/mesh?learner=x', pg.baseUrl), { headers: { cookie: cookiesB.replace(/pg_learner_\d+=[^;]+/, '') } });
    expect(res.status).toBe(401);
  });
});
