/**
 * Looking inside the data plane as a learner does, with the real kubectl and our istioctl (bundled
 * as the release bundles it) in a real shell: `istioctl proxy-config` and `istioctl x describe pod`
 * on Bookinfo's injected pods (through a port-forward to Envoy's loopback-only admin), their
 * errors for pods without a sidecar or that do not exist, and `pilot-agent request GET stats` in
 * the istio-proxy container.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const cluster = await EmbeddedCluster.start({ workloads: true });

let dir: string;
let env: Record<string, string>;

function sh(script: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile('bash', ['-c', script], { cwd: dir, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end('');
  });
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
}, 240_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('istioctl proxy-config', () => {
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

  it('lists the static listeners 15090 and 15021 (padding 1) and their inline routes', async () => {
    const l = await ok(`istioctl pc listeners ${productpage}.default`);
    expect(l.split('\n')[0]).toBe('ADDRESSES PORT  MATCH DESTINATION');
    expect(l).toContain('0.0.0.0   15021 ALL   Inline Route: /healthz/ready*');
    expect(l).toContain('0.0.0.0   15090 ALL   Inline Route: /stats/prometheus*');
    const r = await ok(`istioctl pc routes ${productpage}`);
    expect(table(r, ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'])).toContainEqual(['', 'backend', '*', '/stats/prometheus*', '']);
  });

  it('lists the endpoints of the bootstrap clusters from /clusters', async () => {
    const r = await ok(`istioctl pc endpoints ${productpage} --cluster agent`);
    expect(table(r, ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'])).toEqual([
      ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'],
      ['127.0.0.1:15020', 'HEALTHY', 'OK', 'agent'],
    ]);
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

describe('Envoy admin and pilot-agent in the istio-proxy container', () => {
  it('pilot-agent request GET stats prints Envoy stats; grep works on them', async () => {
    const r = await sh(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET stats | grep '^server.live'`);
    expect(r.stdout).toBe('server.live: 1\n');
    const ready = await ok(`kubectl exec ${productpage} -c istio-proxy -- pilot-agent request GET ready`);
    expect(ready).toBe('LIVE\n\n');
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

describe('istioctl x describe pod', () => {
  it('describes a Bookinfo pod: ports, its Service, PeerAuthentication, the ingress gateway', async () => {
    const r = await sh(`istioctl x describe pod ${productpage}`);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`Pod: ${productpage}`);
    expect(lines[1]).toBe('   Pod Revision: default');
    expect(lines[2]).toMatch(/^ {3}Pod Ports: 9080 \(productpage\)/);
    expect(r.stdout).toContain('--------------------\nService: productpage\n   Port: http 9080/HTTP targets pod port 9080\n');
    expect(r.stdout).toContain('--------------------\nEffective PeerAuthentication:\n   Workload mTLS mode: PERMISSIVE\n');
  });

  it('warns about a pod without a sidecar and then fails to reach its Envoy', async () => {
    const r = await sh('istioctl x describe pod toolbox.plain');
    expect(r.stdout).toContain('WARNING: toolbox.plain is not part of mesh; no Istio sidecar\n');
    expect(r.stderr).toMatch(/Error: failed to execute command on sidecar: failure running port forward process: Get "http:\/\/localhost:\d+\/config_dump": EOF\n$/);
    expect(r.code).toBe(1);
  });
});
