/** policy/v1 PodDisruptionBudget (stored and printed; no disruption controller runs). */
import type { KindDefinition } from '../../kind.js';
import { conditions, stringMap, struct } from '../../patch/merge-schema.js';
import { specKind } from '../../strategies/generic.js';
import { age, ageCol, col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

/** An IntOrString as intstr.String() prints it. */
const intOrString = (v: unknown) => (typeof v === 'number' ? String(Math.trunc(v)) : String(v));

export const podDisruptionBudgetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageCol(),
  ],
  cells: (o: Any, now) => [name(o), o.spec?.minAvailable != null ? intOrString(o.spec.minAvailable) : 'N/A', o.spec?.maxUnavailable != null ? intOrString(o.spec.maxUnavailable) : 'N/A', int(o.status?.disruptionsAllowed), age(o, now)],
};

export const podDisruptionBudgetKind: KindDefinition = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  names: { plural: 'poddisruptionbudgets', shortNames: ['pdb'] },
  scope: 'Namespaced',
  strategy: specKind('subdomain', true),
  subresources: { status: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ selector: { kind: 'struct', fields: {}, atomic: true, replace: true } }),
    status: struct({ conditions: conditions(), disruptedPods: stringMap() }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: podDisruptionBudgetPrinter,
};
