/**
 * admissionregistration.k8s.io/v1 webhook configurations as kube-apiserver reads them: each
 * webhook with its v1 defaults, and which requests it is called for (rules, scope, matchPolicy,
 * namespaceSelector, objectSelector), after k8s.io/apiserver's webhook/{rules,namespace,object}
 * matchers and generic.Webhook.ShouldCallHook.
 */
import { ApiError } from '../../../errors.js';
import type { AdmissionRequest } from '../../../registry/admission.js';
import { selectorMatches } from '../../../registry/strategies/workloads.js';
import type { KubeObject } from '../../../types.js';
import type { ClusterApi } from '../../api.js';

type Obj = Record<string, any>;

export interface Rule {
  operations: string[];
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  scope: string;
}

export interface Webhook {
  /** Unique per configuration and position, as kube's webhook accessor UID. */
  uid: string;
  configuration: string;
  name: string;
  mutating: boolean;
  service?: { namespace: string; name: string; path: string; port: number };
  url?: string;
  rules: Rule[];
  failurePolicy: 'Fail' | 'Ignore';
  matchPolicy: 'Exact' | 'Equivalent';
  namespaceSelector: Obj;
  objectSelector: Obj;
  sideEffects: string;
  timeoutSeconds: number;
  reinvocationPolicy: 'Never' | 'IfNeeded';
  hasMatchConditions: boolean;
  admissionReviewVersions: string[];
}

/** The resource a request is matched (and sent) as: its own, or an equivalent one (matchPolicy Equivalent). */
export interface Invocation {
  hook: Webhook;
  resource: { group: string; version: string; resource: string };
  kind: { group: string; version: string; kind: string };
}

const parsed = new WeakMap<object, Webhook[]>();

/** The webhooks of one stored configuration, v1 defaults applied; a stored object never changes, so parse once. */
export function webhooksOf(cfg: KubeObject, mutating: boolean): Webhook[] {
  let hooks = parsed.get(cfg);
  if (!hooks) parsed.set(cfg, (hooks = parse(cfg as Obj, mutating)));
  return hooks;
}

function parse(cfg: Obj, mutating: boolean): Webhook[] {
  const list: Obj[] = Array.isArray(cfg.webhooks) ? cfg.webhooks : [];
  const configuration = String(cfg.metadata?.name ?? '');
  return list.map((w, i) => {
    const svc = w?.clientConfig?.service;
    return {
      uid: `${configuration}/${w?.name}/${i}`,
      configuration,
      name: String(w?.name ?? ''),
      mutating,
      ...(svc ? { service: { namespace: String(svc.namespace ?? ''), name: String(svc.name ?? ''), path: typeof svc.path === 'string' ? svc.path : '', port: Number(svc.port ?? 443) } } : {}),
      ...(typeof w?.clientConfig?.url === 'string' ? { url: w.clientConfig.url } : {}),
      rules: (Array.isArray(w?.rules) ? w.rules : []).map((r: Obj) => ({
        operations: strings(r?.operations),
        apiGroups: strings(r?.apiGroups),
        apiVersions: strings(r?.apiVersions),
        resources: strings(r?.resources),
        scope: typeof r?.scope === 'string' ? r.scope : '*',
      })),
      failurePolicy: w?.failurePolicy === 'Ignore' ? 'Ignore' : 'Fail',
      matchPolicy: w?.matchPolicy === 'Exact' ? 'Exact' : 'Equivalent',
      namespaceSelector: w?.namespaceSelector && typeof w.namespaceSelector === 'object' ? w.namespaceSelector : {},
      objectSelector: w?.objectSelector && typeof w.objectSelector === 'object' ? w.objectSelector : {},
      sideEffects: String(w?.sideEffects ?? ''),
      timeoutSeconds: typeof w?.timeoutSeconds === 'number' ? w.timeoutSeconds : 10,
      reinvocationPolicy: w?.reinvocationPolicy === 'IfNeeded' ? 'IfNeeded' : 'Never',
      hasMatchConditions: Array.isArray(w?.matchConditions) && w.matchConditions.length > 0,
      admissionReviewVersions: strings(w?.admissionReviewVersions),
    };
  });
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Webhook configurations never go through webhooks (rules.IsExemptAdmissionConfigurationResource). */
export function exempt(req: AdmissionRequest): boolean {
  return (
    req.resource.group === 'admissionregistration.k8s.io' &&
    ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations', 'validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'mutatingadmissionpolicies', 'mutatingadmissionpolicybindings'].includes(req.resource.resource)
  );
}

