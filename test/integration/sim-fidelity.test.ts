/**
 * Fidelity of the embedded cluster's write and list paths, judged by the real kubectl 1.32 and
 * @kubernetes/client-node: what happens to unknown and mistyped fields under each fieldValidation
 * directive, custom resources against their CRD schema, field ownership of custom resources and
 * subresources, PUT that creates, re-applying Bookinfo, and list/watch resourceVersion rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import YAML from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { REFERENCE_DIR } from '../helpers/reference.js';
import { kubectlIn } from '../helpers/kubectl.js';

const REF = REFERENCE_DIR;
let cluster: EmbeddedCluster;
let dir: string;
let kc: k8s.KubeConfig;



const { kubectl, ok } = kubectlIn(() => dir);

async function failure(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (e) {
    const ex = e as k8s.ApiException<string>;
    return { code: ex.code, body: typeof ex.body === 'string' ? JSON.parse(ex.body) : ex.body };
  }
  throw new Error('expected the request to fail');
}

const deployment = (name: string, spec: Record<string, unknown> = {}) =>
  YAML.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      ...spec,
    },
  });

const VS_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'virtualservices.networking.istio.io' },
  spec: {
    group: 'networking.istio.io',
    scope: 'Namespaced',
    names: { plural: 'virtualservices', singular: 'virtualservice', kind: 'VirtualService', listKind: 'VirtualServiceList', shortNames: ['vs'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  hosts: { type: 'array', items: { type: 'string' } },
                  http: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        name: { type: 'string' },
                        route: {
                          type: 'array',
                          items: {
                            type: 'object',
                            properties: {
                              destination: { type: 'object', required: ['host'], properties: { host: { type: 'string' }, subset: { type: 'string' } } },
                              weight: { type: 'integer', format: 'int32' },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
              status: { type: 'object', properties: { observedGeneration: { type: 'integer' }, message: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

/** A CRD whose list is a map keyed by name: only its schema lets two appliers share the list. */
const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  parts: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['name'],
                    items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, size: { type: 'integer' } } },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-fidelity-'));
  cluster = await EmbeddedCluster.start({ watchHistory: 200 });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  await ok(['apply', '-f', '-'], YAML.stringify(VS_CRD) + '---\n' + YAML.stringify(WIDGET_CRD));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fieldValidation', () => {
  it('drops an unknown field under --validate=warn (with the warning) and =false, so a later strict apply of the fixed manifest succeeds', async () => {
    const typo = deployment('typo', { replicass: 2 });
    const warned = await kubectl(['apply', '--validate=warn', '-f', '-'], typo);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('Warning: unknown field "spec.replicass"');
    const stored = JSON.parse(await ok(['get', 'deploy', 'typo', '-o', 'json']));
    expect(stored.spec).not.toHaveProperty('replicass');

    await ok(['create', '--validate=false', '-f', '-'], deployment('typo2', { replicass: 2 }));
    const stored2 = JSON.parse(await ok(['get', 'deploy', 'typo2', '-o', 'json']));
    expect(stored2.spec).not.toHaveProperty('replicass');
    expect(stored2.spec.replicas).toBe(1);

    // A strict server-side apply of the corrected manifest merges with what is stored, which
    // must not carry the typo any more.
    const fixed = await kubectl(['apply', '--server-side', '--validate=strict', '-f', '-'], deployment('typo2'));
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toBe('deployment.apps/typo2 serverside-applied\n');
  });

  it('refuses a mistyped value whatever the directive, Ignore included, and stores nothing', async () => {
    const r = await kubectl(['create', '--validate=false', '-f', '-'], deployment('mistyped', { replicas: 'three' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    const get = await kubectl(['get', 'deploy', 'mistyped']);
    expect(get.stderr).toContain('deployments.apps "mistyped" not found');
  });

  it('words a strict patch with an unknown field as kube-apiserver does, and changes nothing', async () => {
    await ok(['create', 'configmap', 'patched', '--from-literal=k=v']);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const strategic = await failure(
      core.patchNamespacedConfigMap({ name: 'patched', namespace: 'default', body: { data: { k: 'w' }, dataa: { x: 'y' } }, fieldValidation: 'Strict' }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch)),
    );
    // errors.NewInvalid(schema.GroupKind{}, "", …): kubectl renders it "The request is invalid: patch: …".
    expect(strategic.code).toBe(422);
    expect(strategic.body.message).toBe(' "" is invalid: patch: Invalid value: "map[data:map[k:w] dataa:map[x:y]]": strict decoding error: unknown field "dataa"');
    expect(strategic.body.details).toMatchObject({ kind: '', name: '', causes: [{ reason: 'FieldValueInvalid', field: 'patch' }] });
    const merge = await failure(
      core.patchNamespacedConfigMap({ name: 'patched', namespace: 'default', body: { dataa: { x: 'y' } }, fieldValidation: 'Strict' }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
    );
    expect(merge.code).toBe(422);
    expect(merge.body.message).toMatch(/^ "" is invalid: patch: Invalid value: "\{.*\}": strict decoding error: unknown field "dataa"$/);
    expect((await core.readNamespacedConfigMap({ name: 'patched', namespace: 'default' })).data).toEqual({ k: 'v' });
    // Under the default (Warn) the patch applies, the unknown field is reported and dropped.
    const r = await kubectl(['patch', 'configmap', 'patched', '--type=merge', '-p', '{"data":{"k":"w"},"dataa":{"x":"y"}}']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: unknown field "dataa"');
    const after = JSON.parse(await ok(['get', 'cm', 'patched', '-o', 'json']));
    expect(after.data).toEqual({ k: 'w' });
    expect(after).not.toHaveProperty('dataa');
  });
});

describe('custom resources against their CRD schema', () => {
  const vs = (route: unknown) => YAML.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews' }, spec: { hosts: ['reviews'], http: [{ route }] } });

  it('refuses a value of the wrong type on create, apply and patch with kube-apiserver\'s message', async () => {
    const created = await kubectl(['create', '-f', '-'], vs('v1'));
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('The VirtualService "reviews" is invalid: spec.http[0].route: Invalid value: "string": spec.http[0].route in body must be of type array: "string"');
    const good = await kubectl(['apply', '-f', '-'], vs([{ destination: { host: 'reviews', subset: 'v1' } }]));
    expect(good.stdout).toBe('virtualservice.networking.istio.io/reviews created\n');
    const applied = await kubectl(['apply', '-f', '-'], vs([{ destination: { subset: 'v1' }, weight: 'all' }]));
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('The VirtualService "reviews" is invalid: ');
    expect(applied.stderr).toContain('spec.http[0].route[0].destination.host: Required value');
    expect(applied.stderr).toContain('spec.http[0].route[0].weight: Invalid value: "string": spec.http[0].route[0].weight in body must be of type integer: "string"');
    const patched = await kubectl(['patch', 'vs', 'reviews', '--type=merge', '-p', '{"spec":{"hosts":"reviews"}}']);
    expect(patched.code).toBe(1);
    expect(patched.stderr).toContain('The VirtualService "reviews" is invalid: spec.hosts: Invalid value: "string": spec.hosts in body must be of type array: "string"');
    const stored = JSON.parse(await ok(['get', 'vs', 'reviews', '-o', 'json']));
    expect(stored.spec.hosts).toEqual(['reviews']);
    expect(stored.spec.http[0].route).toEqual([{ destination: { host: 'reviews', subset: 'v1' } }]);
    // A valid change through client-side apply (a merge patch: CRDs have no strategic merge).
    const changed = vs([{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews', subset: 'v3' }, weight: 50 }]);
    expect(await ok(['apply', '-f', '-'], changed)).toBe('virtualservice.networking.istio.io/reviews configured\n');
    expect(await ok(['apply', '-f', '-'], changed)).toBe('virtualservice.networking.istio.io/reviews unchanged\n');
  });

  it('owns list items by their map keys from the CRD schema: two appliers share a list without conflict', async () => {
    const widget = (part: string, size: number) => YAML.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { parts: [{ name: part, size }] } });
    await ok(['apply', '--server-side', '--field-manager=alice', '-f', '-'], widget('a', 1));
    const bob = await kubectl(['apply', '--server-side', '--field-manager=bob', '-f', '-'], widget('b', 2));
    expect(bob.stderr).toBe('');
    const stored = JSON.parse(await ok(['get', 'widget', 'w', '-o', 'json', '--show-managed-fields']));
    expect(stored.spec.parts).toEqual([{ name: 'a', size: 1 }, { name: 'b', size: 2 }]);
    const bobFields = stored.metadata.managedFields.find((m: any) => m.manager === 'bob');
    expect(Object.keys(bobFields.fieldsV1['f:spec']['f:parts'])).toEqual(['k:{"name":"b"}']);
    // Changing alice's item is a conflict with alice, named by its key.
    const steal = await kubectl(['apply', '--server-side', '--field-manager=bob', '-f', '-'], widget('a', 5));
    expect(steal.code).toBe(1);
    expect(steal.stderr).toContain('conflict with "alice"');
    expect(steal.stderr).toContain('.spec.parts[name="a"].size');
  });

  it('records a server-side apply on /status as owned through the status subresource', async () => {
    const status = YAML.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews' }, status: { message: 'ok' } });
    const out = await ok(['apply', '--server-side', '--subresource=status', '--field-manager=istiod', '-f', '-'], status);
    expect(out).toBe('virtualservice.networking.istio.io/reviews serverside-applied\n');
    const stored = JSON.parse(await ok(['get', 'vs', 'reviews', '-o', 'json', '--show-managed-fields']));
    expect(stored.status).toEqual({ message: 'ok' });
    const entry = stored.metadata.managedFields.find((m: any) => m.manager === 'istiod');
    expect(entry).toMatchObject({ operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:message': {} } } });
  });

  it('records kubectl scale as an update of the scale subresource', async () => {
    await ok(['create', 'deployment', 'scaled', '--image=nginx']);
    expect(await ok(['scale', 'deployment', 'scaled', '--replicas=3'])).toBe('deployment.apps/scaled scaled\n');
    const stored = JSON.parse(await ok(['get', 'deploy', 'scaled', '-o', 'json', '--show-managed-fields']));
    expect(stored.spec.replicas).toBe(3);
    const entry = stored.metadata.managedFields.find((m: any) => m.subresource === 'scale');
    expect(entry).toMatchObject({ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
  });
});

describe('kubectl replace of a missing object', () => {
  it('creates a Role, RoleBinding or Lease (AllowCreateOnUpdate), and is NotFound for a ConfigMap', async () => {
    const role = YAML.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] });
    expect(await ok(['replace', '-f', '-'], role)).toBe('role.rbac.authorization.k8s.io/reader replaced\n');
    expect(await ok(['get', 'role', 'reader', '-o', 'jsonpath={.rules[0].verbs[0]}'])).toBe('get');
    const lease = YAML.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader' }, spec: { holderIdentity: 'me' } });
    expect(await ok(['replace', '-f', '-'], lease)).toBe('lease.coordination.k8s.io/leader replaced\n');
    const cm = YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'absent' }, data: { k: 'v' } });
    const r = await kubectl(['replace', '-f', '-'], cm);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error from server (NotFound): error when replacing "STDIN": configmaps "absent" not found\n');
  });
});

describe('re-applying Bookinfo', () => {
  it('says unchanged for every object the second time, configured for a changed copy whose removed field is gone', async () => {
    await ok(['create', 'namespace', 'bookinfo']);
    const first = await ok(['apply', '-n', 'bookinfo', '-f', `${REF}/samples/bookinfo.yaml`]);
    const lines = first.trim().split('\n');
    expect(lines.every((l) => l.endsWith(' created'))).toBe(true);
    const second = await ok(['apply', '-n', 'bookinfo', '-f', `${REF}/samples/bookinfo.yaml`]);
    expect(second.trim().split('\n')).toEqual(lines.map((l) => l.replace(/ created$/, ' unchanged')));

    const docs = YAML.parseAllDocuments(await readFile(`${REF}/samples/bookinfo.yaml`, 'utf8')).map((d) => d.toJS());
    const ratings = docs.find((d) => d?.kind === 'Deployment' && d.metadata.name === 'ratings-v1');
    const productpage = docs.find((d) => d?.kind === 'Deployment' && d.metadata.name === 'productpage-v1');
    expect(ratings.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 9080 }]);
    delete ratings.spec.template.spec.containers[0].ports;
    const env = productpage.spec.template.spec.containers[0].env ?? [];
    productpage.spec.template.spec.containers[0].env = [...env, { name: 'LOG_LEVEL', value: 'debug' }];
    const changed = join(dir, 'bookinfo-changed.yaml');
    await writeFile(changed, docs.filter(Boolean).map((d) => YAML.stringify(d)).join('---\n'));
    const third = await ok(['apply', '-n', 'bookinfo', '-f', changed]);
    const verdicts = Object.fromEntries(third.trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(verdicts['deployment.apps/ratings-v1']).toBe('configured');
    expect(verdicts['deployment.apps/productpage-v1']).toBe('configured');
    expect(verdicts['deployment.apps/details-v1']).toBe('unchanged');
    expect(verdicts['service/productpage']).toBe('unchanged');
    const live = JSON.parse(await ok(['get', 'deploy', 'ratings-v1', '-n', 'bookinfo', '-o', 'json']));
    expect(live.spec.template.spec.containers[0]).not.toHaveProperty('ports');
    const pp = JSON.parse(await ok(['get', 'deploy', 'productpage-v1', '-n', 'bookinfo', '-o', 'json']));
    expect(pp.spec.template.spec.containers[0].env).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
  });
});

