/**
 * The front of kube-apiserver's handler chain: authentication (a bearer token, or anonymous as
 * kubeadm leaves --anonymous-auth on), impersonation (Impersonate-* headers, each checked with
 * the `impersonate` verb) and the authorization check, with kube's Forbidden wording
 * (responsewriters.Forbidden).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../errors.js';
import type { ClusterAuth } from '../registry/kinds/authentication/cluster-auth.js';
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS, ANONYMOUS_USER, serviceAccountGroups, serviceAccountUsername, splitServiceAccountUsername, type UserInfo } from '../registry/kinds/authentication/user.js';
import type { Attributes } from '../registry/kinds/rbac/evaluator.js';

/** The request's user from its Authorization header; 401 for a token that is not valid here. */
export function authenticate(headers: IncomingHttpHeaders, auth: ClusterAuth): UserInfo {
  const h = headers.authorization;
  if (h === undefined) return ANONYMOUS_USER;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  if (!m) throw ApiError.unauthorized();
  const user = auth.authenticateToken(m[1].trim());
  if (!user) throw ApiError.unauthorized();
  return user;
}

/** forbiddenMessage + NewForbidden: what a denied request answers. */
export function forbidden(a: Attributes, reason: string): ApiError {
  const who = `User ${JSON.stringify(a.user.username)}`;
  let msg: string;
  if (!a.resourceRequest) msg = `${who} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}`;
  else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
    const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
    msg = `${who} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup ?? '')} ${scope}`;
  }
  if (reason) msg += `: ${reason}`;
  if (!a.resourceRequest) return new ApiError(403, 'Forbidden', `forbidden: ${msg}`, {});
  return ApiError.forbidden({ group: a.apiGroup ?? '', resource: a.resource ?? '' }, a.name ?? '', msg);
}

export function authorizeOrThrow(auth: ClusterAuth, a: Attributes): void {
  const d = auth.authorize(a);
  if (!d.allowed) throw forbidden(a, d.reason);
}

const header = (headers: IncomingHttpHeaders, name: string): string[] => {
  const v = headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/**
 * The user a request acts as: the authenticated one, or whom its Impersonate-* headers name
 * once each of them is allowed (filters.WithImpersonation).
 */
export function impersonate(headers: IncomingHttpHeaders, requestor: UserInfo, auth: ClusterAuth): UserInfo {
  const requestedUser = header(headers, 'impersonate-user')[0] ?? '';
  const groupsAsked = header(headers, 'impersonate-group');
  const uid = header(headers, 'impersonate-uid')[0] ?? '';
  const extras: [string, string][] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith('impersonate-extra-') || v === undefined) continue;
    const key = decodeExtraKey(k.slice('impersonate-extra-'.length));
    for (const value of Array.isArray(v) ? v : String(v).split(',').map((s) => s.trim())) extras.push([key, value]);
  }
  if (!requestedUser && !groupsAsked.length && !extras.length && !uid) return requestor;
  if (!requestedUser) throw ApiError.internal(`requested impersonation of groups, extras or a uid without impersonating a user`);

  const check = (a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>) => authorizeOrThrow(auth, { user: requestor, verb: 'impersonate', resourceRequest: true, namespace: '', ...a });
  let username: string;
  let groups: string[] = [];
  const sa = splitServiceAccountUsername(requestedUser);
  if (sa) {
    check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name });
    username = serviceAccountUsername(sa.namespace, sa.name);
    if (!groupsAsked.length) groups = serviceAccountGroups(sa.namespace);
  } else {
    check({ apiGroup: '', resource: 'users', name: requestedUser });
    username = requestedUser;
  }
  for (const g of groupsAsked) {
    check({ apiGroup: '', resource: 'groups', name: g });
    groups.push(g);
  }
  const extra: Record<string, string[]> = {};
  for (const [key, value] of extras) {
    check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value });
    (extra[key] ??= []).push(value);
  }
  if (uid) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  if (username !== ANONYMOUS) {
    if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_AUTHENTICATED);
  } else if (!groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_UNAUTHENTICATED);
  return { username, groups, ...(uid ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}

/** Extra keys travel %-escaped in header names (unescapeExtraKey). */
function decodeExtraKey(k: string): string {
  try {
    return decodeURIComponent(k);
  } catch {
    return k;
  }
}
