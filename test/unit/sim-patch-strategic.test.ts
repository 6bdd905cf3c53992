import { describe, expect, it } from 'vitest';
import { ApiError } from '../../server/sim/errors.js';
import { applyStrategicMergePatch, supportsStrategicMerge } from '../../server/sim/registry/patch/index.js';
import type { Schema } from '../../server/sim/registry/patch/merge-schema.js';
import { strategicMergeWithSchema } from '../../server/sim/registry/patch/strategic-merge.js';
import type { GroupVersionKind, KubeObject } from '../../server/sim/types.js';

const apps = (kind: string): GroupVersionKind => ({ group: 'apps', version: 'v1', kind });
const core = (kind: string): GroupVersionKind => ({ group: '', version: 'v1', kind });

type Container = { name: string; image?: string; env?: { name: string; value?: string }[]; ports?: { containerPort: number; name?: string; protocol?: string }[]; volumeMounts?: { name: string; mountPath: string }[] };
type PodSpec = { containers: Container[]; tolerations?: unknown[]; volumes?: Record<string, unknown>[]; initContainers?: Container[] };
const podSpec = (o: KubeObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;

/** The Deployment of the "Update API Objects in Place Using kubectl patch" task. */
const patchDemo = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'patch-demo', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { labels: { app: 'nginx' } },
      spec: {
        containers: [{ name: 'patch-demo-ctr', image: 'nginx' }],
        tolerations: [{ effect: 'NoSchedule', key: 'dedicated', value: 'test-team' }],
      },
    },
  },
});

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('strategic merge patch: the kubectl patch task page', () => {
  it('merges containers by name; the patched container comes first, as the task page shows', () => {
    const out = applyStrategicMergePatch(patchDemo(), { spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }] } } } }, apps('Deployment'));
    expect(podSpec(out).containers).toEqual([
      { name: 'patch-demo-ctr-2', image: 'redis' },
      { name: 'patch-demo-ctr', image: 'nginx' },
    ]);
    expect((out.spec as { replicas: number }).replicas).toBe(2);
  });

  it('replaces tolerations, which have no patch strategy', () => {
    const out = applyStrategicMergePatch(patchDemo(), { spec: { template: { spec: { tolerations: [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }] } } } }, apps('Deployment'));
    expect(podSpec(out).tolerations).toEqual([{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }]);
  });

  const retainKeysDemo = (): KubeObject => ({
    ...patchDemo(),
    metadata: { name: 'retainkeys-demo' },
    spec: { ...(patchDemo().spec as object), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '30%' } } },
  });

  it('$retainKeys clears the keys it does not list (strategy.rollingUpdate)', () => {
    const out = applyStrategicMergePatch(retainKeysDemo(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, apps('Deployment'));
    expect((out.spec as { strategy: unknown }).strategy).toEqual({ type: 'Recreate' });
  });

  it('without $retainKeys the old rollingUpdate stays (why the task needs the directive)', () => {
    const out = applyStrategicMergePatch(retainKeysDemo(), { spec: { strategy: { type: 'Recreate' } } }, apps('Deployment'));
    expect((out.spec as { strategy: unknown }).strategy).toEqual({ type: 'Recreate', rollingUpdate: { maxSurge: '30%' } });
  });

  it('refuses patch keys missing from $retainKeys with 400', () => {
    const err = thrown(() => applyStrategicMergePatch(retainKeysDemo(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }, apps('Deployment')));
    expect(err.code).toBe(400);
    expect(err.message).toBe('invalid patch format of retainKeys');
  });
});

