/** apps/v1 DaemonSet. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/merge-schema.js';
import { validateImmutable, validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate } from '../../strategies/pod-spec.js';
import { templateErrors, validateSelectorAndTemplate } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, containersCol, imagesCol, int, layoutContainerCells, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { formatLabelSelector, formatLabels } from '../../printers/labels.js';

type Obj = Record<string, any>;

export const daemonSetStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    (obj as Obj).status = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
  },
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      s.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    s.revisionHistoryLimit ??= 10;
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [...validateObjectMeta(obj, 'subdomain', true), ...validateSelectorAndTemplate(o, true), ...templateErrors(o)];
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj, old, [{ path: ['spec', 'selector'], field: 'spec.selector' }]);
  },
};

export const daemonSetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.'),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
    col('Node Selector', 'string', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('A label query over pods that are managed by the daemon set.'),
  ],
  cells: (o: Any, now) => {
    const s = o.status ?? {};
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), int(s.desiredNumberScheduled), int(s.currentNumberScheduled), int(s.numberReady), int(s.updatedNumberScheduled), int(s.numberAvailable), formatLabels(o.spec?.template?.spec?.nodeSelector), age(o, now), names, images, formatLabelSelector(o.spec?.selector)];
  },
};

export const daemonSetKind: KindDefinition = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  names: { plural: 'daemonsets', shortNames: ['ds'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: daemonSetStrategy,
  subresources: { status: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ selector: 'LabelSelector', template: 'PodTemplateSpec', updateStrategy: struct({ rollingUpdate: struct({}) }) }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status', 'spec.updateStrategy'],
  printer: daemonSetPrinter,
};
