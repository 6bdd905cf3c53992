/**
 * Istio's security tasks in the embedded cluster, as a learner runs them with the real kubectl,
 * our istioctl and real curl: "Mutual TLS Migration" (foo and bar with sidecars, legacy without;
 * STRICT for foo, then mesh-wide: the legacy client's connection is reset, curl exits 56) and
 * "Authorization on HTTP traffic" (allow-nothing, then ALLOW GET from one principal: everyone else
 * gets 403 `RBAC: access denied`; a DENY names its rule in the server sidecar's access log).
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
  ({ dir, env } = await istioWorkdir('istio-security-', cluster));
  const install = await sh('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s');
  expect(install.code, install.stderr).toBe(0);
  // The task's setup, verbatim (istio.io, Mutual TLS Migration, 1.30: the curl sample replaced sleep).
  const setup = await sh(`set -e
kubectl create ns foo
kubectl apply -f <(istioctl kube-inject -f samples/httpbin/httpbin.yaml) -n foo
kubectl apply -f <(istioctl kube-inject -f samples/curl/curl.yaml) -n foo
kubectl create ns bar
kubectl apply -f <(istioctl kube-inject -f samples/httpbin/httpbin.yaml) -n bar
kubectl apply -f <(istioctl kube-inject -f samples/curl/curl.yaml) -n bar
kubectl create ns legacy
kubectl apply -f samples/curl/curl.yaml -n legacy
for ns in foo bar legacy; do kubectl wait --for=condition=Ready pod --all -n $ns --timeout=60s; done`);
  expect(setup.code, setup.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The task's loop: every client to every httpbin; kubectl's "command terminated" lines interleave as in a terminal. */
const LOOP = `for from in "foo" "bar" "legacy"; do for to in "foo" "bar"; do kubectl exec "$(kubectl get pod -l app=curl -n \${from} -o jsonpath={.items..metadata.name})" -c curl -n \${from} -- curl http://httpbin.\${to}:8000/ip -s -o /dev/null -w "curl.\${from} to httpbin.\${to}: %{http_code}\\n"; done; done 2>&1`;

