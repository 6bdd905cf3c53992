/**
 * Istio's ingress gateway in the embedded cluster, the tutorial's way: `istioctl install --set
 * profile=demo -y`, Bookinfo with sidecars, `bookinfo-gateway.yaml` applied with the real kubectl,
 * INGRESS_HOST/INGRESS_PORT/GATEWAY_URL by the NodePort recipe, and the real curl on this machine.
 * Also the Gateway API's bookinfo-gateway, reached through its own Service's NodePort.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import { standardInstallYaml } from '../../server/sim/addons/istio/gateway-api/crds.js';
import { bash, type Run } from '../helpers/istio-workdir.js';

const cluster = await EmbeddedCluster.start({ workloads: { timings: { schedule: 0, pull: 10, start: 10, ready: 10, terminate: 50, run: 100, backoff: 200, probeDelayScale: 0 } } });

let dir: string;
let env: Record<string, string>;

function sh(script: string, input?: string): Promise<Run> {
  return bash(script, { cwd: dir, env, input });
}

/** Polls until `fn` holds: istiod's push and the NodePort listener follow an apply, as on a real cluster. */
async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const URL_VARS = `export INGRESS_PORT=$(kubectl -n istio-system get service istio-ingressgateway -o jsonpath='{.spec.ports[?(@.name=="http2")].nodePort}')
export INGRESS_HOST=$(kubectl get po -l istio=ingressgateway -n istio-system -o jsonpath='{.items[0].status.hostIP}')
export GATEWAY_URL=$INGRESS_HOST:$INGRESS_PORT
`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-gateway-'));
  for (const [rel, text] of Object.entries(sampleFiles())) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  fs.writeFileSync(path.join(dir, 'standard-install.yaml'), standardInstallYaml());
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'istioctl'), await bundleIstioctl(), { mode: 0o755 });
  await cluster.writeKubeconfig(path.join(dir, 'kubeconfig'));
  env = { PATH: `${path.join(dir, 'bin')}:${process.env.PATH!}`, HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig'), KUBECACHEDIR: path.join(dir, 'kcache') };
  const r = await sh(
    'istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s && kubectl label namespace default istio-injection=enabled && kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml && kubectl wait --for=condition=Ready pod --all --timeout=90s',
  );
  expect(r.code, r.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the ingress gateway through its NodePort', () => {
  it('refuses the connection while no Gateway binds its port 8080, as a closed pod port behind kube-proxy does', async () => {
    // The status port is open from the start (a static listener of the gateway's Envoy): once kube-proxy serves it,
    // the same pod's 8080 is what refuses.
    const statusUrl = `export INGRESS_HOST=$(kubectl get po -l istio=ingressgateway -n istio-system -o jsonpath='{.items[0].status.hostIP}'); P=$(kubectl -n istio-system get service istio-ingressgateway -o jsonpath='{.spec.ports[?(@.name=="status-port")].nodePort}'); curl -s -o /dev/null -w '%{http_code}' http://$INGRESS_HOST:$P/healthz/ready`;
    await until('the status port through its NodePort', async () => (await sh(statusUrl)).stdout === '200');
    const r = await sh(`${URL_VARS}echo "$GATEWAY_URL"; curl -s http://$GATEWAY_URL/productpage; echo "exit=$?"`);
    expect(r.stdout).toMatch(/^127\.\d+\.\d+\.\d+:3\d{4}\nexit=7\n$/);
  }, 60_000);

  it('serves Bookinfo once bookinfo-gateway.yaml is applied: the title through the gateway, / is a 404 from istio-envoy', async () => {
    const apply = await sh('kubectl apply -f samples/bookinfo/networking/bookinfo-gateway.yaml');
    expect(apply.stdout).toBe('gateway.networking.istio.io/bookinfo-gateway created\nvirtualservice.networking.istio.io/bookinfo created\n');
    await until('the gateway listening', async () => (await sh(`${URL_VARS}curl -s -o /dev/null http://$GATEWAY_URL/productpage`)).code === 0);
    const title = await sh(`${URL_VARS}curl -s "http://$GATEWAY_URL/productpage" | grep -o "<title>.*</title>"`);
    expect(title.stdout).toBe('<title>Simple Bookstore App</title>\n');
    const head = await sh(`${URL_VARS}curl -s -D - -o /dev/null "http://$GATEWAY_URL/productpage"`);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.stdout).toMatch(/\r\nserver: istio-envoy\r\n/);
    expect(head.stdout).toMatch(/\r\nx-envoy-upstream-service-time: \d+\r\n/);
    const root = await sh(`${URL_VARS}curl -s -D - -o /dev/null "http://$GATEWAY_URL/"`);
    expect(root.stdout).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(root.stdout).toMatch(/\r\nserver: istio-envoy\r\n/);
    const log = await sh('kubectl logs -n istio-system deploy/istio-ingressgateway');
    expect(log.stdout).toMatch(/"GET \/productpage HTTP\/1\.1" 200 - via_upstream - "-" 0 \d+ \d+ \d+ "127\.[\d.]+" "curl\/[^"]+" "[0-9a-f-]{36}" "127\.[\d.]+:3\d{4}" "[\d.]+:9080" outbound\|9080\|\|productpage\.default\.svc\.cluster\.local [\d.]+:\d+ [\d.]+:8080 127\.[\d.]+:\d+ - -\n/);
    expect(log.stdout).toMatch(/"GET \/ HTTP\/1\.1" 404 NR route_not_found - "-" 0 0 \d+ - "127\.[\d.]+" "curl\/[^"]+" "[0-9a-f-]{36}" "127\.[\d.]+:3\d{4}" "-" - - [\d.]+:8080 127\.[\d.]+:\d+ - -\n/);
  }, 60_000);

  it('a host-specific Gateway serves its host and answers 404 for any other Host', async () => {
    const hosted = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 8080
      name: http
      protocol: HTTP
    hosts:
    - bookinfo.example.com
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
spec:
  hosts:
  - bookinfo.example.com
  gateways:
  - bookinfo-gateway
  http:
  - match:
    - uri:
        exact: /productpage
    route:
    - destination:
        host: productpage
        port:
          number: 9080
`;
    expect((await sh('kubectl apply -f -', hosted)).code).toBe(0);
    await until('the host-specific route', async () => (await sh(`${URL_VARS}curl -s -o /dev/null -w '%{http_code}' http://$GATEWAY_URL/productpage`)).stdout === '404');
    const ok = await sh(`${URL_VARS}curl -s -H "Host: bookinfo.example.com" "http://$GATEWAY_URL/productpage" | grep -o "<title>.*</title>"`);
    expect(ok.stdout).toBe('<title>Simple Bookstore App</title>\n');
    const other = await sh(`${URL_VARS}curl -s -D - -o /dev/null -H "Host: other.example.com" "http://$GATEWAY_URL/productpage"`);
    expect(other.stdout).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(other.stdout).toMatch(/\r\nserver: istio-envoy\r\n/);
    // Without a Gateway on 8080 the port closes again.
    await sh('kubectl delete -f samples/bookinfo/networking/bookinfo-gateway.yaml');
    await until('the port closed', async () => (await sh(`${URL_VARS}curl -s http://$GATEWAY_URL/productpage`)).code === 7);
  }, 60_000);
  it("istio.io's ingress task: httpbin behind a Gateway on port 80 (the Service port, served on 8080), the edge headers", async () => {
    const cfg = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: httpbin-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "httpbin.example.com"
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - "httpbin.example.com"
  gateways:
  - httpbin-gateway
  http:
  - match:
    - uri:
        prefix: /status
    - uri:
        prefix: /delay
    - uri:
        prefix: /headers
    route:
    - destination:
        port:
          number: 8000
        host: httpbin
`;
    const r = await sh('kubectl apply -f samples/httpbin/httpbin.yaml >/dev/null && kubectl wait --for=condition=Ready pod -l app=httpbin --timeout=60s >/dev/null && kubectl apply -f -', cfg);
    expect(r.code, r.stderr).toBe(0);
    await until('httpbin through the gateway', async () => (await sh(`${URL_VARS}curl -s -o /dev/null -w '%{http_code}' -HHost:httpbin.example.com http://$INGRESS_HOST:$INGRESS_PORT/status/200`)).stdout === '200');
    const head = await sh(`${URL_VARS}curl -s -I -HHost:httpbin.example.com "http://$INGRESS_HOST:$INGRESS_PORT/status/200"`);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.stdout).toMatch(/\r\nserver: istio-envoy\r\n/);
    expect(head.stdout).toMatch(/\r\nx-envoy-upstream-service-time: \d+\r\n/);
    const other = await sh(`${URL_VARS}curl -s -o /dev/null -w '%{http_code}' -HHost:httpbin.example.com "http://$INGRESS_HOST:$INGRESS_PORT/anything"`);
    expect(other.stdout).toBe('404');
    // The gateway is the edge: the client's address (the node's, after kube-proxy's SNAT) goes upstream.
    const headers = await sh(`${URL_VARS}curl -s -HHost:httpbin.example.com "http://$INGRESS_HOST:$INGRESS_PORT/headers"`);
    const seen = JSON.parse(headers.stdout).headers as Record<string, string[]>;
    const node = (await sh(URL_VARS + 'echo -n $INGRESS_HOST')).stdout;
    expect(seen['X-Forwarded-For']).toEqual([node]);
    expect(seen['X-Envoy-External-Address']).toEqual([node]);
    expect(seen['X-Envoy-Attempt-Count']).toEqual(['1']);
    await sh('kubectl delete -f -', cfg);
  }, 90_000);
});

