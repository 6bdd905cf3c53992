/** authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`): answered, never stored. */
import type { KindDefinition } from '../../kind.js';

export const selfSubjectReviewKind: KindDefinition = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  names: { plural: 'selfsubjectreviews' },
  scope: 'Cluster',
  verbs: ['create'],
  strategy: {},
  review: (o, user) => ({ ...o, status: { userInfo: { username: user === 'admin' ? 'kubernetes-admin' : user, groups: ['kubeadm:cluster-admins', 'system:authenticated'] } } }),
};
