/**
 * The data plane's cost (issue 17): Bookinfo's productpage fetched from this machine through the
 * ingress gateway's NodePort with every hop in the mesh (gateway → productpage's sidecar →
 * details and reviews through both proxies), against the same request without the mesh in the
 * same run and the same cluster: a namespace without injection, productpage behind a NodePort.
 *
 * Both namespaces run reviews v1 only, so both paths do the same application work (no ratings
 * call) and the mesh path crosses a fixed number of proxies: the gateway, productpage inbound,
 * productpage outbound + details inbound, productpage outbound + reviews inbound = 6 hops.
 * Reports throughput (keep-alive load) and sequential latency, the ratio mesh/plain, and the
 * added latency per hop: (p50 mesh − p50 plain) / 6. Targets: ≥ 0.5× throughput, < 0.2 ms/hop.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../server/sim/cluster.js';
import { ZERO_TIMINGS } from '../server/sim/addons/core/workloads.js';
import { bundleIstioctl } from '../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../server/sim/addons/istio/release/samples.js';

type Obj = Record<string, any>;
const DURATION_MS = 3_000;
const CONNECTIONS = 8;
const SEQUENTIAL = 300;
const HOPS = 6;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function run(bin: string, args: string[], kubeconfig: string, stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { env: { PATH: process.env.PATH!, HOME: tmpdir(), KUBECONFIG: kubeconfig } }, (err, out, stderr) => (err ? reject(new Error(`${bin} ${args.join(' ')}: ${stderr}`)) : resolve(out)));
    // A child that exits without reading stdin makes this write fail (EPIPE): its exit code says what happened.
    child.stdin!.on('error', () => {});
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

function get(agent: http.Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Keep-alive load from CONNECTIONS concurrent clients for DURATION_MS: successful pages per second. */
async function load(url: string): Promise<{ rps: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let done = 0;
  let errors = 0;
  const end = performance.now() + DURATION_MS;
  const worker = async () => {
    while (performance.now() < end) {
      try {
        const r = await get(agent, url);
        if (r.status === 200) done++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return { rps: done / ((performance.now() - t) / 1000), errors };
}

async function sequential(url: string, n: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await get(agent, url);
    if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
    out.push(performance.now() - t);
  }
  agent.destroy();
  return out;
}

async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function readyPods(cluster: EmbeddedCluster, namespace: string, containers: number): number {
  const pods = cluster.store.list('/pods', namespace) as Obj[];
  return pods.filter((p) => !p.metadata.deletionTimestamp && (p.status?.containerStatuses ?? []).length === containers && p.status.containerStatuses.every((c: Obj) => c.ready)).length;
}

const nodePortOf = (cluster: EmbeddedCluster, ns: string, name: string, portName?: string) => {
  const svc = cluster.store.get('/services', ns, name) as Obj;
  const port = (svc.spec.ports as Obj[]).find((p) => !portName || p.name === portName)!;
  return port.nodePort as number;
};

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mesh-'));
  const cluster = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS } });
  try {
    const bin = join(dir, 'istioctl');
    writeFileSync(bin, await bundleIstioctl());
    chmodSync(bin, 0o755);
    const kc = join(dir, 'kubeconfig');
    await cluster.writeKubeconfig(kc);
    const kubectl = (args: string[], stdin?: string) => run('kubectl', args, kc, stdin);
    const samples = sampleFiles();
    const bookinfo = join(dir, 'bookinfo.yaml');
    writeFileSync(bookinfo, samples['samples/bookinfo/platform/kube/bookinfo.yaml']!);
    const gateway = join(dir, 'bookinfo-gateway.yaml');
    writeFileSync(gateway, samples['samples/bookinfo/networking/bookinfo-gateway.yaml']!);

    await run(bin, ['install', '--set', 'profile=demo', '-y'], kc);
    await kubectl(['create', 'namespace', 'mesh']);
    await kubectl(['label', 'namespace', 'mesh', 'istio-injection=enabled']);
    await kubectl(['create', 'namespace', 'plain']);
    for (const [ns, containers] of [['mesh', 2], ['plain', 1]] as const) {
      await kubectl(['apply', '-n', ns, '-f', bookinfo]);
      await kubectl(['delete', '-n', ns, 'deployment', 'reviews-v2', 'reviews-v3']);
      await until(`bookinfo ready in ${ns}`, () => readyPods(cluster, ns, containers) === 4 && (cluster.store.list('/pods', ns) as Obj[]).length === 4);
    }
    await kubectl(['apply', '-n', 'mesh', '-f', gateway]);
    await kubectl(['patch', '-n', 'plain', 'service', 'productpage', '-p', '{"spec":{"type":"NodePort"}}']);

    const node = ((cluster.store.list('/nodes') as Obj[])[1]!.status.addresses as Obj[]).find((a) => a.type === 'InternalIP')!.address as string;
    const meshUrl = `http://${node}:${nodePortOf(cluster, 'istio-system', 'istio-ingressgateway', 'http2')}/productpage`;
    const plainUrl = `http://${node}:${nodePortOf(cluster, 'plain', 'productpage')}/productpage`;
    const agent = new http.Agent({ keepAlive: true });
    // Both paths serve the same page before anything is measured (and warm up).
    for (const url of [meshUrl, plainUrl]) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r = await get(agent, url).catch(() => ({ status: 0, body: '' }));
        if (r.status === 200 && r.body.includes('<title>Simple Bookstore App</title>') && r.body.includes('Reviewer1')) break;
        if (Date.now() > deadline) throw new Error(`${url} never served the page (last HTTP ${r.status})`);
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    agent.destroy();
    await sequential(meshUrl, 30);
    await sequential(plainUrl, 30);

    // Alternate the two so drift on this noisy machine hits both alike.
    const tp = { mesh: [] as number[], plain: [] as number[] };
    for (let i = 0; i < 2; i++) {
      tp.plain.push((await load(plainUrl)).rps);
      tp.mesh.push((await load(meshUrl)).rps);
    }
    const lat = { mesh: [] as number[], plain: [] as number[] };
    for (let i = 0; i < 3; i++) {
      lat.plain.push(...(await sequential(plainUrl, SEQUENTIAL / 3)));
      lat.mesh.push(...(await sequential(meshUrl, SEQUENTIAL / 3)));
    }
    const best = (xs: number[]) => Math.max(...xs);
    const p50m = pct(lat.mesh, 50);
    const p50p = pct(lat.plain, 50);
    const perHop = (p50m - p50p) / HOPS;
    process.stdout.write(
      `productpage (reviews v1 only), ${CONNECTIONS} keep-alive connections, ${DURATION_MS / 1000} s × 2 each, best run\n` +
        `  without the mesh (NodePort → productpage)        ${best(tp.plain).toFixed(0)} pages/s\n` +
        `  through the mesh (NodePort → gateway → sidecars) ${best(tp.mesh).toFixed(0)} pages/s   ratio ${(best(tp.mesh) / best(tp.plain)).toFixed(2)} (target ≥ 0.50)\n` +
        `sequential latency (n=${SEQUENTIAL} each)\n` +
        `  without the mesh  p50 ${p50p.toFixed(2)} ms  p99 ${pct(lat.plain, 99).toFixed(2)} ms\n` +
        `  through the mesh  p50 ${p50m.toFixed(2)} ms  p99 ${pct(lat.mesh, 99).toFixed(2)} ms\n` +
        `  added per proxy hop (${HOPS} hops): p50 ${perHop.toFixed(3)} ms (target < 0.2 ms)\n`,
    );
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
