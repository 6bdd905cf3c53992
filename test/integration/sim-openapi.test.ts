/**
 * The real kubectl against the embedded cluster: explain (OpenAPI v3), apply with field
 * validation, server-side tables.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { REFERENCE_DIR } from '../helpers/reference.js';

const run = promisify(execFile);
const REF = REFERENCE_DIR;
let cluster: EmbeddedCluster;
let dir: string;

async function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-openapi-'));
  cluster = await EmbeddedCluster.start();
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl explain', () => {
  it('explains pods with the API descriptions', async () => {
    const r = await kubectl('explain', 'pods');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('KIND:       Pod\nVERSION:    v1\n');
    expect(r.stdout).toContain('Pod is a collection of containers that can run on a host.');
    expect(r.stdout).toMatch(/\n  spec\t<PodSpec>\n/);
    expect(r.stdout).toMatch(/\n  apiVersion\t<string>\n    APIVersion defines the versioned schema/);
  });

  it('follows a field path through a deployment', async () => {
    const r = await kubectl('explain', 'deployment.spec.strategy.rollingUpdate');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n');
    expect(r.stdout).toContain('FIELD: rollingUpdate <RollingUpdateDeployment>');
    expect(r.stdout).toMatch(/maxSurge\t<IntOrString>/);
    const t = await kubectl('explain', 'deployment.spec.template.spec.containers.imagePullPolicy');
    expect(t.stdout).toContain('FIELD: imagePullPolicy <string>');
    expect(t.stdout).toMatch(/ENUM:\n    Always\n    IfNotPresent\n    Never/);
  });

  it('says so for a field that does not exist', async () => {
    const r = await kubectl('explain', 'pods.spec.nope');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: field "nope" does not exist');
  });
});

describe('kubectl apply with field validation', () => {
  it('refuses a typo with kube-apiserver\'s strict decoding error', async () => {
    const manifest = readFileSync(join(REF, 'samples/bookinfo.yaml'), 'utf8')
      .split(/^---$/m)
      .find((d) => d.includes('name: details-v1'))!
      .replace('imagePullPolicy:', 'imagePullPolicyy:');
    writeFileSync(join(dir, 'typo.yaml'), manifest);
    const r = await kubectl('apply', '-f', join(dir, 'typo.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`Error from server (BadRequest): error when creating "${join(dir, 'typo.yaml')}": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"`);
    expect((await kubectl('get', 'deployment', 'details-v1')).code).toBe(1);
  });

  it('warns instead with --validate=warn and creates the object', async () => {
    const r = await kubectl('apply', '--validate=warn', '-f', join(dir, 'typo.yaml'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"');
    expect(r.stdout).toContain('deployment.apps/details-v1 created');
  });

  it('applies the real Bookinfo manifest cleanly and prints server-side columns', async () => {
    // The Warn test above left a details-v1 behind; start from a clean slate.
    await kubectl('delete', 'deployment', 'details-v1', '--wait=false');
    const r = await kubectl('apply', '-f', join(REF, 'samples/bookinfo.yaml'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('service/productpage created');
    const svc = await kubectl('get', 'services');
    expect(svc.stdout.split('\n')[0]!.trim().split(/\s{2,}/)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(svc.stdout).toMatch(/\nproductpage\s+ClusterIP\s+\S+\s+<none>\s+9080\/TCP\s+\d+s\n/);
    const deploy = await kubectl('get', 'deployments', '-o', 'wide');
    expect(deploy.stdout.split('\n')[0]!.trim().split(/\s{2,}/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(deploy.stdout).toMatch(/\nreviews-v2\s+\d\/1\s+\d+\s+\d+\s+\d+s\s+reviews\s+registry\.istio\.io\/release\/examples-bookinfo-reviews-v2:1\.20\.3\s+app=reviews,version=v2\n/);
  });
});

// Trimmed to what the test needs, shaped like Istio's crd-all.gen.yaml (served v1, printer columns).
const VS_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: virtualservices.networking.istio.io
spec:
  group: networking.istio.io
  names:
    categories: [istio-io, networking-istio-io]
    kind: VirtualService
    listKind: VirtualServiceList
    plural: virtualservices
    shortNames: [vs]
    singular: virtualservice
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - description: The names of gateways and sidecars that should apply these routes
      jsonPath: .spec.gateways
      name: Gateways
      type: string
    - description: The destination hosts to which traffic is being sent
      jsonPath: .spec.hosts
      name: Hosts
      type: string
    - description: CreationTimestamp is a timestamp representing the server time when this object was created.
      jsonPath: .metadata.creationTimestamp
      name: Age
      type: date
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            description: 'Configuration affecting label/content routing, sni routing, etc. See more details at: https://istio.io/docs/reference/config/networking/virtual-service.html'
            type: object
            properties:
              gateways:
                description: The names of gateways and sidecars that should apply these routes.
                type: array
                items: {type: string}
              hosts:
                description: The destination hosts to which traffic is being sent.
                type: array
                items: {type: string}
              http:
                description: An ordered list of route rules for HTTP traffic.
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
`;

describe('kubectl apply of a changed manifest', () => {
  it('removes a list item dropped from the manifest (strategic merge patch with merge keys)', async () => {
    const manifest = (env: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: envtest}
spec:
  selector: {matchLabels: {app: envtest}}
  template:
    metadata: {labels: {app: envtest}}
    spec:
      containers:
      - name: web
        image: nginx
        env: [${env}]
`;
    writeFileSync(join(dir, 'env1.yaml'), manifest('{name: A, value: "1"}, {name: B, value: "2"}'));
    writeFileSync(join(dir, 'env2.yaml'), manifest('{name: A, value: "1"}'));
    expect((await kubectl('apply', '-f', join(dir, 'env1.yaml'))).stdout).toContain('deployment.apps/envtest created');
    expect((await kubectl('apply', '-f', join(dir, 'env2.yaml'))).stdout).toContain('deployment.apps/envtest configured');
    const env = await kubectl('get', 'deployment', 'envtest', '-o', 'jsonpath={.spec.template.spec.containers[0].env}');
    expect(JSON.parse(env.stdout)).toEqual([{ name: 'A', value: '1' }]);
  });
});

describe('kinds the server does not serve', () => {
  // Istio config before its CRDs, and a Deployment in an API version removed in 1.16.
  const MIXED = [
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before-crds-a\ndata:\n  k: v\n',
    'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n',
    'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: old\nspec: {}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before-crds-b\n',
  ].join('---\n');
  const mappingErrors = (file: string) =>
    `resource mapping not found for name: "reviews" namespace: "" from "${file}": no matches for kind "VirtualService" in version "networking.istio.io/v1"\nensure CRDs are installed first\n` +
    `resource mapping not found for name: "old" namespace: "" from "${file}": no matches for kind "Deployment" in version "extensions/v1beta1"\nensure CRDs are installed first\n`;

  it('creates the served objects and reports each unserved one, exit 1 (apply, create, --validate=false)', async () => {
    const file = join(dir, 'mixed.yaml');
    writeFileSync(file, MIXED);
    const apply = await kubectl('apply', '-f', file);
    expect(apply.stderr).toBe(mappingErrors(file));
    expect(apply.stdout).toBe('configmap/before-crds-a created\nconfigmap/before-crds-b created\n');
    expect(apply.code).toBe(1);
    expect((await kubectl('get', 'configmap', 'before-crds-a', '-o', 'jsonpath={.data.k}')).stdout).toBe('v');
    expect((await kubectl('delete', 'configmap', 'before-crds-a', 'before-crds-b')).code).toBe(0);

    const create = await kubectl('create', '-f', file);
    expect(create.stderr).toBe(mappingErrors(file));
    expect(create.stdout).toBe('configmap/before-crds-a created\nconfigmap/before-crds-b created\n');
    expect(create.code).toBe(1);

    const unvalidated = await kubectl('apply', '--validate=false', '-f', file);
    expect(unvalidated.stderr).toContain(mappingErrors(file));
    expect(unvalidated.code).toBe(1);
    expect((await kubectl('delete', 'configmap', 'before-crds-a', 'before-crds-b')).code).toBe(0);
  });

  it('applies a directory file by file, reporting the unserved kinds with their file', async () => {
    const folder = join(dir, 'manifests');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'a.yaml'), MIXED);
    writeFileSync(join(folder, 'b.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: from-dir\nstringData:\n  k: v\n');
    const r = await kubectl('apply', '-f', folder);
    expect(r.stderr).toBe(mappingErrors(join(folder, 'a.yaml')));
    expect(r.stdout).toBe('configmap/before-crds-a created\nconfigmap/before-crds-b created\nsecret/from-dir created\n');
    expect(r.code).toBe(1);
  });

  it('says the resource type does not exist on get', async () => {
    const r = await kubectl('get', 'virtualservices');
    expect(r.stderr).toBe('error: the server doesn\'t have a resource type "virtualservices"\n');
    expect(r.code).toBe(1);
  });

  it('validates a List\'s items client-side against /openapi/v2, as kubectl does for kind List', async () => {
    const file = join(dir, 'list.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: in-list\n  dataa: {}\n');
    const r = await kubectl('apply', '-f', file);
    expect(r.stderr).toBe(`error: error validating "${file}": error validating data: ValidationError(ConfigMap): unknown field "dataa" in io.k8s.api.core.v1.ConfigMap; if you choose to ignore these errors, turn validation off with --validate=false\n`);
    expect(r.code).toBe(1);
    writeFileSync(file, 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: in-list\n  data:\n    k: v\n');
    expect((await kubectl('apply', '-f', file)).stdout).toBe('configmap/in-list created\n');
  });
});

describe('custom resources', () => {
  beforeAll(async () => {
    writeFileSync(join(dir, 'vs-crd.yaml'), VS_CRD);
    const r = await kubectl('apply', '-f', join(dir, 'vs-crd.yaml'));
    expect(r.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io created');
  });

  it('explains a CRD field from its openAPIV3Schema', async () => {
    let r = await kubectl('explain', 'virtualservices.spec');
    for (let i = 0; i < 20 && r.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 250));
      r = await kubectl('explain', 'virtualservices.spec');
    }
    expect(r.stdout).toContain('GROUP:      networking.istio.io\nKIND:       VirtualService\nVERSION:    v1\n');
    expect(r.stdout).toMatch(/FIELD: spec <Object>/);
    expect(r.stdout).toMatch(/\n  hosts\t<\[\]string>\n    The destination hosts to which traffic is being sent.\n/);
  });

  it('applies the Bookinfo gateway virtual service and prints its printer columns', async () => {
    const vs = readFileSync(join(REF, 'samples/bookinfo-gateway.yaml'), 'utf8').split(/^---$/m).find((d) => d.includes('kind: VirtualService'))!;
    writeFileSync(join(dir, 'vs.yaml'), vs);
    const r = await kubectl('apply', '-f', join(dir, 'vs.yaml'));
    expect(r.stdout).toContain('virtualservice.networking.istio.io/bookinfo created');
    const get = await kubectl('get', 'virtualservices');
    const [header, row] = get.stdout.split('\n');
    expect(header!.trim().split(/\s{2,}/)).toEqual(['NAME', 'GATEWAYS', 'HOSTS', 'AGE']);
    expect(row).toMatch(/^bookinfo\s+\["bookinfo-gateway"\]\s+\["\*"\]\s+\d+s$/);
  });

  it('refuses an unknown field in a custom resource', async () => {
    writeFileSync(join(dir, 'vs-typo.yaml'), 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: typo\nspec:\n  hosts: [reviews]\n  hostz: [x]\n');
    const r = await kubectl('apply', '-f', join(dir, 'vs-typo.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('VirtualService in version "v1" cannot be handled as a VirtualService: strict decoding error: unknown field "spec.hostz"');
  });
});
