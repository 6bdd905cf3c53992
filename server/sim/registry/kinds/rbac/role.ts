/** rbac.authorization.k8s.io/v1 Role and ClusterRole (stored; the single user is cluster-admin). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { metaOnly } from '../../strategies/generic.js';

export const roleKind: KindDefinition = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'Role',
  names: { plural: 'roles' },
  scope: 'Namespaced',
  strategy: metaOnly('path', true),
  storage: { allowCreateOnUpdate: true },
  mergeSchema: struct({ metadata: 'ObjectMeta', rules: atomicList }),
};

export const clusterRoleKind: KindDefinition = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  names: { plural: 'clusterroles' },
  scope: 'Cluster',
  strategy: metaOnly('path', false),
  storage: { allowCreateOnUpdate: true },
  mergeSchema: struct({ metadata: 'ObjectMeta', rules: atomicList, aggregationRule: struct({ clusterRoleSelectors: atomicList }) }),
};
