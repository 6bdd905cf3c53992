/**
 * apiextensions.k8s.io/v1 CustomResourceDefinition. The resources a CRD defines are served from
 * it directly (registry.ts, crdResources); its cleanup finalizer runs in crd-finalizer.ts.
 */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/merge-schema.js';
import type { FieldError } from '../../../errors.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import type { Strategy } from '../../resource.js';

type Obj = Record<string, any>;

export const crdStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj, ctx) {
    const o = obj as Obj;
    // Custom objects are cleaned up before the CRD goes (see crd-finalizer.ts).
    const fin: string[] = o.metadata.finalizers ?? [];
    if (!fin.includes('customresourcecleanup.apiextensions.k8s.io')) o.metadata.finalizers = [...fin, 'customresourcecleanup.apiextensions.k8s.io'];
    const now = ctx.now.toISOString().replace(/\.\d+Z$/, 'Z');
    const storage = (o.spec?.versions ?? []).find((v: Obj) => v?.storage)?.name;
    o.status = {
      acceptedNames: { ...(o.spec?.names ?? {}) },
      conditions: [
        { lastTransitionTime: now, message: 'no conflicts found', reason: 'NoConflicts', status: 'True', type: 'NamesAccepted' },
        { lastTransitionTime: now, message: 'the initial names have been accepted', reason: 'InitialNamesAccepted', status: 'True', type: 'Established' },
      ],
      storedVersions: storage ? [storage] : [],
    };
  },
  defaults(obj) {
    const o = obj as Obj;
    const s = (o.spec ??= {});
    s.conversion ??= { strategy: 'None' };
    const n = (s.names ??= {});
    if (typeof n.kind === 'string') {
      n.singular ??= n.kind.toLowerCase();
      n.listKind ??= `${n.kind}List`;
    }
    for (const v of s.versions ?? []) {
      if (v?.subresources?.scale === undefined && v?.subresources && Object.keys(v.subresources).length === 0) delete v.subresources;
    }
    if (o.status?.acceptedNames && typeof o.status.acceptedNames === 'object') {
      o.status.acceptedNames = { ...n };
    }
  },
  validate(obj) {
    const o = obj as Obj;
    const s = o.spec ?? {};
    const errs: FieldError[] = validateObjectMeta(obj, 'subdomain', false).filter((e) => e.field !== 'metadata.name' || e.type === 'FieldValueRequired');
    const name = o.metadata.name;
    if (!s.group) errs.push({ type: 'FieldValueRequired', field: 'spec.group' });
    else if (!s.group.includes('.')) errs.push({ type: 'FieldValueInvalid', field: 'spec.group', value: s.group, detail: 'should be a domain with at least one dot' });
    if (!s.names?.plural) errs.push({ type: 'FieldValueRequired', field: 'spec.names.plural' });
    if (!s.names?.kind) errs.push({ type: 'FieldValueRequired', field: 'spec.names.kind' });
    if (!s.names?.listKind) errs.push({ type: 'FieldValueRequired', field: 'spec.names.listKind' });
    if (name && s.group && s.names?.plural && name !== `${s.names.plural}.${s.group}`) {
      errs.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: name, detail: 'must be spec.names.plural+"."+spec.group' });
    }
    if (!['Cluster', 'Namespaced'].includes(s.scope)) {
      errs.push(s.scope ? { type: 'FieldValueNotSupported', field: 'spec.scope', value: s.scope, supported: ['Cluster', 'Namespaced'] } : { type: 'FieldValueRequired', field: 'spec.scope' });
    }
    const versions: Obj[] = Array.isArray(s.versions) ? s.versions : [];
    if (versions.length === 0) errs.push({ type: 'FieldValueRequired', field: 'spec.versions' });
    else {
      const storages = versions.filter((v) => v?.storage).length;
      if (storages !== 1) errs.push({ type: 'FieldValueInvalid', field: 'spec.versions', detail: 'must have exactly one version marked as storage version' });
      if (!versions.some((v) => v?.served)) errs.push({ type: 'FieldValueInvalid', field: 'spec.versions', detail: 'must have at least one version marked as served' });
      versions.forEach((v, i) => {
        if (!v?.name) errs.push({ type: 'FieldValueRequired', field: `spec.versions[${i}].name` });
        if (!v?.schema?.openAPIV3Schema) errs.push({ type: 'FieldValueRequired', field: `spec.versions[${i}].schema.openAPIV3Schema`, detail: 'schemas are required' });
      });
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const a = obj as Obj;
    const b = old as Obj;
    const errs: FieldError[] = [];
    if (a.spec?.scope !== b.spec?.scope) errs.push({ type: 'FieldValueInvalid', field: 'spec.scope', value: a.spec?.scope, detail: 'field is immutable' });
    if (a.spec?.group !== b.spec?.group) errs.push({ type: 'FieldValueInvalid', field: 'spec.group', value: a.spec?.group, detail: 'field is immutable' });
    return errs;
  },
};

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
