import { describe, expect, it } from 'vitest';
import { openapiV2Document, openapiV3Discovery, openapiV3Document } from '../../server/sim/apiserver/openapi/index.js';
import type { KubeObject } from '../../server/sim/types.js';

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };

// A trimmed VirtualService CRD shaped like Istio's (crd-all.gen.yaml): served v1 and v1beta1.
const vsCrd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'virtualservices.networking.istio.io', uid: 'u1', resourceVersion: '7' },
  spec: {
    group: 'networking.istio.io', scope: 'Namespaced',
    names: { kind: 'VirtualService', plural: 'virtualservices', singular: 'virtualservice', shortNames: ['vs'] },
    versions: ['v1', 'v1beta1'].map((name) => ({
      name, served: true, storage: name === 'v1',
      subresources: { status: {} },
      schema: { openAPIV3Schema: { type: 'object', properties: {
        spec: { description: 'Configuration affecting label/content routing, sni routing, etc.', type: 'object', properties: {
          hosts: { description: 'The destination hosts to which traffic is being sent.', type: 'array', items: { type: 'string' } },
          gateways: { description: 'The names of gateways and sidecars that should apply these routes.', type: 'array', items: { type: 'string' } },
        } },
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      } } },
    })),
  },
};

const src = { crds: [vsCrd] };
const gvkOf = (s: any) => s['x-kubernetes-group-version-kind'];

/** What kubectl explain does: find the kind's component by its GVK, follow allOf refs. */
function explainField(doc: Doc, gvk: { group: string; version: string; kind: string }, path: string[]): any {
  let s = Object.values(doc.components.schemas).find((c) => gvkOf(c)?.some((g: any) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind));
  const deref = (x: any) => (x?.allOf?.[0]?.$ref ? doc.components.schemas[x.allOf[0].$ref.split('/').pop()] : x?.$ref ? doc.components.schemas[x.$ref.split('/').pop()] : x);
  for (const p of path) {
    s = deref(s);
    s = s?.properties?.[p] ?? deref(s?.items)?.properties?.[p];
  }
  return s;
}

