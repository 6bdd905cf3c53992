/**
 * RBAC's privilege-escalation prevention (pkg/registry/rbac/{role,clusterrole,rolebinding,
 * clusterrolebinding}/policybased): a user may only write a Role or ClusterRole whose rules they
 * already hold (unless they may `escalate` it), and only bind a role whose rules they hold
 * (unless they may `bind` it). system:masters and in-process callers are exempt.
 */
import { ApiError } from '../../../errors.js';
import type { AdmissionPlugin } from '../../admission.js';
import type { ClusterAuth } from '../authentication/cluster-auth.js';
import { PRIVILEGED_GROUP, type UserInfo } from '../authentication/user.js';
import { aggregate, describeMissing, quoteList, uncovered, type PolicyRule } from './evaluator.js';

type Obj = Record<string, any>;
const RBAC = 'rbac.authorization.k8s.io';
const ROLE_KINDS = new Set(['roles', 'clusterroles']);
const BINDING_KINDS = new Set(['rolebindings', 'clusterrolebindings']);

function confirmNoEscalation(auth: ClusterAuth, user: UserInfo, namespace: string, rules: PolicyRule[]): string | undefined {
  const owner = auth.rulesFor(user, namespace);
  const missing = uncovered(owner.rules, rules);
  if (!missing.length) return undefined;
  let msg = `user ${JSON.stringify(user.username)} (groups=${quoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${describeMissing(missing).join('\n')}`;
  if (owner.errors.length) msg += `; resolution errors: [${aggregate(owner.errors)}]`;
  return msg;
}

export function rbacEscalationCheck(auth: ClusterAuth): AdmissionPlugin {
  return {
    name: 'RBACEscalation',
    mutate(req) {
      const u = req.userInfo;
      // Only an HTTP request's user is checked: in-process controllers act as the loopback client.
      if (!('groups' in u) || !u.groups || req.resource.group !== RBAC || req.operation === 'DELETE' || req.reinvocation?.isReinvoke) return;
      const user: UserInfo = { username: u.username, groups: u.groups, ...(u.uid ? { uid: u.uid } : {}), ...(u.extra ? { extra: u.extra } : {}) };
      if (user.groups.includes(PRIVILEGED_GROUP)) return;
      const resource = req.resource.resource;
      const obj = req.object as Obj | undefined;
      if (!obj) return;
      const ns = req.namespace ?? '';
      const gr = { group: RBAC, resource };
      if (ROLE_KINDS.has(resource)) {
        const old = req.oldObject as Obj | undefined;
        if (old && JSON.stringify(old.rules ?? []) === JSON.stringify(obj.rules ?? [])) return;
        if (auth.authorize({ user, verb: 'escalate', resourceRequest: true, apiGroup: RBAC, resource, namespace: ns, name: req.name }).allowed) return;
        const why = confirmNoEscalation(auth, user, ns, obj.rules ?? []);
        if (why) throw ApiError.forbidden(gr, req.name, why);
        return;
      }
      if (BINDING_KINDS.has(resource)) {
        const ref = obj.roleRef ?? {};
        const old = req.oldObject as Obj | undefined;
        if (old && JSON.stringify(old.roleRef) === JSON.stringify(ref)) return;
        const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
        if (auth.authorize({ user, verb: 'bind', resourceRequest: true, apiGroup: RBAC, resource: roleResource, namespace: ns, name: ref.name ?? '' }).allowed) return;
        const r = auth.rbac.roleRefRules(ref, ns);
        if (r.error) {
          const m = /^(clusterrole|role)\.rbac\.authorization\.k8s\.io "(.*)" not found$/.exec(r.error);
          // The storage's own getters answer here, so the resource is named as the registry names it.
          if (m) throw ApiError.notFound({ group: RBAC, resource: `${m[1]}s` }, m[2]);
          throw ApiError.badRequest(r.error);
        }
        const why = confirmNoEscalation(auth, user, ns, r.rules!);
        if (why) throw ApiError.forbidden(gr, req.name, why);
      }
    },
  };
}
