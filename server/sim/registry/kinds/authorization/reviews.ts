/**
 * authorization.k8s.io/v1 self reviews (`kubectl auth can-i`): answered, never stored. The
 * playground's single user is cluster-admin (system:masters), as a kubeadm admin.conf is.
 */
import type { KindDefinition } from '../../kind.js';

export const selfSubjectAccessReviewKind: KindDefinition = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectAccessReview',
  names: { plural: 'selfsubjectaccessreviews' },
  scope: 'Cluster',
  verbs: ['create'],
  strategy: {},
  review: (o) => ({ ...o, status: { allowed: true, reason: 'the embedded cluster has a single cluster-admin user' } }),
};

export const selfSubjectRulesReviewKind: KindDefinition = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectRulesReview',
  names: { plural: 'selfsubjectrulesreviews' },
  scope: 'Cluster',
  verbs: ['create'],
  strategy: {},
  review: (o) => ({ ...o, status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false } }),
};
