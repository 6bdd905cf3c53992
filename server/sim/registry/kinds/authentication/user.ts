/**
 * Who a request is (k8s.io/apiserver/pkg/authentication/user.Info) and the fixed names kube
 * gives to groups and ServiceAccount users.
 */

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';
/** The group kube-apiserver's loopback client and break-glass certificates carry: never denied. */
export const PRIVILEGED_GROUP = 'system:masters';

/** The learner: kubeadm's admin.conf user since 1.29 (cluster-admin through a binding, not system:masters). */
export const KUBEADM_ADMIN: UserInfo = { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', ALL_AUTHENTICATED] };

export const ANONYMOUS_USER: UserInfo = { username: ANONYMOUS, groups: [ALL_UNAUTHENTICATED] };

const SA_PREFIX = 'system:serviceaccount:';

export const serviceAccountUsername = (namespace: string, name: string) => `${SA_PREFIX}${namespace}:${name}`;

/** The groups every ServiceAccount's user has (serviceaccount.MakeGroupNames). */
export const serviceAccountGroups = (namespace: string) => ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];

/** `system:serviceaccount:NS:NAME` split, or undefined for any other user name (serviceaccount.SplitUsername). */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}
