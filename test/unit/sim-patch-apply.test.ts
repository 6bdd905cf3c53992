import { describe, expect, it } from 'vitest';
import { ApiError } from '../../server/sim/errors.js';
import { lastAppliedAnnotation, recordUpdate, schemaFromOpenAPI, serverSideApply } from '../../server/sim/registry/patch/index.js';
import type { GroupVersionKind, KubeObject, ManagedFieldsEntry } from '../../server/sim/types.js';

const deploymentGVK: GroupVersionKind = { group: 'apps', version: 'v1', kind: 'Deployment' };
const configMapGVK: GroupVersionKind = { group: '', version: 'v1', kind: 'ConfigMap' };
const t0 = new Date('2026-01-02T03:04:05.678Z');
const t1 = new Date('2026-01-02T04:00:00Z');

/** The nginx-deployment of the Server-Side Apply documentation. */
const nginx = (replicas = 3, image = 'nginx:1.14.2'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { labels: { app: 'nginx' } },
      spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }] },
    },
  },
});

/** What the store would hold: server-set metadata on top of the request. */
const stored = (o: KubeObject): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, namespace: 'default', uid: '1f0e', resourceVersion: '7', generation: 1, creationTimestamp: '2026-01-02T03:04:05Z' },
});

const entry = (o: KubeObject, manager: string, operation?: 'Apply' | 'Update'): ManagedFieldsEntry | undefined =>
  o.metadata.managedFields?.find((m) => m.manager === manager && (!operation || m.operation === operation));

function conflict(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a conflict');
}

const spec = (o: KubeObject) => o.spec as { replicas?: number; template: { spec: { containers: { name: string; image: string }[] } } };

