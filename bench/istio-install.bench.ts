/**
 * `istioctl install --set profile=demo -y` (the release's bundled bin/istioctl, run as a learner
 * runs it) until every istio-system pod is Ready — the command itself waits for that — on an
 * embedded cluster with the simulated delays off (median of 5, uninstall --purge between runs),
 * and once with the default, realistic delays (image pulls, probes' initial delays). Target < 3 s.
 * Then Bookinfo applied to an injected namespace until every pod is 2/2 Ready, against the same
 * apply in a namespace without injection in the same run (target < 3 s), and the heap one cluster
 * with Istio and Bookinfo (sidecars) adds to the process (target < 15 MB).
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { EmbeddedCluster } from '../server/sim/cluster.js';
import { ZERO_TIMINGS } from '../server/sim/addons/core/workloads.js';
import { bundleIstioctl } from '../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../server/sim/addons/istio/release/samples.js';

type Obj = Record<string, any>;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(bin: string, args: string[], kubeconfig: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env: { PATH: process.env.PATH!, HOME: tmpdir(), KUBECONFIG: kubeconfig } }, (err, _o, stderr) => (err ? reject(new Error(`${args.join(' ')}: ${stderr}`)) : resolve()));
  });
}

function readyPods(cluster: EmbeddedCluster): number {
  const pods = cluster.store.list('/pods', 'istio-system') as Obj[];
  return pods.filter((p) => (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')).length;
}

async function measure(bin: string, dir: string, timings: 'zero' | 'default', runs: number): Promise<number[]> {
  const cluster = await EmbeddedCluster.start({ workloads: timings === 'zero' ? { timings: ZERO_TIMINGS } : true });
  const kc = join(dir, `kc-${timings}`);
  await cluster.writeKubeconfig(kc);
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await run(bin, ['install', '--set', 'profile=demo', '-y'], kc);
      times.push(performance.now() - t);
      if (readyPods(cluster) !== 3) throw new Error(`expected 3 Ready pods in istio-system after install, found ${readyPods(cluster)}`);
      await run(bin, ['uninstall', '--purge', '-y'], kc);
      await cluster.settle();
    }
  } finally {
    await cluster.stop();
  }
  return times;
}

function gc(): void {
  v8.setFlagsFromString('--expose-gc');
  const collect = vm.runInNewContext('gc') as () => void;
  collect();
  collect();
}

const kubectl = (args: string[], kubeconfig: string) => run('kubectl', args, kubeconfig);

/** Pods in the namespace that are Ready with every container ready (2/2 with a sidecar). */
function fullyReady(cluster: EmbeddedCluster, namespace: string, containers: number): number {
  const pods = cluster.store.list('/pods', namespace) as Obj[];
  return pods.filter((p) => (p.status?.containerStatuses ?? []).length === containers && p.status.containerStatuses.every((c: Obj) => c.ready) && (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')).length;
}

async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Bookinfo apply → 6 pods Ready, injected (2/2) and not (1/1), alternating in one cluster with Istio. */
async function bookinfo(bin: string, dir: string, runs: number): Promise<{ mesh: number[]; plain: number[] }> {
  const file = join(dir, 'bookinfo.yaml');
  writeFileSync(file, sampleFiles()['samples/bookinfo/platform/kube/bookinfo.yaml']!);
  const cluster = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS } });
  const kc = join(dir, 'kc-bookinfo');
  await cluster.writeKubeconfig(kc);
  const mesh: number[] = [];
  const plain: number[] = [];
  try {
    await run(bin, ['install', '--set', 'profile=demo', '-y'], kc);
    await kubectl(['create', 'namespace', 'mesh'], kc);
    await kubectl(['label', 'namespace', 'mesh', 'istio-injection=enabled'], kc);
    await kubectl(['create', 'namespace', 'plain'], kc);
    for (let i = 0; i < runs; i++) {
      for (const [ns, containers, into] of [['mesh', 2, mesh], ['plain', 1, plain]] as const) {
        const t = performance.now();
        await kubectl(['apply', '-n', ns, '-f', file], kc);
        await until(`bookinfo ready in ${ns}`, () => fullyReady(cluster, ns, containers) === 6);
        into.push(performance.now() - t);
        await kubectl(['delete', '-n', ns, '-f', file, '--wait=false'], kc);
        await until(`bookinfo gone from ${ns}`, () => (cluster.store.list('/pods', ns) as Obj[]).length === 0);
      }
    }
  } finally {
    await cluster.stop();
  }
  return { mesh, plain };
}

/**
 * The heap one cluster with Istio installed and Bookinfo injected holds: the heap with the clusters
 * running minus the heap once they are stopped (measured that way round, earlier phases' garbage
 * cannot make it look smaller).
 */
async function heapPerMeshCluster(bin: string, dir: string, n: number): Promise<number> {
  const file = join(dir, 'bookinfo.yaml');
  const clusters: EmbeddedCluster[] = [];
  for (let i = 0; i < n; i++) {
    const c = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS, nodePorts: false } });
    const kc = join(dir, `kc-heap-${i}`);
    await c.writeKubeconfig(kc);
    await run(bin, ['install', '--set', 'profile=demo', '-y'], kc);
    await kubectl(['label', 'namespace', 'default', 'istio-injection=enabled'], kc);
    await kubectl(['apply', '-f', file], kc);
    await until('bookinfo 2/2', () => fullyReady(c, 'default', 2) === 6);
    clusters.push(c);
  }
  await new Promise((r) => setTimeout(r, 500));
  gc();
  const withClusters = process.memoryUsage().heapUsed;
  for (const c of clusters) await c.stop();
  clusters.length = 0;
  await new Promise((r) => setTimeout(r, 500));
  gc();
  return (withClusters - process.memoryUsage().heapUsed) / n;
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-istio-'));
  try {
    const bin = join(dir, 'istioctl');
    writeFileSync(bin, await bundleIstioctl());
    chmodSync(bin, 0o755);
    const version = performance.now();
    await new Promise<void>((resolve, reject) => execFile(bin, ['version', '--remote=false'], (err) => (err ? reject(err) : resolve())));
    const startup = performance.now() - version;
    const zero = await measure(bin, dir, 'zero', 5);
    const real = await measure(bin, dir, 'default', 1);
    const books = await bookinfo(bin, dir, 5);
    const heap = await heapPerMeshCluster(bin, dir, 3);
    process.stdout.write(
      `istioctl start-up (version --remote=false): ${startup.toFixed(0)} ms\n` +
        `install --set profile=demo -y → all istio-system pods Ready, delays off: median ${median(zero).toFixed(0)} ms (runs ${zero.map((x) => x.toFixed(0)).join(', ')}) — target < 3000 ms\n` +
        `the same with the default simulated delays (pulls, probe delays): ${real[0]!.toFixed(0)} ms\n` +
        `Bookinfo apply → 6 pods Ready with sidecars (2/2), delays off: median ${median(books.mesh).toFixed(0)} ms; without injection in the same run ${median(books.plain).toFixed(0)} ms (${(median(books.mesh) / median(books.plain)).toFixed(2)}×) — target < 3000 ms\n` +
        `heap per cluster with Istio (demo) and Bookinfo injected: +${(heap / 1024 / 1024).toFixed(1)} MB (3 clusters) — target < 15 MB\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
