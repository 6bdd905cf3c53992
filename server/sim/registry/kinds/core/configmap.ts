/** core/v1 ConfigMap. */
import type { KindDefinition } from '../../kind.js';
import { stringMap, struct } from '../../patch/merge-schema.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { immutableData, keyErrors } from '../../strategies/data-keys.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, len, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

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

export const configMapPrinter: KindPrinter = {
  columns: [nameCol(), col('Data', 'string', 'Data contains the configuration data.'), ageCol()],
  cells: (o: Any, now) => [name(o), len(o.data) + len(o.binaryData), age(o, now)],
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