describe('server-side apply: managedFields', () => {
  it('records an Apply entry with the FieldsV1 set kube-apiserver records for the docs example', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'test-cm', namespace: 'default', labels: { 'test-label': 'test' } }, data: { key: 'some value' } };
    const out = serverSideApply({ live: undefined, applied: cm, manager: 'kubectl', force: false, gvk: configMapGVK, now: t0 });
    expect(out.data).toEqual({ key: 'some value' });
    expect(out.metadata.managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        time: '2026-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:key': {} }, 'f:metadata': { 'f:labels': { 'f:test-label': {} } } },
      },
    ]);
  });

  it('keys containers by name and ports by containerPort+protocol (protocol defaulted), selector atomic', () => {
    const out = serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 });
    expect(entry(out, 'kubectl')?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': {
                '.': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
  });

  it('refuses managedFields in the applied configuration', () => {
    const applied = { ...nginx(), metadata: { name: 'x', managedFields: [{ manager: 'me' }] } };
    const err = conflict(() => serverSideApply({ live: undefined, applied, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    expect(err.code).toBe(400);
    expect(err.message).toBe('metadata.managedFields must be nil');
  });

  it('refuses a list item without its key, as a typed-object error', () => {
    const applied = { ...nginx(), spec: { template: { spec: { containers: [{ image: 'nginx' }] } } } };
    const err = conflict(() => serverSideApply({ live: undefined, applied, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      'failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
  });

  it('refuses duplicate keys in an associative list', () => {
    const applied = nginx();
    spec(applied).template.spec.containers.push({ name: 'nginx', image: 'other' });
    const err = conflict(() => serverSideApply({ live: undefined, applied, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    expect(err.code).toBe(400);
    expect(err.message).toBe('failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="nginx"]');
  });

  it('a no-op re-apply keeps the entry time; a change refreshes it', () => {
    const live = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const same = serverSideApply({ live, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(entry(same, 'kubectl')?.time).toBe('2026-01-02T03:04:05Z');
    const changed = serverSideApply({ live, applied: nginx(4), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(entry(changed, 'kubectl')?.time).toBe('2026-01-02T04:00:00Z');
    expect(spec(changed).replicas).toBe(4);
    expect(changed.metadata.uid).toBe('1f0e');
  });
});

describe('server-side apply: conflicts', () => {
  it('a field changed by an Update manager conflicts, worded like kube-apiserver', () => {
    const created = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const hpa = recordUpdate({ live: created, updated: { ...created, spec: { ...(created.spec as object), replicas: 7 } }, manager: 'kube-controller-manager', gvk: deploymentGVK, now: t1 });
    expect(entry(hpa, 'kube-controller-manager', 'Update')?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect((entry(hpa, 'kubectl', 'Apply')?.fieldsV1 as { 'f:spec': Record<string, unknown> })['f:spec']).not.toHaveProperty('f:replicas');

    const err = conflict(() => serverSideApply({ live: hpa, applied: nginx(3), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 }));
    expect(err.code).toBe(409);
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas');
    expect(err.details).toEqual({
      causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kube-controller-manager" using apps/v1', field: '.spec.replicas' }],
    });
  });

  it('applying the value the other manager set shares the field instead of conflicting', () => {
    const created = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const hpa = recordUpdate({ live: created, updated: { ...created, spec: { ...(created.spec as object), replicas: 7 } }, manager: 'kube-controller-manager', gvk: deploymentGVK, now: t1 });
    const out = serverSideApply({ live: hpa, applied: nginx(7), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(entry(out, 'kubectl', 'Apply')?.fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(out, 'kube-controller-manager', 'Update')?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('force takes ownership and drops managers left with nothing', () => {
    const created = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const hpa = recordUpdate({ live: created, updated: { ...created, spec: { ...(created.spec as object), replicas: 7 } }, manager: 'kube-controller-manager', gvk: deploymentGVK, now: t1 });
    const out = serverSideApply({ live: hpa, applied: nginx(3), manager: 'kubectl', force: true, gvk: deploymentGVK, now: t1 });
    expect(spec(out).replicas).toBe(3);
    expect(entry(out, 'kube-controller-manager')).toBeUndefined();
    expect(out.metadata.managedFields).toHaveLength(1);
  });

  it('conflicts between two appliers name the other applier without an API version', () => {
    const first = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'alice', force: false, gvk: deploymentGVK, now: t0 }));
    const err = conflict(() => serverSideApply({ live: first, applied: nginx(3, 'nginx:1.27'), manager: 'bob', force: false, gvk: deploymentGVK, now: t1 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "alice": .spec.template.spec.containers[name="nginx"].image');
  });

  it('lists several conflicts per manager', () => {
    const first = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'alice', force: false, gvk: deploymentGVK, now: t0 }));
    const err = conflict(() => serverSideApply({ live: first, applied: nginx(5, 'nginx:1.27'), manager: 'bob', force: false, gvk: deploymentGVK, now: t1 }));
    expect(err.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
    expect(err.details?.causes?.map((c) => c.field)).toEqual(['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image']);
  });

  it('an object written before field tracking belongs to "before-first-apply"', () => {
    const untracked = stored(nginx());
    const err = conflict(() => serverSideApply({ live: untracked, applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { replicas: 1 } }, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  });
});

describe('server-side apply: removing what the applier no longer applies', () => {
  it('drops a label and a container the same manager applied before', () => {
    const twoContainers = nginx();
    spec(twoContainers).template.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    (twoContainers.metadata.labels as Record<string, string>).tier = 'web';
    const live = stored(serverSideApply({ live: undefined, applied: twoContainers, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const out = serverSideApply({ live, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(out.metadata.labels).toEqual({ app: 'nginx' });
    expect(spec(out).template.spec.containers.map((c) => c.name)).toEqual(['nginx']);
  });

  it('keeps what another manager also owns (sidecar injected by an Update, shared label)', () => {
    const live0 = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const injected = structuredClone(live0);
    spec(injected).template.spec.containers.push({ name: 'istio-proxy', image: 'proxyv2' });
    const live1 = recordUpdate({ live: live0, updated: injected, manager: 'sidecar-injector', gvk: deploymentGVK, now: t1 });
    const other = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } } };
    const live2 = serverSideApply({ live: live1, applied: other, manager: 'labeller', force: false, gvk: deploymentGVK, now: t1 });

    const withoutLabels = nginx();
    delete withoutLabels.metadata.labels;
    const out = serverSideApply({ live: live2, applied: withoutLabels, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(out.metadata.labels).toEqual({ app: 'nginx' });
    expect(spec(out).template.spec.containers.map((c) => c.name)).toEqual(['nginx', 'istio-proxy']);
  });

  it('an item kept for another owner loses only the applier\'s fields, never its key', () => {
    const withSidecar = nginx();
    spec(withSidecar).template.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    const live0 = stored(serverSideApply({ live: undefined, applied: withSidecar, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const tuned = structuredClone(live0);
    (spec(tuned).template.spec.containers[1] as { env?: unknown[] }).env = [{ name: 'DEBUG', value: '1' }];
    const live1 = recordUpdate({ live: live0, updated: tuned, manager: 'tuner', gvk: deploymentGVK, now: t1 });
    const out = serverSideApply({ live: live1, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(spec(out).template.spec.containers).toEqual([
      { name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] },
      { name: 'sidecar', env: [{ name: 'DEBUG', value: '1' }] },
    ]);
  });

  it('keeps live-only list items in place and applied items in applied order', () => {
    const live0 = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const applied = nginx();
    spec(applied).template.spec.containers.unshift({ name: 'init-like', image: 'alpine' });
    const out = serverSideApply({ live: live0, applied, manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(spec(out).template.spec.containers.map((c) => c.name)).toEqual(['init-like', 'nginx']);
  });
});

describe('server-side apply after client-side apply (manager "kubectl")', () => {
  const clientSideApplied = (replicas: number) => {
    const manifest = nginx(replicas);
    const withAnnotation: KubeObject = { ...manifest, metadata: { ...manifest.metadata, annotations: { [lastAppliedAnnotation]: JSON.stringify(manifest) } } };
    return stored(recordUpdate({ live: undefined, updated: withAnnotation, manager: 'kubectl-client-side-apply', gvk: deploymentGVK, now: t0 }));
  };

  it('takes over fields still as last applied, without conflicts, and refreshes the annotation', () => {
    const live = clientSideApplied(3);
    const out = serverSideApply({ live, applied: nginx(3, 'nginx:1.27'), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 });
    expect(spec(out).template.spec.containers[0].image).toBe('nginx:1.27');
    expect(JSON.parse(out.metadata.annotations?.[lastAppliedAnnotation] ?? '{}').spec.template.spec.containers[0].image).toBe('nginx:1.27');
  });

  it('another field manager gets the conflict with kubectl-client-side-apply', () => {
    const live = clientSideApplied(3);
    const err = conflict(() => serverSideApply({ live, applied: nginx(3, 'nginx:1.27'), manager: 'my-manager', force: false, gvk: deploymentGVK, now: t1 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.template.spec.containers[name="nginx"].image');
  });

  it('a replica count changed by kubectl scale still conflicts', () => {
    const live = clientSideApplied(3);
    const scaled = recordUpdate({ live, updated: { ...structuredClone(live), spec: { ...(live.spec as object), replicas: 5 } }, manager: 'kubectl', subresource: 'scale', gvk: deploymentGVK, now: t1 });
    expect(entry(scaled, 'kubectl', 'Update')).toMatchObject({ subresource: 'scale', apiVersion: 'apps/v1' });
    const err = conflict(() => serverSideApply({ live: scaled, applied: nginx(3), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t1 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
  });
});

describe('recordUpdate: ownership of non-apply writes', () => {
  it('a create marks new maps and list items with "." but not the structs every object has', () => {
    const out = recordUpdate({ live: undefined, updated: nginx(), manager: 'kubectl-create', gvk: deploymentGVK, now: t0 });
    expect(out.metadata.managedFields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: '2026-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('moves changed fields to the writer, drops emptied managers and lists Apply entries first', () => {
    const applied = stored(serverSideApply({ live: undefined, applied: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, manager: 'applier', force: false, gvk: configMapGVK, now: t0 }));
    const edited = recordUpdate({ live: applied, updated: { ...applied, data: { a: '2', b: '3' } }, manager: 'kubectl-edit', gvk: configMapGVK, now: t1 });
    expect(edited.metadata.managedFields?.map((m) => `${m.operation}:${m.manager}`)).toEqual(['Update:kubectl-edit']);
    expect(entry(edited, 'kubectl-edit')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {} } });

    const removed = recordUpdate({ live: edited, updated: { ...edited, data: { a: '2' } }, manager: 'other', gvk: configMapGVK, now: t1 });
    expect(entry(removed, 'kubectl-edit')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
    expect(entry(removed, 'other')).toBeUndefined();
  });

  it('records status writes only through the status subresource', () => {
    const live = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const withStatus = { ...structuredClone(live), status: { replicas: 3, readyReplicas: 3 } };
    const viaMain = recordUpdate({ live, updated: withStatus, manager: 'someone', gvk: deploymentGVK, now: t1 });
    expect(entry(viaMain, 'someone')).toBeUndefined();
    const viaStatus = recordUpdate({ live, updated: withStatus, manager: 'kube-controller-manager', subresource: 'status', gvk: deploymentGVK, now: t1 });
    expect(entry(viaStatus, 'kube-controller-manager')).toMatchObject({
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } },
    });
  });

  it('managedFields: [{}] clears ownership; an object nobody tracks stays untracked', () => {
    const live = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const reset = recordUpdate({ live, updated: { ...live, metadata: { ...live.metadata, managedFields: [{} as ManagedFieldsEntry] } }, manager: 'kubectl-patch', gvk: deploymentGVK, now: t1 });
    expect(reset.metadata).not.toHaveProperty('managedFields');
    const later = recordUpdate({ live: reset, updated: { ...reset, spec: { ...(reset.spec as object), replicas: 9 } }, manager: 'kubectl-patch', gvk: deploymentGVK, now: t1 });
    expect(later.metadata).not.toHaveProperty('managedFields');
  });

  it('an empty managedFields list in an update keeps the stored ownership', () => {
    const live = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const out = recordUpdate({ live, updated: { ...live, metadata: { ...live.metadata, managedFields: [] } }, manager: 'x', gvk: deploymentGVK, now: t1 });
    expect(entry(out, 'kubectl', 'Apply')).toBeDefined();
  });

  it('owns ownerReferences item by item, each item atomic', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }] } };
    const out = recordUpdate({ live: undefined, updated: cm, manager: 'kube-controller-manager', gvk: configMapGVK, now: t0 });
    expect(entry(out, 'kube-controller-manager')?.fieldsV1).toEqual({ 'f:metadata': { 'f:ownerReferences': { '.': {}, 'k:{"uid":"u1"}': {} } } });
  });

  it('never fails a write over ownership: a stored list item without its key keeps the old managedFields', () => {
    const live = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const broken = structuredClone(live);
    (spec(broken).template.spec.containers as unknown[]).push({ image: 'nameless' });
    const out = recordUpdate({ live, updated: broken, manager: 'x', gvk: deploymentGVK, now: t1 });
    expect(out.metadata.managedFields).toEqual(live.metadata.managedFields);
    expect(spec(out).template.spec.containers).toHaveLength(2);
  });

  it('leaves the objects it is given untouched', () => {
    const live = stored(serverSideApply({ live: undefined, applied: nginx(), manager: 'kubectl', force: false, gvk: deploymentGVK, now: t0 }));
    const updated = { ...structuredClone(live), spec: { ...structuredClone(live.spec as object), replicas: 9 } };
    const applied = nginx(5);
    const snapshot = structuredClone({ live, updated, applied });
    const recorded = recordUpdate({ live, updated, manager: 'x', gvk: deploymentGVK, now: t1 });
    const merged = serverSideApply({ live, applied, manager: 'kubectl', force: true, gvk: deploymentGVK, now: t1 });
    (spec(merged).template.spec.containers[0] as { image: string }).image = 'mutated';
    recorded.metadata.managedFields?.pop();
    expect({ live, updated, applied }).toEqual(snapshot);
  });

  it('tracks set-type lists by value (finalizers)', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers: ['example.com/keep'] } };
    const out = serverSideApply({ live: undefined, applied: cm, manager: 'kubectl', force: false, gvk: configMapGVK, now: t0 });
    expect(entry(out, 'kubectl')?.fieldsV1).toEqual({ 'f:metadata': { 'f:finalizers': { 'v:"example.com/keep"': {} } } });
  });
});

describe('managedFields housekeeping and custom resources', () => {
  it('folds the oldest of more than ten Update managers into "ancient-changes"', () => {
    let obj = stored({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'busy', managedFields: [] }, data: {} } as KubeObject);
    obj = recordUpdate({ live: undefined, updated: obj, manager: 'creator', gvk: configMapGVK, now: t0 });
    for (let i = 0; i < 12; i++) {
      const at = new Date(t0.getTime() + (i + 1) * 60_000);
      obj = recordUpdate({ live: obj, updated: { ...obj, data: { ...(obj.data as object), [`k${i}`]: 'v' } }, manager: `writer-${i}`, gvk: configMapGVK, now: at });
    }
    const managers = obj.metadata.managedFields?.map((m) => m.manager) ?? [];
    expect(managers).toHaveLength(10);
    expect(managers).toContain('ancient-changes');
    expect(managers).toContain('writer-11');
    expect(managers).not.toContain('writer-0');
    const ancient = entry(obj, 'ancient-changes');
    expect(Object.keys((ancient?.fieldsV1 as { 'f:data': object })['f:data'])).toEqual(expect.arrayContaining(['f:k0', 'f:k1']));
  });

  const vsGVK: GroupVersionKind = { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' };
  const vs = (routes: { name: string; weight: number }[]): KubeObject => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews' },
    spec: { hosts: ['reviews'], http: routes.map((r) => ({ name: r.name, route: [{ destination: { host: 'reviews', subset: r.name }, weight: r.weight }] })) },
  });

  it('treats lists of a custom resource without markers as atomic', () => {
    const live = stored(serverSideApply({ live: undefined, applied: vs([{ name: 'v1', weight: 100 }]), manager: 'alice', force: false, gvk: vsGVK, now: t0 }));
    expect(entry(live, 'alice')?.fieldsV1).toEqual({ 'f:spec': { 'f:hosts': {}, 'f:http': {} } });
    const err = conflict(() => serverSideApply({ live, applied: vs([{ name: 'v3', weight: 100 }]), manager: 'bob', force: false, gvk: vsGVK, now: t1 }));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "alice": .spec.http');
  });

  it('honours x-kubernetes-list-type: map from a CRD schema', () => {
    const schema = schemaFromOpenAPI({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            hosts: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
            http: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: { type: 'object', properties: { name: { type: 'string' }, route: { type: 'array', items: { type: 'object' } } } },
            },
          },
        },
      },
    });
    const live = stored(serverSideApply({ live: undefined, applied: vs([{ name: 'v1', weight: 100 }]), manager: 'alice', force: false, gvk: vsGVK, now: t0, schema }));
    expect(entry(live, 'alice')?.fieldsV1).toEqual({
      'f:spec': { 'f:hosts': { 'v:"reviews"': {} }, 'f:http': { 'k:{"name":"v1"}': { '.': {}, 'f:name': {}, 'f:route': {} } } },
    });
    const out = serverSideApply({ live, applied: vs([{ name: 'v3', weight: 100 }]), manager: 'bob', force: false, gvk: vsGVK, now: t1, schema });
    expect((out.spec as { http: { name: string }[] }).http.map((h) => h.name)).toEqual(['v1', 'v3']);
  });
});
