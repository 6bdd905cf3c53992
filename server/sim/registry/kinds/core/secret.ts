/** core/v1 Secret. */
import type { KindDefinition } from '../../kind.js';
import { stringMap, struct } from '../../patch/merge-schema.js';
import { validateImmutable, validateObjectMeta } from '../../strategies/meta.js';
import { immutableData, keyErrors } from '../../strategies/data-keys.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, len, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

type Obj = Record<string, any>;

export const secretStrategy: Strategy = {
  defaults(obj) {
    const o = obj as Obj;
    o.type ??= 'Opaque';
    // stringData is write-only convenience: it lands in data, base64-encoded, as the real conversion does.
    if (o.stringData && typeof o.stringData === 'object') {
      o.data = { ...(o.data ?? {}) };
      for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v)).toString('base64');
      delete o.stringData;
    }
  },
  validate(obj) {
    const o = obj as Obj;
    const errs = [...validateObjectMeta(obj, 'subdomain', true), ...keyErrors(o.data, 'data')];
    for (const [k, v] of Object.entries(o.data ?? {})) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
        errs.push({ type: 'FieldValueInvalid', field: `data[${k}]`, value: v, detail: 'illegal base64 data' });
      }
    }
    if (o.type === 'kubernetes.io/tls') {
      for (const k of ['tls.crt', 'tls.key']) if (!o.data?.[k]) errs.push({ type: 'FieldValueRequired', field: `data[${k}]` });
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = validateImmutable(obj, old, [{ path: ['type'], field: 'type' }]);
    return (old as Obj).immutable ? [...errs, ...immutableData(obj as Obj, old as Obj)] : errs;
  },
  fieldLabels(obj) {
    return { type: (obj as Obj).type ?? '' };
  },
};

export const secretPrinter: KindPrinter = {
  columns: [nameCol(), col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), col('Data', 'string', 'Data contains the secret data.'), ageCol()],
  cells: (o: Any, now) => [name(o), o.type ?? '', len(o.data), age(o, now)],
};

export const secretKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  names: { plural: 'secrets' },
  scope: 'Namespaced',
  strategy: secretStrategy,
  mergeSchema: struct({ metadata: 'ObjectMeta', data: stringMap(), stringData: stringMap() }),
  printer: secretPrinter,
};
