/**
 * `istioctl install --set profile=demo -y` (the release's bundled bin/istioctl, run as a learner
 * runs it) until every istio-system pod is Ready — the command itself waits for that — on an
 * embedded cluster with the simulated delays off (median of 5, uninstall --purge between runs),
 * and once with the default, realistic delays (image pulls, probes' initial delays). Target < 3 s.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../server/sim/cluster.js';
import { ZERO_TIMINGS } from '../server/sim/addons/core/workloads.js';
import { bundleIstioctl } from '../server/sim/addons/istio/release/build.js';

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
    process.stdout.write(
      `istioctl start-up (version --remote=false): ${startup.toFixed(0)} ms\n` +
        `install --set profile=demo -y → all istio-system pods Ready, delays off: median ${median(zero).toFixed(0)} ms (runs ${zero.map((x) => x.toFixed(0)).join(', ')}) — target < 3000 ms\n` +
        `the same with the default simulated delays (pulls, probe delays): ${real[0]!.toFixed(0)} ms\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
