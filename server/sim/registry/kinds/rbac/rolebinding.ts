/** rbac.authorization.k8s.io/v1 RoleBinding and ClusterRoleBinding. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, atomicStruct, struct } from '../../patch/merge-schema.js';
import { clusterRoleBindingPrinter, roleBindingPrinter } from '../../printers/builtin.js';
import { metaOnly, requireFields } from '../../strategies/generic.js';

const bindingSchema = struct({ metadata: 'ObjectMeta', subjects: atomicList, roleRef: atomicStruct });
const validate = requireFields([['roleRef', 'name']]);

export const roleBindingKind: KindDefinition = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'RoleBinding',
  names: { plural: 'rolebindings' },
  scope: 'Namespaced',
  strategy: metaOnly('path', true, { validate }),
  storage: { allowCreateOnUpdate: true },
  mergeSchema: bindingSchema,
  zeroPaths: ['metadata', 'roleRef'],
  printer: roleBindingPrinter,
};

export const clusterRoleBindingKind: KindDefinition = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRoleBinding',
  names: { plural: 'clusterrolebindings' },
  scope: 'Cluster',
  strategy: metaOnly('path', false, { validate }),
  storage: { allowCreateOnUpdate: true },
  mergeSchema: bindingSchema,
  zeroPaths: ['metadata', 'roleRef'],
  printer: clusterRoleBindingPrinter,
};
