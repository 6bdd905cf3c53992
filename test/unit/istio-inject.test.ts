/**
 * Sidecar injection as Istio 1.30 shapes the pod (DATAPLANE.md §5 of the reference, read in
 * place), istiod's AdmissionReview handler (its patch applied with the API server's own JSON
 * patch code), and the config validation messages (§6).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REFERENCE_DIR, BOOKINFO_YAML } from '../helpers/reference.js';
import { canonicalQuantity, defaultInjectorValues, injectPod, injectorValuesFrom, nativeSidecarsFor, type InjectorValues } from '../../server/sim/addons/istio/inject/template.js';
import { handleWebhook, type MeshReader } from '../../server/sim/addons/istio/inject/webhook.js';
import { validateIstioConfig } from '../../server/sim/addons/istio/validation/validate.js';
import { applyJsonPatch } from '../../server/sim/registry/patch/json-patch.js';
import { renderInstall } from '../../server/sim/addons/istio/manifests/render.js';
import { resolveSpec } from '../../server/sim/addons/istio/manifests/profiles.js';

type Obj = Record<string, any>;

const dataplane = fs.readFileSync(path.join(REFERENCE_DIR, 'DATAPLANE.md'), 'utf8');
const section5 = dataplane.slice(dataplane.indexOf('## 5. The injected sidecar'), dataplane.indexOf('## 6.'));
const bookinfo = YAML.parseAllDocuments(fs.readFileSync(BOOKINFO_YAML, 'utf8')).map((d) => d.toJS() as Obj).filter(Boolean);
const deployment = (name: string) => structuredClone(bookinfo.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!);

/** A pod as the API server hands it to the webhook: from a ReplicaSet of the Deployment, defaulted. */
function podOf(name: string): Obj {
  const d = deployment(name);
  const t = d.spec.template;
  for (const c of t.spec.containers) for (const port of c.ports ?? []) port.protocol ??= 'TCP';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: `${name}-7d4f74889d-`, namespace: 'default', labels: { ...t.metadata.labels, 'pod-template-hash': '7d4f74889d' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-7d4f74889d`, controller: true, blockOwnerDeletion: true, uid: 'u1' }] },
    spec: t.spec,
  };
}

/** The injector values `istioctl install --set profile=demo` writes into istio-sidecar-injector. */
function demoValues(): InjectorValues {
  const objs = renderInstall(resolveSpec([], ['profile=demo'])).flatMap((c) => c.objects) as Obj[];
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio-sidecar-injector')!;
  return injectorValuesFrom(cm.data.values);
}

const env = (c: Obj, name: string) => c.env.find((e: Obj) => e.name === name);

describe('the injected pod (DATAPLANE.md §5)', () => {
  const values = { ...defaultInjectorValues };
  const pod = podOf('productpage-v1');
  const out = injectPod(pod, { namespace: 'default', values })!;
  const proxy = out.spec.containers.find((c: Obj) => c.name === 'istio-proxy');
  const init = out.spec.initContainers.find((c: Obj) => c.name === 'istio-init');

  it('classic mode on 1.32 nodes: istio-init, then istio-proxy after the app', () => {
    expect(nativeSidecarsFor(['v1.32.0', 'v1.32.0'])).toBe(false);
    expect(nativeSidecarsFor(['v1.33.1', 'v1.34.0'])).toBe(true);
    expect(out.spec.initContainers.map((c: Obj) => c.name)).toEqual(['istio-init']);
    expect(out.spec.containers.map((c: Obj) => c.name)).toEqual(['productpage', 'istio-proxy']);
    expect(proxy.image).toBe('docker.io/istio/proxyv2:1.30.3');
    expect(init.image).toBe(proxy.image);
  });

  it('writes the status annotation the reference shows, classic form', () => {
    const native = JSON.parse(/- native: `(\{.*?\})`/.exec(section5)![1]!);
    const classic = { ...native, initContainers: ['istio-init'], containers: ['istio-proxy'] };
    expect(out.metadata.annotations['sidecar.istio.io/status']).toBe(JSON.stringify(classic));
    expect(out.spec.volumes.map((v: Obj) => v.name)).toEqual(['tmp', ...native.volumes]);
  });

  it('labels and annotations', () => {
    expect(out.metadata.labels).toMatchObject({ app: 'productpage', version: 'v1', 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': 'productpage', 'service.istio.io/canonical-revision': 'v1' });
    expect(out.metadata.annotations).toMatchObject({
      'istio.io/rev': 'default',
      'kubectl.kubernetes.io/default-container': 'productpage',
      'kubectl.kubernetes.io/default-logs-container': 'productpage',
      'prometheus.io/path': '/stats/prometheus',
      'prometheus.io/port': '15020',
      'prometheus.io/scrape': 'true',
    });
  });

  it('istio-init: the reference args, root with NET_ADMIN/NET_RAW', () => {
    const args = /args:\s*\n\s*`(istio-iptables[^`]*)`/.exec(section5)![1]!;
    // The reference prints the args as a shell line: split it the way the shell would.
    const words = [...args.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    expect(init.args).toEqual(words);
    expect(init.securityContext.capabilities.add).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(init.securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem: false });
  });

  it('istio-proxy: port, args, env in the reference order, probes, securityContext, resources, mounts', () => {
    expect(proxy.ports).toEqual([{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }]);
    const args = /args\s*\n\s*`(proxy sidecar[^`]*)`/.exec(section5)![1]!;
    expect(proxy.args).toEqual(args.split(' '));
    const envBlock = section5.slice(section5.indexOf('Env (order):'), section5.indexOf('`readinessProbe'));
    const names = [...envBlock.matchAll(/`([A-Z_]+)(?:=[^`]*)?`/g)].map((m) => m[1]);
    expect(proxy.env.map((e: Obj) => e.name)).toEqual(names.filter((n) => n !== 'ISTIO_KUBE_APP_PROBERS'));
    expect(env(proxy, 'CA_ADDR').value).toBe('istiod.istio-system.svc:15012');
    expect(env(proxy, 'ISTIO_META_OWNER').value).toBe('kubernetes://apis/apps/v1/namespaces/default/deployments/productpage-v1');
    expect(env(proxy, 'ISTIO_META_WORKLOAD_NAME').value).toBe('productpage-v1');
    expect(env(proxy, 'ISTIO_META_APP_CONTAINERS').value).toBe('productpage');
    expect(env(proxy, 'ISTIO_META_POD_PORTS').value).toBe('[\n    {"containerPort":9080,"protocol":"TCP"}\n]');
    expect(proxy.readinessProbe).toEqual({ failureThreshold: 4, httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 15, timeoutSeconds: 3 });
    expect(proxy.startupProbe).toEqual({ failureThreshold: 600, httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 1, timeoutSeconds: 3 });
    expect(proxy.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 1337, runAsNonRoot: true, runAsUser: 1337 });
    expect(proxy.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } });
    const mounts = [...section5.slice(section5.indexOf('Volume mounts:'), section5.indexOf('Volumes: emptyDirs')).matchAll(/`([a-z-]+)`→`([^`]+)`/g)].map((m) => ({ mountPath: m[2], name: m[1] }));
    expect(proxy.volumeMounts).toEqual(mounts);
    expect(proxy.lifecycle).toBeUndefined();
  });

  it('the demo profile asks for 10m/40Mi', () => {
    const demo = injectPod(podOf('details-v1'), { namespace: 'default', values: demoValues() })!;
    expect(demo.spec.containers[1].resources).toEqual({ requests: { cpu: '10m', memory: '40Mi' }, limits: { cpu: '2', memory: '1Gi' } });
    expect(canonicalQuantity('2000m')).toBe('2');
    expect(canonicalQuantity('1024Mi')).toBe('1Gi');
  });

  it('native sidecars on ≥1.33 nodes: istio-proxy a restartable init container with the drain preStop', () => {
    const n = injectPod(podOf('ratings-v1'), { namespace: 'default', values: { ...values, nativeSidecar: true } })!;
    expect(n.spec.initContainers.map((c: Obj) => c.name)).toEqual(['istio-init', 'istio-proxy']);
    expect(n.spec.containers.map((c: Obj) => c.name)).toEqual(['ratings']);
    const p = n.spec.initContainers[1];
    expect(p.restartPolicy).toBe('Always');
    expect(p.lifecycle).toEqual({ preStop: { exec: { command: ['pilot-agent', 'request', '--debug-port=15020', 'POST', 'drain'] } } });
    const native = /- native: `(\{.*?\})`/.exec(section5)![1]!;
    expect(n.metadata.annotations['sidecar.istio.io/status']).toBe(native);
    const optOut = podOf('ratings-v1');
    optOut.metadata.annotations = { 'sidecar.istio.io/nativeSidecar': 'false' };
    expect(injectPod(optOut, { namespace: 'default', values: { ...values, nativeSidecar: true } })!.spec.containers.map((c: Obj) => c.name)).toEqual(['ratings', 'istio-proxy']);
  });

  it('rewrites HTTP and TCP probes to 15020 and keeps the originals in ISTIO_KUBE_APP_PROBERS; exec probes stay', () => {
    const p = podOf('details-v1');
    p.spec.containers[0].livenessProbe = { httpGet: { port: 80 }, timeoutSeconds: 1, periodSeconds: 10 };
    p.spec.containers[0].readinessProbe = { httpGet: { port: 'http', path: '/ready', scheme: 'HTTP' }, timeoutSeconds: 1 };
    p.spec.containers[0].ports = [{ containerPort: 9080, name: 'http' }];
    p.spec.containers[0].startupProbe = { exec: { command: ['true'] } };
    const o = injectPod(p, { namespace: 'default', values })!;
    const app = o.spec.containers[0];
    expect(app.livenessProbe).toEqual({ httpGet: { path: '/app-health/details/livez', port: 15020 }, timeoutSeconds: 1, periodSeconds: 10 });
    expect(app.readinessProbe).toEqual({ httpGet: { path: '/app-health/details/readyz', port: 15020, scheme: 'HTTP' }, timeoutSeconds: 1 });
    expect(app.startupProbe).toEqual({ exec: { command: ['true'] } });
    expect(JSON.parse(env(o.spec.containers[1], 'ISTIO_KUBE_APP_PROBERS').value)).toEqual({
      '/app-health/details/livez': { httpGet: { port: 80 }, timeoutSeconds: 1 },
      '/app-health/details/readyz': { httpGet: { path: '/ready', port: 9080, scheme: 'HTTP' }, timeoutSeconds: 1 },
    });
  });

  it('leaves opted-out, already injected, host-network and kube-system pods alone', () => {
    const off = podOf('details-v1');
    off.metadata.labels['sidecar.istio.io/inject'] = 'false';
    expect(injectPod(off, { namespace: 'default', values })).toBeUndefined();
    expect(injectPod(out, { namespace: 'default', values })).toBeUndefined();
    const host = podOf('details-v1');
    host.spec.hostNetwork = true;
    expect(injectPod(host, { namespace: 'default', values })).toBeUndefined();
    expect(injectPod(podOf('details-v1'), { namespace: 'kube-system', values })).toBeUndefined();
  });
});

