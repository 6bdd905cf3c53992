/**
 * core/v1 Pod. A scheduled pod is deleted gracefully once a simulated kubelet runs (it finishes
 * the deletion); a delete answers with the pod itself; eviction (kubectl drain) is a delete that
 * honours the Eviction's DeleteOptions. Exec, attach, log, port-forward and proxy are served by
 * handlers the workloads layer registers with the API server.
 */
import { ApiError } from '../../../errors.js';
import type { KubeObject } from '../../../types.js';
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { podPrinter } from '../../printers/builtin.js';
import type { ExtraSubresource, Strategy } from '../../resource.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodSpec, validatePodSpec } from '../../strategies/pod-spec.js';

type Obj = Record<string, any>;

const anyVerb = ['create', 'delete', 'get', 'patch', 'update'];

const eviction: ExtraSubresource = {
  name: 'eviction',
  kind: 'Eviction',
  group: 'policy',
  version: 'v1',
  verbs: ['create'],
  // PodDisruptionBudgets are not consulted: the embedded cluster has no disruption controller.
  async serve(call) {
    if (call.method !== 'POST') throw ApiError.methodNotAllowed();
    const body = await call.body();
    if (body.metadata?.name && body.metadata.name !== call.name) throw ApiError.badRequest(`name in URL does not match name in Eviction object`);
    await call.object.delete(body.deleteOptions ?? {});
    return { code: 201, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  },
};

const randomSuffix = () => Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[Math.floor(Math.random() * 27)]).join('');

function qosClass(spec: Obj): string {
  const cs: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let anyReq = false;
  let allGuaranteed = cs.length > 0;
  for (const c of cs) {
    const req = c?.resources?.requests ?? {};
    const lim = c?.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) anyReq = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) allGuaranteed = false;
    }
  }
  if (allGuaranteed) return 'Guaranteed';
  return anyReq ? 'Burstable' : 'BestEffort';
}

/**
 * What the ServiceAccount and DefaultTolerationSeconds admission plugins add to every pod on a
 * kubeadm cluster, so `kubectl get pod -o yaml` looks familiar.
 */
function admitPod(pod: Obj): void {
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return;
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  spec.tolerations ??= [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!spec.tolerations.some((t: Obj) => t?.key === key)) {
      spec.tolerations.push({ effect: 'NoExecute', key, operator: 'Exists', tolerationSeconds: 300 });
    }
  }
  if (spec.automountServiceAccountToken === false) return;
  spec.volumes ??= [];
  if (spec.volumes.some((v: Obj) => typeof v?.name === 'string' && v.name.startsWith('kube-api-access-'))) return;
  const volName = `kube-api-access-${randomSuffix()}`;
  spec.volumes.push({
    name: volName,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
        { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
      ],
    },
  });
  for (const list of ['initContainers', 'containers']) {
    for (const c of spec[list] ?? []) {
      if (!c || typeof c !== 'object') continue;
      c.volumeMounts ??= [];
      if (!c.volumeMounts.some((m: Obj) => m?.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')) {
        c.volumeMounts.push({ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: volName, readOnly: true });
      }
    }
  }
}

export const podStrategy: Strategy = {
  prepareForCreate(obj) {
    const pod = obj as Obj;
    admitPod(pod);
    pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec ?? {}) };
  },
  defaults(obj) {
    defaultPodSpec((obj as Obj).spec);
  },
  validate(obj) {
    return [...validateObjectMeta(obj, 'subdomain', true), ...validatePodSpec((obj as Obj).spec, 'spec')];
  },
  validateUpdate(obj: KubeObject, old: KubeObject) {
    // Pod updates may only change images, activeDeadlineSeconds, tolerations (additions) and
    // terminationGracePeriodSeconds; anything else is refused with kube's long message.
    const strip = (p: Obj) => {
      const s = structuredClone(p.spec ?? {});
      for (const list of ['containers', 'initContainers']) for (const c of s[list] ?? []) if (c) delete c.image;
      delete s.activeDeadlineSeconds;
      delete s.tolerations;
      delete s.terminationGracePeriodSeconds;
      return JSON.stringify(s);
    };
    if (strip(obj as Obj) !== strip(old as Obj)) {
      return [
        {
          type: 'FieldValueForbidden',
          field: 'spec',
          detail:
            'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        },
      ];
    }
    return [];
  },
  fieldLabels(obj) {
    const o = obj as Obj;
    return {
      'spec.nodeName': o.spec?.nodeName ?? '',
      'spec.restartPolicy': o.spec?.restartPolicy ?? '',
      'spec.schedulerName': o.spec?.schedulerName ?? '',
      'spec.serviceAccountName': o.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(o.spec?.hostNetwork ?? false),
      'status.phase': o.status?.phase ?? '',
      'status.podIP': o.status?.podIP ?? '',
      'status.nominatedNodeName': o.status?.nominatedNodeName ?? '',
    };
  },
  gracePeriod(obj, options, kubeletRunning) {
    const pod = obj as Obj;
    if (!kubeletRunning || !pod.spec?.nodeName) return 0;
    if (['Succeeded', 'Failed'].includes(pod.status?.phase)) return 0;
    return Math.max(0, options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
  },
};

export const podKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  names: { plural: 'pods', shortNames: ['po'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: podStrategy,
  subresources: {
    status: true,
    others: [
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      eviction,
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: anyVerb },
    ],
  },
  storage: { returnDeletedObject: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: 'PodSpec',
    status: 'PodStatus',
  }),
  zeroPaths: ['metadata', 'spec', 'spec.containers', 'status'],
  printer: podPrinter,
};