describe('OpenAPI documents', () => {
  it('are immutable under their hashed URL, so a second kubectl apply does not download them again', async () => {
    const cm = YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'oa' }, data: { k: 'v' } });
    const paths: string[] = [];
    cluster.apiserver.onRequestDone = ({ path }) => paths.push(path);
    try {
      await ok(['apply', '-f', '-'], cm);
      await ok(['apply', '-f', '-'], cm.replace('k: v', 'k: w'));
      paths.length = 0;
      expect(await ok(['apply', '-f', '-'], cm.replace('k: v', 'k: x'))).toBe('configmap/oa configured\n');
    } finally {
      cluster.apiserver.onRequestDone = undefined;
    }
    expect(paths).not.toContain('/openapi/v3/api/v1');
    // A stale hash is redirected to the current document, as kube-openapi does.
    const doc = JSON.parse(await ok(['get', '--raw', '/openapi/v3/api/v1?hash=STALE']));
    expect(doc.components.schemas).toHaveProperty(['io.k8s.api.core.v1.ConfigMap']);
  });
});

describe('list and watch resourceVersion semantics', () => {
  it('lists exactly at a past version, not older than a version, and refuses too old or future versions', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const ns = 'rv';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'one' }, data: { v: '1' } } });
    const at = (await core.listNamespacedConfigMap({ namespace: ns })).metadata!.resourceVersion!;
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'two' } } });
    await core.patchNamespacedConfigMap({ name: 'one', namespace: ns, body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: ns });

    const mine = (l: k8s.V1ConfigMapList) => l.items.filter((c) => c.metadata!.name !== 'kube-root-ca.crt');
    const exact = await core.listNamespacedConfigMap({ namespace: ns, resourceVersion: at, resourceVersionMatch: 'Exact' });
    expect(exact.metadata!.resourceVersion).toBe(at);
    expect(mine(exact).map((c) => [c.metadata!.name, c.data?.v])).toEqual([['one', '1']]);
    // A version with a limit (and no match) is an exact read too, as a paginated list's first page.
    const paged = await core.listNamespacedConfigMap({ namespace: ns, resourceVersion: at, limit: 10 });
    expect(mine(paged).map((c) => c.metadata!.name)).toEqual(['one']);

    const notOlder = await core.listNamespacedConfigMap({ namespace: ns, resourceVersion: at, resourceVersionMatch: 'NotOlderThan' });
    expect(mine(notOlder).map((c) => c.metadata!.name)).toEqual(['two']);
    expect(Number(notOlder.metadata!.resourceVersion)).toBeGreaterThan(Number(at));
    expect(mine(await core.listNamespacedConfigMap({ namespace: ns, resourceVersion: '0' })).map((c) => c.metadata!.name)).toEqual(['two']);

    const future = await failure(core.listNamespacedConfigMap({ namespace: ns, resourceVersion: String(Number(at) + 1_000_000), resourceVersionMatch: 'NotOlderThan' }));
    expect(future.code).toBe(504);
    expect(future.body.reason).toBe('Timeout');
    expect(future.body.message).toMatch(/^Timeout: Too large resource version: \d+, current: \d+$/);

    const invalid = await failure(core.listNamespacedConfigMap({ namespace: ns, resourceVersionMatch: 'Exact' }));
    expect(invalid.code).toBe(422);
    expect(invalid.body.message).toBe('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    const zero = await failure(core.listNamespacedConfigMap({ namespace: ns, resourceVersion: '0', resourceVersionMatch: 'Exact' }));
    expect(zero.body.message).toContain('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');

    // watchHistory is 200 events: enough writes push the version out of reach.
    for (let i = 0; i < 220; i++) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `filler-${i}` } } });
    const old = await failure(core.listNamespacedConfigMap({ namespace: ns, resourceVersion: at, resourceVersionMatch: 'Exact' }));
    expect(old.code).toBe(410);
    expect(old.body).toMatchObject({ reason: 'Expired', message: 'The resourceVersion for the provided list is too old.' });
  });

  it('serves a WatchList (sendInitialEvents): the current objects, then the initial-events-end bookmark, then changes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'wl' } } });
    await core.createNamespacedConfigMap({ namespace: 'wl', body: { metadata: { name: 'before' } } });
    const events: { type: string; name?: string; annotations?: Record<string, string> }[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      '/api/v1/namespaces/wl/configmaps',
      { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true },
      (type, obj) => events.push({ type, name: obj.metadata?.name, annotations: obj.metadata?.annotations }),
      () => {},
    );
    try {
      await vitestEventually(() => expect(events.some((e) => e.type === 'BOOKMARK')).toBe(true));
      await core.createNamespacedConfigMap({ namespace: 'wl', body: { metadata: { name: 'after' } } });
      await vitestEventually(() => expect(events.some((e) => e.name === 'after')).toBe(true));
    } finally {
      req.abort();
    }
    expect(events.filter((e) => e.name !== 'kube-root-ca.crt').map((e) => [e.type, e.name ?? ''])).toEqual([
      ['ADDED', 'before'],
      ['BOOKMARK', ''],
      ['ADDED', 'after'],
    ]);
    expect(events.find((e) => e.type === 'BOOKMARK')!.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });

    // Without resourceVersionMatch=NotOlderThan kube-apiserver refuses the WatchList request.
    const refused = await new Promise<unknown>((resolve) => {
      void watch.watch('/api/v1/namespaces/wl/configmaps', { sendInitialEvents: true }, () => {}, resolve).catch(resolve);
    });
    expect(String((refused as Error)?.message ?? refused)).toMatch(/422|Unprocessable/);
  });
});