describe('strategic merge patch: merge keys of built-in kinds', () => {
  const web = (): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', finalizers: ['a/one', 'b/two'] },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'app:1',
              env: [
                { name: 'MODE', value: 'dev' },
                { name: 'LOG', value: 'info' },
              ],
              ports: [{ containerPort: 8080, name: 'http' }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      },
    },
  });

  it('merges env by name, ports by containerPort and volumeMounts by mountPath inside a container', () => {
    const out = applyStrategicMergePatch(
      web(),
      {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'app',
                  env: [{ name: 'MODE', value: 'prod' }],
                  ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 9090, name: 'metrics' }],
                  volumeMounts: [{ name: 'data2', mountPath: '/data' }],
                },
              ],
            },
          },
        },
      },
      apps('Deployment'),
    );
    const app = podSpec(out).containers[0];
    expect(app.image).toBe('app:1');
    expect(app.env).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'LOG', value: 'info' },
    ]);
    expect(app.ports).toEqual([
      { containerPort: 8080, name: 'http', protocol: 'TCP' },
      { containerPort: 9090, name: 'metrics' },
    ]);
    expect(app.volumeMounts).toEqual([{ name: 'data2', mountPath: '/data' }]);
  });

  it('volumes merge by name and honour $retainKeys (switching a volume source)', () => {
    const out = applyStrategicMergePatch(
      web(),
      { spec: { template: { spec: { volumes: [{ name: 'data', $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' } }] } } } },
      apps('Deployment'),
    );
    expect(podSpec(out).volumes).toEqual([{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('$patch: delete removes one container by merge key', () => {
    const two = applyStrategicMergePatch(web(), { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 's' }] } } } }, apps('Deployment'));
    const out = applyStrategicMergePatch(two, { spec: { template: { spec: { containers: [{ name: 'app', $patch: 'delete' }] } } } }, apps('Deployment'));
    expect(podSpec(out).containers.map((c) => c.name)).toEqual(['sidecar']);
  });

  it('$patch: replace inside a list replaces the whole list', () => {
    const out = applyStrategicMergePatch(web(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } }, apps('Deployment'));
    expect(podSpec(out).containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('$patch: replace on a map replaces it; $patch: delete empties it', () => {
    const labelled = { ...web(), metadata: { name: 'web', labels: { a: '1', b: '2' } } };
    const replaced = applyStrategicMergePatch(labelled, { metadata: { labels: { $patch: 'replace', c: '3' } } }, apps('Deployment'));
    expect(replaced.metadata.labels).toEqual({ c: '3' });
    // Inside a list, `$patch: replace` on any item means "the list is the other items" (apimachinery).
    const listReplaced = applyStrategicMergePatch(web(), { spec: { template: { spec: { containers: [{ name: 'app', $patch: 'replace', image: 'app:2' }] } } } }, apps('Deployment'));
    expect(podSpec(listReplaced).containers).toEqual([]);
    const emptied = applyStrategicMergePatch(web(), { spec: { template: { $patch: 'delete' } } }, apps('Deployment'));
    expect((emptied.spec as { template: unknown }).template).toEqual({});
  });

  it('$patch: merge on a map is an error, as apimachinery reports it', () => {
    const err = thrown(() => applyStrategicMergePatch(web(), { metadata: { $patch: 'merge' } }, apps('Deployment')));
    expect(err.code).toBe(500);
    expect(err.message).toBe('unknown patch type: merge in map: map[$patch:merge]');
  });

  it('finalizers merge as a set; $deleteFromPrimitiveList removes entries', () => {
    const added = applyStrategicMergePatch(web(), { metadata: { finalizers: ['b/two', 'c/three'] } }, apps('Deployment'));
    expect(added.metadata.finalizers).toEqual(['a/one', 'b/two', 'c/three']);
    const removed = applyStrategicMergePatch(added, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a/one'] } }, apps('Deployment'));
    expect(removed.metadata.finalizers).toEqual(['b/two', 'c/three']);
  });

  it('a null deletes a field; a null for a field that does not exist is ignored', () => {
    const out = applyStrategicMergePatch(web(), { metadata: { finalizers: null, annotations: { x: null, y: 'z' } } }, apps('Deployment'));
    expect(out.metadata).not.toHaveProperty('finalizers');
    expect(out.metadata.annotations).toEqual({ y: 'z' });
  });

  it('an item missing its merge key is refused with apimachinery\'s message', () => {
    const err = thrown(() => applyStrategicMergePatch(web(), { spec: { template: { spec: { containers: [{ image: 'nginx' }] } } } }, apps('Deployment')));
    expect(err.code).toBe(500);
    expect(err.message).toBe('map: map[image:nginx] does not contain declared merge key: name');
  });

  it('lists of lists are refused with 422', () => {
    const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', finalizers: [] }, data: {} };
    const err = thrown(() => applyStrategicMergePatch(obj, { metadata: { '$deleteFromPrimitiveList/finalizers': [['a']], finalizers: [['a']] } }, core('ConfigMap')));
    expect(err.code).toBe(422);
  });

  it('Service ports merge by port', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'productpage' },
      spec: { type: 'ClusterIP', selector: { app: 'productpage' }, ports: [{ port: 9080, name: 'http', targetPort: 9080, protocol: 'TCP' }] },
    };
    const out = applyStrategicMergePatch(svc, { spec: { type: 'NodePort', ports: [{ port: 9080, nodePort: 30080 }] } }, core('Service'));
    expect(out.spec).toEqual({
      type: 'NodePort',
      selector: { app: 'productpage' },
      ports: [{ port: 9080, name: 'http', targetPort: 9080, protocol: 'TCP', nodePort: 30080 }],
    });
  });

  it('ConfigMap data merges key by key', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    const out = applyStrategicMergePatch(cm, { data: { b: null, c: '3' } }, core('ConfigMap'));
    expect(out.data).toEqual({ a: '1', c: '3' });
  });

  it('RBAC rules are replaced whole', () => {
    const role: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'r' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    };
    const out = applyStrategicMergePatch(role, { rules: [{ apiGroups: [''], resources: ['services'], verbs: ['list'] }] }, { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' });
    expect(out.rules).toEqual([{ apiGroups: [''], resources: ['services'], verbs: ['list'] }]);
  });

  it('ownerReferences merge by uid and node conditions by type', () => {
    const node: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'a', uid: 'u1' }] },
      status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'DiskPressure', status: 'False' }] },
    };
    const out = applyStrategicMergePatch(
      node,
      { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Y', name: 'b', uid: 'u2' }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      core('Node'),
    );
    expect(out.metadata.ownerReferences?.map((o) => o.uid)).toEqual(['u2', 'u1']);
    expect((out.status as { conditions: unknown }).conditions).toEqual([
      { type: 'Ready', status: 'True' },
      { type: 'DiskPressure', status: 'False' },
    ]);
  });

  it('strips directives from values it copies in whole', () => {
    const out = applyStrategicMergePatch(
      web(),
      { spec: { template: { spec: { initContainers: [{ name: 'init', image: 'busybox', env: [{ name: 'X', $patch: 'delete' }], '$setElementOrder/env': [{ name: 'X' }] }] } } } },
      apps('Deployment'),
    );
    expect(podSpec(out).initContainers).toEqual([{ name: 'init', image: 'busybox', env: [] }]);
  });

  it('a value of another type replaces the old one', () => {
    const out = applyStrategicMergePatch(web(), { spec: { template: 'oops' } }, apps('Deployment'));
    expect((out.spec as { template: unknown }).template).toBe('oops');
  });
});

