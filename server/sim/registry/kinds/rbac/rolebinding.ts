/** rbac.authorization.k8s.io/v1 RoleBinding and ClusterRoleBinding. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, atomicStruct, struct } from '../../patch/merge-schema.js';
import { metaOnly, requireFields } from '../../strategies/generic.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

const bindingSchema = struct({ metadata: 'ObjectMeta', subjects: atomicList, roleRef: atomicStruct });
const validate = requireFields([['roleRef', 'name']]);

export const roleBindingPrinter: KindPrinter = bindingPrinter('roleBinding');

export const clusterRoleBindingPrinter: KindPrinter = bindingPrinter('clusterRoleBinding');

function bindingPrinter(what: string): KindPrinter {
  return {
    columns: [
      nameCol(),
      col('Role', 'string', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
      ageCol(),
      col('Users', 'string', `Users in the ${what}`, 1),
      col('Groups', 'string', `Groups in the ${what}`, 1),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
    ],
    cells: (o: Any, now) => {
      const users: string[] = [];
      const groups: string[] = [];
      const sas: string[] = [];
      for (const s of o.subjects ?? []) {
        if (s.kind === 'User') users.push(s.name);
        else if (s.kind === 'Group') groups.push(s.name);
        else if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
      }
      return [name(o), `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o, now), users.join(', '), groups.join(', '), sas.join(', ')];
    },
  };
}

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
