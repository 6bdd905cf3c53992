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
import type { ExtraSubresource, Strategy } from '../../resource.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodSpec, validateEphemeralContainersUpdate, validatePodSpec } from '../../strategies/pod-spec.js';
import { age, ageCol, col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { humanDuration } from '../../printers/duration.js';

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
  validateUpdate(obj: KubeObject, old: KubeObject, ctx) {
    if (ctx.subresource === 'ephemeralcontainers') return validateEphemeralContainersUpdate((obj as Obj).spec, (old as Obj).spec);
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

function isRestartableInitContainer(c: Any): boolean {
  return c?.restartPolicy === 'Always';
}

function podCells(pod: Any, now: Date): unknown[] {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitContainerRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestartDate = 0;
  let lastRestartableInitContainerRestartDate = 0;

  const podPhase: string = status.phase ?? '';
  let reason = podPhase;
  if (status.reason) reason = status.reason;
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initContainers = new Map<string, Any>();
  for (const c of spec.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }
  const finishedAt = (cs: Any): number => {
    const t = cs?.lastState?.terminated?.finishedAt;
    return typeof t === 'string' ? Date.parse(t) || 0 : 0;
  };

  let initializing = false;
  const initStatuses: Any[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i];
    restarts += int(container.restartCount);
    if (container.lastState?.terminated) lastRestartDate = Math.max(lastRestartDate, finishedAt(container));
    const restartable = isRestartableInitContainer(initContainers.get(container.name));
    if (restartable) {
      restartableInitContainerRestarts += int(container.restartCount);
      if (container.lastState?.terminated) lastRestartableInitContainerRestartDate = Math.max(lastRestartableInitContainerRestartDate, finishedAt(container));
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && int(terminated.exitCode) === 0) continue;
    if (restartable && container.started === true) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${int(terminated.exitCode)}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = (status.conditions ?? []).some((c: Any) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = restartableInitContainerRestarts;
    lastRestartDate = lastRestartableInitContainerRestartDate;
    let hasRunning = false;
    const statuses: Any[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      restarts += int(container.restartCount);
      if (container.lastState?.terminated) lastRestartDate = Math.max(lastRestartDate, finishedAt(container));
      const waiting = container.state?.waiting;
      const terminated = container.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${int(terminated.exitCode)}`;
      } else if (container.ready && container.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }

  const deleting = !!pod.metadata?.deletionTimestamp;
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && podPhase !== 'Succeeded' && podPhase !== 'Failed') reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestartDate !== 0) restartsStr = `${restarts} (${humanDuration(now.getTime() - lastRestartDate)} ago)`;

  // kube-apiserver keeps podIPs in sync with podIP; accept objects that only carry podIP.
  const podIP: string = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const nodeName: string = spec.nodeName || '<none>';
  const nominated: string = status.nominatedNodeName || '<none>';
  let readinessGates = '<none>';
  const gates: Any[] = spec.readinessGates ?? [];
  if (gates.length) {
    let trueConditions = 0;
    for (const g of gates) {
      const c = (status.conditions ?? []).find((x: Any) => x.type === g.conditionType);
      if (c?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  return [name(pod), `${readyContainers}/${totalContainers}`, reason, restartsStr, age(pod, now), podIP, nodeName, nominated, readinessGates];
}

export const podPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageCol(),
    col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  cells: (o, now) => podCells(o, now),
  conditions: (o: Any) => {
    if (o.status?.phase === 'Succeeded') return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    if (o.status?.phase === 'Failed') return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    return undefined;
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
