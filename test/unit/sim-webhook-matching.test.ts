/**
 * Which requests a webhook is called for, as k8s.io/apiserver's rules, namespace and object
 * matchers and matchPolicy decide (server/sim/addons/core/webhooks/config.ts).
 */
import { describe, expect, it } from 'vitest';
import { shouldCall, webhooksOf } from '../../server/sim/addons/core/webhooks/config.js';
import type { ClusterApi } from '../../server/sim/addons/api.js';
import type { AdmissionRequest } from '../../server/sim/registry/admission.js';
import type { KubeObject } from '../../server/sim/types.js';

type Obj = Record<string, any>;

const namespaces: Record<string, Record<string, string>> = { injected: { 'istio-injection': 'enabled' }, plain: {} };
const defs: Record<string, Obj> = {
  '/v1/namespaces': { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', bucket: 'namespaces' },
  'autoscaling/v1/horizontalpodautoscalers': { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', bucket: 'hpa' },
  'autoscaling/v2/horizontalpodautoscalers': { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', bucket: 'hpa' },
  '/v1/pods': { group: '', version: 'v1', resource: 'pods', kind: 'Pod', bucket: 'pods' },
};
const api = {
  kinds: {
    lookup: (g: string, v: string, r: string) => defs[`${g}/${v}/${r}`],
    require: (g: string, v: string, r: string) => defs[`${g}/${v}/${r}`]!,
  },
  store: { peek: (_b: string, _ns: string, name: string) => (namespaces[name] ? { metadata: { name, labels: namespaces[name] } } : undefined) },
} as unknown as ClusterApi;

function hook(w: Obj): ReturnType<typeof webhooksOf>[number] {
  const cfg = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'c' }, webhooks: [{ name: 'h.example.com', clientConfig: { service: { namespace: 'x', name: 'y' } }, sideEffects: 'None', admissionReviewVersions: ['v1'], ...w }] };
  return webhooksOf(cfg as KubeObject, false)[0]!;
}

const rule = (resources: string[], more: Obj = {}) => ({ rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources, ...more }] });

function pod(over: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    operation: 'CREATE',
    resource: { group: '', version: 'v1', resource: 'pods' },
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace: 'injected',
    name: 'p',
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web' } } },
    dryRun: false,
    userInfo: { username: 'admin' },
    ...over,
  };
}

describe('webhook rules', () => {
  it('resources: a name, "*" (no subresources), "pods/*" and "*/*"', () => {
    const status = pod({ operation: 'UPDATE', subresource: 'status' });
    expect(shouldCall(api, hook(rule(['pods'])), pod())).not.toBeNull();
    expect(shouldCall(api, hook(rule(['pods'])), status)).toBeNull();
    expect(shouldCall(api, hook(rule(['*'])), status)).toBeNull();
    expect(shouldCall(api, hook(rule(['*'])), pod())).not.toBeNull();
    expect(shouldCall(api, hook(rule(['pods/*'])), status)).not.toBeNull();
    expect(shouldCall(api, hook(rule(['pods/status'])), status)).not.toBeNull();
    expect(shouldCall(api, hook(rule(['*/*'])), status)).not.toBeNull();
    expect(shouldCall(api, hook(rule(['services'])), pod())).toBeNull();
  });

  it('operations and scope', () => {
    expect(shouldCall(api, hook(rule(['pods'])), pod({ operation: 'DELETE', object: undefined, oldObject: pod().object }))).toBeNull();
    expect(shouldCall(api, hook(rule(['*'], { operations: ['*'], scope: 'Cluster' })), pod())).toBeNull();
    expect(shouldCall(api, hook(rule(['*'], { operations: ['*'], scope: 'Namespaced' })), pod())).not.toBeNull();
    const ns = pod({ resource: { group: '', version: 'v1', resource: 'namespaces' }, kind: { group: '', version: 'v1', kind: 'Namespace' }, namespace: undefined, name: 'n', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } } });
    // A Namespace is cluster-scoped, whatever namespace the request names.
    expect(shouldCall(api, hook(rule(['*'], { scope: 'Namespaced' })), ns)).toBeNull();
    expect(shouldCall(api, hook(rule(['*'], { scope: 'Cluster' })), ns)).not.toBeNull();
  });

  it('namespaceSelector reads the namespace labels (the object itself for a Namespace being created)', () => {
    const sel = { namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } } };
    expect(shouldCall(api, hook({ ...rule(['pods']), ...sel }), pod())).not.toBeNull();
    expect(shouldCall(api, hook({ ...rule(['pods']), ...sel }), pod({ namespace: 'plain' }))).toBeNull();
    const ns = pod({ resource: { group: '', version: 'v1', resource: 'namespaces' }, kind: { group: '', version: 'v1', kind: 'Namespace' }, namespace: undefined, name: 'new', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'new', labels: { 'istio-injection': 'enabled' } } } });
    expect(shouldCall(api, hook({ ...rule(['namespaces']), ...sel }), ns)).not.toBeNull();
    // A namespace that does not exist is kube's 404, but only for a webhook whose rules match.
    expect(() => shouldCall(api, hook({ ...rule(['pods']), ...sel }), pod({ namespace: 'gone' }))).toThrow('namespaces "gone" not found');
    expect(shouldCall(api, hook({ ...rule(['services']), ...sel }), pod({ namespace: 'gone' }))).toBeNull();
  });

  it('objectSelector matches the new or the old object', () => {
    const sel = { objectSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } };
    expect(shouldCall(api, hook({ ...rule(['pods']), ...sel }), pod())).not.toBeNull();
    const relabelled = pod({ operation: 'UPDATE', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'db' } } }, oldObject: pod().object });
    expect(shouldCall(api, hook({ ...rule(['pods']), ...sel }), relabelled)).not.toBeNull();
    expect(shouldCall(api, hook({ ...rule(['pods']), ...sel }), pod({ object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } }))).toBeNull();
  });

  it('matchPolicy Equivalent matches another served version of the same resource; Exact does not', () => {
    const hpa = pod({ resource: { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers' }, kind: { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' } });
    const v2 = { rules: [{ operations: ['CREATE'], apiGroups: ['autoscaling'], apiVersions: ['v2'], resources: ['horizontalpodautoscalers'] }] };
    expect(shouldCall(api, hook(v2), hpa)).toMatchObject({ resource: { version: 'v2' }, kind: { version: 'v2', kind: 'HorizontalPodAutoscaler' } });
    expect(shouldCall(api, hook({ ...v2, matchPolicy: 'Exact' }), hpa)).toBeNull();
  });
});