describe('GET /openapi/v3', () => {
  it('lists every built-in group-version and the CRDs', () => {
    const { paths } = openapiV3Discovery(src) as { paths: Record<string, { serverRelativeURL: string }> };
    for (const p of ['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/apiextensions.k8s.io/v1', 'apis/networking.istio.io/v1', 'apis/networking.istio.io/v1beta1']) {
      expect(paths[p]?.serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/${p.replace(/\./g, '\\.')}\\?hash=[0-9A-F]+$`));
    }
  });

  it('changes a CRD group-version hash when the CRD changes, so clients refetch', () => {
    const before = (openapiV3Discovery(src) as any).paths['apis/networking.istio.io/v1'].serverRelativeURL;
    const after = (openapiV3Discovery({ crds: [{ ...vsCrd, metadata: { ...vsCrd.metadata, resourceVersion: '8' } }] }) as any).paths['apis/networking.istio.io/v1'].serverRelativeURL;
    expect(after).not.toBe(before);
    expect((openapiV3Discovery({ crds: [] }) as any).paths['apis/networking.istio.io/v1']).toBeUndefined();
  });
});

describe('group-version documents', () => {
  it('answers the path forms the router may pass, and nothing for unknown group-versions', () => {
    expect(openapiV3Document('/openapi/v3/apis/apps/v1?hash=ABC', src)).toBe(openapiV3Document('apis/apps/v1', src));
    expect(openapiV3Document('apis/nope/v1', src)).toBeUndefined();
  });

  it('publishes v2 definitions with bare $refs and the GVK extension, including CRD kinds', () => {
    const v2 = JSON.parse(openapiV2Document(src, 'json') as string);
    expect(v2.swagger).toBe('2.0');
    const dep = v2.definitions['io.k8s.api.apps.v1.Deployment'];
    expect(dep['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    expect(dep.properties.spec.$ref).toBe('#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
    expect(v2.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ type: 'string', format: 'int-or-string' });
    expect(v2.definitions['io.istio.networking.v1.VirtualService']['x-kubernetes-group-version-kind']).toEqual([{ group: 'networking.istio.io', kind: 'VirtualService', version: 'v1' }]);
    expect(JSON.stringify(v2)).not.toContain('#/components/');
    expect(Buffer.isBuffer(openapiV2Document(src, 'protobuf'))).toBe(true);
  });

  it('builds v2 from a CRD schema with values of the wrong shape without failing', () => {
    const odd = structuredClone(vsCrd) as any;
    odd.metadata = { ...odd.metadata, name: 'odds.example.com', uid: 'odd', resourceVersion: '1' };
    odd.spec = { group: 'example.com', scope: 'Namespaced', names: { kind: 'Odd', plural: 'odds' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', enum: 'x', required: 'abc', allOf: 3, properties: 5, items: [1, null] } } } } }] };
    const pb = openapiV2Document({ crds: [odd] }, 'protobuf') as Buffer;
    expect(pb.includes(Buffer.from('com.example.v1.Odd'))).toBe(true);
  });

  it('advertises fieldValidation on PATCH with the GVK, which makes kubectl send fieldValidation=Strict', () => {
    const doc = openapiV3Document('apis/apps/v1', src) as Doc;
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(patch.parameters.map((p: any) => p.name)).toContain('fieldValidation');
    const ns = (openapiV3Document('api/v1', src) as Doc).paths['/api/v1/namespaces/{name}']!.patch;
    expect(ns.parameters.map((p: any) => p.name)).toContain('fieldValidation');
  });

  it('carries the real API descriptions for kubectl explain', () => {
    const core = openapiV3Document('api/v1', src) as Doc;
    const pod = explainField(core, { group: '', version: 'v1', kind: 'Pod' }, []);
    expect(pod.description).toBe('Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.');
    expect(pod.properties.apiVersion).toMatchObject({ type: 'string', description: expect.stringContaining('APIVersion defines the versioned schema') });
    expect(pod.required ?? []).not.toContain('apiVersion');
    expect(pod.properties.spec.allOf[0].$ref).toBe('#/components/schemas/io.k8s.api.core.v1.PodSpec');
    const containers = explainField(core, { group: '', version: 'v1', kind: 'Pod' }, ['spec', 'containers']);
    expect(containers.description).toContain('List of containers belonging to the pod.');
    expect(containers.items.$ref ?? containers.items.allOf?.[0]?.$ref).toBe('#/components/schemas/io.k8s.api.core.v1.Container');
    expect(core.components.schemas['io.k8s.api.core.v1.PodSpec'].required).toEqual(['containers']);

    const apps = openapiV3Document('apis/apps/v1', src) as Doc;
    const template = explainField(apps, { group: 'apps', version: 'v1', kind: 'Deployment' }, ['spec', 'template']);
    expect(template.description).toContain('Template describes the pods that will be created.');
    const maxSurge = explainField(apps, { group: 'apps', version: 'v1', kind: 'Deployment' }, ['spec', 'strategy', 'rollingUpdate', 'maxSurge']);
    expect(apps.components.schemas[maxSurge.allOf[0].$ref.split('/').pop()]).toMatchObject({ format: 'int-or-string' });
    const replicas = explainField(apps, { group: 'apps', version: 'v1', kind: 'Deployment' }, ['spec', 'replicas']);
    expect(replicas).toMatchObject({ type: 'integer', format: 'int32' });
  });

  it('builds CRD group-versions from openAPIV3Schema with ObjectMeta and the GVK', () => {
    const doc = openapiV3Document('apis/networking.istio.io/v1', src) as Doc;
    const vs = doc.components.schemas['io.istio.networking.v1.VirtualService'];
    expect(gvkOf(vs)).toEqual([{ group: 'networking.istio.io', kind: 'VirtualService', version: 'v1' }]);
    expect(vs.properties.metadata.allOf[0].$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
    expect(explainField(doc, { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, ['spec', 'hosts']).description).toBe('The destination hosts to which traffic is being sent.');
    const item = doc.paths['/apis/networking.istio.io/v1/namespaces/{namespace}/virtualservices/{name}']!;
    expect(item.get['x-kubernetes-group-version-kind']).toEqual({ group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' });
    expect(doc.paths['/apis/networking.istio.io/v1/namespaces/{namespace}/virtualservices/{name}/status']).toBeDefined();
  });

  it('does not publish a CRD version that is not served', () => {
    const crd = structuredClone(vsCrd);
    (crd.spec as any).versions[1].served = false;
    expect(openapiV3Document('apis/networking.istio.io/v1beta1', { crds: [crd] })).toBeUndefined();
  });

  it('publishes the merge keys kubectl needs to compute strategic merge patches', () => {
    const core = openapiV3Document('api/v1', src) as Doc;
    const container = core.components.schemas['io.k8s.api.core.v1.Container'].properties;
    expect(container.env).toMatchObject({ 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-list-type': 'map' });
    expect(container.ports).toMatchObject({ 'x-kubernetes-patch-merge-key': 'containerPort', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'] });
    expect(core.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.volumes['x-kubernetes-patch-strategy']).toBe('merge,retainKeys');
    const apps = openapiV3Document('apis/apps/v1', src) as Doc;
    expect(apps.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy['x-kubernetes-patch-strategy']).toBe('retainKeys');
    expect(apps.components.schemas['io.k8s.api.core.v1.Container'].properties.env['x-kubernetes-patch-merge-key']).toBe('name');
  });
});
