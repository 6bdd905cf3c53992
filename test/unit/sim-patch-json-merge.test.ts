import { describe, expect, it } from 'vitest';
import { ApiError } from '../../server/sim/errors.js';
import { applyJsonPatch, applyMergePatch, applyPatch, isPatchType } from '../../server/sim/registry/patch/index.js';
import type { KubeObject } from '../../server/sim/types.js';

const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'patch-demo', namespace: 'default', labels: { app: 'nginx' } },
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

const spec = (o: KubeObject) => o.spec as { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('JSON patch (RFC 6902, as kube-apiserver applies it)', () => {
  it('applies replace, add, remove, move, copy and test in order', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/labels/tier', value: 'web' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'sidecar', image: 'busybox' } },
      { op: 'copy', from: '/metadata/labels/tier', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/copied', path: '/metadata/labels/moved' },
      { op: 'remove', path: '/spec/template/spec/tolerations' },
    ]);
    expect(spec(out).replicas).toBe(3);
    expect(out.metadata.labels).toEqual({ app: 'nginx', tier: 'web', moved: 'web' });
    expect(spec(out).template.spec.containers.map((c) => c.name)).toEqual(['patch-demo-ctr', 'sidecar']);
    expect(spec(out).template.spec).not.toHaveProperty('tolerations');
  });

  it('escapes ~1 and ~0 in pointers (annotation keys with slashes)', () => {
    const out = applyJsonPatch(deployment(), [{ op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'x' }]);
    expect(out.metadata.labels?.['app.kubernetes.io/name']).toBe('x');
  });

  it('inserts at an index and accepts negative indices like evanphx/json-patch v4', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'add', path: '/spec/template/spec/containers/0', value: { name: 'first', image: 'a' } },
      { op: 'replace', path: '/spec/template/spec/containers/-1/image', value: 'nginx:1.27' },
    ]);
    expect(spec(out).template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['first=a', 'patch-demo-ctr=nginx:1.27']);
  });

  it('does not modify the object it was given', () => {
    const before = deployment();
    applyJsonPatch(before, [{ op: 'replace', path: '/spec/replicas', value: 9 }]);
    expect(spec(before).replicas).toBe(2);
  });

  it.each([
    ['a failed test', [{ op: 'test', path: '/spec/replicas', value: 5 }]],
    ['removing a missing key', [{ op: 'remove', path: '/metadata/annotations' }]],
    ['replacing under a missing parent', [{ op: 'replace', path: '/metadata/annotations/a', value: 'b' }]],
    ['adding at the document root', [{ op: 'add', path: '', value: {} }]],
    ['adding under a missing parent', [{ op: 'add', path: '/metadata/annotations/a', value: 'b' }]],
    ['an out-of-range index', [{ op: 'replace', path: '/spec/template/spec/containers/4/image', value: 'x' }]],
    ['an unknown op', [{ op: 'frobnicate', path: '/spec' }]],
    ['a path without a leading slash', [{ op: 'add', path: 'spec/paused', value: true }]],
  ])('answers %s with the 422 kubectl prints as "The request is invalid: ..."', (_name, ops) => {
    const err = thrown(() => applyJsonPatch(deployment(), ops));
    expect(err.code).toBe(422);
    expect(err.reason).toBe('Invalid');
    expect(err.message).toBe('the server rejected our request due to an error in our request');
    // An empty details object is what makes kubectl print the message after "The request is invalid".
    expect(err.toStatus().details).toEqual({});
  });

  it('a failed test leaves nothing half-applied', () => {
    const before = deployment();
    thrown(() =>
      applyJsonPatch(before, [
        { op: 'replace', path: '/spec/replicas', value: 7 },
        { op: 'test', path: '/spec/replicas', value: 2 },
      ]),
    );
    expect(spec(before).replicas).toBe(2);
  });

  it('replace of a missing member adds it and a missing value is null, as evanphx/json-patch v4 does', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'replace', path: '/spec/paused', value: true },
      { op: 'add', path: '/metadata/labels/empty' },
    ]);
    expect((out.spec as { paused: boolean }).paused).toBe(true);
    expect(out.metadata.labels).toEqual({ app: 'nginx', empty: null });
  });

  it('a test of a missing member against null passes (evanphx semantics)', () => {
    expect(() => applyJsonPatch(deployment(), [{ op: 'test', path: '/spec/paused', value: null }])).not.toThrow();
  });

  it('rejects a body that is not a list of operations with 400', () => {
    const err = thrown(() => applyJsonPatch(deployment(), { op: 'replace' }));
    expect(err.code).toBe(400);
    expect(err.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  });

  it('limits the number of operations like kube-apiserver (413)', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }));
    const err = thrown(() => applyJsonPatch(deployment(), ops));
    expect(err.code).toBe(413);
    expect(err.message).toBe('The allowed maximum operations in a JSON patch is 10000, got 10001');
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  it('replaces lists whole: the containers list of the patch is the new list', () => {
    const out = applyMergePatch(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-3', image: 'gcr.io/google-samples/node-hello:1.0' }] } } },
    });
    expect(spec(out).template.spec.containers).toEqual([{ name: 'patch-demo-ctr-3', image: 'gcr.io/google-samples/node-hello:1.0' }]);
    expect(spec(out).replicas).toBe(2);
  });

  it('merges objects and deletes members set to null', () => {
    const out = applyMergePatch(deployment(), { metadata: { labels: { app: null, tier: 'web' } }, spec: { replicas: 4 } });
    expect(out.metadata.labels).toEqual({ tier: 'web' });
    expect(spec(out).replicas).toBe(4);
  });

  it('rejects a null or scalar patch with 400 "Invalid JSON Patch"', () => {
    for (const bad of [null, 3, 'x']) {
      const err = thrown(() => applyMergePatch(deployment(), bad));
      expect(err.code).toBe(400);
      expect(err.message).toBe('Invalid JSON Patch');
    }
  });
});

describe('applyPatch dispatcher', () => {
  const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };

  it('knows the four content types kube-apiserver accepts', () => {
    expect(isPatchType('application/strategic-merge-patch+json')).toBe(true);
    expect(isPatchType('application/apply-patch+yaml')).toBe(true);
    expect(isPatchType('application/json')).toBe(false);
  });

  it('routes each content type to its algorithm', () => {
    const json = applyPatch('application/json-patch+json', deployment(), [{ op: 'replace', path: '/spec/replicas', value: 1 }], gvk);
    expect(spec(json).replicas).toBe(1);
    const merge = applyPatch('application/merge-patch+json', deployment(), { spec: { template: { spec: { containers: [{ name: 'b', image: 'b' }] } } } }, gvk);
    expect(spec(merge).template.spec.containers.map((c) => c.name)).toEqual(['b']);
    const smp = applyPatch('application/strategic-merge-patch+json', deployment(), { spec: { template: { spec: { containers: [{ name: 'b', image: 'b' }] } } } }, gvk);
    expect(spec(smp).template.spec.containers.map((c) => c.name)).toEqual(['b', 'patch-demo-ctr']);
    const applied = applyPatch('application/apply-patch+yaml', undefined, deployment(), gvk, { manager: 'kubectl', force: false, now: new Date() });
    expect(applied.metadata.managedFields?.[0]).toMatchObject({ manager: 'kubectl', operation: 'Apply' });
  });
});