describe('strategic merge patch: list order with $setElementOrder (what kubectl apply sends)', () => {
  const schema: Schema = {
    kind: 'struct',
    fields: {
      items: { kind: 'list', smp: 'merge', mergeKey: 'id', ssa: 'map', keys: ['id'] },
      numbers: { kind: 'list', smp: 'merge', ssa: 'set' },
    },
  };
  const ids = (o: Record<string, unknown>) => (o.items as { id: string }[]).map((i) => i.id);

  it('puts a new item where the order list says and keeps fields the server added', () => {
    const live = { items: [{ id: 'a', server: 1 }, { id: 'b' }] };
    const out = strategicMergeWithSchema(live, { '$setElementOrder/items': [{ id: 'c' }, { id: 'a' }, { id: 'b' }], items: [{ id: 'c', v: 3 }] }, schema);
    expect(out.items).toEqual([{ id: 'c', v: 3 }, { id: 'a', server: 1 }, { id: 'b' }]);
  });

  it('reorders applied items and keeps server-only items after the item they followed', () => {
    const live = { items: [{ id: 'p' }, { id: 'q' }, { id: 'extra' }, { id: 'r' }, { id: 's' }] };
    const out = strategicMergeWithSchema(live, { '$setElementOrder/items': [{ id: 'q' }, { id: 'p' }, { id: 's' }, { id: 'r' }] }, schema);
    expect(ids(out)).toEqual(['q', 'p', 'extra', 's', 'r']);
  });

  it('keeps server-only items at the end when they came last', () => {
    const live = { items: [{ id: 'p' }, { id: 'r' }, { id: 's' }, { id: 'q' }, { id: 'late' }] };
    const out = strategicMergeWithSchema(live, { '$setElementOrder/items': [{ id: 's' }, { id: 'q' }, { id: 'r' }, { id: 'p' }] }, schema);
    expect(ids(out)).toEqual(['s', 'q', 'r', 'p', 'late']);
  });

  it('deletes and reorders in one patch', () => {
    const live = { items: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] };
    const out = strategicMergeWithSchema(live, { '$setElementOrder/items': [{ id: 'c' }, { id: 'a' }], items: [{ id: 'b', $patch: 'delete' }] }, schema);
    expect(ids(out)).toEqual(['c', 'a']);
  });

  it('orders primitive sets too', () => {
    const out = strategicMergeWithSchema({ numbers: [1, 2, 3] }, { '$setElementOrder/numbers': [3, 4, 1, 2], numbers: [4] }, schema);
    expect(out.numbers).toEqual([3, 4, 1, 2]);
  });

  it('refuses a patch list whose order contradicts the order list', () => {
    expect(() => strategicMergeWithSchema({ items: [] }, { '$setElementOrder/items': [{ id: 'a' }, { id: 'b' }], items: [{ id: 'b' }, { id: 'a' }] }, schema)).toThrow(/doesn't match \$setElementOrder list/);
  });
});

