/**
 * core/v1 ReplicationController: a ReplicaSet's older sibling whose selector is a plain label map
 * (equality only), defaulted, with the RC's own labels, from the template's labels.
 */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/merge-schema.js';
import type { FieldError } from '../../../errors.js';
import { goStringMap, validateLabels, validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate } from '../../strategies/pod-spec.js';
import { nonNegative, templateErrors } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, containersCol, imagesCol, int, layoutContainerCells, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { formatLabels } from '../../printers/labels.js';

type Obj = Record<string, any>;

const isMap = (v: unknown): v is Record<string, string> => !!v && typeof v === 'object' && !Array.isArray(v);

/** apis/core/validation ValidateReplicationControllerSpec. */
function validateSpec(o: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  const selector = isMap(spec.selector) ? spec.selector : {};
  errs.push(...nonNegative(o, ['spec', 'minReadySeconds'], 'spec.minReadySeconds'));
  if (Object.keys(selector).length === 0) errs.push({ type: 'FieldValueRequired', field: 'spec.selector' });
  else errs.push(...validateLabels(selector, 'spec.selector'));
  errs.push(...nonNegative(o, ['spec', 'replicas'], 'spec.replicas'));
  const tpl = spec.template;
  if (!tpl) return [...errs, { type: 'FieldValueRequired', field: 'spec.template' }];
  const labels: Record<string, string> = isMap(tpl.metadata?.labels) ? tpl.metadata.labels : {};
  errs.push(...validateLabels(labels, 'spec.template.metadata.labels'));
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.template.metadata.labels', detail: `${goStringMap(tpl.metadata?.labels)}: \`selector\` does not match template \`labels\`` });
  }
  errs.push(...templateErrors(o));
  return errs;
}

export const replicationControllerStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    (obj as Obj).status = { replicas: 0 };
  },
  /** SetDefaults_ReplicationController: an empty selector and empty labels come from the template's labels. */
  defaults(obj) {
    const o = obj as Obj;
    const s = (o.spec ??= {});
    const labels = isMap(s.template?.metadata?.labels) ? s.template.metadata.labels : undefined;
    if (labels) {
      if (!isMap(s.selector) || Object.keys(s.selector).length === 0) s.selector = { ...labels };
      if (!isMap(o.metadata.labels) || Object.keys(o.metadata.labels).length === 0) o.metadata.labels = { ...labels };
    }
    s.replicas ??= 1;
    if (s.template) defaultPodTemplate(s.template);
  },
  validate(obj) {
    return [...validateObjectMeta(obj, 'subdomain', true), ...validateSpec(obj as Obj)];
  },
};

export const replicationControllerPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('Selector is a label query over pods that should match the Replicas count.'),
  ],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), int(o.spec?.replicas ?? 1), int(o.status?.replicas), int(o.status?.readyReplicas), age(o, now), names, images, formatLabels(o.spec?.selector)];
  },
};

export const replicationControllerKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  names: { plural: 'replicationcontrollers', shortNames: ['rc'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: replicationControllerStrategy,
  // The Scale's selector is the map as a selector string (labels.SelectorFromSet).
  subresources: { status: true, scale: { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], mapSelector: true } },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ template: 'PodTemplateSpec' }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: replicationControllerPrinter,
};
