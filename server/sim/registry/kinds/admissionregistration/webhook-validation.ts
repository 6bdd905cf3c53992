/**
 * Defaults and validation of admissionregistration.k8s.io/v1 webhook configurations, worded as
 * kube-apiserver's (pkg/apis/admissionregistration/v1 defaults, .../validation/validation.go).
 */
import type { FieldError } from '../../../errors.js';
import type { KubeObject } from '../../../types.js';
import type { StrategyContext } from '../../resource.js';
import { nameProblems } from '../../strategies/meta.js';

type Obj = Record<string, any>;

const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const FAILURE = ['Fail', 'Ignore'];
const MATCH = ['Equivalent', 'Exact'];
const REINVOCATION = ['IfNeeded', 'Never'];
const ALL_SIDE_EFFECTS = ['None', 'NoneOnDryRun', 'Some', 'Unknown'];
const NO_SIDE_EFFECTS = ['None', 'NoneOnDryRun'];
const REVIEW_VERSIONS = ['v1', 'v1beta1'];
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** SetDefaults_{Validating,Mutating}Webhook, SetDefaults_Rule, SetDefaults_ServiceReference. */
export function webhookDefaults(mutating: boolean) {
  return (obj: KubeObject): void => {
    for (const w of ((obj as Obj).webhooks ?? []) as Obj[]) {
      if (!w || typeof w !== 'object') continue;
      w.failurePolicy ??= 'Fail';
      w.matchPolicy ??= 'Equivalent';
      w.namespaceSelector ??= {};
      w.objectSelector ??= {};
      w.timeoutSeconds ??= 10;
      if (mutating) w.reinvocationPolicy ??= 'Never';
      for (const r of (Array.isArray(w.rules) ? w.rules : []) as Obj[]) if (r && typeof r === 'object') r.scope ??= '*';
      const svc = w.clientConfig?.service;
      if (svc && typeof svc === 'object') svc.port ??= 443;
    }
  };
}