describe('istiod webhooks over AdmissionReview v1', () => {
  const reader: MeshReader = {
    configMap: (ns, name) => (ns === 'istio-system' && name === 'istio-sidecar-injector' ? { data: { values: JSON.stringify({ global: { hub: 'docker.io/istio', tag: '1.30.3', proxy: { image: 'proxyv2' } } }) } } : undefined),
    kubeletVersions: () => ['v1.32.0'],
  };
  const post = (p: string, request: Obj) => {
    const r = handleWebhook('POST', p, 'application/json', Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request })), reader)!;
    return { ...r, review: r.status === 200 ? JSON.parse(r.body) : undefined };
  };

  it('/inject answers a JSONPatch that turns the pod into the injected pod', () => {
    const pod = podOf('reviews-v2');
    const r = post('/inject?timeout=10s', { uid: 'abc', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'default', operation: 'CREATE', object: pod, dryRun: false });
    expect(r.status).toBe(200);
    expect(r.review.apiVersion).toBe('admission.k8s.io/v1');
    expect(r.review.response).toMatchObject({ uid: 'abc', allowed: true, patchType: 'JSONPatch' });
    const ops = JSON.parse(Buffer.from(r.review.response.patch, 'base64').toString('utf8'));
    const patched = applyJsonPatch(pod as never, ops) as Obj;
    expect(patched).toEqual(injectPod(pod, { namespace: 'default', values: { ...defaultInjectorValues } }));
    expect(patched.spec.containers.map((c: Obj) => c.name)).toEqual(['reviews', 'istio-proxy']);
  });

  it('/inject/ paths (revision forms) inject too; an opted-out pod is allowed unpatched', () => {
    const r = post('/inject/cluster/Kubernetes/net/', { uid: 'u2', namespace: 'default', operation: 'CREATE', object: podOf('ratings-v1') });
    expect(r.review.response.patch).toBeTruthy();
    const off = podOf('ratings-v1');
    off.metadata.labels['sidecar.istio.io/inject'] = 'false';
    expect(post('/inject', { uid: 'u3', namespace: 'default', operation: 'CREATE', object: off }).review.response).toEqual({ uid: 'u3', allowed: true });
  });

  it('refuses what is not an AdmissionReview POST', () => {
    expect(handleWebhook('GET', '/inject', undefined, Buffer.alloc(0), reader)!.status).toBe(405);
    expect(handleWebhook('POST', '/validate', 'application/json', Buffer.from('{'), reader)!.status).toBe(400);
    expect(handleWebhook('POST', '/metrics', 'application/json', Buffer.from('{}'), reader)).toBeUndefined();
  });

  it('/validate denies invalid config with Istio\'s message and allows valid config unchanged', () => {
    const vs = (route: Obj[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'default' }, spec: { hosts: ['reviews'], http: [{ route }] } });
    const req = (object: Obj) => ({ uid: 'v1', kind: { group: 'networking.istio.io', version: 'v1', kind: object.kind }, namespace: 'default', operation: 'CREATE', object });
    const bad = post('/validate', req(vs([{ destination: { host: 'reviews', subset: 'v1' }, weight: -10 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 110 }])));
    expect(bad.review.response).toEqual({ uid: 'v1', allowed: false, status: { metadata: {}, message: 'configuration is invalid: weight -10 < 0' } });
    const ok = post('/validate', req(vs([{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }])));
    expect(ok.review.response).toEqual({ uid: 'v1', allowed: true });
  });
});

