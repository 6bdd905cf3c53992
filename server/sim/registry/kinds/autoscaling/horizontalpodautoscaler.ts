/**
 * autoscaling HorizontalPodAutoscaler: stored as v2 (preferred); v1, what `kubectl autoscale`
 * sends, is converted at the store boundary (strategies/hpa.ts).
 */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/schema.js';
import { horizontalPodAutoscalerPrinter } from '../../printers/builtin.js';
import { hpaV1Conversion, hpaV1Strategy, hpaV2Strategy } from '../../strategies/hpa.js';

const common: Omit<KindDefinition, 'version' | 'strategy'> = {
  group: 'autoscaling',
  kind: 'HorizontalPodAutoscaler',
  names: { plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'] },
  scope: 'Namespaced',
  subresources: { status: true },
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: horizontalPodAutoscalerPrinter,
};

export const horizontalPodAutoscalerV2Kind: KindDefinition = {
  ...common,
  version: 'v2',
  strategy: hpaV2Strategy,
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ metrics: atomicList }),
    status: struct({ conditions: conditions(), currentMetrics: atomicList }),
  }),
};

export const horizontalPodAutoscalerV1Kind: KindDefinition = {
  ...common,
  version: 'v1',
  preferred: false,
  strategy: hpaV1Strategy,
  // v1 has no lists (one CPU target instead of metrics, no conditions).
  mergeSchema: struct({ metadata: 'ObjectMeta' }),
  storage: { convert: hpaV1Conversion },
};
