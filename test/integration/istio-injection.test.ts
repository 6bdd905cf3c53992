/**
 * Sidecars in the embedded cluster as a learner meets them, with the real kubectl and our
 * istioctl (bundled as the release bundles it) in a real shell: `istioctl kube-inject` on the
 * release's Bookinfo (2/2 pods, proxies listed by proxy-status) and, once the API server calls
 * admission webhooks, automatic injection after labelling the namespace, istiod down refusing
 * pods, and the validation webhook refusing an invalid VirtualService.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bash, istioWorkdir, type Run } from '../helpers/istio-workdir.js';


const cluster = await EmbeddedCluster.start({ workloads: true });

let dir: string;
let env: Record<string, string>;

const sh = (script: string, input?: string): Promise<Run> => bash(script, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });

beforeAll(async () => {
  ({ dir, env } = await istioWorkdir('istio-injection-', cluster));
  const r = await sh('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s');
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const BOOKINFO = 'samples/bookinfo/platform/kube/bookinfo.yaml';

/** `kubectl get pods` rows as NAME → READY. */
async function readiness(ns = 'default'): Promise<Record<string, string>> {
  const out = (await sh(`kubectl get pods -n ${ns} --no-headers`)).stdout.trim();
  return Object.fromEntries(out ? out.split('\n').map((l) => l.split(/\s+/).slice(0, 2) as [string, string]) : []);
}

