/** core/v1 ConfigMap. */
import type { KindDefinition } from '../../kind.js';
import { stringMap, struct } from '../../patch/merge-schema.js';
import { configMapPrinter } from '../../printers/builtin.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { immutableData, keyErrors } from '../../strategies/data-keys.js';
import type { Strategy } from '../../resource.js';

type Obj = Record<string, any>;

export const configMapStrategy: Strategy = {
  validate(obj) {
    const o = obj as Obj;
    const errs = [...validateObjectMeta(obj, 'subdomain', true), ...keyErrors(o.data, 'data'), ...keyErrors(o.binaryData, 'binaryData')];
    for (const k of Object.keys(o.data ?? {})) if (o.binaryData && k in o.binaryData) errs.push({ type: 'FieldValueInvalid', field: 'data', value: k, detail: 'duplicate of key present in binaryData' });
    return errs;
  },
  validateUpdate(obj, old) {
    return (old as Obj).immutable ? immutableData(obj as Obj, old as Obj) : [];
  },
};

export const configMapKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  names: { plural: 'configmaps', shortNames: ['cm'] },
  scope: 'Namespaced',
  strategy: configMapStrategy,
  mergeSchema: struct({ metadata: 'ObjectMeta', data: stringMap(), binaryData: stringMap() }),
  printer: configMapPrinter,
};
