/**
 * The sample workloads inside the mesh (sidecars injected by our istioctl's istiod), driven by
 * the real kubectl: fortio against httpbin under the circuit-breaking task's DestinationRule,
 * the mTLS migration task's curl loop once foo is STRICT, and Bookinfo under the ratings delay
 * fault for jason (the page after ≈6 s with the reviews error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bash, istioWorkdir, type Run, CIRCUIT_BREAKING_DR } from '../helpers/istio-workdir.js';


let cluster: EmbeddedCluster;

let dir: string;
let env: Record<string, string>;

const sh = (script: string, input?: string): Promise<Run> => bash(script, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });

describe('in the mesh', () => {
  beforeAll(async () => {
    cluster = await EmbeddedCluster.start({
      workloads: { timings: { schedule: 0, pull: 10, start: 10, ready: 10, terminate: 50, run: 100, backoff: 100, probeDelayScale: 0 }, nodePorts: false },
    });
    ({ dir, env } = await istioWorkdir('istio-images-mesh-', cluster));
    const r = await sh(
      'istioctl install --set profile=demo -y >/dev/null && ' +
        'kubectl label namespace default istio-injection=enabled && ' +
        'kubectl apply -f samples/httpbin/httpbin.yaml && kubectl apply -f samples/httpbin/sample-client/fortio-deploy.yaml && ' +
        'kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml && kubectl apply -f samples/curl/curl.yaml && ' +
        'kubectl create ns foo && kubectl label namespace foo istio-injection=enabled && kubectl create ns legacy && ' +
        'kubectl apply -f samples/httpbin/httpbin.yaml -n foo && kubectl apply -f samples/curl/curl.yaml -n foo && kubectl apply -f samples/curl/curl.yaml -n legacy && ' +
        'kubectl wait --for=condition=Ready pod --all -A --timeout=90s',
    );
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('circuit breaking with fortio', () => {
    it('fortio curl through the sidecar shows the response Envoy returned', async () => {
      const r = await sh('kubectl exec deploy/fortio-deploy -c fortio -- /usr/bin/fortio curl -quiet http://httpbin:8000/get');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(r.stderr).toContain('server: envoy\r\n');
      expect(r.stderr).toMatch(/x-envoy-upstream-service-time: \d+\r\n/);
      expect(JSON.parse(r.stdout).headers['User-Agent']).toEqual(['fortio.org/fortio-1.69.5']);
    });

    it('with maxConnections 1 / http1MaxPendingRequests 1, load -c 3 -n 30 trips the breaker: some 503s, each logged', async () => {
      const dr = CIRCUIT_BREAKING_DR;
      const applied = await sh('kubectl apply -f -', dr);
      expect(applied.code, applied.stderr).toBe(0);
      // istiod pushes the DestinationRule: wait until the proxy has the circuit breaker before loading.
      let out = '';
      for (let i = 0; i < 50; i++) {
        const r = await sh('kubectl exec deploy/fortio-deploy -c fortio -- /usr/bin/fortio load -c 3 -qps 0 -n 30 -loglevel Warning http://httpbin:8000/get');
        expect(r.code, r.stderr).toBe(0);
        out = r.stderr;
        if (/Code 503 : \d+/.test(out)) break;
      }
      const ok = Number(/Code 200 : (\d+) \(/.exec(out)?.[1] ?? 0);
      const failed = Number(/Code 503 : (\d+) \(/.exec(out)?.[1] ?? 0);
      expect(failed).toBeGreaterThan(0);
      expect(ok + failed).toBe(30);
      expect(out.split('\n').filter((l) => l.includes('"msg":"Non ok http code","code":503,"status":"HTTP/1.1 503"'))).toHaveLength(failed);
      expect(out).toMatch(/\nSockets used: \d+ \(for perfect keepalive, would be 3\)\n/);
      expect(out).toMatch(/\nAll done 30 calls \(plus 0 warmup\) [\d.]+ ms avg, [\d.]+ qps\n$/);
    });
  });

  describe('mutual TLS migration', () => {
    it('once foo is STRICT, the legacy (no sidecar) curl gets 000 and exit 56; the mesh client still 200', async () => {
      const pa = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: foo\nspec:\n  mtls:\n    mode: STRICT\n';
      expect((await sh('kubectl apply -f -', pa)).code).toBe(0);
      const loop =
        'for from in "foo" "legacy"; do for to in "foo"; do kubectl exec "$(kubectl get pod -l app=curl -n ${from} -o jsonpath={.items..metadata.name})" -c curl -n ${from} -- curl http://httpbin.${to}:8000/ip -s -o /dev/null -w "curl.${from} to httpbin.${to}: %{http_code}\\n"; done; done';
      let r: Run = { code: 0, stdout: '', stderr: '' };
      for (let i = 0; i < 50; i++) {
        r = await sh(loop);
        if (r.stdout.includes('legacy to httpbin.foo: 000')) break;
      }
      expect(r.stdout).toBe('curl.foo to httpbin.foo: 200\ncurl.legacy to httpbin.foo: 000\n');
      expect(r.stderr).toBe('command terminated with exit code 56\n');
      const direct = await sh('kubectl exec deploy/curl -n legacy -- curl -sS http://httpbin.foo:8000/ip -o /dev/null -w "%{http_code}\\n"');
      expect(direct.stdout).toBe('000\n');
      expect(direct.stderr).toBe('curl: (56) Recv failure: Connection reset by peer\ncommand terminated with exit code 56\n');
    });
  });

  describe('Bookinfo fault injection', () => {
    it("a 7 s ratings delay for jason: productpage's two 3 s attempts give the page after ≈6 s with the reviews error", async () => {
      const delay = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      delay:
        percentage:
          value: 100.0
        fixedDelay: 7s
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`;
      const setup = await sh(
        'kubectl apply -f samples/bookinfo/networking/destination-rule-all.yaml && kubectl apply -f samples/bookinfo/networking/virtual-service-all-v1.yaml && ' +
          'kubectl apply -f samples/bookinfo/networking/virtual-service-reviews-test-v2.yaml && kubectl apply -f -',
        delay,
      );
      expect(setup.code, setup.stderr).toBe(0);
      const page =
        "kubectl exec deploy/curl -- sh -c 'curl -s -c /tmp/jar -H \"Referer: http://productpage:9080/productpage\" -d \"username=jason&passwd=x\" http://productpage:9080/login -o /dev/null && " +
        "curl -s -b /tmp/jar -w \"\\ntime=%{time_total}\\n\" http://productpage:9080/productpage'";
      let r: Run = { code: 0, stdout: '', stderr: '' };
      for (let i = 0; i < 20; i++) {
        r = await sh(page);
        if (r.stdout.includes('Error fetching product reviews')) break;
      }
      expect(r.stdout).toContain('Sorry, product reviews are currently unavailable for this book.');
      const took = Number(/\ntime=([\d.]+)\n$/.exec(r.stdout)?.[1]);
      expect(took).toBeGreaterThanOrEqual(5.9);
      // Two tries of 3 s, not a third (9 s); the rest is room for a loaded machine.
      expect(took).toBeLessThan(8.5);
    }, 60_000);
  });
});
