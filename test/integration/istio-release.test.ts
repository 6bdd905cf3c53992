/**
 * Getting Istio and installing it, as a learner does in a real shell: the playground's offline
 * downloadIstio fetched by the real curl and run by sh, the unpacked istio-1.30.3/ (samples diffed
 * against Istio's own files), then its bin/istioctl against an embedded cluster with the real
 * kubectl: install demo -y, what it created, analyze, uninstall --purge; refusal of a cluster
 * that is not embedded; the token still guards everything but the download.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { REFERENCE_DIR } from '../helpers/reference.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { encodeMessage } from '../../server/terminal/protocol.js';
import { bash, type Run } from '../helpers/istio-workdir.js';

let pg: TestPlayground;
let cluster: EmbeddedCluster;
let dir: string;
let env: Record<string, string>;

function sh(script: string, input?: string): Promise<Run> {
  return bash(script, { cwd: dir, env, input });
}

function docs(text: string): unknown[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null && d !== undefined);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-release-'));
  pg = await startTestPlayground({ dataDir: path.join(dir, 'data') });
  cluster = await EmbeddedCluster.start({ workloads: true });
  await cluster.writeKubeconfig(path.join(dir, 'kubeconfig'));
  env = { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig'), KUBECACHEDIR: path.join(dir, 'kcache'), BASE: pg.baseUrl.replace(/\/$/, '') };
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await pg?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('downloadIstio from the playground', () => {
  it('unpacks istio-1.30.3/ and prints the real script\'s advice', async () => {
    const r = await sh('curl -sL "$BASE/istio/downloadIstio" | ISTIO_VERSION=1.30.3 TARGET_ARCH=x86_64 sh -');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bin = path.join(dir, 'istio-1.30.3', 'bin');
    expect(r.stdout).toContain(`Downloading istio-1.30.3 from ${env.BASE}/istio/releases/1.30.3/istio-1.30.3-linux-amd64.tar.gz ...`);
    expect(r.stdout).toContain('Istio 1.30.3 download complete!\n\nThe Istio release archive has been downloaded to the istio-1.30.3 directory.\n');
    expect(r.stdout).toContain(`add the ${bin} directory to your environment path variable with:\n\t export PATH="$PATH:${bin}"\n`);
    expect(r.stdout).toContain('Begin the Istio pre-installation check by running:\n\t istioctl x precheck \n');
    for (const f of ['bin/istioctl', 'manifest.yaml', 'samples/httpbin/httpbin.yaml', 'samples/curl/curl.yaml', 'samples/httpbin/sample-client/fortio-deploy.yaml', 'manifests/profiles/demo.yaml', 'manifests/profiles/default.yaml', 'samples/bookinfo/platform/kube/bookinfo.yaml', 'samples/bookinfo/networking/bookinfo-gateway.yaml']) {
      expect(fs.existsSync(path.join(dir, 'istio-1.30.3', f)), f).toBe(true);
    }
    // Any user can run it: world-executable, self-contained (no path back into the server's sources).
    expect(fs.statSync(path.join(bin, 'istioctl')).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(path.join(bin, 'istioctl'), 'utf8')).not.toContain(process.cwd());
  }, 120_000);

  it('refuses a version it does not serve and an unsupported architecture', async () => {
    const v = await sh('curl -sL "$BASE/istio/downloadIstio" | ISTIO_VERSION=1.29.0 sh -');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('istio-1.29.0-linux-amd64.tar.gz is not found, please specify a valid ISTIO_VERSION and TARGET_ARCH');
    const a = await sh('curl -sL "$BASE/istio/downloadIstio" | TARGET_ARCH=mips sh -');
    expect(a.code).toBe(1);
    expect(a.stdout).toContain("This system's architecture, mips, isn't supported");
  });

  it('serves only the download without the token', async () => {
    const code = async (p: string) => (await sh(`curl -s --path-as-is -o /dev/null -w '%{http_code}' "$BASE${p}"`)).stdout;
    expect(await code('/istio/downloadIstio')).toBe('200');
    expect(await code('/istio/releases/1.30.3/istio-1.30.3-linux-amd64.tar.gz')).toBe('200');
    for (const p of ['/', '/api/tracks', '/istio/../api/tracks', '/istio/%2e%2e/api/tracks', '/istioX/api/tracks', '/api/istio/downloadIstio']) {
      expect(['401', '404'], p).toContain(await code(p));
    }
    expect(await code('/istio/releases/1.30.3/../../../package.json')).not.toBe('200');
    expect(await code('/istio/releases/1.30.3/other.tar.gz')).toBe('404');
    const post = await sh(`curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/istio/downloadIstio"`);
    expect(post.stdout).toBe('404');
  });

  it('ships sample manifests that create the same objects as Istio\'s', () => {
    const ours = path.join(dir, 'istio-1.30.3', 'samples', 'bookinfo');
    const pairs: [string, string][] = [
      ['bookinfo.yaml', 'platform/kube/bookinfo.yaml'],
      ['bookinfo-versions.yaml', 'platform/kube/bookinfo-versions.yaml'],
      ['bookinfo-gateway.yaml', 'networking/bookinfo-gateway.yaml'],
      ['gateway-api-bookinfo-gateway.yaml', 'gateway-api/bookinfo-gateway.yaml'],
      ['demo-profile-no-gateways.yaml', 'demo-profile-no-gateways.yaml'],
      ...fs.readdirSync(path.join(REFERENCE_DIR, 'samples')).filter((f) => /^(virtual-service|destination-rule)-/.test(f)).map((f): [string, string] => [f, `networking/${f}`]),
    ];
    expect(pairs.length).toBeGreaterThanOrEqual(16);
    for (const [ref, mine] of pairs) {
      expect(docs(fs.readFileSync(path.join(ours, mine), 'utf8')), mine).toEqual(docs(fs.readFileSync(path.join(REFERENCE_DIR, 'samples', ref), 'utf8')));
    }
    expect(docs(fs.readFileSync(path.join(dir, 'istio-1.30.3', 'manifests', 'profiles', 'demo.yaml'), 'utf8'))).toEqual(docs(fs.readFileSync(path.join(REFERENCE_DIR, 'samples', 'manifests-profiles-demo.yaml'), 'utf8')));
  });
});

describe('istioctl against the embedded cluster', () => {
  const istioctl = () => path.join(dir, 'istio-1.30.3', 'bin', 'istioctl');

  it('version before Istio: the client only, and a note on stderr', async () => {
    const r = await sh(`${istioctl()} version`);
    expect(r).toEqual({ code: 0, stdout: 'client version: 1.30.3\n', stderr: 'Istio is not present in the cluster: no running Istio pods in namespace "istio-system"\n' });
    expect((await sh(`${istioctl()} version --remote=false`)).stdout).toBe('1.30.3\n');
  });

  it('without -y asks first, and "n" cancels with nothing installed', async () => {
    const r = await sh(`${istioctl()} install --set profile=demo`, 'n\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('This will install the Istio 1.30.3 profile "demo" into the cluster. Proceed? (y/N) ');
    expect(r.stdout).toContain('Cancelled.\n');
    expect((await sh('kubectl get crds -o name')).stdout).not.toContain('istio.io');
  });

  it('install --set profile=demo -y: the ✔ lines, then every istio-system pod Ready', async () => {
    const r = await sh(`${istioctl()} install --set profile=demo -y`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('✔ Istio core installed ⛵️\n✔ Istiod installed 🧠\n✔ Egress gateways installed 🛫\n✔ Ingress gateways installed 🛬\n✔ Installation complete\n');
    expect(r.code).toBe(0);
    const pods = (await sh('kubectl get pods -n istio-system --no-headers')).stdout.trim().split('\n');
    expect(pods.map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual(['1/1 Running', '1/1 Running', '1/1 Running']);
    expect(pods.map((l) => l.split(/\s+/)[0]!.replace(/-[a-z0-9]+-[a-z0-9]+$/, ''))).toEqual(['istio-egressgateway', 'istio-ingressgateway', 'istiod']);
  }, 90_000);

  it('created the CRDs, Services and config a real demo install has', async () => {
    const reference = JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, 'istio_demo_install_1.30.json'), 'utf8')) as { crds: { name: string }[] };
    const crds = (await sh('kubectl get crds | grep istio.io')).stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(crds).toEqual(reference.crds.map((c) => c.name).sort());
    const svc = (await sh('kubectl get svc -n istio-system --no-headers')).stdout.trim().split('\n').map((l) => l.split(/\s+/));
    expect(svc.map((c) => [c[0], c[1], c[3]])).toEqual([
      ['istio-egressgateway', 'ClusterIP', '<none>'],
      ['istio-ingressgateway', 'LoadBalancer', '<pending>'],
      ['istiod', 'ClusterIP', '<none>'],
    ]);
    expect(svc[1]![4]).toMatch(/^15021:3\d{4}\/TCP,80:3\d{4}\/TCP,443:3\d{4}\/TCP,31400:3\d{4}\/TCP,15443:3\d{4}\/TCP$/);
    expect(svc[2]![4]).toBe('15010/TCP,15012/TCP,443/TCP,15014/TCP');
    const cms = (await sh('kubectl get cm -n istio-system -o name')).stdout;
    for (const n of ['istio', 'istio-sidecar-injector', 'values']) expect(cms).toContain(`configmap/${n}\n`);
    expect((await sh('kubectl get mutatingwebhookconfigurations -o name')).stdout).toBe('mutatingwebhookconfiguration.admissionregistration.k8s.io/istio-sidecar-injector\n');
    expect((await sh('kubectl get pdb -n istio-system -o name')).stdout.trim().split('\n')).toHaveLength(3);
    expect(await sh(`${istioctl()} version`)).toEqual({ code: 0, stdout: 'client version: 1.30.3\ncontrol plane version: 1.30.3\ndata plane version: 1.30.3 (2 proxies)\n', stderr: '' });
    const ps = (await sh(`${istioctl()} proxy-status`)).stdout.split('\n');
    expect(ps[0]).toMatch(/^NAME +CLUSTER +ISTIOD +VERSION +SUBSCRIBED TYPES$/);
    expect(ps.slice(1, 3).map((l) => l.split(/\s{2,}/)[0]!.replace(/-[a-z0-9]+-[a-z0-9]+\./, '.'))).toEqual(['istio-egressgateway.istio-system', 'istio-ingressgateway.istio-system']);
  });

  it('analyze: findings on bad config exit 79; clean config says so on stderr', async () => {
    await sh('kubectl apply -f istio-1.30.3/samples/bookinfo/platform/kube/bookinfo.yaml');
    const bad = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  gateways: [no-such-gateway]
  http:
  - route:
    - destination: {host: reviews, subset: v9}
---
apiVersion: v1
kind: Service
metadata:
  name: legacy
spec:
  selector: {app: legacy}
  ports:
  - {name: foo, port: 9080}
`;
    await sh('kubectl apply -f -', bad);
    const r = await sh(`${istioctl()} analyze`);
    expect(r.code).toBe(79);
    expect(r.stdout).toBe(
      'Error [IST0101] (VirtualService default/reviews) Referenced gateway not found: "no-such-gateway"\n' +
        'Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v9"\n' +
        "Info [IST0102] (Namespace default) The namespace is not enabled for Istio injection. Run 'kubectl label namespace default istio-injection=enabled' to enable it, or 'kubectl label namespace default istio-injection=disabled' to explicitly mark it as not needing injection.\n" +
        "Info [IST0118] (Service default/legacy) Port name foo (port: 9080, targetPort: 9080) doesn't follow the naming convention of Istio port.\n",
    );
    expect(r.stderr).toBe('Error: Analyzers found issues when analyzing namespace: default.\nSee https://istio.io/v1.30/docs/reference/config/analysis for more information about causes and resolutions.\n');
    await sh('kubectl delete vs reviews && kubectl delete svc legacy && kubectl label namespace default istio-injection=enabled');
    // Pods created before the label have no proxy: a warning each, which does not fail the run.
    const missing = await sh(`${istioctl()} analyze`);
    expect(missing.code).toBe(0);
    expect(missing.stderr).toBe('');
    const warnings = missing.stdout.trim().split('\n');
    expect(warnings).toHaveLength(6);
    for (const w of warnings) expect(w).toMatch(/^Warning \[IST0103\] \(Pod default\/(\S+)\) The pod default\/\1 is missing the Istio proxy\. This can often be resolved by restarting or redeploying the workload\.$/);
    await sh('kubectl delete deploy --all && kubectl wait --for=delete pod --all --timeout=60s');
    await sh('kubectl apply -f istio-1.30.3/samples/bookinfo/networking/bookinfo-gateway.yaml -f istio-1.30.3/samples/bookinfo/networking/destination-rule-all.yaml -f istio-1.30.3/samples/bookinfo/networking/virtual-service-all-v1.yaml');
    expect(await sh(`${istioctl()} analyze`)).toEqual({ code: 0, stdout: '\n', stderr: '✔ No validation issues found when analyzing namespace: default.\n' });
    const tables = (await sh('kubectl get vs,dr,gw')).stdout;
    expect(tables).toMatch(/^NAME +GATEWAYS +HOSTS +AGE\nvirtualservice.networking.istio.io\/bookinfo +\["bookinfo-gateway"\] +\["\*"\] +\d+s\n/);
    expect(tables).toMatch(/\nNAME +HOST +AGE\ndestinationrule.networking.istio.io\/details +details +\d+s\n/);
    expect(tables).toMatch(/\nNAME +AGE\ngateway.networking.istio.io\/bookinfo-gateway +\d+s\n$/);
  }, 60_000);

  it('commands 1.30 no longer has, and ones the embedded cluster lacks, fail clearly', async () => {
    const v = await sh(`${istioctl()} verify-install`);
    expect(v).toEqual({ code: 64, stdout: '', stderr: 'Error: unknown command "verify-install" for "istioctl"\nRun \'istioctl --help\' for usage.\n' });
    const pc = await sh(`${istioctl()} dashboard kiali`);
    expect(pc.code).toBe(1);
    expect(pc.stderr).toContain('not supported by the embedded cluster');
    const ki = await sh(`${istioctl()} kube-inject -f istio-1.30.3/samples/bookinfo/platform/kube/bookinfo.yaml --injectConfigFile inject.yaml`);
    expect(ki.code).toBe(1);
    expect(ki.stderr).toContain('kube-inject --injectConfigFile is not supported by the embedded cluster yet');
    expect((await sh(`${istioctl()} install --bogus`)).code).toBe(64);
  });

  it('installing again with the gateways disabled removes them (the Getting Started file)', async () => {
    const r = await sh(`${istioctl()} install -f istio-1.30.3/samples/bookinfo/demo-profile-no-gateways.yaml -y`);
    expect(r).toEqual({ code: 0, stdout: '✔ Istio core installed ⛵️\n✔ Istiod installed 🧠\n✔ Installation complete\n', stderr: '' });
    expect((await sh('kubectl get deploy,svc,pdb -n istio-system -o name')).stdout).toBe('deployment.apps/istiod\nservice/istiod\npoddisruptionbudget.policy/istiod\n');
  }, 60_000);

  it('uninstall --purge -y leaves no Istio object behind', async () => {
    const r = await sh(`${istioctl()} uninstall --purge -y`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  Removed apps/v1, Kind=Deployment/istiod.istio-system.\n');
    expect(r.stdout).toContain('  Removed /v1, Kind=Service/istiod.istio-system.\n');
    expect(r.stdout).toContain('  Removed admissionregistration.k8s.io/v1, Kind=MutatingWebhookConfiguration/istio-sidecar-injector..\n');
    expect(r.stdout).toContain('  Removed apiextensions.k8s.io/v1, Kind=CustomResourceDefinition/virtualservices.networking.istio.io..\n');
    expect(r.stdout.endsWith('✔ Uninstall complete\n')).toBe(true);
    await cluster.settle();
    expect((await sh('kubectl get crds -o name')).stdout).not.toContain('istio.io');
    const left = (await sh('kubectl get deploy,svc,sa,cm,role,rolebinding,pdb -n istio-system -o name')).stdout.trim().split('\n').filter(Boolean);
    expect(left.sort()).toEqual(['configmap/kube-root-ca.crt', 'serviceaccount/default']);
    const cluster_ = (await sh('kubectl get clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingwebhookconfigurations -o name')).stdout;
    expect(cluster_).not.toMatch(/istio/);
  }, 60_000);

  it('refuses a cluster that is not embedded and points to the real istioctl', async () => {
    // A stand-in for a real API server: it answers /version as kube-apiserver does, without the playground's marker.
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.4' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const kc = path.join(dir, 'real.kubeconfig');
    fs.writeFileSync(kc, YAML.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'real', cluster: { server: `http://127.0.0.1:${port}` } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'real', context: { cluster: 'real', user: 'u' } }], 'current-context': 'real' }));
    try {
      for (const cmd of ['install --set profile=demo -y', 'version', 'analyze', 'uninstall --purge -y']) {
        const r = await sh(`${istioctl()} --kubeconfig ${kc} ${cmd}`);
        expect(r.code, cmd).toBe(1);
        expect(r.stderr, cmd).toContain('Use the real istioctl for this cluster: https://istio.io/latest/docs/setup/install/istioctl/');
      }
    } finally {
      server.close();
    }
  });
});

describe('in a learner\'s terminal', () => {
  it('$ISTIO_DOWNLOAD_URL fetches Istio, and its istioctl reaches the learner\'s own cluster', async () => {
    const ws = await pg.openTerminal();
    let output = '';
    const waiters: (() => void)[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      output += data.toString('utf8');
      ws.send(encodeMessage({ t: 'ack', bytes: data.length }));
      for (const w of waiters.splice(0)) w();
    });
    const until = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${text}; output: ${output.slice(-800)}`)), 60_000);
        const check = () => (output.includes(text) ? (clearTimeout(timer), resolve()) : waiters.push(check));
        check();
      });
    // The marker is assembled by the shell so the echoed command line does not match it.
    ws.send(encodeMessage({ t: 'input', d: 'cd && curl -sL "$ISTIO_DOWNLOAD_URL" | ISTIO_VERSION=1.30.3 sh - && cd istio-1.30.3 && export PATH=$PWD/bin:$PATH && istioctl x precheck; echo "EXIT""=$?"\r' }));
    await until('EXIT=');
    ws.close();
    expect(output).toContain('Istio 1.30.3 download complete!');
    expect(output).toContain('✔ No issues found when checking the cluster. Istio is safe to install or upgrade!');
    expect(output).toContain('EXIT=0');
  }, 90_000);
});
