/**
 * apiextensions.k8s.io/v1 CustomResourceDefinition. The resources a CRD defines are served from
 * it directly (registry.ts, crdResources); its cleanup finalizer runs in crd-finalizer.ts.
 */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/schema.js';
import { crdStrategy } from '../../strategies/crd.js';

export const customResourceDefinitionKind: KindDefinition = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  names: { plural: 'customresourcedefinitions', shortNames: ['crd', 'crds'], categories: ['api-extensions'] },
  scope: 'Cluster',
  strategy: crdStrategy,
  subresources: { status: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ versions: atomicList, names: struct({ shortNames: atomicList, categories: atomicList }) }),
    status: struct({ conditions: conditions(), storedVersions: atomicList }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
};