/** Go's %#v of a []string, as field.Invalid prints a slice value. */
const goSlice = (type: string, v: unknown[]) => `${type}{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
const invalidSlice = (field: string, type: string, v: unknown[], why: string): FieldError => ({ type: 'FieldValueInvalid', field, detail: `${goSlice(type, v)}: ${why}` });
const required = (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, ...(detail ? { detail } : {}) });
const notSupported = (field: string, value: unknown, supported: string[]): FieldError => ({ type: 'FieldValueNotSupported', field, value, supported });
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

export function validateWebhookConfiguration(mutating: boolean) {
  return (obj: KubeObject, ctx: StrategyContext): FieldError[] => {
    const errs: FieldError[] = [];
    const hooks = ((obj as Obj).webhooks ?? []) as Obj[];
    const oldHooks = ((ctx.old as Obj | undefined)?.webhooks ?? []) as Obj[];
    const names = new Set<string>();
    hooks.forEach((w, i) => {
      const f = `webhooks[${i}]`;
      if (!w || typeof w !== 'object') return;
      // An update keeps what the stored object already had (kube's ignoreSideEffects and review-version leniency).
      const old = oldHooks.find((o) => o?.name === w.name);
      errs.push(...validateWebhook(w, f, mutating, old));
      errs.push(...reviewVersions(w.admissionReviewVersions, `${f}.admissionReviewVersions`, !old));
      if (typeof w.name === 'string' && w.name) {
        if (names.has(w.name)) errs.push({ type: 'FieldValueDuplicate', field: `${f}.name`, value: w.name });
        names.add(w.name);
      }
    });
    return errs;
  };
}

function validateWebhook(w: Obj, f: string, mutating: boolean, old: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof w.name === 'string' ? w.name : '';
  if (!name) errs.push(required(`${f}.name`));
  else {
    const p = nameProblems(name, 'subdomain');
    if (p.length) errs.push({ type: 'FieldValueInvalid', field: `${f}.name`, value: name, detail: p.join(',') });
    else if (name.split('.').length < 3) errs.push({ type: 'FieldValueInvalid', field: `${f}.name`, value: name, detail: 'should be a domain with at least three segments separated by dots' });
  }
  (Array.isArray(w.rules) ? w.rules : []).forEach((r: Obj, i: number) => errs.push(...validateRule(r ?? {}, `${f}.rules[${i}]`)));
  if (w.failurePolicy !== undefined && !FAILURE.includes(w.failurePolicy)) errs.push(notSupported(`${f}.failurePolicy`, w.failurePolicy, FAILURE));
  if (w.matchPolicy !== undefined && !MATCH.includes(w.matchPolicy)) errs.push(notSupported(`${f}.matchPolicy`, w.matchPolicy, MATCH));
  const allowed = old && !NO_SIDE_EFFECTS.includes(old.sideEffects) ? ALL_SIDE_EFFECTS : NO_SIDE_EFFECTS;
  if (w.sideEffects === undefined || w.sideEffects === null) errs.push(required(`${f}.sideEffects`, `must specify one of ${allowed.join(', ')}`));
  else if (!allowed.includes(w.sideEffects)) errs.push(notSupported(`${f}.sideEffects`, w.sideEffects, allowed));
  if (typeof w.timeoutSeconds === 'number' && (w.timeoutSeconds > 30 || w.timeoutSeconds < 1)) {
    errs.push({ type: 'FieldValueInvalid', field: `${f}.timeoutSeconds`, value: w.timeoutSeconds, detail: 'the timeout value must be between 1 and 30 seconds' });
  }
  if (mutating && w.reinvocationPolicy !== undefined && !REINVOCATION.includes(w.reinvocationPolicy)) errs.push(notSupported(`${f}.reinvocationPolicy`, w.reinvocationPolicy, REINVOCATION));
  const cc = (w.clientConfig ?? {}) as Obj;
  if ((cc.url === undefined) === (cc.service === undefined)) errs.push(required(`${f}.clientConfig`, 'exactly one of url or service is required'));
  else if (cc.service) errs.push(...validateService(cc.service, `${f}.clientConfig.service`));
  if (Array.isArray(w.matchConditions) && w.matchConditions.length) {
    // CEL is not evaluated here: refusing beats calling a webhook its conditions would have skipped.
    errs.push({ type: 'FieldValueForbidden', field: `${f}.matchConditions`, detail: 'matchConditions (CEL expressions) are not supported by the embedded cluster' });
  }
  return errs;
}

function validateRule(r: Obj, f: string): FieldError[] {
  const errs: FieldError[] = [];
  const ops = strings(r.operations);
  if (!ops.length) errs.push(required(`${f}.operations`));
  if (ops.length > 1 && ops.includes('*')) errs.push(invalidSlice(`${f}.operations`, '[]admissionregistration.OperationType', ops, "if '*' is present, must not specify other operations"));
  ops.forEach((o, i) => {
    if (!OPERATIONS.includes(o)) errs.push(notSupported(`${f}.operations[${i}]`, o, OPERATIONS));
  });
  const groups = strings(r.apiGroups);
  if (!groups.length) errs.push(required(`${f}.apiGroups`));
  if (groups.length > 1 && groups.includes('*')) errs.push(invalidSlice(`${f}.apiGroups`, '[]string', groups, "if '*' is present, must not specify other API groups"));
  const versions = strings(r.apiVersions);
  if (!versions.length) errs.push(required(`${f}.apiVersions`));
  if (versions.length > 1 && versions.includes('*')) errs.push(invalidSlice(`${f}.apiVersions`, '[]string', versions, "if '*' is present, must not specify other API versions"));
  versions.forEach((v, i) => {
    if (!v) errs.push(required(`${f}.apiVersions[${i}]`));
  });
  errs.push(...validateResources(strings(r.resources), `${f}.resources`));
  if (r.scope !== undefined && !SCOPES.includes(r.scope)) errs.push(notSupported(`${f}.scope`, r.scope, SCOPES));
  return errs;
}

function validateResources(resources: string[], f: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!resources.length) errs.push(required(f));
  const wildSub = new Set<string>();
  const wildRes = new Set<string>();
  let double = false;
  let single = false;
  let plain = false;
  resources.forEach((rs, i) => {
    if (rs === '') return void errs.push(required(`${f}[${i}]`));
    if (rs === '*/*') double = true;
    if (rs === '*') single = true;
    const slash = rs.indexOf('/');
    if (slash < 0) {
      plain = rs !== '*';
      return;
    }
    const [res, sub] = [rs.slice(0, slash), rs.slice(slash + 1)];
    if (wildSub.has(res)) errs.push({ type: 'FieldValueInvalid', field: `${f}[${i}]`, value: rs, detail: `if '${res}/*' is present, must not specify ${rs}` });
    if (wildRes.has(sub)) errs.push({ type: 'FieldValueInvalid', field: `${f}[${i}]`, value: rs, detail: `if '*/${sub}' is present, must not specify ${rs}` });
    if (sub === '*') wildSub.add(res);
    if (res === '*') wildRes.add(sub);
  });
  if (resources.length > 1 && double) errs.push(invalidSlice(f, '[]string', resources, "if '*/*' is present, must not specify other resources"));
  if (single && plain) errs.push(invalidSlice(f, '[]string', resources, "if '*' is present, must not specify other resources without subresources"));
  return errs;
}

function validateService(s: Obj, f: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(required(`${f}.name`, 'service name is required'));
  if (!s.namespace) errs.push(required(`${f}.namespace`, 'service namespace is required'));
  const port = s.port;
  if (typeof port === 'number' && (port < 1 || port > 65535)) errs.push({ type: 'FieldValueInvalid', field: `${f}.port`, value: port, detail: 'port is not valid: must be between 1 and 65535, inclusive' });
  const path = typeof s.path === 'string' ? s.path : undefined;
  if (path === undefined || path === '' || path === '/') return errs;
  const bad = (detail: string) => errs.push({ type: 'FieldValueInvalid', field: `${f}.path`, value: path, detail });
  if (path === '//') return bad('segment[0] may not be empty'), errs;
  if (!path.startsWith('/')) bad("must start with a '/'");
  let check = path.slice(1);
  if (check.endsWith('/')) check = check.slice(0, -1);
  check.split('/').forEach((step, i) => {
    if (!step) return void bad(`segment[${i}] may not be empty`);
    for (const p of nameProblems(step, 'subdomain')) bad(`segment[${i}]: ${p}`);
  });
  return errs;
}

/** validateAdmissionReviewVersions: a create must name one the API server speaks. */
function reviewVersions(v: unknown, f: string, requireRecognized: boolean): FieldError[] {
  const versions = strings(v);
  if (!versions.length) return [required(f, `must specify one of ${REVIEW_VERSIONS.join(', ')}`)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let recognized = false;
  versions.forEach((x, i) => {
    if (seen.has(x)) return void errs.push({ type: 'FieldValueInvalid', field: `${f}[${i}]`, value: x, detail: 'duplicate version' });
    seen.add(x);
    if (!DNS1035.test(x) || x.length > 63) for (const p of nameProblems(x, 'dns1035')) errs.push({ type: 'FieldValueInvalid', field: `${f}[${i}]`, value: x, detail: p });
    if (REVIEW_VERSIONS.includes(x)) recognized = true;
  });
  if (requireRecognized && !recognized) errs.push(invalidSlice(f, '[]string', versions, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
  return errs;
}
