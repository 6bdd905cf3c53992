/** Pods: the scheme's defaults, the admission plugins every cluster runs, and core validation. */
import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import type { Strategy } from '../resource.js';
import { nameProblems, validateObjectMeta } from './meta.js';

type Obj = Record<string, any>;

function defaultContainer(c: Obj): void {
  if (!c || typeof c !== 'object') return;
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const ref = c.image.split('@')[0];
    const lastSlash = ref.lastIndexOf('/');
    const colon = ref.lastIndexOf(':');
    const tag = colon > lastSlash ? ref.slice(colon + 1) : '';
    c.imagePullPolicy = !c.image.includes('@') && (tag === '' || tag === 'latest') ? 'Always' : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  if (Array.isArray(c.ports)) for (const p of c.ports) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const pr = c[probe];
    if (!pr || typeof pr !== 'object') continue;
    pr.timeoutSeconds ??= 1;
    pr.periodSeconds ??= 10;
    pr.successThreshold ??= 1;
    pr.failureThreshold ??= 3;
    if (pr.httpGet && typeof pr.httpGet === 'object') {
      pr.httpGet.path ??= '/';
      pr.httpGet.scheme ??= 'HTTP';
    }
  }
  if (Array.isArray(c.env)) {
    for (const e of c.env) {
      const f = e?.valueFrom?.fieldRef;
      if (f && typeof f === 'object') f.apiVersion ??= 'v1';
    }
  }
}

/** Defaults a PodSpec (also inside workload templates). */
export function defaultPodSpec(spec: Obj | undefined): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    if (Array.isArray(spec[list])) for (const c of spec[list]) defaultContainer(c);
  }
  if (Array.isArray(spec.volumes)) {
    for (const v of spec.volumes) {
      if (v?.configMap && typeof v.configMap === 'object') v.configMap.defaultMode ??= 420;
      if (v?.secret && typeof v.secret === 'object') v.secret.defaultMode ??= 420;
      if (v?.projected && typeof v.projected === 'object') v.projected.defaultMode ??= 420;
    }
  }
}

/** The PodTemplateSpec defaults workloads get. */
export function defaultPodTemplate(tpl: Obj | undefined): void {
  if (!tpl || typeof tpl !== 'object') return;
  tpl.metadata ??= {};
  if (tpl.metadata.creationTimestamp === undefined) tpl.metadata.creationTimestamp = null;
  tpl.spec ??= {};
  defaultPodSpec(tpl.spec);
}

const CONTAINER_NAME_RULE = 'label' as const;

export function validatePodSpec(spec: Obj | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [{ type: 'FieldValueRequired', field: `${field}.containers` }];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errs.push({ type: 'FieldValueRequired', field: `${field}.containers` });
  }
  const seen = new Set<string>();
  for (const list of ['initContainers', 'containers']) {
    if (!Array.isArray(spec[list])) continue;
    spec[list].forEach((c: Obj, i: number) => {
      const f = `${field}.${list}[${i}]`;
      if (!c || typeof c !== 'object') return;
      if (!c.name) errs.push({ type: 'FieldValueRequired', field: `${f}.name` });
      else {
        for (const p of nameProblems(c.name, CONTAINER_NAME_RULE)) errs.push({ type: 'FieldValueInvalid', field: `${f}.name`, value: c.name, detail: p });
        if (seen.has(c.name)) errs.push({ type: 'FieldValueDuplicate', field: `${f}.name`, value: c.name });
        seen.add(c.name);
      }
      if (!c.image || (typeof c.image === 'string' && c.image.trim() === '')) errs.push({ type: 'FieldValueRequired', field: `${f}.image` });
      if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
        errs.push({ type: 'FieldValueNotSupported', field: `${f}.imagePullPolicy`, value: c.imagePullPolicy, supported: ['Always', 'IfNotPresent', 'Never'] });
      }
      if (Array.isArray(c.ports)) {
        c.ports.forEach((p: Obj, j: number) => {
          const port = p?.containerPort;
          if (port === undefined) errs.push({ type: 'FieldValueRequired', field: `${f}.ports[${j}].containerPort` });
          else if (typeof port === 'number' && (port < 1 || port > 65535)) {
            errs.push({ type: 'FieldValueInvalid', field: `${f}.ports[${j}].containerPort`, value: port, detail: 'must be between 1 and 65535, inclusive' });
          }
          if (p?.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) {
            errs.push({ type: 'FieldValueNotSupported', field: `${f}.ports[${j}].protocol`, value: p.protocol, supported: ['SCTP', 'TCP', 'UDP'] });
          }
        });
      }
    });
  }
  if (spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errs.push({ type: 'FieldValueNotSupported', field: `${field}.restartPolicy`, value: spec.restartPolicy, supported: ['Always', 'OnFailure', 'Never'] });
  }
  if (spec.dnsPolicy !== undefined && !['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(spec.dnsPolicy)) {
    errs.push({ type: 'FieldValueNotSupported', field: `${field}.dnsPolicy`, value: spec.dnsPolicy, supported: ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] });
  }
  return errs;
}

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

const randomSuffix = () => Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[Math.floor(Math.random() * 27)]).join('');

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
};