async function vitestEventually(fn: () => void, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('changing a Service type to ClusterIP', () => {
  const svc = (name: string, type: string, extra: Record<string, unknown> = {}) =>
    YAML.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type, selector: { app: name }, ports: [{ port: 80 }], ...extra } });
  const spec = async (name: string) => JSON.parse(await ok(['get', 'svc', name, '-o', 'json'])).spec;

  it('drops the allocated node ports and LoadBalancer fields on patch, apply and replace, and frees the port', async () => {
    await ok(['create', '-f', '-'], svc('np', 'NodePort'));
    const port = (await spec('np')).ports[0].nodePort;
    expect(port).toBeGreaterThanOrEqual(30000);
    const r = await kubectl(['patch', 'svc', 'np', '-p', '{"spec":{"type":"ClusterIP"}}']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('service/np patched\n');
    const after = await spec('np');
    expect(after.type).toBe('ClusterIP');
    expect(after.ports[0]).not.toHaveProperty('nodePort');
    expect(after).not.toHaveProperty('externalTrafficPolicy');
    // The port is free again: another Service may ask for it.
    await ok(['create', '-f', '-'], svc('np-taker', 'NodePort', { ports: [{ port: 80, nodePort: port }] }));

    await ok(['create', '-f', '-'], svc('lb', 'LoadBalancer'));
    expect(await spec('lb')).toMatchObject({ allocateLoadBalancerNodePorts: true, externalTrafficPolicy: 'Cluster' });
    const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], svc('lb', 'ClusterIP'));
    expect(applied.stderr).toBe('');
    const lb = await spec('lb');
    expect(lb.type).toBe('ClusterIP');
    expect(lb.ports[0]).not.toHaveProperty('nodePort');
    expect(lb).not.toHaveProperty('allocateLoadBalancerNodePorts');
    expect(lb).not.toHaveProperty('externalTrafficPolicy');

    // kubectl replace of the fetched object with only the type changed.
    await ok(['create', '-f', '-'], svc('np2', 'NodePort'));
    const got = JSON.parse(await ok(['get', 'svc', 'np2', '-o', 'json']));
    got.spec.type = 'ClusterIP';
    await ok(['replace', '-f', '-'], JSON.stringify(got));
    expect((await spec('np2')).ports[0]).not.toHaveProperty('nodePort');
  });

  it('still refuses a node port the same request asks for anew', async () => {
    await ok(['create', '-f', '-'], svc('np3', 'NodePort'));
    const r = await kubectl(['patch', 'svc', 'np3', '--type=json', '-p', '[{"op":"replace","path":"/spec/type","value":"ClusterIP"},{"op":"replace","path":"/spec/ports/0/nodePort","value":32100}]']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
  });
});
