/**
 * Workloads on the embedded cluster: wall time from `kubectl apply -f bookinfo.yaml` to all six
 * pods Ready with every simulated delay set to zero (median of 5, each in a fresh namespace),
 * against the same apply on a cluster without workload controllers (the API cost alone); and
 * the heap and RSS one cluster with Bookinfo running adds to the process (target < 50 MB).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { EmbeddedCluster } from '../server/sim/cluster.js';
import { defaultContainerManager, ZERO_TIMINGS } from '../server/sim/addons/core/workloads.js';

import { BOOKINFO_YAML as BOOKINFO } from '../test/helpers/reference.js';
type Obj = Record<string, any>;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function kubectl(kubeconfig: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('kubectl', args, { env: { PATH: process.env.PATH!, HOME: tmpdir(), KUBECONFIG: kubeconfig } }, (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve()));
  });
}

function allReady(cluster: EmbeddedCluster, ns: string, want: number): boolean {
  const pods = cluster.store.list('/pods', ns) as Obj[];
  return pods.length === want && pods.every((p) => (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True'));
}

async function waitReady(cluster: EmbeddedCluster, ns: string, want: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!allReady(cluster, ns, want)) {
    if (Date.now() > end) throw new Error(`pods in ${ns} not ready in time`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function gc(): void {
  v8.setFlagsFromString('--expose-gc');
  const collect = vm.runInNewContext('gc') as () => void;
  collect();
  collect();
}

export default async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-workloads-'));
  try {
    // Baseline: the API work of the apply alone, on a cluster with no workload controllers.
    const bare = await EmbeddedCluster.start();
    const bareKc = join(dir, 'bare');
    await bare.writeKubeconfig(bareKc);
    const applyOnly: number[] = [];
    for (let i = 0; i < 5; i++) {
      await kubectl(bareKc, ['create', 'namespace', `b${i}`]);
      const t = performance.now();
      await kubectl(bareKc, ['apply', '-n', `b${i}`, '-f', BOOKINFO]);
      applyOnly.push(performance.now() - t);
    }
    await bare.stop();

    // Controllers and kubelets with containers that just run, as before the pod network existed.
    const cluster = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS, containers: (t) => defaultContainerManager(t), nodePorts: false } });
    const kc = join(dir, 'kc');
    await cluster.writeKubeconfig(kc);
    const toReady: number[] = [];
    const afterApply: number[] = [];
    for (let i = 0; i < 5; i++) {
      await kubectl(kc, ['create', 'namespace', `w${i}`]);
      const t = performance.now();
      await kubectl(kc, ['apply', '-n', `w${i}`, '-f', BOOKINFO]);
      const applied = performance.now();
      await waitReady(cluster, `w${i}`, 6);
      toReady.push(performance.now() - t);
      afterApply.push(performance.now() - applied);
    }
    await cluster.stop();

    // Memory: what clusters with Bookinfo running add to the process, per cluster.
    const n = 3;
    gc();
    const before = process.memoryUsage();
    const clusters: EmbeddedCluster[] = [];
    for (let i = 0; i < n; i++) {
      const c = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS, containers: (t) => defaultContainerManager(t), nodePorts: false } });
      const k = join(dir, `m${i}`);
      await c.writeKubeconfig(k);
      await kubectl(k, ['apply', '-f', BOOKINFO]);
      await waitReady(c, 'default', 6);
      clusters.push(c);
    }
    await new Promise((r) => setTimeout(r, 200));
    gc();
    const after = process.memoryUsage();
    for (const c of clusters) await c.stop();
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    const heapPer = (after.heapUsed - before.heapUsed) / n;
    const rssPer = (after.rss - before.rss) / n;

    console.log('sim-workloads: Bookinfo apply → all 6 pods Ready (simulated delays zero)');
    console.log(`  kubectl apply alone, no controllers: median ${median(applyOnly).toFixed(0)} ms  p99 ${pct(applyOnly, 99).toFixed(0)} ms`);
    console.log(`  apply → all Ready:                  median ${median(toReady).toFixed(0)} ms  p99 ${pct(toReady, 99).toFixed(0)} ms`);
    console.log(`  of which after apply returned:      median ${median(afterApply).toFixed(1)} ms`);
    console.log(`  ratio (apply→Ready / apply alone):  ${(median(toReady) / median(applyOnly)).toFixed(2)}`);
    console.log(`  memory per cluster with Bookinfo:   heap +${mb(heapPer)} MB, RSS +${mb(rssPer)} MB (target < 50 MB; ${n} clusters)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
