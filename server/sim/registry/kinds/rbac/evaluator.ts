/**
 * kube-apiserver's authorizer chain as a kubeadm cluster runs it: the privileged group
 * (system:masters) first, then RBAC over the stored Roles, ClusterRoles and bindings
 * (plugin/pkg/auth/authorizer/rbac and pkg/registry/rbac/validation). Bindings are indexed by
 * subject and each user's resolved grants are cached until an RBAC object changes, so checking
 * every request costs a map lookup and a short scan of that user's rules.
 */
import { bucketOf, type ObjectStore } from '../../../storage/store.js';
import { PRIVILEGED_GROUP, splitServiceAccountUsername, type UserInfo } from '../authentication/user.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** authorizer.Attributes: one resource request, or a non-resource path. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  path?: string;
}

export interface Decision {
  allowed: boolean;
  /** "RBAC: allowed by …" when allowed; resolution errors ("RBAC: clusterrole… not found") when not. */
  reason: string;
}

interface Grant {
  source: string;
  rules: readonly PolicyRule[];
}

interface Resolved {
  grants: Grant[];
  errors: string[];
}

type Obj = Record<string, any>;

const RBAC = 'rbac.authorization.k8s.io';
export const ROLES = bucketOf(RBAC, 'roles');
export const CLUSTER_ROLES = bucketOf(RBAC, 'clusterroles');
export const ROLE_BINDINGS = bucketOf(RBAC, 'rolebindings');
export const CLUSTER_ROLE_BINDINGS = bucketOf(RBAC, 'clusterrolebindings');
const RBAC_BUCKETS = new Set([ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS]);

const ALL_RULES: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** Go's %q of a []string: `["a" "b"]`. */
export const quoteList = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** utilerrors.NewAggregate(errs).Error(). */
export const aggregate = (errs: readonly string[]) => (errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);

// ---- rule matching (pkg/apis/rbac/v1 helpers) ---------------------------------------------

const has = (xs: readonly string[] | undefined, x: string) => !!xs && xs.includes(x);

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    // "*/scale" grants a subresource of every resource.
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

function urlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(a: Omit<Attributes, 'user'>, rule: PolicyRule): boolean {
  if (!has(rule.verbs, '*') && !has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return urlMatches(rule, a.path ?? '');
  const sub = a.subresource ?? '';
  const combined = sub ? `${a.resource}/${sub}` : (a.resource ?? '');
  if (!has(rule.apiGroups, '*') && !has(rule.apiGroups, a.apiGroup ?? '')) return false;
  if (!resourceMatches(rule, combined, sub)) return false;
  return !rule.resourceNames?.length || rule.resourceNames.includes(a.name ?? '');
}

// ---- escalation (component-helpers/auth/rbac/validation, pkg/registry/rbac/validation) -----

/** One rule per group × resource × verb (or URL × verb), as BreakdownRule splits them. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of rule.apiGroups ?? []) {
    for (const r of rule.resources ?? []) {
      for (const v of rule.verbs ?? []) out.push({ apiGroups: [g], resources: [r], verbs: [v], ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}) });
    }
  }
  for (const u of rule.nonResourceURLs ?? []) for (const v of rule.verbs ?? []) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

const hasAll = (set: readonly string[] | undefined, xs: readonly string[] | undefined) => (xs ?? []).every((x) => has(set, x));

function resourcesCover(owner: readonly string[] | undefined, want: readonly string[] | undefined): boolean {
  if (has(owner, '*') || hasAll(owner, want)) return true;
  return (want ?? []).every((p) => has(owner, p) || (p.includes('/') && has(owner, `*/${p.split('/').slice(1).join('/')}`)));
}

function urlsCover(owner: readonly string[] | undefined, want: readonly string[] | undefined): boolean {
  return (want ?? []).every((w) => (owner ?? []).some((o) => o === '*' || o === w || (o.endsWith('*') && w.startsWith(o.slice(0, -1)))));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const names = !sub.resourceNames?.length ? !owner.resourceNames?.length : !owner.resourceNames?.length || hasAll(owner.resourceNames, sub.resourceNames);
  return (
    (has(owner.verbs, '*') || hasAll(owner.verbs, sub.verbs)) &&
    (has(owner.apiGroups, '*') || hasAll(owner.apiGroups, sub.apiGroups)) &&
    resourcesCover(owner.resources, sub.resources) &&
    urlsCover(owner.nonResourceURLs, sub.nonResourceURLs) &&
    names
  );
}

/** The pieces of `wanted` no owner rule covers (validation.Covers). */
export function uncovered(owner: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const w of wanted) for (const piece of breakdown(w)) if (!owner.some((o) => ruleCovers(o, piece))) missing.push(piece);
  return missing;
}

/** CompactRules then CompactString, sorted as a sets.String lists them. */
export function describeMissing(missing: readonly PolicyRule[]): string[] {
  const simple = new Map<string, PolicyRule>();
  const rest: PolicyRule[] = [];
  for (const r of missing) {
    const isSimple = !r.nonResourceURLs?.length && r.apiGroups?.length === 1 && r.resources?.length === 1 && (r.resourceNames?.length ?? 0) <= 1;
    if (!isSimple) {
      rest.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups, r.resources, r.resourceNames ?? null]);
    const cur = simple.get(key);
    if (cur) cur.verbs = [...cur.verbs, ...r.verbs];
    else simple.set(key, { ...r, verbs: [...r.verbs] });
  }
  const compactString = (r: PolicyRule) => {
    const parts: string[] = [];
    if (r.apiGroups?.length) parts.push(`APIGroups:${quoteList(r.apiGroups)}`);
    if (r.resources?.length) parts.push(`Resources:${quoteList(r.resources)}`);
    if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${quoteList(r.nonResourceURLs)}`);
    if (r.resourceNames?.length) parts.push(`ResourceNames:${quoteList(r.resourceNames)}`);
    if (r.verbs?.length) parts.push(`Verbs:${quoteList(r.verbs)}`);
    return `{${parts.join(', ')}}`;
  };
  return [...new Set([...rest, ...simple.values()].map(compactString))].sort();
}

// ---- the evaluator -------------------------------------------------------------------------

const subjectKey = (kind: string, name: string, namespace = '') => (kind === 'ServiceAccount' ? `SA:${namespace}/${name}` : `${kind}:${name}`);

function userKeys(user: UserInfo): string[] {
  const keys = [`User:${user.username}`, ...user.groups.map((g) => `Group:${g}`)];
  const sa = splitServiceAccountUsername(user.username);
  if (sa) keys.push(`SA:${sa.namespace}/${sa.name}`);
  return keys;
}

