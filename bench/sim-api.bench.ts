/**
 * Embedded cluster API latency: cold start, get/list/create/patch round trips and watch event
 * delivery through @kubernetes/client-node, and `kubectl get pods` wall time against kubectl's
 * own start-up (`kubectl version --client`), median of 20. Targets: ratio ≤ 1.3, p99 < 5 ms for
 * get/patch, cold start < 300 ms.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { EmbeddedCluster } from '../server/sim/cluster.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(2)} ms  p99 ${pct(xs, 99).toFixed(2)} ms  (n=${xs.length})`;

async function time(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(cmd, args, { env }, (err) => (err ? reject(err) : resolve(performance.now() - t)));
  });
}

export default async function main(): Promise<void> {
  // Cold start: the first start pays module loading; later ones are what a new learner costs.
  const firstStart = performance.now();
  await (await EmbeddedCluster.start()).stop();
  const first = performance.now() - firstStart;
  const starts = await time(6, async () => (await EmbeddedCluster.start()).stop());
  console.log(`cold start: first in process ${first.toFixed(1)} ms; then ${fmt(starts)}  target < 300 ms`);

  const cluster = await EmbeddedCluster.start();
  const dir = await mkdtemp(join(tmpdir(), 'sim-bench-'));
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfig());
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const ns = 'default';
    const body = (name: string): k8s.V1ConfigMap => ({ metadata: { name, labels: { bench: 'yes' } }, data: { k: 'v' } });

    // Server-side handling time (request in → response finished) next to what the client sees.
    const server: Record<string, number[]> = {};
    let label = '';
    cluster.apiserver.onRequestDone = ({ ms }) => label && (server[label] ??= []).push(ms);
    const phase = async (name: string, n: number, fn: (i: number) => Promise<unknown>) => {
      label = name;
      const r = await time(n, fn);
      label = '';
      return r;
    };

    // warm up connections and JIT
    for (let i = 0; i < 30; i++) await core.createNamespacedConfigMap({ namespace: ns, body: body(`warm-${i}`) });

    const create = await phase('create', 120, (i) => core.createNamespacedConfigMap({ namespace: ns, body: body(`c-${i}`) }));
    const get = await phase('get', 120, (i) => core.readNamespacedConfigMap({ name: `c-${i}`, namespace: ns }));
    const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    const patch = await phase('patch', 120, (i) => core.patchNamespacedConfigMap({ name: `c-${i}`, namespace: ns, body: { data: { k: `p${i}` } } }, mergePatch));
    // Seeded in-process: the list is what is measured, not 1,000 creates.
    const cms = cluster.registry.lookup('', 'v1', 'configmaps')!;
    for (let i = 0; i < 1000; i++) await cluster.rest.create(cms, 'kube-public', { apiVersion: 'v1', kind: 'ConfigMap', ...body(`l-${i}`) });
    const list = await phase('list', 10, () => core.listNamespacedConfigMap({ namespace: 'kube-public', labelSelector: 'bench=yes' }));

    // Watch delivery: from the patch call to the MODIFIED event arriving at the client.
    const delivery: number[] = [];
    let pending: { name: string; t: number; done: () => void } | undefined;
    const ctl = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: String(cluster.store.currentRV) }, (type, obj) => {
      if (pending && type === 'MODIFIED' && obj.metadata.name === pending.name) {
        delivery.push(performance.now() - pending.t);
        pending.done();
      }
    }, () => {});
    for (let i = 0; i < 80; i++) {
      await new Promise<void>((done) => {
        pending = { name: `c-${i}`, t: performance.now(), done };
        void core.patchNamespacedConfigMap({ name: `c-${i}`, namespace: ns, body: { data: { k: `w${i}` } } }, mergePatch);
      });
    }
    ctl.abort();

    console.log('client-observed (client-node round trip) | server-side handling:');
    console.log(`create  ${fmt(create)} | ${fmt(server.create)}`);
    console.log(`get     ${fmt(get)} | ${fmt(server.get)}  target p99 < 5 ms`);
    console.log(`patch   ${fmt(patch)} | ${fmt(server.patch)}  target p99 < 5 ms (merge patch)`);
    console.log(`list    ${fmt(list)} | ${fmt(server.list)}  (1,000 ConfigMaps)`);
    console.log(`watch   ${fmt(delivery)}  (patch call → MODIFIED event at the client)`);

    // kubectl wall time against kubectl's own start-up.
    await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') };
    await run('kubectl', ['get', 'pods'], env); // fills the discovery cache, as any second command finds it
    const baseline: number[] = [];
    const getPods: number[] = [];
    for (let i = 0; i < 20; i++) {
      baseline.push(await run('kubectl', ['version', '--client'], env));
      getPods.push(await run('kubectl', ['get', 'pods'], env));
    }
    const ratio = pct(getPods, 50) / pct(baseline, 50);
    console.log(`kubectl version --client  median ${pct(baseline, 50).toFixed(1)} ms`);
    console.log(`kubectl get pods          median ${pct(getPods, 50).toFixed(1)} ms`);
    console.log(`ratio get pods / version --client = ${ratio.toFixed(2)}  target ≤ 1.3`);
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
