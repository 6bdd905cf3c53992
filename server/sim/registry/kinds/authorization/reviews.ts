/**
 * authorization.k8s.io/v1 reviews, answered by the cluster's authorizer and never stored:
 * SubjectAccessReview and LocalSubjectAccessReview (any user, for those allowed to ask),
 * SelfSubjectAccessReview (`kubectl auth can-i`) and SelfSubjectRulesReview (`can-i --list`).
 */
import { ApiError, type FieldError } from '../../../errors.js';
import type { KubeObject } from '../../../types.js';
import type { KindDefinition } from '../../kind.js';
import type { ReviewContext } from '../../resource.js';
import type { Attributes } from '../rbac/evaluator.js';
import type { UserInfo } from '../authentication/user.js';

type Obj = Record<string, any>;
const GROUP = 'authorization.k8s.io';
const specOf = (o: KubeObject) => ((o as Obj).spec ?? {}) as Obj;

function specErrors(spec: Obj): FieldError[] {
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    return [{ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: spec.nonResourceAttributes, detail: 'cannot be specified in combination with resourceAttributes' }];
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    return [{ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: 'null', detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }];
  }
  return [];
}

function attributes(spec: Obj, user: UserInfo): Attributes {
  const r = spec.resourceAttributes;
  if (r) {
    return { user, verb: r.verb ?? '', resourceRequest: true, namespace: r.namespace ?? '', apiGroup: r.group ?? '', apiVersion: r.version ?? '', resource: r.resource ?? '', subresource: r.subresource ?? '', name: r.name ?? '' };
  }
  return { user, verb: spec.nonResourceAttributes.verb ?? '', resourceRequest: false, path: spec.nonResourceAttributes.path ?? '' };
}

function answer(o: KubeObject, ctx: ReviewContext, kind: string, user: UserInfo): KubeObject {
  const spec = specOf(o);
  const errs = specErrors(spec);
  if (errs.length) throw ApiError.invalid({ group: GROUP, kind }, '', errs);
  if (!ctx.auth) return { ...o, status: { allowed: true } } as unknown as KubeObject;
  const d = ctx.auth.authorize(attributes(spec, user));
  return { ...o, metadata: { ...(o.metadata ?? {}), creationTimestamp: null }, status: { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) } } as unknown as KubeObject;
}

/** The user a SubjectAccessReview's spec names (its groups as given: nothing is added). */
function specUser(spec: Obj): UserInfo {
  return { username: spec.user ?? '', uid: spec.uid, groups: Array.isArray(spec.groups) ? spec.groups : [], extra: spec.extra };
}

/** SubjectAccessReview and LocalSubjectAccessReview ask about someone: a user or a group must be named. */
function subjectErrors(spec: Obj): FieldError[] {
  const errs = specErrors(spec);
  if (!spec.user && !spec.groups?.length) errs.push({ type: 'FieldValueInvalid', field: 'spec.user', value: '', detail: 'at least one of user or group must be specified' });
  return errs;
}

/** A review kind: created only, answered by `review`, never stored. */
function reviewKind(kind: string, plural: string, scope: KindDefinition['scope'], review: KindDefinition['review']): KindDefinition {
  return { group: GROUP, version: 'v1', kind, names: { plural }, scope, verbs: ['create'], strategy: {}, review };
}


export const selfSubjectAccessReviewKind = reviewKind('SelfSubjectAccessReview', 'selfsubjectaccessreviews', 'Cluster', (o, ctx) => answer(o, ctx, 'SelfSubjectAccessReview', ctx.user));

export const subjectAccessReviewKind = reviewKind('SubjectAccessReview', 'subjectaccessreviews', 'Cluster', (o, ctx) => {
  const spec = specOf(o);
  const errs = subjectErrors(spec);
  if (errs.length) throw ApiError.invalid({ group: GROUP, kind: 'SubjectAccessReview' }, '', errs);
  return answer(o, ctx, 'SubjectAccessReview', specUser(spec));
});

export const localSubjectAccessReviewKind = reviewKind('LocalSubjectAccessReview', 'localsubjectaccessreviews', 'Namespaced', (o, ctx) => {
  const spec = specOf(o);
  const errs = subjectErrors(spec);
  if (spec.resourceAttributes && spec.resourceAttributes.namespace !== ctx.namespace) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', value: spec.resourceAttributes.namespace ?? '', detail: 'must match metadata.namespace' });
  }
  if (spec.nonResourceAttributes) errs.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: spec.nonResourceAttributes, detail: 'disallowed on this kind of request' });
  if (errs.length) throw ApiError.invalid({ group: GROUP, kind: 'LocalSubjectAccessReview' }, '', errs);
  return answer(o, ctx, 'LocalSubjectAccessReview', specUser(spec));
});

export const selfSubjectRulesReviewKind = reviewKind('SelfSubjectRulesReview', 'selfsubjectrulesreviews', 'Cluster', (o, ctx) => {
  const ns = String(specOf(o).namespace ?? '');
  if (!ctx.auth) return { ...o, status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false } } as unknown as KubeObject;
  const { rules, errors } = ctx.auth.rulesFor(ctx.user, ns);
  const resourceRules = rules.filter((r) => r.resources?.length).map((r) => ({ verbs: r.verbs, ...(r.apiGroups ? { apiGroups: r.apiGroups } : {}), resources: r.resources, ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
  const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return {
    ...o,
    metadata: { ...(o.metadata ?? {}), creationTimestamp: null },
    status: { resourceRules, nonResourceRules, incomplete: false, ...(errors.length ? { evaluationError: errors.length === 1 ? errors[0] : `[${errors.join(', ')}]` } : {}) },
  } as unknown as KubeObject;
});
