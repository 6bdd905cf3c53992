/** apps/v1 StatefulSet. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/merge-schema.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate } from '../../strategies/pod-spec.js';
import { nonNegative, templateErrors, validateSelectorAndTemplate } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, containersCol, imagesCol, int, layoutContainerCells, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

type Obj = Record<string, any>;

export const statefulSetStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    (obj as Obj).status = { replicas: 0, availableReplicas: 0 };
  },
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.replicas ??= 1;
    s.podManagementPolicy ??= 'OrderedReady';
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      s.updateStrategy.rollingUpdate.partition ??= 0;
    }
    s.revisionHistoryLimit ??= 10;
    s.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [...validateObjectMeta(obj, 'subdomain', true), ...nonNegative(o, ['spec', 'replicas'], 'spec.replicas'), ...validateSelectorAndTemplate(o, true), ...templateErrors(o)];
  },
  validateUpdate(obj, old) {
    // kube allows only a handful of StatefulSet spec fields to change.
    const strip = (x: Obj) => {
      const s = structuredClone(x.spec ?? {});
      for (const k of ['replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'ordinals', 'revisionHistoryLimit']) delete s[k];
      return JSON.stringify(s);
    };
    if (strip(obj as Obj) !== strip(old as Obj)) {
      return [
        {
          type: 'FieldValueForbidden',
          field: 'spec',
          detail:
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        },
      ];
    }
    return [];
  },
};

export const statefulSetPrinter: KindPrinter = {
  columns: [nameCol(), col('Ready', 'string', 'Number of the pod with ready state'), ageCol(), containersCol(), imagesCol()],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), `${int(o.status?.readyReplicas)}/${int(o.spec?.replicas ?? 1)}`, age(o, now), names, images];
  },
};

export const statefulSetKind: KindDefinition = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  names: { plural: 'statefulsets', shortNames: ['sts'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: statefulSetStrategy,
  subresources: { status: true, scale: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      selector: 'LabelSelector',
      template: 'PodTemplateSpec',
      volumeClaimTemplates: atomicList,
      updateStrategy: struct({ rollingUpdate: struct({}) }),
    }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status', 'spec.updateStrategy'],
  printer: statefulSetPrinter,
};