const isNamespaces = (r: { group: string; resource: string }) => r.group === '' && r.resource === 'namespaces';

/** rules.Matcher.Matches for one rule against a request's resource (or an equivalent one). */
function ruleMatches(rule: Rule, req: AdmissionRequest, res: { group: string; version: string; resource: string }): boolean {
  const namespaced = !!req.namespace;
  if (rule.scope === 'Namespaced' && (isNamespaces(req.resource) || !namespaced)) return false;
  if (rule.scope === 'Cluster' && !(isNamespaces(req.resource) || !namespaced)) return false;
  if (!rule.operations.some((o) => o === '*' || o === req.operation)) return false;
  if (!rule.apiGroups.some((g) => g === '*' || g === res.group)) return false;
  if (!rule.apiVersions.some((v) => v === '*' || v === res.version)) return false;
  const sub = req.subresource ?? '';
  return rule.resources.some((r) => {
    const slash = r.indexOf('/');
    const [rr, rs] = slash < 0 ? [r, ''] : [r.slice(0, slash), r.slice(slash + 1)];
    return (rr === '*' || rr === res.resource) && (rs === '*' || rs === sub);
  });
}

/**
 * Whether `hook` is called for `req`, and as which resource, as ShouldCallHook decides it.
 */
export function shouldCall(api: ClusterApi, hook: Webhook, req: AdmissionRequest): Invocation | null {
  // Rules first (the cheap test most requests fail); the outcome is kube's, whose selectors' errors only count for a matching hook.
  let inv: Invocation | null = null;
  if (hook.rules.some((r) => ruleMatches(r, req, req.resource))) inv = { hook, resource: req.resource, kind: req.kind };
  if (!inv && hook.matchPolicy === 'Equivalent') inv = equivalent(api, hook, req);
  if (!inv) return null;
  const ns = namespaceMatch(api, hook, req);
  if (ns === false) return null;
  if (!objectMatch(hook, req)) return null;
  if (ns instanceof ApiError) throw ns;
  return inv;
}

/**
 * matchPolicy Equivalent: the same objects served under another version of the group/resource
 * (the sim serves each kind's versions from one store bucket). Earlier rules win.
 */
function equivalent(api: ClusterApi, hook: Webhook, req: AdmissionRequest): Invocation | null {
  const own = api.kinds.lookup(req.resource.group, req.resource.version, req.resource.resource);
  if (!own) return null;
  for (const rule of hook.rules) {
    for (const v of rule.apiVersions) {
      if (v === '*' || v === req.resource.version) continue;
      const def = api.kinds.lookup(req.resource.group, v, req.resource.resource);
      if (!def || def.bucket !== own.bucket) continue;
      const res = { group: def.group, version: def.version, resource: def.resource };
      if (ruleMatches(rule, req, res)) return { hook, resource: res, kind: { group: def.group, version: def.version, kind: def.kind } };
    }
  }
  return null;
}

/** namespace.Matcher.MatchNamespaceSelector: true/false, or the error to return when the hook otherwise matches. */
function namespaceMatch(api: ClusterApi, hook: Webhook, req: AdmissionRequest): boolean | ApiError {
  const nsRequest = isNamespaces(req.resource);
  if (!req.namespace && !nsRequest) return true; // cluster-scoped objects are never exempted
  const sel = hook.namespaceSelector;
  if (!sel.matchLabels && !(sel.matchExpressions ?? []).length) return true;
  let labels: Record<string, string> | undefined;
  if (nsRequest && !req.subresource && (req.operation === 'CREATE' || req.operation === 'UPDATE')) labels = req.object?.metadata.labels ?? {};
  else {
    const name = nsRequest ? req.name : req.namespace!;
    const nsDef = api.kinds.require('', 'v1', 'namespaces');
    const stored = api.store.peek(nsDef.bucket, '', name);
    if (!stored) return ApiError.notFound({ group: '', resource: 'namespaces' }, name);
    labels = stored.metadata.labels ?? {};
  }
  return selectorMatches(sel, labels);
}

/** object.Matcher.MatchObjectSelector: the new or the old object's labels. */
function objectMatch(hook: Webhook, req: AdmissionRequest): boolean {
  const sel = hook.objectSelector;
  if (!sel.matchLabels && !(sel.matchExpressions ?? []).length) return true;
  return [req.object, req.oldObject].some((o) => !!o && selectorMatches(sel, (o.metadata.labels ?? {}) as Record<string, string>));
}