describe('strategic merge patch is for built-in kinds only', () => {
  it('knows built-in groups and refuses custom resources with the 415 kube-apiserver sends', () => {
    expect(supportsStrategicMerge(core('Pod'))).toBe(true);
    expect(supportsStrategicMerge(apps('Deployment'))).toBe(true);
    expect(supportsStrategicMerge({ group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' })).toBe(false);
    expect(supportsStrategicMerge({ group: 'gateway.networking.k8s.io', version: 'v1', kind: 'Gateway' })).toBe(false);
    const vs: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews' } };
    const err = thrown(() => applyStrategicMergePatch(vs, { spec: {} }, { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }));
    expect(err.code).toBe(415);
    expect(err.reason).toBe('UnsupportedMediaType');
    expect(err.message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });
});

describe('OpenAPI extensions from the merge table (what kubectl apply computes its patch from)', () => {
  it('describes merge keys, strategies and list types per definition', async () => {
    const { openAPIPatchExtensions } = await import('../../server/sim/registry/patch/index.js');
    expect(openAPIPatchExtensions('io.k8s.api.core.v1.PodSpec')?.containers).toEqual({
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
    expect(openAPIPatchExtensions('io.k8s.api.core.v1.PodSpec')?.volumes?.['x-kubernetes-patch-strategy']).toBe('merge,retainKeys');
    expect(openAPIPatchExtensions('io.k8s.api.core.v1.PodSpec')?.tolerations).toEqual({ 'x-kubernetes-list-type': 'atomic' });
    expect(openAPIPatchExtensions('io.k8s.api.apps.v1.DeploymentSpec')?.strategy).toEqual({ 'x-kubernetes-patch-strategy': 'retainKeys' });
    expect(openAPIPatchExtensions('io.k8s.api.core.v1.ServiceSpec')?.ports).toMatchObject({ 'x-kubernetes-patch-merge-key': 'port', 'x-kubernetes-list-map-keys': ['port', 'protocol'] });
    expect(openAPIPatchExtensions('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')?.finalizers).toEqual({ 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' });
    expect(openAPIPatchExtensions('io.k8s.api.core.v1.ConfigMap')).toBeUndefined();
  });
});