describe('a Gateway API gateway through its NodePort', () => {
  it('bookinfo-gateway (class istio) serves /productpage on its own Service, its route named <ns>.<route>.<rule>; a second HTTPRoute splits by weight; route-reviews-90-10 splits in the mesh', async () => {
    const r = await sh('kubectl apply -f standard-install.yaml >/dev/null && kubectl apply -f samples/bookinfo/platform/kube/bookinfo-versions.yaml >/dev/null && kubectl apply -f samples/bookinfo/gateway-api/bookinfo-gateway.yaml');
    expect(r.code, r.stderr).toBe(0);
    await until('the gateway deployment', async () => (await sh('kubectl get deploy bookinfo-gateway-istio')).code === 0);
    expect((await sh('kubectl wait --for=condition=Ready pod -l gateway.networking.k8s.io/gateway-name=bookinfo-gateway --timeout=60s')).code).toBe(0);
    const vars = `export INGRESS_PORT=$(kubectl get service bookinfo-gateway-istio -o jsonpath='{.spec.ports[?(@.name=="http")].nodePort}')
export INGRESS_HOST=$(kubectl get po -l gateway.networking.k8s.io/gateway-name=bookinfo-gateway -o jsonpath='{.items[0].status.hostIP}')
export GATEWAY_URL=$INGRESS_HOST:$INGRESS_PORT
`;
    await until('the Gateway API gateway listening', async () => (await sh(`${vars}curl -s -o /dev/null http://$GATEWAY_URL/productpage`)).code === 0);
    const title = await sh(`${vars}curl -s "http://$GATEWAY_URL/productpage" | grep -o "<title>.*</title>"`);
    expect(title.stdout).toBe('<title>Simple Bookstore App</title>\n');
    const root = await sh(`${vars}curl -s -o /dev/null -D - "http://$GATEWAY_URL/"`);
    expect(root.stdout).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(root.stdout).toMatch(/\r\nserver: istio-envoy\r\n/);
    // Gateway API route names: <namespace>.<route>.<rule index>.
    const log = await sh('kubectl logs deploy/bookinfo-gateway-istio');
    expect(log.stdout).toMatch(/"GET \/productpage HTTP\/1\.1" 200 - via_upstream .* outbound\|9080\|\|productpage\.default\.svc\.cluster\.local .* default\.bookinfo\.0\n/);

    // A second HTTPRoute on the same listener merges into the same VirtualService; its weights split at the gateway.
    const split = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews-split
spec:
  parentRefs:
  - name: bookinfo-gateway
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /reviews
    backendRefs:
    - name: reviews-v1
      port: 9080
      weight: 90
    - name: reviews-v2
      port: 9080
      weight: 10
`;
    expect((await sh('kubectl apply -f -', split)).stdout).toBe('httproute.gateway.networking.k8s.io/reviews-split created\n');
    await until('the split route', async () => (await sh(`${vars}curl -s -o /dev/null -w '%{http_code}' http://$GATEWAY_URL/reviews/0`)).stdout === '200');
    const n = 200;
    const out = await sh(`${vars}for i in $(seq ${n}); do curl -s "http://$GATEWAY_URL/reviews/0" | grep -o -E '"podname": *"reviews-v[0-9]' | grep -o 'reviews-v[0-9]'; done | sort | uniq -c`);
    const counts = Object.fromEntries([...out.stdout.matchAll(/(\d+) (reviews-v\d)/g)].map((m) => [m[2], Number(m[1])]));
    expect(counts['reviews-v3']).toBeUndefined();
    expect((counts['reviews-v1'] ?? 0) + (counts['reviews-v2'] ?? 0)).toBe(n);
    // Binomial(200, 0.1): mean 20, sd ≈ 4.2; 20 ± 4.5 sd keeps a false failure below 1e-5.
    expect(counts['reviews-v2']).toBeGreaterThanOrEqual(1);
    expect(counts['reviews-v2']).toBeLessThanOrEqual(39);
    // The product page still routes: both routes live in one VirtualService.
    expect((await sh(`${vars}curl -s "http://$GATEWAY_URL/productpage" | grep -o "<title>.*</title>"`)).stdout).toBe('<title>Simple Bookstore App</title>\n');

    // route-reviews-90-10.yaml: a Service parent (GAMMA) routes productpage's own calls through its sidecar.
    expect((await sh('kubectl apply -f samples/bookinfo/gateway-api/route-reviews-90-10.yaml')).stdout).toBe('httproute.gateway.networking.k8s.io/reviews created\n');
    await until('the mesh route accepted', async () => (await sh('kubectl get httproute reviews -o jsonpath={.status.parents[0].conditions[0].status}')).stdout === 'True');
    // istiod converted it and productpage's sidecar has it (the VIRTUAL SERVICE column names the converted config).
    await until('the route in productpage\'s sidecar', async () => (await sh('istioctl proxy-config routes deploy/productpage-v1 --name 9080')).stdout.includes('default~9080~reviews.default.svc.cluster.local.default'));
    const pages = await sh(`${vars}for i in $(seq ${n}); do curl -s "http://$GATEWAY_URL/productpage" | grep -o -E "Reviews served by: reviews-v[0-9]"; done | sort | uniq -c`);
    const served = Object.fromEntries([...pages.stdout.matchAll(/(\d+) Reviews served by: (reviews-v\d)/g)].map((m) => [m[2], Number(m[1])]));
    expect(served['reviews-v3']).toBeUndefined();
    expect((served['reviews-v1'] ?? 0) + (served['reviews-v2'] ?? 0)).toBe(n);
    expect(served['reviews-v2']).toBeGreaterThanOrEqual(1);
    expect(served['reviews-v2']).toBeLessThanOrEqual(39);

  }, 240_000);
});
