/**
 * core/v1 Namespace. Deleting one with spec.finalizers marks it Terminating; the namespace
 * controller empties it and then clears spec.finalizers through the finalize subresource, which
 * lets it go (kube's pkg/registry/core/namespace/storage).
 */
import { ApiError } from '../../../errors.js';
import type { KubeObject } from '../../../types.js';
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/merge-schema.js';
import { NO_COLLECTION_VERBS, type Strategy } from '../../resource.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

type Obj = Record<string, any>;

export const namespaceStrategy: Strategy = {
  prepareForCreate(obj) {
    (obj as Obj).status = { phase: 'Active' };
  },
  defaults(obj) {
    const o = obj as Obj;
    o.spec ??= {};
    o.spec.finalizers ??= ['kubernetes'];
    o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
  },
  validate(obj) {
    return validateObjectMeta(obj, 'label', false);
  },
  fieldLabels(obj) {
    return { 'status.phase': (obj as Obj).status?.phase ?? '' };
  },
  finalization: {
    pending: (obj: KubeObject) => ((obj as Obj).spec?.finalizers ?? []).length > 0,
    start(obj: KubeObject) {
      (obj as Obj).status = { ...((obj as Obj).status ?? {}), phase: 'Terminating' };
    },
  },
};

export const namespacePrinter: KindPrinter = {
  columns: [nameCol(), col('Status', 'string', 'The status of the namespace'), ageCol()],
  cells: (o: Any, now) => [name(o), o.status?.phase ?? '', age(o, now)],
};

export const namespaceKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  names: { plural: 'namespaces', shortNames: ['ns'] },
  scope: 'Cluster',
  verbs: NO_COLLECTION_VERBS,
  strategy: namespaceStrategy,
  subresources: {
    status: true,
    others: [
      {
        name: 'finalize',
        kind: 'Namespace',
        verbs: ['update'],
        // PUT replaces spec.finalizers only (FinalizeREST); an emptied list lets a terminating namespace go.
        async serve(call) {
          if (call.method !== 'PUT') throw ApiError.methodNotAllowed();
          const body = await call.body();
          const live = call.object.get() as Obj;
          live.spec = { ...(live.spec ?? {}), finalizers: body.spec?.finalizers ?? [] };
          return { code: 200, object: await call.object.update(live as KubeObject) };
        },
      },
    ],
  },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ finalizers: atomicList }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: namespacePrinter,
};
