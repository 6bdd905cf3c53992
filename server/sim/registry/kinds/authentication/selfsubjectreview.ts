/**
 * authentication.k8s.io/v1 reviews, answered and never stored: SelfSubjectReview
 * (`kubectl auth whoami`) and TokenReview (what a token authenticates as).
 */
import type { KubeObject } from '../../../types.js';
import type { KindDefinition } from '../../kind.js';
import { API_AUDIENCES } from './tokens.js';
import type { UserInfo } from './user.js';

type Obj = Record<string, any>;

/** user.Info as authenticationv1.UserInfo serialises it (empty fields omitted). */
export const userInfoJson = (u: UserInfo) => ({
  username: u.username,
  ...(u.uid ? { uid: u.uid } : {}),
  ...(u.groups.length ? { groups: u.groups } : {}),
  ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
});

export const selfSubjectReviewKind: KindDefinition = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  names: { plural: 'selfsubjectreviews' },
  scope: 'Cluster',
  verbs: ['create'],
  strategy: {},
  review: (o, ctx) => ({ ...o, metadata: { ...(o.metadata ?? {}), creationTimestamp: null }, status: { userInfo: userInfoJson(ctx.user) } }) as unknown as KubeObject,
};

export const tokenReviewKind: KindDefinition = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'TokenReview',
  names: { plural: 'tokenreviews' },
  scope: 'Cluster',
  verbs: ['create'],
  strategy: {},
  review: (o, ctx) => {
    const spec = ((o as Obj).spec ?? {}) as Obj;
    const token = String(spec.token ?? '');
    const wanted: string[] = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences : API_AUDIENCES;
    const viaJwt = ctx.auth?.tokens.authenticate(token, wanted);
    const admin = !viaJwt && wanted.some((a) => API_AUDIENCES.includes(a)) ? ctx.auth?.authenticateToken(token) : undefined;
    const user = viaJwt?.user ?? admin;
    const status = user ? { authenticated: true, user: userInfoJson(user), audiences: viaJwt?.audiences ?? wanted.filter((a) => API_AUDIENCES.includes(a)) } : { user: {}, error: '[invalid bearer token, token lookup failed]' };
    return { ...o, metadata: { ...(o.metadata ?? {}), creationTimestamp: null }, status } as unknown as KubeObject;
  },
};