describe('istioctl kube-inject', () => {
  it('injects every Bookinfo Deployment; applied, each pod runs 2/2 and istioctl proxy-status lists it', async () => {
    const ki = await sh(`istioctl kube-inject -f ${BOOKINFO}`);
    expect(ki.stderr).toBe('');
    expect(ki.code).toBe(0);
    expect(ki.stdout.match(/^ +(- )?name: istio-proxy$/gm)).toHaveLength(6);
    expect(ki.stdout.match(/^ +(- )?name: istio-init$/gm)).toHaveLength(6);
    // sigs.k8s.io/yaml: keys sorted, sequences at their parent key's indentation.
    expect(ki.stdout).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n  creationTimestamp: null\n  labels:\n/m);
    expect(ki.stdout).toMatch(/^      containers:\n      - image: /m);
    expect(ki.stdout).toContain('sidecar.istio.io/status: \'{"initContainers":["istio-init"],"containers":["istio-proxy"]');
    // Services and ServiceAccounts pass through as written.
    expect(ki.stdout).toContain('kind: Service\n');
    const apply = await sh('kubectl apply -f -', ki.stdout);
    expect(apply.stderr).toBe('');
    const wait = await sh('kubectl wait --for=condition=Ready pod --all --timeout=60s');
    expect(wait.stderr).toBe('');
    const ready = await readiness();
    expect(Object.keys(ready)).toHaveLength(6);
    for (const [name, r] of Object.entries(ready)) expect(r, name).toBe('2/2');
    const pp = Object.keys(ready).find((n) => n.startsWith('productpage-v1-'))!;
    const logs = await sh(`kubectl logs ${pp} -c istio-proxy`);
    expect(logs.stdout).toMatch(/\tinfo\tEnvoy proxy is ready\n/);
    expect((await sh(`kubectl logs ${pp} -c istio-init`)).stdout).toMatch(/\tinfo\tIstio iptables environment:\n/);
    const title = await sh('kubectl exec "$(kubectl get pod -l app=ratings -o jsonpath=\'{.items[0].metadata.name}\')" -c ratings -- curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"');
    expect(title.stdout).toBe('<title>Simple Bookstore App</title>\n');
    // The agent's own readiness endpoint.
    const health = await sh(`kubectl exec ${Object.keys(ready).find((n) => n.startsWith('ratings-'))} -c ratings -- curl -sS -o /dev/null -w '%{http_code}' localhost:15021/healthz/ready`);
    expect(health.stdout).toBe('200');
    const istiodLogs = (await sh('kubectl logs -n istio-system deploy/istiod')).stdout;
    expect(istiodLogs).toMatch(new RegExp(`\tinfo\tads\tADS: new connection for node:${pp}\\.default-\\d+\\n`));
    const ps = await sh('istioctl proxy-status');
    expect(ps.code).toBe(0);
    for (const name of Object.keys(ready)) expect(ps.stdout).toMatch(new RegExp(`\\n${name}\\.default +Kubernetes +istiod-`));
    const gone = await sh(`kubectl delete -f ${BOOKINFO} && kubectl wait --for=delete pod --all --timeout=60s`);
    expect(gone.code).toBe(0);
  }, 120_000);

  it('rewrites an app probe to the agent, which runs the original one (15020 /app-health)', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata:
  name: probed
  labels: {app: probed}
spec:
  containers:
  - name: details
    image: docker.io/istio/examples-bookinfo-details-v1:1.20.3
    ports: [{containerPort: 9080}]
    readinessProbe: {httpGet: {path: /health, port: 9080}}
    livenessProbe: {httpGet: {path: /health, port: 9999}}
  - name: curl
    image: curlimages/curl
    command: [sleep, '3600']
`;
    fs.writeFileSync(path.join(dir, 'probed.yaml'), pod);
    const applied = await sh('istioctl kube-inject -f probed.yaml | kubectl apply -f - && kubectl wait --for=condition=Ready pod/probed --timeout=60s');
    expect(applied.stderr).toBe('');
    const spec = JSON.parse((await sh('kubectl get pod probed -o json')).stdout);
    expect(spec.spec.containers[0].readinessProbe.httpGet).toMatchObject({ path: '/app-health/details/readyz', port: 15020 });
    const code = (p: string) => sh(`kubectl exec probed -c curl -- curl -s -o /dev/null -w '%{http_code}' localhost:15020${p}`).then((r) => r.stdout);
    expect(await code('/app-health/details/readyz')).toBe('200');
    expect(await code('/app-health/details/livez')).toBe('500');
    expect(await code('/app-health/nope/readyz')).toBe('404');
    // The kubelet probes the rewritten path: the agent's 500 for the closed port fails liveness and restarts the app.
    const restarted = await sh("kubectl wait --for=jsonpath='{.status.containerStatuses[?(@.name==\"details\")].restartCount}'=1 pod/probed --timeout=60s && kubectl describe pod probed");
    expect(restarted.stderr).toBe('');
    expect(restarted.stdout).toMatch(/Warning\s+Unhealthy\s+.*kubelet\s+Liveness probe failed: HTTP probe failed with statuscode: 500/);
    expect(restarted.stdout).toMatch(/Normal\s+Killing\s+.*kubelet\s+Container details failed liveness probe, will be restarted/);
    expect(restarted.stdout).not.toContain('Readiness probe failed');
    expect((await sh('kubectl delete pod probed --wait=true')).code).toBe(0);
  }, 120_000);

  it('istiod sets its validating webhooks to failurePolicy Fail once it serves', async () => {
    for (const name of ['istiod-default-validator', 'istio-validator-istio-system']) {
      const r = await sh(`kubectl wait --for=jsonpath='{.webhooks[0].failurePolicy}'=Fail validatingwebhookconfiguration/${name} --timeout=30s`);
      expect(r.stderr, name).toBe('');
    }
  });

  it('refuses a missing file as the real command does', async () => {
    const r = await sh('istioctl kube-inject -f nope.yaml');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error: open nope.yaml: no such file or directory\n' });
  });
});

describe('automatic injection and validation through the API server\'s webhooks', () => {
  it('labelling default injects Bookinfo: every pod 2/2, the page through the mesh', async () => {
    expect((await sh('kubectl label namespace default istio-injection=enabled')).code).toBe(0);
    const apply = await sh(`kubectl apply -f ${BOOKINFO}`);
    expect(apply.code, apply.stderr).toBe(0);
    const wait = await sh('kubectl wait --for=condition=Ready pod --all --timeout=60s');
    expect(wait.stderr).toBe('');
    const ready = await readiness();
    expect(Object.keys(ready)).toHaveLength(6);
    for (const [name, r] of Object.entries(ready)) expect(r, name).toBe('2/2');
    const title = await sh('kubectl exec "$(kubectl get pod -l app=ratings -o jsonpath=\'{.items[0].metadata.name}\')" -c ratings -- curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"');
    expect(title.stdout).toBe('<title>Simple Bookstore App</title>\n');
  }, 120_000);

  it('with istiod scaled to 0, new pods in an injected namespace are refused', async () => {
    expect((await sh('kubectl scale deploy istiod -n istio-system --replicas=0 && kubectl wait --for=delete pod -l app=istiod -n istio-system --timeout=60s')).code).toBe(0);
    expect((await sh('kubectl create deployment sleep --image=curlimages/curl -- sleep 3600')).code).toBe(0);
    let events = '';
    // Polls the events (the ReplicaSet controller retries with backoff) for up to 30 s.
    for (const deadline = Date.now() + 30_000; !events.includes('Error creating') && Date.now() < deadline; ) events = (await sh('kubectl get events --field-selector reason=FailedCreate -o custom-columns=MSG:.message --no-headers')).stdout;
    expect(events).toMatch(/Error creating: Internal error occurred: failed calling webhook "namespace\.sidecar-injector\.istio\.io": failed to call webhook: Post "https:\/\/istiod\.istio-system\.svc:443\/inject\?timeout=10s": /);
    expect((await sh('kubectl get pods -l app=sleep --no-headers')).stdout).toBe('');
    await sh('kubectl delete deployment sleep && kubectl scale deploy istiod -n istio-system --replicas=1 && kubectl rollout status deploy/istiod -n istio-system --timeout=60s');
  }, 120_000);

  it('an invalid VirtualService is refused with Istio\'s message', async () => {
    const vs = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: -10\n';
    const r = await sh('kubectl apply -f -', vs);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error from server: error when creating "STDIN": admission webhook "validation.istio.io" denied the request: configuration is invalid: weight -10 < 0\n');
  }, 60_000);
});