function describeSubject(s: Obj, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `ServiceAccount ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** Whether a binding's subject names this user (appliesToUser). */
function subjectApplies(s: Obj, user: UserInfo, bindingNamespace: string): boolean {
  switch (s?.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return !!ns && user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

interface Index {
  cluster: Map<string, Obj[]>;
  /** namespace → subject key → RoleBindings. */
  namespaced: Map<string, Map<string, Obj[]>>;
}

const MAX_CACHED = 2000;

export class RbacEvaluator {
  private index?: Index;
  private readonly cache = new Map<string, Resolved>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.onAnyChange((e) => {
      if (RBAC_BUCKETS.has(e.bucket)) this.invalidate();
    });
  }

  close(): void {
    this.unsubscribe();
  }

  /** Forgets every resolved grant (an RBAC object changed, or the store was restored). */
  invalidate(): void {
    this.index = undefined;
    this.cache.clear();
  }

  private buildIndex(): Index {
    const add = (m: Map<string, Obj[]>, key: string, b: Obj) => {
      const l = m.get(key);
      if (!l) m.set(key, [b]);
      else if (!l.includes(b)) l.push(b);
    };
    const cluster = new Map<string, Obj[]>();
    for (const b of this.store.list(CLUSTER_ROLE_BINDINGS, undefined, true) as Obj[]) {
      for (const s of b.subjects ?? []) add(cluster, subjectKey(s.kind, s.name, s.namespace), b);
    }
    const namespaced = new Map<string, Map<string, Obj[]>>();
    for (const b of this.store.list(ROLE_BINDINGS, undefined, true) as Obj[]) {
      const ns = b.metadata.namespace;
      let m = namespaced.get(ns);
      if (!m) namespaced.set(ns, (m = new Map()));
      for (const s of b.subjects ?? []) add(m, subjectKey(s.kind, s.name, s.namespace || ns), b);
    }
    return { cluster, namespaced };
  }

  /** The rules a binding's roleRef resolves to, or the lister's error (GetRoleReferenceRules). */
  roleRefRules(roleRef: Obj | undefined, namespace: string): { rules?: PolicyRule[]; error?: string } {
    const name = String(roleRef?.name ?? '');
    if (roleRef?.kind === 'ClusterRole') {
      const r = this.store.peek(CLUSTER_ROLES, '', name) as Obj | undefined;
      return r ? { rules: r.rules ?? [] } : { error: `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(name)} not found` };
    }
    if (roleRef?.kind === 'Role') {
      const r = this.store.peek(ROLES, namespace, name) as Obj | undefined;
      return r ? { rules: r.rules ?? [] } : { error: `role.rbac.authorization.k8s.io ${JSON.stringify(name)} not found` };
    }
    return { error: `unsupported role reference kind: ${JSON.stringify(roleRef?.kind ?? '')}` };
  }

  /** What RBAC grants the user in a namespace ('' for cluster scope): VisitRulesFor, cached. */
  private resolve(user: UserInfo, namespace: string): Resolved {
    const key = `${namespace}\0${user.username}\0${user.groups.join('\0')}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const index = (this.index ??= this.buildIndex());
    const out: Resolved = { grants: [], errors: [] };
    const keys = userKeys(user);
    const visit = (m: Map<string, Obj[]> | undefined, ns: string, describe: (b: Obj, s: Obj) => string) => {
      if (!m) return;
      const bindings = new Set<Obj>();
      for (const k of keys) for (const b of m.get(k) ?? []) bindings.add(b);
      for (const b of [...bindings].sort((x, y) => (x.metadata.name < y.metadata.name ? -1 : 1))) {
        const subject = (b.subjects as Obj[]).find((s) => subjectApplies(s, user, ns));
        if (!subject) continue;
        const r = this.roleRefRules(b.roleRef, ns);
        if (r.error) out.errors.push(r.error);
        else out.grants.push({ source: describe(b, subject), rules: r.rules! });
      }
    };
    visit(index.cluster, '', (b, s) => `ClusterRoleBinding ${JSON.stringify(b.metadata.name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(s, '')}`);
    if (namespace) {
      visit(index.namespaced.get(namespace), namespace, (b, s) => `RoleBinding ${JSON.stringify(`${b.metadata.name}/${namespace}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(s, namespace)}`);
    }
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, out);
    return out;
  }

  /** The union authorizer's answer: system:masters, then RBAC. */
  authorize(a: Attributes): Decision {
    if (a.user.groups.includes(PRIVILEGED_GROUP)) return { allowed: true, reason: '' };
    const r = this.resolve(a.user, a.resourceRequest ? (a.namespace ?? '') : '');
    for (const g of r.grants) for (const rule of g.rules) if (ruleAllows(a, rule)) return { allowed: true, reason: `RBAC: allowed by ${g.source}` };
    return { allowed: false, reason: r.errors.length ? `RBAC: ${aggregate(r.errors)}` : '' };
  }

  /** Every rule the user holds in a namespace, and the resolution errors (RulesFor). */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const r = this.resolve(user, namespace);
    const rules = r.grants.flatMap((g) => g.rules);
    return { rules: user.groups.includes(PRIVILEGED_GROUP) ? [...ALL_RULES, ...rules] : rules, errors: r.errors };
  }
}
