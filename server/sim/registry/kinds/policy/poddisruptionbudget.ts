/** policy/v1 PodDisruptionBudget (stored and printed; no disruption controller runs). */
import type { KindDefinition } from '../../kind.js';
import { conditions, stringMap, struct } from '../../patch/merge-schema.js';
import { podDisruptionBudgetPrinter } from '../../printers/builtin.js';
import { specKind } from '../../strategies/generic.js';

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