const apply = async (yaml: string) => {
  const r = await sh('kubectl apply -f -', yaml);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

/** httpbin's sidecar access log in a namespace. */
async function proxyLog(ns: string): Promise<string> {
  const pod = (await sh(`kubectl get pod -l app=httpbin -n ${ns} -o jsonpath={.items..metadata.name}`)).stdout;
  return (await sh(`kubectl logs ${pod} -n ${ns} -c istio-proxy`)).stdout;
}

const curlFrom = (ns: string, args: string) => sh(`kubectl exec "$(kubectl get pod -l app=curl -n ${ns} -o jsonpath={.items..metadata.name})" -c curl -n ${ns} -- curl ${args}`);

describe('Mutual TLS Migration', () => {
  it('PERMISSIVE by default: every client reaches both httpbins', async () => {
    const r = await sh(LOOP);
    expect(r.stdout).toBe(['curl.foo to httpbin.foo: 200', 'curl.foo to httpbin.bar: 200', 'curl.bar to httpbin.foo: 200', 'curl.bar to httpbin.bar: 200', 'curl.legacy to httpbin.foo: 200', 'curl.legacy to httpbin.bar: 200', ''].join('\n'));
    // httpbin.foo's sidecar took the mTLS connections on its 8080 chain (SNI from auto mTLS), the plain one too.
    const logs = await proxyLog('foo');
    expect(logs).toMatch(/"GET \/ip HTTP\/1\.1" 200 - via_upstream .* inbound\|8080\|\| 127\.0\.0\.6:\d+ [\d.]+:8080 [\d.]+:\d+ outbound_\.8000_\._\.httpbin\.foo\.svc\.cluster\.local default\n/);
    expect(logs).toMatch(/"GET \/ip HTTP\/1\.1" 200 - via_upstream .* inbound\|8080\|\| 127\.0\.0\.6:\d+ [\d.]+:8080 [\d.]+:\d+ - default\n/);
  }, 60_000);

  it('STRICT in foo: the legacy client is reset at httpbin.foo only', async () => {
    await apply(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: "default"
  namespace: "foo"
spec:
  mtls:
    mode: STRICT
`);
    const r = await sh(LOOP);
    expect(r.stdout).toBe(
      ['curl.foo to httpbin.foo: 200', 'curl.foo to httpbin.bar: 200', 'curl.bar to httpbin.foo: 200', 'curl.bar to httpbin.bar: 200', 'curl.legacy to httpbin.foo: 000', 'command terminated with exit code 56', 'curl.legacy to httpbin.bar: 200', ''].join('\n'),
    );
    // istioctl x describe reads the same resolution.
    const httpbinPod = (await sh('kubectl get pod -l app=httpbin -n foo -o jsonpath={.items..metadata.name}')).stdout;
    const described = await sh(`istioctl x describe pod ${httpbinPod} -n foo`);
    expect(described.stdout).toContain('Effective PeerAuthentication:\n   Workload mTLS mode: STRICT\nApplied PeerAuthentication:\n   default.foo\n');
    // Interactively, curl says why.
    const direct = await curlFrom('legacy', 'http://httpbin.foo:8000/ip -sS');
    expect(direct.code).toBe(56);
    expect(direct.stderr).toBe('curl: (56) Recv failure: Connection reset by peer\ncommand terminated with exit code 56\n');
    // The server's sidecar logged a connection it had no filter chain for.
    expect(await proxyLog('foo')).toMatch(/\] "- - -" 0 NR filter_chain_not_found - "-" 0 0 \d+ - "-" "-" "-" "-" "-" - - \d+\.\d+\.\d+\.\d+:8080 \d+\.\d+\.\d+\.\d+:\d+ - -\n/);
  }, 60_000);

  it('a plain-text client outside the mesh (real curl through a NodePort) is reset too', async () => {
    // A NodePort Service in front of httpbin.foo, as a learner might expose it.
    expect((await sh('kubectl expose deployment httpbin -n foo --name httpbin-np --type NodePort --port 8000 --target-port 8080')).code).toBe(0);
    const port = (await sh('kubectl get svc httpbin-np -n foo -o jsonpath=\'{.spec.ports[0].nodePort}\'')).stdout;
    const node = (await sh('kubectl get nodes -o jsonpath=\'{.items[0].status.addresses[?(@.type=="InternalIP")].address}\'')).stdout;
    const r = await sh(`curl -sS -o /dev/null -w '%{http_code}' --max-time 10 http://${node}:${port}/ip`);
    expect(r.stdout).toBe('000');
    expect(r.stderr).toBe('curl: (56) Recv failure: Connection reset by peer\n');
    expect(r.code).toBe(56);
    // PERMISSIVE for this workload's port again (port-level, by container port): real curl gets through.
    await apply(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  portLevelMtls:
    8080:
      mode: PERMISSIVE
`);
    const ok = await sh(`curl -sS -o /dev/null -w '%{http_code}' --max-time 10 http://${node}:${port}/ip`);
    expect(ok.stdout).toBe('200');
    const restore = await sh('kubectl delete peerauthentication httpbin -n foo && kubectl delete svc httpbin-np -n foo');
    expect(restore.code, restore.stderr).toBe(0);
  }, 60_000);

  it('STRICT mesh-wide: the legacy client is reset at both; removing the policies restores it', async () => {
    await apply(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: "default"
  namespace: "istio-system"
spec:
  mtls:
    mode: STRICT
`);
    const r = await sh(LOOP);
    expect(r.stdout).toBe(
      [
        'curl.foo to httpbin.foo: 200',
        'curl.foo to httpbin.bar: 200',
        'curl.bar to httpbin.foo: 200',
        'curl.bar to httpbin.bar: 200',
        'curl.legacy to httpbin.foo: 000',
        'command terminated with exit code 56',
        'curl.legacy to httpbin.bar: 000',
        'command terminated with exit code 56',
        '',
      ].join('\n'),
    );
    expect((await sh('kubectl delete peerauthentication --all-namespaces --all')).code).toBe(0);
    expect((await sh(LOOP)).stdout).not.toContain('000');
  }, 60_000);
});

describe('DISABLE', () => {
  it('a namespace DISABLE: sidecar clients fall back to plain text (auto mTLS), so everyone gets through', async () => {
    await apply(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  mtls:
    mode: DISABLE
`);
    expect((await sh(LOOP)).stdout).not.toMatch(/: (?!200)/);
    expect((await curlFrom('bar', "-s -o /dev/null -w '%{http_code}' http://httpbin.foo:8000/get?from=bar")).stdout).toBe('200');
    // The server sidecar saw plain text: no SNI on the line.
    expect(await proxyLog('foo')).toMatch(/"GET \/get\?from=bar HTTP\/1\.1" 200 - via_upstream .* inbound\|8080\|\| 127\.0\.0\.6:\d+ [\d.]+:8080 [\d.]+:\d+ - default\n/);
    expect((await sh('kubectl delete peerauthentication default -n foo')).code).toBe(0);
  }, 60_000);
});

describe('Authorization on HTTP traffic', () => {
  // The status code, or what went wrong instead (kubectl's exit code and stderr), so a failure says why.
  const code = (ns: string, args = 'http://httpbin.foo:8000/ip') =>
    curlFrom(ns, `${args} -s -o /dev/null -w '%{http_code}'`).then((r) => (r.code === 0 || /^\d{3}$/.test(r.stdout) ? r.stdout : `${r.stdout} (exit ${r.code}: ${r.stderr.trim()})`));

  it('allow-nothing denies every caller with 403 RBAC: access denied', async () => {
    await apply(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing
  namespace: foo
spec:
  {}
`);
    const r = await curlFrom('bar', 'http://httpbin.foo:8000/ip -s -i');
    expect(r.stdout).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(r.stdout).toMatch(/\r\ncontent-length: 19\r\n/i);
    expect(r.stdout.endsWith('\r\n\r\nRBAC: access denied')).toBe(true);
    for (const ns of ['foo', 'bar', 'legacy']) expect(await code(ns), ns).toBe('403');
  }, 60_000);

  it('ALLOW GET from curl.bar\'s principal: only that caller and method get through', async () => {
    await apply(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin-viewer
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/bar/sa/curl"]
    to:
    - operation:
        methods: ["GET"]
`);
    expect(await code('bar')).toBe('200');
    expect(await code('bar', '-X POST http://httpbin.foo:8000/post')).toBe('403');
    expect(await code('foo')).toBe('403');
    // A plain-text caller has no principal, so it never matches one.
    expect(await code('legacy')).toBe('403');
    const body = await curlFrom('foo', 'http://httpbin.foo:8000/ip -s');
    expect(body.stdout).toBe('RBAC: access denied');
  }, 60_000);

  it('a DENY policy wins over ALLOW, and the server sidecar logs the rule it matched', async () => {
    await apply(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-headers
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/headers"]
`);
    expect(await code('bar')).toBe('200');
    expect(await code('bar', 'http://httpbin.foo:8000/headers')).toBe('403');
    const logs = await proxyLog('foo');
    expect(logs).toMatch(/"GET \/headers HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[ns\[foo\]-policy\[deny-headers\]-rule\[0\]\] - "-" 0 19 /);
    expect(logs).toMatch(/"GET \/ip HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[none\] - "-" 0 19 /);
    expect((await sh('kubectl delete authorizationpolicy --all -n foo')).code).toBe(0);
    expect(await code('legacy')).toBe('200');
  }, 60_000);

  it('CUSTOM (external authorization) is refused loudly: istiod says so and denies what the policy matches', async () => {
    await apply(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ext-authz
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: CUSTOM
  provider:
    name: sample-ext-authz-http
  rules:
  - to:
    - operation:
        paths: ["/headers"]
`);
    expect(await code('bar', 'http://httpbin.foo:8000/headers')).toBe('403');
    expect(await code('bar')).toBe('200');
    const istiod = (await sh('kubectl logs -n istio-system deploy/istiod')).stdout;
    expect(istiod).toMatch(/Z\terror\tauthorization\tProcessed authorization policy: failed to process CUSTOM action for provider sample-ext-authz-http, will generate deny configs: external authorization \(CUSTOM\) is not supported in this simulator\n/);
    expect(await proxyLog('foo')).toMatch(/"GET \/headers HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[istio-ext-authz-sample-ext-authz-http-ns\[foo\]-policy\[ext-authz\]-rule\[0\]-deny-due-to-bad-CUSTOM-action\] /);
    expect((await sh('kubectl delete authorizationpolicy ext-authz -n foo')).code).toBe(0);
  }, 60_000);
});
