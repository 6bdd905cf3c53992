/**
 * The Kubernetes Gateway API in the embedded cluster as istio.io's Bookinfo pages use it, with the
 * real kubectl and our istioctl: the CRDs from the playground's offline copy (over HTTP, as a
 * learner's shell fetches $GATEWAY_API_CRDS_URL), the GatewayClasses
 * istiod creates, `bookinfo-gateway` deployed by istiod as `bookinfo-gateway-istio`, statuses,
 * and the Istio config istiod derives (served to the gateway's proxy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bundleIstioctl } from '../../server/sim/addons/istio/release/build.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { bash, type Run } from '../helpers/istio-workdir.js';

const cluster = await EmbeddedCluster.start({ workloads: { timings: { schedule: 0, pull: 10, start: 10, ready: 10, terminate: 50, run: 100, backoff: 200, probeDelayScale: 0 } } });

let dir: string;
let env: Record<string, string>;
let pg: TestPlayground;

function sh(script: string, input?: string): Promise<Run> {
  return bash(script, { cwd: dir, env, input });
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-gateway-api-'));
  for (const [rel, text] of Object.entries(sampleFiles())) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  // The playground serves the CRDs a learner's shell fetches as $GATEWAY_API_CRDS_URL (no internet, no token).
  pg = await startTestPlayground({ dataDir: path.join(dir, 'data') });
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'istioctl'), await bundleIstioctl(), { mode: 0o755 });
  await cluster.writeKubeconfig(path.join(dir, 'kubeconfig'));
  env = {
    PATH: `${path.join(dir, 'bin')}:${process.env.PATH!}`,
    HOME: dir,
    KUBECONFIG: path.join(dir, 'kubeconfig'),
    KUBECACHEDIR: path.join(dir, 'kcache'),
    GATEWAY_API_CRDS_URL: `${pg.baseUrl.replace(/\/$/, '')}/istio/gateway-api/v1.3.0/standard-install.yaml`,
  };
  const r = await sh('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s');
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await cluster.stop();
  await pg?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Gateway API', () => {
  it('installs the standard CRDs from the playground with the istio.io guard, then istiod creates and accepts its GatewayClasses', async () => {
    const served = await sh('curl -s -D - -o /dev/null "$GATEWAY_API_CRDS_URL" | tr -d "\\r" | grep -i "^content-type"; curl -s "$GATEWAY_API_CRDS_URL" | grep -c "gateway.networking.k8s.io/bundle-version: v1.3.0"');
    expect(served.stdout).toBe('Content-Type: application/yaml; charset=utf-8\n5\n');
    const guard = 'kubectl get crd gateways.gateway.networking.k8s.io &> /dev/null || { kubectl apply -f "$GATEWAY_API_CRDS_URL"; }';
    const first = await sh(guard);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(
      [
        'customresourcedefinition.apiextensions.k8s.io/gatewayclasses.gateway.networking.k8s.io created',
        'customresourcedefinition.apiextensions.k8s.io/gateways.gateway.networking.k8s.io created',
        'customresourcedefinition.apiextensions.k8s.io/grpcroutes.gateway.networking.k8s.io created',
        'customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io created',
        'customresourcedefinition.apiextensions.k8s.io/referencegrants.gateway.networking.k8s.io created',
        '',
      ].join('\n'),
    );
    // Run again, the guard finds the CRD and applies nothing.
    expect((await sh(guard)).stdout).toBe('');
    await until('GatewayClass istio accepted', async () => (await sh('kubectl get gc istio -o jsonpath={.status.conditions[0].status}')).stdout === 'True');
    const gc = await sh('kubectl get gatewayclass');
    expect(gc.stdout).toMatch(/^NAME +CONTROLLER +ACCEPTED +AGE\nistio +istio\.io\/gateway-controller +True +\S+\nistio-remote +istio\.io\/unmanaged-gateway +True +\S+\n$/);
    const reason = await sh('kubectl get gc istio -o jsonpath="{.status.conditions[0].reason}/{.status.conditions[0].message}/{.spec.description}"');
    expect(reason.stdout).toBe('Accepted/Handled by Istio controller/The default Istio GatewayClass');
  }, 60_000);

  it('deploys bookinfo-gateway-istio for the sample Gateway and reports status on the Gateway and the HTTPRoute', async () => {
    const apply = await sh('kubectl label namespace default istio-injection=enabled && kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml >/dev/null && kubectl apply -f samples/bookinfo/gateway-api/bookinfo-gateway.yaml');
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('gateway.gateway.networking.k8s.io/bookinfo-gateway created\nhttproute.gateway.networking.k8s.io/bookinfo created\n');
    await until('the gateway deployment', async () => (await sh('kubectl get deploy bookinfo-gateway-istio')).code === 0);
    const wait = await sh('kubectl wait --for=condition=Available deploy/bookinfo-gateway-istio --timeout=60s && kubectl wait --for=condition=Ready pod --all --timeout=90s');
    expect(wait.code, wait.stderr).toBe(0);
    const svc = await sh('kubectl get svc bookinfo-gateway-istio -o jsonpath="{.spec.type} {range .spec.ports[*]}{.name}:{.port}/{.appProtocol} {end}"');
    expect(svc.stdout).toBe('LoadBalancer status-port:15021/tcp http:80/http ');
    const pod = await sh('kubectl get pod -l gateway.networking.k8s.io/gateway-name=bookinfo-gateway -o jsonpath="{.items[0].spec.containers[0].args}"');
    expect(pod.stdout).toContain('"proxy","router"');
    const owner = await sh('kubectl get deploy bookinfo-gateway-istio -o jsonpath="{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"');
    expect(owner.stdout).toBe('Gateway/bookinfo-gateway');
    await until('route accepted', async () => (await sh('kubectl get httproute bookinfo -o jsonpath={.status.parents[0].conditions[0].status}')).stdout === 'True');
    const route = await sh('kubectl get httproute bookinfo -o jsonpath="{.status.parents[0].controllerName} {range .status.parents[0].conditions[*]}{.type}={.status}:{.message};{end}"');
    expect(route.stdout).toBe('istio.io/gateway-controller Accepted=True:Route was valid;ResolvedRefs=True:All references resolved;');
    // The LoadBalancer stays <pending> without a load-balancer controller: Accepted, not Programmed, as istiod says.
    await until('listener counts the route', async () => (await sh('kubectl get gtw bookinfo-gateway -o jsonpath={.status.listeners[0].attachedRoutes}')).stdout === '1');
    const gw = await sh('kubectl get gtw bookinfo-gateway -o jsonpath="{range .status.conditions[*]}{.type}={.status}/{.reason}: {.message}|{end}"');
    expect(gw.stdout).toBe(
      'Accepted=True/Accepted: Resource accepted|Programmed=False/AddressNotAssigned: Assigned to service(s) bookinfo-gateway-istio.default.svc.cluster.local:80, but failed to assign to all requested addresses: address pending for hostname "bookinfo-gateway-istio.default.svc.cluster.local"|',
    );
    // With the Gateway API CRDs installed, `gateway` is the Gateway API's kind (CRD groups are listed by name).
    const table = await sh('kubectl get gateway');
    expect(table.stdout).toMatch(/^NAME +CLASS +ADDRESS +PROGRAMMED +AGE\nbookinfo-gateway +istio +False +\S+\n$/);
  }, 150_000);

  it('with service-type ClusterIP (istio.io on kind) the Gateway is Programmed, reports the Service as its address, and serves through kubectl port-forward', async () => {
    const r = await sh('kubectl annotate gateway bookinfo-gateway networking.istio.io/service-type=ClusterIP --namespace=default && kubectl wait --for=condition=programmed gtw bookinfo-gateway --timeout=30s');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('gateway.gateway.networking.k8s.io/bookinfo-gateway annotated\ngateway.gateway.networking.k8s.io/bookinfo-gateway condition met\n');
    expect((await sh('kubectl get svc bookinfo-gateway-istio -o jsonpath={.spec.type}')).stdout).toBe('ClusterIP');
    const addr = await sh("kubectl get gtw bookinfo-gateway -o jsonpath='{.status.addresses[0].value}'");
    expect(addr.stdout).toBe('bookinfo-gateway-istio.default.svc.cluster.local');
    // istio.io's next step on kind: port-forward the gateway's Service and curl the page.
    const pf = await sh(`kubectl port-forward svc/bookinfo-gateway-istio :80 > pf.log 2>&1 & PF=$!
for i in $(seq 100); do grep -q '^Forwarding from 127.0.0.1' pf.log && break; sleep 0.1; done
PORT=$(sed -n 's/^Forwarding from 127.0.0.1:\\([0-9]*\\) -> 80$/\\1/p' pf.log)
curl -s "http://localhost:$PORT/productpage" | grep -o "<title>.*</title>"
kill $PF`);
    expect(pf.stdout).toBe('<title>Simple Bookstore App</title>\n');
  }, 60_000);

  it('deleting the Gateway takes its Deployment, Service and ServiceAccount with it (owner references)', async () => {
    const r = await sh('kubectl delete gtw bookinfo-gateway && kubectl wait --for=delete deploy/bookinfo-gateway-istio svc/bookinfo-gateway-istio sa/bookinfo-gateway-istio --timeout=30s');
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
});
