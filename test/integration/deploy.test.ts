/**
 * deploy/ as an operator meets it: `kubectl kustomize` renders the base and the Istio routing, and
 * the embedded cluster (Kubernetes 1.32 with Istio 1.30 from our istioctl) accepts every rendered
 * object on `kubectl apply --dry-run=server`, Istio's validation webhook included. What a real,
 * multi-node cluster would add (pulling the image, scheduling, volumes) is not tried here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { loadConfig, projectRoot } from '../../server/config.js';
import { bash, istioWorkdir } from '../helpers/istio-workdir.js';

const cluster = await EmbeddedCluster.start({ workloads: { timings: { schedule: 0, pull: 10, start: 10, ready: 10, terminate: 50, run: 100, backoff: 200, probeDelayScale: 0 } } });
let dir: string;
let env: Record<string, string>;
const sh = (script: string, input?: string) => bash(script, { cwd: dir, env, ...(input !== undefined ? { input } : {}), timeoutMs: 180_000 });

const toYaml = (objects: Obj[]) => objects.map((o) => stringify(o)).join('---\n');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const render = async (what: string) => {
  const r = await sh(`kubectl kustomize ${path.join(projectRoot, 'deploy', what)}`);
  expect(r.code, r.stderr).toBe(0);
  return { yaml: r.stdout, objects: parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj) };
};

beforeAll(async () => {
  ({ dir, env } = await istioWorkdir('deploy-', cluster));
}, 60_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('deploy/base', () => {
  it('renders the playground as a StatefulSet with probes, resources, a PDB, no service account token, and its settings from a ConfigMap and a Secret', async () => {
    const { objects } = await render('base');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      ['ConfigMap/playground-config', 'Namespace/istio-playground', 'PodDisruptionBudget/playground', 'Secret/playground-secrets', 'Service/playground', 'Service/playground-pods', 'ServiceAccount/playground', 'StatefulSet/playground'].sort(),
    );
    for (const o of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace, o.kind).toBe('istio-playground');
    const sts = objects.find((o) => o.kind === 'StatefulSet') as any;
    const pod = sts.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.automountServiceAccountToken).toBe(false);
    expect((objects.find((o) => o.kind === 'ServiceAccount') as any).automountServiceAccountToken).toBe(false);
    expect(sts.spec.serviceName).toBe('playground-pods');
    expect((objects.find((o) => o.metadata.name === 'playground-pods') as any).spec.clusterIP).toBe('None');
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe].httpGet, probe).toEqual({ path: '/healthz', port: 'http-web' });
    expect(c.resources).toEqual({ requests: { cpu: '1', memory: '3584Mi' }, limits: { memory: '4Gi' } });
    expect(c.securityContext.capabilities.add).toContain('SYS_ADMIN');
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/istio-playground' }]);
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'playground-config' } }, { secretRef: { name: 'playground-secrets' } }]);
    expect(Object.keys((objects.find((o) => o.kind === 'Secret') as any).stringData).sort()).toEqual(['PLAYGROUND_ADMIN_TOKEN', 'PLAYGROUND_DATABASE_URL', 'PLAYGROUND_TOKEN']);
    // Each pod advertises its own IP (the downward API) for the other pods to forward an instructor's
    // live view and resets to; the kubelet expands $(POD_IP), and the config loader takes the result.
    const env = Object.fromEntries((c.env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [e.name, e]));
    expect(env.POD_IP.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    expect(Object.keys(env).indexOf('POD_IP')).toBeLessThan(Object.keys(env).indexOf('PLAYGROUND_ADVERTISE_URL'));
    const advertised = env.PLAYGROUND_ADVERTISE_URL.value!.replace('$(POD_IP)', '10.244.1.7');
    expect(loadConfig([], { PLAYGROUND_ADVERTISE_URL: advertised }).advertiseUrl).toBe('http://10.244.1.7:8080');
    expect(c.ports).toEqual([{ name: 'http-web', containerPort: Number(new URL(advertised).port) }]);
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget') as any;
    expect(pdb.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
  });

  it('is accepted by the API server on a server-side dry run, which creates nothing', async () => {
    const { yaml } = await render('base');
    // The namespace must exist for a dry run of what goes in it, as on any cluster.
    const ns = await sh('kubectl create namespace istio-playground');
    expect(ns.code, ns.stderr).toBe(0);
    const r = await sh('kubectl apply --dry-run=server -f -', yaml);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(
      [
        'configmap/playground-config created (server dry run)',
        'namespace/istio-playground configured (server dry run)',
        'poddisruptionbudget.policy/playground created (server dry run)',
        'secret/playground-secrets created (server dry run)',
        'service/playground created (server dry run)',
        'service/playground-pods created (server dry run)',
        'serviceaccount/playground created (server dry run)',
        'statefulset.apps/playground created (server dry run)',
      ].sort(),
    );
    const left = await sh('kubectl get statefulsets,services,configmaps,secrets,pdb -n istio-playground -o name');
    expect(left.stdout.split('\n').filter((l) => l && l !== 'configmap/kube-root-ca.crt')).toEqual([]);
  });

  it('would be refused where the StatefulSet breaks an API rule: the dry run really validates', async () => {
    const { objects } = await render('base');
    const sts = objects.find((o) => o.kind === 'StatefulSet') as any;
    sts.spec.selector.matchLabels['app.kubernetes.io/instance'] = 'another';
    const r = await sh('kubectl apply --dry-run=server -f -', toYaml(objects));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The StatefulSet "playground" is invalid');
    expect(r.stderr).toContain('`selector` does not match template `labels`');
  });
});

describe('deploy/istio-routing', () => {
  it('needs Istio: without its CRDs the Gateway, VirtualService and DestinationRule have no kind to be', async () => {
    const { yaml } = await render('istio-routing');
    const r = await sh('kubectl apply --dry-run=server -f -', yaml);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no matches for kind "DestinationRule" in version "networking.istio.io/v1"');
  });

  it('has the playground trust the one proxy in front of it (the gateway) for the join rate limit, as its own config loader reads it', async () => {
    const settings = async (what: string) => ((await render(what)).objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> }).data;
    const routed = await settings('istio-routing');
    expect(routed.PLAYGROUND_TRUST_PROXY).toBe('1');
    expect(loadConfig([], routed).trustProxy).toBe(1);
    // Without the gateway in front nothing is trusted: X-Forwarded-For is whatever a client wrote.
    expect(loadConfig([], await settings('base')).trustProxy).toBeUndefined();
  });

  it('hashes on the workshop cookie, and the API server and istiod accept it once Istio is installed', async () => {
    const { yaml, objects } = await render('istio-routing');
    const dr = objects.find((o) => o.kind === 'DestinationRule') as any;
    expect(dr.spec.trafficPolicy.loadBalancer.consistentHash.httpCookie).toEqual({ name: 'pg_workshop', path: '/' });
    expect(dr.spec.host).toBe((objects.find((o) => o.kind === 'VirtualService') as any).spec.http[0].route[0].destination.host);
    const install = await sh('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=90s');
    expect(install.code, install.stderr).toBe(0);
    const r = await sh('kubectl apply --dry-run=server -f -', yaml);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('destinationrule.networking.istio.io/playground created (server dry run)\n');
    expect(r.stdout).toContain('gateway.networking.istio.io/playground created (server dry run)\n');
    expect(r.stdout).toContain('virtualservice.networking.istio.io/playground created (server dry run)\n');
    // istiod's validation webhook sees the dry run too: a VirtualService route with nowhere to go is refused.
    delete (objects.find((o) => o.kind === 'VirtualService') as any).spec.http[0].route;
    const routeless = await sh('kubectl apply --dry-run=server -f -', toYaml(objects));
    expect(routeless.code).toBe(1);
    expect(routeless.stderr).toContain('admission webhook "validation.istio.io" denied the request: configuration is invalid: HTTP route or redirect is required');
  }, 240_000);
});
