/**
 * The embedded cluster judged by the real kubectl 1.32: the commands a learner types, with the
 * output lines, exit codes and error messages kube-apiserver gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { REFERENCE_DIR } from '../helpers/reference.js';
import { runProcess, type ProcessRun } from '../helpers/run.js';

const REF = REFERENCE_DIR;
let cluster: EmbeddedCluster;
let dir: string;

type Run = ProcessRun;

function kubectl(args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const env = { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), ...opts.env };
  return runProcess('kubectl', args, { env, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-kubectl-'));
  cluster = await EmbeddedCluster.start();
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('discovery', () => {
  it('api-resources lists built-in kinds with short names, and api-versions the groups', async () => {
    const out = await ok(['api-resources']);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    expect(out).toMatch(/^customresourcedefinitions\s+crd,crds\s+apiextensions.k8s.io\/v1\s+false\s+CustomResourceDefinition$/m);
    const versions = await ok(['api-versions']);
    expect(versions.split('\n')).toEqual(expect.arrayContaining(['v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'networking.k8s.io/v1']));
  });

  it('has the namespaces, default service accounts and version a fresh cluster has', async () => {
    const ns = await ok(['get', 'ns', '-o', 'name']);
    expect(ns.trim().split('\n')).toEqual(['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
    expect(await ok(['get', 'sa', 'default', '-n', 'kube-system', '-o', 'name'])).toBe('serviceaccount/default\n');
    const v = JSON.parse(await ok(['version', '-o', 'json']));
    expect(v.serverVersion.gitVersion).toMatch(/^v1\.32\./);
  });

  it('answers auth can-i and whoami for the single admin user', async () => {
    expect(await ok(['auth', 'can-i', 'create', 'deployments'])).toBe('yes\n');
    expect(await ok(['auth', 'whoami'])).toMatch(/^Username\s+kubernetes-admin$/m);
  });

  it('refuses a wrong token with 401 as kubectl reports it', async () => {
    const r = await kubectl(['--token', 'wrong', 'get', 'pods']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  });
});

describe('apply, get, edit, delete', () => {
  it('applies bookinfo.yaml (created, then unchanged service accounts) and shows it', async () => {
    const first = await ok(['apply', '-f', `${REF}/samples/bookinfo.yaml`]);
    expect(first).toContain('service/details created');
    expect(first).toContain('serviceaccount/bookinfo-details created');
    expect(first).toContain('deployment.apps/reviews-v3 created');
    const second = await ok(['apply', '-f', `${REF}/samples/bookinfo.yaml`]);
    expect(second).toContain('serviceaccount/bookinfo-details unchanged');

    const svc = await ok(['get', 'services']);
    expect(svc.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    expect(svc).toMatch(/^details\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+9080\/TCP\s+\d+s$/m);
    const wide = await ok(['get', 'svc', '-o', 'wide']);
    expect(wide).toMatch(/^productpage\s+ClusterIP\s+\S+\s+<none>\s+9080\/TCP\s+\d+s\s+app=productpage$/m);
    const deploys = await ok(['get', 'deploy', '-l', 'app=reviews', '-o', 'name']);
    expect(deploys.trim().split('\n')).toEqual(['deployment.apps/reviews-v1', 'deployment.apps/reviews-v2', 'deployment.apps/reviews-v3']);
    const notin = await ok(['get', 'deploy', '-l', 'app=reviews,version notin (v1,v3)', '-o', 'name']);
    expect(notin.trim()).toBe('deployment.apps/reviews-v2');
  });

  it('prints objects as yaml, json, jsonpath and custom columns, with kube defaults filled in', async () => {
    const y = await ok(['get', 'deploy', 'details-v1', '-o', 'yaml']);
    expect(y).toContain('progressDeadlineSeconds: 600');
    expect(y).toContain('revisionHistoryLimit: 10');
    expect(y).toMatch(/maxSurge: 25%\n\s+maxUnavailable: 25%/);
    expect(y).toContain('imagePullPolicy: IfNotPresent');
    expect(y).toContain('terminationMessagePath: /dev/termination-log');
    const j = JSON.parse(await ok(['get', 'svc', 'details', '-o', 'json']));
    expect(j.spec.ports[0]).toEqual({ name: 'http', port: 9080, protocol: 'TCP', targetPort: 9080 });
    expect(j.spec.sessionAffinity).toBe('None');
    expect(await ok(['get', 'deploy', 'ratings-v1', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}'])).toBe('1 1');
    const cc = await ok(['get', 'deploy', '-l', 'app=details', '-o', 'custom-columns=NAME:.metadata.name,IMAGE:.spec.template.spec.containers[0].image']);
    expect(cc).toMatch(/^NAME\s+IMAGE\ndetails-v1\s+\S+examples-bookinfo-details-v1:\S+\n$/);
    const all = await ok(['get', 'sa', '-A', '-o', 'name']);
    expect(all).toContain('serviceaccount/bookinfo-ratings');
  });

  it('labels, annotates, patches (strategic, merge, json), scales and edits', async () => {
    expect(await ok(['label', 'deploy', 'details-v1', 'tier=backend'])).toBe('deployment.apps/details-v1 labeled\n');
    expect(await ok(['annotate', 'deploy', 'details-v1', 'note=hello'])).toBe('deployment.apps/details-v1 annotated\n');
    expect(await ok(['get', 'deploy', '-l', 'tier=backend', '-o', 'name'])).toBe('deployment.apps/details-v1\n');
    await ok(['patch', 'deploy', 'details-v1', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"details","image":"nginx:1.27"}]}}}}']);
    await ok(['patch', 'deploy', 'details-v1', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    await ok(['patch', 'deploy', 'details-v1', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/x","value":"y"}]']);
    const d = JSON.parse(await ok(['get', 'deploy', 'details-v1', '-o', 'json']));
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(d.spec.replicas).toBe(2);
    expect(d.metadata.labels.x).toBe('y');
    // two spec changes bumped the generation; label/annotation changes did not
    expect(d.metadata.generation).toBe(3);
    expect(await ok(['scale', 'deploy', 'details-v1', '--replicas=4'])).toBe('deployment.apps/details-v1 scaled\n');
    const editor = join(dir, 'editor.sh');
    await writeFile(editor, '#!/bin/sh\nsed -i "s/replicas: 4/replicas: 5/" "$1"\n', { mode: 0o755 });
    const edited = await kubectl(['edit', 'deploy', 'details-v1'], { env: { KUBE_EDITOR: editor } });
    expect(edited.stdout).toBe('deployment.apps/details-v1 edited\n');
    expect(await ok(['get', 'deploy', 'details-v1', '-o', 'jsonpath={.spec.replicas}'])).toBe('5');
  });

  it('replace with a stale object is a Conflict; a fresh one replaces', async () => {
    const file = join(dir, 'ratings.yaml');
    await writeFile(file, await ok(['get', 'deploy', 'ratings-v1', '-o', 'yaml']));
    await ok(['scale', 'deploy', 'ratings-v1', '--replicas=2']);
    const stale = await kubectl(['replace', '-f', file]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('Error from server (Conflict): error when replacing');
    expect(stale.stderr).toContain('Operation cannot be fulfilled on deployments.apps "ratings-v1": the object has been modified; please apply your changes to the latest version and try again');
    await writeFile(file, (await ok(['get', 'deploy', 'ratings-v1', '-o', 'yaml'])).replace('replicas: 2', 'replicas: 3'));
    expect(await ok(['replace', '-f', file])).toBe('deployment.apps/ratings-v1 replaced\n');
  });

  it('creates with kubectl create (protobuf bodies), dry-run=server stores nothing', async () => {
    expect(await ok(['create', 'namespace', 'scratch'])).toBe('namespace/scratch created\n');
    expect(await ok(['create', 'deployment', 'web', '--image=nginx', '-n', 'scratch', '--replicas=2'])).toBe('deployment.apps/web created\n');
    expect(await ok(['create', 'configmap', 'cfg', '--from-literal=a=b', '-n', 'scratch'])).toBe('configmap/cfg created\n');
    const web = JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'scratch', '-o', 'json']));
    expect(web.spec.replicas).toBe(2);
    expect(web.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx', imagePullPolicy: 'Always' });
    const dry = await ok(['create', 'configmap', 'ghost', '--from-literal=a=b', '-n', 'scratch', '--dry-run=server', '-o', 'yaml']);
    expect(dry).toContain('name: ghost');
    const gone = await kubectl(['get', 'cm', 'ghost', '-n', 'scratch']);
    expect(gone.stderr).toContain('Error from server (NotFound): configmaps "ghost" not found');
  });

  it('serves what the other generator commands create (expose, autoscale, job, cronjob, ingress, rbac)', async () => {
    await ok(['create', 'deployment', 'gen', '--image=nginx:1.27', '-n', 'scratch']);
    expect(await ok(['expose', 'deployment', 'gen', '--port=80', '--type=NodePort', '-n', 'scratch'])).toBe('service/gen exposed\n');
    const port = Number(await ok(['get', 'svc', 'gen', '-n', 'scratch', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    expect(port).toBeGreaterThanOrEqual(30000);
    expect(port).toBeLessThanOrEqual(32767);
    expect(await ok(['autoscale', 'deployment', 'gen', '--max=3', '--cpu-percent=50', '-n', 'scratch'])).toBe('horizontalpodautoscaler.autoscaling/gen autoscaled\n');
    expect(await ok(['get', 'hpa', 'gen', '-n', 'scratch'])).toMatch(/\ngen\s+Deployment\/gen\s+cpu: <unknown>\/50%\s+1\s+3\s+0\s+\d+s\n$/);
    expect(await ok(['create', 'job', 'once', '--image=busybox', '-n', 'scratch', '--', 'echo', 'hi'])).toBe('job.batch/once created\n');
    const job = JSON.parse(await ok(['get', 'job', 'once', '-n', 'scratch', '-o', 'json']));
    expect(job.spec.template.metadata.labels['job-name']).toBe('once');
    expect(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']).toBe(job.metadata.uid);
    expect(await ok(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '-n', 'scratch', '--', 'date'])).toBe('cronjob.batch/tick created\n');
    expect(await ok(['create', 'ingress', 'ing', '--rule=foo.com/=gen:80', '-n', 'scratch'])).toBe('ingress.networking.k8s.io/ing created\n');
    expect(await ok(['get', 'ingress', 'ing', '-n', 'scratch', '-o', 'jsonpath={.spec.rules[0].http.paths[0].backend.service.name}'])).toBe('gen');
    expect(await ok(['create', 'role', 'reader', '--verb=get', '--resource=pods', '-n', 'scratch'])).toBe('role.rbac.authorization.k8s.io/reader created\n');
    expect(await ok(['create', 'rolebinding', 'rb', '--role=reader', '--serviceaccount=scratch:default', '-n', 'scratch'])).toBe('rolebinding.rbac.authorization.k8s.io/rb created\n');
  });

  it('reports invalid objects, unknown fields and missing objects as kube-apiserver does', async () => {
    const bad = await kubectl(['apply', '-f', '-'], {
      input: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\nspec:\n  template:\n    metadata: {labels: {app: bad}}\n    spec: {containers: [{name: c, image: nginx}]}\n',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The Deployment "bad" is invalid: \n* spec.selector: Required value\n* spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`');
    const unknown = await kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: u}\nbogus: 1\n' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown field "bogus"');
    const missing = await kubectl(['get', 'deploy', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): deployments.apps "nope" not found\n');
    const noNs = await kubectl(['create', 'configmap', 'x', '-n', 'does-not-exist']);
    expect(noNs.stderr).toContain('namespaces "does-not-exist" not found');
  });

  it('server-side apply records the manager and reports a conflict for another manager', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "1"}\n';
    expect(await ok(['apply', '--server-side', '-f', '-'], cm)).toBe('configmap/ssa serverside-applied\n');
    const conflict = await kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: cm.replace('"1"', '"2"') });
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .data.a');
    expect(await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], cm.replace('"1"', '"2"'))).toBe('configmap/ssa serverside-applied\n');
    expect(await ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.a}'])).toBe('2');
  });

  it('deletes by file, by label, and a namespace with its contents; wait --for=delete returns', async () => {
    const file = join(dir, 'two.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f1, labels: {grp: t}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: f2, labels: {grp: t}}\n');
    expect(await ok(['apply', '-f', file])).toBe('configmap/f1 created\nconfigmap/f2 created\n');
    expect(await ok(['delete', '-f', file])).toBe('configmap "f1" deleted\nconfigmap "f2" deleted\n');
    await ok(['apply', '-f', file]);
    expect(await ok(['delete', 'cm', '-l', 'grp=t'])).toBe('configmap "f1" deleted\nconfigmap "f2" deleted\n');
    expect(await ok(['delete', 'ns', 'scratch'])).toBe('namespace "scratch" deleted\n');
    const r = await kubectl(['wait', '--for=delete', 'namespace/scratch', '--timeout=20s']);
    expect(r.code).toBe(0);
    const left = await kubectl(['get', 'deploy', 'web', '-n', 'scratch']);
    expect(left.stderr).toContain('not found');
  });

  it('streams changes with --watch', async () => {
    // The change is made once the list is printed (the watch starts from the list's
    // resourceVersion, so nothing made after it can be missed), not after a guessed delay.
    const watcher = spawn('kubectl', ['get', 'cm', '--watch'], { env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') } });
    let out = '';
    watcher.stdout.on('data', (d: Buffer) => (out += d));
    try {
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/^kube-root-ca\.crt\s+1\s+\d+\w$/m);
      expect(out.split('\n')[0]).toMatch(/^NAME\s+DATA\s+AGE$/);
      await ok(['create', 'configmap', 'watched']);
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/^watched\s+0\s+\d+s$/m);
      expect(watcher.exitCode).toBeNull();
    } finally {
      watcher.kill();
    }
  });

  it('describes a service', async () => {
    const out = await ok(['describe', 'svc', 'details']);
    expect(out).toMatch(/^Name:\s+details$/m);
    expect(out).toMatch(/^Type:\s+ClusterIP$/m);
    expect(out).toMatch(/^Port:\s+http\s+9080\/TCP$/m);
  });
});

describe('custom resources', () => {
  const istioCRD = (plural: string, kind: string, short: string[], columns: object[]) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.networking.istio.io` },
    spec: {
      group: 'networking.istio.io',
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, shortNames: short, categories: ['istio-io', 'networking-istio-io'] },
      versions: ['v1', 'v1alpha3', 'v1beta1'].map((name) => ({
        name,
        served: true,
        storage: name === 'v1',
        additionalPrinterColumns: columns,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
      })),
    },
  });

  it('serves a CRD at once, prints its columns, validates its schema, and deletes its objects with it', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } }, additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }] }],
      },
    };
    expect(await ok(['apply', '-f', '-'], JSON.stringify(crd))).toBe('customresourcedefinition.apiextensions.k8s.io/widgets.example.com created\n');
    const established = await kubectl(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=10s']);
    expect(established.code).toBe(0);
    expect(await ok(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n')).toBe('widget.example.com/w1 created\n');
    // With printer columns given, kube prints NAME and exactly those (no AGE unless listed).
    expect(await ok(['get', 'wd'])).toMatch(/^NAME\s+SIZE\nw1\s+3\n$/);
    const bad = await kubectl(['apply', '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 3, colour: red}\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown field "spec.colour"');
    expect(await ok(['delete', 'crd', 'widgets.example.com'])).toBe('customresourcedefinition.apiextensions.k8s.io "widgets.example.com" deleted\n');
    const gone = await kubectl(['get', 'widgets.example.com']);
    expect(gone.code).toBe(1);
    expect(cluster.store.count('example.com/widgets')).toBe(0);
  });

  it('applies the Istio networking samples after installing minimal Istio CRDs; get matches the documented shape', async () => {
    const crds = [
      istioCRD('virtualservices', 'VirtualService', ['vs'], [
        { name: 'Gateways', type: 'string', jsonPath: '.spec.gateways', description: 'The names of gateways and sidecars that should apply these routes' },
        { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'The destination hosts to which traffic is being sent' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ]),
      istioCRD('destinationrules', 'DestinationRule', ['dr'], [
        { name: 'Host', type: 'string', jsonPath: '.spec.host', description: 'The name of a service from the service registry' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ]),
      istioCRD('gateways', 'Gateway', ['gw'], []),
    ];
    await ok(['apply', '-f', '-'], crds.map((c) => YAML.stringify(c)).join('---\n'));
    const gw = await ok(['apply', '-f', `${REF}/samples/bookinfo-gateway.yaml`]);
    expect(gw).toContain('gateway.networking.istio.io/bookinfo-gateway created');
    expect(gw).toContain('virtualservice.networking.istio.io/bookinfo created');
    await ok(['apply', '-f', `${REF}/samples/destination-rule-all.yaml`]);
    await ok(['apply', '-f', `${REF}/samples/virtual-service-all-v1.yaml`]);

    const doc = await readFile(`${REF}/doc_outputs.md`, 'utf8');
    const section = (cmd: string, rows: number) => {
      const lines = doc.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`$ kubectl get ${cmd} `) && l.includes('# columns'));
      return lines.slice(at + 1, at + 1 + rows);
    };
    const documentedVS = section('virtualservices', 6);
    const vs = (await ok(['get', 'virtualservices'])).trimEnd().split('\n');
    const shape = (l: string) => l.replace(/\d+[smhd]$/, 'AGE').split(/\s{2,}/);
    expect(vs.map(shape)).toEqual(documentedVS.map(shape));
    const dr = (await ok(['get', 'destinationrules'])).trimEnd().split('\n');
    const documentedDR = section('destinationrules', 5);
    expect(dr.map(shape)).toEqual(documentedDR.map(shape));
    expect(await ok(['get', 'gw'])).toMatch(/^NAME\s+AGE\nbookinfo-gateway\s+\d+s\n$/);
    const y = await ok(['get', 'virtualservice', 'reviews', '-o', 'yaml']);
    expect(y).toContain('apiVersion: networking.istio.io/v1\n');
    expect(await ok(['get', 'vs', 'reviews', '-o', 'jsonpath={.spec.http[0].route[0].destination.subset}'])).toBe('v1');
  });
});