describe('Istio config validation messages (DATAPLANE.md §6)', () => {
  const vs = (spec: Obj) => validateIstioConfig({ kind: 'VirtualService', spec });
  it('weights', () => {
    expect(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 0 }, { destination: { host: 's' }, weight: 0 }] }] })).toBe('total destination weight = 0');
    expect(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 0 }] }] })).toBeUndefined();
    expect(vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 30 }, { destination: { host: 's' }, weight: 30 }] }] })).toBeUndefined();
  });
  it('regexes, worded as Go\'s regexp and Istio word them', () => {
    expect(vs({ hosts: ['r'], http: [{ match: [{ uri: { regex: '[' } }], route: [{ destination: { host: 'r' } }] }] })).toBe('"uri": error parsing regexp: missing closing ]: `[`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)');
    expect(vs({ hosts: ['r'], http: [{ match: [{ uri: { regex: '' } }], route: [{ destination: { host: 'r' } }] }] })).toBe('"uri": regex string match should not be empty');
    expect(vs({ hosts: ['r'], http: [{ match: [{ uri: { regex: 'a'.repeat(1025) } }], route: [{ destination: { host: 'r' } }] }] })).toBe('"uri": regex is too large, max length allowed is 1024');
  });
  it('hosts, gateways, servers; several errors as hashicorp multierror', () => {
    expect(vs({ http: [{ route: [{ destination: { host: 'r' } }] }] })).toBeUndefined();
    expect(vs({ gateways: ['g'], http: [{ route: [{ destination: { host: 'r' } }] }] })).toBe('delegate virtual service must have no gateways specified');
    expect(vs({ hosts: ['r'] })).toBe('http, tcp or tls must be provided in virtual service');
    expect(vs({ hosts: ['*'], http: [{ route: [{ destination: { host: 'r' } }] }] })).toBe('wildcard host * is not allowed for virtual services bound to the mesh gateway');
    expect(validateIstioConfig({ kind: 'Gateway', spec: {} })).toBe('gateway must have at least one server');
    expect(vs({ hosts: ['*'], http: [{ route: [{ destination: { host: 'r' }, weight: -1 }] }] })).toBe('2 errors occurred:\n\t* wildcard host * is not allowed for virtual services bound to the mesh gateway\n\t* weight -1 < 0\n\n');
  });
});
