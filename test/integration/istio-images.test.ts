/**
 * The traffic tasks' sample workloads in the embedded cluster, driven by the real kubectl in a
 * real shell: the curl sample's loop from the mTLS migration task, fortio's curl and load from
 * the circuit-breaking task, and go-httpbin's request log read with kubectl logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import { bash, type Run } from '../helpers/istio-workdir.js';

const cluster = await EmbeddedCluster.start({
  workloads: { timings: { schedule: 0, pull: 10, start: 10, ready: 10, terminate: 50, run: 100, backoff: 100, probeDelayScale: 0 }, nodePorts: false },
});

let dir: string;
let env: Record<string, string>;

function sh(script: string): Promise<Run> {
  return bash(script, { cwd: dir, env });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-images-'));
  for (const [rel, text] of Object.entries(sampleFiles())) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  await cluster.writeKubeconfig(path.join(dir, 'kubeconfig'));
  env = { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig'), KUBECACHEDIR: path.join(dir, 'kcache') };
  // The mTLS migration task's setup (without sidecars: the data plane is not this suite's subject).
  const r = await sh(
    'kubectl create ns foo && kubectl create ns bar && kubectl create ns legacy && ' +
      'kubectl apply -f samples/httpbin/httpbin.yaml -n foo && kubectl apply -f samples/curl/curl.yaml -n foo && ' +
      'kubectl apply -f samples/httpbin/httpbin.yaml -n bar && kubectl apply -f samples/curl/curl.yaml -n bar && ' +
      'kubectl apply -f samples/curl/curl.yaml -n legacy && ' +
      'kubectl apply -f samples/httpbin/sample-client/fortio-deploy.yaml -n foo && ' +
      'kubectl wait --for=condition=Ready pod --all -n foo -n bar --timeout=60s && kubectl wait --for=condition=Ready pod --all -A --timeout=60s',
  );
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the curl sample', () => {
  it("runs the mTLS migration task's loop: every client reaches every httpbin (no policy yet)", async () => {
    const r = await sh(
      'for from in "foo" "bar" "legacy"; do for to in "foo" "bar"; do kubectl exec "$(kubectl get pod -l app=curl -n ${from} -o jsonpath={.items..metadata.name})" -c curl -n ${from} -- curl http://httpbin.${to}:8000/ip -s -o /dev/null -w "curl.${from} to httpbin.${to}: %{http_code}\\n"; done; done',
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      'curl.foo to httpbin.foo: 200\ncurl.foo to httpbin.bar: 200\ncurl.bar to httpbin.foo: 200\ncurl.bar to httpbin.bar: 200\ncurl.legacy to httpbin.foo: 200\ncurl.legacy to httpbin.bar: 200\n',
    );
  });

  it("-sS against a pod port nothing listens on prints curl's error, exit 7, and 000 from -w", async () => {
    const r = await sh(
      'IP=$(kubectl get pod -l app=httpbin -n foo -o jsonpath={.items..status.podIP}) && kubectl exec deploy/curl -n foo -- curl -sS http://$IP:9999/ip -o /dev/null -w "%{http_code}\\n"',
    );
    expect(r.stdout).toBe('000\n');
    expect(r.stderr).toMatch(/^curl: \(7\) Failed to connect to [\d.]+ port 9999 after \d+ ms: /m);
    expect(r.stderr).toContain('command terminated with exit code 7');
    expect(r.code).toBe(7);
  });
});

describe('fortio (circuit-breaking task)', () => {
  it('fortio curl -quiet prints httpbin\'s /get body on stdout and the response headers on stderr', async () => {
    const r = await sh('kubectl exec deploy/fortio-deploy -n foo -c fortio -- /usr/bin/fortio curl -quiet http://httpbin:8000/get');
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ args: {}, method: 'GET', url: 'http://httpbin:8000/get', headers: { Host: ['httpbin:8000'], 'User-Agent': ['fortio.org/fortio-1.69.5'] } });
    expect(r.stderr).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: application\/json; charset=utf-8\r\n/);
  });

  it('fortio load -c 2 -qps 0 -n 20 prints the summary the task reads', async () => {
    const r = await sh('kubectl exec deploy/fortio-deploy -n foo -c fortio -- /usr/bin/fortio load -c 2 -qps 0 -n 20 -loglevel Warning http://httpbin:8000/get');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Fortio 1.69.5 running at 0 queries per second, 2->2 procs, for 20 calls: http://httpbin:8000/get\n');
    expect(r.stderr).toContain('Starting at max qps with 2 thread(s) [gomax 2] for exactly 20 calls (10 per thread + 0)\n');
    expect(r.stderr).toContain('Sockets used: 2 (for perfect keepalive, would be 2)\n');
    expect(r.stderr).toContain('Code 200 : 20 (100.0 %)\n');
    expect(r.stderr).toMatch(/\nAll done 20 calls \(plus 0 warmup\) [\d.]+ ms avg, [\d.]+ qps\n$/);
  });

  it("httpbin's log shows each request fortio sent (what the mirroring task reads)", async () => {
    const r = await sh('kubectl logs deploy/httpbin -n foo');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^time=\S+ level=INFO msg="go-httpbin listening on http:\/\/0\.0\.0\.0:8080"$/);
    expect(lines.filter((l) => / msg="200 GET \/get [\d.]+ms" .* user_agent=fortio\.org\/fortio-1\.69\.5 /.test(l)).length).toBeGreaterThanOrEqual(21);
  });

  it('fortio serves its echo and a UI page that says it is simulated', async () => {
    const r = await sh('kubectl exec deploy/curl -n foo -- curl -s "http://fortio.foo:8080/echo?status=418" -o /dev/null -w "%{http_code}\\n" && kubectl exec deploy/curl -n foo -- curl -s http://fortio.foo:8080/fortio/');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^418\n[\s\S]*its web UI is not simulated/);
  });
});
